"""Atrous spatial pyramid pooling (ASPP): parallel atrous convolutions at several rates.

References:
    Chen et al., "DeepLab: Semantic Image Segmentation with Deep Convolutional Nets, Atrous
    Convolution, and Fully Connected CRFs", TPAMI 2017. https://arxiv.org/abs/1606.00915
    Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation", 2017.
    https://arxiv.org/abs/1706.05587

Atrous convolution with rate `r` (Eq. 1 of DeepLab) is a convolution whose kernel taps are `r`
pixels apart, `y[i] = sum_k x[i + r * k] w[k]`: `keras.layers.Conv2D(dilation_rate=r)`.
"""

from keras import layers, ops

from garden.utils.serialization import serializable
from garden.utils.checks import check_int, check_ints, check_rate
from garden.utils.multiply_adds import layer_multiply_adds

RATES_L = (6, 12, 18, 24)  # DeepLab v2's ASPP-L
RATES_S = (2, 4, 8, 12)  # DeepLab v2's ASPP-S
RATES_V3 = (6, 12, 18)  # DeepLab v3 at output stride 16


def _build_stack(stack, shape):
    for layer in stack:
        layer.build(shape)
        shape = layer.compute_output_shape(shape)


def _stack_multiply_adds(stack, shape):
    total = 0
    for layer in stack:
        total += layer_multiply_adds(layer, shape)
        shape = layer.compute_output_shape(shape)
    return total


def _run_stack(stack, x, training):
    for layer in stack:
        x = layer(x, training=training)
    return x


@serializable
class ASPP(layers.Layer):
    """DeepLab v2's ASPP: one classifier branch per atrous rate, their score maps summed.

    Section 3.1 and Fig. 4 of DeepLab v2: each branch is `fc6` (3x3 atrous convolution at rate
    `r`), `fc7` (1x1), both with ReLU and dropout, and `fc8` (1x1 to the class scores); the
    output is `sum_r fc8_r(fc7_r(fc6_r(x)))`. ASPP-L uses rates (6, 12, 18, 24) and ASPP-S
    (2, 4, 8, 12), with 1024 filters; a single rate of 12 is DeepLab-LargeFOV.

    Args:
        classes: int. Channels of the output: the class scores.
        rates: sequence of int. Atrous rates, one branch each. Defaults to (6, 12, 18, 24).
        filters: int. Channels of `fc6` and `fc7`. Defaults to 1024.
        dropout: float. Dropout rate after `fc6` and `fc7`. Defaults to 0.5.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:
    >>> tuple(ASPP(classes=21, filters=32)(ops.ones((1, 20, 20, 64))).shape)
    (1, 20, 20, 21)

    Reference:
        Chen et al. 2016, https://arxiv.org/abs/1606.00915
    """

    def __init__(self, classes, rates=RATES_L, filters=1024, dropout=0.5, **kwargs):
        super().__init__(**kwargs)
        self.classes = check_int("classes", classes)
        self.filters = check_int("filters", filters)
        self.dropout = check_rate("dropout", dropout)
        self.rates = check_ints("rates", rates)
        self.branches = [
            [
                layers.Conv2D(filters, 3, padding="same", dilation_rate=rate,
                              activation="relu", name=f"fc6_rate{rate}"),
                layers.Dropout(dropout),
                layers.Conv2D(filters, 1, activation="relu", name=f"fc7_rate{rate}"),
                layers.Dropout(dropout),
                layers.Conv2D(classes, 1, name=f"fc8_rate{rate}"),
            ]
            for rate in self.rates
        ]

    def build(self, input_shape):
        for branch in self.branches:
            _build_stack(branch, input_shape)

    def call(self, inputs, training=False):
        return sum(_run_stack(branch, inputs, training) for branch in self.branches)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.classes)

    def multiply_adds(self, input_shape):
        """Multiply-adds per example as `garden.tools.profile` counts them: every branch's
        convolutions (the sum of the score maps is free)."""
        return sum(_stack_multiply_adds(branch, input_shape) for branch in self.branches)

    def get_config(self):
        return {
            **super().get_config(),
            "classes": self.classes,
            "rates": self.rates,
            "filters": self.filters,
            "dropout": self.dropout,
        }


@serializable
class ASPPv3(layers.Layer):
    """DeepLab v3's ASPP: 1x1 conv, atrous convs and image pooling, concatenated and projected.

    Section 3.3 of "Rethinking Atrous Convolution": five parallel branches, a 1x1 convolution,
    three 3x3 atrous convolutions (rates 6, 12, 18 at output stride 16, doubled at 8) and image
    pooling (global average, 1x1 convolution, upsampled back, which gives the global context a
    3x3 kernel loses when its rate approaches the feature size); every convolution has
    `filters` channels, batch normalization and ReLU. The branches are concatenated and
    projected by another 1x1 convolution with batch normalization and ReLU.

    Args:
        filters: int. Channels of every branch and of the output. Defaults to 256.
        rates: sequence of int. Rates of the 3x3 atrous branches. Defaults to (6, 12, 18).
        image_pooling: bool. Whether to add the image-pooling branch. Defaults to True.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:
    >>> tuple(ASPPv3(filters=32)(ops.ones((1, 20, 20, 64))).shape)
    (1, 20, 20, 32)

    Reference:
        Chen et al. 2017, https://arxiv.org/abs/1706.05587
    """

    def __init__(self, filters=256, rates=RATES_V3, image_pooling=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.rates = check_ints("rates", rates)
        self.image_pooling = bool(image_pooling)

        def conv_bn(kernel_size, rate, name):
            return [
                layers.Conv2D(filters, kernel_size, padding="same", dilation_rate=rate,
                              use_bias=False, name=name),
                layers.BatchNormalization(name=f"{name}_bn"),
                layers.ReLU(),
            ]

        self.branches = [conv_bn(1, 1, "conv1x1")] + [
            conv_bn(3, rate, f"conv3x3_rate{rate}") for rate in self.rates
        ]
        self.pooling = conv_bn(1, 1, "image_pooling") if self.image_pooling else []
        self.projection = conv_bn(1, 1, "projection")

    def build(self, input_shape):
        for branch in self.branches:
            _build_stack(branch, input_shape)
        _build_stack(self.pooling, (input_shape[0], 1, 1, input_shape[3]))
        branches = len(self.branches) + self.image_pooling
        _build_stack(self.projection, (*input_shape[:3], branches * self.filters))

    def call(self, inputs, training=False):
        outputs = [_run_stack(branch, inputs, training) for branch in self.branches]
        if self.image_pooling:
            pooled = ops.mean(inputs, axis=(1, 2), keepdims=True)
            pooled = _run_stack(self.pooling, pooled, training)
            # Bilinear upsampling of a 1x1 map is a broadcast to every position.
            outputs.append(ops.broadcast_to(pooled, ops.shape(outputs[0])))
        return _run_stack(self.projection, ops.concatenate(outputs, axis=-1), training)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.filters)

    def multiply_adds(self, input_shape):
        """Multiply-adds per example as `garden.tools.profile` counts them: the branches'
        convolutions, the image-pooling 1x1 convolution (on one position) and the projection."""
        branches = len(self.branches) + self.image_pooling
        return (
            sum(_stack_multiply_adds(branch, input_shape) for branch in self.branches)
            + _stack_multiply_adds(self.pooling, (input_shape[0], 1, 1, input_shape[3]))
            + _stack_multiply_adds(self.projection, (*input_shape[:3], branches * self.filters))
        )

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "rates": self.rates,
            "image_pooling": self.image_pooling,
        }
