"""The ring of 8 Gaussians: the 2-D mixture on which GANs' mode collapse is seen and counted.

Eight Gaussians of standard deviation 0.02 with means evenly spaced on a circle of radius 2
(Metz et al., "Unrolled Generative Adversarial Networks", 2017, Section 3.1; the benchmark of
VEEGAN and PacGAN). A generator that covers every mode puts samples near all eight means; a
collapsed one visits a few, or hops between them. `garden.tools.mode_coverage` counts the modes
and the share of samples near one.
"""

import numpy as np

from garden.data._registry import register_dataset
from garden.utils.checks import check_int, check_number

MODES = 8
RADIUS = 2.0
STD = 0.02
_SPLIT_SEEDS = {"train": 0, "test": 1}
_SPLIT_COUNTS = {"train": 10_000, "test": 2_500}


def ring_centers(modes=MODES, radius=RADIUS):
    """The means `(modes, 2)`: angles 0, 2 pi / modes, ... on the circle of `radius`."""
    modes = check_int("modes", modes)
    angles = 2 * np.pi * np.arange(modes) / modes
    return (check_number("radius", radius, minimum=0, inclusive=False)
            * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype("float32")


def sample_ring(count, modes=MODES, radius=RADIUS, std=STD, seed=0):
    """`count` points `(count, 2)` float32 from the ring mixture (equal weights) and the index
    of the mode each came from `(count,)` int64, fixed by `seed`."""
    count = check_int("count", count)
    std = check_number("std", std, minimum=0, inclusive=False)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, modes, count)
    points = ring_centers(modes, radius)[labels] + rng.normal(0.0, std, (count, 2))
    return points.astype("float32"), labels.astype("int64")


@register_dataset("ring_gaussians", num_classes=MODES, task="generation", shape=(2,))
def ring_gaussians(split="train", count=None, modes=MODES, radius=RADIUS, std=STD, seed=0):
    """The ring as a `tf.data.Dataset` of `(point, mode)` pairs (unbatched).

    Registered as `"ring_gaussians"`: `garden.data.load("ring_gaussians", batch_size=256)`.

    Args:
        split: str. "train" or "test"; each draws its own points.
        count: int. Number of points. Defaults to 10,000 for "train", 2,500 for "test".
        modes: int. Gaussians on the ring. Defaults to 8.
        radius: float. Radius of the ring. Defaults to 2.0.
        std: float. Standard deviation of each Gaussian. Defaults to 0.02.
        seed: int. Offsets the split's fixed seed. Defaults to 0.
    """
    import tensorflow as tf

    if split not in _SPLIT_SEEDS:
        raise ValueError(f"split={split!r} is not allowed: use one of {tuple(_SPLIT_SEEDS)}.")
    points, labels = sample_ring(count or _SPLIT_COUNTS[split], modes, radius, std,
                                 seed=(_SPLIT_SEEDS[split], seed))
    return tf.data.Dataset.from_tensor_slices((points, labels))
