"""The recipe runner: run directories keyed on the recipe, resume, reuse, interruption, totals,
clean failures, TensorBoard logs, and the builders it shares with the CLI."""

import itertools
import json
import types

import keras
import numpy as np
import pytest

from garden import recipes
from garden.recipes import build, runner


class StopAtEpoch(keras.callbacks.Callback):
    """Simulates Ctrl-C at the start of an epoch."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


@recipes.procedure()
def stringy(run):
    """A procedure breaking the contract: it returns a path."""
    return {"figure": str(run.run_dir / "figure.png")}


@pytest.fixture
def dirs(tmp_path):
    return {"runs_dir": tmp_path / "runs", "export_dir": tmp_path / "saved_models"}


def _interrupt_at(monkeypatch, epoch):
    """The next run's callbacks stop at `epoch`, without changing its recipe."""
    monkeypatch.setattr(build, "build_callbacks", lambda specs, run_dir=None: [StopAtEpoch(epoch)])


def test_interrupted_run_resumes_from_its_last_epoch_and_totals_its_time(
        tiny_recipe, dirs, monkeypatch):
    clock = itertools.count(0.0, 100.0)  # every session measures 100 s
    monkeypatch.setattr(runner, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    recipe = tiny_recipe()
    recipe["train"]["epochs"] = 3
    with monkeypatch.context() as patch:
        _interrupt_at(patch, 2)
        with pytest.raises(recipes.Interrupted,
                           match=r"^\[tiny/default/seed0\] interrupted at epoch 3/3; run the "
                                 "same command to resume$"):
            recipes.train(recipe, **dirs)
    run_dir = dirs["runs_dir"] / "tiny" / "default" / "seed0"
    assert len((run_dir / "history.csv").read_text().splitlines()) == 1 + 2
    assert not (run_dir / "result.json").exists()
    assert json.loads((run_dir / "recipe.json").read_text())["recipe"]["train"]["epochs"] == 3

    summary = recipes.train(recipe, **dirs)
    # Only the third epoch ran again: the log has exactly three epochs.
    assert len((run_dir / "history.csv").read_text().splitlines()) == 1 + 3
    result = summary["results"][0]
    assert result["train_seconds"] == 200.0  # both sessions
    assert 0.0 <= result["test_accuracy"] <= 1.0
    assert result["parameters"] == keras.saving.load_model(run_dir / "model.keras").count_params()
    saved = json.loads((dirs["runs_dir"] / "tiny" / "results.json").read_text())
    assert saved["results"][0]["test_accuracy"] == result["test_accuracy"]
    assert (run_dir / "curve.png").stat().st_size > 0

    # A finished run of the same recipe is reused, not retrained.
    assert recipes.train(recipe, **dirs)["results"][0] == result


def test_a_changed_recipe_never_reuses_a_result_or_loads_a_checkpoint(tiny_recipe, dirs,
                                                                      monkeypatch):
    recipe = tiny_recipe()
    recipe["train"]["epochs"] = 2
    with monkeypatch.context() as patch:
        _interrupt_at(patch, 1)
        with pytest.raises(recipes.Interrupted):
            recipes.train(recipe, **dirs)
    run_dir = dirs["runs_dir"] / "tiny" / "default" / "seed0"
    assert (run_dir / "backup").is_dir()  # a checkpoint of the 16-wide model

    wider = tiny_recipe(model={**recipe["model"], "width": 32}, train=recipe["train"])
    message = (rf"^{run_dir} holds a run of another recipe \(model.width 16 -> 32\): run again "
               r"with --fresh to retrain it$")
    with pytest.raises(ValueError, match=message):
        recipes.train(wider, **dirs)
    result = recipes.train(wider, fresh=True, **dirs)["results"][0]
    assert result["parameters"] == recipes.build_model(wider).count_params()
    assert len((run_dir / "history.csv").read_text().splitlines()) == 1 + 2  # trained anew
    assert json.loads((run_dir / "recipe.json").read_text())["hash"] == recipes.recipe_key(
        recipes.variants(recipes.validate_recipe(wider))[0][1], 0)

    # Editing what does not change the run (the claim, more seeds) keeps the result.
    assert recipes.train({**wider, "claim": "edited"}, **dirs)["results"][0] == result


def test_a_failed_run_leaves_no_empty_folder(tiny_recipe, dirs):
    recipe = tiny_recipe()
    recipe["model"]["width"] = 0  # refused by the builder, after validation
    with pytest.raises(ValueError, match="width"):
        recipes.train(recipe, **dirs)
    assert not (dirs["runs_dir"] / "tiny").exists()


def test_procedures_return_floats_only(tiny_recipe, dirs):
    recipe = tiny_recipe()
    recipe["train"]["procedure"] = "tests.test_recipes_runner:stringy"
    with pytest.raises(ValueError, match="returned .*'figure'.*procedures return floats only"):
        recipes.train(recipe, **dirs)


def test_tensorboard_without_log_dir_logs_into_the_run_directory(tmp_path):
    default, chosen = recipes.build_callbacks(
        [{"class_name": "TensorBoard"},
         {"class_name": "TensorBoard", "config": {"log_dir": str(tmp_path / "elsewhere")}}],
        run_dir=tmp_path)
    assert default.log_dir == str(tmp_path / "tensorboard")
    assert chosen.log_dir == str(tmp_path / "elsewhere")


@pytest.mark.slow  # needs the tensorboard package
def test_tensorboard_recipe_writes_event_files(tiny_recipe, dirs):
    pytest.importorskip("tensorboard")
    recipe = tiny_recipe()
    recipe["train"]["callbacks"] = [{"class_name": "TensorBoard"}]
    recipes.train(recipe, **dirs)
    logs = dirs["runs_dir"] / "tiny" / "default" / "seed0" / "tensorboard"
    assert any(path.name.startswith("events.") for path in logs.rglob("*"))


def test_test_transforms_apply_to_the_test_split_only(tiny_recipe):
    data = tiny_recipe()["data"] | {"batch_size": 400}
    recipe = recipes.validate_recipe(tiny_recipe(
        data=data | {"test_transforms": [{"name": "shuffled_pixels", "seed": 3}]}))
    plain = recipes.validate_recipe(tiny_recipe(data=data))
    (_, test), (_, plain_test) = (recipes.build_data(r, 0) for r in (recipe, plain))
    (x_test, y_test), (x_plain, y_plain) = next(iter(test)), next(iter(plain_test))
    assert (y_test.numpy() == y_plain.numpy()).all()
    assert not (x_test.numpy() == x_plain.numpy()).all()
    # The same pixels, moved: one permutation of positions for every image.
    assert sorted(x_test.numpy()[0].ravel()) == sorted(x_plain.numpy()[0].ravel())


def test_losses_and_metrics_are_looked_up_in_garden_then_keras():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(1, 1)])
    recipes.compile_model(model, {"loss": {"class_name": "FocalLoss", "config": {"gamma": 1.0}}})
    assert type(model.loss).__name__ == "FocalLoss" and model.loss.gamma == 1.0
    recipes.compile_model(model, {"loss": {"class_name": "Huber", "config": {"delta": 2.0}},
                                  "metrics": [{"class_name": "PSNR", "config": {}}, "mae"]})
    assert isinstance(model.loss, keras.losses.Huber)
    x = np.zeros((2, 4, 4, 1), "float32")
    scores = model.evaluate(x, x, return_dict=True, verbose=0)
    assert set(scores) == {"loss", "psnr", "mae"}


