"""The generative procedures run end to end on tiny recipes; the bundled generative recipes
reproduce what their README rows record (slow: minutes each)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from garden import models, recipes
from garden.data import ring


def by_variant(summary):
    rows = {}
    for result in summary["results"]:
        rows.setdefault(result["variant"], []).append(result)
    return rows


def fused_and_single_step_weights(steps=3, batch=16):
    """`(fused, single, initial)`: the weights of two identical tiny WGAN-GPs (2 critic updates
    per generator update) after `steps` updates on the same batches, by `fused_steps` in one
    call and by Keras' `train_on_batch` once per batch, run eagerly; and their initial weights."""
    from garden.recipes.procedures.adversarial import fused_steps

    points = ring.sample_ring(steps * batch)[0]
    trained = []
    for fused in (True, False):
        keras.utils.set_random_seed(0)
        gan = models.wgan(architecture="mlp", data_shape=(2,), latent_dim=2, units=(8, 8),
                          n_critic=2, gradient_penalty=10.0, seed=0)
        # SGD: Adam's first steps are +-lr for any gradient, so rounding near 0 would flip them.
        gan.compile(generator_optimizer="sgd", discriminator_optimizer="sgd",
                    run_eagerly=not fused)
        initial = [np.asarray(w) for w in gan.weights]
        if fused:
            fused_steps(gan, steps)(points.reshape(steps, batch, 2))
        else:
            for batch_points in np.split(points, steps):
                gan.train_on_batch(batch_points)
        trained.append([np.asarray(w) for w in gan.weights])
    return (*trained, initial)


def rounding_over_change(fused, single, initial):
    """The largest fused-vs-single difference of any weight, over how far training moved that
    weight. float32 rounding of the graph against eager code, amplified over the steps, stays
    below 0.03 (4e-7 typically); a missed or repeated update moves a weight by a sizeable part of
    its change. An absolute tolerance failed on another CPU's kernels."""
    return max(float(np.abs(a - b).max() / np.abs(b - i).max())
               for a, b, i in zip(fused, single, initial))


def test_fused_steps_equal_single_steps():
    fused, single, initial = fused_and_single_step_weights()
    assert len(fused) == len(single)
    assert rounding_over_change(fused, single, initial) < 0.05


@pytest.mark.slow
def test_fused_steps_equal_single_steps_on_jax():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = ("from tests.test_generative_recipes import *; "
              "print(rounding_over_change(*fused_and_single_step_weights()))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu",
                                   PYTHONPATH=root), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert float(done.stdout.split()[-1]) < 0.05


def test_ring_coverage_procedure(tiny_recipe, tmp_path):
    recipe = tiny_recipe(
        model={"name": "wgan", "architecture": "mlp", "data_shape": [2], "latent_dim": 2,
               "units": [8], "n_critic": 2},
        data={"name": "ring_gaussians", "count": 512, "batch_size": 32},
        train={"procedure": "garden.recipes.procedures.adversarial:ring_coverage",
               "options": {"samples": 200, "updates": 8, "every": 4, "steps_per_call": 2}},
    )
    (result,) = recipes.train(recipe, runs_dir=tmp_path)["results"]
    assert 0 <= result["modes_covered"] <= 8 and 0 <= result["high_quality"] <= 1
    run_dir = tmp_path / "tiny" / "default" / "seed0"
    log = json.loads((run_dir / "coverage.json").read_text())
    assert [e["update"] for e in log] == [4, 8]
    assert all(np.isfinite(e["wasserstein"]) for e in log)
    assert (tmp_path / "tiny" / "ring.png").exists() and (run_dir / "model.keras").exists()
    recipe["train"]["options"]["every"] = 3
    with pytest.raises(ValueError, match="every=3"):
        recipes.train(recipe, runs_dir=tmp_path / "bad")


