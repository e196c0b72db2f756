"""Generative diagnostics: the ring of 8 Gaussians, mode coverage, KID (unbiased MMD, cubic
kernel) against a direct computation, image grids and the SampleGrid callback."""

import numpy as np
import pytest
from PIL import Image

from garden import callbacks, data, models, tools
from garden.data.ring import ring_centers, sample_ring


def test_ring_has_eight_modes_on_radius_two():
    centers = ring_centers()
    assert centers.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 2.0, rtol=1e-6)
    np.testing.assert_allclose(centers[2], [0.0, 2.0], atol=1e-6)
    points, labels = sample_ring(4000, seed=0)
    np.testing.assert_allclose(points.mean(axis=0), 0.0, atol=0.1)
    spread = points - centers[labels]
    assert abs(spread.std() - 0.02) < 0.002
    np.testing.assert_array_equal(sample_ring(5, seed=1)[0], sample_ring(5, seed=1)[0])
    batch, modes = next(iter(data.load("ring_gaussians", batch_size=64)))
    assert batch.shape == (64, 2) and int(modes.numpy().max()) < 8
    test = np.concatenate([b.numpy() for b, _ in data.load("ring_gaussians", "test",
                                                            batch_size=500)])
    assert test.shape == (2500, 2)


def test_mode_coverage_of_the_data_a_collapse_and_noise():
    centers = ring_centers()
    points, labels = sample_ring(2500, seed=0)
    full = tools.mode_coverage(points, centers, std=0.02)
    assert full.covered == 8 and full.high_quality > 0.98
    assert sum(full.counts) == round(full.high_quality * 2500)
    collapsed = tools.mode_coverage(points[labels < 3], centers, std=0.02)
    assert collapsed.covered == 3 and collapsed.counts[5] == 0
    blurred = tools.mode_coverage(points + np.random.default_rng(0).normal(0, 0.5, points.shape),
                                  centers, std=0.02)
    assert blurred.high_quality < 0.05
    # A mode needs min_samples high-quality samples: 19 stray points do not cover one.
    stray = np.concatenate([points[labels == 0], np.repeat(centers[4:5], 19, axis=0)])
    assert tools.mode_coverage(stray, centers, std=0.02).covered == 1
    with pytest.raises(ValueError, match="use arrays"):
        tools.mode_coverage(points[:, 0], centers, std=0.02)


def mmd2_by_loops(x, y):
    """The unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, written out as sums over pairs."""
    d = x.shape[1]

    def k(a, b):
        return (np.dot(a, b) / d + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_unbiased_mmd_equals_the_direct_sums():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 5)), rng.normal(0.5, 1.2, size=(9, 5))
    np.testing.assert_allclose(tools.mmd2_unbiased(x, y), mmd2_by_loops(x, y), rtol=1e-10)
    np.testing.assert_allclose(tools.polynomial_kernel(x[:2], y[:3]),
                               (x[:2] @ y[:3].T / 5 + 1) ** 3)


def test_kid_is_zero_for_one_distribution_and_positive_for_noise():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(2000, 16))
    same = tools.kernel_inception_distance(real[:1000], real[1000:], subset_size=500)
    noise = tools.kernel_inception_distance(real[:1000], rng.uniform(-1, 1, (1000, 16)),
                                            subset_size=500)
    assert abs(same.mean) < 3 * same.std + 1e-3
    assert noise.mean > 10 * abs(same.mean) and noise.mean > 0.05
    assert (same.subsets, same.subset_size) == (10, 500)
    # Subsets of every example: the mean is the unbiased MMD^2 of the whole samples.
    whole = tools.kernel_inception_distance(real[:50], real[50:100], subsets=1, subset_size=50)
    np.testing.assert_allclose(whole.mean, mmd2_by_loops(real[:50], real[50:100]), rtol=1e-9)
    # A feature extractor is applied to the examples first.
    images = rng.random((40, 4, 4, 1))
    by_features = tools.kernel_inception_distance(images[:20], images[20:], subsets=1,
                                                  subset_size=20, features=lambda b: b * 2)
    np.testing.assert_allclose(
        by_features.mean,
        tools.mmd2_unbiased(2 * images[:20].reshape(20, -1), 2 * images[20:].reshape(20, -1)))


def test_image_grid_tiles_and_scales():
    images = np.stack([np.full((2, 3, 1), v) for v in (-1.0, 0.0, 1.0)])
    grid = tools.image_grid(images, columns=2, padding=1)
    assert grid.shape == (2 * 3 + 1, 2 * 4 + 1, 1)
    assert grid[1, 1, 0] == 0 and grid[1, 5, 0] == 128 and grid[4, 1, 0] == 255
    assert grid[0].max() == 0  # padding
    with pytest.raises(ValueError, match="not allowed"):
        tools.image_grid(np.zeros((2, 4, 4, 2)))


def test_sample_grid_writes_a_png_per_epoch_and_a_gif(tmp_path):
    gan = models.dcgan(latent_dim=4, data_shape=(8, 8, 1), filters=4, blocks=1, seed=0)
    gan.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)).astype("float32")
    grid = callbacks.SampleGrid(tmp_path, count=9, scale=3)
    gan.fit(images, batch_size=8, epochs=3, verbose=0, callbacks=[grid])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "epoch_000.png", "epoch_001.png", "epoch_002.png", "epoch_003.png", "samples.gif"]
    png = Image.open(tmp_path / "epoch_003.png")
    assert png.size == (3 * (3 * 9 + 1),) * 2
    gif = Image.open(tmp_path / "samples.gif")
    assert gif.n_frames == 4 and gif.size == (3 * 9 + 1,) * 2
    # The frames differ: the generator trained between them, from the same noise.
    assert not np.array_equal(grid.frames[0], grid.frames[-1])
    np.testing.assert_array_equal(
        grid.frames[-1], tools.image_grid(gan.generate(gan.noise(9, seed=0))))
