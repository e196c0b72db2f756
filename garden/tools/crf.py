"""Fully connected CRF post-processing of segmentation scores, by mean-field inference.

References:
    Krähenbühl and Koltun, "Efficient Inference in Fully Connected CRFs with Gaussian Edge
    Potentials", NeurIPS 2011. https://arxiv.org/abs/1210.5644
    Chen et al., "DeepLab: Semantic Image Segmentation with Deep Convolutional Nets, Atrous
    Convolution, and Fully Connected CRFs", TPAMI 2017 (Section 3.3).
    https://arxiv.org/abs/1606.00915
    Adams, Baek and Davis, "Fast High-Dimensional Filtering Using the Permutohedral Lattice",
    Eurographics 2010.

The CRF of DeepLab (Eq. 2-3) has the energy

    E(x) = sum_i -log P(x_i) + sum_{i<j} [x_i != x_j] (w1 K_a(i, j) + w2 K_g(i, j))
    k_a(f_i, f_j) = exp(-|p_i - p_j|^2 / 2 theta_a^2 - |I_i - I_j|^2 / 2 theta_b^2)
    k_g(f_i, f_j) = exp(-|p_i - p_j|^2 / 2 theta_g^2)

over every pair of pixels (positions p, colours I): an appearance kernel (nearby pixels of
similar colour take the same label) and a smoothness kernel. As in Krähenbühl's code (densecrf,
the implementation DeepLab used), each Gaussian k is normalised symmetrically into
`K = D^-1/2 k D^-1/2` with `D_i = sum_j k(f_i, f_j)`, so `w1` and `w2` weigh an average of the
neighbours' labels rather than a sum that grows with the kernel's size; the sums include
`j = i`, as there. The mean-field approximation `Q(x) = prod_i Q_i(x_i)` is
updated in parallel (Potts compatibility):

    Q_i(l) ∝ P_i(l) exp(-sum_{l' != l} sum_j (w1 K_a(i, j) + w2 K_g(i, j)) Q_j(l'))

Two ways to compute the sums over j, by `method`:
- "lattice" (default): linear in the number of pixels, as Krähenbühl and Koltun 2011. Each kernel
  is filtered on the permutohedral lattice (Adams et al. 2010) of its features, (x/theta_a,
  y/theta_a, I/theta_b) (5-D for RGB) and (x/theta_g, y/theta_g), built once per image and
  applied to all labels at once in each iteration. The lattice approximates the Gaussian: a
  normalised filter of values in [0, 1] is off by 0.004 on average and 0.05 at most in 5-D
  (tests/test_crf.py). An exact separable Gaussian (scipy.ndimage, truncated at 5 theta_g) for
  the smoothness kernel was measured slower, about 60 ms against the lattice's 10 ms for 21
  labels at 321x321, so both kernels use the lattice. 10 iterations on a 321x321 RGB image with 21
  labels take about a second on one CPU core. On three such photographs with noisy scores the
  labels equal those of Krähenbühl's C++ code (pydensecrf2) on every pixel; at 64x64 they equal
  the dense method's on 97.6-99.1% of pixels (benchmarks/crf.py).
- "dense": the exact N x N kernels, the reference for small images. Memory and time grow as N^2
  (a 64x64 image needs two 64 MiB kernels), so images above `max_pixels` are refused.

Limits: NumPy, CPU only; one image at a time.
"""

import dataclasses

import numpy as np

from garden.tools._lattice import PermutohedralLattice
from garden.utils.checks import check_choice, check_int, check_number

METHODS = ("lattice", "dense")


def _softmax(logits):
    """The softmax over the last axis, computed in `logits`' memory (it is overwritten)."""
    logits -= logits.max(axis=-1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=-1, keepdims=True)
    return logits


def _normalized(kernel, pixels):
    """`v -> D^-1/2 kernel(D^-1/2 v)`, `D = kernel(1)`: Krähenbühl's NORMALIZE_SYMMETRIC."""
    scale = 1.0 / np.sqrt(kernel(np.ones((pixels, 1), np.float32)) + 1e-20)
    return lambda values: scale * kernel(scale * values)


def _gaussian(squared_distances, theta):
    return np.exp(squared_distances * np.float32(-0.5 / theta**2))


