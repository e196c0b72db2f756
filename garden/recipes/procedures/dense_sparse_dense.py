"""Dense-sparse-dense training as a recipe procedure.

Reference:
    Han et al., "DSD: Dense-Sparse-Dense Training for Deep Neural Networks", ICLR 2017.
    https://arxiv.org/abs/1607.04381
"""

import keras

from garden.recipes.procedures import procedure
from garden.sparsity.dsd import dsd


@procedure(sparsity=0.5, learning_rate_factor=0.1, ranking="layer")
def dsd_procedure(run):
    """Runs `garden.sparsity.dsd` on the run's compiled model and data.

    `[train] epochs` is a list of the three phases' epochs, or a total split in thirds;
    `[train] options` may set `sparsity` (default 0.5; 0 gives the fair dense baseline: same
    phases, same learning-rate drop, nothing pruned), `learning_rate_factor` and `ranking`.
    Returns the test metrics after each phase and at the end (`test_accuracy`, ...), and saves
    `dsd.png` in the run directory.
    """
    epochs = run.epochs
    if isinstance(epochs, int):
        epochs = (epochs // 3, epochs // 3, epochs - 2 * (epochs // 3))
    # BackupAndRestore cannot restore one phase's model into another's.
    callbacks = [c for c in run.callbacks if not isinstance(c, keras.callbacks.BackupAndRestore)]
    result = dsd(run.model, run.train_data, epochs=tuple(epochs), validation_data=run.test_data,
                 callbacks=callbacks, verbose=2, **run.options)
    result.plot(run.run_dir / "dsd.png")
    scores = {f"{phase.name.replace('-', '')}_test_{key}": float(value)
              for phase in result.phases for key, value in phase.metrics.items()}
    scores.update({f"test_{key}": float(value) for key, value in result.phases[-1].metrics.items()})
    scores["sparse_phase_sparsity"] = result.phases[1].sparsity
    return scores
