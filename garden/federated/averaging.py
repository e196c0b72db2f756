"""Federated averaging with TensorFlow Federated's semantics, for Keras 3 models.

`build_weighted_fed_avg` has the shape of `tff.learning.algorithms.build_weighted_fed_avg`:
every sampled client starts from the server's weights, trains its local epochs with a fresh
client optimizer and sends its model delta; the server averages the deltas weighted by example
count and applies the average as a pseudo-gradient (minus the delta) with the server optimizer.
SGD with rate 1.0 on the server is McMahan et al.'s FedAvg; momentum gives FedAvgM and Adam gives
FedAdam (Reddi et al. 2021).

Non-trainable weights (batch-norm moving statistics) are a deliberate difference from TFF, whose
server keeps its own: here each client also sends its final non-trainable weights and the server
replaces its own with their average, weighted like the deltas, outside the server optimizer.

Reference:
    McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized Data",
    AISTATS 2017. https://arxiv.org/abs/1602.05629
    Reddi et al., "Adaptive Federated Optimization", ICLR 2021. https://arxiv.org/abs/2003.00295
"""

import dataclasses
import math

import keras
import numpy as np

from garden.federated import compression as compression_lib
from garden.utils import check_int

# Bits of one uncompressed float32 value on the wire.
FLOAT_BITS = 32


@dataclasses.dataclass(frozen=True)
class ModelWeights:
    """A model's weights as two lists of NumPy arrays, in `model.trainable_weights` and
    `model.non_trainable_weights` order (TFF's `ModelWeights`)."""

    trainable: list
    non_trainable: list

    @classmethod
    def from_model(cls, model):
        return cls([keras.ops.convert_to_numpy(v) for v in model.trainable_weights],
                   [keras.ops.convert_to_numpy(v) for v in model.non_trainable_weights])

    def assign_weights_to(self, model):
        """Writes these weights into a Keras model of the same architecture."""
        for variable, value in zip(model.trainable_weights, self.trainable):
            variable.assign(value)
        for variable, value in zip(model.non_trainable_weights, self.non_trainable):
            variable.assign(value)


@dataclasses.dataclass(frozen=True)
class ServerState:
    """The state `initialize` returns and `next` advances.

    Attributes:
        model: the global `ModelWeights`.
        optimizer: the server optimizer's variables (including its step count), as arrays.
        round_num: rounds finished so far.
    """

    model: ModelWeights
    optimizer: list
    round_num: int = 0


@dataclasses.dataclass
class ClientUpdate:
    """What one client sends back: the (possibly compressed) trainable delta, its final
    non-trainable weights, the examples it trained on (examples x local epochs, as TFF counts
    them) and its training metrics."""

    client: int
    delta: list
    non_trainable: list
    num_examples: int
    metrics: dict
    uplink_bits: int = 0


class RestrictedTraining(keras.callbacks.Callback):
    """Keeps each structured weight's delta in its structure during local training: after every
    optimizer step, weight <- start + project(weight - start).

    Args:
        projectors: per trainable weight, a function projecting a delta, or None (free).
        start: the trainable weights the client started from.
    """

    def __init__(self, projectors, start):
        super().__init__()
        self.projectors, self.start = projectors, start

    def on_train_batch_end(self, batch, logs=None):
        sync = getattr(self.model, "jax_state_sync", None)
        if sync is not None:  # JAX trains on a copy of the variables: write it back first
            sync()
        for variable, project, start in zip(self.model.trainable_weights, self.projectors,
                                            self.start):
            if project is not None:
                variable.assign(start + project(keras.ops.convert_to_numpy(variable) - start))


def _signature(model):
    return [(v.name, tuple(v.shape), v.trainable) for v in model.weights]


def weight_paths(model):
    """The trainable weights' paths without the model's name ("dense/kernel"), which
    compression patterns match."""
    return [v.path.split("/", 1)[-1] for v in model.trainable_weights]


def _client_arrays(data, name):
    """`(x, y)` of a client given as arrays, or None for a `tf.data.Dataset`."""
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = (np.asarray(a) for a in data)
        if len(x) != len(y):
            raise ValueError(f"{name} has {len(x)} inputs but {len(y)} labels; they must match")
        return x, y
    if hasattr(data, "as_numpy_iterator"):
        return None
    raise ValueError(f"{name} must be an (x, y) pair of arrays or a batched tf.data.Dataset, "
                     f"got {type(data).__name__}")


def count_examples(data):
    """Examples in one client's data: `len(x)` of an `(x, y)` pair, or the sum of the batch
    sizes of a batched dataset."""
    arrays = _client_arrays(data, "client data")
    if arrays is not None:
        return len(arrays[0])
    return int(sum(len(batch[0]) for batch in data.as_numpy_iterator()))


