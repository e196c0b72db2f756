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
import time

import keras
import numpy as np
from matplotlib.figure import Figure

from garden import export
from garden.callbacks import SampleGrid
from garden.data import ring
from garden.recipes.procedures import arrays, procedure, variant_dirs
from garden.tools import kernel_inception_distance, mode_coverage
from garden.utils.checks import check_int
from garden.utils.figures import save_figure
from garden.utils.files import write_text


def _verbose():
    return 1 if sys.stdout.isatty() else 2


def fused_steps(model, steps):
    """`train(batches)`: `steps` of `model.train_step` in one compiled call, on `batches` of
    shape `(steps, batch, ...)`; returns the logs after the last step.

    One call runs the model's own step `steps` times (a `jax.lax.scan` under `jax.jit` on JAX,
    a loop in one `tf.function` on TensorFlow): the updates of single steps on the same batches,
    without `fit`'s per-step dispatch, tf.data batch and callbacks: for the ring's 3 x 128 MLPs
    (about 0.2 GFLOP per update) 2.0-2.6x faster than `fit` on TensorFlow, 1.0-1.2x on JAX
    (whose `fit` compiles its step too), near the arithmetic on both.

    Raises:
        ValueError: on a backend other than JAX and TensorFlow.
    """
    steps = check_int("steps", steps)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function  # not XLA: its random draws differ from the kernels fit uses
        def train(batches):
            for i in tf.range(steps):
                model.train_step(batches[i])
            return model.logs()

        return train
    if backend != "jax":
        raise ValueError(f"keras.backend.backend()={backend!r} is not allowed for fused "
                         "training steps: run with KERAS_BACKEND=jax or tensorflow.")
    import jax

    groups = (model.trainable_variables, model.non_trainable_variables,
              model.optimizer.variables, model.metrics_variables)

    def scan(state, batches):
        def body(state, batch):
            logs, state = model.train_step(state, batch)
            return state, logs

        state, logs = jax.lax.scan(body, state, batches)
        return state, {name: value[-1] for name, value in logs.items()}

    compiled = jax.jit(scan, donate_argnums=0)

    def train(batches):
        state, logs = compiled(tuple([v.value for v in group] for group in groups), batches)
        for group, values in zip(groups, state):
            for variable, value in zip(group, values):
                variable.assign(value)
        return logs

    return train


@procedure(updates=100_000, every=2_000, steps_per_call=100, samples=2500)
def ring_coverage(run):
    """Trains a GAN on the ring of Gaussians and counts the modes it covers over training.

    `updates` discriminator (critic) updates, each on a fresh batch of `[data] batch_size`
    points of the ring (infinite data, as Gulrajani et al.'s toy experiments; `[data] count` is
    not used), run `steps_per_call` at a time by `fused_steps`. Every `every` updates `samples` samples (fixed
    noise) are scored with `garden.tools.mode_coverage` (high quality: within 3 standard
    deviations of a mode; a mode is covered by at least 20 of them) and logged, with the losses,
    in `coverage.json`. Returns the final number of covered modes and high-quality share, the
    mean and minimum number of covered modes over the second half of training (a GAN that hops
    between modes covers all of them at no single check) and the milliseconds per update.
    Draws the final samples of every variant and their coverage curves in `runs/NAME/ring.png`.
    Keras callbacks do not run (the loop is not `fit`), and an interrupted run starts again.
    """
    options = {k: run.recipe["data"].get(k, d) for k, d in
               (("modes", ring.MODES), ("radius", ring.RADIUS), ("std", ring.STD))}
    updates, every, steps = (check_int(f"[train] options {k}", run.options[k])
                             for k in ("updates", "every", "steps_per_call"))
    if every % steps or updates % every:
        raise ValueError(f"[train] options every={every} and updates={updates} are not "
                         f"allowed with steps_per_call={steps}: use multiples (updates of "
                         "every, every of steps_per_call).")
    batch = run.recipe["data"].get("batch_size", 256)
    centers = ring.ring_centers(options["modes"], options["radius"])
    train = fused_steps(run.model, steps)
    log, seconds = [], 0.0
    for call in range(updates // steps):
        points, _ = ring.sample_ring(steps * batch, **options, seed=(run.seed, call))
        start = time.perf_counter()
        logs = train(points.reshape(steps, batch, *points.shape[1:]))
        logs = {name: float(value) for name, value in logs.items()}  # waits for JAX's result
        seconds += time.perf_counter() - start  # the first call includes compiling
        if (call + 1) * steps % every == 0:
            coverage = mode_coverage(run.model.sample(run.options["samples"], seed=1),
                                     centers, options["std"])
            log.append({"update": (call + 1) * steps, **coverage.as_dict(),
                        "counts": coverage.counts, **logs})
            for metric in run.model.metrics:
                metric.reset_state()
    write_text(run.run_dir / "coverage.json", json.dumps(log))
    points = run.model.sample(run.options["samples"], seed=1)
    np.save(run.run_dir / "samples.npy", points)
    final = mode_coverage(points, centers, options["std"])
    second_half = [entry["modes_covered"] for entry in log[len(log) // 2:]]
    _plot_ring(run, centers)
    return {
        "modes_covered": final.covered,
        "high_quality": final.high_quality,
        "modes_covered_mean_late": float(np.mean(second_half)),
        "modes_covered_min_late": float(np.min(second_half)),
        "ms_per_update": 1000 * seconds / updates,
    }


def _plot_ring(run, centers):
    recipe_dir, runs = variant_dirs(run)
    runs = {v: d for v, d in runs.items() if (d / "samples.npy").exists()}
    figure = Figure(figsize=(3.2 * len(runs) + 8, 3.4), layout="constrained")
    axes = figure.subplots(1, len(runs) + 2, squeeze=False)[0]
    for ax, (variant, directory) in zip(axes, runs.items()):
        points = np.load(directory / "samples.npy")
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4)
        ax.scatter(centers[:, 0], centers[:, 1], s=30, marker="x", color="k")
        ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", title=variant)
        entries = json.loads((directory / "coverage.json").read_text())
        for ax_curve, key in zip(axes[-2:], ("modes_covered", "high_quality")):
            ax_curve.plot([e["update"] for e in entries], [e[key] for e in entries],
                          label=variant)
    axes[-2].set(xlabel="discriminator updates", ylabel="modes covered",
                 ylim=(-0.5, len(centers) + 0.5), title="coverage (seed 0 of each)")
    axes[-1].set(xlabel="discriminator updates", ylabel="share within 3 sd of a mode",
                 ylim=(-0.02, 1.02), title="high-quality samples")
    axes[-2].legend()
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
