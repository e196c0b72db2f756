"""Evaluating a segmentation network with and without fully connected CRF post-processing, and
the recipe procedure for DeepLab.

Reference:
    Chen et al., "DeepLab: Semantic Image Segmentation with Deep Convolutional Nets, Atrous
    Convolution, and Fully Connected CRFs", TPAMI 2017. https://arxiv.org/abs/1606.00915
"""

import itertools

import numpy as np

from garden import data
from garden.metrics import mean_iou
from garden.recipes.procedures import procedure
from garden.recipes.runner import fit
from garden.tools.crf import DenseCRF
from garden.utils.figures import pyplot, save_figure
from garden.utils.files import write_text

# DeepLab picks the CRF's appearance weight and scales by cross-validation on held-out images;
# this small grid is searched on the validation split.
CRF_GRID = {"appearance_weight": (3.0, 10.0), "appearance_theta": (5.0, 20.0)}


def predict(model, dataset):
    """`(images, masks, probabilities)` as NumPy arrays for every batch of `dataset`."""
    images, masks, probabilities = [], [], []
    for x, y in dataset:
        logits = np.asarray(model(x, training=False))
        exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
        images.append(x.numpy())
        masks.append(y.numpy())
        probabilities.append(exp / exp.sum(axis=-1, keepdims=True))
    return np.concatenate(images), np.concatenate(masks), np.concatenate(probabilities)


def refine(crf, images, probabilities, iterations=10):
    """Label maps after CRF inference (DeepLab's 10 mean-field iterations) on each image, at its
    full resolution (the lattice method's cost is linear in the pixels)."""
    return np.stack([crf(p, image, iterations).argmax(-1)
                     for image, p in zip(images, probabilities)])


def tune_crf(images, masks, probabilities, num_classes, grid=CRF_GRID):
    """The `DenseCRF` of `grid` (a dict of argument -> values) with the best mIoU."""
    candidates = [DenseCRF(**dict(zip(grid, values)))
                  for values in itertools.product(*grid.values())]
    scores = [mean_iou(masks, refine(crf, images, probabilities), num_classes)
              for crf in candidates]
    return candidates[int(np.argmax(scores))]


def segmentation_figure(images, masks, predictions, refined, path, num_classes):
    """Saves image / ground truth / network / network + CRF, one example per row."""
    plt = pyplot()
    fig, axes = plt.subplots(len(images), 4, figsize=(8, 2.1 * len(images)), squeeze=False)
    titles = ("image", "ground truth", "network", "network + CRF")
    for row, panels in enumerate(zip(images, masks, predictions, refined)):
        for col, panel in enumerate(panels):
            style = {} if col == 0 else {"cmap": "tab10", "vmin": 0, "vmax": 9}
            axes[row, col].imshow(panel, interpolation="nearest", **style)
            axes[row, col].axis("off")
            if row == 0:
                axes[row, col].set_title(titles[col], fontsize=9)
    return save_figure(fig, path)


@procedure()
def deeplab_procedure(run):
    """Recipe procedure: `fit`, then test mIoU of the network's argmax and after the fully
    connected CRF (its weights chosen on 16 validation images); writes the chosen CRF to
    `crf.txt` and the figure `segmentation.png` in the run directory."""
    scores = fit(run)
    recipe_data = {k: v for k, v in run.recipe["data"].items() if k not in ("name", "batch_size")}
    num_classes = data.info(run.recipe["data"]["name"])["num_classes"]
    validation = data.load(run.recipe["data"]["name"], "validation", batch_size=16,
                           shuffle=False, **recipe_data)
    crf = tune_crf(*predict(run.model, validation.take(1)), num_classes)
    images, masks, probabilities = predict(run.model, run.test_data)
    predictions = probabilities.argmax(-1)
    refined = refine(crf, images, probabilities)
    scores["test_miou"] = mean_iou(masks, predictions, num_classes)
    scores["test_miou_crf"] = mean_iou(masks, refined, num_classes)
    write_text(run.run_dir / "crf.txt", f"{crf}\n")
    segmentation_figure(images[:4], masks[:4], predictions[:4], refined[:4],
                        run.run_dir / "segmentation.png", num_classes)
    return scores
