"""Johnson et al.'s image transformation networks, trained with perceptual losses.

Reference:
    Johnson, Alahi and Fei-Fei, "Perceptual Losses for Real-Time Style Transfer and
    Super-Resolution", ECCV 2016. https://arxiv.org/abs/1603.08155 (architectures in the
    supplementary material)

Style transfer (`transform_net`): a 9x9 convolution, two stride-2 3x3 convolutions, five
residual blocks (two 3x3 convolutions each), two fractionally strided (stride 1/2) 3x3
convolutions and a 9x9 convolution to RGB; every convolution but the last is followed by
normalization and ReLU. Super-resolution (`sr_transform_net`): a 9x9 convolution, residual
blocks of 64 filters, log2(scale) fractionally strided convolutions and a 9x9 convolution.
Normalization is instance normalization (Ulyanov et al., the authors' later choice), i.e.
`GroupNormalization(groups=-1)`; convolutions pad "same" (the paper pads the input by
reflection and uses valid convolutions in the residual blocks). The output is a scaled tanh,
`(tanh(x) + 1) / 2`, an image in [0, 1]. Losses: `garden.losses.PerceptualLoss`,
`StyleLoss` and `total_variation`.
"""

import math

import keras
from keras import layers

from garden.models._classifier import image_input
from garden.models._registry import figure, register_model
from garden.utils.checks import check_int

PAPER = dict(
    paper="Johnson et al., Perceptual Losses for Real-Time Style Transfer and Super-Resolution",
    year=2016,
    arxiv="https://arxiv.org/abs/1603.08155",
)


def _conv_norm(x, filters, kernel, name, strides=1, transpose=False, relu=True):
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    x = conv(filters, kernel, strides=strides, padding="same", name=f"{name}_conv")(x)
    x = layers.GroupNormalization(groups=-1, name=f"{name}_norm")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def _residual(x, filters, name):
    y = _conv_norm(x, filters, 3, f"{name}_1")
    y = _conv_norm(y, filters, 3, f"{name}_2", relu=False)
    return layers.Add(name=f"{name}_add")([x, y])


def _output(x, channels=3):
    x = layers.Conv2D(channels, 9, padding="same", name="output_conv")(x)
    x = layers.Activation("tanh", name="output_tanh")(x)
    return layers.Rescaling(0.5, offset=0.5, name="output")(x)


@register_model(**PAPER, input_shape=(256, 256, 3), task="image-transformation",
                small_kwargs={"input_shape": (16, 16, 3), "filters": 4, "residual_blocks": 1},
                figures=[figure("parameters", 1_679_235, "the supplementary's style-transfer layers (no count stated)")])
def transform_net(filters=32, residual_blocks=5, input_shape=None, input_tensor=None,
                  name="transform_net"):
    """The style-transfer network (Johnson et al. 2016): images in [0, 1] to images in [0, 1]
    of the same size; 1,679,235 parameters at the defaults.

    Args:
        filters: int. Filters of the first convolution (32), doubled by each stride-2
            convolution (64, 128). Defaults to 32.
        residual_blocks: int. Number of residual blocks. Defaults to 5.
        input_shape: (height, width, 3); height and width divisible by 4 or None. Defaults
            to (256, 256, 3), the paper's training size.
        input_tensor: optional Keras tensor to use as the input.
        name: str. Model name.
    """
    check_int("filters", filters)
    check_int("residual_blocks", residual_blocks, minimum=0)
    x, inputs = image_input(input_shape, input_tensor, default_shape=(256, 256, 3), min_size=4)
    for size in x.shape[1:3]:
        if size is not None and size % 4:
            raise ValueError(f"input_shape={tuple(x.shape[1:])} is not allowed: height and "
                             "width must be divisible by 4 (two stride-2 convolutions).")
    x = _conv_norm(x, filters, 9, "c1")
    x = _conv_norm(x, 2 * filters, 3, "d1", strides=2)
    x = _conv_norm(x, 4 * filters, 3, "d2", strides=2)
    for b in range(residual_blocks):
        x = _residual(x, 4 * filters, f"res{b + 1}")
    x = _conv_norm(x, 2 * filters, 3, "u1", strides=2, transpose=True)
    x = _conv_norm(x, filters, 3, "u2", strides=2, transpose=True)
    return keras.Model(inputs, _output(x), name=name)


@register_model(**PAPER, input_shape=(72, 72, 3), task="super-resolution",
                small_kwargs={"input_shape": (8, 8, 3), "filters": 4, "residual_blocks": 1})
def sr_transform_net(scale=4, filters=64, residual_blocks=4, channels=3, input_shape=None,
                     input_tensor=None, name="sr_transform_net"):
    """The super-resolution network (Johnson et al. 2016): a low-resolution image in [0, 1] to
    one `scale` times larger.

    Args:
        scale: int. Upscaling factor, a power of two (4 and 8 in the paper). Defaults to 4.
        filters: int. Filters of every convolution but the last. Defaults to 64.
        residual_blocks: int. Number of residual blocks. Defaults to 4.
        channels: int. Image channels (3 for RGB, 1 for luminance). Defaults to 3.
        input_shape: (height, width, channels) of the low-resolution input. Defaults to
            (72, 72, channels), the paper's x4 training patches (288 / 4).
        input_tensor: optional Keras tensor to use as the input.
        name: str. Model name.
    """
    if not isinstance(scale, int) or scale < 2 or scale & (scale - 1):
        raise ValueError(f"scale={scale!r} is not allowed: use a power of two, at least 2.")
    check_int("filters", filters)
    check_int("residual_blocks", residual_blocks, minimum=0)
    check_int("channels", channels)
    x, inputs = image_input(input_shape, input_tensor, default_shape=(72, 72, channels),
                            min_size=1)
    x = _conv_norm(x, filters, 9, "c1")
    for b in range(residual_blocks):
        x = _residual(x, filters, f"res{b + 1}")
    for u in range(int(math.log2(scale))):
        x = _conv_norm(x, filters, 3, f"u{u + 1}", strides=2, transpose=True)
    return keras.Model(inputs, _output(x, channels), name=name)
