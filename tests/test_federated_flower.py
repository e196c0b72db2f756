"""garden.federated on Flower: the ClientApp/ServerApp messages through an in-process grid give
the same weights as the in-process `next` for the same clients and seeds, a client that fails
is left out, and compressed payloads (and restricted structured training) survive the round
trip."""

import keras
import numpy as np
import pytest

pytest.importorskip("flwr")
from flwr.app import Context, Error, Message, RecordDict  # noqa: E402
from flwr.supercore.task_identity import TaskIdentity  # noqa: E402

from garden import federated as fl  # noqa: E402
from garden.federated import flower  # noqa: E402


def model_fn():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, name="hidden"),
                             keras.layers.BatchNormalization(name="norm"),
                             keras.layers.Dense(3, name="out")])


def client_data():
    rng = np.random.default_rng(0)
    return [(rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, n)) for n in (9, 14, 20)]


def process_fn(**kwargs):
    return fl.build_weighted_fed_avg(
        model_fn, lambda: keras.optimizers.SGD(0.1), lambda: keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
        batch_size=4, clients_per_round=2, seed=5, **kwargs)


class LocalGrid:
    """The part of Flower's `Grid` that `run_rounds` uses, calling a `ClientApp` in process;
    `broken` nodes answer "train" with an error."""

    def __init__(self, app, nodes, broken=()):
        self.app, self.nodes, self.broken = app, nodes, set(broken)
        # What Flower's ServerApp runtime sets before `main` runs.
        TaskIdentity.task_id, TaskIdentity.run_id, TaskIdentity.node_id = 1, 1, 0

    def get_node_ids(self):
        return list(self.nodes)

    def send_and_receive(self, messages, timeout=None):
        for index, message in enumerate(messages):
            node = message.metadata.dst_node_id
            if node in self.broken and message.metadata.message_type == "train":
                yield Message(Error(1, "killed"), reply_to=message)
                continue
            context = Context(run_id=1, node_id=node, node_config={"partition-id": self.nodes[node]},
                              state=RecordDict(), run_config={})
            yield self.app(message, context)


def flower_rounds(rounds, broken=(), **kwargs):
    data = client_data()
    app = flower.client_app(lambda: process_fn(**kwargs),
                            lambda ctx: data[ctx.node_config["partition-id"]])
    grid = LocalGrid(app, {101: 0, 205: 1, 309: 2}, broken)
    process = process_fn(**kwargs)
    return process, flower.run_rounds(process, grid, rounds, state=process.initialize())


def in_process_rounds(process, rounds):
    state = process.initialize()
    for _ in range(rounds):
        state, metrics = process.next(state, client_data())
    return state, metrics


@pytest.mark.parametrize("compression", [
    None, {"hidden/kernel": fl.Chain(fl.Subsample(0.5), fl.Rotate(), fl.Quantize(2))},
    {"hidden/kernel": fl.LowRank(2), "out/kernel": fl.RandomMask(0.5)}],
    ids=["full", "compressed", "restricted"])
def test_flower_gives_the_in_process_weights(compression):
    process, (state, history) = flower_rounds(2, compression=compression)
    expected, metrics = in_process_rounds(process, 2)
    for a, b in zip(state.model.trainable + state.model.non_trainable,
                    expected.model.trainable + expected.model.non_trainable):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(state.optimizer, expected.optimizer):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert history[-1]["uplink_bits"] == metrics["uplink_bits"]
    assert history[-1]["clients_completed"] == 2


def test_a_failing_node_is_left_out():
    _, (state, history) = flower_rounds(2, broken=[205])
    failed = [m["failed"] for m in history]
    assert any(1 in f for f in failed)
    for metrics in history:
        assert metrics["clients_completed"] + metrics["clients_failed"] == 2
    assert np.all(np.isfinite(state.model.trainable[0]))


def test_update_codec_round_trip():
    update = fl.ClientUpdate(2, [{"levels": np.arange(4, dtype=np.uint16),
                                  "range": np.array([0, 1], np.float32)}, np.ones(3, np.float32)],
                             [np.zeros(2, np.float32)], 7, {"loss": 0.5}, 99)
    back = flower.decode_update(flower.encode_update(update))
    assert (back.client, back.num_examples, back.uplink_bits, back.metrics) == \
        (2, 7, 99, {"loss": 0.5})
    np.testing.assert_array_equal(back.delta[0]["levels"], np.arange(4))
    np.testing.assert_array_equal(back.delta[1], np.ones(3))
