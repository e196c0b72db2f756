"""Training throughput of garden's builders against keras.applications' same networks.

`python -m benchmarks.applications` builds each network twice, with garden's builder and with
the keras.applications model the registry names as its twin (same layers, same weight order:
garden's weights are copied into it, so both train the same numbers), compiles both with the
same optimizer (SGD with momentum) and loss, and times whole epochs of `model.fit` over the
same in-memory images, interleaved. The row is garden's images/s over keras.applications'
(above 1: garden trains faster). Sizes are picked for 2 CPU cores: MobileNet v1 (alpha 0.5) at
96x96 as in the issue, ResNet-50 and VGG-16 at 32x32 (their smallest input).
"""


import keras
import numpy as np

from benchmarks import _timing
from garden import models

# name -> (builder arguments, batch size, steps per epoch)
NETWORKS = {
    "mobilenet_v1": ({"alpha": 0.5, "input_shape": (96, 96, 3), "classes": 10}, 64, 4),
    "resnet50": ({"input_shape": (32, 32, 3), "classes": 10}, 32, 4),
    "vgg16": ({"input_shape": (32, 32, 3), "classes": 10}, 32, 2),
}
TINY = {"mobilenet_v1": ({"alpha": 0.25, "input_shape": (32, 32, 3), "classes": 2}, 4, 1)}


def pair(name, kwargs):
    """garden's `name` and its keras.applications twin, with garden's weights in both."""
    keras.utils.set_random_seed(0)
    garden = models.build(name, weights=None, **kwargs)
    application = getattr(keras.applications, models.get_entry(name).keras_application)
    twin = application(weights=None, **kwargs)
    if garden.count_params() != twin.count_params():
        raise AssertionError(f"{name}: garden has {garden.count_params():,} parameters, "
                             f"keras.applications {twin.count_params():,}")
    twin.set_weights(garden.get_weights())
    return garden, twin


def epoch_of(model, x, y, batch_size, eager=False):
    """A callable that trains `model` one epoch on `(x, y)`: SGD with momentum, cross-entropy
    (`eager`: uncompiled, for the tiny run, where tracing would cost more than the step)."""
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy",
                  run_eagerly=eager)
    return lambda: model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)


def rows(tiny=False, repeats=5):
    """One row per network: garden's training images/s over keras.applications'."""
    networks, repeats = (TINY, 1) if tiny else (NETWORKS, repeats)
    result = []
    for name, (kwargs, batch_size, steps) in networks.items():
        rng = np.random.default_rng(0)
        x = rng.random((batch_size * steps, *kwargs["input_shape"]), dtype=np.float32)
        y = rng.integers(0, kwargs["classes"], len(x))
        garden, twin = pair(name, kwargs)
        seconds = _timing.interleave(
            {"garden": epoch_of(garden, x, y, batch_size, eager=tiny),
             "keras.applications": epoch_of(twin, x, y, batch_size, eager=tiny)},
            repeats=repeats, warmup=0 if tiny else 1)
        result.append(_timing.row(
            "applications", f"{name} train images/s: garden / keras.applications",
            _timing.ratios(seconds, "keras.applications", "garden"), "throughput ratio",
            builder_kwargs={k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()},
            batch_size=batch_size, images_per_epoch=len(x), repeats=repeats,
            garden_images_per_second=len(x) / float(np.median(seconds["garden"])),
            keras_applications_images_per_second=(
                len(x) / float(np.median(seconds["keras.applications"])))))
    return result


def main(argv=None):
    return _timing.repeats_main(rows, __doc__, argv)


if __name__ == "__main__":
    main()
