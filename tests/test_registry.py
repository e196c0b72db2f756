"""The registry, and the checks every registered model gets (as timm's test_models does).

A model is covered here the moment it is registered: its depth-reduced test instance
(`ModelEntry.build_small`) passes `run_model_test` (forward shape and no NaN, a nonzero gradient
for every trainable weight, a `.keras` round trip with safe mode on, a fit step); a classifier
documents and checks the keras.applications contract; an entry with `keras_application` data has
that model's weights in its order.
"""

import inspect
import json
import re

import keras
import numpy as np
import pytest

from garden import models
from tests.harness.models import registry_model_test

ALL_MODELS = models.list_models()


def test_registry_is_filled_by_import():
    assert "mobilenet_v1" in ALL_MODELS
    assert models.list_models("mobile*") == ["mobilenet_v1"]
    assert models.list_models("nothing*") == []


def test_every_builder_is_importable_by_name():
    for name in ALL_MODELS:
        assert getattr(models, name) is models.get_entry(name).builder


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match="Did you mean: mobilenet_v1"):
        models.build("mobilenet_v2x")


def test_unknown_argument_names_accepted_ones():
    with pytest.raises(ValueError, match=r"does not accept argument\(s\) alfa\. Accepted: alpha"):
        models.build("mobilenet_v1", alfa=0.5)


def test_registering_a_name_twice_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        models.register_model(paper="x", year=2000, arxiv="x", input_shape=(1,))(
            models.get_entry("mobilenet_v1").builder
        )


def test_info_reports_paper_and_parameters():
    info = models.info("mobilenet_v1")
    assert info["year"] == 2017
    assert info["arxiv"].startswith("https://arxiv.org/abs/")
    assert info["input_shape"] == (224, 224, 3)
    assert info["parameters"] == 4_253_864


@pytest.mark.parametrize("name", ALL_MODELS)
def test_entry_is_documented(name):
    entry = models.get_entry(name)
    doc = inspect.getdoc(entry.builder)
    assert doc, f"{name} has no docstring"
    assert set(entry.small_kwargs) <= set(entry.arguments)
    # Every argument is documented (Google style), for `help()` and the docs site.
    for argument in entry.arguments:
        assert re.search(rf"^    {argument}: ", doc, flags=re.MULTILINE), (name, argument)


def architecture(model):
    """The model's layers and their configurations, names left out: two variants whose test
    instances share it (a family's depth-reduced spec replaces the variant's) are one network."""
    def unnamed(config):
        return {k: v for k, v in config.items() if k != "name"}

    return json.dumps([(type(layer).__name__, unnamed(layer.get_config()))
                       for layer in model.layers], sort_keys=True, default=str)


_CHECKED = {}  # architecture -> the first model checked with it, in this session


@pytest.mark.parametrize("name", ALL_MODELS)
def test_model(name, small_model):
    """Forward, backward to every weight, `.keras` round trip and a fit step (the harness),
    on the depth-reduced test instance. A variant whose test instance is, layer for layer, a
    network already checked (hrnet_w32 after hrnet_w18: one reduced spec) is not checked twice;
    its full-size figures are (tests/test_paper_figures.py)."""
    model = small_model(name)
    same = _CHECKED.setdefault(architecture(model), name)
    if same != name:
        # Only variants of one family may share a reduced network; across families it would mean
        # a builder that ignores what makes it different.
        family = models.get_entry(name).builder.__module__
        assert models.get_entry(same).builder.__module__ == family, (name, same)
        pytest.skip(f"{name}'s test instance is {same}'s network, checked above")
    registry_model_test(name, model)


CLASSIFIERS = [name for name in ALL_MODELS if "include_top" in models.get_entry(name).arguments]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_contract_is_documented_and_checked(name):
    entry = models.get_entry(name)
    contract = ["include_top", "weights", "input_tensor", "input_shape", "pooling", "classes",
                "classifier_activation", "include_preprocessing", "name"]
    assert entry.arguments[-len(contract):] == contract
    doc = inspect.getdoc(entry.builder)
    documented = re.findall(r"^    (\w+): ", doc, flags=re.MULTILINE)
    assert documented == entry.arguments, f"{name} documents {documented}"
    assert inspect.signature(entry.builder).parameters["name"].default == name
    with pytest.raises(ValueError, match=f"{name} does not accept argument\\(s\\) alfa"):
        entry.builder(alfa=1)
    with pytest.raises(ValueError, match="include_top='yes'"):
        entry.builder(include_top="yes")
    with pytest.raises(ValueError, match="classes=2.0"):
        entry.builder(classes=2.0)


# Classifiers whose output is not class scores: CapsNet's are capsule lengths, for MarginLoss.
OTHER_OUTPUTS = {"capsnet": "MarginLoss"}


