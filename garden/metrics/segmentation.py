"""Intersection over union for semantic segmentation, the measure DeepLab reports.

Reference:
    Everingham et al., "The PASCAL Visual Object Classes (VOC) Challenge", IJCV 2010.

IoU of class c is `TP_c / (TP_c + FP_c + FN_c)`, counted over every pixel of a whole dataset
(not averaged per image); mIoU is the mean over the classes that occur in the labels or the
predictions. These functions take label maps as NumPy arrays, so they score post-processed
predictions (e.g. after `garden.tools.DenseCRF`) as well as a network's argmax; during training,
`keras.metrics.MeanIoU(num_classes, sparse_y_pred=False)` computes the same mean.
"""

import numpy as np


def confusion_matrix(y_true, y_pred, num_classes, ignore_label=None):
    """Counts `(num_classes, num_classes)`: row = true class, column = predicted class.

    Args:
        y_true: int array of true labels, any shape.
        y_pred: int array of predicted labels, the same shape.
        num_classes: int. Number of classes.
        ignore_label: int, optional. Pixels with this true label are not counted (VOC's 255).
    """
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in size: {y_true.size} and {y_pred.size}")
    keep = y_true != ignore_label if ignore_label is not None else slice(None)
    y_true, y_pred = y_true[keep].astype(np.int64), y_pred[keep].astype(np.int64)
    outside = (y_true < 0) | (y_true >= num_classes) | (y_pred < 0) | (y_pred >= num_classes)
    if outside.any():
        raise ValueError(f"labels must be in [0, {num_classes}), found {set(y_true[outside])}")
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def iou_per_class(confusion):
    """IoU of each class from a confusion matrix; NaN for a class absent from both labels and
    predictions."""
    confusion = np.asarray(confusion, np.float64)
    true_positive = np.diag(confusion)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - true_positive
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, true_positive / union, np.nan)


def mean_iou(y_true, y_pred, num_classes, ignore_label=None):
    """Mean IoU over the classes present in `y_true` or `y_pred` (see `confusion_matrix`)."""
    return float(np.nanmean(iou_per_class(confusion_matrix(y_true, y_pred, num_classes,
                                                           ignore_label))))
