"""Class-imbalance tools (Buda et al. 2018): class priors, class weights, threshold moving.

Reference:
    Buda, Maki & Mazurowski, "A systematic study of the class imbalance problem in
    convolutional neural networks", Neural Networks 2018. https://arxiv.org/abs/1710.05381

Resampling in the input pipeline is `garden.data.transforms.oversample` / `undersample`
(and `step_imbalance` makes a balanced set imbalanced for experiments).
"""

import numpy as np


def _counts(labels, num_classes):
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    if labels.size == 0 or labels.min() < 0:
        raise ValueError("labels must be a non-empty sequence of class ids >= 0.")
    counts = np.bincount(labels, minlength=num_classes or 0)
    if num_classes is not None and len(counts) > num_classes:
        raise ValueError(f"num_classes={num_classes} is too small for label {labels.max()}.")
    return counts


def class_priors(labels, num_classes=None):
    """Fraction of the examples in each class, as a float array indexed by class id.

    Args:
        labels: sequence of int class ids (e.g. the training labels).
        num_classes: int. Number of classes; defaults to the largest label + 1.

    Example:
    >>> class_priors([0, 0, 0, 1])
    array([0.75, 0.25])
    """
    counts = _counts(labels, num_classes)
    return counts / counts.sum()


def class_weights(labels, num_classes=None):
    """Weights inversely proportional to class frequency, `n / (classes * n_k)`, for
    `model.fit(class_weight=...)` (cost-sensitive learning); a balanced set gets all 1.

    Args:
        labels: sequence of int class ids.
        num_classes: int. Number of classes; defaults to the largest label + 1.

    Returns:
        A dict from class id to weight (classes without examples are left out).

    Example:
    >>> class_weights([0, 0, 0, 1])
    {0: 0.6666666666666666, 1: 2.0}
    """
    counts = _counts(labels, num_classes)
    present = np.flatnonzero(counts)
    return {int(k): float(counts.sum() / (len(counts) * counts[k])) for k in present}


def move_threshold(probabilities, priors):
    """Threshold moving: divides each class probability by its prior and renormalizes.

    A classifier trained on imbalanced data estimates `p(class | x)` under the training priors;
    dividing by the priors (Buda et al., Section 3.3, "thresholding") removes that bias, so the
    arg-max no longer favours the majority classes.

    Args:
        probabilities: array of shape (..., classes), the model's output probabilities.
        priors: array of shape (classes,), e.g. `class_priors(training_labels)`.

    Returns:
        The adjusted probabilities, summing to 1 over the last axis.

    Example:
    >>> move_threshold([[0.6, 0.4]], priors=[0.9, 0.1]).round(3)
    array([[0.143, 0.857]])
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    priors = np.asarray(priors, dtype=np.float64)
    if priors.shape != probabilities.shape[-1:] or not np.all(priors > 0):
        raise ValueError(
            f"priors of shape {priors.shape} are not allowed: use {probabilities.shape[-1]} "
            "positive class priors."
        )
    scores = probabilities / priors
    return scores / scores.sum(axis=-1, keepdims=True)
