"""Self-normalizing neural networks (Klambauer et al. 2017): a deep SELU MLP.

Reference:
    Klambauer, Unterthiner, Mayr & Hochreiter, "Self-Normalizing Neural Networks", NeurIPS 2017.
    https://arxiv.org/abs/1706.02515

SELU activations with LeCun-normal weights (variance 1 / fan-in) keep the mean and variance of
every layer's activations at the fixed point (0, 1), so very deep plain MLPs train without batch
normalisation; AlphaDropout is the dropout that keeps that fixed point. The same builder with
another activation is the paper's baseline (e.g. ReLU, which drifts with depth).
"""

import keras
from keras import layers

from garden.layers.swish import Swish
from garden.models._registry import register_model


def _activation(activation, index):
    if activation == "trainable_swish":
        return Swish(trainable_beta=True, name=f"act_{index}")
    return layers.Activation(activation, name=f"act_{index}")


@register_model(
    paper="Klambauer et al., Self-Normalizing Neural Networks",
    year=2017,
    arxiv="https://arxiv.org/abs/1706.02515",
    input_shape=(784,),
    small_kwargs={"input_shape": (8, 8, 1), "depth": 3, "width": 16, "classes": 5},
)
def selu_mlp(
    depth=8,
    width=512,
    activation="selu",
    kernel_initializer="lecun_normal",
    dropout=0.05,
    input_shape=(784,),
    classes=10,
    classifier_activation="softmax",
    name="selu_mlp",
):
    """Self-normalizing MLP (Klambauer et al. 2017): `depth` SELU layers of `width` units.

    Inputs of rank > 1 (e.g. images) are flattened first. Hidden layer `i` (from 1) is
    `dense_i` -> `act_i` -> `dropout_i`, so the activations of every layer can be read by name.
    Self-normalization assumes standardized inputs (zero mean, unit variance per feature).

    Args:
        depth: int. Number of hidden layers. Defaults to 8.
        width: int. Units per hidden layer. Defaults to 512.
        activation: str. `"selu"` (the paper), any Keras activation name for a baseline
            (`"relu"`, `"swish"`, ...), or `"trainable_swish"` for garden's
            `Swish(trainable_beta=True)`. Defaults to `"selu"`.
        kernel_initializer: str. Hidden-layer initializer; `"lecun_normal"` is the paper's,
            `"he_normal"` the usual one for ReLU. Defaults to `"lecun_normal"`.
        dropout: float. Rate of the dropout after each hidden layer: `AlphaDropout` with SELU,
            `Dropout` otherwise; 0 adds none. Defaults to 0.05.
        input_shape: tuple. Shape of one input example. Defaults to (784,).
        classes: int. Number of classes. Defaults to 10.
        classifier_activation: activation of the output layer; None returns logits.
        name: str. Model name.

    Example:
    >>> model = selu_mlp(depth=32, width=64, input_shape=(8, 8, 1), classes=10)
    >>> len([layer for layer in model.layers if layer.name.startswith("act_")])
    32
    """
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth={depth!r} is not allowed: use an int >= 1.")
    if not isinstance(width, int) or width < 1:
        raise ValueError(f"width={width!r} is not allowed: use an int >= 1.")
    if not isinstance(classes, int) or classes < 1:
        raise ValueError(f"classes={classes!r} is not allowed: use a positive integer.")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout={dropout!r} is not allowed: use a rate in [0, 1).")

    inputs = keras.Input(shape=tuple(input_shape))
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    dropout_layer = layers.AlphaDropout if activation == "selu" else layers.Dropout
    for i in range(1, depth + 1):
        x = layers.Dense(width, kernel_initializer=kernel_initializer, name=f"dense_{i}")(x)
        x = _activation(activation, i)(x)
        if dropout:
            x = dropout_layer(dropout, name=f"dropout_{i}")(x)
    outputs = layers.Dense(
        classes, activation=classifier_activation, kernel_initializer=kernel_initializer,
        name="predictions",
    )(x)
    return keras.Model(inputs, outputs, name=name)
