"""Local response normalization against the formula of Krizhevsky et al. (section 3.3), written
out in NumPy, and against TensorFlow's op, which uses the same parameterisation."""

import numpy as np
import pytest
import tensorflow as tf

from garden.layers import LocalResponseNormalization
from tests.harness.layers import run_layer_test


def paper_lrn(a, n, k, alpha, beta):
    """b[i] = a[i] / (k + alpha * sum_{j = max(0, i - n/2)}^{min(N - 1, i + n/2)} a[j]^2)^beta."""
    channels = a.shape[-1]
    b = np.empty_like(a, dtype=np.float64)
    for i in range(channels):
        lo, hi = max(0, i - n // 2), min(channels - 1, i + n // 2)
        energy = np.sum(a[..., lo : hi + 1].astype(np.float64) ** 2, axis=-1)
        b[..., i] = a[..., i] / (k + alpha * energy) ** beta
    return b


@pytest.fixture(scope="module")
def activations():
    # ReLU-like activations large enough that the normalization changes them visibly.
    return np.random.default_rng(0).gamma(2.0, 20.0, size=(2, 3, 4, 11)).astype(np.float32)


def test_defaults_are_the_papers():
    lrn = LocalResponseNormalization()
    assert (lrn.n, lrn.k, lrn.alpha, lrn.beta) == (5, 2.0, 1e-4, 0.75)


@pytest.mark.parametrize(
    "params", [{}, dict(n=3, k=1.0, alpha=2e-5, beta=0.5), dict(n=1), dict(n=15)]
)
def test_matches_the_papers_formula(activations, params):
    lrn = LocalResponseNormalization(**params)
    expected = paper_lrn(activations, lrn.n, lrn.k, lrn.alpha, lrn.beta)
    # The energy term matters: the result is not a mere rescaling.
    assert not np.allclose(expected, activations / lrn.k**lrn.beta, rtol=1e-3)
    np.testing.assert_allclose(np.asarray(lrn(activations)), expected, rtol=1e-5)


@pytest.mark.parametrize("params", [{}, dict(n=7, k=1.0, alpha=2e-5, beta=0.75)])
def test_matches_tensorflow(activations, params):
    lrn = LocalResponseNormalization(**params)
    # TF sums over depth_radius channels on each side and does not divide alpha by n.
    reference = tf.nn.local_response_normalization(
        activations, depth_radius=lrn.n // 2, bias=lrn.k, alpha=lrn.alpha, beta=lrn.beta
    )
    np.testing.assert_allclose(np.asarray(lrn(activations)), reference.numpy(), rtol=1e-5)


def test_layer_harness(activations):
    run_layer_test(LocalResponseNormalization, dict(n=3, k=1.5, alpha=1e-3),
                   input_data=activations, expected_output_shape=activations.shape,
                   expected_num_trainable_weights=0)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(n=4), "n=4"),
        (dict(n=0), "n=0"),
        (dict(k=0), "k=0"),
        (dict(alpha=-1.0), "alpha=-1.0"),
        (dict(beta="x"), "beta='x'"),
    ],
)
def test_bad_arguments_name_the_argument(params, message):
    with pytest.raises(ValueError, match=message):
        LocalResponseNormalization(**params)
