"""The learning-rate range test (Smith 2015, Section 3.3) as a callback.

Reference:
    Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
    https://arxiv.org/abs/1506.01186

Train for a few hundred iterations while the learning rate grows from tiny to large, record the
loss at every step, and read good rates off the curve. The model and optimizer are put back
exactly as they were afterwards, so the test can run right before the real training.
"""

import math

import keras
import numpy as np
from matplotlib.figure import Figure

from garden.utils.checks import check_choice, check_int, check_number, check_rate
from garden.utils.figures import save_figure

MODES = ("exponential", "linear")


def suggest_learning_rates(learning_rates, smoothed_losses):
    """Reads suggested learning rates off a range-test curve.

    Only the part of the curve up to its minimum is used (after it the loss diverges), and the
    steepest point is looked for after its first tenth (where the moving average settles).

    Args:
        learning_rates: sequence of the rates tried, increasing.
        smoothed_losses: the smoothed loss at each of them.

    Returns:
        A dict with
        `steepest`: the rate where the loss falls fastest against log(learning rate);
        `minimum_div10`: a tenth of the rate at the lowest loss, a safe single rate;
        `base_lr`, `max_lr`: Smith's bounds for `CyclicLR`, the rates where the loss "starts to
        decrease" and where its descent "slows", read as the points where it has fallen by 10%
        and by 90% of its total drop.

    Example:
    >>> lrs = np.logspace(-4, 0, 5)
    >>> suggest_learning_rates(lrs, [2.0, 1.9, 1.0, 0.8, 5.0])["minimum_div10"]
    0.01
    """
    lrs = np.asarray(learning_rates, dtype=np.float64)
    losses = np.asarray(smoothed_losses, dtype=np.float64)
    if lrs.shape != losses.shape or lrs.size < 3:
        raise ValueError(
            f"learning_rates and smoothed_losses must have the same length >= 3; received "
            f"{lrs.size} and {losses.size} values."
        )
    lowest = int(np.nanargmin(losses))
    if lowest == 0:
        raise ValueError(
            "The loss never decreased during the range test: lower min_lr or train longer."
        )
    lrs, losses = lrs[: lowest + 1], losses[: lowest + 1]
    slope = np.gradient(losses, np.log(lrs))
    settled = len(slope) // 10  # the first tenth is the moving average warming up
    drop = losses[0] - losses[-1]
    return {
        "steepest": float(lrs[settled + int(np.argmin(slope[settled:]))]),
        "minimum_div10": float(lrs[-1] / 10),
        "base_lr": float(lrs[int(np.argmax(losses <= losses[0] - 0.1 * drop))]),
        "max_lr": float(lrs[int(np.argmax(losses <= losses[-1] + 0.1 * drop))]),
    }


