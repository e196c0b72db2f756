"""Swish: Keras' silu at beta 1, the formula at other betas, a learnable beta that round-trips."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from garden.layers import Swish

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


def test_learned_beta_survives_model_save(tmp_path):
    inputs = keras.Input((25,))
    model = keras.Model(inputs, Swish(trainable_beta=True, name="swish")(inputs))
    model.get_layer("swish").beta_weight.assign(1.7)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded(X[None]), model(X[None]))
    assert float(loaded.get_layer("swish").beta_weight.numpy()) == pytest.approx(1.7)
    assert loaded.get_layer("swish").get_config() == model.get_layer("swish").get_config()


def test_bad_beta_is_named():
    with pytest.raises(ValueError, match="beta='1'"):
        Swish(beta="1")
