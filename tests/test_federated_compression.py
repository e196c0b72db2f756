"""Konečný et al.'s compressed updates: the quantiser is unbiased, the rotation is orthogonal
(scipy's Hadamard matrix times random signs) and inverts exactly, seeded masks and low-rank
factors are reproduced on the server from the seed alone, bits are counted exactly, and the
structured updates trained in their restricted form equal training the explicit
parameterisation (W0 + A B with only B learned; W0 + M V with only the masked V learned)."""

import math

import keras
import numpy as np
import pytest
from scipy.linalg import hadamard

from garden import federated as fl
from garden.federated import compression as fc

SEED = [3, 1, 4]


def test_fwht_is_hadamard():
    x = np.random.default_rng(0).normal(size=16)
    np.testing.assert_allclose(fc.fwht(x), hadamard(16) @ x, atol=1e-12)
    with pytest.raises(ValueError, match="power of 2, got 12"):
        fc.fwht(np.zeros(12))


def test_rotation_is_orthogonal_and_inverts_exactly():
    rotate = fl.Rotate()
    n = rotate.size((13,), SEED)
    assert n == 16
    matrix = np.stack([rotate.forward(e, SEED) for e in np.eye(16)], 1)
    np.testing.assert_allclose(matrix @ matrix.T, np.eye(16), atol=1e-12)
    np.testing.assert_allclose(matrix, hadamard(16) * rotate.signs(16, SEED) / 4, atol=1e-12)
    x = np.random.default_rng(1).normal(size=(13,))
    np.testing.assert_allclose(rotate.inverse(rotate.forward(x, SEED), (13,), SEED), x,
                               atol=1e-12)


@pytest.mark.parametrize("bits", [1, 2, 4])
def test_quantizer_is_unbiased(bits):
    quantize = fl.Quantize(bits)
    x = np.random.default_rng(2).normal(size=50)
    rng = np.random.default_rng(3)
    draws = np.stack([quantize.decode(quantize.encode(x, rng)) for _ in range(4000)])
    step = (x.max() - x.min()) / (2 ** bits - 1)
    # Each draw is within one step of x; the mean's standard error is at most step / (2 sqrt(n)).
    assert np.all(np.abs(draws - x) <= step + 1e-9)
    np.testing.assert_allclose(draws.mean(0), x, atol=5 * step / (2 * math.sqrt(4000)))
    levels = np.unique(np.round((draws - x.min()) / step, 6))
    assert len(levels) <= 2 ** bits
    payload = quantize.encode(x, rng)
    assert quantize.payload_bits(payload) == 50 * bits + 64


def test_seeded_mask_and_low_rank_factor_reproduced_on_the_server():
    x = np.random.default_rng(4).normal(size=(20, 6))
    client, server = fl.Chain(fl.RandomMask(0.3)), fl.Chain(fl.RandomMask(0.3))
    payload, bits = client.encode(x, SEED)
    mask = fl.RandomMask(0.3).mask(120, [*SEED, 0])
    assert bits == 32 * mask.sum() and payload["values"].size == mask.sum()
    decoded = server.decode(payload, x.shape, SEED)
    np.testing.assert_allclose(decoded.ravel()[mask], x.ravel()[mask], rtol=1e-6)
    assert np.all(decoded.ravel()[~mask] == 0)

    low_rank = fl.LowRank(2)
    payload, bits = fl.Chain(low_rank).encode(x, SEED)
    assert bits == 32 * 2 * 6
    a = fl.LowRank(2).factor((20, 6), [*SEED, 0])
    np.testing.assert_allclose(a.T @ a, np.eye(2), atol=1e-12)
    decoded = fl.Chain(fl.LowRank(2)).decode(payload, x.shape, SEED)
    np.testing.assert_allclose(decoded, a @ a.T @ x, rtol=1e-5, atol=1e-6)
    # A delta of the form A B is sent exactly.
    exact = a @ np.random.default_rng(5).normal(size=(2, 6))
    sent, _ = fl.Chain(low_rank).encode(exact, SEED)
    np.testing.assert_allclose(fl.Chain(low_rank).decode(sent, exact.shape, SEED), exact,
                               atol=1e-6)
    # Another seed, another pattern.
    other, _ = fl.Chain(low_rank).encode(x, [9])
    assert not np.allclose(other["values"], payload["values"])


