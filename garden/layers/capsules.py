"""Capsules: vector-valued units, the squash non-linearity and dynamic routing between capsules.

Reference:
    Sabour, Frosst and Hinton, "Dynamic Routing Between Capsules", NeurIPS 2017.
    https://arxiv.org/abs/1710.09829
"""

import keras
from keras import layers, ops

from garden.utils.serialization import serializable
from garden.utils.checks import check_int
from garden.utils.multiply_adds import layer_multiply_adds


def squash(vectors, axis=-1):
    """The capsule non-linearity, Eq. 1: `v = |s|^2 / (1 + |s|^2) * s / |s|`.

    Short vectors shrink to almost zero length and long vectors to a length just below 1, so a
    capsule's length can be read as the probability that its entity is present. A zero vector
    maps to zero (with a finite gradient).

    Args:
        vectors: tensor of capsule vectors.
        axis: int. The axis holding each vector's components. Defaults to -1.
    """
    squared_norm = ops.sum(ops.square(vectors), axis=axis, keepdims=True)
    return squared_norm / (1.0 + squared_norm) * vectors / ops.sqrt(
        squared_norm + keras.config.epsilon()
    )


@serializable
class PrimaryCapsules(layers.Layer):
    """The PrimaryCaps layer: a convolution whose channels are grouped into squashed vectors.

    A convolution with `capsules * dim` channels; at every position the channels split into
    `capsules` vectors of `dim` components (the paper's 32 channels of 8-D capsules), each
    squashed (Eq. 1). On MNIST, 9x9 kernels with stride 2 on the 20x20x256 output of conv1 give
    6x6x32 = 1,152 capsules of 8 dimensions.

    Args:
        capsules: int. Capsule types per position. Defaults to 32.
        dim: int. Dimensions of each capsule. Defaults to 8.
        kernel_size: int. Size of the convolution kernel. Defaults to 9.
        strides: int. Stride of the convolution. Defaults to 2.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor `(batch, height, width, channels)`.

    Returns:
        Tensor `(batch, out_height * out_width * capsules, dim)`.

    Example:
    >>> tuple(PrimaryCapsules()(ops.ones((2, 20, 20, 256))).shape)
    (2, 1152, 8)

    Reference:
        Sabour et al. 2017, https://arxiv.org/abs/1710.09829
    """

    def __init__(self, capsules=32, dim=8, kernel_size=9, strides=2, **kwargs):
        super().__init__(**kwargs)
        self.capsules = check_int("capsules", capsules)
        self.dim = check_int("dim", dim)
        self.kernel_size = check_int("kernel_size", kernel_size)
        self.strides = check_int("strides", strides)
        self.conv = layers.Conv2D(capsules * dim, kernel_size, strides=strides, name="conv")

    def build(self, input_shape):
        self.conv.build(input_shape)

    def call(self, inputs):
        return squash(ops.reshape(self.conv(inputs), (ops.shape(inputs)[0], -1, self.dim)))

    def multiply_adds(self, input_shape):
        """Multiply-adds per example as `garden.tools.profile` counts them: the convolution's
        (the squash is element-wise)."""
        return layer_multiply_adds(self.conv, input_shape)

    def compute_output_shape(self, input_shape):
        _, height, width, _ = self.conv.compute_output_shape(input_shape)
        count = None if None in (height, width) else height * width * self.capsules
        return (input_shape[0], count, self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "capsules": self.capsules,
            "dim": self.dim,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
        }


