"""`garden demo` (`make demo`): the main job on the embedded default data.

Prepares the digits as TFRecords, trains the bundled MobileNet v1 recipe
`training/mobilenet_v1_digits.toml` from them (package data, so the demo runs from any directory),
exports SavedModel, float and int8 TFLite files to `saved_models/`, verifies both files with the
LiteRT interpreter, and prints a table of accuracy, size and latency.
"""

from garden import data, recipes

RECIPE = "mobilenet_v1_digits"  # a bundled recipe: garden/recipes/training/


def report_table(result):
    """The demo's table: the Keras model and each verified TFLite file, as Markdown."""
    exports = result["exports"]
    lines = [
        "| model | test accuracy | parameters | file size | batch-1 latency |",
        "|---|---|---|---|---|",
        f"| Keras (float32) | {result['test_accuracy']:.2%} | {result['parameters']:,} | | |",
    ]
    for fmt in ("float", "int8"):
        e = exports[fmt]
        lines.append(
            f"| TFLite {fmt} | {e['accuracy']:.2%} | | {e['size_bytes'] / 1024:,.0f} KiB "
            f"| {e['latency_ms']:.2f} ms |"
        )
    return "\n".join(lines)


def run(*, runs_dir="runs", export_dir="saved_models", fresh=False):
    """Runs the demo and returns the recipe's result dict."""
    print(f"prepared {data.prepare('digits')}")
    summary = recipes.train(RECIPE, runs_dir=runs_dir, export_dir=export_dir, fresh=fresh)
    result = summary["results"][0]
    exports = result["exports"]
    print("\n" + report_table(result))
    change = (exports["int8"]["accuracy"] - exports["float"]["accuracy"]) * 100 + 0.0  # no -0.00
    print(f"\nint8 vs float TFLite accuracy: {change:+.2f} points; "
          f"int8 file is {exports['int8']['size_bytes'] / exports['float']['size_bytes']:.2f}x "
          "the float file")
    print(f"SavedModel: {exports['saved_model']['path']}")
    print(f"training curve: {result['curve']}")
    return result
