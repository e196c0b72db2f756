"""Convolution arithmetic: output sizes of convolution, pooling, transposed and dilated convolution.

The 15 relationships of Dumoulin & Visin's guide, one axis at a time (axes do not interact). Each
result names the relationship it instantiates. Padding is given as the guide's `p` (zeros on both
sides), as `(before, after)`, or by name: "valid" (p = 0), "half" (p = floor(k / 2)), "full"
(p = k - 1), and Keras' "same" and "causal", which pad asymmetrically; asymmetric padding enters
the relationships as `p_before + p_after` in place of `2p`.

Reference:
    Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016.
    https://arxiv.org/abs/1603.07285
"""

import dataclasses

import numpy as np

from garden.utils.files import atomic_path
from garden.utils.checks import check_int

# The guide's relationships: i, k, s, p, d of the convolution; i', o', a of its transpose.
RELATIONSHIPS = {
    1: "o = (i - k) + 1",
    2: "o = (i - k) + 2p + 1",
    3: "o = i",
    4: "o = i + (k - 1)",
    5: "o = floor((i - k) / s) + 1",
    6: "o = floor((i + 2p - k) / s) + 1",
    7: "o = floor((i - k) / s) + 1",
    8: "o' = i' + (k - 1)",
    9: "o' = i' + (k - 1) - 2p",
    10: "o' = i'",
    11: "o' = i' - (k - 1)",
    12: "o' = s (i' - 1) + k",
    13: "o' = s (i' - 1) + k - 2p",
    14: "o' = s (i' - 1) + a + k - 2p",
    15: "o = floor((i + 2p - k - (k - 1)(d - 1)) / s) + 1",
}
PADDING_NAMES = ("valid", "half", "full", "same", "causal")


@dataclasses.dataclass(frozen=True)
class Arithmetic:
    """The arithmetic of one axis of a convolution, pooling or transposed convolution.

    Attributes:
        kind: "convolution", "pooling" or "transposed convolution".
        input_size: i (i' for a transposed convolution).
        kernel_size: k.
        strides: s.
        padding: zeros (before, after) of the convolution; for a transposed convolution, those
            of the direct convolution it transposes.
        dilation_rate: d.
        output_padding: a, the zeros added after the stretched input of a transposed
            convolution (0 otherwise).
        output_size: o (o').
        relationship: the number of the guide's relationship this case instantiates.
    """

    kind: str
    input_size: int
    kernel_size: int
    strides: int
    padding: tuple
    dilation_rate: int
    output_padding: int
    output_size: int
    relationship: int

    @property
    def effective_kernel_size(self):
        """k + (k - 1)(d - 1), the span of a dilated kernel (Relationship 15)."""
        return self.kernel_size + (self.kernel_size - 1) * (self.dilation_rate - 1)

    @property
    def formula(self):
        return RELATIONSHIPS[self.relationship]

    @property
    def equivalent_convolution(self):
        """(stretched input size, (before, after) padding) of the unit-stride convolution that
        computes this transposed convolution: s - 1 zeros between inputs, p' = k - p - 1 zeros
        around them, and a more zeros after (Relationships 8-14)."""
        if self.kind != "transposed convolution":
            raise ValueError(f"kind={self.kind!r}: only a transposed convolution has one.")
        before, after = self.padding
        span = self.effective_kernel_size - 1
        stretched = self.input_size + (self.input_size - 1) * (self.strides - 1)
        return stretched, (span - before, span - after + self.output_padding)

    def __str__(self):
        prime = "'" if self.kind == "transposed convolution" else ""
        parts = [f"i{prime}={self.input_size}", f"k={self.kernel_size}", f"s={self.strides}"]
        before, after = self.padding
        parts.append(f"p={before}" if before == after else f"p=({before}, {after})")
        if self.dilation_rate != 1:
            parts.append(f"d={self.dilation_rate}")
        if self.output_padding:
            parts.append(f"a={self.output_padding}")
        return (
            f"{self.kind}: {', '.join(parts)} -> o{prime}={self.output_size} "
            f"(Relationship {self.relationship}: {self.formula})"
        )


