"""Callbacks that drive pruning during `model.fit`, with tfmot's names and behaviour."""

import os

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

    def on_train_batch_begin(self, batch, logs=None):
        if not self._wrappers:
            return
        self._step += 1
        if not any(bool(w.pruning_schedule(self._step)[0]) for w in self._wrappers):
            return
        model = self.model  # with JAX, reading `model` syncs the training state first
        update_masks(self._wrappers, self._step)
        self._write_step()
        if keras.backend.backend() == "jax":
            # The compiled step holds the masks its constraints read as constants.
            model.make_train_function(force=True)

    def on_epoch_end(self, epoch, logs=None):
        self._write_step()

    def _write_step(self):
        self.model  # noqa: B018 (syncs the JAX training state before writing to it)
        for wrapper in self._wrappers:
            wrapper.pruning_step.assign(self._step)


class PruningSummaries(keras.callbacks.Callback):
    """Records each mask's sparsity and threshold at the end of every epoch.

    The values go into the epoch's `logs` (so `History` and `CSVLogger` keep them) under
    `<mask path>/sparsity` and `<threshold path>/threshold`, and, as tfmot's callback does, to
    TensorBoard scalars under `log_dir/metrics` at the optimizer's iteration.

    Args:
        log_dir: str. TensorBoard log directory.

    Example:
    ```python
    pruned.fit(x, y, callbacks=[garden.sparsity.UpdatePruningStep(),
                                garden.sparsity.PruningSummaries("runs/prune")])
    ```

    Reference:
    - [tfmot.sparsity.keras.PruningSummaries](https://www.tensorflow.org/model_optimization/api_docs/python/tfmot/sparsity/keras/PruningSummaries)
    """

    def __init__(self, log_dir):
        super().__init__()
        if not isinstance(log_dir, (str, os.PathLike)) or not str(log_dir):
            raise ValueError(f"log_dir must be a non-empty path. Received: log_dir={log_dir!r}")
        self.log_dir = str(log_dir)
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        values = {}
        for wrapper in pruned_layers(self.model):
            for mask, threshold in zip(wrapper.masks, wrapper.thresholds):
                values[f"{mask.path}/sparsity"] = float(1.0 - np.mean(np.asarray(mask)))
                values[f"{threshold.path}/threshold"] = float(np.asarray(threshold))
        if logs is not None:
            logs.update(values)
        self._write(values, int(self.model.optimizer.iterations))

    def _write(self, values, step):
        import tensorflow as tf  # TensorBoard's summary writer; only this callback needs it

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "metrics"))
        with self._writer.as_default():
            for name, value in values.items():
                tf.summary.scalar(name, value, step=step)
        self._writer.flush()