def validate_update(update, shapes):
    """The reason to reject a client update, or None if it is well formed and finite.

    Args:
        update: `ClientUpdate` with decoded (dense) arrays.
        shapes: `(trainable shapes, non-trainable shapes)` of the model.
    """
    for kind, arrays, expected in (("delta", update.delta, shapes[0]),
                                   ("non_trainable", update.non_trainable, shapes[1])):
        if len(arrays) != len(expected):
            return f"{kind} has {len(arrays)} arrays, the model has {len(expected)}"
        for index, (array, shape) in enumerate(zip(arrays, expected)):
            array = np.asarray(array)
            if array.shape != tuple(shape):
                return f"{kind}[{index}] has shape {array.shape}, expected {tuple(shape)}"
            if not np.all(np.isfinite(array)):
                return f"{kind}[{index}] has NaN or Inf values"
    if not (isinstance(update.num_examples, (int, np.integer)) and update.num_examples > 0):
        return f"num_examples={update.num_examples!r} is not a positive integer"
    return None


def weighted_mean(arrays, weights):
    """`sum_k w_k a_k / sum_k w_k` for lists of arrays (one list per client), in float64, cast
    back to each array's dtype."""
    total = float(sum(weights))
    out = []
    for values in zip(*arrays):
        mean = sum(w * np.asarray(v, np.float64) for w, v in zip(weights, values)) / total
        out.append(mean.astype(np.asarray(values[0]).dtype))
    return out


