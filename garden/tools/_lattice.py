"""Gaussian filtering in d dimensions in linear time, on the permutohedral lattice.

Reference:
    Adams, Baek and Davis, "Fast High-Dimensional Filtering Using the Permutohedral Lattice",
    Eurographics 2010. https://doi.org/10.1111/j.1467-8659.2009.01645.x

The filter `out_i = sum_j exp(-|f_i - f_j|^2 / 2) v_j` of N points with d-dimensional features
is approximated in three steps: *splat* each value onto the d + 1 vertices of the lattice simplex
enclosing its point (barycentric weights), *blur* the lattice with the kernel [1 2 1] / 4 along
each of its d + 1 directions, and *slice* back with the same weights. Features are scaled as in
Krähenbühl's `permutohedral.cpp` (the densecrf code of Krähenbühl and Koltun 2011), which makes
the blur's Gaussian one of unit standard deviation. The result is that Gaussian sum times a
constant of order one (how close depends on d and on how the points fall in the lattice); its
users divide it out by normalising.
"""

import numpy as np
from scipy import sparse


def _elevation(d):
    """The `(d, d + 1)` matrix that maps features onto the lattice's hyperplane `x . 1 = 0`,
    scaled so that the lattice blur has unit standard deviation (Adams et al., Sec. 3.1)."""
    scale = np.sqrt(2.0 / 3.0) * (d + 1) / np.sqrt(np.arange(1, d + 1) * np.arange(2, d + 2))
    matrix = np.tril(np.ones((d, d + 1)))  # feature k adds to coordinates 0..k
    matrix[np.arange(d), np.arange(1, d + 1)] = -np.arange(1, d + 1)  # and -(k+1) to k+1
    return scale[:, None] * matrix


class PermutohedralLattice:
    """The lattice of one set of points, built once and applied to any number of channels.

    Args:
        features: array `(N, d)`. The points, already divided by the Gaussian's scales.

    Call arguments:
        values: array `(N, channels)`. Returns the filtered `(N, channels)`, float32.
    """

    def __init__(self, features):
        features = np.asarray(features, np.float64)
        points, d = features.shape
        elevated = features @ _elevation(d)

        # The nearest lattice point whose coordinates are multiples of d + 1 (ties go down).
        up = np.ceil(elevated / (d + 1)) * (d + 1)
        down = np.floor(elevated / (d + 1)) * (d + 1)
        remainder0 = np.where(up - elevated < elevated - down, up, down)
        # Rank of each coordinate of the offset, largest first (ties: earlier coordinate first);
        # the coordinates' sum says how far the rounding left the hyperplane, which is undone.
        offset = elevated - remainder0
        rank = np.empty((points, d + 1), np.int64)
        np.put_along_axis(rank, np.argsort(-offset, axis=1, kind="stable"),
                          np.arange(d + 1)[None, :], axis=1)
        rank += np.rint(remainder0.sum(axis=1) / (d + 1)).astype(np.int64)[:, None]
        wrap = (d + 1) * ((rank < 0).astype(np.int64) - (rank > d))
        rank += wrap
        remainder0 += wrap

        # Barycentric weights of the d + 1 vertices of the enclosing simplex.
        rows = np.arange(points)[:, None]
        delta = (elevated - remainder0) / (d + 1)
        barycentric = np.zeros((points, d + 2))
        barycentric[rows, d - rank] += delta
        barycentric[rows, d - rank + 1] -= delta
        barycentric[:, 0] += 1.0 + barycentric[:, d + 1]
        weights = barycentric[:, :d + 1]

        # Vertex k of the simplex: remainder0 plus the canonical simplex's k-th vertex, whose
        # coordinate of rank r is k, or k - (d + 1) when r > d - k. The last coordinate is
        # minus the sum of the others, so d coordinates name a vertex.
        k = np.arange(d + 1)[None, :, None]
        canonical = np.where(rank[:, None, :d] <= d - k, k, k - (d + 1))
        keys = remainder0[:, None, :d].astype(np.int64) + canonical  # (N, d + 1, d)

        # One integer code per vertex, in a mixed radix wide enough for every blur neighbour.
        low = keys.min(axis=(0, 1)) - d
        span = keys.max(axis=(0, 1)) - low + d + 1
        if np.prod(span.astype(float)) >= 2.0**62:
            raise ValueError(f"features spanning {span.tolist()} lattice cells are not allowed: "
                             "the lattice keys must fit in 62 bits; use larger Gaussian scales.")
        strides = np.concatenate([[1], np.cumprod(span[:-1])])
        codes, vertex = np.unique(((keys - low) @ strides).ravel(), return_inverse=True)
        self.vertices = len(codes)

        splat = sparse.csr_matrix(
            (weights.ravel().astype(np.float32), (vertex, np.repeat(np.arange(points), d + 1))),
            shape=(self.vertices, points))
        self._splat, self._slice = splat, splat.T.tocsr()

        # Neighbours along direction j: the vertex +-(1, ..., 1, -d, 1, ..., 1) (-d at j; for
        # j = d all d stored coordinates move by 1); a missing one is the zero row `vertices`.
        self._neighbours = []
        for j in range(d + 1):
            step = np.ones(d, np.int64)
            step[j:j + 1] = -d
            for target in (codes + step @ strides, codes - step @ strides):
                index = np.minimum(np.searchsorted(codes, target), self.vertices - 1)
                self._neighbours.append(np.where(codes[index] == target, index, self.vertices))

    def __call__(self, values):
        values = np.asarray(values, np.float32)
        lattice = np.zeros((self.vertices + 1, values.shape[1]), np.float32)
        lattice[:-1] = self._splat @ values
        blurred = np.zeros_like(lattice)
        for n1, n2 in zip(self._neighbours[::2], self._neighbours[1::2]):
            np.add(lattice[n1], lattice[n2], out=blurred[:-1])
            blurred[:-1] *= 0.25
            blurred[:-1] += 0.5 * lattice[:-1]
            lattice, blurred = blurred, lattice
        return self._slice @ lattice[:-1]
