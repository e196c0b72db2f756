"""What digit capsules encode: reconstructions and one-dimension perturbations (Figs. 3 and 4 of
the paper), and the recipe procedure around them.

Reference:
    Sabour, Frosst and Hinton, "Dynamic Routing Between Capsules", NeurIPS 2017.
    https://arxiv.org/abs/1710.09829
"""

import numpy as np

from garden.models import CapsNet
from garden.recipes.procedures import procedure
from garden.recipes.runner import fit
from garden.utils.figures import pyplot, save_figure

PERTURBATIONS = np.round(np.arange(-0.25, 0.2501, 0.05), 2)  # the paper's range and step


def decode(model, capsules, labels):
    """The decoder's images for `capsules (n, classes, dim)`, keeping the capsule of `labels`."""
    masked = model.get_layer("mask")(capsules, labels=labels)
    return np.asarray(model.get_layer("decoder")(masked))


def reconstruction_figure(model, images, labels, path):
    """Saves test digits (top) above their reconstructions from the predicted capsule (bottom),
    titled `label/prediction` as in Fig. 3."""
    lengths, _, reconstructions = (np.asarray(o) for o in model(images))
    predictions = lengths.argmax(-1)
    plt = pyplot()
    fig, axes = plt.subplots(2, len(images), figsize=(len(images) * 1.1, 2.6), squeeze=False)
    for col, (image, recon) in enumerate(zip(images, reconstructions)):
        axes[0, col].imshow(image.squeeze(), cmap="gray", vmin=0, vmax=1)
        axes[0, col].set_title(f"{labels[col]}/{predictions[col]}", fontsize=8)
        axes[1, col].imshow(recon.squeeze(), cmap="gray", vmin=0, vmax=1)
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle("CapsNet: test digits (label/prediction) and reconstructions")
    return save_figure(fig, path)


def perturbation_figure(model, image, label, path, dimensions=None):
    """Saves Fig. 4: each row tweaks one dimension of the digit's capsule by -0.25 to 0.25 in
    steps of 0.05 and decodes it.

    Args:
        model: a `CapsNet` with a decoder.
        image: array `(height, width, channels)`.
        label: int. The class whose capsule is perturbed (the digit's label).
        path: where to write the PNG.
        dimensions: sequence of int. Capsule dimensions to perturb. Defaults to all.
    """
    capsules = np.asarray(model(image[None])[1])  # (1, classes, dim)
    dimensions = range(capsules.shape[-1]) if dimensions is None else dimensions
    plt = pyplot()
    fig, axes = plt.subplots(len(dimensions), len(PERTURBATIONS),
                             figsize=(len(PERTURBATIONS) * 0.8, len(dimensions) * 0.8),
                             squeeze=False)
    for row, dim in enumerate(dimensions):
        batch = np.repeat(capsules, len(PERTURBATIONS), axis=0)
        batch[:, label, dim] += PERTURBATIONS
        for col, decoded in enumerate(decode(model, batch, np.full(len(batch), label))):
            axes[row, col].imshow(decoded.squeeze(), cmap="gray", vmin=0, vmax=1)
            axes[row, col].axis("off")
        axes[row, 0].text(-2, decoded.shape[0] / 2, str(dim), fontsize=7, ha="right",
                          va="center")
    fig.suptitle("one capsule dimension at a time, -0.25 ... +0.25")
    return save_figure(fig, path)


@procedure()
def capsnet_procedure(run):
    """Recipe procedure: `fit` and the test error; for a `CapsNet` with a decoder also the
    reconstruction and perturbation figures (`reconstructions.png`, `perturbations.png` in the
    run directory)."""
    scores = fit(run)
    scores["test_error"] = 1.0 - scores["test_accuracy"]
    if isinstance(run.model, CapsNet) and run.model.has_decoder:
        images, labels = (t.numpy() for t in next(iter(run.test_data)))
        reconstruction_figure(run.model, images[:10], labels[:10],
                              run.run_dir / "reconstructions.png")
        perturbation_figure(run.model, images[0], int(labels[0]),
                            run.run_dir / "perturbations.png")
    return scores
