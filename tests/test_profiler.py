"""The profiler against Howard et al.'s Tables 6-7 and against counted products of linear layers."""

import keras
import numpy as np
import pytest

from garden import layers
from garden.models import mobilenet_v1
from garden.tools import layer_multiply_adds, profile


@pytest.mark.parametrize(
    "alpha, size, millions",
    [
        # Table 6 (width multiplier at 224) and Table 7 (resolution at width 1.0).
        (1.0, 224, 569),
        (0.75, 224, 325),
        (0.5, 224, 149),
        (0.25, 224, 41),
        (1.0, 192, 418),
        (1.0, 160, 290),
        (1.0, 128, 186),
    ],
)
def test_mobilenet_multiply_adds_match_tables_6_and_7(alpha, size, millions):
    model = mobilenet_v1(alpha=alpha, input_shape=(size, size, 3))
    result = profile(model)
    assert result.multiply_adds / 1e6 == pytest.approx(millions, rel=0.01)
    assert result.params == model.count_params()


def _products(layer, input_shape):
    """Counts the weight-input products of a bias-free linear layer by probing it.

    Feeding each one-hot input through the layer gives the columns of its matrix; with random
    weights, every non-zero entry is one weight times one input value. This equals the
    multiply-adds of layers whose every product lands in the output (no zero padding).
    """
    size = int(np.prod(input_shape[1:]))
    basis = np.eye(size, dtype="float32").reshape((size, *input_shape[1:]))
    return int(np.count_nonzero(np.asarray(layer(basis))))


@pytest.mark.parametrize(
    "layer, input_shape",
    [
        (keras.layers.Conv2D(6, 3, use_bias=False), (None, 7, 6, 4)),
        (keras.layers.Conv2D(6, (3, 2), strides=2, use_bias=False), (None, 8, 7, 2)),
        (keras.layers.Conv2D(4, 3, dilation_rate=2, use_bias=False), (None, 8, 8, 3)),
        (keras.layers.Conv2D(6, 3, groups=2, use_bias=False), (None, 6, 6, 4)),
        (keras.layers.Conv1D(5, 4, strides=3, use_bias=False), (None, 14, 3)),
        (keras.layers.Conv3D(2, 2, use_bias=False), (None, 4, 3, 3, 2)),
        (keras.layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False), (None, 6, 6, 3)),
        (keras.layers.Conv2DTranspose(3, 3, strides=2, use_bias=False), (None, 3, 4, 2)),
        (keras.layers.Conv1DTranspose(4, 5, use_bias=False), (None, 4, 3)),
        (keras.layers.Dense(5, use_bias=False), (None, 3, 7)),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, keras.Layer) else None,
)
def test_layer_counts_equal_probed_products(layer, input_shape):
    layer.build(input_shape)
    assert layer_multiply_adds(layer, input_shape) == _products(layer, input_shape)


def test_separable_conv_is_depthwise_plus_pointwise():
    # Howard et al., equation 5: Dk*Dk*M*DF*DF + M*N*DF*DF.
    layer = keras.layers.SeparableConv2D(16, 3, padding="same")
    layer.build((None, 10, 10, 8))
    assert layer_multiply_adds(layer, (None, 10, 10, 8)) == 3 * 3 * 8 * 100 + 8 * 16 * 100


def test_same_padding_counts_every_kernel_position():
    # Howard et al., equation 1 counts Dk*Dk*M*N*DF*DF, products with padding zeros included.
    layer = keras.layers.Conv2D(5, 3, padding="same")
    layer.build((None, 4, 4, 2))
    assert layer_multiply_adds(layer, (None, 4, 4, 2)) == 3 * 3 * 2 * 5 * 4 * 4


def test_recurrent_layers_count_every_step():
    inputs = keras.Input((6, 3))
    lstm = keras.layers.LSTM(4, return_sequences=True)
    gru = keras.layers.Bidirectional(keras.layers.GRU(2))
    x = gru(lstm(inputs))
    head = keras.layers.TimeDistributed(keras.layers.Dense(5))
    model = keras.Model(inputs, [x, head(keras.layers.RepeatVector(3)(x))])
    counts = {row.name: row.multiply_adds for row in profile(model).layers}
    # An LSTM step applies 4 gates of [input, state] x units kernels: its parameters less biases.
    assert counts[lstm.name] == 6 * (lstm.count_params() - 4 * 4)
    # Both directions, 6 steps, 3 gates of [4 inputs + 2 states] x 2 units.
    assert counts[gru.name] == 2 * 6 * 3 * (4 + 2) * 2
    assert counts[head.name] == 3 * 4 * 5


