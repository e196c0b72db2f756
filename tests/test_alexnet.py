"""AlexNet against section 3 of Krizhevsky et al. (and torchvision's single-stream widths)."""

import keras
import numpy as np
import pytest

from garden.layers import LocalResponseNormalization
from garden.models import alexnet
from tests.harness.models import run_model_test


@pytest.fixture(scope="module")
def two_gpu_features():
    return alexnet(groups=2, include_top=False)


def test_two_group_network_has_the_papers_kernels_and_maps(two_gpu_features):
    # Section 3.5: 96 kernels of 11x11x3 with stride 4; 256 of 5x5x48; 384 of 3x3x256 connected
    # to all of the second layer's outputs; 384 of 3x3x192; 256 of 3x3x192.
    kernels = [two_gpu_features.get_layer(f"conv{i}").kernel.shape for i in range(1, 6)]
    assert kernels == [(11, 11, 3, 96), (5, 5, 48, 256), (3, 3, 256, 384), (3, 3, 192, 384),
                       (3, 3, 192, 256)]
    assert two_gpu_features.get_layer("conv1").strides == (4, 4)
    # He-uniform convolutions: standard deviation sqrt(2 / fan_in).
    conv3 = two_gpu_features.get_layer("conv3").kernel.numpy()
    assert np.std(conv3) == pytest.approx(np.sqrt(2 / (3 * 3 * 256)), rel=0.05)
    # Figure 2 at 227x227: 55x55 after conv1, 27x27 and 13x13 after pooling, 6x6x256 at the end.
    maps = {name: two_gpu_features.get_layer(name).output.shape[1:]
            for name in ("conv1", "pool1", "conv2", "pool2", "conv5", "pool5")}
    assert maps == {"conv1": (55, 55, 96), "pool1": (27, 27, 96), "conv2": (27, 27, 256),
                    "pool2": (13, 13, 256), "conv5": (13, 13, 256), "pool5": (6, 6, 256)}


def test_grouped_layers_see_only_their_own_gpus_channels(two_gpu_features):
    conv2 = two_gpu_features.get_layer("conv2")
    x = np.random.default_rng(0).random((1, 27, 27, 96), dtype=np.float32)
    changed = x.copy()
    changed[..., 48:] += 1.0  # the second GPU's half of conv1's output
    before, after = np.asarray(conv2(x)), np.asarray(conv2(changed))
    np.testing.assert_array_equal(after[..., :128], before[..., :128])
    assert not np.allclose(after[..., 128:], before[..., 128:])


def test_normalization_overlapping_pooling_and_dropout():
    model = alexnet(input_shape=(63, 63, 3), classes=5, classifier_activation=None)
    names = [layer.name for layer in model.layers]
    # Sections 3.3-3.4: normalization after conv1 and conv2, then 3x3 pooling of stride 2.
    assert names[names.index("conv1") :][:3] == ["conv1", "lrn1", "pool1"]
    assert names[names.index("conv2") :][:3] == ["conv2", "lrn2", "pool2"]
    lrns = [layer for layer in model.layers if isinstance(layer, LocalResponseNormalization)]
    assert [(lrn.n, lrn.k, lrn.alpha, lrn.beta) for lrn in lrns] == [(5, 2.0, 1e-4, 0.75)] * 2
    pools = [layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert [(p.pool_size, p.strides) for p in pools] == [((3, 3), (2, 2))] * 3
    # Section 4.2: dropout 0.5 on the two hidden fully connected layers.
    assert names[-5:] == ["fc6", "fc6_dropout", "fc7", "fc7_dropout", "predictions"]
    assert model.get_layer("fc6_dropout").rate == model.get_layer("fc7_dropout").rate == 0.5
    out = np.asarray(model(np.ones((2, 63, 63, 3), "float32")))
    assert out.shape == (2, 5) and not np.allclose(out.sum(axis=1), 1.0)


def test_single_stream_maps_at_224():
    model = alexnet(include_top=False, pooling="max")
    assert model.get_layer("conv1").output.shape[1:] == (55, 55, 64)
    assert model.get_layer("pool5").output.shape[1:] == (6, 6, 256)
    assert model.output_shape == (None, 256)


def test_two_group_features_pass_the_model_checks():
    model = alexnet(groups=2, include_top=False, pooling="max", input_shape=(67, 67, 3))
    run_model_test(model, expected_output_shape=(2, 256))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(groups=3), "groups=3"),
        (dict(input_shape=(62, 62, 3)), "at least 63"),
        (dict(groups=2, input_shape=(66, 66, 3)), "at least 67"),
        (dict(weights="caffe"), "weights='caffe'"),
        (dict(classes=0), "classes=0"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        alexnet(**kwargs)