@serializable
class CapsuleLayer(layers.Layer):
    """A layer of capsules fed by every capsule below through routing-by-agreement.

    Each input capsule `u_i` predicts every output capsule through its own matrix,
    `u_hat_{j|i} = W_ij u_i` (Eq. 2). Procedure 1 of the paper then sets the coupling
    coefficients over `routings` iterations, starting from logits `b_ij = 0`:

        c_ij = exp(b_ij) / sum_k exp(b_ik)          (softmax over the parents j, Eq. 3)
        s_j  = sum_i c_ij u_hat_{j|i}               (Eq. 2)
        v_j  = squash(s_j)                          (Eq. 1)
        b_ij = b_ij + u_hat_{j|i} . v_j             (agreement; skipped after the last iteration)

    The output is the last `v_j`. Gradients flow through every iteration. The layer has only the
    matrices `W` (no bias), `inputs * capsules * input_dim * dim` weights: 1,474,560 for the
    paper's 1,152 8-D primary capsules to 10 16-D digit capsules.

    Args:
        capsules: int. Number of output capsules (one per class for DigitCaps).
        dim: int. Dimensions of each output capsule. Defaults to 16.
        routings: int. Iterations of routing-by-agreement, at least 1. Defaults to 3.
        kernel_initializer: initializer of `W`. Defaults to `"glorot_uniform"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor `(batch, input_capsules, input_dim)`; `input_capsules` must be known.

    Returns:
        Tensor `(batch, capsules, dim)`.

    Example:
    >>> tuple(CapsuleLayer(capsules=10, dim=16)(ops.ones((2, 1152, 8))).shape)
    (2, 10, 16)

    Reference:
        Sabour et al. 2017, https://arxiv.org/abs/1710.09829
    """

    def __init__(
        self, capsules, dim=16, routings=3, kernel_initializer="glorot_uniform", **kwargs
    ):
        super().__init__(**kwargs)
        self.capsules = check_int("capsules", capsules)
        self.dim = check_int("dim", dim)
        self.routings = check_int("routings", routings)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        _, input_capsules, input_dim = input_shape
        if input_capsules is None:
            raise ValueError(
                f"input_shape={input_shape} is not allowed: CapsuleLayer needs a known number "
                "of input capsules (one weight matrix per pair of capsules)."
            )
        self.kernel = self.add_weight(
            shape=(input_capsules, self.capsules, input_dim, self.dim),
            initializer=self.kernel_initializer,
            name="kernel",
        )

    def call(self, inputs):
        predictions = ops.einsum("bid,ijde->bije", inputs, self.kernel)  # u_hat_{j|i}
        logits = ops.zeros(ops.shape(predictions)[:3], dtype=predictions.dtype)  # b_ij
        for iteration in range(self.routings):
            coupling = ops.softmax(logits, axis=2)  # c_ij
            outputs = squash(ops.einsum("bij,bije->bje", coupling, predictions))  # v_j
            if iteration < self.routings - 1:
                logits = logits + ops.einsum("bije,bje->bij", predictions, outputs)
        return outputs

    def multiply_adds(self, input_shape):
        """Multiply-adds per example as `garden.tools.profile` counts them: the predictions
        `u_hat_{j|i} = W_ij u_i`, `inputs * capsules * input_dim * dim` (one per weight). The
        routing's `(2 * routings - 1) * inputs * capsules * dim` products of coupling
        coefficients and agreements are computed from the data, not weights, and are not
        counted, as attention's are not."""
        _, input_capsules, input_dim = input_shape
        return input_capsules * self.capsules * input_dim * self.dim

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.capsules, self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "capsules": self.capsules,
            "dim": self.dim,
            "routings": self.routings,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


@serializable
class Length(layers.Layer):
    """The length of every capsule vector: the probability that its entity is present.

    `|v_j| = sqrt(sum_e v_je^2)` over the last axis (computed as `sqrt(sum + epsilon)` so the
    gradient of a zero capsule is finite).

    Example:
    >>> tuple(Length()(ops.ones((2, 10, 16))).shape)
    (2, 10)
    """

    def call(self, inputs):
        return ops.sqrt(ops.sum(ops.square(inputs), axis=-1) + keras.config.epsilon())

    def compute_output_shape(self, input_shape):
        return input_shape[:-1]

    def multiply_adds(self, input_shape):
        """Multiply-adds per example as `garden.tools.profile` counts them: none, no weights."""
        return 0


@serializable
class Mask(layers.Layer):
    """Keeps one capsule per example, zeroes the others and flattens: the decoder's input.

    Section 4.1: "during training, we mask out all but the activity vector of the correct digit
    capsule". Without labels (at test time) the longest capsule, the predicted class, is kept.

    Call arguments:
        capsules: tensor `(batch, capsules, dim)`.
        labels: optional int tensor `(batch,)` of the capsule to keep. Defaults to None (keep
            the longest).

    Returns:
        Tensor `(batch, capsules * dim)`.

    Example:
    >>> tuple(Mask()(ops.ones((2, 10, 16)), labels=ops.array([3, 7])).shape)
    (2, 160)
    """

    def call(self, capsules, labels=None):
        if labels is None:  # the first longest capsule, as argmax picks it; top_k is a builtin
            # TFLite op, while Keras' argmax adds a sign-bit test TFLite has no op for.
            _, longest = ops.top_k(ops.sum(ops.square(capsules), axis=-1), k=1)
            labels = longest[:, 0]
        keep = ops.one_hot(ops.cast(labels, "int32"), capsules.shape[1], dtype=capsules.dtype)
        masked = capsules * ops.expand_dims(keep, -1)
        return ops.reshape(masked, (ops.shape(capsules)[0], -1))

    def compute_output_shape(self, capsules_shape, labels_shape=None):
        return (capsules_shape[0], capsules_shape[1] * capsules_shape[2])

    def multiply_adds(self, input_shape):
        """Multiply-adds per example as `garden.tools.profile` counts them: none, no weights."""
        return 0
