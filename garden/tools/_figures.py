"""Saving the tools' figures: atomically, from `matplotlib.figure.Figure` objects.

The tools draw on `Figure` objects rather than pyplot, so they need no GUI backend and leave no
global figure state behind.
"""

from garden._files import atomic_path


def save_figure(figure, path, **kwargs):
    """Saves `figure` to `path` atomically; returns `path`."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, **kwargs)
    return path