class LRFinder(keras.callbacks.Callback):
    """LR range test: sweeps the learning rate up over `steps` iterations, recording the loss.

    At iteration `i` the rate is `min_lr * (max_lr / min_lr) ** (i / (steps - 1))`
    (`"exponential"`) or `min_lr + (max_lr - min_lr) * i / (steps - 1)` (`"linear"`). The loss
    of every batch is smoothed with a bias-corrected exponential moving average; training stops
    after `steps` iterations, or as soon as the smoothed loss exceeds `divergence` times its
    best value or the loss is not finite. When training ends the model's variables and the
    optimizer's state (slots, iteration count, learning rate) are restored. The curve is in
    `learning_rates`, `losses` and `smoothed_losses`; `suggestions()` reads rates off it and
    `plot(path)` draws it with the suggestions marked. `lr_range_test` runs the whole test.

    Args:
        min_lr: float. First rate tried. Defaults to 1e-6.
        max_lr: float. Last rate tried. Defaults to 1.0.
        steps: int. Iterations of the sweep. Defaults to 100.
        mode: str. `"exponential"` or `"linear"` sweep. Defaults to `"exponential"`.
        smoothing: float. Moving-average factor of the loss, in [0, 1). Defaults to 0.98.
        divergence: float. Stop when the smoothed loss exceeds this multiple of its minimum.
            Defaults to 4.0.
        verbose: int. 1 shows a Keras `Progbar` of the sweep with the current rate and
            smoothed loss (the sweep can take minutes); 0 is silent. Defaults to 0.

    Example:
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(), "mse")
    >>> finder = LRFinder(min_lr=1e-4, max_lr=1.0, steps=20)
    >>> _ = model.fit(np.ones((640, 4)), np.ones((640, 1)), batch_size=32, verbose=0,
    ...               callbacks=[finder])
    >>> len(finder.learning_rates) <= 20
    True

    Reference:
        Smith, "Cyclical Learning Rates for Training Neural Networks", 2015.
        https://arxiv.org/abs/1506.01186
    """

    def __init__(
        self, min_lr=1e-6, max_lr=1.0, steps=100, mode="exponential", smoothing=0.98,
        divergence=4.0, verbose=0,
    ):
        super().__init__()
        if not 0 < min_lr < max_lr:
            raise ValueError(
                f"min_lr={min_lr!r}, max_lr={max_lr!r} are not allowed: use 0 < min_lr < max_lr."
            )
        self.min_lr = min_lr
        self.max_lr = max_lr
        self.steps = check_int("steps", steps, minimum=3)
        self.mode = check_choice("mode", mode, MODES)
        self.smoothing = check_rate("smoothing", smoothing)
        self.divergence = check_number("divergence", divergence, minimum=1, inclusive=False)
        self.verbose = check_choice("verbose", verbose, (0, 1))
        self.learning_rates, self.losses, self.smoothed_losses = [], [], []

    def learning_rate_at(self, index):
        """The rate of sweep iteration `index` (0 .. steps-1)."""
        fraction = index / (self.steps - 1)
        if self.mode == "exponential":
            return self.min_lr * (self.max_lr / self.min_lr) ** fraction
        return self.min_lr + (self.max_lr - self.min_lr) * fraction

    def on_train_begin(self, logs=None):
        if not isinstance(self.model.optimizer.learning_rate, keras.Variable):
            raise ValueError(
                "LRFinder sets the learning rate itself: compile with a float learning_rate, "
                "not a schedule."
            )
        self.learning_rates, self.losses, self.smoothed_losses = [], [], []
        self._average = 0.0
        self._saved_model = [v.numpy() for v in self.model.variables]
        self._saved_optimizer = [v.numpy() for v in self.model.optimizer.variables]
        # Stateful: the bar shows each step's rate and smoothed loss, not their running means.
        self._progbar = keras.utils.Progbar(
            self.steps, unit_name="step", stateful_metrics=["lr", "smoothed_loss"]
        ) if self.verbose else None

    def on_train_batch_begin(self, batch, logs=None):
        # The loss in `logs` is a running mean since the last reset: reset it every batch.
        self.model.reset_metrics()
        self.model.optimizer.learning_rate = self.learning_rate_at(len(self.losses))

    def on_train_batch_end(self, batch, logs=None):
        loss = float(logs["loss"])
        self.learning_rates.append(self.learning_rate_at(len(self.losses)))
        self.losses.append(loss)
        self._average = self.smoothing * self._average + (1 - self.smoothing) * loss
        smoothed = self._average / (1 - self.smoothing ** len(self.losses))
        self.smoothed_losses.append(smoothed)
        if self._progbar is not None:
            self._progbar.update(len(self.losses), [("lr", self.learning_rates[-1]),
                                                    ("smoothed_loss", smoothed)])
        if (
            len(self.losses) >= self.steps
            or not math.isfinite(loss)
            or smoothed > self.divergence * min(self.smoothed_losses)
        ):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self._progbar is not None:  # closes the bar of a sweep stopped at divergence
            self._progbar.update(len(self.losses), finalize=True)
        for variable, value in zip(self.model.variables, self._saved_model):
            variable.assign(value)
        for variable, value in zip(self.model.optimizer.variables, self._saved_optimizer):
            variable.assign(value)

    def suggestions(self):
        """`suggest_learning_rates` on the recorded curve."""
        return suggest_learning_rates(self.learning_rates, self.smoothed_losses)

    def plot(self, path=None):
        """Draws the loss against the learning rate with the suggestions marked.

        Args:
            path: optional file to save the figure to (png, pdf, svg).

        Returns:
            The matplotlib `Figure`.
        """
        figure = Figure(figsize=(6, 4), layout="constrained")
        ax = figure.subplots()
        ax.plot(self.learning_rates, self.losses, color="0.75", label="loss")
        ax.plot(self.learning_rates, self.smoothed_losses, color="C0", label="smoothed loss")
        if self.mode == "exponential":
            ax.set_xscale("log")
        suggested = self.suggestions()
        ax.axvspan(suggested["base_lr"], suggested["max_lr"], color="C2", alpha=0.15,
                   label=f"CLR bounds {suggested['base_lr']:.2g} - {suggested['max_lr']:.2g}")
        ax.axvline(suggested["steepest"], color="C1", linestyle="--",
                   label=f"steepest {suggested['steepest']:.2g}")
        ax.axvline(suggested["minimum_div10"], color="C3", linestyle=":",
                   label=f"minimum / 10 {suggested['minimum_div10']:.2g}")
        finite = [loss for loss in self.smoothed_losses if math.isfinite(loss)]
        ax.set_ylim(min(finite) * 0.9, min(max(finite), 2 * finite[0]) * 1.1)
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.legend()
        if path is not None:
            save_figure(figure, path)
        return figure


