"""DSD against a dense baseline with the same epochs, on the embedded digits (Han et al. 2016).

`python -m benchmarks.dsd` trains the small CNN of `benchmarks.sparsity` on 16x16 digits with
SGD and momentum, three seeds each way: DSD (dense, then 50% of every layer's weights pruned
with the masks held, then dense again at a tenth of the learning rate) and the dense baseline,
which runs the same three phases, learning-rate drop included, without pruning. Prints the mean
and spread of test accuracy and loss; writes `results/dsd.json` and `results/dsd_seed0.png` (DSD's
curves). About 5 minutes on 2 idle CPU cores; `make bench` runs it shorter (`BENCH_ARGS`: 3
epochs per phase).
"""

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import keras

from benchmarks._timing import row
from benchmarks.sparsity import IMAGE_SIZE, small_cnn
from garden import data, sparsity
from garden.utils.files import write_text


def run(seed, target, epochs, learning_rate):
    keras.utils.set_random_seed(seed)
    train = data.load("digits", "train", image_size=IMAGE_SIZE, channels=1, batch_size=32,
                      seed=seed)
    test = data.load("digits", "test", image_size=IMAGE_SIZE, channels=1, batch_size=256)
    model = small_cnn()
    model.compile(keras.optimizers.SGD(learning_rate, momentum=0.9),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return sparsity.dsd(model, train, epochs=epochs, sparsity=target, validation_data=test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs=3, default=[10, 10, 10],
                        help="epochs of the dense, sparse and re-dense phases")
    parser.add_argument("--sparsity", type=float, default=0.5)
    parser.add_argument("--learning-rate", type=float, default=0.02)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default="results", help="output directory")
    args = parser.parse_args(argv)
    out = Path(args.out)

    results = {}
    for label, target in (("dsd", args.sparsity), ("dense baseline", 0.0)):
        runs = []
        for seed in args.seeds:
            result = run(seed, target, tuple(args.epochs), args.learning_rate)
            if label == "dsd" and seed == args.seeds[0]:
                result.plot(out / f"dsd_seed{seed}.png")
            phases = {p.name: p.metrics for p in result.phases}
            runs.append(phases)
            print(f"{label:15s} seed {seed}: " + "  ".join(
                f"{name} {m['accuracy']:.4f} (loss {m['loss']:.4f})" for name, m in phases.items()))
        results[label] = {"runs": runs}
        for metric in ("accuracy", "loss"):
            finals = [r["re-dense"][metric] for r in runs]
            results[label][metric] = (statistics.fmean(finals),
                                      statistics.stdev(finals) if len(finals) > 1 else 0.0)
    print(f"\ntest metrics over seeds {args.seeds} after {sum(args.epochs)} epochs (mean ± sd):")
    for label, scores in results.items():
        print(f"  {label:15s} accuracy {scores['accuracy'][0]:.4f} ± {scores['accuracy'][1]:.4f}  "
              f"loss {scores['loss'][0]:.4f} ± {scores['loss'][1]:.4f}")
    write_text(out / "dsd.json", json.dumps({"config": vars(args), **results}, indent=2))
    return results


# `make bench`'s configuration, and the tiny one the test tier runs.
BENCH_ARGS = ["--epochs", "3", "3", "3"]
TINY_ARGS = ["--epochs", "1", "1", "1", "--seeds", "0"]


def rows(tiny=False):
    """DSD's final test accuracy over the dense baseline's, seed by seed (median, min, max)."""
    args = TINY_ARGS if tiny else BENCH_ARGS
    with tempfile.TemporaryDirectory() as tmp:  # the tiny run's files are not kept
        result = main(args + ["--out", tmp] if tiny else args)
    pairs = zip(result["dsd"]["runs"], result["dense baseline"]["runs"], strict=True)
    return [row("dsd", "test accuracy: DSD / dense baseline, same epochs",
                [d["re-dense"]["accuracy"] / b["re-dense"]["accuracy"] for d, b in pairs],
                "accuracy ratio", args=args, dsd=result["dsd"]["accuracy"],
                dense_baseline=result["dense baseline"]["accuracy"])]


if __name__ == "__main__":
    main()
