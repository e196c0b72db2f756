"""U-Net: a contracting path, an expanding path and skip connections for segmentation.

Reference:
    Ronneberger, Fischer and Brox, "U-Net: Convolutional Networks for Biomedical Image
    Segmentation", MICCAI 2015. https://arxiv.org/abs/1505.04597

Each level of the contracting path is two 3x3 convolutions with ReLU and a 2x2 max pooling that
halves the size; the number of filters doubles per level (64 .. 1024 over the paper's five
levels). Each level of the expanding path is a 2x2 up-convolution halving the filters, a
concatenation with the contracting path's feature map of the same level, and two 3x3
convolutions; a 1x1 convolution gives the class scores (logits). With the paper's valid
padding every 3x3 convolution trims two pixels, so the skip features are cropped to the centre
(a `Cropping2D` sized from the static shapes, so valid padding needs a fixed input size) and the output is smaller than the input: 572 -> 388 at five levels. Labels for
such an output are cropped with `garden.data.crop_to_output`; the paper's weight map is
`garden.data.unet_weight_map`. `padding="same"` keeps the size instead.

Layers are named `down{level}_conv{1,2}`, `down{level}_pool`, `up{level}_upconv`,
`up{level}_concat`, `up{level}_conv{1,2}` and `logits`.
"""

import keras
from keras import layers

from garden.models._classifier import image_input
from garden.models._registry import figure, register_model
from garden.utils.checks import check_choice, check_int, check_rate

PADDINGS = ("valid", "same")


def valid_output_size(size, depth):
    """The output size of a valid-padding U-Net of `depth` levels for an input of `size`, or
    None where a pooling would meet an odd size or a size falls below one."""
    for _ in range(depth - 1):
        size -= 4
        if size < 2 or size % 2:
            return None
        size //= 2
    size -= 4
    for _ in range(depth - 1):
        size = 2 * size - 4
    return size if size >= 1 else None


def _check_size(input_shape, padding, depth):
    if padding == "valid" and None in input_shape[:2]:
        raise ValueError(
            f"input_shape={tuple(input_shape)} is not allowed with padding='valid': the skip "
            "connections' crops need a fixed height and width (use padding='same' for a "
            "variable size)."
        )
    for size in input_shape[:2]:
        if size is None:
            continue
        if padding == "same" and size % 2 ** (depth - 1):
            raise ValueError(
                f"input_shape={tuple(input_shape)} is not allowed with padding='same' and "
                f"depth={depth}: height and width must be divisible by 2^(depth - 1) = "
                f"{2 ** (depth - 1)}."
            )
        if padding == "valid" and valid_output_size(size, depth) is None:
            allowed = [s for s in range(1, 1024) if valid_output_size(s, depth)][:4]
            raise ValueError(
                f"input_shape={tuple(input_shape)} is not allowed with padding='valid' and "
                f"depth={depth}: every 2x2 pooling needs an even size (allowed sizes are "
                f"{', '.join(map(str, allowed))}, ... in steps of {2 ** (depth - 1)})."
            )


def _double_conv(x, filters, padding, name):
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding=padding, activation="relu",
                          kernel_initializer="he_normal", name=f"{name}_conv{i}")(x)
    return x


@register_model(
    paper="Ronneberger et al., U-Net: Convolutional Networks for Biomedical Image Segmentation",
    year=2015,
    arxiv="https://arxiv.org/abs/1505.04597",
    input_shape=(572, 572, 1),
    task="segmentation",
    small_kwargs={"input_shape": (44, 44, 1), "classes": 3, "filters": 4, "depth": 3},
    figures=[figure("output shape", (388, 388, 2), "Figure 1 (572x572 -> 388x388)"),
             figure("parameters", 31_030_658, "Figure 1's layers (the paper states no count)")],
)
def unet(input_shape=None, classes=2, padding="valid", filters=64, depth=5, dropout=0.5,
         input_tensor=None, name="unet"):
    """U-Net (Ronneberger et al. 2015); outputs per-pixel class logits.

    With the defaults (the paper's network) a 572x572x1 input gives a 388x388x2 output and the
    model has 31,030,658 parameters.

    Args:
        input_shape: (height, width, channels). Defaults to (572, 572, 1), the paper's tile.
            With valid padding every pooling needs an even size (and the size is fixed); with
            same padding height and width must be divisible by 2^(depth - 1) or be None.
        classes: int. Number of classes. Defaults to 2.
        padding: "valid" (the paper's; the output is smaller than the input) or "same" (the
            output has the input's size). Defaults to "valid".
        filters: int. Filters of the first level, doubled at every level. Defaults to 64.
        depth: int. Number of levels (poolings + 1), at least 2. Defaults to 5.
        dropout: float. Dropout rate at the end of the contracting path (the paper's
            "drop-out layers at the end of the contracting path"). Defaults to 0.5.
        input_tensor: optional Keras tensor to use as the input.
        name: str. Model name.

    Example:
    >>> unet().output_shape
    (None, 388, 388, 2)
    """
    check_choice("padding", padding, PADDINGS)
    check_int("classes", classes)
    check_int("filters", filters)
    check_int("depth", depth, minimum=2)
    check_rate("dropout", dropout)
    x, inputs = image_input(input_shape, input_tensor, default_shape=(572, 572, 1), min_size=1)
    _check_size(tuple(x.shape[1:]), padding, depth)
    skips = []
    for level in range(1, depth):
        x = _double_conv(x, filters * 2 ** (level - 1), padding, f"down{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"down{level}_pool")(x)
    x = _double_conv(x, filters * 2 ** (depth - 1), padding, f"down{depth}")
    if dropout:
        x = layers.Dropout(dropout, name="bottom_dropout")(x)
    for level in range(depth - 1, 0, -1):
        x = layers.Conv2DTranspose(filters * 2 ** (level - 1), 2, strides=2,
                                   kernel_initializer="he_normal", name=f"up{level}_upconv")(x)
        skip = skips[level - 1]
        if padding == "valid":
            trim = [(s - t) // 2 for s, t in zip(skip.shape[1:3], x.shape[1:3])]
            skip = layers.Cropping2D(((trim[0], trim[0]), (trim[1], trim[1])),
                                     name=f"up{level}_crop")(skip)
        x = layers.Concatenate(name=f"up{level}_concat")([skip, x])
        x = _double_conv(x, filters * 2 ** (level - 1), padding, f"up{level}")
    x = layers.Conv2D(classes, 1, name="logits")(x)
    return keras.Model(inputs, x, name=name)
