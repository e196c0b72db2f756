"""Single examples out of the data the exporters accept: a batched `tf.data.Dataset` or an array."""

import numpy as np
import tensorflow as tf


def examples(data, model, limit=None, argument="data"):
    """Returns up to `limit` single examples of `data` for `model` as `(inputs, labels)` arrays.

    Args:
        data: a `tf.data.Dataset` of `x` or `(x, y)` batches, or a NumPy array of inputs
            (first axis = examples).
        model: keras.Model. The model the examples are for: each must fit its input shape.
        limit: int or None. How many examples to take; None takes them all.
        argument: str. The argument name used in error messages.

    Returns:
        `(x, y)`: `x` stacks the examples (first axis = examples); `y` holds their labels, or is
        None when `data` has none.
    """
    if isinstance(data, tf.data.Dataset):
        dataset = data.unbatch() if limit is None else data.unbatch().take(limit)
        items = list(dataset.as_numpy_iterator())
        labelled = bool(items) and isinstance(items[0], tuple)
        x = [item[0] for item in items] if labelled else items
        y = np.stack([item[1] for item in items]) if labelled and len(items[0]) > 1 else None
    elif isinstance(data, np.ndarray):
        x, y = data[:limit], None
    else:
        raise ValueError(
            f"{argument} of type {type(data).__name__} is not supported: pass a tf.data.Dataset "
            "of x or (x, y) batches, or a NumPy array of inputs."
        )
    if len(x) == 0:
        raise ValueError(f"{argument} holds no examples: pass at least one.")
    x = np.stack(x)
    expected = tuple(model.inputs[0].shape[1:])
    if len(x.shape[1:]) != len(expected) or any(
        size is not None and size != got for size, got in zip(expected, x.shape[1:])
    ):
        raise ValueError(
            f"{argument} has examples of shape {x.shape[1:]} but the model takes {expected}: "
            "pass batches (e.g. dataset.batch(32)) of the model's inputs."
        )
    return x, y
