"""Konečný et al.'s compressed client updates, composable per weight.

Structured updates restrict the delta H of a weight to a form with fewer numbers: `LowRank(k)`
(H = A B with A, d1 x k, drawn per round from a seed shared with the server, so only B is sent)
and `RandomMask(p)` (a seeded sparsity pattern, only its values sent). Sketched updates compress
a full delta: `Subsample(p)` (a seeded random subset, scaled by 1/p so the server's estimate is
unbiased), `Rotate()` (randomised Walsh-Hadamard rotation H D, which spreads the values before
quantisation) and `Quantize(b)` (unbiased probabilistic b-bit quantisation between the vector's
min and max). Stages compose left to right: `Chain(Subsample(0.25), Rotate(), Quantize(1))`.

Structured updates are learned in their restricted form, as in the paper (Section 2): when a
weight's chain starts with `LowRank` or `RandomMask`, local training projects that weight's delta
onto the structure after every optimizer step (`Chain.projector`, applied by
`WeightedFedAvg.client_update`). For the mask this is training only the masked entries. For low
rank, A has orthonormal columns, so the projection A Aᵀ after each step of an optimizer whose step
is linear in the gradients (SGD, momentum, Nesterov) gives exactly the weights of that optimizer
training B in H = A B (tested); for Adam, RMSprop and others it is the step taken on the full
weight, projected onto the span of A (still an update of the form A B, not Adam on B). The
delta then has the structure, and B = Aᵀ H (or the values under the mask) is sent exactly.

Every seeded draw (A, masks, rotation signs) comes from `(process seed, round, client, weight
index, stage index)`, which the server knows, so seeds cost no bits. Bits are counted exactly:
32 per float sent, b per quantised value plus 64 for the min and max.

Reference:
    Konečný et al., "Federated Learning: Strategies for Improving Communication Efficiency",
    2016. https://arxiv.org/abs/1610.05492
"""

import fnmatch
import math

import numpy as np

from garden.utils import check_int, check_number

FLOAT_BITS = 32


def _rng(seed, *tail):
    return np.random.default_rng([*seed, *tail])


def fwht(x):
    """The unnormalised Walsh-Hadamard transform of a vector whose length is a power of 2
    (H x with H's entries ±1; H H = n I)."""
    x = np.array(x, np.float64)
    n, h = len(x), 1
    if n & (n - 1):
        raise ValueError(f"fwht needs a length that is a power of 2, got {n}")
    while h < n:
        blocks = x.reshape(-1, 2, h)
        x = np.stack([blocks[:, 0] + blocks[:, 1], blocks[:, 0] - blocks[:, 1]], 1).reshape(n)
        h *= 2
    return x


class LowRank:
    """Structured low-rank update: the delta reshaped to `(d1, d2)` (d2 the last axis) is
    learned as H = A B with A (d1 x k, orthonormal columns) drawn from the shared seed, and sent
    as B = Aᵀ H, k x d2.

    Args:
        rank: int. k; capped at min(d1, d2).
    """

    first_only = True

    def __init__(self, rank):
        self.rank = check_int("rank", rank, minimum=1)

    def factor(self, shape, seed):
        """A, drawn from `seed`: the same on the client and the server."""
        d1, d2 = math.prod(shape[:-1]), shape[-1]
        q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal(
            (d1, min(self.rank, d1, d2))))
        return q

    def size(self, shape, seed):
        return min(self.rank, math.prod(shape[:-1]), shape[-1]) * shape[-1]

    def forward(self, x, seed):
        return (self.factor(x.shape, seed).T @ x.reshape(-1, x.shape[-1])).ravel()

    def inverse(self, v, shape, seed):
        a = self.factor(shape, seed)
        return (a @ v.reshape(a.shape[1], shape[-1])).reshape(shape)

    def projector(self, shape, seed):
        """The function H -> A Aᵀ H onto updates of this form (A drawn once)."""
        a = self.factor(shape, seed)
        return lambda x: (a @ (a.T @ np.reshape(x, (len(a), -1)))).reshape(shape)

    def __repr__(self):
        return f"LowRank({self.rank})"


class _Mask:
    """Entries kept with probability `fraction` by a pattern drawn from the shared seed; only
    the kept values are sent (scaled by 1/fraction on decoding when `scale`)."""

    first_only = False
    scale = False

    def __init__(self, fraction):
        self.fraction = check_number("fraction", fraction, minimum=0, maximum=1,
                                     inclusive=(False, True))

    def mask(self, size, seed):
        """The kept entries' boolean pattern, drawn from `seed`."""
        return np.random.default_rng(seed).random(size) < self.fraction

    def size(self, shape, seed):
        return int(self.mask(math.prod(shape), seed).sum())

    def forward(self, x, seed):
        return x.ravel()[self.mask(x.size, seed)]

    def inverse(self, v, shape, seed):
        out = np.zeros(math.prod(shape))
        out[self.mask(out.size, seed)] = v / self.fraction if self.scale else v
        return out.reshape(shape)

    def __repr__(self):
        return f"{type(self).__name__}({self.fraction})"


