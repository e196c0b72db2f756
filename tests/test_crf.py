"""The fully connected CRF: the dense method against a pixel-by-pixel NumPy transcription of the
update, the permutohedral lattice against the exact Gaussian filter, the lattice method against
the dense one, and what the CRF is for (an isolated wrong label of the same colour as its region
is fixed, lowering the energy)."""

import numpy as np
import pytest

from garden.tools import DenseCRF
from garden.tools._lattice import PermutohedralLattice

RNG = np.random.default_rng(0)


def naive_kernel(image, crf):
    """`w1 K_a + w2 K_g`, entry by entry: each Gaussian over all pairs (j = i included) divided
    by `sqrt(D_i D_j)`, `D_i` its row sum (Krähenbühl's symmetric normalisation)."""
    height, width = image.shape[:2]
    pixels = [(r, c) for r in range(height) for c in range(width)]

    def gaussian(i, j, theta, color_theta=None):
        exponent = ((i[0] - j[0]) ** 2 + (i[1] - j[1]) ** 2) / (2 * theta**2)
        if color_theta is not None:
            exponent += float(np.sum((image[i] - image[j]) ** 2)) / (2 * color_theta**2)
        return np.exp(-exponent)

    total = 0.0
    for weight, args in ((crf.appearance_weight, (crf.appearance_theta, crf.color_theta)),
                         (crf.smoothness_weight, (crf.smoothness_theta,))):
        k = np.array([[gaussian(i, j, *args) for j in pixels] for i in pixels])
        d = k.sum(axis=1)
        total = total + weight * k / np.sqrt(d[:, None] * d[None, :])
    return total


def naive_mean_field(probabilities, image, crf, iterations):
    """Q_i(l) ∝ P_i(l) exp(-sum_j k_ij sum_{l' != l} Q_j(l')), pixel by pixel."""
    height, width, classes = probabilities.shape
    k = naive_kernel(image, crf)
    q = [p / p.sum() for p in probabilities.reshape(-1, classes)]
    for _ in range(iterations):
        new = []
        for i in range(len(q)):
            energy = np.array([
                sum(k[i, j] * sum(q[j][other] for other in range(classes) if other != label)
                    for j in range(len(q)))
                for label in range(classes)
            ])
            unnormalised = probabilities.reshape(-1, classes)[i] * np.exp(-energy)
            new.append(unnormalised / unnormalised.sum())
        q = new
    return np.array(q).reshape(height, width, classes)


def test_dense_mean_field_equals_a_pixel_by_pixel_transcription():
    probabilities = RNG.dirichlet(np.ones(3), size=(4, 5))
    image = RNG.random((4, 5, 3))
    crf = DenseCRF(appearance_weight=2.0, appearance_theta=2.0, color_theta=0.3,
                   smoothness_weight=1.0, smoothness_theta=1.5, method="dense")
    np.testing.assert_allclose(crf(probabilities, image, iterations=3),
                               naive_mean_field(probabilities, image, crf, 3), atol=1e-5)


def test_dense_energy_equals_the_sum_over_differently_labelled_pairs():
    probabilities = RNG.dirichlet(np.ones(3), size=(4, 5))
    image = RNG.random((4, 5, 3))
    labels = RNG.integers(0, 3, size=(4, 5))
    crf = DenseCRF(appearance_theta=2.0, color_theta=0.3, method="dense")
    flat = labels.ravel()
    pairwise = np.triu(naive_kernel(image, crf) * (flat[:, None] != flat[None, :]), k=1).sum()
    unary = -np.log(probabilities.reshape(-1, 3)[np.arange(flat.size), flat]).sum()
    assert crf.energy(labels, probabilities, image) == pytest.approx(unary + pairwise, rel=1e-5)


@pytest.mark.parametrize("scales, mean_bound, max_bound", [
    # measured: mean 0.0011, largest 0.0062 (2-D); mean 0.0040, largest 0.048 (5-D)
    ((8.0, 8.0), 0.002, 0.012),
    ((8.0, 8.0, 3.0, 3.0, 3.0), 0.006, 0.08),
])
def test_lattice_filter_approximates_the_exact_gaussian(scales, mean_bound, max_bound):
    """The normalised filter `sum_j g_ij v_j / sum_j g_ij` of 1,500 random points, against the
    exact Gaussian `g_ij = exp(-|f_i - f_j|^2 / 2)`. A unit-variance Gaussian 20% too narrow or
    too wide already misses these bounds."""
    rng = np.random.default_rng(1)
    features = rng.random((1500, len(scales))) * scales
    values = rng.random((1500, 3))
    lattice = PermutohedralLattice(features)
    approx = lattice(values) / lattice(np.ones((1500, 1)))
    squared = ((features[:, None] - features[None]) ** 2).sum(-1)
    for sigma, should_pass in ((1.0, True), (0.8, False), (1.25, False)):
        gaussian = np.exp(-squared / (2 * sigma**2))
        error = np.abs(approx - gaussian @ values / gaussian.sum(1, keepdims=True))
        assert (error.mean() < mean_bound and error.max() < max_bound) == should_pass, sigma


