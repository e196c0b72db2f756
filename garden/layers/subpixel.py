"""Sub-pixel convolution: a convolution in low resolution followed by periodic shuffling.

Reference:
    Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
    Convolutional Neural Network", CVPR 2016. https://arxiv.org/abs/1609.05158
"""

import keras
from keras import layers, ops

from garden.utils.serialization import serializable
from garden.utils.checks import check_int
from garden.utils.multiply_adds import layer_multiply_adds


@serializable
class SubPixelConv2D(layers.Layer):
    """Convolution to `channels * scale**2` maps, then the periodic shuffling operator PS.

    The last layer of ESPCN (Eq. 4 of the paper): `I_SR = PS(W_L * f^{L-1}(I_LR) + b_L)`. The
    convolution runs at low resolution, so upscaling by `scale` costs `scale**2` output maps
    instead of a convolution at high resolution. PS rearranges a `(H, W, C * r**2)` tensor into
    `(r * H, r * W, C)`:

        PS(T)[y, x, c] = T[floor(y / r), floor(x / r), C * r * (y mod r) + C * (x mod r) + c]

    with `y` the row and `x` the column, which is depth-to-space with the depth axis read as
    (row offset, column offset, channel).

    Args:
        channels: int. Channels of the upscaled output (1 for luminance, 3 for RGB).
        scale: int. Upscaling factor `r`, at least 2.
        kernel_size: int. Size of the convolution kernel. Defaults to 3 (the paper's `f_3`).
        kernel_initializer: initializer of the convolution kernel. Defaults to
            `"glorot_uniform"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:
    >>> layer = SubPixelConv2D(channels=1, scale=3)
    >>> tuple(layer(ops.ones((2, 8, 8, 32))).shape)
    (2, 24, 24, 1)

    Reference:
        Shi et al. 2016, https://arxiv.org/abs/1609.05158
    """

    def __init__(
        self, channels, scale, kernel_size=3, kernel_initializer="glorot_uniform", **kwargs
    ):
        super().__init__(**kwargs)
        self.channels = check_int("channels", channels)
        self.scale = check_int("scale", scale, minimum=2)
        self.kernel_size = kernel_size
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.conv = layers.Conv2D(
            channels * scale**2,
            kernel_size,
            padding="same",
            kernel_initializer=self.kernel_initializer,
            name="conv",
        )

    def build(self, input_shape):
        self.conv.build(input_shape)

    def call(self, inputs):
        return ops.depth_to_space(self.conv(inputs), self.scale, data_format="channels_last")

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        upscale = lambda size: None if size is None else size * self.scale  # noqa: E731
        return (batch, upscale(height), upscale(width), self.channels)

    def multiply_adds(self, input_shape):
        """Multiply-adds per example as `garden.tools.profile` counts them: the convolution's
        (the shuffle moves values only)."""
        return layer_multiply_adds(self.conv, input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "scale": self.scale,
            "kernel_size": self.kernel_size,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
