"""The MLPs: structure, parameter counts, SELU's fixed point (0, 1), dropout's max-norm."""

import keras
import numpy as np
import pytest

from garden import models
from garden.layers import Swish


def activation_stats(model, x):
    """Mean and variance of every hidden layer's activations (`act_1` ... `act_depth`)."""
    names = [layer.name for layer in model.layers if layer.name.startswith("act_")]
    probe = keras.Model(model.input, [model.get_layer(n).output for n in names])
    outputs = [np.asarray(o) for o in probe(x, training=False)]
    return np.array([o.mean() for o in outputs]), np.array([o.var() for o in outputs])


def test_parameter_count():
    model = models.selu_mlp(depth=4, width=32, input_shape=(8, 8, 1), classes=10)
    expected = (64 * 32 + 32) + 3 * (32 * 32 + 32) + (32 * 10 + 10)
    assert model.count_params() == expected


def test_dropout_kind_follows_the_activation():
    selu = models.selu_mlp(depth=2, width=8, input_shape=(4,))
    relu = models.selu_mlp(depth=2, width=8, input_shape=(4,), activation="relu")
    none = models.selu_mlp(depth=2, width=8, input_shape=(4,), dropout=0.0)
    assert isinstance(selu.get_layer("dropout_1"), keras.layers.AlphaDropout)
    assert type(relu.get_layer("dropout_1")) is keras.layers.Dropout
    assert not [layer for layer in none.layers if "dropout" in layer.name]
    swish = models.selu_mlp(depth=2, width=8, input_shape=(4,), activation="trainable_swish")
    assert isinstance(swish.get_layer("act_2"), Swish)


def test_selu_keeps_activations_at_zero_mean_unit_variance_through_32_layers():
    # Section 3: with standardized inputs and weights of variance 1/fan-in, SELU activations
    # stay near mean 0 and variance 1 at every depth; ReLU with the same weights decays.
    x = np.random.default_rng(0).normal(size=(256, 128)).astype("float32")
    keras.utils.set_random_seed(0)
    selu = models.selu_mlp(depth=32, width=128, input_shape=(128,), dropout=0.0)
    mean, var = activation_stats(selu, x)
    assert np.all(np.abs(mean) < 0.1) and np.all(np.abs(var - 1) < 0.2)
    keras.utils.set_random_seed(0)
    relu = models.selu_mlp(depth=32, width=128, input_shape=(128,), dropout=0.0,
                           activation="relu")
    _, var = activation_stats(relu, x)
    assert var[-1] < 1e-6


def test_dropout_mlp_has_input_dropout_and_keeps_weights_within_max_norm():
    model = models.dropout_mlp(depth=2, width=32, input_shape=(8, 8, 1), max_norm=0.5)
    assert model.get_layer("input_dropout").rate == 0.2
    assert model.get_layer("dropout_2").rate == 0.5
    assert model.count_params() == (64 * 32 + 32) + (32 * 32 + 32) + (32 * 10 + 10)
    model.compile(keras.optimizers.SGD(1.0), "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(64, 8, 8, 1)).astype("float32")
    model.fit(x, np.arange(64) % 10, epochs=2, verbose=0)
    for name in ("dense_1", "dense_2"):
        norms = np.linalg.norm(model.get_layer(name).kernel.numpy(), axis=0)
        assert norms.max() <= 0.5 + 1e-5 and norms.max() > 0.45
    assert np.linalg.norm(model.get_layer("predictions").kernel.numpy(), axis=0).max() > 0.5


@pytest.mark.parametrize(
    "kwargs, message",
    [({"depth": 0}, "depth=0"), ({"depth": True}, "depth=True"), ({"width": 2.5}, "width=2.5"),
     ({"dropout": 1.0}, "dropout=1.0"), ({"classes": "10"}, "classes='10'")],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.selu_mlp(**kwargs)


def test_bad_max_norm_is_named():
    with pytest.raises(ValueError, match="max_norm=-1"):
        models.dropout_mlp(max_norm=-1)
