"""garden.federated: FedAvg's arithmetic against a NumPy transcription (two clients, a linear
model, one full-batch SGD step each), server momentum and Adam by hand, sampling, dropout,
rejection, bad input, and the same rounds (and restricted low-rank training) on JAX."""

import json
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from garden import federated as fl
from tests.helpers import run_script

LR = 0.1


def linear_fn():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="out")])


def clients():
    rng = np.random.default_rng(0)
    return [(rng.normal(size=(n, 3)).astype("float32"), rng.normal(size=(n, 1)).astype("float32"))
            for n in (4, 12)]


def process(server=None, **kwargs):
    # One batch per client: a client's round is one full-batch gradient step.
    return fl.build_weighted_fed_avg(linear_fn, lambda: keras.optimizers.SGD(LR), server,
                                     loss="mse", batch_size=64, **kwargs)


def client_deltas(w, b, data):
    """Each client's delta after one SGD step on mean((x w + b - y)^2)."""
    deltas = []
    for x, y in data:
        error = x @ w + b - y
        deltas.append((-LR * 2 * x.T @ error / len(x), -LR * 2 * error.mean(0)))
    return deltas


def reference_rounds(state, data, rounds, server_step):
    w, b = (np.array(a, np.float64) for a in state.model.trainable)
    slots = {}
    for t in range(1, rounds + 1):
        deltas = client_deltas(w, b, data)
        n = np.array([len(x) for x, _ in data], np.float64)
        mean = [sum(k * d[i] for k, d in zip(n, deltas)) / n.sum() for i in range(2)]
        w, b = (server_step(p, -m, slots.setdefault(i, {}), t)
                for i, (p, m) in enumerate(zip((w, b), mean)))
    return w, b


def run_rounds(proc, rounds, data):
    state = proc.initialize()
    start = state
    for _ in range(rounds):
        state, metrics = proc.next(state, data)
    return start, state, metrics


def test_weighted_average_of_deltas_by_hand():
    start, state, metrics = run_rounds(process(), 2, clients())
    w, b = reference_rounds(start, clients(), 2, lambda p, g, s, t: p - 1.0 * g)
    np.testing.assert_allclose(state.model.trainable[0], w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state.model.trainable[1], b, rtol=1e-5, atol=1e-6)
    assert metrics["num_examples"] == 16 and metrics["clients_completed"] == 2
    assert state.round_num == 2
    # Two clients at known weights: w0 + (4 d0 + 12 d1) / 16 exactly.
    (d0, _), (d1, _) = client_deltas(*start.model.trainable, clients())
    one, _ = process().next(start, clients())
    np.testing.assert_allclose(one.model.trainable[0], start.model.trainable[0]
                               + (4 * d0 + 12 * d1) / 16, rtol=1e-5, atol=1e-6)


def test_uniform_weighting():
    proc = process(client_weighting="uniform")
    start = proc.initialize()
    state, _ = proc.next(start, clients())
    (d0, _), (d1, _) = client_deltas(*start.model.trainable, clients())
    np.testing.assert_allclose(state.model.trainable[0],
                               start.model.trainable[0] + (d0 + d1) / 2, rtol=1e-5, atol=1e-6)


def momentum_step(p, g, slot, t):
    slot["m"] = 0.9 * slot.get("m", 0.0) - 1.0 * g
    return p + slot["m"]


def adam_step(p, g, slot, t, lr=0.05, b1=0.9, b2=0.999, eps=1e-7):
    slot["m"] = slot.get("m", 0.0) + (g - slot.get("m", 0.0)) * (1 - b1)
    slot["v"] = slot.get("v", 0.0) + (g * g - slot.get("v", 0.0)) * (1 - b2)
    alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return p - alpha * slot["m"] / (np.sqrt(slot["v"]) + eps)


