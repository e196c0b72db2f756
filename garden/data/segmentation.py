"""Label preparation for U-Net training: crops to a valid-padding output and the weight map.

Reference:
    Ronneberger, Fischer and Brox, "U-Net: Convolutional Networks for Biomedical Image
    Segmentation", MICCAI 2015. https://arxiv.org/abs/1505.04597
"""

import numpy as np
import scipy.ndimage

from garden.utils.checks import check_number


def crop_to_output(labels, output_size):
    """The centre `output_size` of `labels`, as a valid-padding network's output covers it.

    Args:
        labels: array `(height, width)`, `(batch, height, width)` or `(batch, height, width,
            channels)`: the last two axes are height and width, except at rank 4.
        output_size: (height, width) of the network's output (e.g. `model.output_shape[1:3]`).

    Returns:
        The cropped array (a view).

    Example:
    >>> crop_to_output(np.zeros((572, 572)), (388, 388)).shape
    (388, 388)
    """
    labels = np.asarray(labels)
    spatial = (1, 2) if labels.ndim == 4 else (labels.ndim - 2, labels.ndim - 1)
    if labels.ndim < 2 or len(tuple(output_size)) != 2:
        raise ValueError(
            f"labels of shape {labels.shape} and output_size={output_size!r} are not allowed: "
            "use labels with height and width axes and output_size=(height, width)."
        )
    index = [slice(None)] * labels.ndim
    for axis, size in zip(spatial, output_size):
        extra = labels.shape[axis] - size
        if size < 1 or extra < 0 or extra % 2:
            raise ValueError(
                f"output_size={tuple(output_size)!r} is not allowed for labels of shape "
                f"{labels.shape}: use a size at most the labels' with an even difference "
                "(a centre crop)."
            )
        index[axis] = slice(extra // 2, extra // 2 + size)
    return labels[tuple(index)]


def unet_weight_map(instances, w0=10.0, sigma=5.0):
    """U-Net's pixel-wise loss weights for an instance mask (Eq. 2 of the paper).

    `w(x) = w_c(x) + w0 * exp(-(d1(x) + d2(x))^2 / (2 sigma^2))`, where `w_c` balances the class
    frequencies (foreground and background each weigh `n / (2 n_class)`, so a balanced mask has
    weight 1) and `d1`, `d2` are the Euclidean distances to the border of the nearest and the
    second nearest object. The border term is given to background pixels (the separating
    borders of touching objects, Fig. 3d of the paper), and only where at least two objects
    exist.

    Args:
        instances: int array `(height, width)`: 0 for background, 1..K for the objects
            (touching objects keep distinct labels, which a binary mask would merge).
        w0: float. Weight of the border term. Defaults to 10 (the paper's).
        sigma: float. Width of the border term in pixels. Defaults to 5 (the paper's).

    Returns:
        float32 array `(height, width)`.
    """
    instances = np.asarray(instances)
    if instances.ndim != 2 or not np.issubdtype(instances.dtype, np.integer) or (
            instances < 0).any():
        raise ValueError(
            f"instances of shape {instances.shape} and dtype {instances.dtype} are not allowed: "
            "use a 2-D integer mask with 0 for background and 1..K for objects."
        )
    check_number("w0", w0, minimum=0)
    check_number("sigma", sigma, minimum=0, inclusive=(False, True))
    foreground = instances > 0
    weights = np.empty(instances.shape, np.float64)
    for region in (foreground, ~foreground):
        if region.any():
            weights[region] = instances.size / (2.0 * region.sum())
    labels = [label for label in np.unique(instances) if label > 0]
    if len(labels) >= 2:
        # Distance of every pixel to each object (0 inside it), two smallest per pixel.
        distances = np.stack([scipy.ndimage.distance_transform_edt(instances != label)
                              for label in labels])
        distances.sort(axis=0)
        border = w0 * np.exp(-((distances[0] + distances[1]) ** 2) / (2 * sigma**2))
        weights += np.where(foreground, 0.0, border)
    return weights.astype(np.float32)
