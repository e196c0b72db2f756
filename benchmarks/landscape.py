"""Loss-surface evaluation speed: garden's compiled stateless evaluation against the naive loop.

`python -m benchmarks.landscape` trains a small CNN on the 1,437 training digits at 16x16, then
times a 21x21 filter-normalised loss surface over all of them with `garden.tools.loss_surface`
(one compiled `stateless_call` per grid point over batches held in memory) and, as the baseline in
the same run, the naive way: assign the moved weights to the model and call `model.evaluate` at
each point (timed on one row of the grid, 21 points, and scaled to 441). Checks both give the
same losses, prints a table and writes `results/landscape.json`. About 20 seconds on 2 CPU cores.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from benchmarks._timing import row
from garden import data, tools
from garden.utils.files import write_text


def small_cnn():
    return keras.Sequential([
        keras.Input((16, 16, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ], name="small_cnn")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=21, help="grid points per axis")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs before")
    parser.add_argument("--out", default="results", help="output directory")
    args = parser.parse_args(argv)
    steps = args.steps
    keras.utils.set_random_seed(0)
    batches = data.load("digits", "train", image_size=(16, 16), channels=1, batch_size=256,
                        shuffle=False)
    x = np.concatenate([np.asarray(b[0]) for b in batches])
    y = np.concatenate([np.asarray(b[1]) for b in batches])
    model = small_cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=args.epochs, batch_size=32, verbose=0)
    directions = [tools.filter_normalized_direction(model, seed) for seed in (0, 1)]

    start = time.perf_counter()
    surface = tools.loss_surface(model, "sparse_categorical_crossentropy", (x, y), directions,
                                 steps=steps)
    garden_seconds = time.perf_counter() - start

    base = tools.trainable_weights(model)
    naive = []
    start = time.perf_counter()
    for alpha in surface.alphas:  # the first row of the grid: beta = betas[0]
        for variable, w, d1, d2 in zip(model.trainable_variables, base, *directions, strict=True):
            variable.assign(w + alpha * d1 + surface.betas[0] * d2)
        naive.append(model.evaluate(x, y, batch_size=256, verbose=0))
    naive_row_seconds = time.perf_counter() - start
    for variable, w in zip(model.trainable_variables, base, strict=True):
        variable.assign(w)
    np.testing.assert_allclose(naive, surface.losses[:, 0], rtol=1e-4)

    naive_seconds = naive_row_seconds * steps
    rows = [
        ("garden.tools.loss_surface", garden_seconds),
        ("assign weights + model.evaluate (one row, scaled)", naive_seconds),
    ]
    print(f"{steps}x{steps} loss surface of a {model.count_params():,}-parameter CNN over {len(x):,} "
          "16x16 digits")
    print("| method | seconds | per point (ms) |\n|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {1000 * seconds / steps**2:.1f} |")
    print(f"speed-up: {naive_seconds / garden_seconds:.1f}x")
    result = {"examples": len(x), "parameters": model.count_params(), "grid": steps,
              "garden_seconds": garden_seconds, "naive_seconds": naive_seconds,
              "speedup": naive_seconds / garden_seconds}
    write_text(Path(args.out) / "landscape.json", json.dumps(result, indent=2))
    return result


def rows(tiny=False):
    """The speed-up of `garden.tools.loss_surface` over assigning weights + `model.evaluate`
    (one measurement: min = max)."""
    with tempfile.TemporaryDirectory() as tmp:  # the tiny run's file is not kept
        result = main(["--steps", "3", "--epochs", "1", "--out", tmp] if tiny else [])
    return [row("landscape", f"{result['grid']}x{result['grid']} loss surface: naive seconds / "
                "garden.tools.loss_surface", [result["speedup"]], "speed-up",
                garden_seconds=result["garden_seconds"], naive_seconds=result["naive_seconds"])]


if __name__ == "__main__":
    main()
