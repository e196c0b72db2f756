"""Recipes: one TOML file per experiment, trained by `garden train` (format: training/README.md).

A recipe names a registered model and its arguments, the data, the optimizer, loss, epochs and
callbacks, optional exports, and optionally variants and seeds to compare. The package is one job
per module:

- `schema`: reading a recipe (a file or a bundled recipe's name) and validating every variant
  before anything trains; the only validator.
- `build`: the model, data, optimizer, loss, metrics and callbacks from a recipe.
- `runner`: `train` and `train_one`, run directories keyed on the recipe's content, resume.
- `results`: the per-epoch history, its curves, the table over seeds, accuracy against
  compute across trained recipes.
- `procedures`: one module per paper whose experiment is not one plain fit.

The recipes shipped with garden are package data under `garden/recipes/training/` (the
repository's `training/` folder links there).
"""

from garden.recipes.build import (
    build_callbacks,
    build_data,
    build_loss,
    build_metrics,
    build_model,
    build_optimizer,
    build_training,
    build_transforms,
    compile_model,
)
from garden.recipes.procedures import REQUIRED, arrays, procedure, variant_dirs
from garden.recipes.results import (
    Comparison,
    compare,
    compute_points,
    format_comparison,
    format_table,
    plot_history,
    read_history,
    summarize,
    welch_test,
)
from garden.recipes.runner import Interrupted, Run, fit, recipe_key, train, train_one
from garden.recipes.schema import (
    bundled_recipes,
    load_procedure,
    load_recipe,
    procedure_options,
    validate_recipe,
    variants,
)

__all__ = [
    "Interrupted",
    "REQUIRED",
    "Comparison",
    "Run",
    "arrays",
    "build_callbacks",
    "build_data",
    "build_loss",
    "build_metrics",
    "build_model",
    "build_optimizer",
    "build_training",
    "build_transforms",
    "bundled_recipes",
    "compare",
    "compile_model",
    "compute_points",
    "fit",
    "format_comparison",
    "format_table",
    "load_procedure",
    "load_recipe",
    "plot_history",
    "procedure",
    "procedure_options",
    "read_history",
    "recipe_key",
    "summarize",
    "train",
    "train_one",
    "validate_recipe",
    "variant_dirs",
    "variants",
    "welch_test",
]
