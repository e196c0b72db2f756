"""Metrics the papers report, each registered serializable under package "garden"."""

from garden.metrics.image_quality import PSNR, SSIM, psnr, rgb_to_y, ssim
from garden.metrics.segmentation import confusion_matrix, iou_per_class, mean_iou
from garden.metrics.separation import separation_scores

__all__ = [
    "PSNR",
    "SSIM",
    "psnr",
    "rgb_to_y",
    "ssim",
    "confusion_matrix",
    "iou_per_class",
    "mean_iou",
    "separation_scores",
]
