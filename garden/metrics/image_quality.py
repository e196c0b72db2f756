"""Image-quality metrics of the super-resolution papers: PSNR and SSIM, on the Y channel.

References:
    Dong et al., "Image Super-Resolution Using Deep Convolutional Networks", 2014.
    https://arxiv.org/abs/1501.00092
    Wang et al., "Image Quality Assessment: From Error Visibility to Structural Similarity",
    IEEE TIP 2004.

Both papers measure quality on the luminance (Y of YCbCr, ITU-R BT.601), where the eye is most
sensitive; `rgb_to_y` converts RGB images in [0, 1] to it.
"""

import keras
from keras import ops

from garden.utils.serialization import serializable
from garden.utils.checks import check_number

# ITU-R BT.601 luma for RGB in [0, 1]: Y in [16, 235] / 255, as MATLAB's rgb2ycbcr.
_Y_WEIGHTS = (65.481 / 255.0, 128.553 / 255.0, 24.966 / 255.0)
_Y_OFFSET = 16.0 / 255.0


def rgb_to_y(images):
    """The BT.601 luminance of RGB images in [0, 1]: `Y = (16 + 65.481 R + 128.553 G +
    24.966 B) / 255`, with shape `(..., 1)` and values in [16/255, 235/255]."""
    images = ops.convert_to_tensor(images)
    weights = ops.cast(ops.array(_Y_WEIGHTS), images.dtype)
    return ops.sum(images * weights, axis=-1, keepdims=True) + _Y_OFFSET


def psnr(y_true, y_pred, max_val=1.0):
    """Peak signal-to-noise ratio per image: `10 log10(max_val^2 / MSE)`, in dB.

    Args:
        y_true: tensor `(batch, height, width, channels)`, the reference images.
        y_pred: tensor of the same shape, the reconstructions.
        max_val: float. The largest possible pixel value. Defaults to 1.0.

    Returns:
        Tensor `(batch,)`.
    """
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.cast(y_pred, y_true.dtype)
    mse = ops.mean(ops.square(y_true - y_pred), axis=(1, 2, 3))
    return 10.0 * ops.log10(max_val**2 / mse)


def ssim(y_true, y_pred, max_val=1.0):
    """Structural similarity per image, with the Gaussian window of Wang et al. (11x11, sigma
    1.5, K1 = 0.01, K2 = 0.03), averaged over the valid positions and channels
    (`keras.ops.image.ssim`). Returns a tensor `(batch,)`."""
    return ops.image.ssim(y_true, ops.cast(y_pred, ops.convert_to_tensor(y_true).dtype),
                          max_val=max_val)


class _ImageQuality(keras.metrics.MeanMetricWrapper):
    """The mean over images of a per-image quality measure `fn(y_true, y_pred, max_val)`."""

    def __init__(self, fn, max_val, name, dtype):
        check_number("max_val", max_val, minimum=0, inclusive=False)
        super().__init__(fn=fn, name=name, dtype=dtype, max_val=max_val)
        self.max_val = max_val

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "max_val": self.max_val}


@serializable
class PSNR(_ImageQuality):
    """Mean peak signal-to-noise ratio (dB) of the images seen; see `psnr`.

    Args:
        max_val: float. The largest possible pixel value. Defaults to 1.0.
        name: str. Defaults to `"psnr"`.
        dtype: dtype of the metric's result. Defaults to None.

    Example:
    >>> metric = PSNR()
    >>> metric.update_state(keras.ops.zeros((1, 4, 4, 1)), keras.ops.full((1, 4, 4, 1), 0.1))
    >>> round(float(metric.result()), 3)
    20.0
    """

    def __init__(self, max_val=1.0, name="psnr", dtype=None):
        super().__init__(psnr, max_val, name, dtype)


@serializable
class SSIM(_ImageQuality):
    """Mean structural similarity of the images seen; see `ssim`.

    Args: `max_val`, `dtype` as for `PSNR`; `name` defaults to `"ssim"`.

    Example:
    >>> metric = SSIM()
    >>> metric.update_state(keras.ops.ones((1, 16, 16, 1)), keras.ops.ones((1, 16, 16, 1)))
    >>> round(float(metric.result()), 3)
    1.0
    """

    def __init__(self, max_val=1.0, name="ssim", dtype=None):
        super().__init__(ssim, max_val, name, dtype)
