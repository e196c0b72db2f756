"""Recipe procedures for the training-method papers (`[train] procedure = "MODULE:NAME"`).

Each takes a `garden.training.Run` and returns a dict of named floats, as `garden train` expects
(see training/README.md). Each also draws one figure comparing every variant of its recipe that
has run so far, under `runs/NAME/`, so the last variant leaves the full comparison.
"""

import dataclasses
import json
import math

import numpy as np
from matplotlib.figure import Figure

from garden import training
from garden.utils.files import write_text
from garden.callbacks.plot import save_figure
from garden.tools.imbalance import class_priors, move_threshold
from garden.tools.mc_dropout import mc_dropout_predict

TARGETS = (0.95, 0.97, 0.98, 0.99)


def _options(run, **defaults):
    """The recipe's `[train] options` over `defaults`; an option not in `defaults` is an error."""
    options = run.recipe["train"].get("options", {})
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(
            f"[train] options {', '.join(unknown)} are not allowed: this procedure takes "
            f"{', '.join(defaults) or 'none'}."
        )
    return {**defaults, **options}


def _arrays(dataset):
    """All `(inputs, labels)` of a batched dataset as two NumPy arrays."""
    batches = list(dataset.as_numpy_iterator())
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


def _variant_dirs(run):
    """`{variant: run directory}` of the first seed of every variant of this recipe run so far."""
    recipe_dir = run.run_dir.parent.parent
    found = {}
    for seed_dir in sorted(recipe_dir.glob("*/seed*")):
        found.setdefault(seed_dir.parent.name, seed_dir)
    return recipe_dir, found


def learning_curves(run):
    """The default `fit` (which evaluates the test split after every epoch), then the curves.

    Returns the final test metrics, `train_accuracy` (the trained model evaluated on the training
    split as the recipe transforms it, e.g. with its corrupted labels), `best_test_accuracy`,
    and `epochs_to_T` for each target accuracy T of `options.targets` (default 0.95, 0.97, 0.98,
    0.99): the first epoch whose test accuracy reaches it (NaN if none does). Draws the train and
    test accuracy of every variant in `runs/NAME/accuracy.png`.
    """
    targets = _options(run, targets=TARGETS)["targets"]
    result = training.fit(run)
    train = run.model.evaluate(run.train_data, return_dict=True, verbose=0)
    test_accuracy = np.array(training.read_history(run.run_dir)["val_accuracy"])
    result["train_accuracy"] = float(train["accuracy"])
    result["best_test_accuracy"] = float(test_accuracy.max())
    for target in targets:
        reached = np.flatnonzero(test_accuracy >= target)
        result[f"epochs_to_{round(target * 100)}"] = float(reached[0] + 1) if reached.size else math.nan

    recipe_dir, runs = _variant_dirs(run)
    figure = Figure(figsize=(10, 4), layout="constrained")
    train_ax, test_ax = figure.subplots(1, 2, sharey=True)
    for index, (variant, directory) in enumerate(runs.items()):
        history = training.read_history(directory)
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


def _activation_moments(model, images):
    """Mean and variance of the activations of every `act_i` layer of `model` on `images`."""
    import keras

    names = sorted(
        (layer.name for layer in model.layers if layer.name.startswith("act_")),
        key=lambda name: int(name.split("_")[1]),
    )
    probe = keras.Model(model.input, [model.get_layer(name).output for name in names])
    outputs = [np.asarray(o) for o in probe(images, training=False)]
    return [float(o.mean()) for o in outputs], [float(o.var()) for o in outputs]


