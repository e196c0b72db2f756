"""The small NVAE: its cells and hierarchy as the paper's, the residual normal's KL against the
KL of the two Gaussians, KL warm-up, the bounds in nats, training and the `.keras` round trip
(the registry's harness runs its forward, fit step and JAX checks)."""

import keras
import numpy as np
import pytest

from garden import models
from garden.models.nvae import kl_balancing_coefficients, residual_normal_kl

SMALL = dict(input_shape=(8, 8, 1), channels=8, latent_channels=2, groups=(1, 2), seed=0)


def binary_images(count=32, seed=0):
    return (np.random.default_rng(seed).random((count, 8, 8, 1)) > 0.5).astype("float32")


def test_residual_normal_kl_is_the_kl_of_the_two_gaussians():
    rng = np.random.default_rng(0)
    mu_p, log_sigma_p, d_mu, d_log_sigma = (rng.normal(0, 0.7, (3, 2, 2, 4)) for _ in range(4))
    mu_q, sigma_q, sigma_p = mu_p + d_mu, np.exp(log_sigma_p + d_log_sigma), np.exp(log_sigma_p)
    closed = np.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5
    np.testing.assert_allclose(residual_normal_kl(d_mu, d_log_sigma, log_sigma_p),
                               closed.reshape(3, -1).sum(axis=1), rtol=1e-5)


def test_cells_and_groups_follow_the_paper():
    model = models.nvae(input_shape=(16, 16, 1), channels=16)
    assert model.latent_shapes == [(4, 4, 4), (4, 4, 4), (8, 8, 4), (8, 8, 4)]
    generative = [type(layer).__name__ for layer in model.decoder_cells[0].layers]
    assert generative.count("BatchNormalization") == 4 and "DepthwiseConv2D" in generative
    assert model.decoder_cells[0].get_layer("dec_s0_g0_depthwise").kernel_size == (5, 5)
    assert model.decoder_cells[0].get_layer("dec_s0_g0_expand").filters == 3 * 16
    encoder = [type(layer).__name__ for layer in model.encoder_cells[0][0].layers]
    assert encoder.count("Conv2D") == 2 and encoder.count("BatchNormalization") == 2
    for cell in (model.decoder_cells[0], model.encoder_cells[0][0]):
        names = [layer.name for layer in cell.layers]
        assert any(n.endswith("_se") for n in names)  # squeeze-and-excitation
        assert any("swish" in n for n in names) and names[-1].endswith("_add")  # residual
    # At initialization every prior is N(0, I) and every posterior equals its prior: KL 0.
    _, kl, _ = model._terms(np.zeros((2, 16, 16, 1), "float32"), training=False)
    np.testing.assert_allclose(kl, 0.0, atol=1e-6)


def test_fit_improves_the_bound_and_round_trips(tmp_path):
    model = models.nvae(kl_warmup_steps=20, **SMALL)
    model.compile()
    x = np.repeat(binary_images(4), 16, axis=0)
    before = model.elbo(x[:8], samples=4).mean()
    history = model.fit(x, batch_size=16, epochs=8, verbose=0).history
    assert set(history) == {"loss", "reconstruction", "kl", "kl_weight"}
    # KL warm-up: the weight of update s is min(1, (s + 1) / 20); 4 updates per epoch.
    expected = [np.mean([min(1.0, (s + 1) / 20) for s in range(4 * e, 4 * e + 4)])
                for e in range(8)]
    np.testing.assert_allclose(history["kl_weight"], expected, rtol=1e-6)
    elbo = model.elbo(x[:8], samples=4)
    assert elbo.mean() > before + 5
    nll = model.negative_log_likelihood(x[:8], samples=50)
    assert np.all(np.isfinite(nll)) and nll.mean() < -elbo.mean() + 0.5
    np.testing.assert_array_equal(model.elbo(x[:4], seed=3), model.elbo(x[:4], seed=3))
    model.save(tmp_path / "nvae.keras")
    loaded = keras.saving.load_model(tmp_path / "nvae.keras", safe_mode=True)
    np.testing.assert_array_equal(model(x[:3]), loaded(x[:3]))
    np.testing.assert_array_equal(model.sample(2, seed=1), loaded.sample(2, seed=1))
    assert model.sample(3, seed=0, temperature=0.7).shape == (3, 8, 8, 1)


def test_kl_balancing_weights_the_groups_during_warm_up_only():
    model = models.nvae(input_shape=(16, 16, 1), channels=8, latent_channels=2, groups=(1, 2))
    # Areas 4x4 (one group) and 8x8 (two groups): alpha = 16 / 1 and 64 / 2, scaled to min 1.
    np.testing.assert_allclose(model.balancing_alpha, [1.0, 2.0, 2.0])
    kl = np.array([[1.0, 4.0, 0.0], [3.0, -2.0, 2.0]], "float32")
    # NumPy: (mean |KL_l| + 0.01) / alpha_l, averaging 1.
    raw = (np.abs(kl).mean(axis=0) + 0.01) / model.balancing_alpha
    gamma = raw / raw.mean()
    np.testing.assert_allclose(kl_balancing_coefficients(kl, model.balancing_alpha), gamma,
                               rtol=1e-6)
    per_group = kl.mean(axis=0)
    np.testing.assert_allclose(model.kl_term(kl, 0.5), 0.5 * (gamma * per_group).sum(), rtol=1e-6)
    np.testing.assert_allclose(model.kl_term(kl, 1.0), per_group.sum(), rtol=1e-6)
    plain = models.nvae(input_shape=(16, 16, 1), channels=8, latent_channels=2, groups=(1, 2),
                        kl_balancing=False)
    np.testing.assert_allclose(plain.kl_term(kl, 0.5), 0.5 * per_group.sum(), rtol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"input_shape": (10, 10, 1)}, "multiples of 4"),
    ({"kl_balancing": "yes"}, "kl_balancing='yes'"),
    ({"channels": 0}, "channels=0"),
    ({"groups": (1,)}, "groups="),
    ({"kl_warmup_steps": 0}, "kl_warmup_steps=0"),
])
def test_bad_arguments_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.nvae(**{**SMALL, **kwargs})
