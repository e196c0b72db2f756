"""Monte-Carlo dropout: predictive mean and spread from dropout left on at inference.

Reference:
    Gal & Ghahramani, "Dropout as a Bayesian Approximation: Representing Model Uncertainty in
    Deep Learning", ICML 2016. https://arxiv.org/abs/1506.02142
    (Dropout itself: Srivastava et al., JMLR 2014.)
"""

import keras
import numpy as np

from garden.utils.checks import check_int

DROPOUT_LAYERS = (keras.layers.Dropout, keras.layers.AlphaDropout, keras.layers.GaussianDropout)


def _call_with_dropout_on(layer, *args, **kwargs):
    if isinstance(layer, DROPOUT_LAYERS):
        kwargs["training"] = True
    return layer(*args, **kwargs)


def _with_dropout_on(model):
    """A model sharing `model`'s layers and weights whose dropout layers are called with
    `training=True`. Call it without a `training` argument: an explicit value (as `predict`
    passes) would override the dropout layers' own."""
    if isinstance(model, keras.Sequential):
        inputs = keras.Input(batch_shape=model.inputs[0].shape)
        x = inputs
        for layer in model.layers:
            x = _call_with_dropout_on(layer, x)
        return keras.Model(inputs, x, name=f"{model.name}_mc_dropout")
    try:
        return keras.models.clone_model(
            model,
            clone_function=lambda layer: layer,
            call_function=_call_with_dropout_on,
            recursive=True,
        )
    except ValueError as error:
        raise ValueError(
            f"model={model.name!r} is not allowed: Monte-Carlo dropout needs a functional or "
            f"Sequential model ({error})"
        ) from None


def _predict(model, x, batch_size):
    size = len(keras.tree.flatten(x)[0])
    batches = [
        keras.tree.map_structure(keras.ops.convert_to_numpy, model(
            keras.tree.map_structure(lambda a: a[start : start + batch_size], x)
        ))
        for start in range(0, size, batch_size)
    ]
    return keras.tree.map_structure(lambda *parts: np.concatenate(parts), *batches)


def mc_dropout_predict(model, x, samples=30, batch_size=32):
    """Mean and standard deviation of `samples` predictions with dropout switched on.

    Gal & Ghahramani read a network trained with dropout as an approximate Bayesian model: the
    spread of predictions over dropout masks measures the model's uncertainty. Only dropout
    (`Dropout` and its spatial variants, `AlphaDropout`, `GaussianDropout`, also inside nested
    functional models) is stochastic here; batch norm and the rest run in inference mode, and
    the model itself is not changed.

    Args:
        model: a functional or Sequential `keras.Model` with dropout layers.
        x: an array (or a list / dict of arrays for several inputs).
        samples: int. Number of stochastic forward passes. Defaults to 30.
        batch_size: int. Batch size of each pass. Defaults to 32.

    Returns:
        `(mean, std)` over the passes, each shaped like the model's output for `x` (nested the
        same way for models with several outputs).

    Example:
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16),
    ...                           keras.layers.Dropout(0.5), keras.layers.Dense(1)])
    >>> mean, std = mc_dropout_predict(model, np.ones((3, 4)), samples=10)
    >>> mean.shape, bool(np.all(std > 0))
    ((3, 1), True)

    Reference:
        Gal & Ghahramani, 2016. https://arxiv.org/abs/1506.02142
    """
    check_int("samples", samples, minimum=2)
    stochastic = _with_dropout_on(model)
    runs = [_predict(stochastic, x, batch_size) for _ in range(samples)]
    mean = keras.tree.map_structure(lambda *outputs: np.mean(outputs, axis=0), *runs)
    std = keras.tree.map_structure(lambda *outputs: np.std(outputs, axis=0), *runs)
    return mean, std
