"""Figures of learning-rate (and momentum) schedules, saved atomically."""

import numpy as np
from matplotlib.figure import Figure

from garden.utils.checks import check_int
from garden.utils.figures import save_figure


def schedule_values(schedule, steps):
    """`schedule(step)` for steps 0 .. steps-1, as a float64 array."""
    check_int("steps", steps)
    return np.array([float(schedule(step)) for step in range(steps)])


def plot_schedule(schedules, steps, path=None):
    """Draws one or more schedules over `steps` iterations, one panel each.

    Args:
        schedules: a callable from step to value (a `LearningRateSchedule`, or e.g.
            `one_cycle.momentum`), a list of them (each panel titled with its class name) or
            a dict from panel title to such callables.
        steps: int. Number of iterations to draw.
        path: optional file to save the figure to (png, pdf, svg).

    Returns:
        The matplotlib `Figure`.

    Example:
    >>> from garden.schedules import CyclicLR
    >>> figure = plot_schedule({"triangular2": CyclicLR(0.001, 0.006, 100, "triangular2")}, 600)
    >>> len(figure.axes)
    1
    """
    if callable(schedules):
        panels = [("learning rate", schedules)]
    elif isinstance(schedules, dict):
        panels = list(schedules.items())
    elif isinstance(schedules, (list, tuple)):
        panels = [(type(schedule).__name__, schedule) for schedule in schedules]
    else:
        panels = []
    if not panels or not all(callable(schedule) for _, schedule in panels):
        raise ValueError(f"schedules={schedules!r} is not allowed: use a schedule (a callable "
                         "from step to value), a list of them or a dict from title to them.")
    figure = Figure(figsize=(6, 2.5 * len(panels)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(panels), 1, sharex=True))
    for ax, (title, schedule) in zip(axes, panels):
        ax.plot(np.arange(steps), schedule_values(schedule, steps))
        ax.set_ylabel(title)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("iteration")
    if path is not None:
        save_figure(figure, path)
    return figure