def test_nested_models_and_shared_layers():
    backbone = mobilenet_v1(alpha=0.25, input_shape=(32, 32, 3), include_top=False, pooling="avg")
    shared = keras.layers.Dense(7)
    inputs = keras.Input((32, 32, 3))
    features = backbone(inputs)
    outputs = keras.layers.Add()([shared(features), shared(shared(features)[:, :1] * features)])
    model = keras.Model(inputs, outputs)
    inner, outer = profile(backbone), profile(model)
    assert [row.name for row in outer.layers[: len(inner.layers)]] == [
        f"{backbone.name}/{row.name}" for row in inner.layers
    ]
    shared_row = next(row for row in outer.layers if row.name == shared.name)
    assert shared_row.multiply_adds == 3 * 256 * 7
    assert outer.multiply_adds == inner.multiply_adds + 3 * 256 * 7
    assert outer.params == model.count_params()


class _Scale(keras.layers.Layer):
    """A custom layer with weights and no declared count."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],))

    def call(self, inputs):
        return inputs * self.scale


class _Declared(_Scale):
    """The same layer declaring its count through the protocol."""

    def multiply_adds(self, input_shape):
        return int(np.prod(input_shape[1:]))


def test_custom_layers_declare_their_count_or_are_reported():
    inputs = keras.Input((4, 5))
    declared, opaque = _Declared(name="declared"), _Scale(name="opaque")
    model = keras.Model(inputs, opaque(declared(inputs)))
    result = profile(model)
    assert {row.name: row.multiply_adds for row in result.layers} == {
        "declared": 20, "opaque": None
    }
    assert result.multiply_adds == 20
    assert result.uncounted == ["opaque"]
    table = result.table()
    assert "not counted (no known multiply-adds): opaque" in table
    assert "20 multiply-adds" in table


def test_sequential_and_subclassed_models():
    sequential = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    assert profile(sequential).multiply_adds == 8 * 4 + 4 * 2

    class Pair(keras.Model):
        def __init__(self):
            super().__init__()
            self.first, self.second = sequential, keras.layers.Dense(3)

        def call(self, inputs):
            return self.second(self.first(inputs))

    pair = Pair()
    pair(np.zeros((1, 8), "float32"))
    result = profile(pair)
    assert result.multiply_adds == 8 * 4 + 4 * 2
    assert result.uncounted == [pair.second.name]


def test_unknown_input_size_names_the_layer():
    model = mobilenet_v1(alpha=0.25, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="layer 'conv1' sees an input of unknown size"):
        profile(model)


def test_as_dict_is_plain_data():
    data = profile(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])).as_dict()
    assert data["multiply_adds"] == 6 and data["params"] == 8
    assert data["layers"][0]["output_shape"] == (None, 2)


def test_garden_info_shows_multiply_adds(capsys):
    from garden.cli import main

    assert main(["info", "mobilenet_v1", "--layers"]) == 0
    out = capsys.readouterr().out
    assert "mult-adds:   568,740,352 per example (568.7M" in out
    assert "conv_dw_13" in out and "4,253,864 parameters" in out


def _conv(positions, kernel_taps, in_channels, filters):
    """Multiply-adds of a convolution: one per weight at each output position."""
    return positions * kernel_taps * in_channels * filters


def _localization():
    return keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(5)])


# Each garden layer, its input shape and its count written from its definition.
GARDEN_LAYERS = {
    "PrimaryCapsules": (lambda: layers.PrimaryCapsules(capsules=4, dim=3, kernel_size=3),
                        (None, 9, 9, 5), _conv(4 * 4, 9, 5, 12)),
    "CapsuleLayer": (lambda: layers.CapsuleLayer(capsules=3, dim=4), (None, 6, 2), 6 * 3 * 2 * 4),
    "Length": (layers.Length, (None, 3, 4), 0),
    "Mask": (layers.Mask, (None, 3, 4), 0),
    # Branches of fc6 (3x3), fc7 and fc8 (1x1) at every position, one per rate.
    "ASPP": (lambda: layers.ASPP(classes=3, rates=(1, 2), filters=4), (None, 5, 5, 2),
             2 * (_conv(25, 9, 2, 4) + _conv(25, 1, 4, 4) + _conv(25, 1, 4, 3))),
    # 1x1 and two 3x3 branches, the pooled 1x1 on one position, the projection of 4 branches.
    "ASPPv3": (lambda: layers.ASPPv3(filters=4, rates=(1, 2)), (None, 5, 5, 2),
               _conv(25, 1, 2, 4) + 2 * _conv(25, 9, 2, 4) + _conv(1, 1, 2, 4)
               + _conv(25, 1, 16, 4)),
    "SubPixelConv2D": (lambda: layers.SubPixelConv2D(channels=2, scale=2), (None, 4, 4, 3),
                       _conv(16, 9, 3, 8)),
    # Flatten + Dense(5) on 6*6*1 inputs, then the final dense layer to the six parameters.
    "SpatialTransformer": (lambda: layers.SpatialTransformer(_localization()), (None, 6, 6, 1),
                           36 * 5 + 5 * 6),
    "LocalResponseNormalization": (layers.LocalResponseNormalization, (None, 2, 2, 6), 0),
    "Swish": (lambda: layers.Swish(trainable_beta=True), (None, 2, 3), 0),
    "ZeroPaddingShortcut": (lambda: layers.ZeroPaddingShortcut(6, strides=2), (None, 4, 4, 3),
                            0),
}


def test_every_garden_layer_declares_its_multiply_adds():
    declared = {name for name in layers.__all__ if isinstance(getattr(layers, name), type)}
    assert declared == set(GARDEN_LAYERS) | set(DIRECT_COUNTS)
    for name in declared:
        assert "multiply_adds" in vars(getattr(layers, name)), name


# A recurrent cell and the two-input graph layers, counted from their input shapes directly.
DIRECT_COUNTS = {
    # One LSTM step: W x and R h for 4 gates (12 inputs + 5 units -> 20), 3 * 5 gate products.
    "LSTMCell": (lambda: layers.LSTMCell(5), (None, 12), (12 + 5) * 20 + 3 * 5),
    # H W (7 nodes, 3 -> 4 features) then A (H W).
    "GraphConv": (lambda: layers.GraphConv(4), [(None, 7, 3), (None, 7, 7)], 7 * 4 * (3 + 7)),
    # Each of 3 hops: P*_j X (7 x 7 by 7 x 2) and the element-wise weights.
    "DiffusionConv": (lambda: layers.DiffusionConv(), [(None, 7, 2), (None, 3, 7, 7)],
                      3 * 7 * 2 * (7 + 1)),
}


@pytest.mark.parametrize("name", sorted(DIRECT_COUNTS))
def test_cell_and_graph_layer_counts_equal_the_hand_formula(name):
    build, input_shape, expected = DIRECT_COUNTS[name]
    assert build().multiply_adds(input_shape) == expected


@pytest.mark.parametrize("name", sorted(GARDEN_LAYERS))
def test_garden_layer_counts_equal_the_hand_formula(name):
    build, input_shape, expected = GARDEN_LAYERS[name]
    layer = build()
    layer(np.zeros((1, *input_shape[1:]), "float32"))
    assert layer_multiply_adds(layer, input_shape) == expected
    model = keras.Sequential([keras.Input(input_shape[1:]), layer])
    assert profile(model).uncounted == [] and profile(model).multiply_adds == expected


def test_capsnet_profile_counts_every_layer():
    from garden.models import capsnet

    result = profile(capsnet())
    assert result.uncounted == []
    counts = {row.kind: row.multiply_adds for row in result.layers}
    # Sabour et al.: 9x9 convolutions to 20x20x256 and 6x6x(32*8); 1152 8-D to 10 16-D capsules.
    assert counts["PrimaryCapsules"] == _conv(6 * 6, 81, 256, 256)
    assert counts["CapsuleLayer"] == 1152 * 10 * 8 * 16
    assert "?" not in result.table()