def conv_arithmetic(input_size, kernel_size, strides=1, padding=0, dilation_rate=1):
    """Output size of a convolution along one axis (Relationships 1-6 and 15).

    Relationship 1 (p = 0, s = 1): o = (i - k) + 1. Relationship 2 (s = 1): o = (i - k) + 2p + 1.
    Relationship 3 (half padding, k odd, p = floor(k/2), s = 1): o = i. Relationship 4 (full
    padding, p = k - 1, s = 1): o = i + (k - 1). Relationship 5 (p = 0): o = floor((i - k)/s) + 1.
    Relationship 6 (general): o = floor((i + 2p - k)/s) + 1. Relationship 15 (dilation d): k
    becomes k + (k - 1)(d - 1) in Relationship 6.

    Args:
        input_size: int. i, the input size along the axis.
        kernel_size: int. k.
        strides: int. s. Defaults to 1.
        padding: int, (before, after) or one of "valid", "half", "full", "same", "causal".
            Defaults to 0.
        dilation_rate: int. d. Defaults to 1.

    Returns:
        An `Arithmetic` with `.output_size` and `.relationship`.

    Example:
    >>> conv_arithmetic(5, 3, strides=2, padding=1).output_size  # the guide's Figure 2.6
    3
    >>> conv_arithmetic(7, 3, dilation_rate=2).relationship
    15
    """
    return _direct("convolution", input_size, kernel_size, strides, padding, dilation_rate)


def pool_arithmetic(input_size, pool_size, strides=None, padding=0):
    """Output size of a pooling layer along one axis (Relationship 7).

    Relationship 7: o = floor((i - k)/s) + 1 for any pooling function. With padding (Keras'
    "same" pooling) the window slides over the padded input, as in Relationship 6.

    Args:
        input_size: int. i.
        pool_size: int. k, the window size.
        strides: int. s. Defaults to `pool_size`, as in Keras.
        padding: int, (before, after) or a padding name. Defaults to 0.

    Returns:
        An `Arithmetic`.

    Example:
    >>> pool_arithmetic(5, 3, strides=1).output_size  # the guide's Figure 1.5
    3
    """
    strides = pool_size if strides is None else strides
    return _direct("pooling", input_size, pool_size, strides, padding, 1)


