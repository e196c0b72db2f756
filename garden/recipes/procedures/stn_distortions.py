"""What a trained spatial transformer does to its inputs, and the recipe procedure around it.

Reference:
    Jaderberg et al., "Spatial Transformer Networks", NeurIPS 2015 (Fig. 3).
    https://arxiv.org/abs/1506.02025
"""

import numpy as np

from garden.recipes.procedures import procedure
from garden.recipes.runner import fit
from garden.utils.figures import pyplot, save_figure


def transformer_figure(model, images, path, layer_name="transformer", columns=8):
    """Saves a figure of `images` (top rows) above the transformer's output for each (bottom).

    Args:
        model: a model with a `SpatialTransformer` layer named `layer_name`.
        images: array `(n, height, width, channels)`.
        path: where to write the PNG.
        layer_name: str. Name of the transformer layer. Defaults to "transformer".
        columns: int. Images per row. Defaults to 8.

    Returns:
        The path written, as a string.
    """
    transformer = model.get_layer(layer_name)
    warped = np.asarray(transformer(images))
    plt = pyplot()
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(2 * rows, columns, figsize=(columns * 1.2, rows * 2.6),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for index, (image, out) in enumerate(zip(images, warped)):
        row, col = divmod(index, columns)
        axes[2 * row, col].imshow(image.squeeze(), cmap="gray", vmin=0, vmax=1)
        axes[2 * row + 1, col].imshow(out.squeeze(), cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_title("input", fontsize=8, loc="left")
    axes[1, 0].set_title("transformed", fontsize=8, loc="left")
    fig.suptitle("Spatial transformer: inputs (top) and what the classifier sees (bottom)")
    return save_figure(fig, path)


@procedure()
def stn_procedure(run):
    """Recipe procedure: `fit`, the test error, and for a model with a transformer the figure
    of test inputs next to their transformed versions (`transformed.png` in the run
    directory)."""
    scores = fit(run)
    scores["test_error"] = 1.0 - scores["test_accuracy"]
    if any(layer.name == "transformer" for layer in run.model.layers):
        images = next(iter(run.test_data))[0].numpy()[:16]
        transformer_figure(run.model, images, run.run_dir / "transformed.png")
    return scores
