"""Helpers of the tools' recipe procedures (`garden train`)."""

import numpy as np


def procedure_options(run, **defaults):
    """The recipe's `[train] options` merged over `defaults`; unknown keys are refused."""
    options = dict(run.recipe.get("train", {}).get("options", {}))
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(f"[train] options: unknown key(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(defaults)}.")
    return {**defaults, **options}


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
