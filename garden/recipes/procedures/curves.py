"""Learning curves of the training-method papers: epochs to a target accuracy, best test accuracy
and training accuracy, with the curves of every variant in one figure (Zhang et al.'s rethinking
generalization, Smith's cyclical learning rates and super-convergence, Goyal et al.'s large
minibatches)."""

import math

import numpy as np
from matplotlib.figure import Figure

from garden.recipes.procedures import procedure, variant_seed_dirs
from garden.recipes.results import read_history
from garden.recipes.runner import fit
from garden.utils.figures import save_figure

TARGETS = (0.95, 0.97, 0.98, 0.99)


@procedure(targets=TARGETS, error=False)
def learning_curves(run):
    """The default `fit` (which evaluates the test split after every epoch), then the curves.

    Returns the final test metrics, `train_accuracy` (the trained model evaluated on the training
    split as the recipe transforms it, e.g. with its corrupted labels), `best_test_accuracy`,
    and `epochs_to_T` for each target accuracy T of `options.targets` (default 0.95, 0.97, 0.98,
    0.99): the first epoch whose test accuracy reaches it (NaN if none does). Draws the train and
    test accuracy of every variant per epoch, the mean over its seeds, in
    `runs/NAME/accuracy.png`; with `options.error = true` the error (1 - accuracy) on a log scale
    instead, as Goyal et al.'s Fig. 2 draws training error.
    """
    result = fit(run)
    train = run.model.evaluate(run.train_data, return_dict=True, verbose=0)
    test_accuracy = np.array(read_history(run.run_dir)["val_accuracy"])
    result["train_accuracy"] = float(train["accuracy"])
    result["best_test_accuracy"] = float(test_accuracy.max())
    for target in run.options["targets"]:
        reached = np.flatnonzero(test_accuracy >= target)
        result[f"epochs_to_{round(target * 100)}"] = float(reached[0] + 1) if reached.size else math.nan

    recipe_dir, runs = variant_seed_dirs(run)
    error = run.options["error"]
    figure = Figure(figsize=(10, 4), layout="constrained")
    train_ax, test_ax = figure.subplots(1, 2, sharey=True)
    for index, (variant, directories) in enumerate(runs.items()):
        histories = [h for h in map(read_history, directories) if "val_accuracy" in h]
        if not histories:
            continue
        epochs = min(len(h["accuracy"]) for h in histories)
        for ax, key in ((train_ax, "accuracy"), (test_ax, "val_accuracy")):
            mean = np.mean([h[key][:epochs] for h in histories], axis=0)
            ax.plot(np.arange(1, epochs + 1), 1 - mean if error else mean, color=f"C{index}",
                    label=variant)
    seeds = "mean over seeds" if max(map(len, runs.values())) > 1 else "one seed"
    for ax, split in ((train_ax, "training"), (test_ax, "test")):
        ax.set_title(f"{split} {'error' if error else 'accuracy'} ({seeds})")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if error:
            ax.set_yscale("log")
    test_ax.legend()
    save_figure(figure, recipe_dir / "accuracy.png")
    return result
