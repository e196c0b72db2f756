"""Classifiers without their top: `pooling` as keras.applications has it, and the stage features
by stride (`models.features`), over the registry on depth-reduced instances."""

import doctest
import math

import keras
import numpy as np
import pytest

import garden.models._features
from garden import models

CLASSIFIERS = [n for n in models.list_models()
               if models.get_entry(n).task == "classification"]
WITH_TOP = [n for n in CLASSIFIERS if "include_top" in models.get_entry(n).arguments]
WITH_FEATURES = [n for n in models.list_models() if models.get_entry(n).feature_layers]
# Classifiers without the keras.applications contract or without stage features, and why.
NO_TOP = {
    "capsnet": "its output is class capsules, not a pooled feature map",
    "conv_fabric": "a trellis whose output node is chosen by `task`, not a backbone and a top",
    "dropout_mlp": "dense layers only: no feature map to pool",
    "selu_mlp": "dense layers only: no feature map to pool",
}
NO_FEATURES = {
    "capsnet": "two convolutions feeding capsules: no stages of a pyramid",
    "dropout_mlp": "no spatial feature maps",
    "selu_mlp": "no spatial feature maps",
}
# The default tier checks one instance per kind of network (pooling: per family module, as the
# contract is written once); the other variants are slow.
POOLING_TIER = {"alexnet", "googlenet", "hrnet_w18_small", "mobilenet_v1", "resnet18",
                "squeezenet1_0", "stn_classifier", "vgg16_bn"}
DEFAULT_TIER = {"alexnet", "conv_fabric", "googlenet", "hrnet_w18_small", "mobilenet_v1",
                "resnet18", "resnet20", "resnet50d", "squeezenet1_0", "stn_classifier",
                "vgg16_bn"}
# Input sizes at which every stride shows exactly as round(log2(input / output)) (unpadded
# poolings shrink small maps by more than their stride).
SIZES = {"alexnet": 127, "googlenet": 64, "squeezenet1_0": 128, "squeezenet1_1": 128}
X_SEED = 0


def tiered(names, tier=DEFAULT_TIER):
    return [n if n in tier else pytest.param(n, marks=pytest.mark.slow) for n in names]


def small_kwargs(name, **overrides):
    kwargs = dict(models.get_entry(name).small_kwargs, **overrides)
    if name in SIZES:
        kwargs["input_shape"] = (SIZES[name], SIZES[name], kwargs["input_shape"][-1])
    return kwargs


@pytest.fixture(scope="session")
def backbone():
    """`backbone(name, pooling)`: the depth-reduced instance without its top, built once."""
    cache = {}

    def get(name, pooling=None):
        if (name, pooling) not in cache:
            entry = models.get_entry(name)
            top = ({"include_top": False, "pooling": pooling} if name in WITH_TOP else {})
            keras.utils.set_random_seed(0)
            cache[name, pooling] = (entry.tiny or entry.builder)(**small_kwargs(name, **top))
        return cache[name, pooling]

    return get


def image(model):
    shape = (1, *model.input_shape[1:])
    return np.random.default_rng(X_SEED).random(shape, dtype=np.float32)


def test_every_classifier_has_the_contract_and_features_or_a_reason():
    assert sorted(set(CLASSIFIERS) - set(WITH_TOP)) == sorted(NO_TOP)
    assert sorted(set(CLASSIFIERS) - set(WITH_FEATURES)) == sorted(NO_FEATURES)
    assert set(WITH_FEATURES) <= set(CLASSIFIERS)
    modules = {models.get_entry(n).builder.__module__ for n in WITH_FEATURES}
    assert modules == {models.get_entry(n).builder.__module__ for n in DEFAULT_TIER}
    modules = {models.get_entry(n).builder.__module__ for n in WITH_TOP}
    assert modules == {models.get_entry(n).builder.__module__ for n in POOLING_TIER}


