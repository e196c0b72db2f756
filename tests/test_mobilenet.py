"""MobileNet v1's weights from files (the keras.applications weight order is
tests/test_registry.py's; its Table 6 counts are registry figures)."""

import keras
import numpy as np
import pytest

from garden.models import mobilenet_v1


@pytest.fixture(scope="module")
def reference():
    """keras.applications' MobileNet at alpha 0.5, 64x64, 7 classes."""
    return keras.applications.MobileNet(weights=None, alpha=0.5, input_shape=(64, 64, 3),
                                        classes=7)


def test_same_layers_as_keras_applications(reference):
    # The same layer types and configurations (padding of the 1x1 convolutions included) give
    # the same graph, so garden trains at keras.applications' speed (benchmarks.applications).
    ours = mobilenet_v1(alpha=0.5, input_shape=(64, 64, 3), classes=7)

    def configs(model):
        return [(type(layer), {k: v for k, v in layer.get_config().items() if k != "name"})
                for layer in model.layers[1:]]

    assert configs(ours) == configs(reference)


@pytest.mark.parametrize("filename", ["ref.weights.h5", "ref.h5"])
def test_weights_from_a_local_file(reference, tmp_path, filename):
    path = tmp_path / filename
    # ".h5" is the legacy whole-model format keras.applications' ImageNet files use.
    reference.save_weights(path) if filename.endswith(".weights.h5") else reference.save(path)
    ours = mobilenet_v1(alpha=0.5, input_shape=(64, 64, 3), classes=7, weights=str(path))
    x = np.random.default_rng(1).random((2, 64, 64, 3), dtype=np.float32)
    np.testing.assert_array_equal(ours(x), reference(x))


def test_feature_extractor_and_logits():
    features = mobilenet_v1(alpha=0.25, include_top=False, pooling="avg", input_shape=(32, 32, 3))
    assert features.output_shape == (None, 256)
    logits = mobilenet_v1(alpha=0.25, input_shape=(32, 32, 3), classes=4,
                          classifier_activation=None)
    out = np.asarray(logits(np.ones((2, 32, 32, 3), "float32")))
    assert not np.allclose(out.sum(axis=1), 1.0)


def test_input_tensor_is_used():
    inputs = keras.Input((48, 48, 3))
    model = mobilenet_v1(alpha=0.25, input_tensor=inputs, classes=3)
    assert model.inputs[0] is inputs


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(alpha=0), "alpha=0"),
        (dict(alpha="0.5"), "alpha='0.5'"),
        (dict(dropout="0.1"), "dropout='0.1'"),
        (dict(input_shape=(16, 16, 3)), "at least 32"),
        (dict(weights="no/such/file.h5"), "weights='no/such/file.h5'"),
        (dict(weights="imagenet", classes=10), "classes=10"),
        (dict(weights="imagenet", alpha=0.3), "alpha=0.3"),
        (dict(pooling="mean", include_top=False), "pooling='mean'"),
        (dict(classes=0), "classes=0"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        mobilenet_v1(**kwargs)


def test_timm_variant_pads_as_pytorch_with_the_same_weights():
    # timm's network has keras.applications' weights (names and shapes) but pads stride-2
    # convolutions on every side and uses PyTorch's batch-norm epsilon (tests/test_weights_timm.py
    # checks it against timm itself).
    kwargs = dict(alpha=0.25, input_shape=(32, 32, 3), classes=3)
    keras_variant, timm_variant = mobilenet_v1(**kwargs), mobilenet_v1(variant="timm", **kwargs)
    assert [(w.path, w.shape) for w in timm_variant.weights] == [
        (w.path, w.shape) for w in keras_variant.weights]
    assert timm_variant.get_layer("conv1_pad").padding == ((1, 1), (1, 1))
    assert timm_variant.get_layer("conv_pad_2").padding == ((1, 1), (1, 1))
    assert keras_variant.get_layer("conv_pad_2").padding == ((0, 1), (0, 1))
    assert timm_variant.get_layer("conv1_bn").epsilon == 1e-5
    with pytest.raises(ValueError, match="variant='timm' is not allowed with weights='imagenet'"):
        mobilenet_v1(variant="timm", weights="imagenet")
    with pytest.raises(ValueError, match="variant='torch'"):
        mobilenet_v1(variant="torch")
