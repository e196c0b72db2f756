"""Accuracy against compute across trained recipes: one `garden.tools.ComputePoint` per variant
(`garden compute RECIPE...`)."""

import json
import statistics
from pathlib import Path

from garden.recipes.build import build_model
from garden.recipes.schema import load_recipe, variants
from garden.tools.compute import ComputePoint
from garden.tools.profiler import profile


def compute_points(recipes, *, runs_dir="runs", metric="test_accuracy"):
    """Profiles every variant of the given recipes and reads its trained accuracy.

    Args:
        recipes: paths of recipe files (`training/*.toml`) already trained with `garden train`.
        runs_dir: directory the runs were written to. Defaults to "runs".
        metric: result key holding the accuracy. Defaults to "test_accuracy".

    Returns:
        A list of `ComputePoint`, one per variant.
    """
    points = []
    for path in recipes:
        recipe = load_recipe(path)
        results_path = Path(runs_dir) / recipe["name"] / "results.json"
        if not results_path.is_file():
            raise ValueError(f"recipe {str(path)!r} has no results in {results_path}: "
                             f"run `garden train {path}` first.")
        results = json.loads(results_path.read_text())["results"]
        for variant, variant_recipe in variants(recipe):
            scores = [r[metric] for r in results if r["variant"] == variant and metric in r]
            if not scores:
                raise ValueError(f"recipe {str(path)!r}, variant {variant!r}: no {metric!r} in "
                                 f"{results_path}.")
            counts = profile(build_model(variant_recipe))
            label = recipe["name"] if variant == "default" else f"{recipe['name']}/{variant}"
            points.append(ComputePoint(label, counts.multiply_adds, counts.params,
                                       statistics.fmean(scores)))
    return points
