"""Learning curves: test accuracy against training-set size on a log axis, with the fitted
log-linear trend (Sun et al. find performance grows logarithmically with the volume of data).

Reference:
    Sun, Shrivastava, Singh & Gupta, "Revisiting Unreasonable Effectiveness of Data in Deep
    Learning Era", 2017. https://arxiv.org/abs/1707.02968
"""

import dataclasses

import numpy as np

from garden.utils.figures import save_figure


@dataclasses.dataclass(frozen=True)
class LearningCurve:
    """Scores of models trained on nested subsets of growing size.

    Attributes:
        sizes: training-set sizes, increasing.
        scores: (len(sizes), seeds) test scores.
        metric: name of the score.
    """

    sizes: np.ndarray
    scores: np.ndarray
    metric: str

    @property
    def fit(self):
        """(intercept, slope) of the least-squares line score = intercept + slope * log10(size)
        through the mean scores: the slope is the gain per tenfold more data."""
        slope, intercept = np.polyfit(np.log10(self.sizes), self.scores.mean(axis=1), 1)
        return float(intercept), float(slope)

    @property
    def slope(self):
        return self.fit[1]

    def as_dict(self):
        intercept, slope = self.fit
        return {"metric": self.metric, "sizes": self.sizes.tolist(),
                "scores": self.scores.tolist(), "intercept": intercept, "slope": slope}


def learning_curve(build, train_data, test_data, sizes, *, steps, batch_size=32, seeds=(0,),
                   metric="accuracy"):
    """Trains a fresh model on nested random subsets of the training data and scores each.

    Every run takes the same number of gradient steps (batches drawn from the reshuffled, repeated
    subset), so small subsets are not under-trained: they are seen more often. The subsets of
    one seed are nested: each contains the smaller ones.

    Args:
        build: callable returning a new compiled `keras.Model` (with `metric` among its metrics).
        train_data: `(x, y)` arrays; the subsets are drawn from them.
        test_data: what `model.evaluate` accepts: `(x, y)` arrays or a dataset.
        sizes: training-set sizes, e.g. `[50, 100, 200, 400]`.
        steps: int. Gradient steps per run.
        batch_size: int. Defaults to 32.
        seeds: sequence of int. One run per size and seed (the seed sets the subset and the
            initialisation). Defaults to (0,).
        metric: str. The score read from `model.evaluate`. Defaults to "accuracy".

    Returns:
        A `LearningCurve`; `.slope` is the fitted gain per tenfold more data.

    Example:
    >>> import keras
    >>> from sklearn.datasets import load_digits
    >>> x, y = load_digits(return_X_y=True)
    >>> def build():
    ...     model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])
    ...     model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    ...                   metrics=["accuracy"])
    ...     return model
    >>> curve = learning_curve(build, (x[:1000] / 16, y[:1000]), (x[1000:] / 16, y[1000:]),
    ...                        [30, 300], steps=100)
    >>> curve.slope > 0
    True
    """
    import keras
    import tensorflow as tf

    x, y = (np.asarray(a) for a in train_data)
    sizes = np.array(sorted(int(n) for n in sizes))
    if len(sizes) < 2 or sizes[0] < 1 or sizes[-1] > len(x):
        raise ValueError(f"sizes={sizes.tolist()} is not allowed: use at least two sizes between "
                         f"1 and the {len(x)} training examples.")
    scores = np.zeros((len(sizes), len(seeds)))
    for column, seed in enumerate(seeds):
        order = np.random.default_rng(seed).permutation(len(x))
        for row, size in enumerate(sizes):
            keras.utils.set_random_seed(seed)
            model = build()
            subset = order[:size]
            batches = (tf.data.Dataset.from_tensor_slices((x[subset], y[subset]))
                       .shuffle(size, seed=seed).repeat().batch(batch_size))
            model.fit(batches, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0)
            result = model.evaluate(*_as_args(test_data), return_dict=True, verbose=0)
            if metric not in result:
                raise ValueError(f"metric={metric!r} is not allowed: the model reports "
                                 f"{sorted(result)}.")
            scores[row, column] = result[metric]
    return LearningCurve(sizes, scores, metric)


def plot_learning_curve(curve, path, *, title=None, label=None):
    """Scores against training-set size on a log axis, with the fitted log-linear trend;
    returns `path`."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 3.5))
    axes = figure.subplots()
    mean, spread = curve.scores.mean(axis=1), curve.scores.std(axis=1)
    axes.errorbar(curve.sizes, mean, yerr=spread if curve.scores.shape[1] > 1 else None,
                  fmt="o", capsize=3, label=label or "measured")
    intercept, slope = curve.fit
    line = np.geomspace(curve.sizes[0], curve.sizes[-1], 50)
    axes.plot(line, intercept + slope * np.log10(line), "--",
              label=f"fit: {slope:+.3f} {curve.metric} per 10x data")
    axes.set_xscale("log")
    axes.set_xlabel("training examples")
    axes.set_ylabel(f"test {curve.metric}")
    axes.grid(alpha=0.3, which="both")
    axes.legend()
    if title:
        axes.set_title(title)
    figure.tight_layout()
    return save_figure(figure, path)


def _as_args(data):
    return data if isinstance(data, tuple) else (data,)
