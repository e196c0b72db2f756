"""Spatial transformer: a localisation network, an affine grid generator and a bilinear sampler.

Reference:
    Jaderberg et al., "Spatial Transformer Networks", NeurIPS 2015.
    https://arxiv.org/abs/1506.02025
"""

import keras
import numpy as np
from keras import layers, ops

from garden.utils.serialization import serializable
from garden.utils.checks import check_ints
from garden.utils.multiply_adds import layer_multiply_adds

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def affine_grid(theta, height, width):
    """Source coordinates of every output pixel under the affine transforms `theta` (Eq. 1).

    Target pixels lie on a regular grid of normalised coordinates, -1 at the first and +1 at the
    last row/column (pixel centres, so the identity transform samples every input pixel, up to
    the float rounding of the grid):

        (x_s, y_s)^T = A_theta (x_t, y_t, 1)^T,    A_theta = [[t11, t12, t13], [t21, t22, t23]]

    Args:
        theta: tensor `(batch, 6)`, the rows of `A_theta` as `(t11, t12, t13, t21, t22, t23)`.
        height: int. Rows of the output grid.
        width: int. Columns of the output grid.

    Returns:
        `(x_s, y_s)`, each `(batch, height, width)`, in normalised input coordinates.
    """
    y_t, x_t = np.meshgrid(np.linspace(-1.0, 1.0, height), np.linspace(-1.0, 1.0, width),
                           indexing="ij")
    grid = np.stack([x_t.ravel(), y_t.ravel(), np.ones(height * width)])  # (3, H*W)
    theta = ops.reshape(theta, (-1, 2, 3))
    source = ops.matmul(theta, ops.cast(grid, theta.dtype))  # (batch, 2, H*W)
    x_s = ops.reshape(source[:, 0], (-1, height, width))
    y_s = ops.reshape(source[:, 1], (-1, height, width))
    return x_s, y_s


def bilinear_sample(images, x_s, y_s):
    """Samples `images` at normalised coordinates with the bilinear kernel of Eq. 5.

        V_i^c = sum_n sum_m U_nm^c max(0, 1 - |x_i - m|) max(0, 1 - |y_i - n|)

    with `x_i, y_i` the source coordinates in pixels. Only the four neighbours `floor(x_i)`,
    `floor(x_i) + 1` (and likewise for `y_i`) have a non-zero kernel, so they are gathered, with
    kernels `1 - frac(x_i)` and `frac(x_i)`. Neighbours outside the image count as zero, exactly
    as in the sum over the input, so a point half a pixel outside the border gets half the
    border value. The gradient in `x_s, y_s` is Eq. 7's; at integer coordinates (every sample
    of the identity transform), where the kernel has a kink, it is the right derivative
    `U[x + 1] - U[x]` (a kernel written with `|x - m|` would get 0 from `abs'(0)` there and lose
    the `-U[x]` term).

    Args:
        images: tensor `(batch, H, W, C)`.
        x_s: tensor `(batch, h, w)`, column coordinates in [-1, 1] (-1: first, 1: last column).
        y_s: tensor `(batch, h, w)`, row coordinates in [-1, 1].

    Returns:
        Tensor `(batch, h, w, C)`.
    """
    shape = ops.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    x_max = ops.cast(width - 1, x_s.dtype)
    y_max = ops.cast(height - 1, y_s.dtype)
    x = (x_s + 1.0) * 0.5 * x_max
    y = (y_s + 1.0) * 0.5 * y_max
    flat = ops.reshape(images, (-1, channels))
    first_pixel = ops.reshape(ops.arange(batch, dtype="int32") * height * width, (-1, 1, 1))
    x_0, y_0 = ops.floor(x), ops.floor(y)
    x_frac, y_frac = x - x_0, y - y_0  # the kernels of the neighbours at floor + 1
    output = 0.0
    for y_n, k_y in ((y_0, 1.0 - y_frac), (y_0 + 1.0, y_frac)):
        for x_n, k_x in ((x_0, 1.0 - x_frac), (x_0 + 1.0, x_frac)):
            inside = (x_n >= 0.0) & (x_n <= x_max) & (y_n >= 0.0) & (y_n <= y_max)
            kernel = ops.where(inside, k_x * k_y, ops.zeros_like(k_x))
            row = ops.cast(ops.clip(y_n, 0.0, y_max), "int32")
            column = ops.cast(ops.clip(x_n, 0.0, x_max), "int32")
            values = ops.take(flat, first_pixel + row * width + column, axis=0)
            output = output + ops.expand_dims(kernel, -1) * values
    return ops.cast(output, images.dtype)


