"""Dropout as a Bayesian approximation: Monte-Carlo dropout on the test split.

Reference:
    Gal and Ghahramani, "Dropout as a Bayesian Approximation", ICML 2016.
    https://arxiv.org/abs/1506.02142
"""

import math

import numpy as np

from garden.recipes.procedures import arrays, procedure
from garden.recipes.runner import fit
from garden.tools.mc_dropout import mc_dropout_predict


@procedure(samples=50)
def mc_dropout_evaluation(run):
    """`fit`, then Monte-Carlo dropout on the test split (Gal & Ghahramani).

    Returns the deterministic test metrics, `mc_accuracy` (arg-max of the mean of
    `options.samples` stochastic passes, default 50), and the mean predictive standard deviation
    of the predicted class on the test examples the model gets right and on those it gets wrong.
    """
    result = fit(run)
    test_images, test_labels = arrays(run.test_data)
    mean, std = mc_dropout_predict(run.model, test_images, samples=run.options["samples"],
                                   batch_size=256)
    predicted = mean.argmax(-1)
    spread = std[np.arange(len(predicted)), predicted]
    right = predicted == test_labels
    return {
        **result,
        "mc_accuracy": float(np.mean(right)),
        "std_right": float(spread[right].mean()),
        "std_wrong": float(spread[~right].mean()) if np.any(~right) else math.nan,
    }
