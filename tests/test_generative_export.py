"""Generators and decoders as float TFLite files give Keras' samples for the same noise."""

import numpy as np
import pytest

from garden import export, models


@pytest.mark.parametrize("build", [
    lambda: models.dcgan(latent_dim=8, data_shape=(16, 16, 1), filters=8, blocks=2, seed=0),
    lambda: models.wgan(architecture="mlp", data_shape=(2,), latent_dim=2, units=(16,), seed=0),
], ids=["dcgan", "wgan_mlp"])
def test_gan_generator_exports_to_tflite(build, tmp_path):
    gan = build()
    path = export.tflite(gan.generator, tmp_path / "generator.tflite")
    z = gan.noise(16, seed=3)
    report = export.verify(gan.generator, path, z)
    assert report.kind == "float32" and report.max_abs_diff < 1e-5


def test_vae_generator_exports_to_tflite_and_samples_as_keras(tmp_path):
    vae = models.vae(input_shape=(8, 8, 1), latent_dim=2, units=(16,), seed=0)
    generator = vae.generator()
    assert generator.count_params() == vae.decoder.count_params()
    z = vae.noise(16, seed=3)
    np.testing.assert_allclose(generator.predict(z, verbose=0), vae.generate(z), rtol=1e-6)
    path = export.tflite(generator, tmp_path / "vae_generator.tflite")
    report = export.verify(generator, path, z)
    assert report.kind == "float32" and report.max_abs_diff < 1e-5
