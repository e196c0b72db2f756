"""Saving matplotlib figures atomically (shared by the figure-making tools)."""

from garden.utils.files import atomic_path


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi=100):
    """Writes `fig` to `path` atomically, closes it, and returns the path as a string."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return str(path)
