"""Pruning on the embedded digits, as Blalock et al. ask it to be reported.

`python -m benchmarks.sparsity` trains a small CNN on 16x16 digits, then, from those weights,
prunes it gradually to compression ratios 2 to 32 with global magnitude, layerwise magnitude,
random and filter (structured) pruning while fine-tuning, and measures test accuracy: the
accuracy-vs-compression curves of "What is the State of Neural Network Pruning?" (Blalock et al. 2020). It
also exports the dense and the 90%-sparse model to TFLite and compares their gzip-compressed
sizes, and checks accuracy at 80% sparsity against dense. Prints a table; writes
`results/sparsity.json` and `results/sparsity_curves.png`. About 5 minutes on 2 idle CPU cores;
`make bench` runs it shorter (`BENCH_ARGS`: 10 dense epochs, 3 of fine-tuning per point).
"""

import argparse
import gzip
import json
import tempfile
from pathlib import Path

import keras

from benchmarks._timing import row
from garden import data, export, sparsity
from garden.utils.figures import pyplot, save_figure
from garden.utils.files import write_text

IMAGE_SIZE = (16, 16)
COMPRESSIONS = (2, 4, 8, 16, 32)
RANKINGS = {"global magnitude": "global", "layerwise magnitude": "layer", "random": "random",
            "filter (structured, classifier dense)": "filter"}


def small_cnn():
    """Two conv layers and two dense layers (about 57k weights, most in the first dense)."""
    return keras.Sequential([
        keras.Input((*IMAGE_SIZE, 1)),
        keras.layers.Conv2D(16, 3, activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu", name="conv2"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu", name="fc1"),
        keras.layers.Dense(10, activation="softmax", name="predictions"),
    ], name="small_cnn")


def compile_model(model, learning_rate):
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])


def accuracy(model, test):
    return float(model.evaluate(test, verbose=0, return_dict=True)["accuracy"])


def prune_and_finetune(dense, train, test, ranking, target, epochs):
    """Prunes a copy of `dense` gradually (Zhu & Gupta's PolynomialDecay from 0 to `target`
    over the first half of fine-tuning, every 10 steps), fine-tunes it with the masks held for
    the rest, and returns the stripped model and its test accuracy."""
    half = epochs * len(train) // 2
    schedule = sparsity.PolynomialDecay(0.0, target, begin_step=0, end_step=half, frequency=10)
    # A filter of the classifier is a class: structured pruning leaves that layer dense.
    exclude = ("predictions",) if ranking == "filter" else ()
    pruned = sparsity.prune_low_magnitude(dense, schedule, ranking=ranking, exclude=exclude)
    compile_model(pruned, 1e-3)
    pruned.fit(train, epochs=epochs, verbose=0, callbacks=[sparsity.UpdatePruningStep()])
    plain = sparsity.strip_pruning(pruned)
    compile_model(plain, 1e-3)
    return plain, accuracy(plain, test)


def gzip_size(path):
    return len(gzip.compress(Path(path).read_bytes(), compresslevel=9))


