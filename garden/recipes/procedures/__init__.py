"""Recipe procedures: what `[train] procedure = "MODULE:FUNCTION"` runs instead of the default fit.

One module per paper or experiment whose run is not one plain `model.fit`. A procedure takes a
`garden.recipes.Run` and returns a dict of named floats (figures and files go into
`run.run_dir`). It declares its `[train] options` and their defaults with `procedure(...)`, so the
recipe schema checks them when the recipe is read, before anything trains; the runner passes the
merged options as `run.options`.
"""

import numpy as np


class _Required:
    """The default of an option a recipe must set."""

    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()


def procedure(**defaults):
    """Declares a function as a recipe procedure taking `[train] options` with these defaults.

    Args:
        **defaults: option name -> default value, or `REQUIRED` for an option without one.

    Example:

    ```python
    @procedure(samples=50)
    def mc_dropout_evaluation(run):
        samples = run.options["samples"]
    ```
    """

    def decorate(function):
        function.options = dict(defaults)
        return function

    return decorate


def arrays(dataset):
    """All `(inputs, labels)` of a batched dataset as two NumPy arrays."""
    batches = list(dataset.as_numpy_iterator())
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


def variant_seed_dirs(run):
    """`(recipe_dir, {variant: [run directories]})`: every seed of every variant of this recipe
    run so far, for figures that compare the variants over their seeds."""
    recipe_dir = run.run_dir.parent.parent
    found = {}
    for seed_dir in sorted(recipe_dir.glob("*/seed*")):
        found.setdefault(seed_dir.parent.name, []).append(seed_dir)
    return recipe_dir, found


def variant_dirs(run):
    """`(recipe_dir, {variant: run directory})`: the first seed of every variant of this recipe
    run so far, for figures that compare the variants."""
    recipe_dir, found = variant_seed_dirs(run)
    return recipe_dir, {variant: dirs[0] for variant, dirs in found.items()}