def lr_range_test(model, dataset, min_lr=1e-6, max_lr=1.0, steps=100, mode="exponential",
                  path=None, verbose=1, batch_size=32, **finder_args):
    """Runs an LR range test on a compiled `model` and returns the `LRFinder` with the curve.

    The model and its optimizer are unchanged afterwards.

    Args:
        model: a compiled `keras.Model` whose optimizer has a float learning rate.
        dataset: a batched `tf.data.Dataset` of training batches (repeated as needed), or
            arrays `(x, y)` as `model.fit` takes them (shuffled batches of `batch_size`).
        min_lr, max_lr, steps, mode: the sweep, see `LRFinder`.
        path: optional file to save the plot to.
        verbose: int. 1 shows the sweep's progress (a Keras `Progbar`), 0 nothing.
            Defaults to 1.
        batch_size: int. Examples per step when `dataset` is arrays. Defaults to 32.
        **finder_args: `smoothing` and `divergence` of `LRFinder`.

    Returns:
        The `LRFinder`; `finder.suggestions()` gives the suggested rates.

    Example:
    >>> import tensorflow as tf
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(), "mse")
    >>> data = tf.data.Dataset.from_tensor_slices((np.ones((64, 4)), np.ones((64, 1)))).batch(8)
    >>> finder = lr_range_test(model, data, min_lr=1e-4, max_lr=1.0, steps=30, verbose=0)
    >>> sorted(finder.suggestions())
    ['base_lr', 'max_lr', 'minimum_div10', 'steepest']
    """
    finder = LRFinder(min_lr=min_lr, max_lr=max_lr, steps=steps, mode=mode, verbose=verbose,
                      **finder_args)
    if isinstance(dataset, (tuple, list)) and len(dataset) == 2:
        x, y = dataset  # at least one batch an epoch, so `steps` epochs are enough; the
        model.fit(x, y, batch_size=check_int("batch_size", batch_size, minimum=1),  # finder
                  epochs=steps, callbacks=[finder], verbose=0)  # stops after `steps` batches
    elif hasattr(dataset, "repeat"):
        model.fit(dataset.repeat(), epochs=1, steps_per_epoch=steps, callbacks=[finder],
                  shuffle=False, verbose=0)
    else:
        raise ValueError(f"dataset={type(dataset).__name__} is not allowed: use a batched "
                         "tf.data.Dataset or arrays (x, y).")
    if path is not None:
        finder.plot(path)
    return finder
