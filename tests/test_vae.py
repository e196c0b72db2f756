"""VAE: the analytic KL against its closed form and a Monte-Carlo estimate, the likelihoods, the
ELBO and importance-weighted NLL equal to log p(x) of a linear Gaussian model, training, the
`.keras` round trip and argument errors."""

import keras
import numpy as np
import pytest

from garden import models
from garden.models.vae import bernoulli_log_likelihood, gaussian_kl, gaussian_log_density

LATENT_W = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])  # rows orthogonal: diagonal posterior
BIAS = np.array([0.5, -1.0, 2.0])
NOISE_VARIANCE = 0.5


def test_kl_equals_its_closed_form_and_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    mean, log_variance = rng.normal(size=(4, 3)), rng.normal(0, 0.5, size=(4, 3))
    variance = np.exp(log_variance)
    closed = 0.5 * np.sum(variance + mean**2 - 1 - np.log(variance), axis=1)
    np.testing.assert_allclose(gaussian_kl(mean, log_variance), closed, rtol=1e-6)
    z = mean + np.sqrt(variance) * rng.normal(size=(200_000, 4, 3))
    log_q = -0.5 * np.sum(np.log(2 * np.pi * variance) + (z - mean) ** 2 / variance, axis=-1)
    log_p = -0.5 * np.sum(np.log(2 * np.pi) + z**2, axis=-1)
    np.testing.assert_allclose((log_q - log_p).mean(axis=0), closed, atol=0.02)


def test_likelihoods_equal_their_formulas():
    rng = np.random.default_rng(1)
    x = rng.random((2, 3, 3, 1))
    logits = rng.normal(0, 3, size=x.shape)
    p = 1 / (1 + np.exp(-logits))
    expected = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
    np.testing.assert_allclose(bernoulli_log_likelihood(x, logits), expected, rtol=1e-6)
    assert np.isfinite(bernoulli_log_likelihood(np.ones((1, 1)), np.full((1, 1), 1e4))[0])
    mean, log_variance = rng.normal(size=x.shape), rng.normal(size=x.shape)
    expected = np.sum(-0.5 * (np.log(2 * np.pi) + log_variance
                              + (x - mean) ** 2 / np.exp(log_variance)), axis=(1, 2, 3))
    np.testing.assert_allclose(gaussian_log_density(x, mean, log_variance), expected, rtol=1e-6)


def linear_gaussian_vae(exact_posterior=True):
    """x = z W + b + noise: log p(x) = log N(x; b, W^T W + s^2 I); with the exact posterior as
    q(z|x) every importance weight p(x, z) / q(z|x) equals p(x), and the ELBO's mean is log p(x)."""
    model = models.vae(input_shape=(3,), latent_dim=2, units=(), likelihood="gaussian", seed=0)
    precision = np.eye(2) + LATENT_W @ LATENT_W.T / NOISE_VARIANCE  # diagonal here
    covariance = np.linalg.inv(precision)
    kernel = LATENT_W.T / NOISE_VARIANCE @ covariance  # z_mean = (x - b) kernel
    if not exact_posterior:
        kernel, covariance = 0.5 * kernel, 2 * covariance
    model.encoder.set_weights([kernel, -BIAS @ kernel, np.zeros((3, 2)),
                               np.log(np.diag(covariance))])
    model.decoder.set_weights([LATENT_W, BIAS, np.zeros((2, 3)),
                               np.full(3, np.log(NOISE_VARIANCE))])
    return model


def exact_log_likelihood(x):
    covariance = LATENT_W.T @ LATENT_W + NOISE_VARIANCE * np.eye(3)
    diff = x - BIAS
    _, logdet = np.linalg.slogdet(covariance)
    return -0.5 * (3 * np.log(2 * np.pi) + logdet
                   + np.einsum("ni,ij,nj->n", diff, np.linalg.inv(covariance), diff))


def test_elbo_and_importance_weighted_nll_equal_log_p_of_a_linear_gaussian_model():
    x = np.random.default_rng(2).normal(size=(5, 3)).astype("float32") * 2 + BIAS
    exact = exact_log_likelihood(x)
    model = linear_gaussian_vae()
    np.testing.assert_allclose(model.negative_log_likelihood(x, samples=3), -exact, rtol=1e-5)
    np.testing.assert_allclose(model.elbo(x, samples=400), exact, atol=0.1)
    # A worse q: the ELBO is a strict lower bound, and importance sampling closes the gap.
    loose = linear_gaussian_vae(exact_posterior=False)
    elbo = loose.elbo(x, samples=400)
    assert np.all(elbo < exact - 0.05)
    nll = loose.negative_log_likelihood(x, samples=2000)
    assert np.all(np.abs(nll + exact) < 0.2 * np.abs(elbo - exact))


def test_encode_decode_sample_and_reconstruct():
    model = models.vae(input_shape=(8, 8, 1), latent_dim=3, units=(16,), seed=0)
    x = (np.random.default_rng(0).random((4, 8, 8, 1)) > 0.5).astype("float32")
    mean, log_variance = model.encode(x)
    assert mean.shape == log_variance.shape == (4, 3)
    logits = model.decode(mean)
    np.testing.assert_allclose(model(x), 1 / (1 + np.exp(-np.asarray(logits))), rtol=1e-5)
    samples = model.sample(6, seed=1)
    assert samples.shape == (6, 8, 8, 1) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, model.sample(6, seed=1))
    assert models.vae().count_params() == (784 * 500 + 500 + 2 * (500 * 20 + 20)
                                            + 20 * 500 + 500 + 500 * 784 + 784)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_fit_improves_the_elbo_and_round_trips(likelihood, tmp_path):
    rng = np.random.default_rng(0)
    prototypes = rng.random((4, 8, 8, 1)) > 0.5
    x = np.repeat(prototypes, 32, axis=0).astype("float32")  # four binary images
    model = models.vae(input_shape=(8, 8, 1), latent_dim=2, units=(32,), likelihood=likelihood,
                       seed=0)
    model.compile(keras.optimizers.Adam(1e-2))
    before = model.elbo(x).mean()
    history = model.fit(x, batch_size=32, epochs=15, verbose=0).history
    assert set(history) == {"loss", "reconstruction", "kl"}
    np.testing.assert_allclose(history["loss"], np.add(history["reconstruction"],
                                                       history["kl"]), rtol=1e-5)
    assert model.elbo(x).mean() > before + 10
    model.save(tmp_path / "vae.keras")
    loaded = keras.saving.load_model(tmp_path / "vae.keras", safe_mode=True)
    np.testing.assert_array_equal(model(x[:3]), loaded(x[:3]))
    np.testing.assert_array_equal(model.generate(model.noise(2, 0)), loaded.sample(2, seed=0))
    scores = loaded.evaluate(x, verbose=0, return_dict=True)
    assert abs(scores["loss"] + model.elbo(x).mean()) < 5


@pytest.mark.parametrize("kwargs, message", [
    ({"latent_dim": 0}, "latent_dim=0 is not allowed"),
    ({"likelihood": "poisson"}, "likelihood='poisson'"),
    ({"beta": -1.0}, "beta=-1.0"),
    ({"units": (0,)}, "units=\\(0,\\)"),
])
def test_bad_arguments_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.vae(**kwargs)


def test_compile_takes_no_loss():
    with pytest.raises(ValueError, match="does not take loss"):
        models.vae(input_shape=(4,), latent_dim=2, units=(4,)).compile(loss="mse")
