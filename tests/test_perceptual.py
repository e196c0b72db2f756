"""Perceptual losses against NumPy transcriptions of Johnson et al.'s equations; the image
transformation networks' sizes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from garden import losses, models
from tests.harness.models import run_model_test

RNG = np.random.default_rng(0)


def _extractor():
    inputs = keras.Input((None, None, 3))
    a = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="a")(inputs)
    b = keras.layers.Conv2D(5, 3, strides=2, padding="same", activation="relu", name="b")(a)
    return keras.Model(inputs, b, name="tiny_vgg")


def _features(extractor, name, images):
    return keras.Model(extractor.input, extractor.get_layer(name).output)(images).numpy()


def test_feature_reconstruction_loss_matches_numpy():
    extractor = _extractor()
    y, y_hat = RNG.random((2, 3, 8, 8, 3), np.float32)
    loss = losses.PerceptualLoss(extractor, layers=("a", "b"), preprocess=None)
    expected = sum(np.mean((_features(extractor, n, y_hat) - _features(extractor, n, y)) ** 2)
                   for n in ("a", "b"))
    assert float(loss(y, y_hat)) == pytest.approx(expected, rel=1e-5)


def _gram(phi):  # Eq. 3: G[c, c'] = sum_hw phi_hwc phi_hwc' / (C H W)
    b, h, w, c = phi.shape
    flat = phi.reshape(b, h * w, c)
    return np.einsum("bnc,bnd->bcd", flat, flat) / (c * h * w)


def test_style_loss_is_the_squared_frobenius_distance_of_gram_matrices():
    extractor = _extractor()
    style = RNG.random((1, 8, 8, 3), np.float32)  # one style image for the whole batch
    y_hat = RNG.random((3, 8, 8, 3), np.float32)
    loss = losses.StyleLoss(extractor, layers=("a", "b"), preprocess=None)
    per_image = sum(((_gram(_features(extractor, n, y_hat)) -
                      _gram(_features(extractor, n, style))) ** 2).sum(axis=(1, 2))
                    for n in ("a", "b"))
    assert float(loss(style, y_hat)) == pytest.approx(per_image.mean(), rel=1e-5)
    np.testing.assert_allclose(losses.gram_matrix(y_hat).numpy(), _gram(y_hat), rtol=1e-5)


def test_total_variation_equals_tensorflows():
    images = RNG.random((2, 6, 7, 3), np.float32)
    np.testing.assert_allclose(losses.total_variation(images).numpy(),
                               tf.image.total_variation(tf.constant(images)).numpy(), rtol=1e-5)


@pytest.fixture(scope="module")
def vgg():
    return models.vgg16_loss_network()


def test_default_loss_network_is_vgg16_at_relu2_2_with_vgg_preprocessing(vgg):
    loss = losses.PerceptualLoss(vgg)
    assert loss.layers == ["block2_conv2"] and loss.features.layers[-1].name == "block2_conv2"
    assert loss.features.output_shape == (None, None, None, 128)
    images = RNG.random((1, 8, 8, 3), np.float32)
    expected = loss.features(keras.applications.vgg16.preprocess_input(images * 255.0)).numpy()
    np.testing.assert_allclose(loss._features(images)[0].numpy(), expected, rtol=1e-4,
                               atol=1e-3)
    assert losses.StyleLoss(vgg).layers == ["block1_conv2", "block2_conv2", "block3_conv3",
                                         "block4_conv3"]


def test_loss_round_trips_its_config():
    loss = losses.PerceptualLoss(_extractor(), layers=("b",), preprocess=None)
    again = losses.PerceptualLoss.from_config(loss.get_config())
    y, y_hat = RNG.random((2, 2, 8, 8, 3), np.float32)
    assert again.layers == ["b"]
    assert again(y, y_hat).shape == ()


def test_missing_layer_or_extractor_is_named():
    with pytest.raises(ValueError, match=r"layers=\['relu2_2'\].*relu2_2 not in tiny_vgg"):
        losses.PerceptualLoss(_extractor(), layers=("relu2_2",))
    with pytest.raises(ValueError, match=r"feature_extractor='vgg16' is not allowed.*"
                       r"vgg16_loss_network"):
        losses.StyleLoss("vgg16")


def _conv(k, cin, cout):
    return k * k * cin * cout + cout


def test_transform_net_has_the_papers_layers():
    # c9s1-32, d64, d128, five R128, u64, u32, c9s1-3; instance norm: 2 per channel.
    convs = [(9, 3, 32), (3, 32, 64), (3, 64, 128)] + [(3, 128, 128)] * 10 + [
        (3, 128, 64), (3, 64, 32)]
    expected = sum(_conv(*c) + 2 * c[2] for c in convs) + _conv(9, 32, 3)
    model = models.transform_net()
    assert model.count_params() == expected
    assert model.output_shape == (None, 256, 256, 3)
    sr = models.sr_transform_net(scale=4)
    assert sr.output_shape == (None, 288, 288, 3)
    convs = [(9, 3, 64)] + [(3, 64, 64)] * 8 + [(3, 64, 64)] * 2
    assert sr.count_params() == sum(_conv(*c) + 2 * c[2] for c in convs) + _conv(9, 64, 3)


def test_transform_net_output_is_an_image_and_trains():
    model = models.transform_net(filters=4, residual_blocks=1, input_shape=(16, 16, 3))
    out = run_model_test(model, RNG.random((2, 16, 16, 3), np.float32), labels=False,
                         round_trip=False)[0]
    assert 0 <= out.min() and out.max() <= 1


@pytest.mark.parametrize("builder, kwargs, match", [
    (models.transform_net, dict(input_shape=(30, 30, 3)), "divisible by 4"),
    (models.sr_transform_net, dict(scale=3), "scale=3"),
])
def test_bad_arguments_are_named(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**kwargs)


def test_grey_images_are_repeated_to_rgb_for_vgg(vgg):
    loss = losses.PerceptualLoss(vgg)
    grey = RNG.random((1, 8, 8, 1), np.float32)
    np.testing.assert_allclose(loss._features(grey)[0].numpy(),
                               loss._features(np.repeat(grey, 3, axis=-1))[0].numpy(), rtol=1e-6)
    assert models.sr_transform_net(channels=1, filters=4, residual_blocks=1,
                                   input_shape=(None, None, 1)).output_shape == (
        None, None, None, 1)
