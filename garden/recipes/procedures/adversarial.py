"""GAN experiments: mode coverage on the ring of 8 Gaussians (standard GAN vs WGAN vs WGAN-GP),
and DCGAN on digits measured by the kernel inception distance.

References:
    Creswell et al., "Generative Adversarial Networks: An Overview", 2018 (mode collapse and
    non-convergence, the failures these diagnostics count). https://arxiv.org/abs/1710.07035
    Arjovsky et al., "Wasserstein GAN", 2017; Gulrajani et al., "Improved Training of Wasserstein
    GANs", 2017; Radford et al., "Unsupervised Representation Learning with Deep Convolutional
    GANs", 2015.
"""

import json
import sys

import keras
import numpy as np
from matplotlib.figure import Figure

from garden import export
from garden.callbacks import SampleGrid
from garden.data import ring
from garden.recipes.procedures import arrays, procedure, variant_dirs
from garden.tools import kernel_inception_distance, mode_coverage
from garden.utils.figures import save_figure
from garden.utils.files import write_text


def _verbose():
    return 1 if sys.stdout.isatty() else 2


class _CoverageLog(keras.callbacks.Callback):
    """Mode coverage of `samples` fixed-noise samples every `every` epochs, kept in a JSON file
    (which a resumed run extends)."""

    def __init__(self, path, centers, std, samples, every):
        super().__init__()
        self.path, self.centers, self.std = path, centers, std
        self.samples, self.every = samples, every
        self.log = json.loads(path.read_text()) if path.exists() else []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        coverage = mode_coverage(self.model.sample(self.samples, seed=1), self.centers,
                                 self.std)
        self.log.append({"epoch": epoch + 1, **coverage.as_dict(), "counts": coverage.counts})
        write_text(self.path, json.dumps(self.log))


@procedure(samples=2500, every=5)
def ring_coverage(run):
    """Trains a GAN on the ring of Gaussians and counts the modes it covers.

    Every `every` epochs `samples` samples (fixed noise) are scored with
    `garden.tools.mode_coverage` (high quality: within 3 standard deviations of a mode; a mode is
    covered by at least 20 of them); the log goes to `coverage.json`. Returns the final number of
    covered modes and high-quality share, and the mean and minimum number of covered modes over
    the second half of training (a GAN that hops between modes covers all of them at no single
    check). Draws the final samples of every variant and their coverage curves in
    `runs/NAME/ring.png`.
    """
    options = {k: run.recipe["data"].get(k, d) for k, d in
               (("modes", ring.MODES), ("radius", ring.RADIUS), ("std", ring.STD))}
    centers = ring.ring_centers(options["modes"], options["radius"])
    log = _CoverageLog(run.run_dir / "coverage.json", centers, options["std"],
                       run.options["samples"], run.options["every"])
    run.model.fit(run.train_data, epochs=run.epochs, callbacks=[*run.callbacks, log],
                  shuffle=False, verbose=_verbose())
    points = run.model.sample(run.options["samples"], seed=1)
    np.save(run.run_dir / "samples.npy", points)
    final = mode_coverage(points, centers, options["std"])
    second_half = [entry["modes_covered"] for entry in log.log[len(log.log) // 2:]]
    _plot_ring(run, centers)
    return {
        "modes_covered": final.covered,
        "high_quality": final.high_quality,
        "modes_covered_mean_late": float(np.mean(second_half or [final.covered])),
        "modes_covered_min_late": float(np.min(second_half or [final.covered])),
    }


def _plot_ring(run, centers):
    recipe_dir, runs = variant_dirs(run)
    runs = {v: d for v, d in runs.items() if (d / "samples.npy").exists()}
    figure = Figure(figsize=(3.2 * len(runs) + 4, 3.4), layout="constrained")
    axes = figure.subplots(1, len(runs) + 1, squeeze=False)[0]
    for ax, (variant, directory) in zip(axes, runs.items()):
        points = np.load(directory / "samples.npy")
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4)
        ax.scatter(centers[:, 0], centers[:, 1], s=30, marker="x", color="k")
        ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", title=variant)
        entries = json.loads((directory / "coverage.json").read_text())
        axes[-1].plot([e["epoch"] for e in entries], [e["modes_covered"] for e in entries],
                      label=variant)
    axes[-1].set(xlabel="epoch", ylabel="modes covered", ylim=(-0.5, len(centers) + 0.5),
                 title="coverage (seed 0 of each)")
    axes[-1].legend()
    save_figure(figure, recipe_dir / "ring.png")


def _to_tanh(dataset):
    return dataset.map(lambda x, y: (x * 2.0 - 1.0, y))


def digits_features(train, test, epochs, seed):
    """A small CNN trained on the labelled digits; returns the model of its 128-unit penultimate
    layer (KID's feature space, as Inception's pool layer on ImageNet) and its test accuracy."""
    keras.utils.set_random_seed(seed)
    x = inputs = keras.Input(train.element_spec[0].shape[1:])
    for filters in (32, 64):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    features = keras.layers.Dense(128, activation="relu", name="features")(x)
    classifier = keras.Model(inputs, keras.layers.Dense(10)(features))
    classifier.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                       metrics=["accuracy"])
    classifier.fit(train, epochs=epochs, shuffle=False, verbose=0)
    accuracy = classifier.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    return keras.Model(inputs, features), float(accuracy)


@procedure(samples=1000, classifier_epochs=15, export_tflite=True)
def dcgan_kid(run):
    """Trains a GAN on images scaled to [-1, 1] and measures the kernel inception distance of its
    samples to the test images, at initialization and after training.

    KID's features are the penultimate layer of a small CNN trained on the training digits
    (`classifier_epochs`); `samples` samples are compared with the test split (subsets of the
    smaller size). As a floor, the KID of the training images to the test images. A grid of
    samples from fixed noise is written per epoch (`samples/epoch_NNN.png`, `samples/samples.gif`).
    With `export_tflite`, the generator is exported as a float TFLite file and its outputs
    compared with Keras' on 64 noise vectors.
    """
    train, test = _to_tanh(run.train_data), _to_tanh(run.test_data)
    features, accuracy = digits_features(train, test, run.options["classifier_epochs"],
                                         run.seed)
    real_train, real_test = arrays(train)[0], arrays(test)[0]
    count = run.options["samples"]

    def kid(examples):
        return kernel_inception_distance(real_test, examples, features=features,
                                         subset_size=count, seed=run.seed)

    init = kid(run.model.sample(count, seed=run.seed))
    grid = SampleGrid(run.run_dir / "samples", count=64, seed=0, scale=3)
    run.model.fit(train, epochs=run.epochs, callbacks=[*run.callbacks, grid], shuffle=False,
                  verbose=_verbose())
    end = kid(run.model.sample(count, seed=run.seed))
    scores = {
        "kid_init": init.mean,
        "kid_end": end.mean,
        "kid_end_std": end.std,
        "kid_train_vs_test": kid(real_train).mean,
        "feature_classifier_accuracy": accuracy,
    }
    if run.options["export_tflite"]:
        path = export.tflite(run.model.generator, run.run_dir / "generator.tflite")
        check = export.verify(run.model.generator, path, run.model.noise(64, seed=2))
        scores["tflite_max_abs_diff"] = check.max_abs_diff
    return scores
