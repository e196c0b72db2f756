"""Single examples out of the data the exporters accept: datasets, arrays, lists, dicts and
generators, for models of one input or several."""

import numpy as np
import tensorflow as tf

ACCEPTED = (
    "a tf.data.Dataset of x or (x, y) batches, a NumPy array of inputs, a tuple (x, y) of "
    "arrays, a list of input arrays (examples or batches), or a function returning an iterable "
    "of [input batch] lists (TFLiteConverter.representative_dataset's convention); for a model "
    "of several inputs, x is a list (in model.inputs' order) or a dict by input name"
)


def input_names(model):
    """The names of `model.inputs`, as the exported files' signatures call them."""
    return [tensor.name for tensor in model.inputs]


def output_names(model):
    """The names of the model's outputs, as the exported files' signatures call them: its
    `output_names`, or for a Sequential model (which has none) its last layer's name."""
    return list(getattr(model, "output_names", None) or [model.layers[-1].name])


def examples(data, model, limit=None, argument="data"):
    """Returns up to `limit` single examples of `data` for `model` as `(inputs, labels)`.

    Args:
        data: a `tf.data.Dataset` of `x` or `(x, y)` batches; a NumPy array of inputs (first
            axis = examples); a tuple `(x, y)` (or `(x,)`); a list of input arrays, each one
            example or a batch; or a function returning an iterable of lists holding one input
            batch each (per model input), as `tf.lite.TFLiteConverter.representative_dataset`
            takes. For a model of several inputs, `x` is a list of arrays in `model.inputs`'
            order or a dict from input name to array.
        model: keras.Model. The model the examples are for: each must fit its input shapes.
        limit: int or None. How many examples to take; None takes them all.
        argument: str. The argument name used in error messages.

    Returns:
        `(x, y)`: `x` is a list with one array per model input, stacking the examples (first
        axis = examples); `y` holds their labels, or is None when `data` has none.
    """
    names = input_names(model)
    ranks = [len(tensor.shape) for tensor in model.inputs]  # with the batch axis
    y = None
    if isinstance(data, tf.data.Dataset):
        dataset = data.unbatch() if limit is None else data.unbatch().take(limit)
        items = list(dataset.as_numpy_iterator())
        labelled = bool(items) and isinstance(items[0], tuple) and (
            len(names) == 1 or not isinstance(items[0][0], np.ndarray))
        x = [_split(item[0] if labelled else item, names, argument) for item in items]
        if labelled and len(items[0]) > 1:
            y = np.stack([item[1] for item in items])
        x = [[example[i] for example in x] for i in range(len(names))] if x else []
    elif isinstance(data, tuple) and len(data) in (1, 2) and (
            len(names) == 1 or not isinstance(data[0], np.ndarray)):
        x = [np.asarray(a) for a in _split(data[0], names, argument)]
        y = np.asarray(data[1]) if len(data) == 2 else None
        if y is not None and len(y) != len(x[0]):
            raise ValueError(
                f"{argument} holds {len(x[0])} inputs but {len(y)} labels: pass (x, y) of equal "
                "length."
            )
        x, y = [a[:limit] for a in x], (None if y is None else y[:limit])
    elif isinstance(data, (np.ndarray, dict)) or (
            len(names) > 1 and isinstance(data, (list, tuple))):
        x = [np.asarray(a)[:limit] for a in _split(data, names, argument)]
    elif isinstance(data, list):
        x = [_join(data, ranks[0], argument)[:limit]]
    elif callable(data):
        taken, count = [[] for _ in names], 0
        for item in data():
            if limit is not None and count >= limit:
                break
            batches = [np.asarray(a) for a in _split(
                list(item) if isinstance(item, (list, tuple)) else item, names, argument)]
            for arrays, batch in zip(taken, batches):
                arrays.append(batch)
            count += len(batches[0]) if batches[0].ndim == ranks[0] else 1
        x = [_join(arrays, rank, argument)[:limit] for arrays, rank in zip(taken, ranks)]
    else:
        raise ValueError(
            f"{argument} of type {type(data).__name__} is not supported: pass {ACCEPTED}."
        )
    if not x or len(x[0]) == 0:
        raise ValueError(f"{argument} holds no examples: pass at least one.")
    x = [np.stack(examples) for examples in x]
    for name, tensor, array in zip(names, model.inputs, x):
        expected = tuple(tensor.shape[1:])
        if len(array.shape[1:]) != len(expected) or any(
            size is not None and size != got for size, got in zip(expected, array.shape[1:])
        ):
            which = f"input {name!r}" if len(names) > 1 else "the model"
            raise ValueError(
                f"{argument} has examples of shape {array.shape[1:]} but {which} takes "
                f"{expected}: pass batches (e.g. dataset.batch(32)) of the model's inputs."
            )
    if len({len(array) for array in x}) > 1:
        raise ValueError(f"{argument} has {[len(a) for a in x]} examples of {names}: pass as "
                         "many examples of every input.")
    return x, y


def _split(x, names, argument):
    """`x` as one entry per model input: a dict by name, a list in order, or one array."""
    if isinstance(x, dict):
        if set(x) != set(names):
            raise ValueError(f"{argument} has inputs {sorted(x)} but the model takes "
                             f"{names}: pass a dict with exactly the model's input names.")
        return [x[name] for name in names]
    if len(names) == 1:
        return [x[0] if isinstance(x, (list, tuple)) and len(x) == 1 else x]
    if isinstance(x, (list, tuple)) and len(x) == len(names):
        return list(x)
    raise ValueError(
        f"{argument} gives {type(x).__name__} for a model of {len(names)} inputs {names}: pass "
        "a list of that many arrays (model.inputs' order) or a dict by input name."
    )


def _join(arrays, rank, argument):
    """One array of examples from arrays that are each a batch (`rank` axes) or one example."""
    if not all(isinstance(a, (np.ndarray, tf.Tensor)) for a in arrays):
        kinds = sorted({type(a).__name__ for a in arrays})
        raise ValueError(
            f"{argument} is a list of {', '.join(kinds)}, not of arrays: pass {ACCEPTED}."
        )
    arrays = [np.asarray(a) for a in arrays]
    return [example for a in arrays for example in (a if a.ndim == rank else a[None])]
