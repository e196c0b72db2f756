"""ResNets against He et al. 2016 and Bag of Tricks (He et al. 2019); the keras.applications
weight order of resnet50/101/152 is tests/test_registry.py's."""

import keras
import numpy as np
import pytest

from garden import models
from garden.layers import ZeroPaddingShortcut
from garden.models import resnet18, resnet20, resnet50, resnet50d

def main_path_depth(model):
    """Weight layers on the main path: convolutions and dense layers, projections excluded."""
    return sum(
        isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
        and not layer.name.endswith("_0_conv")
        for layer in model.layers
    )


@pytest.fixture(scope="module")
def resnet_50():
    return resnet50(input_shape=(32, 32, 3), classes=7)


@pytest.fixture(scope="module")
def resnet_d():
    return resnet50d(zero_init_residual=True, input_shape=(32, 32, 3), classes=7)


@pytest.mark.parametrize("builder, depth", [(resnet18, 18), (resnet20, 20)])
def test_depth_counts_the_weight_layers(builder, depth):
    assert main_path_depth(builder(input_shape=(32, 32, 3), classes=3)) == depth


def test_resnet50_is_the_original_bottleneck_in_keras_layout(resnet_50):
    ours = resnet_50
    assert main_path_depth(ours) == 50
    # ResNet-A of Bag of Tricks: the stride is in the first 1x1 convolution; biases everywhere.
    assert ours.get_layer("conv3_block1_1_conv").strides == (2, 2)
    assert ours.get_layer("conv3_block1_2_conv").strides == (1, 1)
    assert ours.get_layer("conv1_conv").kernel_size == (7, 7)
    assert all(layer.use_bias for layer in ours.layers if isinstance(layer, keras.layers.Conv2D))


def test_resnet50d_has_the_three_tweaks(resnet_d):
    # B: stride in the 3x3 convolution.
    assert resnet_d.get_layer("conv3_block1_1_conv").strides == (1, 1)
    assert resnet_d.get_layer("conv3_block1_2_conv").strides == (2, 2)
    # C: three 3x3 convolutions of 32, 32 and 64 filters replace the 7x7 one.
    stem = [resnet_d.get_layer(f"conv1_{i}_conv") for i in (1, 2, 3)]
    assert [(c.kernel_size, c.strides, c.filters) for c in stem] == [
        ((3, 3), (2, 2), 32), ((3, 3), (1, 1), 32), ((3, 3), (1, 1), 64)
    ]
    # D: downsampling shortcuts average-pool 2x2, then a 1x1 convolution of stride 1.
    pool = resnet_d.get_layer("conv3_block1_0_pool")
    assert isinstance(pool, keras.layers.AveragePooling2D) and pool.strides == (2, 2)
    assert resnet_d.get_layer("conv3_block1_0_conv").strides == (1, 1)
    assert not any(layer.use_bias for layer in resnet_d.layers
                   if isinstance(layer, keras.layers.Conv2D))


def test_zero_init_residual_zeroes_only_each_blocks_last_gamma(resnet_d):
    for layer in resnet_d.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            last_in_block = "_block" in layer.name and layer.name.endswith("_3_bn")
            expected = 0.0 if last_in_block else 1.0
            np.testing.assert_array_equal(layer.gamma.numpy(), expected, err_msg=layer.name)


def test_zero_initialised_blocks_start_as_the_identity():
    model = resnet18(zero_init_residual=True, input_shape=(32, 32, 3), classes=3)
    probe = keras.Model(model.input, [model.get_layer(f"conv2_block{i}_out").output
                                      for i in (1, 2)])
    first, second = probe(np.random.default_rng(2).random((2, 32, 32, 3), dtype=np.float32))
    assert np.any(first)
    np.testing.assert_array_equal(second, first)


@pytest.mark.parametrize(
    "output_stride, size, dilations", [(16, 4, (1, 2)), (8, 8, (2, 4))]
)
def test_deeplab_output_stride_trades_stride_for_dilation(output_stride, size, dilations):
    features = resnet18(include_top=False, input_shape=(64, 64, 3))
    dense = models.with_output_stride(features, output_stride)
    assert dense.output_shape == (None, size, size, 512)
    assert dense.count_params() == features.count_params()
    for stage, dilation in zip((4, 5), dilations):
        assert dense.get_layer(f"conv{stage}_block1_2_conv").dilation_rate == (dilation,) * 2
    assert dense.get_layer("conv5_block1_1_conv").strides == (1, 1)


def test_cifar_network_has_the_papers_stages_and_option_a_shortcuts():
    model = resnet20(input_shape=(32, 32, 3))
    stages = [model.get_layer(f"conv{s}_block3_out").output.shape[1:] for s in (2, 3, 4)]
    assert stages == [(32, 32, 16), (16, 16, 32), (8, 8, 64)]
    assert model.output_shape == (None, 10)
    shortcuts = [layer for layer in model.layers if isinstance(layer, ZeroPaddingShortcut)]
    assert [(s.filters, s.strides) for s in shortcuts] == [(32, 2), (64, 2)]


def test_shortcuts_false_gives_the_plain_network():
    plain = resnet20(shortcuts=False, input_shape=(32, 32, 3))
    assert not any(isinstance(layer, (keras.layers.Add, ZeroPaddingShortcut))
                   for layer in plain.layers)
    assert main_path_depth(plain) == 20


def test_zero_padding_shortcut_matches_numpy():
    x = np.random.default_rng(3).random((2, 5, 6, 3), dtype=np.float32)
    layer = ZeroPaddingShortcut(8, strides=2)
    expected = np.concatenate([x[:, ::2, ::2, :], np.zeros((2, 3, 3, 5), np.float32)], axis=-1)
    np.testing.assert_array_equal(layer(x), expected)
    assert layer.compute_output_shape((None, 5, 6, 3)) == (None, 3, 3, 8)
    assert ZeroPaddingShortcut.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ValueError, match="filters=2"):
        ZeroPaddingShortcut(2)(x)


@pytest.mark.parametrize(
    "builder, kwargs, message",
    [
        (resnet18, dict(weights="caffe"), "weights='caffe'"),
        (resnet50, dict(shortcuts=False, weights="imagenet"), "weights='imagenet'"),
        (resnet20, dict(shortcuts=False, zero_init_residual=True), "zero_init_residual=True"),
        (resnet18, dict(input_shape=(16, 16, 3)), "at least 32"),
        (resnet18, dict(zero_init_residual=1), "zero_init_residual=1"),
    ],
)
def test_bad_arguments_name_the_argument(builder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        builder(**kwargs)
