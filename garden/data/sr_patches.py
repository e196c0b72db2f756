"""Super-resolution training pairs cut from scikit-image's bundled photographs.

As in SRCNN and ESPCN, the models work on the luminance (Y of YCbCr): each photograph is
converted to Y, cropped to a multiple of the scale, and downscaled by bicubic interpolation (with
anti-aliasing) to make the low-resolution image. SRCNN's input is that image upscaled back by
bicubic interpolation ("bicubic" input); ESPCN takes the low-resolution image itself. Training
patches are cut on a regular grid (the paper's sub-images: 33x33 with stride 14 for SRCNN,
17x17 low-resolution patches for ESPCN). The photographs are split into fixed training and test
sets, so evaluation is always on held-out images.
"""

import numpy as np

from garden.data._registry import register_dataset

# Natural photographs shipped inside scikit-image (no download).
TRAIN_PHOTOGRAPHS = ("astronaut", "coffee", "rocket", "hubble_deep_field",
                     "immunohistochemistry", "motorcycle")
TEST_PHOTOGRAPHS = ("camera", "chelsea", "coins", "moon")
INPUTS = ("bicubic", "low_resolution")


def photograph(name):
    """A bundled scikit-image photograph as RGB float32 in [0, 1], `(height, width, 3)`."""
    import skimage.color
    import skimage.data
    import skimage.util

    if name == "motorcycle":
        image = skimage.data.stereo_motorcycle()[0]
    else:
        image = getattr(skimage.data, name)()
    image = skimage.util.img_as_float32(image)
    return image if image.ndim == 3 else skimage.color.gray2rgb(image)


def luminance(name):
    """The Y channel (BT.601, `garden.metrics.rgb_to_y`) of a photograph, `(height, width)`."""
    from garden.metrics import rgb_to_y

    return np.asarray(rgb_to_y(photograph(name)))[..., 0]


def resize(image, shape):
    """Bicubic resize of a 2-D image, anti-aliased when shrinking."""
    import skimage.transform

    smaller = shape[0] < image.shape[0]
    return skimage.transform.resize(image, shape, order=3, anti_aliasing=smaller,
                                    mode="reflect").astype(np.float32)


def degrade(high, scale):
    """`(high, low, bicubic)`: `high` cropped to a multiple of `scale`, its bicubic
    downscaling, and that upscaled back by bicubic interpolation."""
    height, width = (np.array(high.shape[:2]) // scale) * scale
    high = high[:height, :width]
    low = resize(high, (height // scale, width // scale))
    return high, low, resize(low, (height, width))


def patch_pairs(images, scale=3, patch_size=33, stride=14, model_input="bicubic", crop=0):
    """Aligned training pairs from Y images, as `(inputs, targets)` float32 arrays.

    Args:
        images: sequence of 2-D arrays (high-resolution Y images).
        scale: int. Upscaling factor. Defaults to 3.
        patch_size: int. Input patch size. Defaults to 33.
        stride: int. Step between patches, in input pixels. Defaults to 14.
        model_input: "bicubic" (SRCNN: the bicubic upscaling; the target is the high-resolution
            patch at the same place) or "low_resolution" (ESPCN: the downscaled image; the
            target is `scale` times larger). Defaults to "bicubic".
        crop: int. Pixels removed from each side of the target, to match a valid-padding
            network's smaller output (6 for SRCNN 9-1-5). Defaults to 0.

    Returns:
        `inputs (n, patch_size, patch_size, 1)` and `targets (n, t, t, 1)`.
    """
    if model_input not in INPUTS:
        raise ValueError(f"model_input={model_input!r} is not allowed: use one of {INPUTS}.")
    target_scale = scale if model_input == "low_resolution" else 1
    inputs, targets = [], []
    for image in images:
        high, low, bicubic = degrade(image, scale)
        source = low if model_input == "low_resolution" else bicubic
        for top in range(0, source.shape[0] - patch_size + 1, stride):
            for left in range(0, source.shape[1] - patch_size + 1, stride):
                inputs.append(source[top:top + patch_size, left:left + patch_size])
                t, l, size = top * target_scale, left * target_scale, patch_size * target_scale
                targets.append(high[t + crop:t + size - crop, l + crop:l + size - crop])
    return np.stack(inputs)[..., None], np.stack(targets)[..., None]


@register_dataset("sr_patches", task="super-resolution", train=TRAIN_PHOTOGRAPHS,
                  test=TEST_PHOTOGRAPHS)
def sr_patches(split="train", scale=3, patch_size=33, stride=14, model_input="bicubic", crop=0,
               photographs=None):
    """Training pairs (or held-out pairs) as a `tf.data.Dataset` of `(input, target)` patches.

    Registered as `"sr_patches"`: `garden.data.load("sr_patches", "train", batch_size=64,
    model_input="low_resolution", patch_size=17)`.

    Args:
        split: str. "train" cuts patches from `TRAIN_PHOTOGRAPHS`, "test" from
            `TEST_PHOTOGRAPHS`.
        scale, patch_size, stride, model_input, crop: as for `patch_pairs`.
        photographs: sequence of str. Names replacing the split's photographs. Defaults to None.
    """
    import tensorflow as tf

    names = {"train": TRAIN_PHOTOGRAPHS, "test": TEST_PHOTOGRAPHS}
    if split not in names:
        raise ValueError(f"split={split!r} is not allowed: use 'train' or 'test'.")
    images = [luminance(name) for name in (photographs or names[split])]
    return tf.data.Dataset.from_tensor_slices(
        patch_pairs(images, scale, patch_size, stride, model_input, crop)
    )
