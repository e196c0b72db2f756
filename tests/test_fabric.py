"""Convolutional neural fabrics: the trellis' connections and parameters."""

import keras
import numpy as np
import pytest

from garden import models
from tests.harness.models import run_model_test


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize("layers, scales, channels", [
    pytest.param(16, 6, 64, marks=pytest.mark.slow), (3, 3, 4)])
def test_parameters_follow_the_trellis(layers, scales, channels):
    model = models.conv_fabric(layers=layers, scales=scales, channels=channels)
    conv = 9 * channels * channels
    # First layer: the input convolution and a strided chain; later layers: three inputs per
    # node except at the finest and coarsest scale (two), and the last layer's chain along its
    # scales; batch norm: 2 per channel per node.
    expected = (9 * 3 * channels + 2 * (scales - 1) * conv + (layers - 1) * (3 * scales - 2) * conv
                + layers * scales * 2 * channels + channels * 10 + 10)
    assert trainable(model) == expected
    assert model.output_shape == (None, 10)


def test_nodes_have_their_scales_resolution():
    model = models.conv_fabric(layers=3, scales=3, channels=4, input_shape=(16, 16, 1))
    assert [model.get_layer(f"node2_{s}_relu").output.shape[1] for s in range(3)] == [16, 8, 4]
    assert {"node2_1_from0", "node2_1_from1", "node2_1_from2"} <= {
        layer.name for layer in model.layers}


def test_segmentation_fabric_labels_every_pixel():
    model = models.conv_fabric(layers=3, scales=3, channels=4, task="segmentation", classes=5,
                               input_shape=(16, 16, 3))
    assert model.output_shape == (None, 16, 16, 5)
    run_model_test(model, np.random.default_rng(0).random((2, 16, 16, 3), np.float32),
                   round_trip=False)


@pytest.mark.parametrize("kwargs, match", [
    (dict(scales=6, input_shape=(28, 28, 1)), "divisible by 2\\^\\(scales - 1\\) = 32"),
    (dict(task="detection"), "task='detection'"),
    (dict(layers=1), "layers=1"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.conv_fabric(**kwargs)


def test_classifier_activation_none_gives_the_logits_of_the_softmax_output():
    kwargs = dict(layers=2, scales=2, channels=4, input_shape=(4, 4, 1), classes=3)
    keras.utils.set_random_seed(1)
    probabilities = models.conv_fabric(**kwargs)
    keras.utils.set_random_seed(1)
    logits = models.conv_fabric(classifier_activation=None, **kwargs)
    x = np.random.default_rng(0).random((2, 4, 4, 1), "float32")
    np.testing.assert_allclose(keras.ops.softmax(logits(x)), probabilities(x), rtol=1e-5)