def test_classifiers_honour_classifier_activation(small_model):
    """One output convention: a registered classifier takes keras.applications'
    `classifier_activation` and gives probabilities by default (softmax), so the usual
    `sparse_categorical_crossentropy` fits; the exceptions document their output's loss."""
    classifiers = [name for name in ALL_MODELS if models.get_entry(name).task == "classification"]
    assert len(classifiers) >= 25
    for name in classifiers:
        entry = models.get_entry(name)
        if name in OTHER_OUTPUTS:
            documented = inspect.getdoc(entry.builder) + inspect.getdoc(
                inspect.getmodule(entry.builder))
            assert OTHER_OUTPUTS[name] in documented, name
            continue
        assert "classifier_activation" in entry.arguments, name
        assert inspect.signature(entry.builder).parameters[
            "classifier_activation"].default == "softmax", name
        model = small_model(name)
        output = model(np.random.default_rng(0).random((2, *model.input_shape[1:]), "float32"))
        output = keras.ops.convert_to_numpy(output[0] if isinstance(output, (list, tuple))
                                            else output)
        np.testing.assert_allclose(output.sum(axis=-1), 1.0, rtol=1e-5, err_msg=name)


@pytest.mark.parametrize("name", ["vgg11", "alexnet", "googlenet"])
def test_a_flattening_top_needs_a_fixed_size(name):
    with pytest.raises(ValueError, match="fixed"):
        models.build(name, input_shape=(None, None, 3))
    features = models.build(name, include_top=False, pooling="avg", input_shape=(None, None, 3))
    assert features.input_shape == (None, None, None, 3)


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("mobilenet_v1", {"alpha": "0.5"}, "alpha='0.5'"),
        ("mobilenet_v1", {"depth_multiplier": 1.5}, "depth_multiplier=1.5"),
        ("resnet18", {"shortcuts": "no"}, "shortcuts='no'"),
        ("googlenet", {"aux_loss_weight": "0.3"}, "aux_loss_weight='0.3'"),
        ("selu_mlp", {"depth": True}, "depth=True"),
        ("capsnet", {"decoder": 1}, "decoder=1"),
        ("deeplab", {"dropout": 1.5}, "dropout=1.5"),
    ],
)
def test_wrong_types_are_value_errors_naming_argument_and_allowed(name, kwargs, message):
    with pytest.raises(ValueError, match=f"{message} is not allowed: use "):
        models.build(name, **kwargs)


KERAS_APPLICATIONS = [name for name in ALL_MODELS if models.get_entry(name).keras_application]
SLOW_APPLICATIONS = ("resnet101", "resnet152")


def randomise(model, seed):
    """Random weights everywhere, batch-norm statistics included, so no detail can hide."""
    rng = np.random.default_rng(seed)
    model.set_weights([  # float32 draws: VGG-19 with its top holds 20M weights
        rng.random(w.shape, np.float32) + 0.5 if "variance" in w.path or "gamma" in w.path
        else 0.05 * rng.standard_normal(w.shape, np.float32)
        for w in model.weights
    ])


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.slow) if name in SLOW_APPLICATIONS else name
    for name in KERAS_APPLICATIONS
])
def test_keras_applications_weights_load_in_order(name, monkeypatch):
    """The same weights in the same order as the registry's keras.applications model, with and
    without the top, so `weights="keras"` (which copies them) computes keras' network."""
    application = getattr(keras.applications, models.get_entry(name).keras_application)
    kwargs = dict(input_shape=(32, 32, 3), classes=7)
    ours, reference = models.build(name, **kwargs), application(weights=None, **kwargs)
    assert [w.path for w in ours.weights] == [w.path for w in reference.weights]
    assert [w.shape for w in ours.weights] == [w.shape for w in reference.weights]
    randomise(reference, seed=0)
    ours.set_weights(reference.get_weights())
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_array_equal(ours(x), reference(x))

    # weights="keras" asks keras.applications (here without the download) for its model (the
    # model's "imagenet" where keras.applications' is its default checkpoint).
    calls, references = [], []

    def fake_application(**kwargs):
        calls.append(kwargs)
        references.append(application(**{**kwargs, "weights": None}))
        randomise(references[-1], seed=1)
        return references[-1]

    monkeypatch.setattr(keras.applications, application.__name__, fake_application)
    features = models.build(name, include_top=False, input_shape=(32, 32, 3), weights="keras")
    assert [(c["include_top"], c["weights"], c["input_shape"]) for c in calls] == [
        (False, "imagenet", (32, 32, 3))
    ]
    np.testing.assert_allclose(features(x), references[0](x), rtol=1e-6)
