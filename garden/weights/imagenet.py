"""The 1,000 ImageNet (ILSVRC 2012) class names, shipped with garden, and `decode_predictions`.

`imagenet_classes.json` holds the names in class-index order, as torchvision lists them
(`torchvision.models._meta._IMAGENET_CATEGORIES`, written once into the package), so decoding
needs no download.
"""

import functools
import json
from importlib import resources

import numpy as np


@functools.cache
def class_names():
    """The 1,000 ImageNet class names, by class index (0: "tench", ..., 999: "toilet tissue")."""
    text = resources.files(__package__).joinpath("imagenet_classes.json").read_text("utf-8")
    return tuple(json.loads(text))


def decode_predictions(preds, top=5):
    """The `top` classes of each ImageNet prediction, best first.

    Args:
        preds: array of shape (batch, 1000): probabilities or logits of an ImageNet classifier.
        top: int. How many classes to return per prediction. Defaults to 5.

    Returns:
        A list with, per prediction, a list of `(class_index, class_name, score)` tuples.

    Example:
    >>> preds = np.zeros((1, 1000)); preds[0, 1] = 0.9; preds[0, 0] = 0.1
    >>> decode_predictions(preds, top=2)
    [[(1, 'goldfish', 0.9), (0, 'tench', 0.1)]]
    """
    preds = np.asarray(preds)
    names = class_names()
    if preds.ndim != 2 or preds.shape[1] != len(names):
        raise ValueError(f"preds of shape {preds.shape} is not allowed: decode_predictions "
                         f"takes (batch, {len(names)}) ImageNet predictions.")
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= len(names):
        raise ValueError(f"top={top!r} is not allowed: use an integer from 1 to {len(names)}.")
    # A stable sort of the negated scores: ties keep the lower class index first.
    order = np.argsort(-preds, axis=1, kind="stable")[:, :top]
    return [[(int(i), names[i], float(row[i])) for i in indices]
            for row, indices in zip(preds, order)]
