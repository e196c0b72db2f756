"""Metrics the papers report, each registered serializable under package "garden"."""

from garden.metrics.image_quality import PSNR, SSIM, psnr, rgb_to_y, ssim

__all__ = ["PSNR", "SSIM", "psnr", "rgb_to_y", "ssim"]
