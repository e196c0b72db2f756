"""Multilayer perceptrons of two papers: self-normalizing networks and dropout networks.

References:
    Klambauer, Unterthiner, Mayr & Hochreiter, "Self-Normalizing Neural Networks", NeurIPS 2017.
    https://arxiv.org/abs/1706.02515
    Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov, "Dropout: A Simple Way to Prevent
    Neural Networks from Overfitting", JMLR 2014 (first as Hinton et al., arXiv 1207.0580).
    https://jmlr.org/papers/v15/srivastava14a.html

`selu_mlp`: SELU activations with LeCun-normal weights (variance 1 / fan-in) keep the mean and
variance of every layer's activations at the fixed point (0, 1), so very deep plain MLPs train
without batch normalisation; AlphaDropout is the dropout that keeps that fixed point. The same
network with another activation is the paper's baseline (e.g. ReLU, which drifts with depth).

`dropout_mlp`: ReLU layers with dropout on the inputs (rate 0.2) and on every hidden layer (0.5),
and each hidden unit's incoming weight vector constrained to norm <= 3 (max-norm), the
configuration of Srivastava et al.'s MNIST networks.

Inputs of rank > 1 (e.g. images) are flattened first. Hidden layer `i` (from 1) is `dense_i` ->
`act_i` -> `dropout_i`, so every layer's activations can be read by name.
"""

import functools

import keras
from keras import layers

from garden.layers.swish import Swish
from garden.models._registry import register_model
from garden.utils.checks import check_int, check_ints, check_number, check_rate

SMALL = {"input_shape": (8, 8, 1), "depth": 3, "width": 16, "classes": 5}
# Both papers' networks take flattened 28x28 digits (MNIST) and share one test instance.
register_mlp = functools.partial(register_model, input_shape=(784,), small_kwargs=SMALL)


def _activation(activation, index):
    if activation == "trainable_swish":
        return Swish(trainable_beta=True, name=f"act_{index}")
    return layers.Activation(activation, name=f"act_{index}")


def _mlp(
    *, depth, width, activation, kernel_initializer, dropout, input_dropout, max_norm,
    input_shape, classes, classifier_activation, name,
):
    """Builds a plain MLP; SELU gets AlphaDropout, every other activation Dropout."""
    check_int("depth", depth)
    check_int("width", width)
    check_int("classes", classes)
    check_rate("dropout", dropout)
    check_rate("input_dropout", input_dropout)
    check_number("max_norm", max_norm, minimum=0)
    input_shape = check_ints("input_shape", input_shape)

    dropout_layer = layers.AlphaDropout if activation == "selu" else layers.Dropout
    constraint = keras.constraints.MaxNorm(max_norm) if max_norm else None
    inputs = keras.Input(shape=tuple(input_shape))
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    if input_dropout:
        x = dropout_layer(input_dropout, name="input_dropout")(x)
    for i in range(1, depth + 1):
        x = layers.Dense(
            width, kernel_initializer=kernel_initializer, kernel_constraint=constraint,
            name=f"dense_{i}",
        )(x)
        x = _activation(activation, i)(x)
        if dropout:
            x = dropout_layer(dropout, name=f"dropout_{i}")(x)
    outputs = layers.Dense(
        classes, activation=classifier_activation, kernel_initializer=kernel_initializer,
        name="predictions",
    )(x)
    return keras.Model(inputs, outputs, name=name)


@register_mlp(paper="Klambauer et al., Self-Normalizing Neural Networks", year=2017,
              arxiv="https://arxiv.org/abs/1706.02515")
def selu_mlp(depth=8, width=512, activation="selu", kernel_initializer="lecun_normal",
             dropout=0.05, input_shape=(784,), classes=10, classifier_activation="softmax",
             name="selu_mlp"):
    """Self-normalizing MLP (Klambauer et al. 2017): `depth` SELU layers of `width` units.

    Self-normalization assumes standardized inputs (zero mean, unit variance per feature).

    Args:
        depth: int. Number of hidden layers. Defaults to 8.
        width: int. Units per hidden layer. Defaults to 512.
        activation: str. `"selu"` (the paper), any Keras activation name for a baseline
            (`"relu"`, `"swish"`, ...), or `"trainable_swish"` for garden's
            `Swish(trainable_beta=True)`. Defaults to `"selu"`.
        kernel_initializer: str. Initializer of the weights; `"lecun_normal"` is the paper's,
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
    return _mlp(input_dropout=0.0, max_norm=0.0, **locals())


@register_mlp(paper="Srivastava et al., Dropout (JMLR 2014)", year=2014,
              arxiv="https://arxiv.org/abs/1207.0580")
def dropout_mlp(depth=3, width=1024, activation="relu", kernel_initializer="he_normal",
                dropout=0.5, input_dropout=0.2, max_norm=3.0, input_shape=(784,), classes=10,
                classifier_activation="softmax", name="dropout_mlp"):
    """Dropout MLP (Srivastava et al. 2014): dropout on inputs and hidden units, max-norm weights.

    Args:
        depth: int. Number of hidden layers. Defaults to 3.
        width: int. Units per hidden layer. Defaults to 1024.
        activation: str. Hidden activation, as for `selu_mlp`. Defaults to `"relu"`.
        kernel_initializer: str. Initializer of the weights. Defaults to `"he_normal"`.
        dropout: float. Dropout rate of the hidden units (the paper: 0.5). Defaults to 0.5.
        input_dropout: float. Dropout rate of the inputs (the paper: 0.2). Defaults to 0.2.
        max_norm: float. Bound on the norm of each hidden unit's incoming weights, applied after
            every update (the paper: 3 to 4); 0 for no constraint. Defaults to 3.0.
        input_shape: tuple. Shape of one input example. Defaults to (784,).
        classes: int. Number of classes. Defaults to 10.
        classifier_activation: activation of the output layer; None returns logits.
        name: str. Model name.

    Example:
    >>> model = dropout_mlp(input_shape=(8, 8, 1), classes=10)
    >>> model.get_layer("dense_1").kernel_constraint.max_value
    3.0
    """
    return _mlp(**locals())
