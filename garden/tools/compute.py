"""Accuracy against compute across garden models trained by their recipes.

Thompson et al. find that deep learning's gains came with far faster growth of computation: test
error falls only as a small power of the compute spent. Here each trained recipe variant is one
point, its multiply-adds per example (the profiler's count) against its test error, with the
fitted power law `error = c * compute ** slope`. `garden.recipes.compute_points` makes
the points from trained recipes.

Reference:
    Thompson, Greenewald, Lee & Manso, "The Computational Limits of Deep Learning", 2020.
    https://arxiv.org/abs/2007.05558
"""

import dataclasses

import numpy as np

from garden.utils.figures import save_figure


@dataclasses.dataclass(frozen=True)
class ComputePoint:
    """One trained model: `label` is "recipe/variant"; `accuracy` the mean over its seeds."""

    label: str
    multiply_adds: int
    params: int
    accuracy: float


def power_law(points):
    """(coefficient, slope) of the least-squares fit log10(error) = log10(c) + slope *
    log10(multiply-adds): the error shrinks by 10**slope for every tenfold more compute."""
    compute = np.log10([p.multiply_adds for p in points])
    error = np.log10([max(1 - p.accuracy, 1e-6) for p in points])
    slope, intercept = np.polyfit(compute, error, 1)
    return float(10**intercept), float(slope)


def format_points(points):
    """A Markdown table of the points, by increasing compute."""
    lines = ["| model | mult-adds | params | test accuracy |", "|---|---|---|---|"]
    for p in sorted(points, key=lambda p: p.multiply_adds):
        lines.append(f"| {p.label} | {p.multiply_adds / 1e6:.2f}M | {p.params:,} | "
                     f"{p.accuracy:.4f} |")
    return "\n".join(lines)


def plot_accuracy_vs_compute(points, path, *, title=None):
    """Test error against multiply-adds per example on log-log axes, with the fitted power
    law; returns `path`."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    compute = np.array([p.multiply_adds for p in points], float)
    error = np.array([max(1 - p.accuracy, 1e-6) for p in points])
    axes.scatter(compute, error, zorder=3)
    for p, x, y in zip(points, compute, error, strict=True):  # "recipe/variant": the variant
        axes.annotate(p.label.rsplit("/", 1)[-1], (x, y), textcoords="offset points",
                      xytext=(0, 6), fontsize=7, ha="center")
    axes.margins(x=0.15, y=0.15)
    if len(points) >= 2:
        coefficient, slope = power_law(points)
        line = np.geomspace(compute.min(), compute.max(), 50)
        axes.plot(line, coefficient * line**slope, "--",
                  label=f"error ~ compute^{slope:.2f}")
        axes.legend()
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("multiply-adds per example")
    axes.set_ylabel("test error (1 - accuracy)")
    axes.grid(alpha=0.3, which="both")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    return save_figure(figure, path)