class RandomMask(_Mask):
    """Structured random-mask update: a sparsity pattern drawn from the shared seed before local
    training, only the entries under it trained and sent.

    Args:
        fraction: float in (0, 1]. Expected share of entries kept.
    """

    def projector(self, shape, seed):
        """The function H -> H under the mask (zero elsewhere)."""
        mask = self.mask(math.prod(shape), seed).reshape(shape)
        return lambda x: np.where(mask, x, 0.0)


class Subsample(_Mask):
    """Sketched update by random subsampling: a seeded random subset of the entries, which the
    server scales by 1/fraction, so the decoded delta is unbiased.

    Args:
        fraction: float in (0, 1]. Expected share of entries sent.
    """

    scale = True


class Rotate:
    """Structured random rotation: the vector, zero-padded to n = 2^m, becomes H D x / sqrt(n)
    with D a seeded diagonal of random signs and H the Walsh-Hadamard matrix; orthogonal, so
    the server inverts it exactly with D H / sqrt(n)."""

    first_only = False

    def size(self, shape, seed):
        return 1 << max(math.prod(shape) - 1, 0).bit_length()

    def signs(self, n, seed):
        """The random signs D, drawn from `seed`."""
        return np.random.default_rng(seed).choice([-1.0, 1.0], n)

    def forward(self, x, seed):
        n = self.size(x.shape, seed)
        padded = np.zeros(n)
        padded[:x.size] = x.ravel()
        return fwht(padded * self.signs(n, seed)) / math.sqrt(n)

    def inverse(self, v, shape, seed):
        n = len(v)
        return (fwht(v) / math.sqrt(n) * self.signs(n, seed))[:math.prod(shape)].reshape(shape)

    def __repr__(self):
        return "Rotate()"


class Quantize:
    """Probabilistic b-bit quantisation: [min, max] of the vector split into 2^b - 1 equal
    steps; each value rounds to the step above with probability equal to its distance from the
    step below, so the decoded vector is unbiased. Sends b bits per value plus min and max.

    Args:
        bits: int in [1, 16].
    """

    def __init__(self, bits):
        self.bits = check_int("bits", bits, minimum=1)
        if bits > 16:
            raise ValueError(f"bits={bits}; allowed: 1 to 16")

    def encode(self, v, rng):
        low, high = float(v.min()), float(v.max())
        steps = (1 << self.bits) - 1
        scaled = (v - low) / (high - low) * steps if high > low else np.zeros_like(v)
        floor = np.floor(scaled)
        levels = floor + (rng.random(v.shape) < scaled - floor)
        return {"levels": np.minimum(levels, steps).astype(np.uint16),
                "range": np.array([low, high], np.float32)}

    def decode(self, payload):
        low, high = (float(a) for a in payload["range"])
        return low + payload["levels"].astype(np.float64) * (high - low) / ((1 << self.bits) - 1)

    def payload_bits(self, payload):
        return self.bits * payload["levels"].size + 2 * FLOAT_BITS

    def __repr__(self):
        return f"Quantize({self.bits})"


class Chain:
    """Stages applied left to right to one weight's delta: any of `LowRank` (first only),
    `RandomMask`, `Subsample`, `Rotate`, then optionally `Quantize` last (else float32 values
    are sent)."""

    def __init__(self, *stages):
        if not stages:
            raise ValueError("Chain needs at least one stage")
        for index, stage in enumerate(stages):
            if isinstance(stage, Quantize):
                if index != len(stages) - 1:
                    raise ValueError(f"{stage!r} must be the last stage, got {stages!r}")
            elif not hasattr(stage, "forward"):
                raise ValueError(f"stage {stage!r} is not a compression stage")
            elif stage.first_only and index:
                raise ValueError(f"{stage!r} must be the first stage, got {stages!r}")
        self.transforms = [s for s in stages if not isinstance(s, Quantize)]
        self.quantizer = stages[-1] if isinstance(stages[-1], Quantize) else None

    def projector(self, shape, seed):
        """The projection onto the structure local training keeps a delta of `shape` in, when
        the first stage is structured (`LowRank`, `RandomMask`); None for sketches."""
        first = self.transforms[0] if self.transforms else None
        return first.projector(tuple(shape), [*seed, 0]) if hasattr(first, "projector") else None

    def encode(self, x, seed):
        """`(payload, bits)` of one delta array; `seed` is a list of ints."""
        v = np.asarray(x, np.float64)
        for index, stage in enumerate(self.transforms):
            v = stage.forward(v, [*seed, index])
        if self.quantizer is None:
            values = v.astype(np.float32)
            return {"values": values}, FLOAT_BITS * values.size
        payload = self.quantizer.encode(v, _rng(seed, len(self.transforms), 1))
        return payload, self.quantizer.payload_bits(payload)

    def decode(self, payload, shape, seed):
        """The dense delta of shape `shape` from a payload `encode` made with the same seed."""
        shapes = [tuple(shape)]
        for index, stage in enumerate(self.transforms[:-1]):
            shapes.append((stage.size(shapes[-1], [*seed, index]),))
        v = (np.asarray(payload["values"], np.float64) if self.quantizer is None
             else self.quantizer.decode(payload))
        expected = self.transforms[-1].size(shapes[-1], [*seed, len(shapes) - 1]) \
            if self.transforms else math.prod(shape)
        if v.size != expected:
            raise ValueError(f"payload has {v.size} values, expected {expected}")
        for index in reversed(range(len(self.transforms))):
            v = self.transforms[index].inverse(v, shapes[index], [*seed, index])
        return v.reshape(shape).astype(np.float32)

    def __repr__(self):
        return "Chain(" + ", ".join(map(repr, self.transforms + [self.quantizer] * bool(
            self.quantizer))) + ")"


