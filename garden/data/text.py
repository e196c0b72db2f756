"""Running English text that needs no download: the Python documentation's topics
(`pydoc_data.topics`, shipped with CPython: the help() pages of the language reference,
~465,000 characters, 103 distinct on Python 3.11), for character-level language models."""

import numpy as np

from garden.data._registry import register_dataset


def python_docs():
    """The text of CPython's bundled help topics, in sorted topic order."""
    from pydoc_data.topics import topics

    return "".join(topics[key] for key in sorted(topics))


def char_encode(text, vocabulary=None):
    """`(ids, vocabulary)`: `text` as int32 ids into `vocabulary`, a string of distinct
    characters (by default the sorted characters of `text`); a character outside it raises
    `ValueError`."""
    vocabulary = "".join(sorted(set(text))) if vocabulary is None else vocabulary
    index = {c: i for i, c in enumerate(vocabulary)}
    unknown = sorted(set(text) - set(index))
    if unknown:
        raise ValueError(f"text holds characters outside the vocabulary: {unknown[:10]!r}")
    return np.array([index[c] for c in text], dtype="int32"), vocabulary


def char_windows(ids, length, step=None):
    """`(inputs, targets)` of next-character prediction: windows of `length` ids every `step`
    (default `length`) and the same windows shifted by one."""
    step = step or length
    starts = np.arange(0, len(ids) - length - 1, step)
    windows = np.stack([ids[s: s + length + 1] for s in starts])
    return windows[:, :-1], windows[:, 1:]


def _python_docs_dataset(split, sequence_length=100, held_out=0.1):
    """Next-character windows of `python_docs`: the first 1 - `held_out` of the text is the
    train split, the rest the test split; ids index the whole text's sorted characters."""
    import tensorflow as tf

    ids, _ = char_encode(python_docs())
    cut = int(len(ids) * (1 - held_out))
    inputs, targets = char_windows(ids[:cut] if split == "train" else ids[cut:], sequence_length)
    return tf.data.Dataset.from_tensor_slices((inputs, targets.astype("int64")))


register_dataset("python_docs", num_classes=103)(_python_docs_dataset)
