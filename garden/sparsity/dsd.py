"""Dense-sparse-dense training (Han et al., "DSD: Dense-Sparse-Dense Training for Deep Neural
Networks", 2016).

Three phases: train the dense network; remove the weights of smallest magnitude (the same
sparsity in every layer) and retrain with the masks held; then remove the masks, so the pruned
weights restart from zero, and retrain the whole network at a lower learning rate (a tenth, as
in the paper). The sparse phase acts as a regulariser that moves training out of the dense
solution's saddle point; the paper reports better accuracy than the dense baseline.

Reference:
- [Han et al., DSD](https://arxiv.org/abs/1607.04381)
"""

import dataclasses


from garden.utils.checks import check_ints, check_number
from garden.utils.figures import pyplot, save_figure
from garden.sparsity.callbacks import UpdatePruningStep
from garden.sparsity.pruning import prune_low_magnitude, strip_pruning
from garden.sparsity.report import sparsity_report
from garden.sparsity.schedules import ConstantSparsity

PHASES = ("dense", "sparse", "re-dense")


@dataclasses.dataclass(frozen=True)
class Phase:
    """One phase of DSD training.

    Attributes:
        name: `"dense"`, `"sparse"` or `"re-dense"`.
        epochs: epochs trained in the phase.
        learning_rate: the optimizer's learning rate in the phase.
        sparsity: fraction of prunable weights that are zero at the end of the phase.
        history: `History.history` of the phase's `fit` (per-epoch logs).
        metrics: `evaluate` on the validation data at the end of the phase (empty without it).
    """

    name: str
    epochs: int
    learning_rate: float
    sparsity: float
    history: dict
    metrics: dict


@dataclasses.dataclass(frozen=True)
class DSDResult:
    """The phases of a `dsd` run, in order, with a plot of their training curves."""

    phases: list

    def plot(self, path, metric="accuracy"):
        """Saves loss and `metric` (train and, if present, validation) across all epochs, the
        phases shaded, to `path` (any format matplotlib writes). Returns `path`."""
        plt = pyplot()
        names = ["loss", metric]
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        start = 0
        for phase, color in zip(self.phases, ("#dde8f5", "#f5e3dd", "#e0f0dc")):
            stop = start + phase.epochs
            for ax in axes:
                ax.axvspan(start + 0.5, stop + 0.5, color=color, zorder=0)
                ax.text((start + stop + 1) / 2, 1.0, phase.name, ha="center", va="bottom",
                        transform=ax.get_xaxis_transform())
            start = stop
        for ax, name in zip(axes, names):
            for key, style in ((name, "-"), (f"val_{name}", "--")):
                values = [v for phase in self.phases for v in phase.history.get(key, [])]
                if values:
                    ax.plot(range(1, len(values) + 1), values, style, color="k", label=key)
            ax.set_xlabel("epoch")
            ax.set_ylabel(name)
            ax.legend(loc="best")
        fig.tight_layout()
        return save_figure(fig, path)


def _learning_rate(optimizer):
    rate = optimizer.get_config()["learning_rate"]
    if not isinstance(rate, (int, float)):
        raise ValueError(
            "dsd needs an optimizer with a constant learning rate, to lower it in the re-dense "
            f"phase. Received: learning_rate={rate!r}"
        )
    return float(rate)


def _compile_like(model, source, learning_rate_scale=1.0):
    """Compiles `model` with `source`'s loss, metrics and a fresh copy of its optimizer, the
    learning rate multiplied by `learning_rate_scale`; returns that learning rate."""
    model.compile_from_config(source.get_compile_config())
    rate = _learning_rate(source.optimizer) * learning_rate_scale
    model.optimizer.learning_rate = rate
    return rate


def _as_args(data):
    """`fit`/`evaluate`'s positional arguments for a dataset or an `(x, y)` tuple."""
    return data if isinstance(data, tuple) else (data,)


