"""The convolution-arithmetic calculator against the guide's figures and real Keras layers."""

import os

import keras
import numpy as np
import pytest
from PIL import Image

from garden.tools import (
    RELATIONSHIPS,
    animate,
    conv_arithmetic,
    pool_arithmetic,
    transposed_conv_arithmetic,
)

# Every relationship with the example of the guide's figure that illustrates it:
# (function, arguments, output size in the figure, relationship number).
GUIDE_FIGURES = [
    (conv_arithmetic, dict(input_size=4, kernel_size=3), 2, 1),  # Figure 2.1
    (conv_arithmetic, dict(input_size=5, kernel_size=4, padding=2), 6, 2),  # Figure 2.2
    (conv_arithmetic, dict(input_size=5, kernel_size=3, padding="half"), 5, 3),  # Figure 2.3
    (conv_arithmetic, dict(input_size=5, kernel_size=3, padding="full"), 7, 4),  # Figure 2.4
    (conv_arithmetic, dict(input_size=5, kernel_size=3, strides=2), 2, 5),  # Figure 2.5
    (conv_arithmetic, dict(input_size=5, kernel_size=3, strides=2, padding=1), 3, 6),  # 2.6
    (conv_arithmetic, dict(input_size=6, kernel_size=3, strides=2, padding=1), 3, 6),  # 2.7
    (pool_arithmetic, dict(input_size=5, pool_size=3, strides=1), 3, 7),  # Figures 1.5, 1.6
    (transposed_conv_arithmetic, dict(input_size=2, kernel_size=3), 4, 8),  # Figure 4.1
    (transposed_conv_arithmetic, dict(input_size=6, kernel_size=4, padding=2), 5, 9),  # 4.2
    (transposed_conv_arithmetic, dict(input_size=5, kernel_size=3, padding=1), 5, 10),  # 4.3
    (transposed_conv_arithmetic, dict(input_size=7, kernel_size=3, padding=2), 5, 11),  # 4.4
    (transposed_conv_arithmetic, dict(input_size=2, kernel_size=3, strides=2), 5, 12),  # 4.5
    (transposed_conv_arithmetic, dict(input_size=3, kernel_size=3, strides=2, padding=1), 5, 13),
    (transposed_conv_arithmetic,
     dict(input_size=3, kernel_size=3, strides=2, padding=1, output_padding=1), 6, 14),  # 4.7
    (conv_arithmetic, dict(input_size=7, kernel_size=3, dilation_rate=2), 3, 15),  # Figure 5.1
]


@pytest.mark.parametrize("function, kwargs, output_size, relationship", GUIDE_FIGURES)
def test_guide_figures(function, kwargs, output_size, relationship):
    result = function(**kwargs)
    assert (result.output_size, result.relationship) == (output_size, relationship)
    assert f"Relationship {relationship}: {RELATIONSHIPS[relationship]}" in str(result)


def test_every_relationship_is_covered_and_documented():
    assert {relationship for *_, relationship in GUIDE_FIGURES} == set(range(1, 16))
    documented = " ".join(
        f.__doc__ for f in (conv_arithmetic, pool_arithmetic, transposed_conv_arithmetic)
    )
    for number in RELATIONSHIPS:
        assert f"Relationship {number}" in documented


def test_transpose_recovers_the_input_size_and_equals_its_direct_convolution():
    rng = np.random.default_rng(0)
    for _ in range(300):
        i, k, s = rng.integers(1, 20), rng.integers(1, 6), rng.integers(1, 4)
        p = int(rng.integers(0, k))
        if i + 2 * p < k:
            continue
        direct = conv_arithmetic(i, k, strides=s, padding=p)
        # Relationship 14: a = (i + 2p - k) mod s tells which of the s inputs it came from.
        transposed = transposed_conv_arithmetic(
            direct.output_size, k, strides=s, padding=p, output_padding=int((i + 2 * p - k) % s)
        )
        assert transposed.output_size == i
        stretched, padding = transposed.equivalent_convolution
        assert conv_arithmetic(stretched, k, padding=padding).output_size == i


CONV = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}
DEPTHWISE = {1: keras.layers.DepthwiseConv1D, 2: keras.layers.DepthwiseConv2D}
SEPARABLE = {1: keras.layers.SeparableConv1D, 2: keras.layers.SeparableConv2D}
TRANSPOSED = {
    1: keras.layers.Conv1DTranspose,
    2: keras.layers.Conv2DTranspose,
    3: keras.layers.Conv3DTranspose,
}
MAX_POOL = {
    1: keras.layers.MaxPooling1D,
    2: keras.layers.MaxPooling2D,
    3: keras.layers.MaxPooling3D,
}
AVERAGE_POOL = {
    1: keras.layers.AveragePooling1D,
    2: keras.layers.AveragePooling2D,
    3: keras.layers.AveragePooling3D,
}
CROPPING = {1: keras.layers.Cropping1D, 2: keras.layers.Cropping2D, 3: keras.layers.Cropping3D}
ZERO_PADDING = {
    1: keras.layers.ZeroPadding1D,
    2: keras.layers.ZeroPadding2D,
    3: keras.layers.ZeroPadding3D,
}