class WeightedFedAvg:
    """The iterative process `build_weighted_fed_avg` returns; see there."""

    def __init__(self, model_fn, client_optimizer_fn, server_optimizer_fn, loss, metrics,
                 client_weighting, client_epochs, batch_size, clients_per_round, seed,
                 compression):
        self.model_fn = model_fn
        self.client_optimizer_fn = client_optimizer_fn
        self.server_optimizer_fn = server_optimizer_fn
        self.loss = loss
        self.metrics = list(metrics or [])
        self.client_weighting = client_weighting
        self.client_epochs = client_epochs
        self.batch_size = batch_size
        self.clients_per_round = clients_per_round
        self.seed = seed
        self.compression = compression
        self._server_model = None

    # The process keeps one server model and optimizer and one client model and optimizer; the
    # state passed to `next` is written into them, so states stay plain values.
    def _build(self):
        if self._server_model is not None:
            return
        server, client = self.model_fn(), self.model_fn()
        for built in (server, client):
            if not isinstance(built, keras.Model):
                raise ValueError(f"model_fn must return a keras.Model, got {type(built).__name__}")
        if _signature(server) != _signature(client):
            raise ValueError("model_fn returned different architectures on two calls: "
                             f"{_signature(server)} vs {_signature(client)}; it must build the "
                             "same model every time")
        self._server_model = server
        self._server_optimizer = self.server_optimizer_fn()
        self._server_optimizer.build(server.trainable_weights)
        self._initial = ServerState(ModelWeights.from_model(server),
                                    [keras.ops.convert_to_numpy(v) for v in self._server_optimizer.variables], 0)
        self._client_model = client
        client.compile(optimizer=self.client_optimizer_fn(), loss=self.loss,
                       metrics=self.metrics)
        client.optimizer.build(client.trainable_weights)
        # A fresh client optimizer for every client: its variables back to their values after
        # `build` (zeros for SGD, momentum, Adam, and a step count of 0).
        self._client_optimizer_init = [keras.ops.convert_to_numpy(v) for v in client.optimizer.variables]
        self.shapes = ([tuple(v.shape) for v in server.trainable_weights],
                       [tuple(v.shape) for v in server.non_trainable_weights])
        self.paths = weight_paths(server)
        self.compressors = compression_lib.resolve(self.compression, self.paths)

    def initialize(self):
        """The first `ServerState`: the weights of the first `model_fn()` and a fresh server
        optimizer (the same state on every call)."""
        self._build()
        return self._initial

    def get_model_weights(self, state):
        """The global `ModelWeights` of a state."""
        return state.model

    def set_model_weights(self, state, weights):
        """A copy of `state` holding `weights` (a `ModelWeights` or a Keras model of the same
        architecture); the server optimizer's state is kept."""
        self._build()
        if isinstance(weights, keras.Model):
            weights = ModelWeights.from_model(weights)
        got = ([np.shape(a) for a in weights.trainable], [np.shape(a) for a in weights.non_trainable])
        if got != self.shapes:
            raise ValueError(f"weights have shapes {got}, the model has {self.shapes}")
        return dataclasses.replace(state, model=ModelWeights(
            [np.array(a) for a in weights.trainable], [np.array(a) for a in weights.non_trainable]))

    def sample_clients(self, round_num, population):
        """The client indices of a round: all of them, or `clients_per_round` drawn without
        replacement from a generator seeded with `(seed, round_num)`."""
        if population == 0:
            raise ValueError("client_data is empty; a round needs at least one client")
        if self.clients_per_round is None:
            return list(range(population))
        if self.clients_per_round > population:
            raise ValueError(f"clients_per_round={self.clients_per_round} is larger than the "
                             f"population of {population} clients")
        rng = np.random.default_rng([self.seed, round_num])
        return sorted(int(i) for i in rng.choice(population, self.clients_per_round,
                                                  replace=False))

    def client_update(self, state, client, data):
        """Trains one client from the server weights of `state` and returns its `ClientUpdate`
        (with its delta compressed when the process compresses; weights with a structured
        compressor are trained in their restricted form, see `RestrictedTraining`).

        Raises:
            ValueError: the client has no examples.
        """
        self._build()
        model = self._client_model
        arrays = _client_arrays(data, f"client {client}")
        num_examples = count_examples(data)
        if num_examples == 0:
            raise ValueError(f"client {client} has no examples")
        state.model.assign_weights_to(model)
        for variable, value in zip(model.optimizer.variables, self._client_optimizer_init):
            variable.assign(value)
        projectors = compression_lib.projectors(self.compressors, self.shapes[0],
                                                self._round_seed(state.round_num, client))
        callbacks = ([RestrictedTraining(projectors, state.model.trainable)]
                     if any(p is not None for p in projectors) else [])
        if arrays is None:
            history = model.fit(data, epochs=self.client_epochs, shuffle=False, verbose=0,
                                callbacks=callbacks)
        else:
            # Each epoch's order from (seed, round, client): the same on every run and machine.
            rng = np.random.default_rng([self.seed, state.round_num, client])
            x, y = arrays
            order = np.concatenate([rng.permutation(len(x)) for _ in range(self.client_epochs)])
            history = model.fit(x[order], y[order], batch_size=self.batch_size, epochs=1,
                                shuffle=False, verbose=0, callbacks=callbacks)
        delta = [keras.ops.convert_to_numpy(v) - w for v, w in zip(model.trainable_weights, state.model.trainable)]
        metrics = {k: float(v[-1]) for k, v in history.history.items()}
        update = ClientUpdate(client, delta, [keras.ops.convert_to_numpy(v) for v in model.non_trainable_weights],
                              num_examples * self.client_epochs, metrics)
        return compression_lib.encode_update(update, self.compressors,
                                             self._round_seed(state.round_num, client))

    def _round_seed(self, round_num, client):
        return [self.seed, round_num, client]

    def _weight(self, update):
        if self.client_weighting == "num_examples":
            return float(update.num_examples)
        if self.client_weighting == "uniform":
            return 1.0
        return float(self.client_weighting({"num_examples": update.num_examples,
                                            **update.metrics}))

    def aggregate(self, state, updates, sampled, failed=None):
        """The next state from the updates of one round, and the round's metrics.

        Decodes compressed deltas, rejects malformed or non-finite ones (reported in
        `metrics["rejected"]`), averages the rest weighted by `client_weighting`, and applies
        minus the average as a gradient with the server optimizer. A round with no accepted
        update leaves the weights and the server optimizer unchanged. The same code serves
        the in-process `next` and the Flower `ServerApp`.

        Args:
            state: `ServerState` the clients started from.
            updates: list of `ClientUpdate`s.
            sampled: number of clients asked this round.
            failed: dict client -> error message of the clients that did not answer.
        """
        self._build()
        failed = dict(failed or {})
        rejected, accepted = {}, []
        for update in updates:
            try:
                decoded = compression_lib.decode_update(
                    update, self.compressors, self.shapes[0],
                    self._round_seed(state.round_num, update.client))
                reason = validate_update(decoded, self.shapes)
            except (ValueError, KeyError, IndexError, TypeError) as error:
                decoded, reason = None, f"cannot decode: {error}"
            if reason is None:
                accepted.append(decoded)
            else:
                rejected[update.client] = reason
        metrics = {
            "clients_sampled": sampled,
            "clients_completed": len(accepted),
            "clients_failed": len(failed),
            "clients_rejected": len(rejected),
            "num_examples": int(sum(u.num_examples for u in accepted)),
            "uplink_bits": int(sum(u.uplink_bits for u in updates)),
            "downlink_bits": int(sampled * FLOAT_BITS * (
                sum(math.prod(s) for s in self.shapes[0] + self.shapes[1]))),
            "failed": failed,
            "rejected": rejected,
        }
        if not accepted:
            return dataclasses.replace(state, round_num=state.round_num + 1), metrics
        weights = [self._weight(u) for u in accepted]
        for name in accepted[0].metrics:
            metrics[name] = float(np.average([u.metrics[name] for u in accepted],
                                             weights=[u.num_examples for u in accepted]))
        mean_delta = weighted_mean([u.delta for u in accepted], weights)
        non_trainable = weighted_mean([u.non_trainable for u in accepted], weights)

        server, optimizer = self._server_model, self._server_optimizer
        state.model.assign_weights_to(server)
        for variable, value in zip(optimizer.variables, state.optimizer):
            variable.assign(value)
        optimizer.apply([-d for d in mean_delta], server.trainable_weights)
        model = ModelWeights([keras.ops.convert_to_numpy(v) for v in server.trainable_weights], non_trainable)
        return ServerState(model, [keras.ops.convert_to_numpy(v) for v in optimizer.variables],
                           state.round_num + 1), metrics

    def next(self, state, client_data):
        """One round: samples clients, trains each, aggregates; returns `(state, metrics)`.

        A client whose training raises (its data fails, it diverges into an exception) is left
        out of the round and named in `metrics["failed"]`; the round goes on with the others.

        Raises:
            ValueError: no clients, `clients_per_round` larger than the population, or a
                sampled client with no examples.
        """
        self._build()
        client_data = list(client_data)
        sampled = self.sample_clients(state.round_num, len(client_data))
        updates, failed = [], {}
        for client in sampled:
            if count_examples(client_data[client]) == 0:
                raise ValueError(f"client {client} has no examples")
            try:
                updates.append(self.client_update(state, client, client_data[client]))
            except Exception as error:  # a failing client is dropped, never stalls the round
                failed[client] = f"{type(error).__name__}: {error}"
        return self.aggregate(state, updates, len(sampled), failed)


