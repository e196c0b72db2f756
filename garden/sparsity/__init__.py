"""Magnitude pruning for Keras 3 models with tfmot's API, and dense-sparse-dense training.

`prune_low_magnitude`, `strip_pruning`, `UpdatePruningStep`, `PruningSummaries`,
`ConstantSparsity` and `PolynomialDecay` behave as their namesakes in
`tfmot.sparsity.keras`, for Keras 3 models on any backend; tfmot's own schedule objects are
accepted. Weights can also be ranked globally, at random or by whole filters
(`ranking=...`), `sparsity_report` measures what pruning removed, and `dsd` runs Han et al.'s
dense-sparse-dense training.
"""

from garden.sparsity.callbacks import PruningSummaries, UpdatePruningStep
from garden.sparsity.dsd import DSDResult, Phase, dsd
from garden.sparsity.pruning import (
    PruneLowMagnitude,
    prunable_weights,
    prune_low_magnitude,
    pruned_layers,
    strip_pruning,
)
from garden.sparsity.report import LayerSparsity, SparsityReport, sparsity_report
from garden.sparsity.schedules import ConstantSparsity, PolynomialDecay, PruningSchedule

__all__ = [
    "ConstantSparsity",
    "DSDResult",
    "LayerSparsity",
    "Phase",
    "PolynomialDecay",
    "PruneLowMagnitude",
    "PruningSchedule",
    "PruningSummaries",
    "SparsityReport",
    "UpdatePruningStep",
    "dsd",
    "prunable_weights",
    "prune_low_magnitude",
    "pruned_layers",
    "sparsity_report",
    "strip_pruning",
]