def _as_chain(compressor):
    return compressor if isinstance(compressor, Chain) else Chain(compressor)


def resolve(compression, paths):
    """One `Chain` or None per trainable weight path, from `compression` (None, one
    compressor for all, or a dict of `fnmatch` patterns to compressors, first match wins)."""
    if compression is None:
        return [None] * len(paths)
    if not isinstance(compression, dict):
        return [_as_chain(compression)] * len(paths)
    chains = {pattern: _as_chain(c) for pattern, c in compression.items()}
    unmatched = [p for p in chains if not any(fnmatch.fnmatchcase(path, p) for path in paths)]
    if unmatched:
        raise ValueError(f"compression patterns {unmatched} match no trainable weight; the "
                         f"weights are {paths}")
    return [next((c for p, c in chains.items() if fnmatch.fnmatchcase(path, p)), None)
            for path in paths]


def projectors(chains, shapes, seed):
    """Per trainable weight, `Chain.projector` with the seed `encode_update` uses, or None."""
    return [None if chain is None else chain.projector(shape, [*seed, index])
            for index, (chain, shape) in enumerate(zip(chains, shapes))]


def encode_update(update, chains, seed):
    """The update with each compressed delta replaced by its payload and `uplink_bits` set:
    the payloads' bits plus 32 per uncompressed float (deltas and non-trainable weights)."""
    delta, bits = [], 0
    for index, (array, chain) in enumerate(zip(update.delta, chains)):
        if chain is None:
            delta.append(np.asarray(array, np.float32))
            bits += FLOAT_BITS * np.size(array)
        else:
            payload, payload_bits = chain.encode(array, [*seed, index])
            delta.append(payload)
            bits += payload_bits
    bits += FLOAT_BITS * sum(np.size(a) for a in update.non_trainable)
    update.delta, update.uplink_bits = delta, bits
    return update


def decode_update(update, chains, shapes, seed):
    """A copy of the update with every delta dense again (shapes from the server's model)."""
    if len(update.delta) != len(chains):
        raise ValueError(f"update has {len(update.delta)} deltas, the model has {len(chains)}")
    dense = []
    for index, (item, chain, shape) in enumerate(zip(update.delta, chains, shapes)):
        if chain is None:
            dense.append(np.asarray(item))
        else:
            dense.append(chain.decode(item, shape, [*seed, index]))
    return type(update)(update.client, dense, update.non_trainable, update.num_examples,
                        update.metrics, update.uplink_bits)


STAGES = {"LowRank": LowRank, "RandomMask": RandomMask, "Subsample": Subsample,
          "Rotate": Rotate, "Quantize": Quantize}


def from_spec(spec):
    """`compression` for `build_weighted_fed_avg` from plain data (a recipe's tables):
    `{pattern: [{"name": "Subsample", "fraction": 0.25}, {"name": "Quantize", "bits": 2}]}`."""
    if not isinstance(spec, dict):
        raise ValueError(f"compression={spec!r} is not allowed: use a table of weight-path "
                         "patterns to lists of stages")
    chains = {}
    for pattern, stages in spec.items():
        built = []
        for stage in stages:
            stage = dict(stage)
            name = stage.pop("name", None)
            if name not in STAGES:
                raise ValueError(f"compression stage name={name!r} is not allowed; use one of "
                                 f"{', '.join(STAGES)}")
            built.append(STAGES[name](**stage))
        chains[pattern] = Chain(*built)
    return chains
