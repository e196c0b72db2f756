"""U-Net on a segmentation dataset: labels cropped to a valid-padding output, and the weight map.

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


@procedure(weight_map=False, w0=10.0, sigma=5.0, evaluate_size=64)
def unet_procedure(run):
    """Recipe procedure: fit the U-Net with its labels cropped to its output
    (`garden.data.crop_to_output`; valid padding), with the paper's weight map (computed on
    the whole mask, then cropped) as per-pixel sample weights when `weight_map`; then test mIoU
    and per-class IoU on the central `evaluate_size` pixels, the same for every padding."""
    images, masks = arrays(run.train_data)
    output_size = run.model.output_shape[1:3]
    weights = None
    if run.options["weight_map"]:
        weights = data.crop_to_output(np.stack([
            data.unet_weight_map(m, run.options["w0"], run.options["sigma"])
            for m in instances_of(masks)]), output_size)
    run.model.fit(images, data.crop_to_output(masks, output_size), sample_weight=weights,
                  batch_size=run.recipe["data"].get("batch_size", 16), epochs=run.epochs,
                  callbacks=run.callbacks, verbose=2)
    test_images, test_masks = arrays(run.test_data)
    size = (run.options["evaluate_size"],) * 2
    predictions = np.asarray(run.model.predict(test_images, verbose=0)).argmax(-1)
    predictions, test_masks = data.crop_to_output(predictions, size), data.crop_to_output(
        test_masks, size)
    classes = run.model.output_shape[-1]
    scores = {"test_miou": mean_iou(test_masks, predictions, classes)}
    for c, iou in enumerate(iou_per_class(confusion_matrix(test_masks, predictions, classes))):
        scores[f"test_iou_{c}"] = float(iou)
    return scores