def _random_configuration(rng):
    """Random Keras layers, their input shape and the calculator's prediction of the output
    sizes (None where it must reject them).

    An integer padding p of a convolution or pooling is a ZeroPadding layer before it; that of a
    transposed convolution (the padding of the direct convolution) crops its output.
    """
    family = rng.choice(["conv", "depthwise", "separable", "transposed", "max", "average"])
    rank = int(rng.integers(1, 3 if family in ("depthwise", "separable") else 4))
    sizes = [int(n) for n in rng.integers(1, 14, rank)]
    kernel = [int(n) for n in rng.integers(1, 6, rank)]
    strides = [int(n) for n in rng.integers(1, 4, rank)]
    dilation = [1] * rank
    if max(strides) == 1 and family not in ("max", "average"):
        dilation = [int(n) for n in rng.integers(1, 4, rank)]  # Keras: dilation needs stride 1
    padding = str(rng.choice(["valid", "same", "explicit"] + ["causal"] * (family == "conv")))
    if padding == "causal" and rank != 1:
        padding = "same"
    explicit = None
    if padding == "explicit":  # (before, after) zeros per axis
        explicit = [tuple(int(n) for n in rng.integers(0, 4, 2)) for _ in range(rank)]

    if family in ("max", "average"):
        pools = MAX_POOL if family == "max" else AVERAGE_POOL
        layer = pools[rank](tuple(kernel), strides=tuple(strides),
                            padding="valid" if explicit else padding)
        predict = [lambda a: pool_arithmetic(*a[:3], padding=a[3])] * rank
    elif family == "transposed":
        output_padding = None
        if rng.random() < 0.5 or padding == "explicit":
            output_padding = [int(rng.integers(0, s)) for s in strides]
        layer = TRANSPOSED[rank](2, tuple(kernel), strides=tuple(strides),
                                 padding="valid" if explicit else padding,
                                 output_padding=output_padding, dilation_rate=tuple(dilation))
        predict = [
            lambda a, j=j: transposed_conv_arithmetic(
                *a[:3], padding=a[3],
                output_padding=None if output_padding is None else output_padding[j],
                dilation_rate=a[4],
            )
            for j in range(rank)
        ]
    else:
        kwargs = dict(strides=tuple(strides), padding="valid" if explicit else padding,
                      dilation_rate=tuple(dilation))
        if family == "conv":
            layer = CONV[rank](2, tuple(kernel), **kwargs)
        elif family == "depthwise":
            layer = DEPTHWISE[rank](tuple(kernel), depth_multiplier=2, **kwargs)
        else:
            layer = SEPARABLE[rank](2, tuple(kernel), **kwargs)
        predict = [lambda a: conv_arithmetic(*a[:3], padding=a[3], dilation_rate=a[4])] * rank

    layers = [layer]
    if explicit is not None:
        amounts = explicit[0] if rank == 1 else tuple(explicit)
        if family == "transposed":
            layers.append(CROPPING[rank](amounts))
        else:
            layers.insert(0, ZERO_PADDING[rank](amounts))
    expected = []
    for j in range(rank):
        # Explicit zero padding or cropping is the calculator's (before, after) padding.
        axis_padding = padding if explicit is None else explicit[j]
        try:
            expected.append(
                predict[j]((sizes[j], kernel[j], strides[j], axis_padding, dilation[j])).output_size
            )
        except ValueError:
            return layers, (None, *sizes, 3), None
    return layers, (None, *sizes, 3), expected


def _keras_output_sizes(layers, input_shape):
    shape = input_shape
    for layer in layers:
        shape = layer.compute_output_shape(shape)
    return list(shape[1:-1])


# Configurations that Keras' arithmetic (and the guide's) accept but a TensorFlow kernel refuses
# on some CPUs, with the reason. Their arithmetic is still checked against `compute_output_shape`;
# the shapes of real outputs are checked on the stand-in `_runnable` gives, or not at all.
KERNEL_REFUSALS = {
    "unequal strides of a 2-D depthwise or separable convolution": (
        lambda layer: isinstance(layer, (keras.layers.DepthwiseConv2D,
                                         keras.layers.SeparableConv2D))
        and len(set(layer.strides)) > 1,
        "TensorFlow's Eigen CPU depthwise kernel (used where oneDNN is not, e.g. on AMD EPYC) "
        "raises 'Current implementation only supports equal length strides in the row and "
        "column dimensions'; a Conv2D of the same geometry runs instead",
    ),
    "explicit output_padding of a transposed convolution": (
        lambda layer: getattr(layer, "output_padding", None) is not None,
        "TensorFlow's transposed-convolution kernel rejects some output sizes that Keras' "
        "arithmetic accepts (e.g. 'same', k=4, s=1; cf. keras-team/keras#22429); not run",
    ),
}


