"""What runs leave to read: the per-epoch history, its curves, the table over seeds, and
accuracy against compute across trained recipes (`garden compute`)."""

import csv
import json
import math
import statistics
from pathlib import Path

from garden.recipes.build import build_model
from garden.recipes.schema import load_recipe, variants
from garden.tools.compute import ComputePoint
from garden.tools.profiler import profile
from garden.utils.figures import pyplot, save_figure


def read_history(run_dir):
    """The per-epoch log of CSVLogger as `{metric: [values]}` (its "NA" cells become NaN)."""
    path = run_dir / "history.csv"
    if not path.exists():
        return {}
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}

    def number(text):
        try:
            return float(text)
        except ValueError:
            return float("nan")

    return {k: [number(r[k]) for r in rows] for k in rows[0] if k != "epoch"}


def plot_history(history, path, title=""):
    """Saves the training curves (one panel per metric) as a PNG; returns the path as a str."""
    keys = sorted(k for k in history if not k.startswith("val_") and k != "learning_rate")
    plt = pyplot()
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.5), squeeze=False)
    for ax, key in zip(axes[0], keys):
        epochs = range(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label="test")
            ax.legend()
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def summarize(results):
    """Rows of `{variant, runs, metric: (mean, spread)}` over seeds, in recipe order."""
    by_variant = {}
    for r in results:
        by_variant.setdefault(r["variant"], []).append(r)
    rows = []
    for variant, runs in by_variant.items():
        row = {"variant": variant, "runs": len(runs)}
        keys = [k for k, v in runs[0].items() if isinstance(v, (int, float)) and k != "seed"]
        for key in keys:
            values = [r[key] for r in runs]
            if len(values) < 2:
                spread = 0.0
            elif any(math.isnan(v) for v in values):
                spread = math.nan  # statistics.stdev cannot take NaN (e.g. a target never reached)
            else:
                spread = statistics.stdev(values)
            row[key] = (statistics.fmean(values), spread)
        rows.append(row)
    return rows


def format_table(rows):
    """A Markdown table of `summarize` rows: mean ± standard deviation across seeds."""
    keys = [k for k in rows[0] if k not in ("variant", "runs")]
    lines = ["| variant | runs | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
    for row in rows:
        cells = []
        for key in keys:
            mean, spread = row.get(key, (float("nan"), 0.0))
            text = f"{mean:,.0f}" if key == "parameters" else f"{mean:.4g}"
            cells.append(text + (f" ± {spread:.2g}" if row["runs"] > 1 else ""))
        lines.append(f"| {row['variant']} | {row['runs']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


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
