"""Callbacks that drive pruning during `model.fit`, with tfmot's names and behaviour."""

import keras
import numpy as np

from garden.sparsity.pruning import pruned_layers, update_masks


class UpdatePruningStep(keras.callbacks.Callback):
    """Advances the pruning step on every training batch and updates the masks on schedule.

    As in tfmot, a fresh model's `pruning_step` goes from -1 to 0 when training begins (a
    restored model continues from its saved step), and each batch first adds one to it, then
    updates the masks of the wrappers whose schedule says `should_prune` at that step, from the
    current weights. The step is written back to the model at the end of each epoch and at
    every mask update, so a saved model resumes where it stopped.

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
        update_masks(self._wrappers, self._step)
        self._write_step()
        self._recompile_for_jax(model)

    def on_epoch_end(self, epoch, logs=None):
        self._write_step()

    @staticmethod
    def _recompile_for_jax(model):
        """JAX's compiled step holds the mask snapshots as constants: compile it anew."""
        if keras.backend.backend() == "jax":
            model.make_train_function(force=True)

    def _write_step(self):
        # Reading `self.model` syncs JAX's training state into the variables before the write.
        for wrapper in pruned_layers(self.model):
            wrapper.pruning_step.assign(self._step)


class PruningSummaries(keras.callbacks.Callback):
    """Adds each mask's sparsity and threshold to the logs at the end of every epoch.

    The values go under `<mask path>/sparsity` and `<threshold path>/threshold`, so `History`
    keeps them and a `keras.callbacks.TensorBoard` or `CSVLogger` placed after this callback
    records them (tfmot's callback of this name writes the same scalars to TensorBoard).

    Example:
    ```python
    pruned.fit(x, y, callbacks=[garden.sparsity.UpdatePruningStep(),
                                garden.sparsity.PruningSummaries(),
                                keras.callbacks.CSVLogger("pruning.csv")])
    ```

    Reference:
    - [tfmot.sparsity.keras.PruningSummaries](https://www.tensorflow.org/model_optimization/api_docs/python/tfmot/sparsity/keras/PruningSummaries)
    """

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for wrapper in pruned_layers(self.model):
            for mask, threshold in zip(wrapper.masks, wrapper.thresholds):
                logs[f"{mask.path}/sparsity"] = float(1.0 - np.mean(np.asarray(mask)))
                logs[f"{threshold.path}/threshold"] = float(np.asarray(threshold))