def _refusal(layer):
    """The name of the KERNEL_REFUSALS entry that `layer` falls under, or None."""
    return next((name for name, (refuses, _) in KERNEL_REFUSALS.items() if refuses(layer)), None)


def _runnable(layer):
    """`layer`, a Conv2D of the same geometry for a refused depthwise or separable one, or None
    where no stand-in exists."""
    refusal = _refusal(layer)
    if refusal is None:
        return layer
    if refusal.startswith("unequal strides"):
        return keras.layers.Conv2D(2, layer.kernel_size, strides=layer.strides,
                                   padding=layer.padding, dilation_rate=layer.dilation_rate)
    return None


def test_kernel_refusals_are_named_by_the_configurations():
    depthwise = keras.layers.DepthwiseConv2D((3, 2), strides=(1, 2))
    assert _refusal(depthwise).startswith("unequal strides")
    assert _refusal(keras.layers.DepthwiseConv2D(3, strides=2)) is None
    stand_in = _runnable(depthwise)
    assert type(stand_in) is keras.layers.Conv2D and stand_in.strides == (1, 2)
    shape = (None, 7, 7, 3)
    assert stand_in.compute_output_shape(shape)[1:3] == depthwise.compute_output_shape(shape)[1:3]
    assert _runnable(keras.layers.Conv2DTranspose(2, 3, strides=2, output_padding=1)) is None


def test_calculator_matches_keras_layers_on_random_configurations():
    rng = np.random.default_rng(7)
    checked = rejected = 0
    ran = {"as is": 0, "on a stand-in": 0}
    while checked < 400:
        layers, input_shape, expected = _random_configuration(rng)
        if expected is None:
            # Kernel larger than the padded input: Keras refuses it too.
            with pytest.raises(ValueError):
                _keras_output_sizes(layers, input_shape)
            rejected += 1
            continue
        assert _keras_output_sizes(layers, input_shape) == expected, (layers, input_shape)
        # The shapes of real outputs too, not only the layers' own arithmetic.
        runnable = [_runnable(layer) for layer in layers]
        if checked < 80 and None not in runnable:
            x = np.zeros((1, *input_shape[1:]), "float32")
            for layer in runnable:
                x = layer(x)
            assert list(x.shape[1:-1]) == expected, (layers, input_shape)
            ran["as is" if runnable == layers else "on a stand-in"] += 1
        checked += 1
    assert rejected > 10  # the rejection path was exercised
    assert min(ran.values()) > 0, ran  # both real-output paths too


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: conv_arithmetic(0, 3), "input_size=0"),
        (lambda: conv_arithmetic(5, 2.5), "kernel_size=2.5"),
        (lambda: conv_arithmetic(5, 3, strides=0), "strides=0"),
        (lambda: conv_arithmetic(5, 3, padding="mirror"), "padding='mirror'"),
        (lambda: conv_arithmetic(5, 3, padding=-1), "padding=-1"),
        (lambda: conv_arithmetic(2, 5), "kernel_size=5"),
        (lambda: transposed_conv_arithmetic(3, 3, strides=2, output_padding=2),
         "output_padding=2"),
        (lambda: transposed_conv_arithmetic(1, 1, padding=1), "padding=1"),
        (lambda: conv_arithmetic(5, 3).equivalent_convolution, "kind='convolution'"),
    ],
)
def test_bad_arguments_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_animation_has_one_frame_per_output_unit(tmp_path):
    path = tmp_path / "gifs" / "transposed.gif"
    arithmetic = transposed_conv_arithmetic(2, 2, strides=2)
    assert animate(arithmetic, path) == path
    assert os.listdir(path.parent) == ["transposed.gif"]  # written atomically, nothing left over
    with Image.open(path) as gif:
        assert gif.n_frames == arithmetic.output_size**2 == 16
        first = np.asarray(gif.convert("RGB"))
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB"))
    assert not np.array_equal(first, last)  # the kernel moved


def test_command_line_prints_every_axis_and_writes_the_gif(capsys, tmp_path):
    from garden.cli import main

    gif = tmp_path / "same.gif"
    assert main(["conv-arith", "--input", "7,8", "--kernel", "3", "--stride", "2",
                 "--padding", "same"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("convolution: i=7, k=3, s=2, p=1 -> o=4 (Relationship 6")
    assert lines[1].startswith("convolution: i=8, k=3, s=2, p=(0, 1) -> o=4")
    assert lines[2] == "output shape: (4, 4)"

    assert main(["conv-arith", "--kind", "transposed", "--input", "2", "--kernel", "2",
                 "--stride", "2", "--gif", str(gif)]) == 0
    out = capsys.readouterr().out
    assert "o'=4 (Relationship 12" in out and f"wrote {gif}" in out
    assert gif.is_file()

    assert main(["conv-arith", "--input", "2", "--kernel", "5"]) == 2
    assert "kernel_size=5" in capsys.readouterr().err