def transposed_conv_arithmetic(
    input_size, kernel_size, strides=1, padding=0, output_padding=None, dilation_rate=1
):
    """Output size of a transposed convolution along one axis (Relationships 8-14).

    The transposed convolution of a direct convolution with kernel k, stride s and padding p
    maps i' inputs to o' outputs. Relationship 8 (s = 1, p = 0): o' = i' + (k - 1).
    Relationship 9 (s = 1): o' = i' + (k - 1) - 2p. Relationship 10 (half padding): o' = i'.
    Relationship 11 (full padding): o' = i' - (k - 1). Relationship 12 (p = 0, i - k a multiple
    of s): o' = s(i' - 1) + k. Relationship 13 (i + 2p - k a multiple of s): o' = s(i' - 1) + k
    - 2p. Relationship 14 (general, a = (i + 2p - k) mod s): o' = s(i' - 1) + a + k - 2p. With
    dilation, k becomes k + (k - 1)(d - 1) as in Relationship 15.

    Args:
        input_size: int. i', the input size of the transposed convolution.
        kernel_size: int. k.
        strides: int. s, the stride of the direct convolution. Defaults to 1.
        padding: int, (before, after) or a padding name: the padding of the direct convolution
            (Keras' `padding` of `Conv2DTranspose` for "valid" and "same"). Defaults to 0.
        output_padding: int or None. a in [0, s - 1]. None follows Keras: a = 0 for an integer
            padding; for "valid" and "same", the a (and padding) that give Keras' sizes
            s * i' + max(k - s, 0) and s * i'. Defaults to None.
        dilation_rate: int. d. Defaults to 1.

    Returns:
        An `Arithmetic`; `.equivalent_convolution` describes the direct convolution that
        computes it.

    Example:
    >>> transposed_conv_arithmetic(3, 3, strides=2, padding=1, output_padding=1).output_size
    6
    """
    _check_sizes(input_size, kernel_size, strides, dilation_rate)
    span = kernel_size + (kernel_size - 1) * (dilation_rate - 1)
    if output_padding is None:
        # Keras' sizes: s * i' + max(k - s, 0) for "valid", s * i' for "same".
        output_padding = max(strides - span, 0) if padding in ("valid", "same") else 0
        if padding == "same":
            total = max(span - strides, 0)
            padding = (total // 2, total - total // 2)
    elif padding == "same":
        padding = span // 2  # Keras pads k // 2 on both sides when output_padding is given
    if not isinstance(output_padding, int) or not 0 <= output_padding < strides:
        raise ValueError(
            f"output_padding={output_padding!r} is not allowed: use an int in [0, strides - 1] "
            f"= [0, {strides - 1}]."
        )
    before, after = _padding(padding, None, span, 1)
    output_size = strides * (input_size - 1) + output_padding + span - before - after
    if output_size < 1:
        raise ValueError(
            f"padding={padding!r} is not allowed: it crops the whole output "
            f"(o' = {output_size})."
        )
    return Arithmetic(
        "transposed convolution", input_size, kernel_size, strides, (before, after),
        dilation_rate, output_padding, output_size,
        _transposed_relationship(kernel_size, strides, (before, after), output_padding),
    )


def _direct(kind, input_size, kernel_size, strides, padding, dilation_rate):
    _check_sizes(input_size, kernel_size, strides, dilation_rate)
    span = kernel_size + (kernel_size - 1) * (dilation_rate - 1)
    before, after = _padding(padding, input_size, span, strides)
    padded = input_size + before + after
    if padded < span:
        raise ValueError(
            f"kernel_size={kernel_size!r} is not allowed with input_size={input_size}, "
            f"padding={padding!r} and dilation_rate={dilation_rate}: the kernel spans {span} "
            f"but the padded input has {padded}."
        )
    output_size = (padded - span) // strides + 1
    if kind == "pooling" and before == after == 0:
        relationship = 7
    elif dilation_rate > 1:
        relationship = 15
    else:
        relationship = _direct_relationship(kernel_size, strides, (before, after))
    return Arithmetic(kind, input_size, kernel_size, strides, (before, after), dilation_rate, 0,
                      output_size, relationship)


def _direct_relationship(k, s, padding):
    p = padding[0] if padding[0] == padding[1] else None
    if s > 1:
        return 5 if p == 0 else 6
    if p == 0:
        return 1
    if k % 2 == 1 and p == k // 2:
        return 3
    if p == k - 1:
        return 4
    return 2


def _transposed_relationship(k, s, padding, a):
    if a:
        return 14
    p = padding[0] if padding[0] == padding[1] else None
    if s > 1:
        return 12 if p == 0 else 13 if p is not None else 14
    if p == 0:
        return 8
    if k % 2 == 1 and p == k // 2:
        return 10
    if p == k - 1:
        return 11
    return 9


def _check_sizes(input_size, kernel_size, strides, dilation_rate):
    for name, value in (("input_size", input_size), ("kernel_size", kernel_size),
                        ("strides", strides), ("dilation_rate", dilation_rate)):
        check_int(name, value)


def _padding(padding, input_size, span, strides):
    """(before, after) zeros for a padding given as an int, a pair or a name."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding == "half":
            return span // 2, span // 2
        if padding == "full":
            return span - 1, span - 1
        if padding == "causal":
            return span - 1, 0
        if padding == "same" and input_size is not None:
            output_size = -(-input_size // strides)
            total = max((output_size - 1) * strides + span - input_size, 0)
            return total // 2, total - total // 2
        raise ValueError(f"padding={padding!r} is not allowed: use an int >= 0, a pair "
                         f"(before, after) or one of {PADDING_NAMES}.")
    pair = (padding, padding) if isinstance(padding, (int, np.integer)) else tuple(padding)
    if len(pair) != 2 or any(not isinstance(p, (int, np.integer)) or p < 0 for p in pair):
        raise ValueError(f"padding={padding!r} is not allowed: use an int >= 0, a pair "
                         f"(before, after) or one of {PADDING_NAMES}.")
    return int(pair[0]), int(pair[1])


# Solarized colours, as in the guide's figures.
_BLUE, _CYAN, _SHADE = "#268bd2", "#2aa198", "#073642"


def animate(arithmetic, path, *, fps=2, cell=0.4):
    """Writes an animated GIF of a 2-D square case of `arithmetic`, as in the guide's figures.

    The input (blue) with its zero padding (white) is on the left and the output (cyan) on the
    right; each frame shades the kernel's taps (spread by the dilation) and the output unit
    they produce. A transposed convolution is drawn as its equivalent unit-stride convolution
    over the stretched input, as in the guide's chapter 4.

    Args:
        arithmetic: Arithmetic. One axis; the animation uses it for both axes.
        path: str or os.PathLike. The GIF to write (atomically).
        fps: float. Frames per second. Defaults to 2.
        cell: float. Size of one grid cell in inches. Defaults to 0.4.

    Returns:
        `path`.

    Example:
    >>> animate(conv_arithmetic(5, 3, strides=2, padding=1), "/tmp/padding_strides.gif")
    '/tmp/padding_strides.gif'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle
    from PIL import Image

    if arithmetic.kind == "transposed convolution":
        size, (before, after) = arithmetic.equivalent_convolution
        if before < 0 or after < 0:
            raise ValueError(
                f"padding={arithmetic.padding} is larger than the kernel span: the equivalent "
                "convolution would crop its input, which cannot be drawn."
            )
        stride_in_view, spacing = 1, arithmetic.strides
    else:
        size, (before, after) = arithmetic.input_size, arithmetic.padding
        stride_in_view, spacing = arithmetic.strides, 1
    grid = before + size + after
    is_input = np.zeros(grid, bool)
    is_input[before:before + size:spacing] = True
    outputs = arithmetic.output_size
    taps = np.arange(arithmetic.kernel_size) * arithmetic.dilation_rate

    output_offset = grid + 2
    width, height = output_offset + outputs, max(grid, outputs)
    figure = Figure(figsize=(max(width * cell, 6.0), height * cell + 0.8))
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_axes((0.02, 0.02, 0.96, 0.96 - 0.8 / (height * cell + 0.8)))
    axes.set_xlim(-0.1, width + 0.1)
    axes.set_ylim(height + 0.1, -0.1)
    axes.set_aspect("equal")
    axes.set_axis_off()
    figure.suptitle(str(arithmetic).replace(" (Relationship", "\n(Relationship"), fontsize=9)

    def square(row, column, offset, **style):
        patch = Rectangle((offset + column, row), 1, 1, edgecolor="#002b36", linewidth=0.8,
                          **style)
        axes.add_patch(patch)
        return patch

    for row in range(grid):
        for column in range(grid):
            filled = is_input[row] and is_input[column]
            square(row, column, 0, facecolor=_BLUE if filled else "white",
                   linestyle="-" if filled else ":")
    output_cells = [[square(row, column, output_offset, facecolor=_CYAN)
                     for column in range(outputs)] for row in range(outputs)]
    kernel = [[square(0, 0, 0, facecolor=_SHADE, alpha=0.45) for _ in taps] for _ in taps]

    frames = []
    for out_row in range(outputs):
        for out_column in range(outputs):
            for i, tap_row in enumerate(taps):
                for j, tap_column in enumerate(taps):
                    kernel[i][j].set_xy((out_column * stride_in_view + tap_column,
                                         out_row * stride_in_view + tap_row))
            for row in range(outputs):
                for column in range(outputs):
                    current = (row, column) == (out_row, out_column)
                    output_cells[row][column].set_facecolor(_SHADE if current else _CYAN)
            canvas.draw()
            frames.append(Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]))
    # One shared palette: the GIF then stores only what changes between frames.
    palette = frames[0].quantize(32)
    frames = [frame.quantize(palette=palette) for frame in frames]
    with atomic_path(path) as temporary:
        frames[0].save(temporary, save_all=True, append_images=frames[1:],
                       duration=int(1000 / fps), loop=0)
    return path