def three_regions(size, seed):
    """A background, a rectangle and a disc of different colours (with pixel noise), and scores
    of the true class so noisy that the argmax is wrong on about 15% of pixels."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    truth = np.zeros((size, size), int)
    truth[size // 4:3 * size // 4, size // 5:size // 2] = 1
    truth[(rows - 0.6 * size) ** 2 + (cols - 0.7 * size) ** 2 < (size / 5) ** 2] = 2
    colors = np.array([[0.1, 0.2, 0.3], [0.8, 0.3, 0.2], [0.2, 0.9, 0.4]])
    image = np.clip(colors[truth] + rng.normal(0, 0.05, (size, size, 3)), 0, 1)
    logits = 3.0 * np.eye(3)[truth] + rng.normal(0, 1.5, (size, size, 3))
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return image, truth, probabilities


@pytest.mark.parametrize("size", [24, 40])
@pytest.mark.parametrize("appearance_theta", [5.0, 20.0])
def test_lattice_labels_equal_the_dense_ones(size, appearance_theta):
    image, truth, probabilities = three_regions(size, seed=size)
    kwargs = {"appearance_theta": appearance_theta}
    lattice = DenseCRF(**kwargs)(probabilities, image, iterations=10)
    dense = DenseCRF(method="dense", **kwargs)(probabilities, image, iterations=10)
    before = probabilities.argmax(-1)
    assert (before != dense.argmax(-1)).mean() > 0.1  # the CRF changes many labels ...
    assert (lattice.argmax(-1) == dense.argmax(-1)).mean() >= 0.99  # ... the same way
    np.testing.assert_array_less(np.abs(lattice - dense), 0.1)
    assert (dense.argmax(-1) == truth).mean() > (before == truth).mean() + 0.1


def test_a_321x321_image_with_21_labels():
    image, _, _ = three_regions(321, seed=2)
    probabilities = np.random.default_rng(2).random((321, 321, 21), dtype=np.float32)
    probabilities /= probabilities.sum(-1, keepdims=True)
    marginals = DenseCRF()(probabilities, image, iterations=2)
    assert marginals.shape == (321, 321, 21)
    np.testing.assert_allclose(marginals.sum(-1), 1.0, rtol=1e-5)


@pytest.fixture(scope="module")
def noisy_square():
    """A bright square on a dark background, with scores that mislabel a few pixels."""
    image = np.zeros((16, 16, 3))
    image[4:12, 4:12] = 1.0
    truth = (image[..., 0] > 0.5).astype(int)
    scores = np.where(truth[..., None] == np.arange(2), 0.7, 0.3)
    flipped = [(1, 1), (6, 6), (8, 10), (14, 3)]
    for r, c in flipped:
        scores[r, c] = scores[r, c, ::-1]
    return image, truth, scores


@pytest.mark.parametrize("method", ["lattice", "dense"])
def test_crf_fixes_isolated_errors_and_lowers_the_energy(noisy_square, method):
    image, truth, scores = noisy_square
    crf = DenseCRF(appearance_theta=5.0, color_theta=0.2, method=method)
    before = scores.argmax(-1)
    after = crf(scores, image, iterations=5).argmax(-1)
    assert (before != truth).sum() == 4
    np.testing.assert_array_equal(after, truth)
    assert crf.energy(after, scores, image) < crf.energy(before, scores, image)


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "fft"}, "method='fft' is not allowed: use one of 'lattice', 'dense'"),
    ({"appearance_theta": 0.0}, r"appearance_theta=0.0 is not allowed: use a number in \(0"),
    ({"color_theta": -1.0}, "color_theta=-1.0 is not allowed"),
    ({"smoothness_weight": "3"}, "smoothness_weight='3' is not allowed"),
    ({"max_pixels": 0}, "max_pixels=0 is not allowed"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DenseCRF(**kwargs)


def test_bad_inputs_are_refused(noisy_square):
    image, _, scores = noisy_square
    with pytest.raises(ValueError, match="max_pixels=100 pixels, or method='lattice'"):
        DenseCRF(method="dense", max_pixels=100)(scores, image)
    with pytest.raises(ValueError, match=r"shape \(16, 16, 2\) and an image of shape \(8, 8, 3\)"):
        DenseCRF()(scores, image[:8, :8])
    with pytest.raises(ValueError, match="iterations=-1 is not allowed"):
        DenseCRF()(scores, image, iterations=-1)
    with pytest.raises(ValueError, match=r"use integers in \[0, 2\) of shape \(16, 16\)"):
        DenseCRF().energy(np.full((16, 16), 2), scores, image)