@pytest.mark.parametrize("server,step", [
    (lambda: keras.optimizers.SGD(1.0, momentum=0.9), momentum_step),
    (lambda: keras.optimizers.Adam(0.05), adam_step),
], ids=["fedavgm", "fedadam"])
def test_server_optimizer_by_hand(server, step):
    start, state, _ = run_rounds(process(server), 3, clients())
    w, b = reference_rounds(start, clients(), 3, step)
    np.testing.assert_allclose(state.model.trainable[0], w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(state.model.trainable[1], b, rtol=1e-4, atol=1e-6)


def test_dataset_clients_match_arrays():
    data = clients()
    datasets = [tf.data.Dataset.from_tensor_slices(c).batch(64) for c in data]
    proc = process()
    start = proc.initialize()
    from_arrays, _ = proc.next(start, data)
    from_datasets, _ = proc.next(start, datasets)
    for a, b in zip(from_arrays.model.trainable, from_datasets.model.trainable):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_non_trainable_weights_are_averaged():
    proc = fl.build_weighted_fed_avg(
        lambda: keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization()]),
        lambda: keras.optimizers.SGD(0.1), loss="mse")
    state = proc.initialize()
    shapes = proc.shapes
    updates = [fl.ClientUpdate(k, [np.full(s, v, "float32") for s in shapes[0]],
                               [np.full(s, v, "float32") for s in shapes[1]], n, {})
               for k, (v, n) in enumerate([(1.0, 1), (4.0, 2)])]
    new, metrics = proc.aggregate(state, updates, sampled=2)
    for array in new.model.non_trainable:
        np.testing.assert_allclose(array, 3.0)  # (1 * 1 + 2 * 4) / 3
    np.testing.assert_allclose(new.model.trainable[0], state.model.trainable[0] + 3.0)
    assert metrics["num_examples"] == 3


def test_sampling_is_seeded_and_covers_the_population():
    proc = process(clients_per_round=2, seed=7)
    rounds = [proc.sample_clients(r, 5) for r in range(20)]
    assert rounds == [process(clients_per_round=2, seed=7).sample_clients(r, 5)
                      for r in range(20)]
    assert all(len(set(r)) == 2 for r in rounds)
    assert set().union(*map(set, rounds)) == set(range(5))
    assert rounds != [process(clients_per_round=2, seed=8).sample_clients(r, 5)
                      for r in range(20)]
    data = clients() * 2
    state, metrics = proc.next(proc.initialize(), data)
    assert metrics["clients_sampled"] == 2 and state.round_num == 1


def test_failing_client_is_left_out():
    good = clients()
    broken = (np.zeros((5, 7), "float32"), np.zeros((5, 1), "float32"))  # wrong feature count
    proc = process()
    start = proc.initialize()
    expected, _ = proc.next(start, good)
    state, metrics = proc.next(start, [good[0], broken, good[1]])
    assert metrics["clients_failed"] == 1 and list(metrics["failed"]) == [1]
    assert metrics["clients_completed"] == 2
    # Clients are trained from their index's seed; with full batches the order is irrelevant.
    for a, b in zip(state.model.trainable, expected.model.trainable):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_non_finite_and_misshapen_updates_are_rejected():
    good = clients()
    nan = (good[0][0], np.full_like(good[0][1], np.nan))
    proc = process()
    start = proc.initialize()
    expected, _ = proc.next(start, good)
    state, metrics = proc.next(start, [*good, nan])
    assert metrics["clients_rejected"] == 1 and "NaN" in metrics["rejected"][2]
    for a, b in zip(state.model.trainable, expected.model.trainable):
        np.testing.assert_allclose(a, b, rtol=1e-6)

    wrong = fl.ClientUpdate(0, [np.zeros((2, 1)), np.zeros(1)], [], 3, {})
    kept, metrics = proc.aggregate(start, [wrong], sampled=1)
    assert "shape (2, 1), expected (3, 1)" in metrics["rejected"][0]
    np.testing.assert_array_equal(kept.model.trainable[0], start.model.trainable[0])
    assert kept.round_num == 1


