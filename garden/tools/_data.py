"""Turning a dataset of batches into arrays, for tools that need indexable data."""

import numpy as np


def as_arrays(data, limit=None):
    """`(x, y)` NumPy arrays from an iterable of `(x, y)` batches, at most `limit` examples."""
    xs, ys, count = [], [], 0
    for x, y, *_ in data:
        xs.append(np.asarray(x))
        ys.append(np.asarray(y))
        count += len(xs[-1])
        if limit is not None and count >= limit:
            break
    if not xs:
        raise ValueError(f"data={data!r} is empty: give a dataset of (x, y) batches.")
    return np.concatenate(xs)[:limit], np.concatenate(ys)[:limit]
