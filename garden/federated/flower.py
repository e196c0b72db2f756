"""Federated averaging on Flower (`flwr`, the optional extra `garden[federated]`): a
`ClientApp` and a `ServerApp` on Flower's Message API, built from the same `WeightedFedAvg`
as the in-process version, so the same clients and seeds give the same weights.

Each round the server sends the global weights and the round number in a "train" message to the
nodes of the sampled clients; a client trains with `WeightedFedAvg.client_update` and replies
with its (possibly compressed) delta, its non-trainable weights and its metrics; the server
aggregates the replies with `WeightedFedAvg.aggregate`. A client is identified by its
partition id (`--node-config "partition-id=K"`; in simulation Flower sets it). A node that
replies with an error, or not within `timeout` seconds, is left out of the round.

Reference:
    Beutel et al., "Flower: A Friendly Federated Learning Framework", 2020.
    https://arxiv.org/abs/2007.14390
"""

import time

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import ServerApp

from garden.federated.averaging import ClientUpdate, ModelWeights, ServerState


def _arrays(prefix, arrays):
    out = {}
    for index, item in enumerate(arrays):
        if isinstance(item, dict):  # a compressed payload
            out.update({f"{prefix}/{index}/{k}": Array(np.asarray(v)) for k, v in item.items()})
        else:
            out[f"{prefix}/{index}"] = Array(np.asarray(item))
    return out


def _unarrays(record, prefix):
    items = {}
    for key in record.keys():
        parts = key.split("/")
        if parts[0] != prefix:
            continue
        value = record[key].numpy()
        if len(parts) == 2:
            items[int(parts[1])] = value
        else:
            items.setdefault(int(parts[1]), {})[parts[2]] = value
    return [items[i] for i in range(len(items))]


def encode_weights(weights):
    """`ModelWeights` as an `ArrayRecord` ("trainable/I", "non_trainable/I")."""
    return ArrayRecord({**_arrays("trainable", weights.trainable),
                        **_arrays("non_trainable", weights.non_trainable)})


def decode_weights(record):
    """`ModelWeights` from `encode_weights`' record."""
    return ModelWeights(_unarrays(record, "trainable"), _unarrays(record, "non_trainable"))


def encode_update(update):
    """A `ClientUpdate` as a `RecordDict` of arrays and metrics."""
    return RecordDict({
        "update": ArrayRecord({**_arrays("delta", update.delta),
                               **_arrays("non_trainable", update.non_trainable)}),
        "metrics": MetricRecord({**update.metrics, "client": update.client,
                                 "num_examples": update.num_examples,
                                 "uplink_bits": update.uplink_bits}),
    })


def decode_update(content):
    """A `ClientUpdate` from `encode_update`'s record."""
    metrics = dict(content["metrics"])
    client, num_examples = int(metrics.pop("client")), int(metrics.pop("num_examples"))
    bits = int(metrics.pop("uplink_bits"))
    record = content["update"]
    return ClientUpdate(client, _unarrays(record, "delta"), _unarrays(record, "non_trainable"),
                        num_examples, {k: float(v) for k, v in metrics.items()}, bits)


def client_app(process_fn, load_data):
    """A Flower `ClientApp` training with a `WeightedFedAvg`.

    Args:
        process_fn: function returning the `WeightedFedAvg` (built as on the server).
        load_data: function from a Flower `Context` to the client's data (`(x, y)` or a
            dataset); the client's index is the node config's "partition-id".
    """
    app = ClientApp()
    cache = {}

    def process():
        if "process" not in cache:
            cache["process"] = process_fn()
        return cache["process"]

    @app.query()
    def query(message, context):
        client = int(context.node_config["partition-id"])
        return Message(RecordDict({"metrics": MetricRecord({"client": client})}),
                       reply_to=message)

    @app.train()
    def train(message, context):
        client, data = int(context.node_config["partition-id"]), load_data(context)
        config = message.content["config"]
        state = ServerState(decode_weights(message.content["weights"]), [], int(config["round"]))
        return Message(encode_update(process().client_update(state, client, data)),
                       reply_to=message)

    return app


def _send(grid, nodes, message_type, content, timeout):
    messages = [Message(content, dst_node_id=node, message_type=message_type) for node in nodes]
    return {reply.metadata.src_node_id: reply
            for reply in grid.send_and_receive(messages, timeout=timeout)}


def run_rounds(process, grid, rounds, state=None, timeout=None, on_round=None):
    """`rounds` rounds of `process` over the nodes of a Flower `Grid`; returns
    `(state, [metrics per round])`.

    Args:
        process: the `WeightedFedAvg`.
        grid: a Flower `Grid` (from `ServerApp`'s main).
        rounds: int. Rounds to run.
        state: `ServerState` to start from. Defaults to `process.initialize()`.
        timeout: seconds to wait for the replies of a round; None waits for all.
        on_round: function `(state, metrics)` called after each round.
    """
    state = process.initialize() if state is None else state
    history = []
    for _ in range(rounds):
        node_ids = sorted(grid.get_node_ids())
        replies = _send(grid, node_ids, "query", RecordDict(), timeout)
        nodes = {int(r.content["metrics"]["client"]): node for node, r in replies.items()
                 if not r.has_error()}
        population = sorted(nodes)
        sampled = [population[i] for i in process.sample_clients(state.round_num,
                                                                 len(population))]
        content = RecordDict({"weights": encode_weights(state.model),
                              "config": ConfigRecord({"round": state.round_num})})
        replies = _send(grid, [nodes[c] for c in sampled], "train", content, timeout)
        updates, failed = [], {}
        for client in sampled:
            reply = replies.get(nodes[client])
            if reply is None:
                failed[client] = "no reply"
            elif reply.has_error():
                failed[client] = reply.error.reason
            else:
                updates.append(decode_update(reply.content))
        state, metrics = process.aggregate(state, updates, len(sampled), failed)
        history.append(metrics)
        if on_round is not None:
            on_round(state, metrics)
    return state, history


def server_app(process_fn, rounds, timeout=None, on_finish=None):
    """A Flower `ServerApp` running `rounds` rounds of `run_rounds`.

    Args:
        process_fn: function returning the `WeightedFedAvg`.
        rounds: int. Rounds to run (the run config's "num-rounds" overrides it).
        timeout: seconds per round's replies (the run config's "round-timeout" overrides it).
        on_finish: function `(state, history, context)` called at the end (e.g. to save the
            weights).
    """
    app = ServerApp()

    @app.main()
    def main(grid, context):
        config = context.run_config
        start = time.perf_counter()
        state, history = run_rounds(process_fn(), grid, int(config.get("num-rounds", rounds)),
                                    timeout=config.get("round-timeout", timeout))
        if on_finish is not None:
            on_finish(state, history, context)
        print(f"garden.federated: {len(history)} rounds in {time.perf_counter() - start:.1f} s")

    return app
