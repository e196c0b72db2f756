"""The generative procedures run end to end on tiny recipes; the bundled generative recipes
reproduce what their README rows record (slow: minutes each)."""

import json

import pytest

from garden import recipes


def by_variant(summary):
    rows = {}
    for result in summary["results"]:
        rows.setdefault(result["variant"], []).append(result)
    return rows


def test_ring_coverage_procedure(tiny_recipe, tmp_path):
    recipe = tiny_recipe(
        model={"name": "wgan", "architecture": "mlp", "data_shape": [2], "latent_dim": 2,
               "units": [8], "n_critic": 2},
        data={"name": "ring_gaussians", "count": 512, "batch_size": 128},
        train={"epochs": 2, "procedure": "garden.recipes.procedures.adversarial:ring_coverage",
               "options": {"samples": 200, "every": 1}},
    )
    (result,) = recipes.train(recipe, runs_dir=tmp_path)["results"]
    assert 0 <= result["modes_covered"] <= 8 and 0 <= result["high_quality"] <= 1
    run_dir = tmp_path / "tiny" / "default" / "seed0"
    assert [e["epoch"] for e in json.loads((run_dir / "coverage.json").read_text())] == [1, 2]
    assert (tmp_path / "tiny" / "ring.png").exists() and (run_dir / "model.keras").exists()


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
def test_ring_gan_coverage(bundled):
    rows = bundled("ring_gan")
    gan, wgan, gp = (rows[v] for v in ("gan", "wgan", "wgan_gp"))
    assert sum(r["modes_covered"] for r in gan) / len(gan) >= 6
    assert any(r["modes_covered_min_late"] < r["modes_covered"] for r in gan)  # mode hopping
    assert max(r["high_quality"] for r in wgan) < 0.05  # the clipped critic: a diffuse cloud
    assert min(r["high_quality"] for r in gan) > max(r["high_quality"] for r in gp)


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
