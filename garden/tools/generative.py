"""Diagnostics for generative models: mode coverage on a known mixture, the kernel inception
distance, and sample grids.

References:
    Creswell et al., "Generative Adversarial Networks: An Overview", IEEE Signal Processing
    Magazine 2018 (mode collapse, Section VI; evaluation): https://arxiv.org/abs/1710.07035
    Metz et al., "Unrolled Generative Adversarial Networks", ICLR 2017 (the ring of Gaussians).
    Srivastava et al., "VEEGAN", NeurIPS 2017 (high-quality samples: within three standard
    deviations of a mode). https://arxiv.org/abs/1705.07761
    Binkowski, Sutherland, Arbel and Gretton, "Demystifying MMD GANs", ICLR 2018 (KID).
    https://arxiv.org/abs/1801.01401
"""

import dataclasses

import numpy as np

from garden.utils.checks import check_int, check_number
from garden.utils.files import atomic_path


@dataclasses.dataclass(frozen=True)
class ModeCoverage:
    """How a sample covers a mixture's modes.

    Attributes:
        modes: int. Number of modes of the mixture.
        covered: int. Modes with at least `min_samples` high-quality samples.
        high_quality: float. Share of samples within `threshold` standard deviations of their
            nearest mode.
        counts: tuple of int. High-quality samples per mode.
    """

    modes: int
    covered: int
    high_quality: float
    counts: tuple

    def as_dict(self):
        return {"modes_covered": self.covered, "high_quality": self.high_quality}


def mode_coverage(samples, centers, std, threshold=3.0, min_samples=20):
    """Counts the modes a sample covers and its share of high-quality samples.

    A sample is high quality when it lies within `threshold` standard deviations of its
    nearest mode (VEEGAN's rule); a mode is covered when at least `min_samples` high-quality
    samples are nearest to it, so that a few stray points do not count as capturing it.

    Args:
        samples: array `(count, dims)`. Generated points.
        centers: array `(modes, dims)`. The mixture's means.
        std: float. The modes' standard deviation.
        threshold: float. Distance, in standard deviations, of a high-quality sample. Defaults
            to 3.0.
        min_samples: int. High-quality samples that make a mode covered. Defaults to 20.

    Returns:
        A `ModeCoverage`.

    Example:
    >>> from garden.data.ring import ring_centers, sample_ring
    >>> points, _ = sample_ring(2500)
    >>> mode_coverage(points, ring_centers(), std=0.02).covered
    8
    """
    samples, centers = np.asarray(samples, "float64"), np.asarray(centers, "float64")
    if samples.ndim != 2 or centers.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(f"samples {samples.shape} and centers {centers.shape} are not allowed: "
                         "use arrays (count, dims) and (modes, dims).")
    std = check_number("std", std, minimum=0, inclusive=False)
    threshold = check_number("threshold", threshold, minimum=0, inclusive=False)
    min_samples = check_int("min_samples", min_samples)
    distances = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(samples)), nearest] <= threshold * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    return ModeCoverage(
        modes=len(centers),
        covered=int(np.sum(counts >= min_samples)),
        high_quality=float(good.mean()) if len(samples) else 0.0,
        counts=tuple(int(c) for c in counts),
    )


def polynomial_kernel(x, y, degree=3, gamma=None, coef=1.0):
    """k(x, y) = (gamma x.y + coef)^degree for the rows of `x` and `y`; gamma defaults to
    1 / dims (KID's cubic kernel)."""
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (gamma * x @ y.T + coef) ** degree


def mmd2_unbiased(x, y, kernel=polynomial_kernel):
    """The unbiased estimate of the squared MMD between the samples `x` (m rows) and `y`
    (n rows): mean k(x_i, x_j) over i != j, plus the same for y, minus twice mean k(x_i, y_j)."""
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"samples of {m} and {n} rows are not allowed: use at least 2 each.")
    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    return ((k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
            + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1)) - 2 * k_xy.mean())


@dataclasses.dataclass(frozen=True)
class KID:
    """The kernel inception distance: mean and standard deviation over subsets."""

    mean: float
    std: float
    subsets: int
    subset_size: int


