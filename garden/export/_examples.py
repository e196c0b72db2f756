"""Single examples out of the data the exporters accept: datasets, arrays, lists and generators."""

import numpy as np
import tensorflow as tf

ACCEPTED = (
    "a tf.data.Dataset of x or (x, y) batches, a NumPy array of inputs, a tuple (x, y) of "
    "arrays, a list of input arrays (examples or batches), or a function returning an iterable "
    "of [input batch] lists (TFLiteConverter.representative_dataset's convention)"
)


def examples(data, model, limit=None, argument="data"):
    """Returns up to `limit` single examples of `data` for `model` as `(inputs, labels)` arrays.

    Args:
        data: a `tf.data.Dataset` of `x` or `(x, y)` batches; a NumPy array of inputs (first
            axis = examples); a tuple `(x, y)` (or `(x,)`) of arrays; a list of input arrays,
            each one example or a batch; or a function returning an iterable of lists holding one
            input batch each, as `tf.lite.TFLiteConverter.representative_dataset` takes.
        model: keras.Model. The model the examples are for: each must fit its input shape.
        limit: int or None. How many examples to take; None takes them all.
        argument: str. The argument name used in error messages.

    Returns:
        `(x, y)`: `x` stacks the examples (first axis = examples); `y` holds their labels, or is
        None when `data` has none.
    """
    rank = len(model.inputs[0].shape)  # with the batch axis
    y = None
    if isinstance(data, tf.data.Dataset):
        dataset = data.unbatch() if limit is None else data.unbatch().take(limit)
        items = list(dataset.as_numpy_iterator())
        labelled = bool(items) and isinstance(items[0], tuple)
        x = [item[0] for item in items] if labelled else items
        y = np.stack([item[1] for item in items]) if labelled and len(items[0]) > 1 else None
    elif isinstance(data, np.ndarray):
        x = data[:limit]
    elif isinstance(data, tuple) and len(data) in (1, 2):
        x, y = np.asarray(data[0]), (np.asarray(data[1]) if len(data) == 2 else None)
        if y is not None and len(y) != len(x):
            raise ValueError(
                f"{argument} holds {len(x)} inputs but {len(y)} labels: pass (x, y) of equal "
                "length."
            )
        x, y = x[:limit], (None if y is None else y[:limit])
    elif isinstance(data, list):
        x = _join(data, rank, argument)[:limit]
    elif callable(data):
        taken, count = [], 0
        for item in data():
            if limit is not None and count >= limit:
                break
            batch = np.asarray(item[0] if isinstance(item, (list, tuple)) else item)
            taken.append(batch)
            count += len(batch) if batch.ndim == rank else 1
        x = _join(taken, rank, argument)[:limit]
    else:
        raise ValueError(
            f"{argument} of type {type(data).__name__} is not supported: pass {ACCEPTED}."
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


def _join(arrays, rank, argument):
    """One array of examples from arrays that are each a batch (`rank` axes) or one example."""
    if not all(isinstance(a, (np.ndarray, tf.Tensor)) for a in arrays):
        kinds = sorted({type(a).__name__ for a in arrays})
        raise ValueError(
            f"{argument} is a list of {', '.join(kinds)}, not of arrays: pass {ACCEPTED}."
        )
    arrays = [np.asarray(a) for a in arrays]
    return [example for a in arrays for example in (a if a.ndim == rank else a[None])]
