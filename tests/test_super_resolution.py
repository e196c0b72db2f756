"""Sub-pixel convolution, ESPCN and SRCNN against the papers' numbers; PSNR/SSIM against
scikit-image; the patch-pair pipeline against its definition."""

import numpy as np
import pytest
import skimage.color
import skimage.metrics
import tensorflow as tf

from garden import models
from garden.data import sr_patches
from garden.layers import SubPixelConv2D
from garden.metrics import PSNR, SSIM, psnr, rgb_to_y, ssim
from tests.harness.layers import run_layer_test

RNG = np.random.default_rng(0)


def test_subpixel_conv_equals_depth_to_space_of_its_convolution():
    layer = SubPixelConv2D(channels=2, scale=3, kernel_size=3)
    x = RNG.normal(size=(2, 5, 4, 7)).astype(np.float32)
    out = np.asarray(layer(x))
    assert out.shape == (2, 15, 12, 2)
    np.testing.assert_allclose(out, tf.nn.depth_to_space(layer.conv(x), 3).numpy(), rtol=1e-6)


def test_subpixel_layer_harness():
    run_layer_test(SubPixelConv2D, dict(channels=2, scale=3, kernel_size=3),
                   input_shape=(2, 5, 4, 7), expected_output_shape=(2, 15, 12, 2),
                   expected_num_trainable_weights=2)


def test_subpixel_shuffle_follows_the_papers_periodic_shuffling_formula():
    # PS(T)[y, x, c] = T[y // r, x // r, C r (y mod r) + C (x mod r) + c], Eq. 4 of the paper.
    r, channels = 2, 3
    layer = SubPixelConv2D(channels, r, kernel_size=1)
    layer.build((None, 3, 4, channels * r * r))
    layer.conv.set_weights([np.eye(channels * r * r)[None, None].astype(np.float32),
                            np.zeros(channels * r * r, np.float32)])  # the conv is the identity
    t = RNG.normal(size=(1, 3, 4, channels * r * r)).astype(np.float32)
    out = np.asarray(layer(t))[0]
    for y in range(6):
        for x in range(8):
            for c in range(channels):
                expected = t[0, y // r, x // r, channels * r * (y % r) + channels * (x % r) + c]
                assert out[y, x, c] == pytest.approx(expected)


def weights_and_biases(model):
    kernels = sum(int(np.prod(w.shape)) for w in model.weights if w.name == "kernel")
    return kernels, model.count_params() - kernels


def test_espcn_output_sizes():
    model = models.espcn(scale=3, channels=1)
    assert model.output_shape == (None, 51, 51, 1)
    assert models.espcn(scale=4, input_shape=(None, None, 3), channels=3).output_shape == (
        None, None, None, 3)


@pytest.mark.parametrize(
    "variant, weights, biases, output",
    [("9-1-5", 8_032, 97, 21), ("9-5-5", 57_184, 97, 17), ("9-3-5", 24_416, 97, 19)],
)
def test_srcnn_parameters_and_valid_output_sizes(variant, weights, biases, output):
    model = models.srcnn(kernel_sizes=models.super_resolution.SRCNN_KERNELS[variant])
    assert weights_and_biases(model) == (weights, biases)
    assert model.input_shape == (None, 33, 33, 1)
    assert model.output_shape == (None, output, output, 1)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="scale=1"):
        models.espcn(scale=1)
    with pytest.raises(ValueError, match="kernel_sizes="):
        models.srcnn(kernel_sizes=(9, 5))


def test_psnr_and_ssim_equal_scikit_image():
    clean = RNG.random((2, 40, 36, 1)).astype(np.float32)
    noisy = np.clip(clean + RNG.normal(0, 0.1, clean.shape), 0, 1).astype(np.float32)
    for i in range(2):
        assert float(psnr(clean, noisy)[i]) == pytest.approx(
            skimage.metrics.peak_signal_noise_ratio(clean[i], noisy[i], data_range=1), rel=1e-5)
        assert float(ssim(clean, noisy)[i]) == pytest.approx(
            skimage.metrics.structural_similarity(
                clean[i, ..., 0], noisy[i, ..., 0], data_range=1, gaussian_weights=True,
                sigma=1.5, use_sample_covariance=False),
            rel=1e-4)
    metric = PSNR()
    metric.update_state(clean, noisy)
    assert float(metric.result()) == pytest.approx(float(np.mean(psnr(clean, noisy))), rel=1e-6)
    assert SSIM.from_config(SSIM(max_val=255.0).get_config()).max_val == 255.0


def test_y_channel_equals_scikit_image_ycbcr():
    rgb = RNG.random((5, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(rgb_to_y(rgb))[..., 0],
                               skimage.color.rgb2ycbcr(rgb)[..., 0] / 255, atol=1e-6)


def test_patch_pairs_are_aligned_crops_of_the_degraded_image():
    image = RNG.random((40, 47)).astype(np.float32)
    high, low, bicubic = sr_patches.degrade(image, 3)
    assert high.shape == (39, 45) and low.shape == (13, 15) and bicubic.shape == (39, 45)
    inputs, targets = sr_patches.patch_pairs([image], scale=3, patch_size=33, stride=6, crop=6)
    assert inputs.shape == (6, 33, 33, 1) and targets.shape == (6, 21, 21, 1)
    np.testing.assert_array_equal(inputs[1, ..., 0], bicubic[0:33, 6:39])
    np.testing.assert_array_equal(targets[1, ..., 0], high[6:27, 12:33])
    inputs, targets = sr_patches.patch_pairs([image], scale=3, patch_size=5, stride=5,
                                             model_input="low_resolution")
    assert inputs.shape == (6, 5, 5, 1) and targets.shape == (6, 15, 15, 1)
    np.testing.assert_array_equal(inputs[4, ..., 0], low[5:10, 5:10])
    np.testing.assert_array_equal(targets[4, ..., 0], high[15:30, 15:30])


def test_train_and_test_photographs_are_disjoint():
    assert not set(sr_patches.TRAIN_PHOTOGRAPHS) & set(sr_patches.TEST_PHOTOGRAPHS)
    y = sr_patches.luminance("chelsea")
    assert y.ndim == 2 and 16 / 255 - 1e-6 <= y.min() and y.max() <= 235 / 255 + 1e-6