def test_subsampling_is_unbiased():
    x = np.random.default_rng(6).normal(size=40)
    chain = fl.Chain(fl.Subsample(0.25))
    draws = np.stack([chain.decode(chain.encode(x, [s])[0], x.shape, [s])
                      for s in range(4000)])
    np.testing.assert_allclose(draws.mean(0), x, atol=0.15)


def test_chain_bits_and_round_trip():
    x = np.random.default_rng(7).normal(size=(30, 10))
    chain = fl.Chain(fl.Subsample(0.25), fl.Rotate(), fl.Quantize(2))
    payload, bits = chain.encode(x, SEED)
    kept = fl.Subsample(0.25).mask(300, [*SEED, 0]).sum()
    padded = 1 << (int(kept) - 1).bit_length()
    assert payload["levels"].size == padded and bits == 2 * padded + 64
    assert chain.decode(payload, x.shape, SEED).shape == x.shape
    # Unquantised, rotation and subsampling decode to the kept entries over the fraction.
    exact = fl.Chain(fl.Subsample(0.25), fl.Rotate())
    decoded = exact.decode(exact.encode(x, SEED)[0], x.shape, SEED)
    mask = fl.Subsample(0.25).mask(300, [*SEED, 0])
    np.testing.assert_allclose(decoded.ravel()[mask], x.ravel()[mask] / 0.25, rtol=1e-5)


def test_bad_chains():
    with pytest.raises(ValueError, match="must be the last stage"):
        fl.Chain(fl.Quantize(1), fl.Rotate())
    with pytest.raises(ValueError, match="must be the first stage"):
        fl.Chain(fl.Rotate(), fl.LowRank(2))
    with pytest.raises(ValueError, match="fraction=0"):
        fl.RandomMask(0)
    with pytest.raises(ValueError, match="bits=17"):
        fl.Quantize(17)
    with pytest.raises(ValueError, match="match no trainable weight"):
        fc.resolve({"conv/*": fl.Quantize(1)}, ["out/kernel"])
    with pytest.raises(ValueError, match="payload has 3 values, expected 8"):
        fl.Chain(fl.Rotate()).decode({"values": np.zeros(3)}, (5,), SEED)


