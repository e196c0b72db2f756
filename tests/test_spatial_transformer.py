"""SpatialTransformer and stn_classifier against NumPy: the identity, whole-pixel moves, and the
paper's sampling kernel (Eq. 5) written as the full sum over input pixels."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from garden import models
from garden.layers import SpatialTransformer, affine_grid, bilinear_sample
from tests.harness.layers import run_layer_test

RNG = np.random.default_rng(0)
IMAGES = RNG.random((2, 7, 9, 3)).astype(np.float32)


def sample(images, theta, size=None):
    height, width = size or images.shape[1:3]
    theta = np.tile(np.asarray(theta, np.float32), (images.shape[0], 1))
    return np.asarray(bilinear_sample(images, *affine_grid(theta, height, width)))


def reference_sample(image, theta, height, width):
    """Eq. 1 and Eq. 5 of the paper literally: V_i = sum_nm U_nm k(x_i - m) k(y_i - n)."""
    rows, cols = image.shape[:2]
    y_t, x_t = np.meshgrid(np.linspace(-1, 1, height), np.linspace(-1, 1, width), indexing="ij")
    a = np.reshape(theta, (2, 3))
    x_s = a[0, 0] * x_t + a[0, 1] * y_t + a[0, 2]
    y_s = a[1, 0] * x_t + a[1, 1] * y_t + a[1, 2]
    x = (x_s + 1) * (cols - 1) / 2
    y = (y_s + 1) * (rows - 1) / 2
    k_x = np.maximum(0, 1 - np.abs(x[..., None] - np.arange(cols)))  # (h, w, cols)
    k_y = np.maximum(0, 1 - np.abs(y[..., None] - np.arange(rows)))  # (h, w, rows)
    return np.einsum("ijn,ijm,nmc->ijc", k_y, k_x, image)


FLOAT_EPS = float(np.finfo(np.float32).eps)


def test_identity_returns_the_input_within_float_eps():
    # Grid coordinates are exact integers up to float32 rounding of linspace.
    np.testing.assert_allclose(sample(IMAGES, [1, 0, 0, 0, 1, 0]), IMAGES, rtol=0, atol=FLOAT_EPS)


def test_translation_by_one_pixel_shifts_and_zero_fills():
    # x_s = x_t + 2 / (W - 1): every output pixel reads the input pixel one column to its right.
    out = sample(IMAGES, [1, 0, 2 / (IMAGES.shape[2] - 1), 0, 1, 0])
    expected = np.zeros_like(IMAGES)
    expected[:, :, :-1] = IMAGES[:, :, 1:]
    np.testing.assert_allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_rotation_by_quarter_turns_equals_rot90(turns):
    square = RNG.random((2, 6, 6, 2)).astype(np.float32)
    angle = turns * np.pi / 2
    cos, sin = np.round(np.cos(angle)), np.round(np.sin(angle))
    out = sample(square, [cos, -sin, 0, sin, cos, 0])
    np.testing.assert_allclose(out, np.rot90(square, turns, axes=(1, 2)), atol=1e-6)


@pytest.mark.parametrize(
    "theta, size",
    [
        ([0.8, 0.3, 0.1, -0.2, 0.9, -0.15], (7, 9)),  # generic affine, inside and outside
        ([1.3, 0.0, 0.05, 0.0, 1.3, 0.0], (5, 4)),  # zoom out: samples beyond the border
        ([1, 0, 1 / 8, 0, 1, 0], (7, 9)),  # half a pixel right: the last column is half lost
    ],
)
def test_bilinear_sampler_equals_the_papers_kernel_sum(theta, size):
    out = sample(IMAGES, theta, size)
    for image, got in zip(IMAGES, out):
        np.testing.assert_allclose(got, reference_sample(image, theta, *size), atol=1e-5)


def theta_gradient(image, theta, weights):
    theta = tf.Variable([theta], dtype=tf.float32)
    with tf.GradientTape() as tape:
        warped = bilinear_sample(image[None], *affine_grid(theta, *image.shape[:2]))
        loss = tf.reduce_sum(weights * warped[0])
    return tape.gradient(loss, theta).numpy()[0]


def reference_loss(image, theta, weights):
    return float(np.sum(weights * reference_sample(image, theta, *image.shape[:2])))


def test_gradient_matches_central_differences_of_the_kernel_sum():
    theta = np.array([0.83, 0.27, 0.113, -0.21, 0.91, -0.137])  # no sample on a kink
    image, weights = IMAGES[0], RNG.random(IMAGES.shape[1:])
    eps = 1e-4
    numeric = [
        (reference_loss(image, theta + eps * unit, weights)
         - reference_loss(image, theta - eps * unit, weights)) / (2 * eps)
        for unit in np.eye(6)
    ]
    np.testing.assert_allclose(theta_gradient(image, theta, weights), numeric, rtol=1e-3,
                               atol=1e-3)


def test_translation_gradient_at_the_identity_is_the_right_derivative():
    # Every sample of the identity sits on a kink of the kernel; moving right/down must still
    # have the one-sided derivative U[x + 1] - U[x], not lose -U[x] to abs'(0) = 0. A 5x9 image
    # keeps the grid exact in float32, so every sample is exactly on its pixel.
    image = RNG.random((5, 9, 2))
    weights = RNG.random(image.shape)
    identity = np.array([1.0, 0, 0, 0, 1.0, 0])
    eps = 1e-4
    for k in (2, 5):  # t13 and t23, the translations
        step = eps * np.eye(6)[k]
        numeric = (reference_loss(image, identity + step, weights)
                   - reference_loss(image, identity, weights)) / eps
        np.testing.assert_allclose(theta_gradient(image.astype(np.float32), identity,
                                                  weights)[k], numeric, rtol=1e-3)


def localization():
    return keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(4, activation="relu")])


def test_fresh_layer_is_the_identity_and_output_size_sets_the_grid():
    layer = SpatialTransformer(localization())
    np.testing.assert_allclose(np.asarray(layer(IMAGES)), IMAGES, rtol=0, atol=FLOAT_EPS)
    np.testing.assert_allclose(np.asarray(layer.transform(IMAGES)), [[1, 0, 0, 0, 1, 0]] * 2)
    smaller = SpatialTransformer(localization(), output_size=(4, 5))
    assert smaller(IMAGES).shape == (2, 4, 5, 3)
    assert smaller.compute_output_shape((None, 7, 9, 3)) == (None, 4, 5, 3)


@pytest.mark.parametrize("output_size", [None, (4, 5)])
def test_layer_harness(output_size):
    # A random theta kernel, so that the localisation network gets a gradient in the fit step
    # and the round trips compare a transformer that is not the identity.
    height, width = output_size or IMAGES.shape[1:3]
    run_layer_test(
        SpatialTransformer,
        dict(localization=localization(), output_size=output_size,
             theta_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=1)),
        input_data=IMAGES, expected_output_shape=(2, height, width, 3),
        expected_num_trainable_weights=4,
    )


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="localization="):
        SpatialTransformer("conv")
    with pytest.raises(ValueError, match="output_size="):
        SpatialTransformer(localization(), output_size=(4,))


def test_stn_classifier_is_the_same_cnn_with_a_transformer_in_front():
    with_st = models.stn_classifier(input_shape=(42, 42, 1))
    without = models.stn_classifier(transformer=False, input_shape=(42, 42, 1))
    transformer = with_st.get_layer("transformer")
    assert with_st.count_params() - without.count_params() == transformer.count_params()
    assert [w.shape for w in with_st.get_layer("predictions").weights] == [
        w.shape for w in without.get_layer("predictions").weights
    ]
    # A fresh transformer is the identity, so both networks compute the same function.
    skip = {id(v) for v in transformer.weights}
    without.set_weights([v.numpy() for v in with_st.weights if id(v) not in skip])
    x = RNG.random((2, 42, 42, 1)).astype(np.float32)
    np.testing.assert_allclose(with_st.predict(x, verbose=0), without.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)

