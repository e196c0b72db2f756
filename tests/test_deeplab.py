"""Atrous convolution, ASPP, output-stride control and DeepLab; mIoU on hand masks."""

import keras
import numpy as np
import pytest
from keras import layers

from garden import models
from garden.layers import ASPP, ASPPv3
from garden.layers.aspp import RATES_L, RATES_S
from garden.metrics import confusion_matrix, iou_per_class, mean_iou

RNG = np.random.default_rng(0)


def test_aspp_branches_see_exactly_their_atrous_taps():
    # One filter per layer, all weights one: a unit impulse reaches the output only at the 3x3
    # taps of each rate, r pixels apart, and the branches add up where they overlap (the centre).
    rates = (2, 5)
    aspp = ASPP(classes=1, rates=rates, filters=1, dropout=0.0)
    aspp.build((None, 21, 21, 1))
    aspp.set_weights([np.ones_like(w) if w.ndim > 1 else np.zeros_like(w)
                      for w in aspp.get_weights()])
    impulse = np.zeros((1, 21, 21, 1), np.float32)
    impulse[0, 10, 10, 0] = 1.0
    out = np.asarray(aspp(impulse))[0, ..., 0]
    expected = np.zeros((21, 21))
    for rate in rates:
        for dy in (-rate, 0, rate):
            for dx in (-rate, 0, rate):
                expected[10 + dy, 10 + dx] += 1.0
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("rates", [RATES_L, RATES_S])
def test_aspp_v2_keeps_the_size_and_has_one_classifier_branch_per_rate(rates):
    assert RATES_L == (6, 12, 18, 24) and RATES_S == (2, 4, 8, 12)
    aspp = ASPP(classes=21, rates=rates, filters=16)
    assert aspp(np.zeros((1, 9, 11, 8), np.float32)).shape == (1, 9, 11, 21)
    per_branch = (3 * 3 * 8 * 16 + 16) + (16 * 16 + 16) + (16 * 21 + 21)
    assert aspp.count_params() == len(rates) * per_branch


def test_aspp_v3_has_five_branches_and_a_projection():
    aspp = ASPPv3(filters=16)
    assert aspp.rates == (6, 12, 18)
    assert aspp(np.zeros((2, 9, 11, 8), np.float32)).shape == (2, 9, 11, 16)
    bn = 4 * 16  # gamma, beta, moving mean and variance
    expected = (8 * 16 + bn) + 3 * (9 * 8 * 16 + bn) + (8 * 16 + bn) + (5 * 16 * 16 + bn)
    assert aspp.count_params() == expected
    assert ASPPv3(filters=16, image_pooling=False)(np.zeros((1, 5, 5, 8))).shape == (1, 5, 5, 16)


def test_image_pooling_makes_every_position_see_the_whole_image():
    aspp = ASPPv3(filters=4, rates=(1,))
    x = np.zeros((1, 16, 16, 2), np.float32)
    far = x.copy()
    far[0, 15, 15] = 5.0  # beyond every 3x3 (rate 1) receptive field of position (0, 0)
    with_pooling = np.asarray(aspp(far))[0, 0, 0] - np.asarray(aspp(x))[0, 0, 0]
    assert np.abs(with_pooling).max() > 0
    local = ASPPv3(filters=4, rates=(1,), image_pooling=False)
    np.testing.assert_array_equal(np.asarray(local(far))[0, 0, 0], np.asarray(local(x))[0, 0, 0])


def small_backbone():
    """Stride 8 from the patterns backbones use: same-padded stride-2 convolutions, and
    MobileNet's explicit bottom/right zero padding before a valid stride-2 depthwise conv."""
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)
    x = layers.DepthwiseConv2D(3, padding="same")(x)
    x = layers.Conv2D(8, 1, activation="relu")(x)
    x = layers.ZeroPadding2D(((0, 1), (0, 1)))(x)
    x = layers.DepthwiseConv2D(3, strides=2, padding="valid")(x)
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2D(4, 3, padding="same")(x)
    return keras.Model(inputs, x)