def test_dcgan_kid_procedure_exports_the_generator(tiny_recipe, tmp_path):
    recipe = tiny_recipe(
        model={"name": "dcgan", "latent_dim": 4, "data_shape": [8, 8, 1], "filters": 4,
               "blocks": 1},
        train={"epochs": 1, "procedure": "garden.recipes.procedures.adversarial:dcgan_kid",
               "options": {"samples": 50, "classifier_epochs": 1, "export_tflite": True}},
    )
    (result,) = recipes.train(recipe, runs_dir=tmp_path)["results"]
    assert result["kid_init"] > 0 and result["tflite_max_abs_diff"] < 1e-4
    samples = tmp_path / "tiny" / "default" / "seed0" / "samples"
    assert sorted(p.name for p in samples.iterdir()) == ["epoch_000.png", "epoch_001.png",
                                                         "samples.gif"]


def test_vae_evaluation_procedure(tiny_recipe, tmp_path):
    recipe = tiny_recipe(
        model={"name": "vae", "input_shape": [8, 8, 1], "latent_dim": 2, "units": [16]},
        train={"epochs": 1, "procedure": "garden.recipes.procedures.variational:vae_evaluation",
               "options": {"nll_samples": 5, "elbo_samples": 2}},
    )
    (result,) = recipes.train(recipe, runs_dir=tmp_path)["results"]
    assert result["test_nll"] < -result["test_elbo"] + 1 and result["test_kl"] >= 0
    assert (tmp_path / "tiny" / "default" / "seed0" / "latent.png").exists()


def test_a_gan_takes_no_recipe_loss_but_takes_its_optimizer(tiny_recipe, tmp_path):
    from garden.recipes import build

    recipe = tiny_recipe(model={"name": "dcgan", "latent_dim": 4, "data_shape": [8, 8, 1],
                                "filters": 4, "blocks": 1})
    model = build.build_model(recipe)
    build.compile_model(model, {"optimizer": {"class_name": "SGD",
                                              "config": {"learning_rate": 0.5}}})
    assert [type(o).__name__ for o in (model.generator_optimizer,
                                       model.discriminator_optimizer)] == ["SGD", "SGD"]
    assert model.generator_optimizer is not model.discriminator_optimizer
    build.compile_model(model, {})
    assert float(model.generator_optimizer.learning_rate) == pytest.approx(2e-4)


@pytest.fixture
def bundled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # digits are prepared under ./tfrecords
    return lambda name: by_variant(recipes.train(name, runs_dir=tmp_path / "runs"))


@pytest.mark.slow
def test_dcgan_digits_kid_falls_tenfold(bundled):
    (run,) = bundled("dcgan_digits")["default"]
    assert run["kid_end"] < run["kid_init"] / 10 and run["tflite_max_abs_diff"] < 1e-4


@pytest.mark.slow
def test_ring_gan_short(tmp_path):
    """The bundled recipe for 3,000 of its 100,000 updates, one seed: the standard GAN already
    puts most samples on modes at some check, the clipped WGAN critic leaves a diffuse cloud."""
    recipe = recipes.load_recipe("ring_gan")
    recipe["seeds"] = [0]
    recipe["train"]["options"].update(updates=3000, every=500)
    rows = by_variant(recipes.train(recipe, runs_dir=tmp_path))
    logs = {variant: json.loads((tmp_path / "ring_gan" / variant / "seed0" / "coverage.json")
                                .read_text()) for variant in rows}
    assert {v: [e["update"] for e in log] for v, log in logs.items()} == {
        v: [500, 1000, 1500, 2000, 2500, 3000] for v in ("gan", "wgan", "wgan_gp")}
    assert max(e["high_quality"] for e in logs["gan"]) > 0.5
    assert max(e["high_quality"] for e in logs["wgan"]) < 0.05
    assert all(row["ms_per_update"] > 0 for (row,) in rows.values())
    assert (tmp_path / "ring_gan" / "ring.png").exists()


@pytest.mark.slow
def test_vae_digits_bounds(bundled):
    rows = bundled("vae_digits")
    (two,), (twenty,) = rows["latent_2"], rows["latent_20"]
    for run in (two, twenty):
        assert run["test_nll"] < -run["test_elbo"]
    assert twenty["test_elbo"] > two["test_elbo"] + 50


@pytest.mark.slow
def test_nvae_digits_beats_the_flat_vae(bundled):
    rows = bundled("nvae_digits")
    (nvae,), (vae,) = rows["nvae"], rows["vae"]
    assert nvae["test_elbo"] > vae["test_elbo"] and nvae["test_nll"] < vae["test_nll"]
