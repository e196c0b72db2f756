"""The parameter-free "option A" shortcut of residual networks.

Reference:
    He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
    sections 3.3 and 4.2. https://arxiv.org/abs/1512.03385
"""

import keras
from keras import ops

from garden.utils.serialization import serializable
from garden.utils.checks import check_int


@serializable
class ZeroPaddingShortcut(keras.layers.Layer):
    """Identity shortcut that subsamples and appends zero channels where a stage widens.

    Option (A) of the paper: "the shortcut still performs identity mapping, with extra zero
    entries padded for increasing dimensions", and where the feature map halves it keeps every
    `strides`-th position, as a 1x1 convolution of stride 2 would. It has no weights, so a
    residual network with these shortcuts has exactly the parameters of its plain counterpart
    (the paper's CIFAR-10 networks use it for that reason).

    Args:
        filters: int. Number of output channels, at least the number of input channels.
        strides: int. Subsampling factor of both spatial axes. Defaults to 1.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a `(batch, height, width, channels)` tensor.

    Example:
    >>> import numpy as np
    >>> tuple(ZeroPaddingShortcut(32, strides=2)(np.ones((1, 8, 8, 16), "float32")).shape)
    (1, 4, 4, 32)

    Reference:
        He et al., 2016, https://arxiv.org/abs/1512.03385
    """

    def __init__(self, filters, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.strides = check_int("strides", strides)

    def build(self, input_shape):
        if input_shape[-1] > self.filters:
            raise ValueError(
                f"filters={self.filters} is not allowed for an input of {input_shape[-1]} "
                "channels: zero padding can only add channels."
            )

    def call(self, inputs):
        subsampled = inputs[:, :: self.strides, :: self.strides, :]
        extra = self.filters - inputs.shape[-1]
        return ops.pad(subsampled, [(0, 0), (0, 0), (0, 0), (0, extra)])

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        return (
            batch,
            None if height is None else -(-height // self.strides),
            None if width is None else -(-width // self.strides),
            self.filters,
        )

    def multiply_adds(self, input_shape):
        """Multiply-adds per example as `garden.tools.profile` counts them: none, the shortcut
        only subsamples and pads (the point of option A)."""
        return 0

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides}
