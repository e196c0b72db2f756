"""Federated averaging on digits split across clients by class, with or without Konečný et
al.'s compressed updates, against centralised training and each client alone.

Reference:
    McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized Data",
    AISTATS 2017. https://arxiv.org/abs/1602.05629
    Konečný et al., "Federated Learning: Strategies for Improving Communication Efficiency",
    2016. https://arxiv.org/abs/1610.05492
"""

import csv

import numpy as np
from matplotlib.figure import Figure

from garden import federated
from garden.federated import compression as compression_lib
from garden.recipes import build
from garden.recipes.procedures import arrays, procedure, variant_dirs
from garden.recipes.results import read_history
from garden.recipes.runner import fit
from garden.utils import check_choice, check_int
from garden.utils.figures import save_figure


def non_iid_split(x, y, clients, shards_per_client, seed):
    """McMahan et al.'s pathological non-IID split: the examples sorted by label, cut into
    `clients * shards_per_client` equal shards, each client given `shards_per_client` shards at
    random (so it holds about that many classes)."""
    order = np.argsort(y, kind="stable")
    shards = np.array_split(order, clients * shards_per_client)
    picks = np.random.default_rng(seed).permutation(len(shards)).reshape(clients, -1)
    return [(x[np.concatenate([shards[s] for s in row])], y[np.concatenate([shards[s] for s in row])])
            for row in picks]


def _write_history(run_dir, rows):
    with open(run_dir / "history.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@procedure(mode="fedavg", clients=10, shards_per_client=2, client_epochs=1, clients_per_round=0,
           compression=None)
def federated_digits(run):
    """`[train] epochs` rounds of FedAvg over `clients` clients holding `shards_per_client`
    label-sorted shards each (`mode="fedavg"`), the same model trained on the pooled data for as
    many epochs (`"centralised"`), or each client trained alone on its shards and tested on the
    whole test split (`"alone"`).

    Options: `client_epochs` (local epochs per round), `clients_per_round` (0: all),
    `compression` (weight-path patterns to lists of stages, see
    `garden.federated.compression.from_spec`). The recipe's optimizer is the client optimizer;
    the server applies plain FedAvg (SGD, rate 1).

    Returns `test_accuracy`, `best_test_accuracy`, and for FedAvg `uplink_bits_per_round`,
    `uplink_reduction` (full float32 updates' bits over these), and the round at which the test
    accuracy first reaches 0.8 and 0.9 with the uplink bits sent until then (NaN if never); for
    `"alone"` the mean, min and max test accuracy over clients. Writes one history row per
    round and `accuracy.png` comparing the variants.
    """
    options = run.options
    mode = check_choice("mode", options["mode"], ("fedavg", "centralised", "alone"))
    clients = check_int("clients", options["clients"])
    if mode == "centralised":
        result = fit(run)
        _figure(run)
        return result
    x, y = arrays(run.train_data)
    data = non_iid_split(x, y, clients, check_int("shards_per_client",
                                                  options["shards_per_client"]), run.seed)
    train_cfg = run.recipe.get("train", {})
    batch_size = run.recipe["data"].get("batch_size", 32)
    initial = federated.ModelWeights.from_model(run.model)
    if mode == "alone":
        scores = []
        for cx, cy in data:
            initial.assign_weights_to(run.model)
            build.compile_model(run.model, train_cfg)
            run.model.fit(cx, cy, batch_size=batch_size, epochs=run.epochs, verbose=0)
            scores.append(run.model.evaluate(run.test_data, return_dict=True,
                                             verbose=0)["accuracy"])
        return {"test_accuracy": float(np.mean(scores)), "min_test_accuracy": float(min(scores)),
                "max_test_accuracy": float(max(scores))}

    process = federated.build_weighted_fed_avg(
        lambda: build.build_model(run.recipe),
        lambda: build.build_optimizer(train_cfg.get("optimizer", build.DEFAULT_OPTIMIZER)),
        loss=build.build_loss(train_cfg.get("loss", build.DEFAULT_LOSS)),
        metrics=build.build_metrics(train_cfg.get("metrics", build.DEFAULT_METRICS)),
        client_epochs=check_int("client_epochs", options["client_epochs"]),
        batch_size=batch_size, clients_per_round=options["clients_per_round"] or None,
        seed=run.seed, compression=compression_lib.from_spec(options["compression"])
        if options["compression"] else None)
    state = process.set_model_weights(process.initialize(), initial)
    full_bits = 32 * run.model.count_params()
    rows, bits, full = [], 0, 0
    for round_num in range(1, run.epochs + 1):
        state, metrics = process.next(state, data)
        state.model.assign_weights_to(run.model)
        test = run.model.evaluate(run.test_data, return_dict=True, verbose=0)
        bits += metrics["uplink_bits"]
        full += full_bits * metrics["clients_completed"]
        rows.append({"epoch": round_num - 1, "accuracy": metrics["accuracy"],
                     "loss": metrics["loss"], "val_accuracy": test["accuracy"],
                     "val_loss": test["loss"], "uplink_bits": metrics["uplink_bits"]})
        print(f"round {round_num}: train accuracy {metrics['accuracy']:.3f}, "
              f"test accuracy {test['accuracy']:.3f}, uplink {metrics['uplink_bits']:,} bits")
    _write_history(run.run_dir, rows)
    accuracy = np.array([r["val_accuracy"] for r in rows])
    result = {"test_accuracy": float(accuracy[-1]), "best_test_accuracy": float(accuracy.max()),
              "uplink_bits_per_round": bits / run.epochs, "uplink_reduction": full / bits}
    sent = np.cumsum([r["uplink_bits"] for r in rows])
    for target in (80, 90):
        reached = np.flatnonzero(accuracy >= target / 100)
        first = reached[0] if reached.size else None
        result[f"rounds_to_{target}"] = float("nan") if first is None else float(first + 1)
        result[f"uplink_bits_to_{target}"] = float("nan") if first is None else float(sent[first])
    _figure(run)
    return result


def _figure(run):
    recipe_dir, runs = variant_dirs(run)
    figure = Figure(figsize=(6, 4), layout="constrained")
    ax = figure.subplots()
    for index, (variant, directory) in enumerate(runs.items()):
        history = read_history(directory)
        if "val_accuracy" in history:
            rounds = np.arange(1, len(history["val_accuracy"]) + 1)
            ax.plot(rounds, history["val_accuracy"], color=f"C{index}", label=variant)
    ax.set_xlabel("round (epoch for centralised)")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(figure, recipe_dir / "accuracy.png")
