"""Metrics the papers report, each registered serializable under package "garden"."""

from garden.metrics.image_quality import PSNR, SSIM, psnr, rgb_to_y, ssim
from garden.metrics.segmentation import confusion_matrix, iou_per_class, mean_iou

__all__ = [
    "PSNR",
    "SSIM",
    "psnr",
    "rgb_to_y",
    "ssim",
    "confusion_matrix",
    "iou_per_class",
    "mean_iou",
]
