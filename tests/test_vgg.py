"""VGG against the paper's configurations (the keras.applications weight order of vgg16 and
vgg19 is tests/test_registry.py's)."""

import keras
import numpy as np
import pytest

from garden import models
from garden.models import vgg11, vgg11_bn, vgg16


@pytest.mark.parametrize(
    "builder, depth", [("vgg11", 11), ("vgg13", 13), ("vgg16", 16), ("vgg19", 19)]
)
def test_configurations_have_the_papers_weight_layers(builder, depth):
    # Table 1: configurations A, B, D, E have 11, 13, 16 and 19 weight layers, 3 of them FC.
    model = models.build(builder, include_top=False, input_shape=(32, 32, 3))
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == depth - 3
    assert all(conv.kernel_size == (3, 3) and conv.strides == (1, 1) for conv in convs)
    assert [conv.filters for conv in convs][-1] == 512
    assert model.output_shape == (None, 1, 1, 512)
    # He-uniform: standard deviation sqrt(2 / fan_in), keeping the scale through the ReLUs.
    assert np.std(convs[-1].kernel.numpy()) == pytest.approx(np.sqrt(2 / (9 * 512)), rel=0.05)


def test_top_has_dropout_after_both_hidden_layers_and_can_give_logits():
    model = vgg11(input_shape=(32, 32, 3), classes=4, classifier_activation=None)
    top = [layer.name for layer in model.layers[-6:]]
    assert top == ["flatten", "fc1", "fc1_dropout", "fc2", "fc2_dropout", "predictions"]
    assert model.get_layer("fc1").kernel.shape == (512, 4096)
    assert model.get_layer("fc1_dropout").rate == 0.5
    out = np.asarray(model(np.ones((2, 32, 32, 3), "float32")))
    assert out.shape == (2, 4) and not np.allclose(out.sum(axis=1), 1.0)


def test_batch_norm_follows_every_convolution():
    model = vgg11_bn(include_top=False, input_shape=(32, 32, 3))
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            assert isinstance(model.get_layer(f"{layer.name}_bn"), keras.layers.BatchNormalization)
            assert layer.activation is keras.activations.linear


@pytest.mark.parametrize(
    "builder, kwargs, message",
    [
        (vgg11, dict(weights="caffe"), "weights='caffe'"),
        (vgg11_bn, dict(weights="keras"), "weights='keras'"),
        (vgg16, dict(input_shape=(16, 16, 3)), "at least 32"),
        (vgg16, dict(weights="imagenet", classes=10), "classes=10"),
        (vgg16, dict(include_top=False, pooling="sum"), "pooling='sum'"),
        (vgg11, dict(input_shape=(None, None, 3)), "include_top=False"),
        (vgg11, dict(include_top=1), "include_top=1"),
    ],
)
def test_bad_arguments_name_the_argument(builder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        builder(**kwargs)
