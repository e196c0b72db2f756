"""SqueezeNet against Table 1 and Figure 2 of Iandola et al., and the v1.1 release notes."""

import keras
import numpy as np
import pytest

from garden.models import squeezenet1_0, squeezenet1_1
from tests.harness.models import full_model, run_model_test

FIRES = [f"fire{i}" for i in range(2, 10)]


def module_parameters(model, prefix):
    return sum(layer.count_params() for layer in model.layers
               if layer.name == prefix or layer.name.startswith(f"{prefix}_"))


@pytest.fixture(scope="module")
def v1_0():
    return full_model("squeezenet1_0")


def test_table_1_parameters_per_layer(v1_0):
    # Table 1, "# parameter before pruning".
    expected = {"conv1": 14_208, "fire2": 11_920, "fire3": 12_432, "fire4": 45_344,
                "fire5": 49_440, "fire6": 104_880, "fire7": 111_024, "fire8": 188_992,
                "fire9": 197_184, "conv10": 513_000}
    assert {name: module_parameters(v1_0, name) for name in expected} == expected


def test_table_1_output_sizes_at_227(v1_0):
    expected = {"conv1": (111, 111, 96), "pool1": (55, 55, 96), "fire2": (55, 55, 128),
                "fire3": (55, 55, 128), "fire4": (55, 55, 256), "pool4": (27, 27, 256),
                "fire5": (27, 27, 256), "fire6": (27, 27, 384), "fire7": (27, 27, 384),
                "fire8": (27, 27, 512), "pool8": (13, 13, 512), "fire9": (13, 13, 512),
                "conv10": (13, 13, 1000), "pool10": (1000,)}
    layers = {name: f"{name}_concat" if name.startswith("fire") else name for name in expected}
    assert {name: v1_0.get_layer(layers[name]).output.shape[1:] for name in expected} == expected
    assert v1_0.get_layer("dropout").rate == 0.5


def test_initialisation_keeps_the_signal(v1_0):
    # conv10 ~ N(0, 0.01) as in the authors' Caffe model; the others He-uniform, whose standard
    # deviation sqrt(2 / fan_in) preserves the activations' scale through ReLU.
    assert np.std(v1_0.get_layer("conv10").kernel.numpy()) == pytest.approx(0.01, rel=0.05)
    kernel = v1_0.get_layer("fire9_expand3x3").kernel.numpy()
    assert np.std(kernel) == pytest.approx(np.sqrt(2 / (3 * 3 * 64)), rel=0.05)


def test_v1_1_moves_pooling_earlier_and_shrinks_conv1():
    model = squeezenet1_1(include_top=False)
    assert model.get_layer("conv1").kernel.shape == (3, 3, 3, 64)
    pools = {layer.name: layer.output.shape[1] for layer in model.layers
             if isinstance(layer, keras.layers.MaxPooling2D)}
    assert pools == {"pool1": 56, "pool3": 27, "pool5": 13}


@pytest.mark.parametrize("builder", [squeezenet1_0, squeezenet1_1])
def test_simple_bypass_adds_no_parameters(builder):
    vanilla = builder(input_shape=(64, 64, 3), classes=3)
    simple = builder(bypass="simple", input_shape=(64, 64, 3), classes=3)
    assert simple.count_params() == vanilla.count_params()
    adds = [layer for layer in simple.layers if isinstance(layer, keras.layers.Add)]
    assert [add.name for add in adds] == ["fire3_bypass", "fire5_bypass", "fire7_bypass",
                                          "fire9_bypass"]
    simple.set_weights(vanilla.get_weights())
    x = np.random.default_rng(0).random((2, 64, 64, 3), dtype=np.float32)
    assert not np.allclose(simple(x), vanilla(x))


def test_complex_bypass_adds_1x1_convolutions_where_widths_change():
    vanilla = squeezenet1_0(input_shape=(64, 64, 3), classes=3)
    complex_ = squeezenet1_0(bypass="complex", input_shape=(64, 64, 3), classes=3)
    convs = [layer for layer in complex_.layers if layer.name.endswith("_bypass_conv")]
    assert [c.name for c in convs] == ["fire2_bypass_conv", "fire4_bypass_conv",
                                       "fire6_bypass_conv", "fire8_bypass_conv"]
    # 1x1 convolutions with bias from each module's input width to its output width.
    widths = [(96, 128), (128, 256), (256, 384), (384, 512)]
    extra = sum(w_in * w_out + w_out for w_in, w_out in widths)
    assert complex_.count_params() == vanilla.count_params() + extra
    assert sum(isinstance(layer, keras.layers.Add) for layer in complex_.layers) == 8


@pytest.mark.parametrize("bypass", ["simple", "complex"])
def test_bypass_variants_pass_the_model_checks(bypass):
    model = squeezenet1_0(bypass=bypass, input_shape=(35, 35, 3), classes=3)
    run_model_test(model, expected_output_shape=(2, 3))


@pytest.mark.parametrize(
    "builder, kwargs, message",
    [
        (squeezenet1_0, dict(bypass="full"), "bypass='full'"),
        (squeezenet1_0, dict(input_shape=(34, 34, 3)), "at least 35"),
        (squeezenet1_1, dict(input_shape=(30, 30, 3)), "at least 31"),
        (squeezenet1_1, dict(weights="caffe"), "weights='caffe'"),
    ],
)
def test_bad_arguments_name_the_argument(builder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        builder(**kwargs)
