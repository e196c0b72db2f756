"""Single-image super-resolution: SRCNN and ESPCN.

References:
    Dong, Loy, He and Tang, "Image Super-Resolution Using Deep Convolutional Networks", TPAMI
    2016 (ECCV 2014). https://arxiv.org/abs/1501.00092
    Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
    Convolutional Neural Network", CVPR 2016. https://arxiv.org/abs/1609.05158

SRCNN maps a bicubic-upscaled image to the high-resolution one with three convolutions (patch
extraction, non-linear mapping, reconstruction), all with valid padding, so a 33x33 input gives a
21x21 output for the 9-1-5 network. ESPCN works on the low-resolution image itself and upscales
only at the end, with a sub-pixel convolution. Both work on one channel (the Y of YCbCr) by
default and are fully convolutional: pass `input_shape=(None, None, 1)` to run on whole images.
"""

import keras
from keras import layers

from garden.layers import SubPixelConv2D
from garden.models._classifier import image_input
from garden.utils.checks import check_int, check_ints
from garden.models._registry import figure, register_model

# Filter sizes f1-f2-f3 of the SRCNN variants in the paper (Section 4.3.2); n1 = 64, n2 = 32.
SRCNN_KERNELS = {"9-1-5": (9, 1, 5), "9-3-5": (9, 3, 5), "9-5-5": (9, 5, 5)}
SRCNN_FILTERS = (64, 32)
# ESPCN (Section 3.2): (f1, n1) = (5, 64), (f2, n2) = (3, 32), f3 = 3.
ESPCN_KERNELS = (5, 3, 3)
ESPCN_FILTERS = (64, 32)


@register_model(
    paper="Dong et al., Image Super-Resolution Using Deep Convolutional Networks (SRCNN)",
    year=2014,
    arxiv="https://arxiv.org/abs/1501.00092",
    input_shape=(33, 33, 1),
    task="super-resolution",
    small_kwargs={"input_shape": (17, 17, 1), "filters": (8, 4)},
)
def srcnn(
    kernel_sizes=SRCNN_KERNELS["9-1-5"],
    filters=SRCNN_FILTERS,
    channels=1,
    input_tensor=None,
    input_shape=None,
    name="srcnn",
):
    """SRCNN (Dong et al. 2014): three valid convolutions on the bicubic-upscaled image.

    `F(Y) = W3 * max(0, W2 * max(0, W1 * Y + B1) + B2) + B3` (Eqs. 1-3 of the paper). With the
    default 9-1-5 filters the network has 8,032 weights and 97 biases; 9-5-5 has 57,184 weights.
    Each valid convolution trims `f - 1` pixels, so the output is `f1 + f2 + f3 - 3` pixels
    smaller than the input (33 -> 21 for 9-1-5, 33 -> 17 for 9-5-5): compare it with the centre
    of the target.

    Args:
        kernel_sizes: (f1, f2, f3). Filter sizes; the paper's variants are in `SRCNN_KERNELS`.
            Defaults to (9, 1, 5).
        filters: (n1, n2). Channels of the first two layers. Defaults to (64, 32).
        channels: int. Image channels (1 for luminance, 3 for RGB). Defaults to 1.
        input_tensor: optional Keras tensor to use as the input.
        input_shape: (height, width, channels). Defaults to (33, 33, channels), the paper's
            sub-images; use (None, None, channels) for whole images.
        name: str. Model name.

    Example:
    >>> srcnn().output_shape
    (None, 21, 21, 1)
    """
    kernel_sizes = check_ints("kernel_sizes", kernel_sizes, 3)
    filters = check_ints("filters", filters, 2)
    check_int("channels", channels)
    trim = sum(kernel_sizes) - 3
    img, inputs = image_input(
        input_shape, input_tensor, default_shape=(33, 33, channels), min_size=trim + 1
    )
    x = layers.Conv2D(filters[0], kernel_sizes[0], activation="relu", name="patch_extraction")(img)
    x = layers.Conv2D(filters[1], kernel_sizes[1], activation="relu", name="mapping")(x)
    x = layers.Conv2D(channels, kernel_sizes[2], name="reconstruction")(x)
    return keras.Model(inputs, x, name=name)


@register_model(
    paper="Shi et al., Efficient Sub-Pixel Convolutional Neural Network (ESPCN)",
    year=2016,
    arxiv="https://arxiv.org/abs/1609.05158",
    input_shape=(17, 17, 1),
    task="super-resolution",
    small_kwargs={"input_shape": (8, 8, 1), "scale": 2, "filters": (8, 4)},
    figures=[figure("parameters", 22_729, "Section 3's layers (5x5x64, 3x3x32, 3x3xr^2) at r = 3")],
)
def espcn(
    scale=3,
    channels=1,
    kernel_sizes=ESPCN_KERNELS,
    filters=ESPCN_FILTERS,
    activation="tanh",
    input_tensor=None,
    input_shape=None,
    name="espcn",
):
    """ESPCN (Shi et al. 2016): convolutions at low resolution, then a sub-pixel convolution.

    `f1 = tanh(W1 * I_LR + b1)`, `f2 = tanh(W2 * f1 + b2)`, `I_SR = PS(W3 * f2 + b3)` (Eqs. 2-4
    of the paper). 22,729 parameters at scale 3 with one channel. Convolutions pad "same", so
    the output is exactly `scale` times the input.

    Args:
        scale: int. Upscaling factor r, at least 2. Defaults to 3.
        channels: int. Image channels (1 for luminance, 3 for RGB). Defaults to 1.
        kernel_sizes: (f1, f2, f3). Filter sizes. Defaults to (5, 3, 3).
        filters: (n1, n2). Channels of the first two layers. Defaults to (64, 32).
        activation: activation of the first two layers; the paper found tanh better than ReLU.
            Defaults to "tanh".
        input_tensor: optional Keras tensor to use as the low-resolution input.
        input_shape: (height, width, channels) of the low-resolution input. Defaults to
            (17, 17, channels), the paper's training patches; use (None, None, channels) for
            whole images.
        name: str. Model name.

    Example:
    >>> espcn(scale=3).output_shape
    (None, 51, 51, 1)
    """
    kernel_sizes = check_ints("kernel_sizes", kernel_sizes, 3)
    filters = check_ints("filters", filters, 2)
    check_int("channels", channels)
    img, inputs = image_input(
        input_shape, input_tensor, default_shape=(17, 17, channels), min_size=1
    )
    x = layers.Conv2D(filters[0], kernel_sizes[0], padding="same", activation=activation,
                      name="conv1")(img)
    x = layers.Conv2D(filters[1], kernel_sizes[1], padding="same", activation=activation,
                      name="conv2")(x)
    x = SubPixelConv2D(channels, scale, kernel_size=kernel_sizes[2], name="subpixel")(x)
    return keras.Model(inputs, x, name=name)
