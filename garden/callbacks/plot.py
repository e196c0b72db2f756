"""Figures of learning-rate (and momentum) schedules, saved atomically."""

import os
import tempfile

import numpy as np
from matplotlib.figure import Figure


def save_figure(figure, path):
    """Saves a matplotlib `figure` to `path` through a temporary file and a rename, so an
    interrupted save never leaves a truncated image under the final name."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.splitext(path)[1]
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=suffix)
    os.close(handle)
    try:
        figure.savefig(temporary, format=suffix.lstrip(".") or "png", dpi=120)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def schedule_values(schedule, steps):
    """`schedule(step)` for steps 0 .. steps-1, as a float64 array."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps={steps!r} is not allowed: use a positive int.")
    return np.array([float(schedule(step)) for step in range(steps)])


def plot_schedule(schedules, steps, path=None):
    """Draws one or more schedules over `steps` iterations, one panel each.

    Args:
        schedules: a callable from step to value (a `LearningRateSchedule`, or e.g.
            `one_cycle.momentum`), or a dict from panel title to such callables.
        steps: int. Number of iterations to draw.
        path: optional file to save the figure to (png, pdf, svg).

    Returns:
        The matplotlib `Figure`.

    Example:
    >>> from garden.callbacks import CyclicLR
    >>> figure = plot_schedule({"triangular2": CyclicLR(0.001, 0.006, 100, "triangular2")}, 600)
    >>> len(figure.axes)
    1
    """
    if callable(schedules):
        schedules = {"learning rate": schedules}
    figure = Figure(figsize=(6, 2.5 * len(schedules)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(schedules), 1, sharex=True))
    for ax, (title, schedule) in zip(axes, schedules.items()):
        ax.plot(np.arange(steps), schedule_values(schedule, steps))
        ax.set_ylabel(title)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("iteration")
    if path is not None:
        save_figure(figure, path)
    return figure
