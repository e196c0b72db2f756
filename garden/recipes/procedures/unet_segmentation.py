"""U-Net on a segmentation dataset: the overlap-tile input of valid padding and the weight map.

Reference:
    Ronneberger et al. 2015, https://arxiv.org/abs/1505.04597
"""

import numpy as np
import scipy.ndimage

from garden import data
from garden.metrics import confusion_matrix, iou_per_class, mean_iou
from garden.recipes.procedures import arrays, procedure


def instances_of(masks):
    """Instance labels from class masks: the connected components of every class, numbered
    apart, so touching objects of different classes stay distinct."""
    out = np.zeros(masks.shape, np.int32)
    for i, mask in enumerate(masks):
        offset = 0
        for c in np.unique(mask[mask > 0]):
            labels, count = scipy.ndimage.label(mask == c)
            out[i][labels > 0] = labels[labels > 0] + offset
            offset += count
    return out


def mirror_tiles(images, input_size):
    """Images mirrored at their borders to `input_size`, the paper's overlap-tile strategy, so
    a valid-padding U-Net's output covers the whole image."""
    pad = (input_size - images.shape[1]) // 2
    return np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect") if pad else (
        images)


@procedure(weight_map=False, w0=10.0, sigma=5.0)
def unet_procedure(run):
    """Recipe procedure: fit the U-Net on mirrored tiles (valid padding) or the images (same
    padding), with the paper's weight map as per-pixel sample weights when `weight_map`, then
    test mIoU and per-class IoU."""
    images, masks = arrays(run.train_data)
    size = run.model.input_shape[1]
    weights = None
    if run.options["weight_map"]:
        weights = np.stack([data.unet_weight_map(m, run.options["w0"], run.options["sigma"])
                            for m in instances_of(masks)])
    run.model.fit(mirror_tiles(images, size), masks, sample_weight=weights,
                  batch_size=run.recipe["data"].get("batch_size", 16), epochs=run.epochs,
                  callbacks=run.callbacks, verbose=2)
    test_images, test_masks = arrays(run.test_data)
    predictions = np.asarray(run.model.predict(mirror_tiles(test_images, size), verbose=0))
    predictions = predictions.argmax(-1)
    classes = run.model.output_shape[-1]
    scores = {"test_miou": mean_iou(test_masks, predictions, classes)}
    for c, iou in enumerate(iou_per_class(confusion_matrix(test_masks, predictions, classes))):
        scores[f"test_iou_{c}"] = float(iou)
    return scores
