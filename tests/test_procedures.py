"""`garden lr-find` and the recipe procedures of garden.recipes.procedures, on tiny recipes over
the prepared 8x8 digits.

The procedures train several small runs each: most are in the slow tier.
"""

import json
import math
import re

import keras
import numpy as np
import pytest

from garden import cli, recipes
from garden.recipes.procedures.dense_sparse_dense import dsd_procedure


@pytest.fixture
def dirs(tmp_path):
    return {"runs_dir": tmp_path / "runs", "export_dir": tmp_path / "saved_models"}


def test_lr_find_command(tiny_recipe, recipe_toml, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recipe = tiny_recipe()
    recipe["train"]["optimizer"] = {
        "class_name": "SGD",
        "config": {"learning_rate": {"class_name": "CyclicLR",
                                     "config": {"base_lr": 0.01, "max_lr": 0.1, "step_size": 4}}},
    }
    (tmp_path / "tiny.toml").write_text(recipe_toml(recipe))
    status = cli.main(["lr-find", "tiny.toml", "--steps", "40", "--min-lr", "1e-4",
                       "--max-lr", "10"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "tiny/default: " in out and "learning rate 0.0001 to" in out
    # The sweep's progress bar shares stdout; the suggestions are the "name: rate" lines.
    lines = dict(re.fullmatch(r"(\w+):\s+(\S+)", line).groups() for line in out.splitlines()
                 if re.fullmatch(r"\w+:\s+[-+.\de]+", line))
    assert set(lines) == {"steepest", "minimum_div10", "base_lr", "max_lr"}
    assert float(lines["base_lr"]) <= float(lines["max_lr"])
    assert (tmp_path / "runs" / "tiny" / "lr_find.png").stat().st_size > 1000

    assert cli.main(["lr-find", "tiny.toml", "--variant", "nope"]) == 2
    assert "unknown variant 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_procedures_on_a_tiny_recipe(tiny_recipe, dirs):
    procedures = "garden.recipes.procedures"
    recipe = tiny_recipe(variants={
        "curves": {"train": {"epochs": 2, "procedure": f"{procedures}.curves:learning_curves",
                             "options": {"targets": [0.5, 1.01]}}},
        "imbalance": {
            "data": {"transforms": [{"name": "step_imbalance", "minority_classes": [3, 5],
                                     "ratio": 10}]},
            "train": {"procedure": f"{procedures}.class_imbalance:imbalance_metrics"},
        },
        "mc_dropout": {"model": {"name": "dropout_mlp", "width": 32},
                       "train": {"procedure": f"{procedures}.dropout:mc_dropout_evaluation",
                                 "options": {"samples": 5}}},
    })
    results = {r["variant"]: r for r in recipes.train(recipe, **dirs)["results"]}

    curves = results["curves"]
    history = recipes.read_history(dirs["runs_dir"] / "tiny" / "curves" / "seed0")
    first = next(i for i, a in enumerate(history["val_accuracy"]) if a >= 0.5) + 1
    assert curves["epochs_to_50"] == first and math.isnan(curves["epochs_to_101"])
    assert curves["best_test_accuracy"] == max(history["val_accuracy"])
    assert (dirs["runs_dir"] / "tiny" / "accuracy.png").exists()

    imbalance = results["imbalance"]
    assert 0.5 <= imbalance["minority_auc"] <= 1 and 0 <= imbalance["minority_recall"] <= 1
    assert 0.5 <= imbalance["macro_auc"] <= 1

    mc = results["mc_dropout"]
    assert 0 < mc["std_right"] and 0 <= mc["mc_accuracy"] <= 1


@pytest.mark.slow
def test_activation_statistics_at_initialization(tiny_recipe, dirs):
    recipe = tiny_recipe(model={**tiny_recipe()["model"], "depth": 16, "width": 64,
                                "dropout": 0.0})
    recipe["train"]["procedure"] = "garden.recipes.procedures.selu:activation_statistics"
    result = recipes.train(recipe, **dirs)["results"][0]
    # Standardized digits through 16 SELU layers stay near mean 0 and variance 1 at init.
    assert result["init_max_abs_mean"] < 0.15 and result["init_max_variance_error"] < 0.3
    stats = json.loads((dirs["runs_dir"] / "tiny" / "default" / "seed0" /
                        "activation_stats.json").read_text())
    assert len(stats["init"][0]) == len(stats["trained"][1]) == 16
    assert (dirs["runs_dir"] / "tiny" / "activations.png").exists()


def test_imbalance_metrics_needs_a_step_imbalance_transform():
    from garden.recipes.procedures.class_imbalance import minority_classes

    with pytest.raises(ValueError, match="needs a step_imbalance transform"):
        minority_classes({"data": {"transforms": []}})
    assert minority_classes({"data": {"transforms": [
        {"name": "step_imbalance", "minority_classes": [3, 5], "ratio": 10}]}}) == [3, 5]


@pytest.mark.slow  # trains through the recipe runner
def test_learning_curve_procedure(tiny_recipe, dirs):
    recipe = tiny_recipe()
    recipe["data"]["batch_size"] = 16
    recipe["train"] |= {"procedure": "garden.recipes.procedures.data_scaling:"
                                     "learning_curve_procedure",
                        "options": {"sizes": [20, 40], "steps": 3}}
    result = recipes.train(recipe, **dirs)["results"][0]
    assert {"slope_per_decade", "intercept", "test_accuracy_20", "test_accuracy_40"} <= set(result)
    run_dir = dirs["runs_dir"] / "tiny" / "default" / "seed0"
    saved = json.loads((run_dir / "learning_curve.json").read_text())
    assert saved["sizes"] == [20, 40]
    assert saved["slope"] == pytest.approx(result["slope_per_decade"])
    assert (run_dir / "learning_curve.png").is_file()


@pytest.mark.slow  # trains through the recipe runner
def test_loss_landscape_procedure_trains_then_measures_the_surface(tiny_recipe, dirs):
    recipe = tiny_recipe()
    recipe["train"] |= {"procedure": "garden.recipes.procedures.loss_landscape:surface_procedure",
                        "options": {"steps": 3, "examples": 40, "radius": 0.5}}
    result = recipes.train(recipe, **dirs)["results"][0]
    run_dir = dirs["runs_dir"] / "tiny" / "default" / "seed0"
    grid = np.load(run_dir / "surface.npz")
    assert grid["losses"].shape == (3, 3)
    assert result["surface_centre_loss"] == pytest.approx(grid["losses"][1, 1])
    assert {"test_accuracy", "surface_loss_at_radius", "surface_nonconvex_fraction"} <= set(result)
    assert (run_dir / "contour.png").is_file() and (run_dir / "surface.png").is_file()


def test_dsd_procedure(tmp_path):
    rng = np.random.default_rng(1)
    data = (rng.random((32, 12)).astype("float32"), rng.integers(0, 3, 32))
    keras.utils.set_random_seed(8)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    train = {"epochs": 3, "procedure": "garden.recipes.procedures.dense_sparse_dense:dsd_procedure"}
    run = recipes.Run(
        recipe={"train": train}, variant="dsd", seed=0, model=model, train_data=data,
        test_data=data, run_dir=tmp_path,
        callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))],
        options=recipes.procedure_options(train),
    )
    scores = dsd_procedure(run)
    assert set(scores) == {f"{phase}_test_{metric}" for phase in ("dense", "sparse", "redense")
                           for metric in ("loss", "accuracy")} | {
        "test_loss", "test_accuracy", "sparse_phase_sparsity"}
    assert scores["sparse_phase_sparsity"] == 0.5
    assert scores["test_loss"] == scores["redense_test_loss"]
    assert (tmp_path / "dsd.png").exists()

    # `[train] options` reach dsd: sparsity 0 is the dense baseline.
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    run.options = recipes.procedure_options({**train, "options": {"sparsity": 0.0}})
    assert dsd_procedure(run)["sparse_phase_sparsity"] == 0.0


def test_results_with_nan_are_summarized():
    rows = recipes.summarize([
        {"variant": "a", "seed": 0, "epochs_to_99": math.nan, "acc": 0.5},
        {"variant": "a", "seed": 1, "epochs_to_99": 4.0, "acc": 0.7},
    ])
    assert math.isnan(rows[0]["epochs_to_99"][0]) and math.isnan(rows[0]["epochs_to_99"][1])
    assert rows[0]["acc"] == pytest.approx((0.6, np.std([0.5, 0.7], ddof=1)))