@serializable
class SpatialTransformer(layers.Layer):
    """Warps its input with an affine transform predicted from the input itself.

    The three parts of the paper's module (Section 3): a localisation network
    `theta = f_loc(U)`, whose features a final dense layer maps to the six affine parameters; the
    grid generator `T_theta(G)` (`affine_grid`, Eq. 1); and the bilinear sampler (`bilinear_sample`,
    Eq. 5). The final dense layer starts with the identity as bias and, by default, a zero
    kernel, so a fresh transformer returns its input (when `output_size` is the input size) and
    training starts from the untransformed image. (With a zero kernel the localisation network
    receives no gradient until the first update has moved the kernel.)

    Args:
        localization: a Keras layer or model mapping the input to features (any shape; they are
            flattened). For example a `keras.Sequential` of conv, pooling and dense layers.
        output_size: `(height, width)` of the output grid, or None for the input's size. A
            smaller size lets the transformer crop and downsample, e.g. to zoom on the object
            in a large cluttered image. Defaults to None.
        theta_initializer: initializer of the kernel of the final dense layer. Defaults to
            "zeros" (the identity at the start).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:
    >>> loc = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(16, activation="relu")])
    >>> stn = SpatialTransformer(loc, output_size=(14, 14))
    >>> tuple(stn(ops.ones((2, 28, 28, 1))).shape)
    (2, 14, 14, 1)

    Reference:
        Jaderberg et al. 2015, https://arxiv.org/abs/1506.02025
    """

    def __init__(self, localization, output_size=None, theta_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if isinstance(localization, dict):
            localization = keras.saving.deserialize_keras_object(localization)
        if not isinstance(localization, layers.Layer):
            raise ValueError(
                f"localization={localization!r} is not allowed: use a Keras layer or model."
            )
        if output_size is not None:
            output_size = check_ints("output_size", output_size, length=2, minimum=2)
        self.localization = localization
        self.output_size = output_size
        self.theta_initializer = keras.initializers.get(theta_initializer)

    def build(self, input_shape):
        self.localization.build(input_shape)
        features = self.localization.compute_output_shape(input_shape)[1:]
        if None in features:
            raise ValueError(
                f"localization output shape {features} is not fully known: end the localisation "
                "network with a layer of fixed size (e.g. Flatten + Dense)."
            )
        self.theta_kernel = self.add_weight(
            shape=(int(np.prod(features)), 6),
            initializer=self.theta_initializer,
            name="theta_kernel",
        )
        self.theta_bias = self.add_weight(
            shape=(6,), initializer=keras.initializers.Constant(IDENTITY), name="theta_bias"
        )

    def transform(self, inputs):
        """The affine parameters `theta`, shape `(batch, 6)`, predicted for `inputs`."""
        features = self.localization(inputs)
        features = ops.reshape(features, (ops.shape(features)[0], -1))
        return ops.matmul(features, self.theta_kernel) + self.theta_bias

    def call(self, inputs):
        height, width = self.output_size or inputs.shape[1:3]
        x_s, y_s = affine_grid(self.transform(inputs), height, width)
        return bilinear_sample(inputs, x_s, y_s)

    def compute_output_shape(self, input_shape):
        height, width = self.output_size or input_shape[1:3]
        return (input_shape[0], height, width, input_shape[3])

    def multiply_adds(self, input_shape):
        """Multiply-adds per example as `garden.tools.profile` counts them: the localisation
        network's and the final dense layer's (`features * 6`); None when the localisation
        network's count is unknown. The grid and the sampler apply no weights."""
        localization = layer_multiply_adds(self.localization, input_shape)
        if localization is None:
            return None
        return localization + self.theta_kernel.shape[0] * 6

    def get_config(self):
        return {
            **super().get_config(),
            "localization": keras.saving.serialize_keras_object(self.localization),
            "output_size": self.output_size,
            "theta_initializer": keras.initializers.serialize(self.theta_initializer),
        }
