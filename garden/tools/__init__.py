"""Analysis tools: each takes a model, a loss and data; the `garden` command wraps them."""

from garden.tools.crf import DenseCRF
from garden.tools.imbalance import class_priors, class_weights, move_threshold
from garden.tools.mc_dropout import mc_dropout_predict

__all__ = [
    "DenseCRF",
    "class_priors",
    "class_weights",
    "mc_dropout_predict",
    "move_threshold",
]
