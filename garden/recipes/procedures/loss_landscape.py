"""The loss surface of a trained model on a plane of two filter-normalised directions.

Reference:
    Li, Xu, Taylor, Studer and Goldstein, "Visualizing the Loss Landscape of Neural Nets",
    NeurIPS 2018. https://arxiv.org/abs/1712.09913
"""

import numpy as np

from garden.recipes.procedures import arrays, procedure
from garden.recipes.runner import fit
from garden.tools.landscape import loss_surface, plot_contour, plot_surface_3d
from garden.utils.files import atomic_path


@procedure(steps=21, span=1.0, examples=512, radius=0.5, seed=0)
def surface_procedure(run):
    """Trains as the default procedure does, then measures the loss surface of the trained model.

    Writes `surface.npz` (the grid), `contour.png` and `surface.png` in the run's directory and
    returns the test metrics with three numbers that describe the surface: the loss at the centre,
    the mean loss on the circle of `radius` (`Surface.loss_at_radius`) and the non-convex fraction
    of the disc the grid covers (`Surface.nonconvex_fraction(span)`).

    `[train] options`: `steps` (grid points along each direction, 21), `span` (the grid covers
    [-span, span], 1.0), `examples` (training examples the loss averages over, 512), `radius`
    (where the loss growth is measured, 0.5), `seed` (of the directions, 0).
    """
    options = run.options
    steps, span, radius = options["steps"], options["span"], options["radius"]
    scores = fit(run)
    data = tuple(a[: options["examples"]] for a in arrays(run.train_data))
    surface = loss_surface(run.model, run.model.loss, data, span=(-span, span), steps=steps,
                           seed=options["seed"])
    with atomic_path(run.run_dir / "surface.npz") as tmp:
        np.savez(tmp, alphas=surface.alphas, betas=surface.betas, losses=surface.losses)
    title = f"{run.recipe['name']} {run.variant}"
    plot_contour(surface, run.run_dir / "contour.png", title=title)
    plot_surface_3d(surface, run.run_dir / "surface.png", title=title)
    return {
        **scores,
        "surface_centre_loss": float(surface.losses[steps // 2, steps // 2]),
        "surface_loss_at_radius": surface.loss_at_radius(radius),
        "surface_nonconvex_fraction": surface.nonconvex_fraction(span),
    }