@pytest.mark.parametrize("output_stride", [8, 4, 2])
def test_removing_strides_and_dilating_computes_the_same_responses_densely(output_stride):
    # The atrous algorithm: the dense network's output, subsampled, is the original output.
    net = small_backbone()
    x = RNG.random((2, 32, 32, 3)).astype(np.float32)
    dense = models.with_output_stride(net, output_stride)
    step = 8 // output_stride
    assert dense.output_shape == (None, 32 // output_stride, 32 // output_stride, 4)
    out = np.asarray(dense(x))[:, step - 1::step, step - 1::step]
    np.testing.assert_allclose(out, np.asarray(net(x)), rtol=1e-5, atol=1e-5)


def test_output_stride_of_mobilenet_and_its_dilations():
    net = models.build("mobilenet_v1", alpha=0.25, include_top=False, input_shape=(64, 64, 3))
    dense = models.with_output_stride(net, 8)
    assert dense.output_shape == (None, 8, 8, 256)
    assert dense.get_layer("conv_dw_6").strides == (1, 1)
    assert dense.get_layer("conv_dw_6").dilation_rate == (1, 1)
    assert dense.get_layer("conv_dw_7").dilation_rate == (2, 2)
    assert dense.get_layer("conv_dw_13").dilation_rate == (4, 4)
    assert isinstance(dense.get_layer("conv_pad_12"), layers.Identity)
    assert dense.count_params() == net.count_params()
    np.testing.assert_array_equal(dense.get_layer("conv_pw_13").get_weights()[0],
                                  net.get_layer("conv_pw_13").get_weights()[0])
    assert models.with_output_stride(net, 16).output_shape == (None, 4, 4, 256)
    with pytest.raises(ValueError, match="output_stride=12"):
        models.with_output_stride(net, 12)
    with pytest.raises(ValueError, match="output_stride=64"):
        models.with_output_stride(net, 64)
    # Strides are read from the layers: a variable input size is rewritten the same way.
    variable = models.build("mobilenet_v1", alpha=0.25, include_top=False,
                            input_shape=(None, None, 3))
    assert models.with_output_stride(variable, 8).get_layer("conv_dw_13").dilation_rate == (4, 4)


@pytest.mark.parametrize("aspp", ["v2", "v3"])
def test_deeplab_returns_logits_at_input_resolution(aspp):
    model = models.deeplab(backbone_kwargs={"alpha": 0.25}, output_stride=8, aspp=aspp,
                           rates=(1, 2), head_filters=8, input_shape=(48, 64, 3), classes=4)
    assert model.output_shape == (None, 48, 64, 4)
    assert model.get_layer("conv_dw_12").dilation_rate == (2, 2)
    assert model.get_layer("aspp").rates == (1, 2)
    with pytest.raises(ValueError, match="aspp='v4'"):
        models.deeplab(aspp="v4")


def test_miou_on_hand_masks():
    y_true = np.array([[0, 0, 1, 1],
                       [0, 0, 1, 1],
                       [2, 2, 2, 2]])
    y_pred = np.array([[0, 1, 1, 1],
                       [0, 0, 1, 2],
                       [2, 2, 2, 0]])
    # class 0: TP 3, FP 1, FN 1 -> 3/5; class 1: TP 3, FP 1, FN 1 -> 3/5;
    # class 2: TP 3, FP 1, FN 1 -> 3/5; class 3 absent everywhere: not counted.
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, 4)[:3, :3],
                                  [[3, 1, 0], [0, 3, 1], [1, 0, 3]])
    np.testing.assert_allclose(iou_per_class(confusion_matrix(y_true, y_pred, 4))[:3], [0.6] * 3)
    assert np.isnan(iou_per_class(confusion_matrix(y_true, y_pred, 4))[3])
    assert mean_iou(y_true, y_pred, 4) == pytest.approx(0.6)
    assert mean_iou(y_true, y_true, 4) == 1.0
    # An ignored label drops those pixels: without the bottom row, class 0 has no false
    # positive (3/4) and class 2 only a false positive (0/1).
    masked = y_true.copy()
    masked[2] = 255
    assert mean_iou(masked, y_pred, 4, ignore_label=255) == pytest.approx(
        np.mean([3 / 4, 3 / 5, 0 / 1]))
    keras_miou = keras.metrics.MeanIoU(num_classes=4)
    keras_miou.update_state(y_true, y_pred)
    assert float(keras_miou.result()) == pytest.approx(mean_iou(y_true, y_pred, 4))


def test_deeplab_reads_the_deepest_stage_of_any_backbone_with_stage_features():
    model = models.deeplab(backbone="resnet20", output_stride=2, rates=(1,), head_filters=4,
                           input_shape=(16, 16, 3), classes=2)
    aspp_input = model.get_layer("aspp").input
    assert aspp_input is model.get_layer("conv4_block3_out").output
    assert tuple(aspp_input.shape) == (None, 8, 8, 64)  # resnet20's stride 4, made 2
    with pytest.raises(ValueError, match="backbone='unet' is not allowed: it is not a registered "
                                         "model with stage features. Models with them: alexnet"):
        models.deeplab(backbone="unet")
