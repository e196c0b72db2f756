"""A procedurally generated segmentation dataset: coloured shapes on textured backgrounds.

Every image holds one to `max_shapes` discs, rectangles and triangles of random size, position
and colour over a random smooth background with noise; the mask gives each pixel's class
(0 background, 1 disc, 2 rectangle, 3 triangle; later shapes cover earlier ones). Shapes are
brighter than the background, so finding them is easy, but their colours are drawn independently
of the class (only kept apart from what a shape covers), so telling a disc from a rectangle or a
triangle needs the context of the whole shape, not the colour of a pixel.
Generation is deterministic in `(split, index)`: the same call always gives the same data, and
the splits never share an image.
"""

import numpy as np

from garden.data._registry import register_dataset

CLASSES = ("background", "disc", "rectangle", "triangle")
BACKGROUND = (0.0, 0.45)  # range of the background's corner colours
FOREGROUND = (0.55, 1.0)  # range of the shapes' colours
MIN_CONTRAST = 0.15  # least mean colour difference between a shape and what it covers
_SPLIT_SEEDS = {"train": 0, "validation": 1, "test": 2}
_SPLIT_COUNTS = {"train": 1000, "validation": 100, "test": 100}


def _disc(rows, cols, rng, extent):
    centre = rng.uniform(0.15, 0.85, 2) * extent
    radius = rng.uniform(0.1, 0.25) * extent.min()
    return (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2


def _rectangle(rows, cols, rng, extent):
    top, left = rng.uniform(0.0, 0.7, 2) * extent
    height, width = rng.uniform(0.2, 0.45, 2) * extent.min()
    return (rows >= top) & (rows < top + height) & (cols >= left) & (cols < left + width)


def _triangle(rows, cols, rng, extent):
    centre = rng.uniform(0.2, 0.8, 2) * extent
    radius = rng.uniform(0.18, 0.35) * extent.min()
    angles = rng.uniform(0, 2 * np.pi) + np.array([0, 2 * np.pi / 3, 4 * np.pi / 3])
    corners = centre + radius * np.stack([np.sin(angles), np.cos(angles)], axis=-1)
    # Corners at increasing angles run counter-clockwise in (col, row), so every point inside
    # lies on the same side of the three edges.
    inside = np.ones(rows.shape, bool)
    for k in range(3):
        (r0, c0), (r1, c1) = corners[k], corners[(k + 1) % 3]
        inside &= (c1 - c0) * (rows - r0) - (r1 - r0) * (cols - c0) >= 0
    return inside


_DRAW = (_disc, _rectangle, _triangle)


def generate_shapes(count, image_size=(64, 64), max_shapes=3, noise=0.05, seed=0):
    """`count` images `(height, width, 3)` float32 in [0, 1] and masks `(height, width)` int32.

    Args:
        count: int. Number of images.
        image_size: (height, width). Defaults to (64, 64).
        max_shapes: int. Most shapes per image (at least one is drawn). Defaults to 3.
        noise: float. Standard deviation of the Gaussian pixel noise. Defaults to 0.05.
        seed: int. Seed of the generator. Defaults to 0.

    Returns:
        `(images, masks)` as NumPy arrays.
    """
    height, width = image_size
    extent = np.array([height, width], np.float64)
    rng = np.random.default_rng(seed)
    rows, cols = np.meshgrid(np.arange(height) + 0.5, np.arange(width) + 0.5, indexing="ij")
    images = np.empty((count, height, width, 3), np.float32)
    masks = np.zeros((count, height, width), np.int32)
    for index in range(count):
        corner_colors = rng.uniform(*BACKGROUND, (2, 2, 3))
        u, v = rows[..., None] / height, cols[..., None] / width
        image = ((1 - u) * (1 - v) * corner_colors[0, 0] + (1 - u) * v * corner_colors[0, 1]
                 + u * (1 - v) * corner_colors[1, 0] + u * v * corner_colors[1, 1])
        for _ in range(rng.integers(1, max_shapes + 1)):
            label = rng.integers(1, len(CLASSES))
            inside = _DRAW[label - 1](rows, cols, rng, extent)
            color = rng.uniform(*FOREGROUND, 3)
            while np.abs(color - image[inside].mean(axis=0)).mean() < MIN_CONTRAST:
                color = rng.uniform(*FOREGROUND, 3)
            image[inside] = color
            masks[index][inside] = label
        image += rng.normal(0, noise, image.shape)
        images[index] = np.clip(image, 0, 1)
    return images, masks


@register_dataset("shapes", num_classes=len(CLASSES), classes=CLASSES, task="segmentation")
def shapes(split="train", image_size=(64, 64), count=None, max_shapes=3, noise=0.05):
    """The shapes dataset as a `tf.data.Dataset` of `(image, mask)` pairs (unbatched).

    Registered as `"shapes"`: `garden.data.load("shapes", "test", batch_size=16)`.

    Args:
        split: str. "train", "validation" or "test"; each has its own images.
        image_size: (height, width). Defaults to (64, 64).
        count: int. Number of images. Defaults to 1,000 for "train" and 100 otherwise.
        max_shapes: int. Most shapes per image. Defaults to 3.
        noise: float. Standard deviation of the pixel noise. Defaults to 0.05.
    """
    import tensorflow as tf

    if split not in _SPLIT_SEEDS:
        raise ValueError(f"split={split!r} is not allowed: use one of {tuple(_SPLIT_SEEDS)}.")
    count = count or _SPLIT_COUNTS[split]
    images, masks = generate_shapes(count, tuple(image_size), max_shapes, noise,
                                    seed=_SPLIT_SEEDS[split])
    return tf.data.Dataset.from_tensor_slices((images, masks))
