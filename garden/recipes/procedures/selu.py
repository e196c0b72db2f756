"""Self-normalizing networks: per-layer activation statistics before and after training.

Reference:
    Klambauer, Unterthiner, Mayr and Hochreiter, "Self-Normalizing Neural Networks", NeurIPS
    2017. https://arxiv.org/abs/1706.02515
"""

import dataclasses
import json

import keras
import numpy as np
from matplotlib.figure import Figure

from garden.recipes.procedures import arrays, procedure, variant_dirs
from garden.recipes.runner import fit
from garden.utils.figures import save_figure
from garden.utils.files import write_text


def _activation_moments(model, images):
    """Mean and variance of the activations of every `act_i` layer of `model` on `images`."""
    names = sorted(
        (layer.name for layer in model.layers if layer.name.startswith("act_")),
        key=lambda name: int(name.split("_")[1]),
    )
    probe = keras.Model(model.input, [model.get_layer(name).output for name in names])
    outputs = [np.asarray(o) for o in probe(images, training=False)]
    return [float(o.mean()) for o in outputs], [float(o.var()) for o in outputs]


@procedure()
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
    train_images, _ = arrays(run.train_data)
    mean, std = train_images.mean(axis=0), train_images.std(axis=0)
    std = np.where(std > 0, std, 1.0).astype("float32")
    mean = mean.astype("float32")

    def standardize(dataset):
        return dataset.map(lambda images, labels: ((images - mean) / std, labels))

    run = dataclasses.replace(
        run, train_data=standardize(run.train_data), test_data=standardize(run.test_data)
    )
    test_images, _ = arrays(run.test_data)
    stats = {"init": _activation_moments(run.model, test_images)}
    result = fit(run)
    stats["trained"] = _activation_moments(run.model, test_images)
    write_text(run.run_dir / "activation_stats.json", json.dumps(stats))
    for when, (means, variances) in stats.items():
        result[f"{when}_last_mean"] = means[-1]
        result[f"{when}_last_variance"] = variances[-1]
        result[f"{when}_max_abs_mean"] = float(np.max(np.abs(means)))
        result[f"{when}_max_variance_error"] = float(np.max(np.abs(np.array(variances) - 1)))

    recipe_dir, runs = variant_dirs(run)
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