@pytest.mark.parametrize("name", tiered(WITH_TOP, POOLING_TIER))
def test_include_top_false_honours_pooling(name, backbone):
    # As keras.applications: None, the feature map; "avg" / "max", its global mean / maximum.
    # (HRNet passes once include_top=False returns its final map, not its four branches.)
    feature_map = backbone(name)
    assert not isinstance(feature_map.output, (list, tuple)) and len(feature_map.output_shape) == 4
    x = image(feature_map)
    maps = keras.ops.convert_to_numpy(feature_map(x))
    for pooling, reduce in (("avg", np.mean), ("max", np.max)):
        pooled = backbone(name, pooling)
        assert pooled.output_shape == (None, feature_map.output_shape[-1])
        pooled.set_weights(feature_map.get_weights())
        np.testing.assert_allclose(keras.ops.convert_to_numpy(pooled(x)),
                                   reduce(maps, axis=(1, 2)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", tiered(WITH_FEATURES))
def test_features_have_their_strides_and_are_the_classifiers_activations(name, backbone):
    model = backbone(name)
    layers = models.feature_layers(model)
    pyramid = models.features(model)
    assert pyramid.output_names == list(layers.values())
    size = model.input_shape[1]
    measured = [2 ** round(math.log2(size / shape[1])) for shape in pyramid.output_shape]
    assert measured == list(layers)
    x = image(model)
    outputs = [keras.ops.convert_to_numpy(y) for y in pyramid(x)]
    for (stride, layer), y in zip(layers.items(), outputs):
        probe = keras.Model(model.input, model.get_layer(layer).output)
        np.testing.assert_array_equal(y, keras.ops.convert_to_numpy(probe(x)))
    if name in WITH_TOP and not name.startswith("hrnet"):
        # The deepest stage is what the classifier without its top returns.
        np.testing.assert_array_equal(outputs[-1], keras.ops.convert_to_numpy(model(x)))


@pytest.mark.parametrize("name, expected", [
    ("resnet18", {2: "conv1_relu", 4: "conv2_block1_out", 8: "conv3_block1_out",
                  16: "conv4_block1_out", 32: "conv5_block1_out"}),
    ("resnet50d", {2: "conv1_3_relu", 4: "conv2_block1_out", 8: "conv3_block1_out",
                   16: "conv4_block1_out", 32: "conv5_block1_out"}),
    ("resnet20", {1: "conv2_block1_out", 2: "conv3_block1_out", 4: "conv4_block1_out"}),
    ("vgg16_bn", {1: "block1_conv2_relu", 2: "block2_conv2_relu", 4: "block3_conv3_relu",
                  8: "block4_conv3_relu", 16: "block5_conv3_relu", 32: "block5_pool"}),
    ("alexnet", {4: "lrn1", 8: "lrn2", 16: "conv5", 32: "pool5"}),
    ("squeezenet1_0", {2: "conv1", 4: "fire4_concat", 8: "fire8_concat", 16: "fire9_concat"}),
    ("googlenet", {2: "conv1_relu", 4: "lrn2", 8: "inception3b_output",
                   16: "inception4e_output", 32: "inception5b_output"}),
    # The tiny MobileNet has 7 blocks: its stride-8 and -16 stages end earlier than the 13's.
    ("mobilenet_v1", {2: "conv_pw_1_relu", 4: "conv_pw_3_relu", 8: "conv_pw_4_relu",
                      16: "conv_pw_5_relu", 32: "conv_pw_7_relu"}),
    ("hrnet_w18_small", {2: "stem1_relu", **{4 * 2 ** i: f"stage4_module1_fuse{i}_out"
                                             for i in range(4)}}),
    ("stn_classifier", {1: "conv1", 2: "conv2", 4: "pool2"}),
    ("conv_fabric", {1: "node2_0_relu", 2: "node2_1_relu", 4: "node2_2_relu"}),
])
def test_the_stage_features_are_the_last_layers_of_their_stages(name, expected, backbone):
    assert models.feature_layers(backbone(name)) == expected


def test_full_size_mobilenet_stages_end_where_keras_applications_stages_end():
    mobilenet = models.mobilenet_v1(alpha=0.25, include_top=False, input_shape=(64, 64, 3))
    assert models.feature_layers(mobilenet) == {
        2: "conv_pw_1_relu", 4: "conv_pw_3_relu", 8: "conv_pw_5_relu", 16: "conv_pw_11_relu",
        32: "conv_pw_13_relu"}


@pytest.mark.slow
def test_full_size_resnet50_stages_end_where_keras_applications_stages_end():
    resnet = models.resnet50(include_top=False, input_shape=(64, 64, 3))
    assert list(models.feature_layers(resnet).values()) == [
        "conv1_relu", "conv2_block3_out", "conv3_block4_out", "conv4_block6_out",
        "conv5_block3_out"]


def test_features_by_name_builds_the_backbone_and_keeps_the_order_of_strides():
    pyramid = models.features("resnet20", strides=(4, 1), input_shape=(16, 16, 3))
    assert pyramid.output_shape == [(None, 4, 4, 64), (None, 16, 16, 16)]
    single = models.features("resnet20", strides=2, input_shape=(16, 16, 3))
    assert single.output_shape == (None, 8, 8, 32)
    # Strides are read from the layers, so a variable input size has them too.
    variable = models.features("resnet20", input_shape=(None, None, 3))
    assert variable.output_shape == [(None, None, None, c) for c in (16, 32, 64)]


def test_a_renamed_model_needs_its_architecture(backbone):
    model = backbone("resnet20")
    renamed = keras.Model(model.input, model.output, name="my_backbone")
    with pytest.raises(ValueError, match="model.name='my_backbone' is not allowed: it is not a"):
        models.features(renamed)
    pyramid = models.features(renamed, strides=(4,), architecture="resnet20")
    assert pyramid.output_names == ["conv4_block1_out"]


@pytest.mark.parametrize("call, message", [
    (lambda m: models.features(m, strides=(4, 8)),
     r"strides=\(4, 8\) is not allowed for resnet20: its stage features are at strides "
     r"\(1, 2, 4\)"),
    (lambda m: models.features(m, strides=()), r"strides=\(\) is not allowed"),
    (lambda m: models.features(m, weights=None), "builder argument\\(s\\) weights are not"),
    (lambda m: models.features("unet"), "model='unet' is not allowed: it is not a registered "
                                        "model with stage features. Models with them: alexnet, "
                                        "conv_fabric"),
    (lambda m: models.features("resnet20", architecture="resnet20"), "architecture='resnet20'"),
    (lambda m: models.features(3), "model=3 is not allowed"),
])
def test_errors_name_the_argument_and_what_is_available(call, message, backbone):
    with pytest.raises(ValueError, match=message):
        call(backbone("resnet20"))


def test_docstring_examples_run():
    result = doctest.testmod(garden.models._features)
    assert result.attempted > 0 and result.failed == 0


def test_a_classifier_with_its_top_gives_the_same_stages(backbone, small_model):
    # GoogLeNet with its auxiliary classifiers (a `GoogLeNet` model): the top is left out.
    model = small_model("googlenet")  # 65x65, shared with the registry's tests
    assert isinstance(model, models.GoogLeNet)
    assert models.feature_layers(model) == models.feature_layers(backbone("googlenet"))
    pyramid = models.features(model, strides=(8, 32))
    assert pyramid.output_shape == [(None, 9, 9, 60), (None, 3, 3, 128)]