def build_weighted_fed_avg(model_fn, client_optimizer_fn, server_optimizer_fn=None, *, loss,
                           metrics=None, client_weighting="num_examples", client_epochs=1,
                           batch_size=32, clients_per_round=None, seed=0, compression=None):
    """Federated averaging of a Keras model, as TFF's `build_weighted_fed_avg`.

    Args:
        model_fn: function returning a fresh, uncompiled `keras.Model` (the same architecture
            on every call).
        client_optimizer_fn: function returning a Keras optimizer for local training.
        server_optimizer_fn: function returning the server's Keras optimizer. Defaults to
            `SGD(learning_rate=1.0)` (plain FedAvg).
        loss: the Keras loss clients train with.
        metrics: Keras metrics the clients report (averaged by example count).
        client_weighting: "num_examples" (default), "uniform", or a function from a client's
            metrics dict (with "num_examples") to its weight.
        client_epochs: int. Local epochs per round. Defaults to 1.
        batch_size: int. Local batch size for clients given as arrays. Defaults to 32.
        clients_per_round: int or None. Clients sampled per round (seeded); None takes all.
        seed: int. Seeds client sampling, local shuffling and compression. Defaults to 0.
        compression: None, a `garden.federated.compression` compressor for every trainable
            weight, or a dict from weight-path patterns (`fnmatch`, e.g. "dense_1/*") to
            compressors; weights no pattern matches are sent uncompressed. Paths are those of
            the first `model_fn()` without the model's name: name the layers to match them.

    Returns:
        A `WeightedFedAvg` with `initialize()`, `next(state, client_data)`,
        `get_model_weights(state)` and `set_model_weights(state, weights)`; `client_data` is a
        list of per-client `(x, y)` arrays or batched `tf.data.Dataset`s.

    Example:

    ```python
    process = build_weighted_fed_avg(model_fn, lambda: keras.optimizers.SGD(0.1),
                                     loss="sparse_categorical_crossentropy")
    state = process.initialize()
    state, metrics = process.next(state, [(x0, y0), (x1, y1)])
    ```

    Reference:
        McMahan et al. 2017, https://arxiv.org/abs/1602.05629
    """
    for name, fn in (("model_fn", model_fn), ("client_optimizer_fn", client_optimizer_fn)):
        if not callable(fn):
            raise ValueError(f"{name} must be a function, got {fn!r}")
    if server_optimizer_fn is None:
        server_optimizer_fn = lambda: keras.optimizers.SGD(learning_rate=1.0)  # noqa: E731
    if not callable(client_weighting) and client_weighting not in ("num_examples", "uniform"):
        raise ValueError(f"client_weighting={client_weighting!r}; allowed: 'num_examples', "
                         "'uniform' or a function of a client's metrics")
    check_int("client_epochs", client_epochs, minimum=1)
    check_int("batch_size", batch_size, minimum=1)
    if clients_per_round is not None:
        check_int("clients_per_round", clients_per_round, minimum=1)
    check_int("seed", seed, minimum=0)
    return WeightedFedAvg(model_fn, client_optimizer_fn, server_optimizer_fn, loss, metrics,
                          client_weighting, client_epochs, batch_size, clients_per_round, seed,
                          compression)
