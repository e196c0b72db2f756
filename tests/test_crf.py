"""The fully connected CRF: mean-field against a pixel-by-pixel NumPy transcription of the update,
and what the CRF is for (an isolated wrong label of the same colour as its region is fixed,
lowering the energy)."""

import numpy as np
import pytest

from garden.tools import DenseCRF

RNG = np.random.default_rng(0)


def naive_mean_field(probabilities, image, crf, iterations):
    """Q_i(l) ∝ P_i(l) exp(-sum_{j != i} k(f_i, f_j) sum_{l' != l} Q_j(l')), pixel by pixel."""
    height, width, classes = probabilities.shape
    pixels = [(r, c) for r in range(height) for c in range(width)]

    def k(a, b):
        position = (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2
        color = float(np.sum((image[a] - image[b]) ** 2))
        return (crf.appearance_weight * np.exp(-position / (2 * crf.appearance_theta**2)
                                               - color / (2 * crf.color_theta**2))
                + crf.smoothness_weight * np.exp(-position / (2 * crf.smoothness_theta**2)))

    q = {p: probabilities[p] / probabilities[p].sum() for p in pixels}
    for _ in range(iterations):
        new = {}
        for i in pixels:
            energy = np.array([
                sum(k(i, j) * sum(q[j][other] for other in range(classes) if other != label)
                    for j in pixels if j != i)
                for label in range(classes)
            ])
            unnormalised = probabilities[i] * np.exp(-energy)
            new[i] = unnormalised / unnormalised.sum()
        q = new
    return np.array([[q[(r, c)] for c in range(width)] for r in range(height)])


def test_mean_field_equals_a_pixel_by_pixel_transcription():
    probabilities = RNG.dirichlet(np.ones(3), size=(4, 5))
    image = RNG.random((4, 5, 3))
    crf = DenseCRF(appearance_weight=2.0, appearance_theta=2.0, color_theta=0.3,
                   smoothness_weight=1.0, smoothness_theta=1.5)
    np.testing.assert_allclose(crf(probabilities, image, iterations=3),
                               naive_mean_field(probabilities, image, crf, 3), atol=1e-5)


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


def test_crf_fixes_isolated_errors_and_lowers_the_energy(noisy_square):
    image, truth, scores = noisy_square
    crf = DenseCRF(appearance_theta=5.0, color_theta=0.2)
    before = scores.argmax(-1)
    after = crf(scores, image, iterations=5).argmax(-1)
    assert (before != truth).sum() == 4
    np.testing.assert_array_equal(after, truth)
    assert crf.energy(after, scores, image) < crf.energy(before, scores, image)


def test_marginals_are_distributions_and_large_images_are_refused(noisy_square):
    image, _, scores = noisy_square
    q = DenseCRF()(scores, image)
    np.testing.assert_allclose(q.sum(-1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="max_pixels=100"):
        DenseCRF(max_pixels=100)(scores, image)