@dataclasses.dataclass(frozen=True)
class DenseCRF:
    """A fully connected CRF with Potts compatibility and DeepLab's two Gaussian kernels.

    Calling it refines per-pixel class probabilities by mean-field inference; `energy` scores a
    labelling. Both normalise the kernels as Krähenbühl's code does (module docstring).

    Args:
        appearance_weight: float. `w1`, weight of the appearance kernel. Defaults to 4.0.
        appearance_theta: float. `theta_a`, its spatial scale in pixels. Defaults to 20.0.
        color_theta: float. `theta_b`, its colour scale, in image units. Defaults to 0.1 (for
            images in [0, 1]; 25.5 for images in [0, 255]).
        smoothness_weight: float. `w2`, weight of the smoothness kernel. Defaults to 3.0.
        smoothness_theta: float. `theta_g`, its spatial scale in pixels. Defaults to 3.0.
        method: str. "lattice" (linear time, approximate Gaussians) or "dense" (the exact
            N x N kernels, for small images). Defaults to "lattice".
        max_pixels: int. Largest image the dense method accepts (each kernel has
            `(height*width)^2` entries). Defaults to 4,096 (64x64).

    Example:
    >>> probs = np.stack([np.full((8, 8), 0.6), np.full((8, 8), 0.4)], axis=-1)
    >>> DenseCRF()(probs, np.zeros((8, 8, 1))).argmax(-1).max()
    np.int64(0)
    """

    appearance_weight: float = 4.0
    appearance_theta: float = 20.0
    color_theta: float = 0.1
    smoothness_weight: float = 3.0
    smoothness_theta: float = 3.0
    method: str = "lattice"
    max_pixels: int = 64 * 64

    def __post_init__(self):
        for name in ("appearance_weight", "smoothness_weight"):
            check_number(name, getattr(self, name), minimum=0)
        for name in ("appearance_theta", "color_theta", "smoothness_theta"):
            check_number(name, getattr(self, name), minimum=0, inclusive=(False, True))
        check_choice("method", self.method, METHODS)
        check_int("max_pixels", self.max_pixels)

    def __call__(self, probabilities, image, iterations=5):
        """The mean-field marginals `Q`, `(height, width, classes)`, after `iterations`
        parallel updates (DeepLab uses 10) from the unary `-log probabilities`."""
        iterations = check_int("iterations", iterations, minimum=0)
        unary, image = self._unary(probabilities, image)
        message = self._message(image)
        marginals = _softmax(-unary)
        for _ in range(iterations):
            # Potts: the sum over the other labels l' is message(1) - message(Q)(l), and
            # message(1) is the same for every label, so it cancels in the softmax.
            marginals = _softmax(-unary + message(marginals))
        return marginals.reshape(image.shape[:2] + (unary.shape[1],))

    def energy(self, labels, probabilities, image):
        """`E(x)` of a labelling `(height, width)`: the unary terms plus `w1 K_a + w2 K_g` for
        every pair of differently labelled pixels (with the lattice method, approximately)."""
        unary, image = self._unary(probabilities, image)
        labels = np.asarray(labels)
        if labels.shape != image.shape[:2] or not np.issubdtype(labels.dtype, np.integer) or (
                labels.size and not 0 <= labels.min() <= labels.max() < unary.shape[1]):
            raise ValueError(f"labels of shape {labels.shape} and dtype {labels.dtype} are not "
                             f"allowed: use integers in [0, {unary.shape[1]}) of shape "
                             f"{image.shape[:2]}.")
        onehot = np.eye(unary.shape[1], dtype=np.float32)[labels.ravel()]
        pairwise = 0.5 * np.sum(onehot * self._message(image)(1.0 - onehot))
        return float(unary[np.arange(labels.size), labels.ravel()].sum() + pairwise)

    def _unary(self, probabilities, image):
        """`-log P` as `(pixels, classes)`, and the image as float32 `(height, width, channels)`,
        after checking their shapes."""
        probabilities = np.asarray(probabilities, np.float32)
        image = np.asarray(image, np.float32)
        if probabilities.ndim != 3 or image.ndim != 3 or image.shape[:2] != probabilities.shape[:2]:
            raise ValueError(f"probabilities of shape {probabilities.shape} and an image of shape "
                             f"{image.shape} are not allowed: use (height, width, classes) and "
                             "(height, width, channels) with the same height and width.")
        classes = probabilities.shape[-1]
        return -np.log(np.clip(probabilities.reshape(-1, classes), 1e-8, 1.0)), image

    def _message(self, image):
        """`Q -> sum_j (w1 K_a(i, j) + w2 K_g(i, j)) Q_j` on `(pixels, classes)` arrays, with
        what does not depend on `Q` (lattice or dense kernels, normalisation) computed once."""
        height, width = image.shape[:2]
        rows, cols = np.mgrid[:height, :width].astype(np.float32)
        positions = np.stack([cols.ravel(), rows.ravel()], axis=-1)  # (x, y) as densecrf
        colors = image.reshape(height * width, -1)
        if self.method == "dense" and height * width > self.max_pixels:
            raise ValueError(
                f"an image of {height}x{width} pixels is not allowed with method='dense': "
                "its kernels need (height*width)^2 entries; use at most "
                f"max_pixels={self.max_pixels} pixels, or method='lattice'.")
        kernels = self._lattice_kernels if self.method == "lattice" else self._dense_kernels
        appearance, smoothness = (_normalized(kernel, height * width)
                                  for kernel in kernels(positions, colors))
        return lambda values: (self.appearance_weight * appearance(values)
                               + self.smoothness_weight * smoothness(values))

    def _lattice_kernels(self, positions, colors):
        """The unnormalised appearance and smoothness filters, each on its lattice."""
        appearance = PermutohedralLattice(np.concatenate(
            [positions / self.appearance_theta, colors / self.color_theta], axis=-1))
        return appearance, PermutohedralLattice(positions / self.smoothness_theta)

    def _dense_kernels(self, positions, colors):
        """The unnormalised appearance and smoothness filters as N x N matrix products."""
        distances = np.zeros((len(positions),) * 2, np.float32)  # |p_i - p_j|^2
        for coordinate in positions.T:
            distances += (coordinate[:, None] - coordinate[None, :]) ** 2
        smoothness = _gaussian(distances, self.smoothness_theta)
        appearance = _gaussian(distances, self.appearance_theta)
        del distances
        for channel in colors.T:
            appearance *= _gaussian((channel[:, None] - channel[None, :]) ** 2, self.color_theta)
        return appearance.__matmul__, smoothness.__matmul__
