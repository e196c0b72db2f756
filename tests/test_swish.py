"""Swish: Keras' silu at beta 1, the formula at other betas, a learnable beta that round-trips."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from garden.layers import Swish
from tests.harness.layers import run_layer_test

X = np.linspace(-6, 6, 25).astype("float32")


def test_beta_one_is_keras_silu():
    np.testing.assert_allclose(Swish()(X), keras.activations.silu(X), rtol=1e-6)


@pytest.mark.parametrize("beta", [0.0, 0.5, 3.0])
def test_matches_the_formula(beta):
    expected = X / (1 + np.exp(-beta * X))
    np.testing.assert_allclose(Swish(beta=beta)(X), expected, rtol=1e-5, atol=1e-7)


def test_trainable_beta_gets_the_analytic_gradient():
    layer = Swish(beta=0.7, trainable_beta=True)
    layer.build(X.shape)
    assert [w.name for w in layer.trainable_weights] == ["beta"]
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(layer(X))
    grad = tape.gradient(total, layer.trainable_weights[0])
    s = 1 / (1 + np.exp(-0.7 * X))
    np.testing.assert_allclose(float(grad), np.sum(X**2 * s * (1 - s)), rtol=1e-5)
    assert Swish(beta=0.7).weights == []


@pytest.mark.parametrize("trainable_beta, weights", [(True, 1), (False, 0)])
def test_layer_harness(trainable_beta, weights):
    # With trainable_beta the fit step must move beta, and the .keras file must keep it.
    run_layer_test(Swish, dict(beta=1.7, trainable_beta=trainable_beta), input_shape=(3, 5),
                   expected_output_shape=(3, 5), expected_num_trainable_weights=weights)


def test_bad_beta_is_named():
    with pytest.raises(ValueError, match="beta='1'"):
        Swish(beta="1")