def plot(curves, dense_accuracy, path):
    fig, ax = pyplot().subplots(figsize=(6, 4))
    for name, points in curves.items():
        ratios = [p["compression_ratio"] for p in points]
        ax.plot(ratios, [p["accuracy"] for p in points], "o-", label=name)
    ax.axhline(dense_accuracy, color="k", linestyle="--", label="dense")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("compression ratio (all weights before / after)")
    ax.set_ylabel("test accuracy")
    ax.set_title("small CNN on 16x16 digits, pruned gradually while fine-tuned")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30, help="dense training epochs")
    parser.add_argument("--finetune", type=int, default=10, help="fine-tuning epochs per point")
    parser.add_argument("--compressions", type=int, nargs="+", default=list(COMPRESSIONS),
                        help="compression ratios of the curves")
    parser.add_argument("--rankings", nargs="+", choices=list(RANKINGS.values()),
                        default=list(RANKINGS.values()), help="rankings of the curves")
    parser.add_argument("--out", default="results", help="output directory")
    args = parser.parse_args(argv)
    out = Path(args.out)

    keras.utils.set_random_seed(0)
    train = data.load("digits", "train", image_size=IMAGE_SIZE, channels=1, batch_size=32)
    test = data.load("digits", "test", image_size=IMAGE_SIZE, channels=1, batch_size=256)
    dense = small_cnn()
    compile_model(dense, 1e-3)
    dense.fit(train, epochs=args.epochs, verbose=0)
    dense_accuracy = accuracy(dense, test)
    print(f"dense: test accuracy {dense_accuracy:.4f}, {dense.count_params():,} weights")

    curves = {}
    for name, ranking in RANKINGS.items():
        if ranking not in args.rankings:
            continue
        curves[name] = []
        for ratio in args.compressions:
            keras.utils.set_random_seed(0)
            model, acc = prune_and_finetune(dense, train, test, ranking, 1 - 1 / ratio,
                                            args.finetune)
            report = sparsity.sparsity_report(model)
            curves[name].append({
                "target_sparsity": 1 - 1 / ratio, "accuracy": acc,
                "compression_ratio": report.compression_ratio, "speedup": report.speedup,
            })
            print(f"{name:38s} x{ratio:<3d} accuracy {acc:.4f}  compression "
                  f"{report.compression_ratio:5.2f}x  speed-up {report.speedup:5.2f}x")
    plot(curves, dense_accuracy, out / "sparsity_curves.png")

    keras.utils.set_random_seed(0)
    at_80, accuracy_80 = prune_and_finetune(dense, train, test, "layer", 0.8, args.finetune)
    keras.utils.set_random_seed(0)
    at_90, accuracy_90 = prune_and_finetune(dense, train, test, "layer", 0.9, args.finetune)
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {}
        for label, model in (("dense", dense), ("sparse_90", at_90)):
            path = export.tflite(model, Path(tmp) / f"{label}.tflite")
            sizes[label] = {"tflite_bytes": path.stat().st_size, "gzip_bytes": gzip_size(path)}
    print(sparsity.sparsity_report(at_90))

    results = {
        "dense_accuracy": dense_accuracy,
        "curves": curves,
        "accuracy_at_80": accuracy_80,
        "accuracy_at_80_minus_dense": accuracy_80 - dense_accuracy,
        "accuracy_at_90": accuracy_90,
        "tflite": sizes,
        "gzip_ratio_90_vs_dense": sizes["sparse_90"]["gzip_bytes"] / sizes["dense"]["gzip_bytes"],
        "report_90": sparsity.sparsity_report(at_90).to_dict(),
    }
    write_text(out / "sparsity.json", json.dumps(results, indent=2))
    print(f"\n80% sparse (layerwise magnitude): accuracy {accuracy_80:.4f} "
          f"({accuracy_80 - dense_accuracy:+.4f} vs dense)")
    print(f"90% sparse TFLite, gzip: {sizes['sparse_90']['gzip_bytes']:,} bytes vs dense "
          f"{sizes['dense']['gzip_bytes']:,} = {results['gzip_ratio_90_vs_dense']:.3f}")
    print(f"wrote {out / 'sparsity.json'} and {out / 'sparsity_curves.png'}")
    return results


# `make bench`'s configuration, and the tiny one the test tier runs.
BENCH_ARGS = ["--epochs", "10", "--finetune", "3"]
TINY_ARGS = ["--epochs", "1", "--finetune", "1", "--compressions", "2", "--rankings", "filter"]


def rows(tiny=False):
    """The headline figures: the 90%-sparse TFLite file's gzip size over the dense one's, and
    test accuracy at 80% sparsity over dense (each one measurement: min = max)."""
    args = TINY_ARGS if tiny else BENCH_ARGS
    with tempfile.TemporaryDirectory() as tmp:  # the tiny run's files are not kept
        result = main(args + ["--out", tmp] if tiny else args)
    detail = {"args": args, "dense_accuracy": result["dense_accuracy"]}
    return [
        row("sparsity", "90% sparse TFLite gzip size / dense", [result["gzip_ratio_90_vs_dense"]],
            "size ratio", tflite=result["tflite"], **detail),
        row("sparsity", "accuracy at 80% sparse (layerwise) / dense",
            [result["accuracy_at_80"] / result["dense_accuracy"]], "accuracy ratio", **detail),
    ]


if __name__ == "__main__":
    main()
