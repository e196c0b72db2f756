"""Monte-Carlo dropout: only dropout is stochastic, and the spread is dropout's own variance."""

import keras
import numpy as np
import pytest

from garden.tools import mc_dropout_predict
from garden.tools.mc_dropout import _with_dropout_on

W = np.array([[0.5], [-1.0], [2.0], [0.25]], "float32")
X = np.array([1.0, 2.0, -1.0, 4.0], "float32")


def test_mean_and_spread_match_inverted_dropout_analytically():
    # y = w . dropout(x): kept units are scaled by 1/(1-p), so E[y] = w . x and
    # Var[y] = sum (w_i x_i)^2 p / (1 - p).
    rate = 0.3
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(rate),
                              keras.layers.Dense(1, use_bias=False)])
    model.layers[-1].kernel.assign(W)
    mean, std = mc_dropout_predict(model, np.tile(X, (400, 1)), samples=40, batch_size=400)
    assert mean.shape == std.shape == (400, 1)
    variance = np.sum((W[:, 0] * X) ** 2) * rate / (1 - rate)
    tolerance = 4 * float(np.sqrt(variance / 16000))
    assert mean.mean() == pytest.approx(float(X @ W[:, 0]), abs=tolerance)
    # The per-row variance over 40 passes (ddof 0) has expectation variance * 39 / 40.
    assert np.mean(std**2) == pytest.approx(variance * 39 / 40, rel=0.05)


def test_batch_norm_stays_in_inference_mode_and_weights_are_shared():
    inputs = keras.Input((4,))
    inner_in = keras.Input((8,))
    inner = keras.Model(inner_in, keras.layers.Dropout(0.5)(inner_in), name="inner")
    x = keras.layers.Dense(8)(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = inner(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    model.get_layer("bn").moving_mean.assign(np.full(8, 3.0, "float32"))
    bn = model.get_layer("bn")
    before = [bn.moving_mean.numpy(), bn.moving_variance.numpy()]

    assert {id(v) for v in _with_dropout_on(model).trainable_variables} == {
        id(v) for v in model.trainable_variables
    }
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    mean, std = mc_dropout_predict(model, x, samples=3)
    assert np.all(std > 0)  # the nested model's dropout is on
    for variable, value in zip([bn.moving_mean, bn.moving_variance], before):
        np.testing.assert_array_equal(variable.numpy(), value)
    # Without dropout the clone is the model: with rate 0 the outputs agree exactly.
    inner.layers[-1].rate = 0.0
    mean, std = mc_dropout_predict(model, x, samples=3)
    np.testing.assert_allclose(mean, model.predict(x, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(std, 0.0, atol=1e-5)


def test_subclassed_models_are_refused():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    net = Net()
    net(np.ones((1, 4)))
    with pytest.raises(ValueError, match="functional or Sequential"):
        _with_dropout_on(net)
    with pytest.raises(ValueError, match="samples=1"):
        mc_dropout_predict(net, np.ones((1, 4)), samples=1)
