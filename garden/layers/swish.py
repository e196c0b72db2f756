"""Swish, `x * sigmoid(beta * x)`, with an optional trainable beta (Ramachandran et al. 2017).

Reference:
    Ramachandran, Zoph & Le, "Searching for Activation Functions", 2017.
    https://arxiv.org/abs/1710.05941
"""

import keras
from keras import ops

from garden.utils.serialization import serializable
from garden.utils.checks import check_bool, check_number


@serializable
class Swish(keras.layers.Layer):
    """Swish activation `f(x) = x * sigmoid(beta * x)`.

    Keras' `swish` / `silu` activation is the special case `beta = 1`. Here `beta` can be any
    constant or, with `trainable_beta=True`, a scalar weight learned with the network (the
    paper's "Swish" as opposed to "Swish-1"): beta -> 0 gives the linear `x / 2`, large beta
    approaches ReLU.

    Args:
        beta: float. The (initial) value of beta. Defaults to 1.0.
        trainable_beta: bool. Whether beta is a trainable weight. Defaults to False.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:
    >>> layer = Swish(beta=1.0, trainable_beta=True)
    >>> [round(float(v), 4) for v in layer(keras.ops.convert_to_tensor([-1.0, 0.0, 2.0]))]
    [-0.2689, 0.0, 1.7616]

    Reference:
        Ramachandran et al., "Searching for Activation Functions", 2017.
        https://arxiv.org/abs/1710.05941
    """

    def __init__(self, beta=1.0, trainable_beta=False, **kwargs):
        super().__init__(**kwargs)
        self.beta = check_number("beta", beta)
        self.trainable_beta = check_bool("trainable_beta", trainable_beta)

    def build(self, input_shape):
        if self.trainable_beta:
            self.beta_weight = self.add_weight(
                shape=(), initializer=keras.initializers.Constant(self.beta), name="beta"
            )

    def call(self, inputs):
        beta = self.beta_weight if self.trainable_beta else self.beta
        return inputs * ops.sigmoid(ops.cast(beta, inputs.dtype) * inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def multiply_adds(self, input_shape):
        """Multiply-adds per example as `garden.tools.profile` counts them: none, beta scales
        element-wise (as PReLU's weights do)."""
        return 0


    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "trainable_beta": self.trainable_beta}
