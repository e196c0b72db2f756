"""Learning curves of the training-method papers: epochs to a target accuracy, best test accuracy
and training accuracy, with the curves of every variant in one figure (Zhang et al.'s rethinking
generalization, Smith's cyclical learning rates and super-convergence, Goyal et al.'s large
minibatches)."""

import math

import numpy as np
from matplotlib.figure import Figure

from garden.recipes.procedures import procedure, variant_dirs
from garden.recipes.results import read_history
from garden.recipes.runner import fit
from garden.utils.figures import save_figure

TARGETS = (0.95, 0.97, 0.98, 0.99)


@procedure(targets=TARGETS)
def learning_curves(run):
    """The default `fit` (which evaluates the test split after every epoch), then the curves.

    Returns the final test metrics, `train_accuracy` (the trained model evaluated on the training
    split as the recipe transforms it, e.g. with its corrupted labels), `best_test_accuracy`,
    and `epochs_to_T` for each target accuracy T of `options.targets` (default 0.95, 0.97, 0.98,
    0.99): the first epoch whose test accuracy reaches it (NaN if none does). Draws the train and
    test accuracy of every variant in `runs/NAME/accuracy.png`.
    """
    result = fit(run)
    train = run.model.evaluate(run.train_data, return_dict=True, verbose=0)
    test_accuracy = np.array(read_history(run.run_dir)["val_accuracy"])
    result["train_accuracy"] = float(train["accuracy"])
    result["best_test_accuracy"] = float(test_accuracy.max())
    for target in run.options["targets"]:
        reached = np.flatnonzero(test_accuracy >= target)
        result[f"epochs_to_{round(target * 100)}"] = float(reached[0] + 1) if reached.size else math.nan

    recipe_dir, runs = variant_dirs(run)
    figure = Figure(figsize=(10, 4), layout="constrained")
    train_ax, test_ax = figure.subplots(1, 2, sharey=True)
    for index, (variant, directory) in enumerate(runs.items()):
        history = read_history(directory)
        if "val_accuracy" in history:
            epochs = np.arange(1, len(history["accuracy"]) + 1)
            train_ax.plot(epochs, history["accuracy"], color=f"C{index}", label=variant)
            test_ax.plot(epochs, history["val_accuracy"], color=f"C{index}", label=variant)
    for ax, title in ((train_ax, "training accuracy"), (test_ax, "test accuracy")):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    test_ax.legend()
    save_figure(figure, recipe_dir / "accuracy.png")
    return result
