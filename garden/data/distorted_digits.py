"""Rotated, scaled and translated digits: the RTS distortion of the spatial transformer paper.

Reference:
    Jaderberg et al., "Spatial Transformer Networks", NeurIPS 2015 (Section 4.1).
    https://arxiv.org/abs/1506.02025

The paper's RTS set rotates each MNIST digit by a random angle in [-45, 45] degrees, scales it by
a random factor in [0.7, 1.2] and places it at a random position in a 42x42 image. Here the
digits are scikit-learn's (`garden.data.load("digits")`) upsampled to 20x20 first (the size of
the box an MNIST digit fills in its 28x28 image); the
distortion of every example is fixed by its split and index, so train and test sets are the
same in every run.
"""

import numpy as np

from garden.data._registry import register_dataset

ROTATION = 45.0  # degrees, either way
SCALE = (0.7, 1.2)
_SPLIT_SEEDS = {"train": 0, "test": 1}


def distort(digits, image_size=(42, 42), seed=0):
    """Rotates, scales and translates each digit `(n, h, w)` into a larger blank image.

    Args:
        digits: array `(n, height, width)` in [0, 1].
        image_size: (height, width) of the output. Defaults to (42, 42).
        seed: int. Seed of the random distortions. Defaults to 0.

    Returns:
        Array `(n, *image_size)` float32.
    """
    import skimage.transform

    rng = np.random.default_rng(seed)
    out_h, out_w = image_size
    in_h, in_w = digits.shape[1:3]
    output = np.empty((len(digits), out_h, out_w), np.float32)
    for index, digit in enumerate(digits):
        angle = np.deg2rad(rng.uniform(-ROTATION, ROTATION))
        scale = rng.uniform(*SCALE)
        # The rotated, scaled digit's bounding box decides how far it may move.
        extent_h = scale * (abs(np.cos(angle)) * in_h + abs(np.sin(angle)) * in_w)
        extent_w = scale * (abs(np.sin(angle)) * in_h + abs(np.cos(angle)) * in_w)
        shift = [rng.uniform(-1, 1) * max(0.0, (out - extent) / 2)
                 for out, extent in ((out_h, extent_h), (out_w, extent_w))]
        # Output pixel -> digit pixel: undo the shift, rotation and scale about the centres.
        to_centre = skimage.transform.AffineTransform(
            translation=(-(out_w - 1) / 2 - shift[1], -(out_h - 1) / 2 - shift[0]))
        unrotate = skimage.transform.AffineTransform(scale=1 / scale, rotation=-angle)
        from_centre = skimage.transform.AffineTransform(
            translation=((in_w - 1) / 2, (in_h - 1) / 2))
        inverse = skimage.transform.AffineTransform(
            matrix=from_centre.params @ unrotate.params @ to_centre.params)
        output[index] = skimage.transform.warp(digit, inverse, output_shape=image_size, order=1,
                                               cval=0.0)
    return output


@register_dataset("digits_rts", num_classes=10)
def digits_rts(split="train", image_size=(42, 42), channels=1, digit_size=(20, 20),
               root="tfrecords"):
    """Digits with random rotation, scale and translation, as `(image, label)` pairs.

    Registered as `"digits_rts"`: `garden.data.load("digits_rts", "test", batch_size=64)`.

    Args:
        split: str. "train" or "test" (the splits of `garden.data.load("digits")`).
        image_size: (height, width) of the distorted images. Defaults to (42, 42).
        channels: int. 1, or 3 to repeat the grey level. Defaults to 1.
        digit_size: (height, width) the 8x8 digits are resized to first. Defaults to (20, 20).
        root: str or Path. Data directory of the digits. Defaults to "tfrecords".
    """
    import tensorflow as tf

    from garden.data._pipeline import load

    if split not in _SPLIT_SEEDS:
        raise ValueError(f"split={split!r} is not allowed: use 'train' or 'test'.")
    batches = load("digits", split, image_size=tuple(digit_size), channels=1, batch_size=4096,
                   shuffle=False, root=root)
    images, labels = (np.concatenate(parts) for parts in zip(*batches.as_numpy_iterator()))
    distorted = distort(images[..., 0], tuple(image_size), seed=_SPLIT_SEEDS[split])[..., None]
    distorted = np.repeat(distorted, channels, axis=-1)
    return tf.data.Dataset.from_tensor_slices((distorted, labels))
