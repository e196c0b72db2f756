"""Saving matplotlib figures atomically: the one helper every figure-making part of garden uses."""

from garden.utils.files import atomic_path


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi=100):
    """Writes `fig` to `path` atomically (format from the suffix), closes it in pyplot (a bare
    `matplotlib.figure.Figure` stays usable), and returns `path` as given."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return path
