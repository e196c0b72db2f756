"""RGB crops of scikit-image's bundled photographs, as content images for style transfer.

Each photograph is resized (anti-aliased) so that its shorter side is `short_side` pixels, then
cut into `crop_size` squares on a regular grid. The splits are sr_patches' fixed training and
held-out photographs; each example is `(crop, crop)`, the content image being both the input and
the target of a transformation network.
"""

import numpy as np

from garden.data._registry import register_dataset
from garden.data.sr_patches import TEST_PHOTOGRAPHS, TRAIN_PHOTOGRAPHS, photograph
from garden.utils.checks import check_int


def resized_photograph(name, short_side):
    """A bundled photograph as RGB float32 in [0, 1], its shorter side `short_side` pixels."""
    import skimage.transform

    image = photograph(name)
    factor = short_side / min(image.shape[:2])
    shape = tuple(max(short_side, round(size * factor)) for size in image.shape[:2])
    return skimage.transform.resize(image, shape, order=3, anti_aliasing=factor < 1,
                                    mode="reflect").clip(0, 1).astype(np.float32)


def crops(image, crop_size, stride):
    """The `crop_size` squares of `image` on a grid of step `stride`, `(n, size, size, 3)`."""
    return np.stack([image[top:top + crop_size, left:left + crop_size]
                     for top in range(0, image.shape[0] - crop_size + 1, stride)
                     for left in range(0, image.shape[1] - crop_size + 1, stride)])


@register_dataset("photo_crops", task="image-transformation", train=TRAIN_PHOTOGRAPHS,
                  test=TEST_PHOTOGRAPHS)
def photo_crops(split="train", crop_size=64, stride=32, short_side=128, exclude=()):
    """Content crops as a `tf.data.Dataset` of `(crop, crop)`, RGB float32 in [0, 1].

    Args:
        split: str. "train" crops `TRAIN_PHOTOGRAPHS`, "test" `TEST_PHOTOGRAPHS`.
        crop_size: int. Side of the square crops. Defaults to 64.
        stride: int. Step between crops. Defaults to 32.
        short_side: int. The shorter side of each photograph after resizing; at least
            `crop_size`. Defaults to 128.
        exclude: sequence of str. Photographs left out (a style image, say). Defaults to ().
    """
    import tensorflow as tf

    names = {"train": TRAIN_PHOTOGRAPHS, "test": TEST_PHOTOGRAPHS}
    if split not in names:
        raise ValueError(f"split={split!r} is not allowed: use 'train' or 'test'.")
    check_int("crop_size", crop_size)
    check_int("stride", stride)
    if check_int("short_side", short_side) < crop_size:
        raise ValueError(f"short_side={short_side} is not allowed: use at least crop_size "
                         f"({crop_size}).")
    images = np.concatenate([crops(resized_photograph(name, short_side), crop_size, stride)
                             for name in names[split] if name not in exclude])
    return tf.data.Dataset.from_tensor_slices((images, images))
