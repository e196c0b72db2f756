"""Loss landscapes of any Keras model: filter-normalised directions, 1-D and 2-D slices, PCA
trajectories, and their plots.

The loss is evaluated at the model's weights moved along one or two directions,
`theta + alpha * delta + beta * eta`. Random directions are filter-normalised (Li et al., section
4): every filter of the direction (a slice along the output-channel axis of a kernel) is rescaled
to the norm of the same filter of the weights, and the directions of biases and normalisation
parameters (every variable of rank 0 or 1) are zero. Non-trainable state (batch-norm statistics)
stays at the model's values, and the model runs in inference mode. The loss is the data loss
only (no weight-decay terms), averaged over the data.

Reference:
    Li, Xu, Taylor, Studer & Goldstein, "Visualizing the Loss Landscape of Neural Nets", 2017.
    https://arxiv.org/abs/1712.09913
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from garden.utils.figures import save_figure


@dataclasses.dataclass(frozen=True)
class Curve:
    """The loss along one direction: `losses[i]` at `alphas[i]`."""

    alphas: np.ndarray
    losses: np.ndarray


@dataclasses.dataclass(frozen=True)
class Surface:
    """The loss on a plane: `losses[i, j]` at `alphas[i]` (first direction), `betas[j]`."""

    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray

    def loss_at_radius(self, radius, points=72):
        """Mean loss on the circle of `radius` around the centre (bilinear interpolation): how
        fast the loss grows away from the minimum, comparable between models because the
        directions are filter-normalised."""
        angles = np.linspace(0, 2 * np.pi, points, endpoint=False)
        return float(np.mean([
            _bilinear(self, radius * np.cos(angle), radius * np.sin(angle)) for angle in angles
        ]))

    def nonconvex_fraction(self, radius):
        """Fraction of the grid points within `radius` where the surface curves downwards along
        some direction of the plane: its finite-difference Hessian has a negative eigenvalue
        larger than 10% of the positive one (Li et al. map |lambda_min / lambda_max| the same
        way in their Figure 7)."""
        da, db = self.alphas[1] - self.alphas[0], self.betas[1] - self.betas[0]
        z = self.losses
        haa = (z[2:, 1:-1] - 2 * z[1:-1, 1:-1] + z[:-2, 1:-1]) / da**2
        hbb = (z[1:-1, 2:] - 2 * z[1:-1, 1:-1] + z[1:-1, :-2]) / db**2
        hab = (z[2:, 2:] - z[2:, :-2] - z[:-2, 2:] + z[:-2, :-2]) / (4 * da * db)
        mean, spread = (haa + hbb) / 2, np.sqrt(((haa - hbb) / 2) ** 2 + hab**2)
        low, high = mean - spread, mean + spread
        nonconvex = (low < 0) & (-low > 0.1 * np.abs(high))
        a, b = np.meshgrid(self.alphas[1:-1], self.betas[1:-1], indexing="ij")
        inside = np.hypot(a, b) <= radius
        return float(nonconvex[inside].mean())


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """Checkpoints projected on the plane of their first two principal components.

    Attributes:
        surface: the loss on that plane around the final weights.
        path: (checkpoints, 2) coordinates of the checkpoints in the plane.
        explained_variance: fraction of the checkpoints' variance along each direction.
    """

    surface: Surface
    path: np.ndarray
    explained_variance: np.ndarray


def trainable_weights(model):
    """The model's trainable weights as a list of NumPy arrays (the landscape's coordinates)."""
    return [np.array(v) for v in model.trainable_variables]


def filter_normalized_direction(model, seed=None):
    """A random Gaussian direction in weight space, filter-normalised as in Li et al.

    Args:
        model: keras.Model. A built model; the direction is scaled to its current weights.
        seed: int or None. Seed of the Gaussian draw. Defaults to None.

    Returns:
        A list of arrays shaped like `model.trainable_variables`.

    Example:
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> direction = filter_normalized_direction(model, seed=0)
    >>> [d.shape for d in direction]
    [(4, 3), (3,)]
    """
    rng = np.random.default_rng(seed)
    kept = _filter_axes(model)
    direction = []
    for variable in model.trainable_variables:
        weights = np.array(variable)
        if weights.ndim <= 1:
            direction.append(np.zeros_like(weights))
            continue
        keep = kept.get(id(variable), (weights.ndim - 1,))
        norm_axes = tuple(axis for axis in range(weights.ndim) if axis not in keep)
        d = rng.standard_normal(weights.shape).astype(weights.dtype)
        d_norm = np.sqrt(np.sum(d**2, axis=norm_axes, keepdims=True))
        w_norm = np.sqrt(np.sum(weights**2, axis=norm_axes, keepdims=True))
        direction.append(d * w_norm / np.maximum(d_norm, 1e-12))
    return direction


def loss_curve(model, loss, data, direction=None, *, span=(-1.0, 1.0), steps=51, seed=0):
    """The loss along one direction through the model's weights: a 1-D landscape.

    Args:
        model: keras.Model.
        loss: a Keras loss (name, function or `keras.losses.Loss`).
        data: `(x, y)` arrays, or an iterable of `(x, y)` batches (e.g. a `tf.data.Dataset`).
        direction: list of arrays like `model.trainable_variables`, or None for a
            filter-normalised random direction drawn with `seed`. Defaults to None.
        span: (first, last) coefficient. Defaults to (-1, 1).
        steps: int. Number of evaluated points. Defaults to 51.
        seed: int. Seed of the random direction. Defaults to 0.

    Returns:
        A `Curve`.

    Example:
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> x, y = np.ones((8, 4), "float32"), np.zeros(8, "int32")
    >>> curve = loss_curve(model, "sparse_categorical_crossentropy", (x, y), steps=5)
    >>> curve.losses.shape
    (5,)
    """
    direction = filter_normalized_direction(model, seed) if direction is None else direction
    alphas = np.linspace(*span, steps)
    evaluate = _Evaluator(model, loss, data, trainable_weights(model), [direction])
    return Curve(alphas, np.array([evaluate([alpha]) for alpha in alphas]))


def interpolate(model, loss, data, start, end, *, span=(-0.5, 1.5), steps=41):
    """The loss on the line `(1 - t) * start + t * end` between two sets of weights (the 1-D
    linear interpolation of Goodfellow et al. that Li et al. start from).

    Args:
        model: keras.Model with the architecture of both weight sets.
        loss: a Keras loss.
        data: `(x, y)` arrays or an iterable of batches.
        start: list of arrays like `model.trainable_variables`, or a keras.Model of the same
            architecture.
        end: the same for the other end.
        span: (first, last) value of t. Defaults to (-0.5, 1.5).
        steps: int. Number of evaluated points. Defaults to 41.

    Returns:
        A `Curve` whose `alphas` are the values of t.

    Example:
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> other = keras.models.clone_model(model)
    >>> x, y = np.ones((8, 4), "float32"), np.zeros(8, "int32")
    >>> curve = interpolate(model, "sparse_categorical_crossentropy", (x, y), model, other,
    ...                     steps=5)
    >>> curve.alphas.tolist()
    [-0.5, 0.0, 0.5, 1.0, 1.5]
    """
    start, end = (trainable_weights(w) if isinstance(w, keras.Model) else w for w in (start, end))
    direction = [b - a for a, b in zip(start, end, strict=True)]
    alphas = np.linspace(*span, steps)
    evaluate = _Evaluator(model, loss, data, start, [direction])
    return Curve(alphas, np.array([evaluate([t]) for t in alphas]))


def loss_surface(model, loss, data, directions=None, *, span=(-1.0, 1.0), steps=21, seed=0):
    """The loss on a plane through the model's weights: a 2-D landscape.

    Args:
        model: keras.Model.
        loss: a Keras loss (name, function or `keras.losses.Loss`).
        data: `(x, y)` arrays, or an iterable of `(x, y)` batches.
        directions: pair of direction lists, or None for two filter-normalised random
            directions drawn with `seed` and `seed + 1`. Defaults to None.
        span: (first, last) coefficient along both directions, or a pair of such pairs.
            Defaults to (-1, 1).
        steps: int or (int, int). Grid points along each direction. Defaults to 21.
        seed: int. Seed of the random directions. Defaults to 0.

    Returns:
        A `Surface`.

    Example:
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> x, y = np.ones((8, 4), "float32"), np.zeros(8, "int32")
    >>> loss_surface(model, "sparse_categorical_crossentropy", (x, y), steps=3).losses.shape
    (3, 3)
    """
    if directions is None:
        directions = [filter_normalized_direction(model, seed + k) for k in range(2)]
    spans = span if np.ndim(span) == 2 else (span, span)
    counts = steps if np.ndim(steps) == 1 else (steps, steps)
    alphas, betas = (np.linspace(*s, n) for s, n in zip(spans, counts, strict=True))
    evaluate = _Evaluator(model, loss, data, trainable_weights(model), directions)
    losses = np.array([[evaluate([a, b]) for b in betas] for a in alphas])
    return Surface(alphas, betas, losses)


def trajectory(model, loss, data, checkpoints, *, steps=21, margin=0.3):
    """Training checkpoints projected on their two principal directions, with the loss surface
    of that plane (Li et al., section 7): random directions in high dimension are nearly
    orthogonal to the path, so the path is drawn in the plane of most of its variance.

    Args:
        model: keras.Model holding the final weights (the centre of the plane).
        loss: a Keras loss.
        data: `(x, y)` arrays or an iterable of batches.
        checkpoints: list of weight sets (lists of arrays like `model.trainable_variables`),
            or of `.weights.h5` files saved by `model.save_weights` (e.g. by
            `keras.callbacks.ModelCheckpoint(save_weights_only=True)`), in training order.
        steps: int. Grid points along each direction. Defaults to 21.
        margin: float. Fraction of the path's extent added around it. Defaults to 0.3.

    Returns:
        A `Trajectory`.

    Example:
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> model.compile("sgd", "sparse_categorical_crossentropy")
    >>> x, y = np.random.rand(32, 4).astype("float32"), np.zeros(32, "int32")
    >>> checkpoints = []
    >>> record = keras.callbacks.LambdaCallback(
    ...     on_epoch_end=lambda epoch, logs: checkpoints.append(trainable_weights(model)))
    >>> _ = model.fit(x, y, epochs=5, verbose=0, callbacks=[record])
    >>> result = trajectory(model, "sparse_categorical_crossentropy", (x, y), checkpoints,
    ...                     steps=5)
    >>> result.path.shape
    (5, 2)
    """
    final, state = trainable_weights(model), model.get_weights()
    points = [_checkpoint_weights(model, c) for c in checkpoints]
    model.set_weights(state)  # loading checkpoint files changed the model
    differences = np.stack([_flatten(p) - _flatten(final) for p in points])
    _, singular, components = np.linalg.svd(differences - differences.mean(0),
                                            full_matrices=False)
    path = differences @ components[:2].T
    directions = [_unflatten(c, final) for c in components[:2]]
    low, high = path.min(0), path.max(0)
    pad = margin * np.maximum(high - low, 1e-6)
    spans = [(min(low[k] - pad[k], -pad[k]), max(high[k] + pad[k], pad[k])) for k in range(2)]
    surface = loss_surface(model, loss, data, directions, span=spans, steps=steps)
    explained = singular[:2] ** 2 / np.sum(singular**2)
    return Trajectory(surface, path, explained)


def plot_curves(curves, path, *, labels=None, title=None, xlabel="alpha"):
    """Plots one or more `Curve`s on shared axes; returns `path`."""
    from matplotlib.figure import Figure

    curves = [curves] if isinstance(curves, Curve) else list(curves)
    labels = labels or [None] * len(curves)
    figure = Figure(figsize=(5, 3.5))
    axes = figure.subplots()
    for curve, label in zip(curves, labels, strict=True):
        axes.plot(curve.alphas, curve.losses, label=label)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("loss")
    if title:
        axes.set_title(title)
    if any(labels):
        axes.legend()
    figure.tight_layout()
    return save_figure(figure, path)


def plot_contour(surface, path, *, trajectory_path=None, levels=None, title=None):
    """Contour plot of a `Surface` (optionally with a projected training path); returns `path`.

    `levels` defaults to 20 equal steps over the 10 loss units above the minimum, as Li et al.
    draw their contours (0.1 to 10 by 0.5), so surfaces of different models compare directly.
    """
    from matplotlib.figure import Figure

    z = surface.losses
    if levels is None:
        levels = np.linspace(z.min(), min(z.max(), z.min() + 10.0), 21)[1:]
    figure = Figure(figsize=(4.5, 4))
    axes = figure.subplots()
    contours = axes.contour(surface.alphas, surface.betas, z.T, levels=levels, cmap="viridis")
    axes.clabel(contours, contours.levels[::4], fontsize=6, fmt="%.2f")
    if trajectory_path is not None:
        axes.plot(trajectory_path[:, 0], trajectory_path[:, 1], "o-", color="tab:red",
                  markersize=3)
    axes.set_aspect("equal")
    axes.set_xlabel("direction 1")
    axes.set_ylabel("direction 2")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    return save_figure(figure, path)


def plot_surface_3d(surface, path, *, title=None, zmax=None):
    """3-D surface plot of a `Surface`, clipped at `zmax` (default: 10 above the minimum, as
    the contours); returns `path`."""
    from matplotlib.figure import Figure

    a, b = np.meshgrid(surface.alphas, surface.betas, indexing="ij")
    zmax = surface.losses.min() + 10.0 if zmax is None else zmax
    z = np.minimum(surface.losses, zmax)
    figure = Figure(figsize=(5, 4))
    axes = figure.add_subplot(projection="3d")
    axes.plot_surface(a, b, z, cmap="viridis", linewidth=0, antialiased=True)
    axes.set_xlabel("direction 1")
    axes.set_ylabel("direction 2")
    axes.set_zlabel("loss")
    if title:
        axes.set_title(title)
    return save_figure(figure, path)


class _Evaluator:
    """The mean loss at `base + sum(c_k * directions[k])`, compiled once per landscape.

    The weights are not assigned to the model: each point runs `model.stateless_call` on new
    values inside one compiled function, so the data's batches (cached in memory as tensors)
    are the only loop.
    """

    def __init__(self, model, loss, data, base, directions):
        self.batches = _batches(data)
        self.count = float(sum(int(tf.shape(x)[0]) for x, _ in self.batches))
        loss_fn = keras.losses.get(loss)
        base = [tf.constant(b) for b in base]
        directions = [[tf.constant(d) for d in direction] for direction in directions]
        non_trainable = [v.value for v in model.non_trainable_variables]

        @tf.function(reduce_retracing=True)
        def batch_loss(coefficients, x, y):
            values = [
                b + sum(coefficients[k] * direction[i] for k, direction in enumerate(directions))
                for i, b in enumerate(base)
            ]
            predictions, _ = model.stateless_call(values, non_trainable, x, training=False)
            per_example = loss_fn(y, predictions)
            return tf.reduce_mean(per_example) * tf.cast(tf.shape(x)[0], per_example.dtype)

        self.batch_loss = batch_loss

    def __call__(self, coefficients):
        coefficients = tf.constant(coefficients, tf.float32)
        total = sum(float(self.batch_loss(coefficients, x, y)) for x, y in self.batches)
        return total / self.count


def _batches(data, batch_size=2048):
    """`data` as a list of (x, y) tensor batches held in memory."""
    if isinstance(data, tuple):
        x, y = (np.asarray(a) for a in data)
        return [(tf.constant(x[i:i + batch_size]), tf.constant(y[i:i + batch_size]))
                for i in range(0, len(x), batch_size)]
    batches = [(tf.constant(x), tf.constant(y)) for x, y, *_ in data]
    if not batches:
        raise ValueError(f"data={data!r} is empty: give (x, y) arrays or (x, y) batches.")
    return batches


def _filter_axes(model):
    """Axes that index filters, for the kernels whose output channels are not the last axis."""
    kept = {}
    for layer in _sublayers(model):
        if isinstance(layer, (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose,
                              keras.layers.Conv3DTranspose)):
            kept[id(layer.kernel)] = (layer.kernel.ndim - 2,)  # (..., out, in)
        elif isinstance(layer, (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)):
            kept[id(layer.kernel)] = (layer.kernel.ndim - 2, layer.kernel.ndim - 1)  # (.., in, m)
        elif isinstance(layer, (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)):
            kept[id(layer.depthwise_kernel)] = (2, 3) if layer.rank == 2 else (1, 2)
    return kept


def _sublayers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _sublayers(layer)


def _checkpoint_weights(model, checkpoint):
    if isinstance(checkpoint, (list, tuple)):
        return [np.asarray(w) for w in checkpoint]
    model.load_weights(checkpoint)
    return trainable_weights(model)


def _flatten(weights):
    return np.concatenate([np.ravel(w) for w in weights]).astype(np.float64)


def _unflatten(vector, like):
    arrays, start = [], 0
    for w in like:
        arrays.append(vector[start:start + w.size].reshape(w.shape).astype(w.dtype))
        start += w.size
    return arrays


def _bilinear(surface, a, b):
    """The surface's loss at (a, b) by bilinear interpolation of the grid."""
    i = np.clip(np.searchsorted(surface.alphas, a) - 1, 0, len(surface.alphas) - 2)
    j = np.clip(np.searchsorted(surface.betas, b) - 1, 0, len(surface.betas) - 2)
    ta = (a - surface.alphas[i]) / (surface.alphas[i + 1] - surface.alphas[i])
    tb = (b - surface.betas[j]) / (surface.betas[j + 1] - surface.betas[j])
    z = surface.losses
    return ((1 - ta) * (1 - tb) * z[i, j] + ta * (1 - tb) * z[i + 1, j]
            + (1 - ta) * tb * z[i, j + 1] + ta * tb * z[i + 1, j + 1])