def kernel_inception_distance(real, fake, features=None, subsets=10, subset_size=1000,
                              seed=0, batch_size=256):
    """KID (Binkowski et al. 2018): the unbiased squared MMD with the cubic polynomial kernel
    (x.y / d + 1)^3 between features of real and generated examples, averaged over random
    subsets.

    With Inception-v3's pool features it is the paper's KID; offline, any feature extractor
    fits (garden's recipes use a digits classifier's penultimate layer), or the raw examples.
    Unlike FID it is unbiased, so it compares across sample sizes, and it is ~0 for two samples
    of one distribution (it can be slightly negative).

    Args:
        real: array of real examples (or features, without `features`).
        fake: array of generated examples, likewise.
        features: None, a callable or a `keras.Model` mapping a batch of examples to features
            `(batch, dims)`. Defaults to None (the arrays, flattened, are the features).
        subsets: int. Random subsets averaged. Defaults to 10.
        subset_size: int. Examples per subset, at most the smaller sample. Defaults to 1000.
        seed: int. Seed of the subsets. Defaults to 0.
        batch_size: int. Batch size of the feature extractor. Defaults to 256.

    Returns:
        A `KID` with `mean` and `std` over the subsets.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> same = kernel_inception_distance(rng.normal(size=(500, 8)), rng.normal(size=(500, 8)))
    >>> other = kernel_inception_distance(rng.normal(size=(500, 8)), rng.uniform(size=(500, 8)))
    >>> abs(same.mean) < 0.02 < other.mean
    True
    """
    subsets = check_int("subsets", subsets)
    subset_size = check_int("subset_size", subset_size, minimum=2)
    real_features, fake_features = (_features(a, features, batch_size) for a in (real, fake))
    size = min(subset_size, len(real_features), len(fake_features))
    rng = np.random.default_rng(seed)
    values = [
        mmd2_unbiased(real_features[rng.choice(len(real_features), size, replace=False)],
                      fake_features[rng.choice(len(fake_features), size, replace=False)])
        for _ in range(subsets)
    ]
    return KID(float(np.mean(values)), float(np.std(values)), subsets, size)


def _features(examples, features, batch_size):
    examples = np.asarray(examples)
    if features is None:
        out = examples
    elif hasattr(features, "predict"):
        out = features.predict(examples.astype("float32"), batch_size=batch_size, verbose=0)
    else:
        out = np.concatenate([np.asarray(features(examples[i:i + batch_size]))
                              for i in range(0, len(examples), batch_size)])
    return np.asarray(out, "float64").reshape(len(examples), -1)


def image_grid(images, columns=None, value_range=(-1.0, 1.0), padding=1):
    """Images `(count, height, width[, channels])` tiled into one `(H, W, channels)` uint8 array,
    `columns` per row (default: a square), values mapped from `value_range` to 0-255, with
    `padding` pixels of black between tiles."""
    images = np.asarray(images, "float32")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images of shape {images.shape} are not allowed: use (count, height, "
                         "width) or (count, height, width, 1 or 3).")
    count, height, width, channels = images.shape
    columns = columns or int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    low, high = value_range
    pixels = np.clip((images - low) / (high - low), 0, 1)
    grid = np.zeros((rows * (height + padding) + padding, columns * (width + padding) + padding,
                     channels), "float32")
    for index, image in enumerate(pixels):
        r, c = divmod(index, columns)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        grid[top:top + height, left:left + width] = image
    return np.round(grid * 255).astype("uint8")


def _pil(grid, scale):
    from PIL import Image

    image = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    return image


def save_grid(grid, path, scale=1):
    """Writes a `image_grid` array as a PNG (atomically), enlarged `scale` times."""
    with atomic_path(path) as tmp:
        _pil(grid, scale).save(tmp, format="PNG")
    return path


def save_gif(grids, path, duration=300, scale=1):
    """Writes `image_grid` arrays as the frames of an animated GIF (atomically), `duration`
    milliseconds each, looping."""
    frames = [_pil(grid, scale) for grid in grids]
    if not frames:
        raise ValueError("no frames to write")
    with atomic_path(path) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:],
                       duration=duration, loop=0)
    return path
