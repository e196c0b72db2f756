"""The Flower app of `garden federated`: FedAvg of a small MLP on scikit-learn's digits, each
SuperNode holding the partition `partition-id` of `num-partitions` (two label-sorted shards
per client, McMahan et al.'s non-IID split).

Node config: `partition-id`, `num-partitions`, and optionally `started-dir` (the client writes
`started-ROUND` there when it begins training, for tests) and `delay` (seconds to sleep before
training). Run config: `num-rounds`, `round-timeout`, `weights-out` (an .npz path for the final
weights, written by the server).
"""

import pathlib
import time

import keras
import numpy as np
from sklearn.datasets import load_digits

from garden.federated import build_weighted_fed_avg, flower


def model_fn():
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu",
                                                                    name="hidden"),
                             keras.layers.Dense(10, name="out")])


def process_fn():
    return build_weighted_fed_avg(
        model_fn, lambda: keras.optimizers.SGD(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"], batch_size=16, seed=0)


def partition(index, count):
    """Client `index` of `count`: two of `2 * count` label-sorted shards of the digits."""
    x, y = load_digits(return_X_y=True)
    order = np.argsort(y, kind="stable")
    shards = np.array_split(order, 2 * count)
    picks = np.random.default_rng(0).permutation(2 * count).reshape(count, 2)[index]
    rows = np.concatenate([shards[s] for s in picks])
    return (x[rows] / 16.0).astype("float32"), y[rows]


def load_data(context):
    config = context.node_config
    index = int(config["partition-id"])
    if config.get("started-dir"):
        stamp = pathlib.Path(str(config["started-dir"])) / f"started-{index}-{time.time_ns()}"
        stamp.write_text("")
    time.sleep(float(config.get("delay", 0.0)))
    return partition(index, int(config["num-partitions"]))


def save_weights(state, history, context):
    path = context.run_config.get("weights-out")
    if path:
        np.savez(path, *state.model.trainable, *state.model.non_trainable,
                 completed=np.array([m["clients_completed"] for m in history]),
                 failed=np.array([m["clients_failed"] for m in history]))


client = flower.client_app(process_fn, load_data)
server = flower.server_app(process_fn, rounds=2, timeout=60.0, on_finish=save_weights)
