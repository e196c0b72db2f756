"""Callbacks that drive pruning during `model.fit`, with tfmot's names and behaviour."""

import warnings

import keras
import numpy as np

from garden.sparsity.pruning import pruned_layers, update_masks


class UpdatePruningStep(keras.callbacks.Callback):
    """Advances the pruning step on every training batch and updates the masks on schedule.

    As in tfmot, a fresh model's `pruning_step` goes from -1 to 0 when training begins (a
    restored model continues from its saved step), and each batch first adds one to it, then
    updates the masks of the wrappers whose schedule says `should_prune` at that step, from the
    current weights. The step is written back to the model at the end of each epoch and at
    every mask update, so a saved model resumes where it stopped. When training ends before
    the schedule's first pruning step (e.g. `ConstantSparsity(0.8, 0)`, which first prunes at
    step `frequency=100`, on a 16-step fit) it warns: nothing was pruned.

    Example:
    ```python
    pruned.fit(x, y, epochs=3, callbacks=[garden.sparsity.UpdatePruningStep()])
    ```

    Reference:
    - [tfmot.sparsity.keras.UpdatePruningStep](https://www.tensorflow.org/model_optimization/api_docs/python/tfmot/sparsity/keras/UpdatePruningStep)
    """

    def on_train_begin(self, logs=None):
        model = self.model
        if getattr(model, "steps_per_execution", 1) != 1:
            raise ValueError(
                "UpdatePruningStep needs one callback call per batch: compile with "
                f"steps_per_execution=1. Received: steps_per_execution={model.steps_per_execution}"
            )
        self._wrappers = pruned_layers(model)
        self._updated = False
        for wrapper in self._wrappers:
            wrapper.stepped = True
        steps = [int(np.asarray(wrapper.pruning_step)) for wrapper in self._wrappers]
        self._step = max(steps + [0])
        self._write_step()
        for wrapper in self._wrappers:
            wrapper.snapshot_masks()
        self._recompile_for_jax(model)

    def on_train_batch_begin(self, batch, logs=None):
        if not self._wrappers:
            return
        self._step += 1
        if not any(bool(w.pruning_schedule(self._step)[0]) for w in self._wrappers):
            return
        model = self.model  # with JAX, reading `model` syncs the training state first
        self._updated = update_masks(self._wrappers, self._step) or self._updated
        self._write_step()
        self._recompile_for_jax(model)

    def on_epoch_end(self, epoch, logs=None):
        self._write_step()

    def on_train_end(self, logs=None):
        never_pruned = [w for w in self._wrappers
                        if all(np.all(np.asarray(mask) == 1) for mask in w.masks)]
        if self._updated or not never_pruned:
            return
        schedule = never_pruned[0].pruning_schedule
        first = _first_pruning_step(schedule)
        when = {None: "it did not prune in this fit", 0: "its window never prunes"}.get(
            first, f"its first pruning step is {first}")
        warnings.warn(
            f"Training ended at step {self._step} before the pruning schedule pruned anything "
            f"({when}; {type(schedule).__name__}{_window(schedule)}): no weights of "
            f"{', '.join(w.name for w in never_pruned)} were pruned. Train longer, or lower "
            "begin_step or frequency.",
            stacklevel=2,
        )

    @staticmethod
    def _recompile_for_jax(model):
        """JAX's compiled step holds the mask snapshots as constants: compile it anew."""
        if keras.backend.backend() == "jax":
            model.make_train_function(force=True)

    def _write_step(self):
        # Reading `self.model` syncs JAX's training state into the variables before the write.
        for wrapper in pruned_layers(self.model):
            wrapper.pruning_step.assign(self._step)


def _first_pruning_step(schedule):
    """The first training step (from 1) at which `schedule` prunes, 0 where its window never
    prunes, or None for a schedule without the window of garden's and tfmot's schedules
    (`begin_step`, `end_step`, `frequency`)."""
    begin, end = getattr(schedule, "begin_step", None), getattr(schedule, "end_step", -1)
    frequency = getattr(schedule, "frequency", None)
    if begin is None or frequency is None:
        return None
    first = begin + -(-(max(begin, 1) - begin) // frequency) * frequency
    return first if end < 0 or first <= end else 0


def _window(schedule):
    names = ("begin_step", "end_step", "frequency")
    values = [f"{name}={getattr(schedule, name)}" for name in names if hasattr(schedule, name)]
    return f"({', '.join(values)})" if values else ""


class PruningSummaries(keras.callbacks.TensorBoard):
    """TensorBoard with each mask's sparsity and threshold, written at the end of every epoch.

    tfmot's callback of this name, for garden's wrappers: the values are added to the logs
    under `<mask path>/sparsity` and `<threshold path>/threshold` (so `History` and a
    `CSVLogger` placed after this callback keep them too) and written with every other logged
    value to the TensorBoard event files in `log_dir`.

    Args:
        log_dir: str. Directory of the TensorBoard event files.
        update_freq: `"epoch"`, `"batch"` or an int, as for `keras.callbacks.TensorBoard`.
            Defaults to `"epoch"`.
        **kwargs: the other arguments of `keras.callbacks.TensorBoard`.

    Example:
    ```python
    pruned.fit(x, y, callbacks=[garden.sparsity.UpdatePruningStep(),
                                garden.sparsity.PruningSummaries("logs/pruning")])
    ```

    Reference:
    - [tfmot.sparsity.keras.PruningSummaries](https://www.tensorflow.org/model_optimization/api_docs/python/tfmot/sparsity/keras/PruningSummaries)
    """

    def __init__(self, log_dir, update_freq="epoch", **kwargs):
        super().__init__(log_dir=log_dir, update_freq=update_freq, **kwargs)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            for wrapper in pruned_layers(self.model):
                for mask, threshold in zip(wrapper.masks, wrapper.thresholds):
                    logs[f"{mask.path}/sparsity"] = float(1.0 - np.mean(np.asarray(mask)))
                    logs[f"{threshold.path}/threshold"] = float(np.asarray(threshold))
        super().on_epoch_end(epoch, logs)
