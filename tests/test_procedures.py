"""`garden lr-find` and the training-method recipe procedures, on a tiny recipe over digits.

The procedures train several small runs each (about 30 seconds): they are in the slow tier.
"""

import json
import math
import types

import numpy as np
import pytest

from garden import cli, training
from garden.tools import procedures

TINY = {
    "name": "tiny",
    "seeds": [0],
    "model": {"name": "selu_mlp", "depth": 2, "width": 16, "input_shape": [8, 8, 1],
              "classes": 10},
    "data": {"name": "digits", "batch_size": 64},
    "train": {"epochs": 2, "optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.01}},
              "metrics": ["accuracy"]},
}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # digits are prepared under ./tfrecords
    return tmp_path


def test_lr_find_command(workdir, capsys):
    recipe = dict(TINY, train=dict(TINY["train"], optimizer={
        "class_name": "SGD",
        "config": {"learning_rate": {"class_name": "CyclicLR",
                                     "config": {"base_lr": 0.01, "max_lr": 0.1, "step_size": 4}}},
    }))
    path = workdir / "tiny.toml"
    path.write_text(_toml(recipe))
    status = cli.main(["lr-find", str(path), "--steps", "40", "--min-lr", "1e-4", "--max-lr", "10"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "tiny/default: " in out and "learning rate 0.0001 to" in out
    lines = dict(line.split(":", 1) for line in out.splitlines()[1:-1])
    assert set(lines) == {"steepest", "minimum_div10", "base_lr", "max_lr"}
    assert float(lines["base_lr"]) <= float(lines["max_lr"])
    assert (workdir / "runs" / "tiny" / "lr_find.png").stat().st_size > 1000

    assert cli.main(["lr-find", str(path), "--variant", "nope"]) == 2
    assert "unknown variant 'nope'" in capsys.readouterr().err


def _toml(recipe):
    """A minimal TOML writer for the nested dicts of these tests."""

    def value(v):
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)

    lines = [f"{k} = {value(v)}" for k, v in recipe.items() if not isinstance(v, dict)]
    for section, table in recipe.items():
        if isinstance(table, dict):
            lines += [f"[{section}]"] + [f"{k} = {value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_procedures_on_a_tiny_recipe(workdir):
    recipe = dict(TINY, variants={
        "curves": {"train": {"procedure": "garden.tools.procedures:learning_curves",
                             "options": {"targets": [0.5, 1.01]}}},
        "imbalance": {
            "data": {"transforms": [{"name": "step_imbalance", "minority_classes": [3, 5],
                                     "ratio": 10}]},
            "train": {"procedure": "garden.tools.procedures:imbalance_metrics"},
        },
        "mc_dropout": {"model": {"name": "dropout_mlp", "width": 32},
                       "train": {"procedure": "garden.tools.procedures:mc_dropout_evaluation",
                                 "options": {"samples": 5}}},
    })
    results = {r["variant"]: r for r in training.train(recipe)["results"]}

    curves = results["curves"]
    history = training.read_history(workdir / "runs" / "tiny" / "curves" / "seed0")
    first = next(i for i, a in enumerate(history["val_accuracy"]) if a >= 0.5) + 1
    assert curves["epochs_to_50"] == first and math.isnan(curves["epochs_to_101"])
    assert curves["best_test_accuracy"] == max(history["val_accuracy"])
    assert (workdir / "runs" / "tiny" / "accuracy.png").exists()

    imbalance = results["imbalance"]
    assert 0.5 <= imbalance["minority_auc"] <= 1 and 0 <= imbalance["minority_recall"] <= 1
    assert 0.5 <= imbalance["macro_auc"] <= 1

    mc = results["mc_dropout"]
    assert 0 < mc["std_right"] and 0 <= mc["mc_accuracy"] <= 1


@pytest.mark.slow
def test_activation_statistics_at_initialization(workdir):
    recipe = dict(TINY, model=dict(TINY["model"], depth=16, width=64, dropout=0.0),
                  train=dict(TINY["train"], epochs=1,
                             procedure="garden.tools.procedures:activation_statistics"))
    result = training.train(recipe)["results"][0]
    # Standardized digits through 16 SELU layers stay near mean 0 and variance 1 at init.
    assert result["init_max_abs_mean"] < 0.15 and result["init_max_variance_error"] < 0.3
    stats = json.loads((workdir / "runs" / "tiny" / "default" / "seed0" /
                        "activation_stats.json").read_text())
    assert len(stats["init"][0]) == len(stats["trained"][1]) == 16
    assert (workdir / "runs" / "tiny" / "activations.png").exists()


def test_procedures_check_their_options_and_needs():
    run = types.SimpleNamespace(recipe={"train": {"options": {"sampels": 3}}, "data": {}})
    with pytest.raises(ValueError, match="options sampels are not allowed.*takes samples"):
        procedures.mc_dropout_evaluation(run)
    run = types.SimpleNamespace(recipe={"train": {}, "data": {"transforms": []}})
    with pytest.raises(ValueError, match="needs a step_imbalance transform"):
        procedures.imbalance_metrics(run)


def test_results_with_nan_are_summarized():
    rows = training.summarize([
        {"variant": "a", "seed": 0, "epochs_to_99": math.nan, "acc": 0.5},
        {"variant": "a", "seed": 1, "epochs_to_99": 4.0, "acc": 0.7},
    ])
    assert math.isnan(rows[0]["epochs_to_99"][0]) and math.isnan(rows[0]["epochs_to_99"][1])
    assert rows[0]["acc"] == pytest.approx((0.6, np.std([0.5, 0.7], ddof=1)))
