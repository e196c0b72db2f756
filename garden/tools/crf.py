"""Fully connected CRF post-processing of segmentation scores, by mean-field inference.

References:
    Krähenbühl and Koltun, "Efficient Inference in Fully Connected CRFs with Gaussian Edge
    Potentials", NeurIPS 2011. https://arxiv.org/abs/1210.5644
    Chen et al., "DeepLab: Semantic Image Segmentation with Deep Convolutional Nets, Atrous
    Convolution, and Fully Connected CRFs", TPAMI 2017 (Section 3.3).
    https://arxiv.org/abs/1606.00915

The CRF of DeepLab (Eq. 2-3) has the energy

    E(x) = sum_i -log P(x_i) + sum_{i<j} [x_i != x_j] k(f_i, f_j)
    k(f_i, f_j) = w1 exp(-|p_i - p_j|^2 / 2 theta_a^2 - |I_i - I_j|^2 / 2 theta_b^2)
                + w2 exp(-|p_i - p_j|^2 / 2 theta_g^2)

over every pair of pixels (positions p, colours I): an appearance kernel (nearby pixels of
similar colour take the same label) and a smoothness kernel. The mean-field approximation
`Q(x) = prod_i Q_i(x_i)` is updated in parallel:

    Q_i(l) ∝ P_i(l) exp(-sum_{l' != l} sum_{j != i} k(f_i, f_j) Q_j(l'))

Limits: this is the straightforward implementation, the dense N x N kernel of an image of N
pixels, so memory and time grow as N^2 (a 64x64 image needs a 64 MiB kernel and a few times that
while building it; larger images are refused above `max_pixels`). Krähenbühl and Koltun's permutohedral-lattice filtering, which
makes each iteration linear in N, is not implemented. NumPy, CPU only; one image at a time.
"""

import dataclasses

import numpy as np


def _softmax(logits):
    logits = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=-1, keepdims=True)


@dataclasses.dataclass(frozen=True)
class DenseCRF:
    """A fully connected CRF with Potts compatibility and DeepLab's two Gaussian kernels.

    Calling it refines per-pixel class probabilities by mean-field inference; `energy` scores a
    labelling.

    Args:
        appearance_weight: float. `w1`, weight of the appearance kernel. Defaults to 4.0.
        appearance_theta: float. `theta_a`, its spatial scale in pixels. Defaults to 20.0.
        color_theta: float. `theta_b`, its colour scale, in image units. Defaults to 0.1 (for
            images in [0, 1]).
        smoothness_weight: float. `w2`, weight of the smoothness kernel. Defaults to 3.0.
        smoothness_theta: float. `theta_g`, its spatial scale in pixels. Defaults to 3.0.
        max_pixels: int. Largest image accepted (the kernel has `(height*width)^2` entries).
            Defaults to 4,096 (64x64).

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
    max_pixels: int = 64 * 64

    def kernel(self, image):
        """The `(N, N)` matrix of `k(f_i, f_j)` for the N pixels of `image`, zero diagonal.

        Spatial Gaussians on a pixel grid factor into rows and columns, `exp(-|p_i - p_j|^2 /
        2 theta^2) = g(r_i - r_j) g(c_i - c_j)`, so they are Kronecker products of small
        matrices; only the colour term needs an exponential per pair.
        """
        height, width = image.shape[:2]
        if height * width > self.max_pixels:
            raise ValueError(
                f"image of {height}x{width} pixels is not allowed: the dense kernel needs "
                f"(height*width)^2 entries; use at most max_pixels={self.max_pixels} pixels."
            )

        def spatial(theta):
            rows, cols = (np.arange(n, dtype=np.float32) for n in (height, width))
            g_rows = np.exp(-((rows[:, None] - rows) ** 2) / (2 * theta**2))
            g_cols = np.exp(-((cols[:, None] - cols) ** 2) / (2 * theta**2))
            return np.kron(g_rows, g_cols)

        colors = np.asarray(image, np.float32).reshape(height * width, -1)
        kernel = np.zeros((height * width,) * 2, np.float32)  # |I_i - I_j|^2, channel by channel
        for channel in colors.T:
            difference = channel[:, None] - channel[None, :]
            kernel += difference * difference
        kernel *= -1.0 / (2 * self.color_theta**2)
        np.exp(kernel, out=kernel)
        kernel *= spatial(self.appearance_theta)
        kernel *= self.appearance_weight
        kernel += self.smoothness_weight * spatial(self.smoothness_theta)
        np.fill_diagonal(kernel, 0.0)
        return kernel

    def __call__(self, probabilities, image, iterations=5):
        """The mean-field marginals `Q`, `(height, width, classes)`, after `iterations`
        parallel updates (DeepLab uses 10) from the unary `-log probabilities`."""
        probabilities = np.asarray(probabilities, np.float32)
        height, width, classes = probabilities.shape
        kernel = self.kernel(image)
        unary = -np.log(np.clip(probabilities.reshape(-1, classes), 1e-8, 1.0))
        marginals = _softmax(-unary)
        for _ in range(iterations):
            message = kernel @ marginals  # sum_j k_ij Q_j(l)
            pairwise = message.sum(axis=-1, keepdims=True) - message  # Potts: other labels
            marginals = _softmax(-unary - pairwise)
        return marginals.reshape(height, width, classes)

    def energy(self, labels, probabilities, image):
        """`E(x)` of a labelling `(height, width)`: the unary terms plus `k(f_i, f_j)` for every
        pair of differently labelled pixels."""
        probabilities = np.asarray(probabilities, np.float32)
        labels = np.asarray(labels).ravel()
        unary = -np.log(np.clip(probabilities.reshape(labels.size, -1), 1e-8, 1.0))
        different = labels[:, None] != labels[None, :]
        pairwise = 0.5 * np.sum(self.kernel(image) * different)
        return float(unary[np.arange(labels.size), labels].sum() + pairwise)
