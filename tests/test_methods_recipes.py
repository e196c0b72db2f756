"""The training-method recipes reproduce their papers' claims (slow: minutes each)."""

import numpy as np
import pytest

from garden import recipes


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # digits are prepared under ./tfrecords

    def run(name):
        summary = recipes.train(name, runs_dir=tmp_path / "runs")  # a bundled recipe
        rows = {}
        for result in summary["results"]:
            rows.setdefault(result["variant"], []).append(result)
        return rows

    return run


@pytest.mark.slow
def test_rethinking_generalization(results):
    rows = results("rethinking_generalization")
    (true,), (half,), (random,) = rows["true_labels"], rows["random_labels_50"], rows[
        "random_labels_100"]
    assert random["train_accuracy"] >= 0.99 and random["test_accuracy"] <= 0.2
    assert true["train_accuracy"] >= 0.99 and true["test_accuracy"] >= 0.95
    assert half["train_accuracy"] >= 0.95 and 0.3 < half["test_accuracy"] < 0.9
    for corruption in ("shuffled_pixels", "random_pixels", "gaussian"):
        assert rows[corruption][0]["train_accuracy"] >= 0.99


@pytest.mark.slow
def test_selu_activations_stay_normalized(results):
    rows = results("selu_activations")
    (selu,), (relu_he,), (relu_lecun,) = rows["selu"], rows["relu_he_normal"], rows[
        "relu_lecun_normal"]
    assert selu["init_max_abs_mean"] < 0.1 and selu["init_max_variance_error"] < 0.25
    assert relu_he["init_max_abs_mean"] > 0.3
    assert relu_lecun["init_last_variance"] < 1e-6
    assert selu["test_accuracy"] > max(relu_he["test_accuracy"], relu_lecun["test_accuracy"])


@pytest.mark.slow
def test_mc_dropout_is_less_certain_where_it_is_wrong(results):
    rows = results("dropout_digits")
    for run in rows["dropout_max_norm"]:
        assert run["std_wrong"] > 1.5 * run["std_right"]


@pytest.mark.slow
def test_large_minibatch_warmup_short(tmp_path, monkeypatch):
    """The bundled recipe's batch-1024 variants for 6 of its 12 epochs, one seed (about 3
    minutes): without warmup the scaled rate 3.2 leaves the training error high, constant warmup
    trains at 0.1 and then breaks down when the rate jumps to 3.2 after epoch 5, gradual warmup
    trains through the ramp."""
    monkeypatch.chdir(tmp_path)  # digits are prepared under ./tfrecords
    recipe = recipes.load_recipe("large_minibatch_warmup_digits")
    recipe["seeds"] = [0]
    recipe["train"]["epochs"] = 6
    del recipe["variants"]["batch_32"]
    recipes.train(recipe, runs_dir=tmp_path / "runs")
    error = {variant: 1 - np.array(recipes.read_history(
        tmp_path / "runs" / recipe["name"] / variant / "seed0")["accuracy"])
        for variant in recipe["variants"]}
    no_warmup, constant, gradual = (error[f"batch_1024_{v}"]
                                    for v in ("no_warmup", "constant_warmup", "gradual_warmup"))
    assert gradual[2] < no_warmup[2] / 2 and no_warmup[-1] > 0.2
    assert constant[4] < 0.05 and constant[5] > 0.5
    assert gradual[-1] < 0.05
    assert (tmp_path / "runs" / recipe["name"] / "accuracy.png").exists()


def test_large_minibatch_warmup_rates_and_steps_follow_the_paper():
    """large_minibatch_warmup_digits' optimizers, from its own data: batch 1024 runs at
    linear_scaling(0.1, 1024, 32) (Goyal et al.'s rule), warmup lasts 5 epochs from the small
    batch's rate, and the rate drops tenfold at epochs 8 and 11 at either batch size."""
    import math

    from garden.schedules import linear_scaling

    by_name = dict(recipes.variants(recipes.load_recipe("large_minibatch_warmup_digits")))
    (copies,) = [t["copies"] for t in by_name["batch_32"]["data"]["transforms"]
                 if t["name"] == "augmented_copies"]
    examples = 1437 * copies  # the digits' training split, enlarged

    def schedule(variant):
        rate = by_name[variant]["train"]["optimizer"]["config"]["learning_rate"]
        steps = math.ceil(examples / by_name[variant]["data"]["batch_size"])
        return rate, steps

    def decays(config, boundaries, values):
        return config["boundaries"] == boundaries and config["values"] == pytest.approx(values)

    rate, steps = schedule("batch_32")
    assert decays(rate["config"], [8 * steps, 11 * steps], [0.1, 0.01, 0.001])
    scaled = linear_scaling(0.1, 1024, 32)
    rate, steps = schedule("batch_1024_no_warmup")
    assert steps == 23
    assert decays(rate["config"], [8 * steps, 11 * steps], [scaled, scaled / 10, scaled / 100])
    rate, _ = schedule("batch_1024_gradual_warmup")
    assert rate["config"]["warmup_steps"] == 5 * steps and rate["config"]["initial_lr"] == 0.1
    assert decays(rate["config"]["schedule"]["config"], [8 * steps, 11 * steps],
                  [scaled, scaled / 10, scaled / 100])
    rate, _ = schedule("batch_1024_constant_warmup")
    assert decays(rate["config"], [5 * steps, 8 * steps, 11 * steps],
                  [0.1, scaled, scaled / 10, scaled / 100])