def test_summary_gives_mean_and_spread_over_seeds():
    rows = recipes.summarize([
        {"variant": "v", "seed": 0, "test_accuracy": 0.9, "parameters": 10},
        {"variant": "v", "seed": 1, "test_accuracy": 0.8, "parameters": 10},
    ])
    mean, spread = rows[0]["test_accuracy"]
    assert mean == pytest.approx(0.85) and spread == pytest.approx(0.0707107, rel=1e-5)
    assert "| v | 2 | 0.85 ± 0.071 | 10 ± 0 |" in recipes.format_table(rows)


def test_each_variant_is_compared_with_the_first_by_welchs_test():
    from scipy import stats

    runs = {"base": [0.90, 0.92, 0.91], "wide": [0.95, 0.93, 0.97, 0.96]}
    rows = recipes.compare([{"variant": v, "seed": i, "test_accuracy": x}
                            for v, values in runs.items() for i, x in enumerate(values)])
    [(variant, found)] = rows
    reference = stats.ttest_ind(runs["wide"], runs["base"], equal_var=False)
    assert variant == "wide"
    assert found.difference == pytest.approx(np.mean(runs["wide"]) - np.mean(runs["base"]))
    assert found.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    # A difference of exactly `detectable`, with the same spreads, sits at p = 5%.
    shifted = [x - found.difference + found.detectable for x in runs["wide"]]
    assert recipes.welch_test(runs["base"], shifted).p_value == pytest.approx(0.05, rel=1e-9)
    # Recorded summaries (mean, standard deviation, count) give the same test.
    summary = recipes.welch_test((np.mean(runs["base"]), np.std(runs["base"], ddof=1), 3),
                                 (np.mean(runs["wide"]), np.std(runs["wide"], ddof=1), 4))
    assert summary.p_value == pytest.approx(found.p_value)
    assert summary.detectable == pytest.approx(found.detectable)
    line, = recipes.format_comparison(rows, baseline="base")
    assert line.startswith("wide - base, test_accuracy: +0.0425 (Welch p = 0.0098; these seeds ")
    # One seed, or one variant: nothing to compare.
    assert recipes.compare([{"variant": "a", "seed": 0, "test_accuracy": 1.0},
                            {"variant": "b", "seed": 0, "test_accuracy": 0.5}]) == []
    with pytest.raises(ValueError, match="needs 2 or more runs of each"):
        recipes.welch_test([0.9], [0.8, 0.7])


def test_train_prints_the_comparison_and_names_a_metric_no_run_reports(tiny_recipe, dirs):
    recipe = {**tiny_recipe(), "seeds": [0, 1], "compare": "test_acuracy",
              "variants": {"narrow": {}, "wide": {"model": {"width": 32}}}}
    typo = recipes.train(recipe, **dirs)
    assert typo["comparison"] == [
        "compare = 'test_acuracy': no run reports it; the runs report parameters, "
        "test_accuracy, test_loss, train_seconds"]
    # The key reads the results: the runs are reused, and compared on the metric named.
    summary = recipes.train({**recipe, "compare": "test_accuracy"}, **dirs)
    assert summary["results"] == typo["results"]
    assert summary["comparison"] == recipes.format_comparison(
        recipes.compare(typo["results"]), baseline="narrow")


def test_garden_training_is_gone_with_a_pointer():
    with pytest.raises(ImportError, match="garden.training has moved to garden.recipes"):
        import garden.training  # noqa: F401
