"""MobileNet v1 against the paper's Table 6 and keras.applications.MobileNet."""

import keras
import numpy as np
import pytest

from garden.models import mobilenet_v1


@pytest.mark.parametrize(
    "alpha, params",
    # Table 6 of Howard et al. rounds these to 4.2M, 2.6M, 1.3M and 0.5M;
    # keras.applications.MobileNet builds the same networks with these exact counts.
    [(1.0, 4_253_864), (0.75, 2_601_976), (0.5, 1_342_536), (0.25, 475_544)],
)
def test_parameter_count_at_224(alpha, params):
    assert mobilenet_v1(alpha=alpha).count_params() == params


@pytest.fixture(scope="module")
def twins():
    """garden's and keras.applications' MobileNet at alpha 0.5, 64x64, 7 classes."""
    kwargs = dict(alpha=0.5, input_shape=(64, 64, 3), classes=7)
    return mobilenet_v1(**kwargs), keras.applications.MobileNet(weights=None, **kwargs)


def test_keras_applications_weights_load_in_order(twins):
    ours, reference = twins
    assert [w.shape for w in ours.weights] == [w.shape for w in reference.weights]
    ours.set_weights(reference.get_weights())
    x = np.random.default_rng(0).random((3, 64, 64, 3), dtype=np.float32)
    np.testing.assert_array_equal(ours(x), reference(x))


@pytest.mark.parametrize("filename", ["ref.weights.h5", "ref.h5"])
def test_weights_from_a_local_file(twins, tmp_path, filename):
    _, reference = twins
    path = tmp_path / filename
    # ".h5" is the legacy whole-model format keras.applications' ImageNet files use.
    reference.save_weights(path) if filename.endswith(".weights.h5") else reference.save(path)
    ours = mobilenet_v1(alpha=0.5, input_shape=(64, 64, 3), classes=7, weights=str(path))
    x = np.random.default_rng(1).random((2, 64, 64, 3), dtype=np.float32)
    np.testing.assert_array_equal(ours(x), reference(x))


def test_imagenet_delegates_to_keras_applications(monkeypatch):
    calls, references = [], []

    def fake_mobilenet(**kwargs):
        calls.append(kwargs)
        references.append(keras.applications.mobilenet.MobileNet(**{**kwargs, "weights": None}))
        return references[-1]

    monkeypatch.setattr(keras.applications, "MobileNet", fake_mobilenet)
    model = mobilenet_v1(alpha=0.25, input_shape=(128, 128, 3), include_top=False,
                         weights="imagenet")
    assert calls == [dict(input_shape=(128, 128, 3), alpha=0.25, include_top=False,
                          weights="imagenet")]
    for a, b in zip(model.get_weights(), references[0].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


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