def dsd(model, train_data, *, epochs=(10, 10, 10), sparsity=0.5, ranking="layer",
        learning_rate_factor=0.1, validation_data=None, batch_size=None, callbacks=(),
        verbose=0):
    """Trains a compiled model dense, then sparse, then dense again (Han et al.'s DSD).

    The sparse phase prunes on its first step to `sparsity` (`prune_low_magnitude` with
    `ConstantSparsity(sparsity, begin_step=1, end_step=1)`) and holds the masks; each phase
    starts with a fresh copy of the model's optimizer, the re-dense one at
    `learning_rate_factor` times its learning rate. `model` ends with the trained weights.
    With `sparsity=0` the same three phases train a dense baseline with the same epochs and
    learning-rate drop.

    Args:
        model: keras.Model. A compiled Sequential or functional model with a constant
            learning rate.
        train_data: what `model.fit` takes as `x`: a `tf.data.Dataset`, a
            `keras.utils.PyDataset` or a tuple `(x, y)` of arrays.
        epochs: tuple of 3 ints. Epochs of the dense, sparse and re-dense phases.
            Defaults to `(10, 10, 10)`.
        sparsity: float. Fraction of every layer's prunable weights removed in the sparse
            phase, in [0, 1). The paper uses 0.3 to 0.5. Defaults to 0.5.
        ranking: str. How weights are chosen for removal; see `PruneLowMagnitude`.
            Defaults to `"layer"` (the paper's per-layer magnitude).
        learning_rate_factor: float. Learning rate of the re-dense phase relative to the
            others. Defaults to 0.1, as in the paper.
        validation_data: optional data evaluated after each phase and passed to `fit`.
        batch_size: int. Batch size when the data are arrays. Defaults to `fit`'s.
        callbacks: list of callbacks for every phase's `fit`.
        verbose: int. `fit`'s verbosity. Defaults to 0.

    Returns:
        A `DSDResult` with one `Phase` per phase; `result.plot(path)` draws them.

    Example:
    ```python
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    result = garden.sparsity.dsd(model, (x, y), epochs=(5, 5, 5), sparsity=0.5,
                                 validation_data=(x_test, y_test))
    [phase.metrics["accuracy"] for phase in result.phases]
    result.plot("dsd.png")
    ```

    Reference:
    - [Han et al., DSD](https://arxiv.org/abs/1607.04381)
    """
    check_ints("epochs", epochs, length=3, minimum=0)  # (dense, sparse, re-dense)
    if model.optimizer is None:
        raise ValueError(f"model must be compiled before dsd. Received: model={model.name}")
    check_number("learning_rate_factor", learning_rate_factor, minimum=0, inclusive=False)

    def run(phase_model, name, phase_epochs, rate, extra_callbacks=()):
        history = {}
        if phase_epochs:
            history = phase_model.fit(
                *_as_args(train_data), batch_size=batch_size, epochs=phase_epochs,
                validation_data=validation_data, callbacks=[*callbacks, *extra_callbacks],
                verbose=verbose,
            ).history
        metrics = {}
        if validation_data is not None:
            metrics = phase_model.evaluate(*_as_args(validation_data), batch_size=batch_size,
                                           verbose=0, return_dict=True)
        measured = sparsity_report(phase_model).sparsity
        return Phase(name, phase_epochs, rate, measured, history, metrics)

    phases = [run(model, "dense", epochs[0], _learning_rate(model.optimizer))]

    pruned = prune_low_magnitude(
        model, ConstantSparsity(sparsity, begin_step=1, end_step=1, frequency=1), ranking=ranking
    )
    rate = _compile_like(pruned, model)
    phases.append(run(pruned, "sparse", epochs[1], rate, [UpdatePruningStep()]))

    redense = strip_pruning(pruned)
    rate = _compile_like(redense, model, learning_rate_factor)
    phases.append(run(redense, "re-dense", epochs[2], rate))

    model.set_weights(redense.get_weights())
    return DSDResult(phases)
