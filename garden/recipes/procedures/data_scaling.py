"""Test accuracy against training-set size, from a recipe's model and data.

Reference:
    Sun, Shrivastava, Singh & Gupta, "Revisiting Unreasonable Effectiveness of Data in Deep
    Learning Era", 2017. https://arxiv.org/abs/1707.02968
"""

import json

from garden.recipes import build
from garden.recipes.procedures import REQUIRED, arrays, procedure
from garden.tools.learning_curve import learning_curve, plot_learning_curve
from garden.utils.files import write_text


@procedure(sizes=REQUIRED, steps=REQUIRED, seeds=[0])
def learning_curve_procedure(run):
    """The learning curve of the recipe's model and data.

    Every point trains a fresh model built and compiled from the recipe, with the recipe's batch
    size, on a subset of the training split, and evaluates it on the test split. Writes
    `learning_curve.png` and `learning_curve.json` in the run's directory and returns the fitted
    slope and intercept with the test accuracy at every size (`test_accuracy_N`).

    `[train] options`: `sizes` (training-set sizes), `steps` (gradient steps per training run)
    and `seeds` (subset and initialisation seeds, default [0]).
    """
    options = run.options

    def fresh_model():
        model = build.build_model(run.recipe)
        build.compile_model(model, run.recipe.get("train", {}))
        return model

    curve = learning_curve(fresh_model, arrays(run.train_data), run.test_data, options["sizes"],
                           steps=options["steps"], seeds=options["seeds"],
                           batch_size=run.recipe["data"].get("batch_size", 32))
    plot_learning_curve(curve, run.run_dir / "learning_curve.png",
                        title=f"{run.recipe['name']}: {run.model.name}")
    write_text(run.run_dir / "learning_curve.json", json.dumps(curve.as_dict(), indent=2))
    intercept, slope = curve.fit
    means = curve.scores.mean(axis=1)
    return {"slope_per_decade": slope, "intercept": intercept,
            **{f"test_{curve.metric}_{n}": float(m) for n, m in zip(curve.sizes, means)}}
