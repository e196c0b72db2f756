"""The recipe runner: variants, seeds, resuming an interrupted run, reusing finished runs."""

import json

import keras
import pytest

from garden import callbacks as garden_callbacks
from garden import training

RECIPE = {
    "name": "tiny",
    "claim": "runner test",
    "model": {"name": "mobilenet_v1", "alpha": 0.25, "input_shape": [32, 32, 1], "classes": 10},
    "data": {"name": "digits", "image_size": [32, 32], "channels": 1, "batch_size": 64},
    "train": {
        "epochs": 2,
        "optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.003}},
        "loss": "sparse_categorical_crossentropy",
        "metrics": ["accuracy"],
    },
}


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # digits are prepared under ./tfrecords
    return {"runs_dir": tmp_path / "runs", "export_dir": tmp_path / "saved_models"}


def test_variants_merge_tables_and_replace_values():
    recipe = training.validate_recipe({
        **RECIPE,
        "variants": {"a": {"train": {"epochs": 5}}, "b": {"model": {"alpha": 0.5}}},
    })
    (a_name, a), (b_name, b) = training.variants(recipe)
    assert (a_name, b_name) == ("a", "b")
    assert a["train"]["epochs"] == 5 and a["train"]["loss"] == RECIPE["train"]["loss"]
    assert b["model"] == {**RECIPE["model"], "alpha": 0.5}
    assert training.variants(training.validate_recipe(dict(RECIPE)))[0][0] == "default"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"epochz": 3}, "unknown key\\(s\\) epochz"),
        ({"model": {"name": "mobilenet_v9"}}, "Unknown model 'mobilenet_v9'"),
        ({"train": {"epoch": 3}}, "unknown \\[train\\] key\\(s\\) epoch"),
        ({"export": {"formats": ["int4"]}}, "unknown export format\\(s\\) int4"),
        ({"data": None}, "'data' must be a dict"),
    ],
)
def test_bad_recipes_are_named(change, message):
    with pytest.raises(ValueError, match=message):
        training.validate_recipe({**RECIPE, **change})


def test_toml_recipe_file(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text('[model]\nname = "mobilenet_v1"\n[data]\nname = "digits"\n')
    recipe = training.load_recipe(path)
    assert recipe["name"] == "exp" and recipe["seeds"] == [0]
    path.write_text("[model\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        training.load_recipe(path)


def test_optimizer_with_a_schedule_table():
    optimizer = training.build_optimizer({
        "class_name": "SGD",
        "config": {"momentum": 0.9, "learning_rate": {
            "class_name": "CosineDecay",
            "config": {"initial_learning_rate": 0.1, "decay_steps": 10}}},
    })
    assert optimizer.momentum == 0.9
    schedule = optimizer._learning_rate  # Keras keeps the schedule object here
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert float(schedule(5)) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="unknown class_name 'Cosine'"):
        training.build_optimizer({"class_name": "SGD", "config": {
            "learning_rate": {"class_name": "Cosine", "config": {}}}})


def test_losses_are_looked_up_in_garden_then_keras():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    training.compile_model(model, {"loss": {"class_name": "FocalLoss", "config": {"gamma": 1.0}}})
    assert type(model.loss).__name__ == "FocalLoss" and model.loss.gamma == 1.0
    training.compile_model(model, {"loss": {"class_name": "Huber", "config": {"delta": 2.0}}})
    assert isinstance(model.loss, keras.losses.Huber)


def test_test_transforms_apply_to_the_test_split_only(dirs):
    recipe = training.validate_recipe({**RECIPE, "data": {
        "name": "digits", "batch_size": 400,
        "test_transforms": [{"name": "shuffled_pixels", "seed": 3}]}})
    plain = training.validate_recipe({**RECIPE, "data": {"name": "digits", "batch_size": 400}})
    (_, test), (_, plain_test) = (training.build_data(r, 0) for r in (recipe, plain))
    (x_test, y_test), (x_plain, y_plain) = next(iter(test)), next(iter(plain_test))
    assert (y_test.numpy() == y_plain.numpy()).all()
    assert not (x_test.numpy() == x_plain.numpy()).all()
    # The same pixels, moved: one permutation of positions for every image.
    assert sorted(x_test.numpy()[0].ravel()) == sorted(x_plain.numpy()[0].ravel())


def test_summary_gives_mean_and_spread_over_seeds():
    rows = training.summarize([
        {"variant": "v", "seed": 0, "test_accuracy": 0.9, "parameters": 10},
        {"variant": "v", "seed": 1, "test_accuracy": 0.8, "parameters": 10},
    ])
    mean, spread = rows[0]["test_accuracy"]
    assert mean == pytest.approx(0.85) and spread == pytest.approx(0.0707107, rel=1e-5)
    assert "| v | 2 | 0.85 ± 0.071 | 10 ± 0 |" in training.format_table(rows)


class StopAtEpoch(keras.callbacks.Callback):
    """Simulates a crash at the start of an epoch."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"stopped at epoch {epoch}")


def test_interrupted_run_resumes_from_its_last_epoch(dirs, monkeypatch):
    monkeypatch.setattr(garden_callbacks, "StopAtEpoch", StopAtEpoch, raising=False)
    crashing = {**RECIPE, "train": {**RECIPE["train"], "epochs": 3,
                                    "callbacks": [{"class_name": "StopAtEpoch",
                                                   "config": {"epoch": 2}}]}}
    with pytest.raises(KeyboardInterrupt):
        training.train(crashing, **dirs)
    run_dir = dirs["runs_dir"] / "tiny" / "default" / "seed0"
    assert len((run_dir / "history.csv").read_text().splitlines()) == 1 + 2
    assert not (run_dir / "result.json").exists()

    resumed = {**RECIPE, "train": {**RECIPE["train"], "epochs": 3}}
    summary = training.train(resumed, **dirs)
    # Only the third epoch ran again: the log has exactly three epochs.
    assert len((run_dir / "history.csv").read_text().splitlines()) == 1 + 3
    result = summary["results"][0]
    assert 0.0 <= result["test_accuracy"] <= 1.0
    assert result["parameters"] == keras.saving.load_model(run_dir / "model.keras").count_params()
    saved = json.loads((dirs["runs_dir"] / "tiny" / "results.json").read_text())
    assert saved["results"][0]["test_accuracy"] == result["test_accuracy"]
    assert (run_dir / "curve.png").stat().st_size > 0

    # A finished run is reused, not retrained.
    assert training.train(resumed, **dirs)["results"][0] == result