def test_process_counts_uplink_and_downlink_bits():
    def model_fn():
        return keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, name="hidden"),
                                 keras.layers.Dense(2, name="out")])
    rng = np.random.default_rng(0)
    data = [(rng.normal(size=(10, 8)).astype("float32"), rng.integers(0, 2, 10))
            for _ in range(3)]
    kwargs = dict(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    sgd = lambda: keras.optimizers.SGD(0.1)  # noqa: E731
    full = fl.build_weighted_fed_avg(model_fn, sgd, **kwargs)
    params = 8 * 16 + 16 + 16 * 2 + 2
    _, metrics = full.next(full.initialize(), data)
    assert metrics["uplink_bits"] == 3 * 32 * params
    assert metrics["downlink_bits"] == 3 * 32 * params

    small = fl.build_weighted_fed_avg(model_fn, sgd, compression={"hidden/kernel": fl.LowRank(2)},
                                      **kwargs)
    state, metrics = small.next(small.initialize(), data)
    assert metrics["uplink_bits"] == 3 * 32 * (params - 8 * 16 + 2 * 16)
    assert metrics["clients_completed"] == 3 and np.all(np.isfinite(state.model.trainable[0]))


# Restricted local training: a tiny linear layer trained by the process with a structured
# compressor against the explicit parameterisation kernel = W0 + structure(V), V trainable.
D_IN, D_OUT, RANK, STEPS = 6, 4, 2, 4


def restricted_data():
    rng = np.random.default_rng(8)
    return (rng.normal(size=(8, D_IN)).astype("float32"),
            rng.normal(size=(8, D_OUT)).astype("float32"))


def restricted_model():
    return keras.Sequential([keras.Input((D_IN,)), keras.layers.Dense(D_OUT, name="out")])


class Reparameterised(keras.layers.Layer):
    """x (W0 + structure(V)) + b with V (shape `factor_shape`, zeros) and b trainable."""

    def __init__(self, w0, b0, factor_shape, structure):
        super().__init__()
        self.w0, self.structure = keras.ops.convert_to_tensor(w0), structure
        self.v = self.add_weight(shape=factor_shape, initializer="zeros")
        self.b = self.add_weight(shape=b0.shape, initializer=keras.initializers.Constant(b0))

    def call(self, x):
        return keras.ops.matmul(x, self.w0 + self.structure(self.v)) + self.b


def restricted_update(compressor, optimizer_fn, state=None):
    """The process's first-round update of client 0 (one full batch per local epoch, STEPS
    epochs), decoded; from `state` or the process's initial one."""
    process = fl.build_weighted_fed_avg(
        restricted_model, optimizer_fn, loss="mse", batch_size=8, client_epochs=STEPS,
        compression={"out/kernel": compressor})
    state = process.initialize() if state is None else state
    update = process.client_update(state, 0, restricted_data())
    dense = fc.decode_update(update, process.compressors, process.shapes[0], [0, 0, 0])
    return state, update, dense


def explicit_training(state, factor_shape, structure, optimizer_fn):
    """Trains V of the explicit parameterisation from the same start; returns (V, bias delta)."""
    w0, b0 = state.model.trainable
    layer = Reparameterised(w0, b0, factor_shape, structure)
    model = keras.Sequential([keras.Input((D_IN,)), layer])
    model.compile(optimizer=optimizer_fn(), loss="mse")
    model.fit(*restricted_data(), batch_size=8, epochs=STEPS, shuffle=False, verbose=0)
    return keras.ops.convert_to_numpy(layer.v), keras.ops.convert_to_numpy(layer.b) - b0


def momentum_sgd():
    return keras.optimizers.SGD(0.1, momentum=0.9)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_restricted_low_rank_equals_training_b_in_a_times_b(momentum):
    sgd = lambda: keras.optimizers.SGD(0.1, momentum=momentum)  # noqa: E731
    state, update, dense = restricted_update(fl.LowRank(RANK), sgd)
    # A is reproduced from the seed (process 0, round 0, client 0, weight 0, stage 0).
    a = fl.LowRank(RANK).factor((D_IN, D_OUT), [0, 0, 0, 0, 0])
    b, bias_delta = explicit_training(state, (RANK, D_OUT),
                                      lambda v: keras.ops.matmul(a.astype("float32"), v), sgd)
    assert np.abs(b).max() > 1e-2  # B moved
    np.testing.assert_allclose(update.delta[0]["values"].reshape(RANK, D_OUT), b, atol=2e-6)
    np.testing.assert_allclose(dense.delta[0], a @ b, atol=2e-6)
    np.testing.assert_allclose(dense.delta[1], bias_delta, atol=2e-6)
    assert update.uplink_bits == 32 * (RANK * D_OUT + D_OUT)


def test_restricted_random_mask_trains_only_the_masked_entries():
    adam = lambda: keras.optimizers.Adam(0.05)  # noqa: E731
    state, update, dense = restricted_update(fl.RandomMask(0.5), adam)
    mask = fl.RandomMask(0.5).mask(D_IN * D_OUT, [0, 0, 0, 0, 0]).reshape(D_IN, D_OUT)
    v, bias_delta = explicit_training(state, (D_IN, D_OUT),
                                      lambda v: v * mask.astype("float32"), adam)
    assert np.all(dense.delta[0][~mask] == 0) and np.all(np.abs(dense.delta[0][mask]) > 1e-3)
    np.testing.assert_allclose(dense.delta[0], v * mask, atol=2e-6)
    np.testing.assert_allclose(dense.delta[1], bias_delta, atol=2e-6)
    np.testing.assert_allclose(update.delta[0]["values"], v[mask], atol=2e-6)


def test_sketches_do_not_restrict_training():
    sgd = lambda: keras.optimizers.SGD(0.1)  # noqa: E731
    assert fl.Chain(fl.Subsample(0.5), fl.Quantize(2)).projector((D_IN, D_OUT), SEED) is None
    free = fl.build_weighted_fed_avg(restricted_model, sgd, loss="mse", batch_size=8,
                                     client_epochs=STEPS)
    state = free.initialize()
    expected = free.client_update(state, 0, restricted_data()).delta[0]
    _, _, dense = restricted_update(fl.Subsample(1.0), sgd, state)
    np.testing.assert_allclose(dense.delta[0], expected, atol=1e-6)
