"""Generative models export their generator (decoder): the file gives Keras' samples for the
same noise, and the report says what the file holds."""

import numpy as np
import pytest

from garden import export, models


@pytest.mark.parametrize("build", [
    lambda: models.dcgan(latent_dim=8, data_shape=(16, 16, 1), filters=8, blocks=2, seed=0),
    lambda: models.wgan(architecture="mlp", data_shape=(2,), latent_dim=2, units=(16,), seed=0),
    lambda: models.vae(input_shape=(8, 8, 1), latent_dim=2, units=(16,), seed=0),
], ids=["dcgan", "wgan_mlp", "vae"])
def test_generative_model_exports_its_generator(build, tmp_path):
    model = build()
    path = export.tflite(model, tmp_path / "generator.tflite")
    z = model.noise(16, seed=3)
    report = export.verify(model, path, z, latency_runs=1)
    assert report.network == f"the generator of {model.name} (what runs on a device)"
    assert report.kind == "float32" and report.max_abs_diff < 1e-5
    np.testing.assert_allclose(export.run_tflite(path, z), model.generate(z), atol=1e-5)


def test_vae_generator_is_the_decoder_mean(tmp_path):
    vae = models.vae(input_shape=(8, 8, 1), latent_dim=2, units=(16,), seed=0)
    generator = vae.deployable()
    assert generator.count_params() == vae.decoder.count_params()
    z = vae.noise(16, seed=3)
    np.testing.assert_allclose(generator.predict(z, verbose=0), vae.generate(z), rtol=1e-6)


def test_nvae_generator_samples_as_generate(small_model):
    nvae = small_model("nvae")
    eps = nvae.noise(3, seed=1)
    np.testing.assert_allclose(nvae.deployable().predict(eps, verbose=0), nvae.generate(eps),
                               rtol=1e-6, atol=1e-7)
