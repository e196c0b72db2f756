"""What runs leave to read: the per-epoch history, its curves, the table over seeds, each
variant against the first (Welch's test over seeds), and accuracy against compute across trained
recipes (`garden compute`)."""

import csv
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

from scipy import stats

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


@dataclass(frozen=True)
class Comparison:
    """Variant `b` against `a` on one metric over seeds (Welch's two-sample t-test).

    Attributes:
        difference: mean of `b` minus mean of `a`.
        p_value: two-sided p-value of the difference (NaN where both spreads are zero).
        detectable: the smallest difference of means these seeds call significant at the
            test's level, the half-width of the difference's confidence interval: an effect
            below it cannot be told from the seed spread.
    """

    difference: float
    p_value: float
    detectable: float


def welch_test(a, b, alpha=0.05):
    """`Comparison` of two samples (each variant's per-seed values, 2 or more of each), or of
    two `(mean, standard deviation, count)` summaries as papers and records report them."""
    def summary(x):
        if isinstance(x, tuple):
            return x
        if len(x) < 2:
            raise ValueError(f"{len(x)} value(s): Welch's test needs 2 or more runs of each")
        return statistics.fmean(x), statistics.stdev(x), len(x)

    (mean_a, sd_a, n_a), (mean_b, sd_b, n_b) = summary(a), summary(b)
    if min(n_a, n_b) < 2:
        raise ValueError(f"counts {n_a} and {n_b}: Welch's test needs 2 or more runs of each")
    va, vb = sd_a ** 2 / n_a, sd_b ** 2 / n_b
    difference = mean_b - mean_a
    if va + vb == 0:
        return Comparison(difference, math.nan, 0.0)
    df = (va + vb) ** 2 / (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1))
    se = math.sqrt(va + vb)
    return Comparison(difference, float(2 * stats.t.sf(abs(difference) / se, df)),
                      float(stats.t.ppf(1 - alpha / 2, df) * se))


def compare(results, metric="test_accuracy", alpha=0.05):
    """Every other variant against the first (the recipe's baseline) on `metric`: a list of
    `(variant, Comparison)`, empty when the variants were run with fewer than 2 seeds or do not
    report `metric`."""
    by_variant = {}
    for r in results:
        if isinstance(r.get(metric), (int, float)):
            by_variant.setdefault(r["variant"], []).append(r[metric])
    values = list(by_variant.values())
    if len(values) < 2 or min(map(len, values)) < 2:
        return []
    baseline = values[0]
    return [(variant, welch_test(baseline, found, alpha))
            for variant, found in list(by_variant.items())[1:]]


def format_comparison(rows, metric="test_accuracy", baseline="the first variant", alpha=0.05):
    """Lines of `compare` rows: the difference, its p-value and the smallest significant one."""
    return [f"{variant} - {baseline}, {metric}: {c.difference:+.4g} (Welch p = {c.p_value:.2g}; "
            f"these seeds resolve differences of {c.detectable:.2g} or more at {alpha:.0%})"
            for variant, c in rows]


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
