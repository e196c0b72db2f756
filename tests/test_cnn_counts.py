"""Parameter and multiply-add counts of the classic CNNs at their papers' input and 1000 classes.

Each model is built once per session (`full_model`, shared with the model test files); the
heaviest builds run in
the slow tier, while AlexNet, VGG16, GoogLeNet, SqueezeNet and the ResNet-50s stay in the default.
"""

import functools
import math

import pytest

from garden import tools
from tests.harness.models import full_model

slow = pytest.mark.slow


@functools.lru_cache(maxsize=None)
def counts(name, **kwargs):
    """(parameters, trainable parameters, multiply-adds by `garden.tools.profile`) of a model."""
    model = full_model(name, **kwargs)
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return model.count_params(), trainable, tools.profile(model).multiply_adds


@pytest.mark.parametrize(
    "name, kwargs, parameters",
    # The numbers of the issue: AlexNet single-stream is torchvision's, the two-group one the
    # paper's at 227x227; VGG and SqueezeNet are the papers' (torchvision has the same).
    [
        ("alexnet", {}, 61_100_840),
        ("alexnet", {"groups": 2}, 60_965_224),
        pytest.param("vgg11", {}, 132_863_336, marks=slow),
        pytest.param("vgg13", {}, 133_047_848, marks=slow),
        ("vgg16", {}, 138_357_544),
        pytest.param("vgg19", {}, 143_667_240, marks=slow),
        ("squeezenet1_0", {}, 1_248_424),
        ("squeezenet1_1", {}, 1_235_496),
        # keras.applications.ResNet50/101/152 (weights plus batch-norm moving statistics).
        ("resnet50", {}, 25_636_712),
        pytest.param("resnet101", {}, 44_707_176, marks=slow),
        pytest.param("resnet152", {}, 60_419_944, marks=slow),
    ],
)
def test_parameters(name, kwargs, parameters):
    assert counts(name, **kwargs)[0] == parameters


@pytest.mark.parametrize(
    "name, trainable",
    # Trainable parameters of torchvision's vgg*_bn and resnet18/34, timm's resnet50d, and the
    # CIFAR networks of He et al. section 4.2 ("0.27M, 0.85M, 1.7M"), which have option-A
    # shortcuts and so no projection weights.
    [
        pytest.param("vgg11_bn", 132_868_840, marks=slow),
        pytest.param("vgg13_bn", 133_053_736, marks=slow),
        pytest.param("vgg16_bn", 138_365_992, marks=slow),
        pytest.param("vgg19_bn", 143_678_248, marks=slow),
        ("resnet18", 11_689_512),
        pytest.param("resnet34", 21_797_672, marks=slow),
        ("resnet50d", 25_576_264),
        ("resnet20", 269_722),
        ("resnet56", 853_018),
        pytest.param("resnet110", 1_727_962, marks=slow),
    ],
)
def test_trainable_parameters(name, trainable):
    assert counts(name)[1] == trainable


def test_googlenet_parameters_with_and_without_auxiliary_heads():
    model = full_model("googlenet")
    assert model.count_params() == 13_378_280
    assert model.without_aux_heads().count_params() == 6_998_552


def test_resnet20_without_shortcuts_has_the_same_parameters():
    assert counts("resnet20", shortcuts=False)[:2] == counts("resnet20")[:2]


@pytest.mark.parametrize(
    "name, gflops",
    # "FLOPs" (multiply-adds) of He et al. Table 1 and, for ResNet-50-D, Bag of Tricks Table 5;
    # the papers give one decimal. ResNet-50 at 3.8 (not 4.1) has its stride in the first 1x1.
    [
        ("resnet18", 1.8),
        pytest.param("resnet34", 3.6, marks=slow),
        ("resnet50", 3.8),
        pytest.param("resnet101", 7.6, marks=slow),
        pytest.param("resnet152", 11.3, marks=slow),
        ("resnet50d", 4.3),
    ],
)
def test_resnet_multiply_adds(name, gflops):
    assert counts(name)[2] / 1e9 == pytest.approx(gflops, rel=0.02)


def test_squeezenet_1_1_needs_2_4x_less_computation():
    # At the paper's 227x227 input (the default): 0.83 and 0.35 billion multiply-adds.
    ratio = counts("squeezenet1_0")[2] / counts("squeezenet1_1")[2]
    assert round(ratio, 1) == 2.4
