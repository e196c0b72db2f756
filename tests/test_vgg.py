"""VGG against the paper's configurations and keras.applications.VGG16 / VGG19."""

import keras
import numpy as np
import pytest

from garden import models
from garden.models import vgg11, vgg11_bn, vgg16, vgg19


@pytest.fixture(scope="module")
def twins():
    """garden's and keras.applications' VGG16 at 32x32 with 7 classes."""
    kwargs = dict(input_shape=(32, 32, 3), classes=7)
    return vgg16(**kwargs), keras.applications.VGG16(weights=None, **kwargs)


def test_vgg16_loads_keras_applications_weights_in_order(twins):
    ours, reference = twins
    assert [w.path for w in ours.weights] == [w.path for w in reference.weights]
    assert [w.shape for w in ours.weights] == [w.shape for w in reference.weights]
    ours.set_weights(reference.get_weights())
    x = np.random.default_rng(0).random((3, 32, 32, 3), dtype=np.float32)
    np.testing.assert_array_equal(ours(x), reference(x))


@pytest.fixture(scope="module")
def feature_twins():
    """garden's and keras.applications' VGG19 without the top, max-pooled, at 32x32."""
    kwargs = dict(include_top=False, pooling="max", input_shape=(32, 32, 3))
    return vgg19(**kwargs), keras.applications.VGG19(weights=None, **kwargs)


def test_vgg19_features_load_keras_applications_weights(feature_twins):
    ours, reference = feature_twins
    ours.set_weights(reference.get_weights())
    x = np.random.default_rng(1).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_array_equal(ours(x), reference(x))


def test_weights_from_a_local_file(feature_twins, tmp_path):
    _, reference = feature_twins
    # The legacy whole-model ".h5" format of keras.applications' ImageNet files.
    reference.save(tmp_path / "vgg19.h5")
    ours = vgg19(include_top=False, pooling="max", input_shape=(32, 32, 3),
                 weights=str(tmp_path / "vgg19.h5"))
    x = np.random.default_rng(2).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_array_equal(ours(x), reference(x))


def test_imagenet_delegates_to_keras_applications(monkeypatch):
    calls, references = [], []

    def fake_vgg19(**kwargs):
        calls.append(kwargs)
        references.append(keras.applications.vgg19.VGG19(**{**kwargs, "weights": None}))
        return references[-1]

    monkeypatch.setattr(keras.applications, "VGG19", fake_vgg19)
    model = vgg19(include_top=False, input_shape=(48, 48, 3), weights="imagenet")
    assert calls == [dict(include_top=False, weights="imagenet", input_shape=(48, 48, 3))]
    for a, b in zip(model.get_weights(), references[0].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


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
        (vgg11, dict(weights="imagenet"), "weights='imagenet'"),
        (vgg11_bn, dict(weights="imagenet"), "weights='imagenet'"),
        (vgg16, dict(input_shape=(16, 16, 3)), "at least 32"),
        (vgg16, dict(weights="imagenet", classes=10), "classes=10"),
        (vgg16, dict(include_top=False, pooling="sum"), "pooling='sum'"),
    ],
)
def test_bad_arguments_name_the_argument(builder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        builder(**kwargs)
