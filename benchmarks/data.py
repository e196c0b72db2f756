"""`model.fit` from TFRecords through `garden.data.load` against the same arrays in memory.

`python -m benchmarks.data` prepares the digits as TFRecord shards in a temporary directory,
loads the training split as the demo does (32x32, one channel, batches of 32, in stored order),
reads the same examples into NumPy arrays, and trains the demo's model one epoch at a time from
each, interleaved: `garden.data.load` as it is (decoded examples cached in memory after the
first epoch) and with `cache=False` (every epoch reads and decodes the shards). Each row is the
epoch time from the pipeline over the epoch time from the arrays (1.0: the pipeline costs
nothing; the target is <= 1.05).
"""

import tempfile

import keras
import numpy as np

from benchmarks import _models, _timing
from garden import data

TINY_EXAMPLES = 32


def rows(tiny=False, repeats=5):
    """One row per pipeline: its epoch time over the in-memory arrays' epoch time."""
    recipe = _models.demo_recipe()
    options = {"image_size": tuple(recipe["data"]["image_size"]),
               "channels": recipe["data"]["channels"],
               "batch_size": recipe["data"]["batch_size"], "shuffle": False}
    repeats = 1 if tiny else repeats
    with tempfile.TemporaryDirectory() as root:
        data.prepare("digits", root)
        pipelines = {"cached": data.load("digits", root=root, **options),
                     "cache=False": data.load("digits", root=root, cache=False, **options)}
        if tiny:
            pipelines = {k: v.unbatch().take(TINY_EXAMPLES).batch(options["batch_size"])
                         for k, v in pipelines.items()}
        batches = list(pipelines["cache=False"].as_numpy_iterator())
        x = np.concatenate([b[0] for b in batches])
        y = np.concatenate([b[1] for b in batches])
        keras.utils.set_random_seed(0)
        model = _models.demo_model()
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                      run_eagerly=tiny)  # tiny: tracing would cost more than the steps
        functions = {name: (lambda d=d: model.fit(d, epochs=1, verbose=0))
                     for name, d in pipelines.items()}
        functions["arrays"] = lambda: model.fit(x, y, batch_size=options["batch_size"],
                                                epochs=1, shuffle=False, verbose=0)
        seconds = _timing.interleave(functions, repeats=repeats, warmup=0 if tiny else 1)
    return [_timing.row("data", f"fit epoch time: garden.data.load ({name}) / arrays in memory",
                        _timing.ratios(seconds, name, "arrays"), "time ratio",
                        examples=len(x), repeats=repeats, **options,
                        arrays_seconds_per_epoch=float(np.median(seconds["arrays"])))
            for name in pipelines]


def main(argv=None):
    return _timing.repeats_main(rows, __doc__, argv)


if __name__ == "__main__":
    main()