def activation_statistics(run):
    """Klambauer et al.'s check: per-layer activation mean and variance, before and after training.

    The inputs are standardized per pixel with the training split's statistics (the setting of
    self-normalization), then the mean and variance of every hidden layer's activations (layers
    named `act_i`, as `selu_mlp` names them) are measured on the test split at initialization,
    the model is trained, and they are measured again. Returns the test metrics and, at
    initialization and after training, the last layer's mean and variance and the largest
    deviation from (0, 1) over all layers. Writes the per-layer values to
    `activation_stats.json` and draws every variant in `runs/NAME/activations.png`.
    """
    _options(run)
    train_images, _ = _arrays(run.train_data)
    mean, std = train_images.mean(axis=0), train_images.std(axis=0)
    std = np.where(std > 0, std, 1.0).astype("float32")
    mean = mean.astype("float32")

    def standardize(dataset):
        return dataset.map(lambda images, labels: ((images - mean) / std, labels))

    run = dataclasses.replace(
        run, train_data=standardize(run.train_data), test_data=standardize(run.test_data)
    )
    test_images, _ = _arrays(run.test_data)
    stats = {"init": _activation_moments(run.model, test_images)}
    result = training.fit(run)
    stats["trained"] = _activation_moments(run.model, test_images)
    write_text(run.run_dir / "activation_stats.json", json.dumps(stats))
    for when, (means, variances) in stats.items():
        result[f"{when}_last_mean"] = means[-1]
        result[f"{when}_last_variance"] = variances[-1]
        result[f"{when}_max_abs_mean"] = float(np.max(np.abs(means)))
        result[f"{when}_max_variance_error"] = float(np.max(np.abs(np.array(variances) - 1)))

    recipe_dir, runs = _variant_dirs(run)
    figure = Figure(figsize=(10, 4), layout="constrained")
    mean_ax, variance_ax = figure.subplots(1, 2)
    for index, (variant, directory) in enumerate(runs.items()):
        path = directory / "activation_stats.json"
        if path.exists():
            for when, style in (("init", "--"), ("trained", "-")):
                means, variances = json.loads(path.read_text())[when]
                layers = np.arange(1, len(means) + 1)
                label = f"{variant} ({when})"
                mean_ax.plot(layers, means, style, color=f"C{index}", label=label)
                variance_ax.plot(layers, variances, style, color=f"C{index}", label=label)
    mean_ax.set_title("activation mean")
    variance_ax.set_title("activation variance")
    variance_ax.set_yscale("log")
    for ax in (mean_ax, variance_ax):
        ax.set_xlabel("layer")
        ax.grid(alpha=0.3)
    variance_ax.legend(fontsize=7)
    save_figure(figure, recipe_dir / "activations.png")
    return result


def _minority_classes(recipe):
    for spec in recipe["data"].get("transforms", []):
        if spec.get("name") == "step_imbalance":
            return list(spec["minority_classes"])
    raise ValueError(
        "procedure imbalance_metrics needs a step_imbalance transform in [data] transforms: "
        "its minority_classes are the classes measured."
    )


def imbalance_metrics(run):
    """`fit`, then how well the rare classes are found, for training sets made imbalanced.

    The rare classes are the `minority_classes` of the recipe's `step_imbalance` transform (the
    test split stays balanced). Returns the test metrics, `macro_auc` (mean one-vs-rest ROC-AUC
    over all classes), `minority_auc` and `minority_recall` (means over the rare classes), and
    the accuracy and minority recall after threshold moving by the priors of the training split
    as the model saw it (Buda et al.; with oversampling the priors are uniform).
    """
    from sklearn.metrics import roc_auc_score

    _options(run)
    minority = _minority_classes(run.recipe)
    result = training.fit(run)
    _, train_labels = _arrays(run.train_data)
    test_images, test_labels = _arrays(run.test_data)
    probabilities = run.model.predict(test_images, verbose=0)
    classes = probabilities.shape[-1]
    aucs = [roc_auc_score(test_labels == k, probabilities[:, k]) for k in range(classes)]
    moved = move_threshold(probabilities, class_priors(train_labels, num_classes=classes))

    def recall(scores):
        hits = [np.mean(scores[test_labels == k].argmax(-1) == k) for k in minority]
        return float(np.mean(hits))

    return {
        **result,
        "macro_auc": float(np.mean(aucs)),
        "minority_auc": float(np.mean([aucs[k] for k in minority])),
        "minority_recall": recall(probabilities),
        "moved_accuracy": float(np.mean(moved.argmax(-1) == test_labels)),
        "moved_minority_recall": recall(moved),
    }


def mc_dropout_evaluation(run):
    """`fit`, then Monte-Carlo dropout on the test split (Gal & Ghahramani).

    Returns the deterministic test metrics, `mc_accuracy` (arg-max of the mean of
    `options.samples` stochastic passes, default 50), and the mean predictive standard deviation
    of the predicted class on the test examples the model gets right and on those it gets wrong.
    """
    samples = _options(run, samples=50)["samples"]
    result = training.fit(run)
    test_images, test_labels = _arrays(run.test_data)
    mean, std = mc_dropout_predict(run.model, test_images, samples=samples, batch_size=256)
    predicted = mean.argmax(-1)
    spread = std[np.arange(len(predicted)), predicted]
    right = predicted == test_labels
    return {
        **result,
        "mc_accuracy": float(np.mean(right)),
        "std_right": float(spread[right].mean()),
        "std_wrong": float(spread[~right].mean()) if np.any(~right) else math.nan,
    }