def test_bad_input():
    proc = process()
    state = proc.initialize()
    with pytest.raises(ValueError, match="at least one client"):
        proc.next(state, [])
    empty = (np.zeros((0, 3), "float32"), np.zeros((0, 1), "float32"))
    with pytest.raises(ValueError, match="client 1 has no examples"):
        proc.next(state, [clients()[0], empty])
    with pytest.raises(ValueError, match="clients_per_round=3 is larger than the population of 2"):
        process(clients_per_round=3).next(state, clients())
    sizes = iter([4, 5])
    changing = fl.build_weighted_fed_avg(
        lambda: keras.Sequential([keras.Input((3,)), keras.layers.Dense(next(sizes))]),
        lambda: keras.optimizers.SGD(0.1), loss="mse")
    with pytest.raises(ValueError, match="different architectures"):
        changing.initialize()
    with pytest.raises(ValueError, match="client_weighting='size'"):
        process(client_weighting="size")
    with pytest.raises(ValueError, match="clients_per_round=0"):
        process(clients_per_round=0)
    with pytest.raises(ValueError, match="has 4 inputs but 3 labels"):
        proc.next(state, [(np.zeros((4, 3)), np.zeros((3, 1)))])
    with pytest.raises(ValueError, match="weights have shapes"):
        proc.set_model_weights(state, fl.ModelWeights([np.zeros(2)], []))


def test_get_and_set_model_weights():
    proc = process()
    state = proc.initialize()
    model = linear_fn()
    new = proc.set_model_weights(state, model)
    np.testing.assert_array_equal(proc.get_model_weights(new).trainable[0],
                                  np.array(model.trainable_weights[0]))
    assert new.optimizer is state.optimizer
    other = linear_fn()
    proc.get_model_weights(new).assign_weights_to(other)
    np.testing.assert_array_equal(np.array(other.weights[0]), np.array(model.weights[0]))


JAX_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import keras, numpy as np
    from tests import test_federated as t
    assert keras.backend.backend() == "jax"
    proc = t.process(lambda: keras.optimizers.Adam(0.05))
    state = proc.initialize()
    init = [a.tolist() for a in state.model.trainable]
    for _ in range(3):
        state, _ = proc.next(state, t.clients())
    from tests import test_federated_compression as c
    start, update, _ = c.restricted_update(t.fl.LowRank(c.RANK), c.momentum_sgd)
    print(json.dumps({"init": init, "final": [a.tolist() for a in state.model.trainable],
                      "restricted_start": [a.tolist() for a in start.model.trainable],
                      "restricted_b": update.delta[0]["values"].tolist()}))
    """
)


def test_jax_backend_matches_the_numpy_reference():
    out = run_script(JAX_SCRIPT, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    start = fl.ServerState(fl.ModelWeights([np.array(a, np.float32) for a in result["init"]],
                                           []), [])
    w, b = reference_rounds(start, clients(), 3, adam_step)
    np.testing.assert_allclose(result["final"][0], w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result["final"][1], b, rtol=1e-4, atol=1e-6)
    # Restricted low-rank training (its projection syncs JAX's training state) equals
    # training B in W0 + A B, here on TensorFlow.
    from tests import test_federated_compression as c

    start = fl.ServerState(fl.ModelWeights(
        [np.array(a, np.float32) for a in result["restricted_start"]], []), [])
    a = fl.LowRank(c.RANK).factor((c.D_IN, c.D_OUT), [0, 0, 0, 0, 0]).astype("float32")
    b, _ = c.explicit_training(start, (c.RANK, c.D_OUT), lambda v: keras.ops.matmul(a, v),
                               c.momentum_sgd)
    np.testing.assert_allclose(np.reshape(result["restricted_b"], b.shape), b, atol=1e-5)


def test_non_iid_split_gives_each_client_its_shards():
    from garden.recipes.procedures.federated_digits import non_iid_split

    y = np.repeat(np.arange(10), 20)
    x = np.arange(200)
    parts = non_iid_split(x, y, clients=10, shards_per_client=2, seed=0)
    assert sorted(np.concatenate([p[0] for p in parts]).tolist()) == list(range(200))
    for px, py in parts:
        assert len(px) == 20 and len(set(py.tolist())) <= 2
        np.testing.assert_array_equal(y[px], py)
