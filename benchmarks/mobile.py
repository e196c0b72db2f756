"""The mobile report: per model and quantization mode, what a phone developer looks for.

`python -m benchmarks.mobile [--models NAME ...] [--docs docs/mobile.json]` converts each
registered model (full size by default; `build_small()` instances with `--small`) to float,
float16, dynamic-range and int8 TFLite files with `garden.export.tflite` (int8 calibrated on
random inputs: size, speed and op coverage do not depend on the ranges found) and measures, per
file: its size, its op count, whether TFLite's GPU delegate can run every op
(`tf.lite.experimental.Analyzer(gpu_compatibility=True)`; the first incompatible op is named),
and its batch-1 latency with LiteRT (XNNPACK, its default CPU delegate) on 1 and 2 threads,
interleaved with the float file. It writes `results/mobile.json` (the machine, the versions and
every record, written after each model: `--resume` skips the models already there, and the
test accuracy of the TFLite files that bundled recipes exported, read from `--runs`); `--docs
docs/mobile.json` also copies it where the documentation's mobile page and each model's page are
generated from (docs/pages.py). Peak
memory is not reported: LiteRT's Python interpreter does not expose it. The harness rows (`rows`)
are each mode's size and latency over the float file's.
"""

import argparse
import contextlib
import datetime
import io
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from benchmarks import _timing
from garden import export, models
from garden.recipes import bundled_recipes, load_recipe, variants
from garden.utils.files import write_text

MODES = ("float", "float16", "dynamic", "int8")
CALIBRATION = 8
RUNS = 10  # the most inferences per timed repetition
TARGET_SECONDS = 0.2  # fewer inferences per repetition where the float file is slower


def random_inputs(model, count):
    """Inputs for `model`: uniform [0, 1) floats, small ids for integer inputs (graphs of 8
    nodes where the size is free)."""
    rng = np.random.default_rng(0)
    arrays = []
    for tensor in model.inputs:
        shape = (count, *(8 if size is None else size for size in tensor.shape[1:]))
        arrays.append(rng.integers(0, 3, shape).astype(tensor.dtype) if "int" in str(tensor.dtype)
                      else rng.random(shape, dtype=np.float32))
    return arrays


def analyse(path):
    """Op count and GPU-delegate compatibility of a `.tflite` file, from TFLite's Analyzer."""
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        tf.lite.experimental.Analyzer.analyze(model_path=str(path), gpu_compatibility=True)
    text = text.getvalue()
    warning = re.search(r"GPU COMPATIBILITY WARNING: (.*)", text)
    return {"ops": len(re.findall(r"^\s*Op#\d+ ", text, re.MULTILINE)),
            "gpu_compatible": "looks compatible with GPU delegate" in text,
            "gpu_first_incompatible": warning.group(1).strip() if warning else None}


def invoker(path, inputs, threads, runs):
    """A callable running `runs` batch-1 inferences of the file through its signature."""
    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    runner = interpreter.get_signature_runner()
    details = runner.get_input_details()
    feed = {}
    for (name, given), x in zip(sorted(details.items()), inputs):
        scale, zero_point = given["quantization"]
        if np.issubdtype(given["dtype"], np.integer) and scale:
            x = np.clip(np.round(x / scale + zero_point), -128, 127)
        feed[name] = x[:1].astype(given["dtype"])

    def run():
        for _ in range(runs):
            runner(**feed)

    return run


def inferences_per_repetition(path, inputs, threads):
    """How many inferences of the float file take about `TARGET_SECONDS` (1 to `RUNS`)."""
    once = invoker(path, inputs, threads, 1)
    once()
    start = time.perf_counter()
    once()
    return max(1, min(RUNS, round(TARGET_SECONDS / (time.perf_counter() - start))))


def study(name, model, modes=MODES, threads=(1, 2), repeats=3):
    """Records {mode: {...}} of one model's files: size, ops, GPU compatibility, latency."""
    network = export.deployables(model)[0]
    data_model = model if network.role == "step" else network.network
    calibration = random_inputs(data_model, CALIBRATION)
    names = [t.name for t in data_model.inputs]
    by_name = sorted(zip(names, calibration))  # the order of the signature's inputs
    records = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for mode in modes:
            paths[mode] = export.tflite(
                model, Path(tmp) / f"{mode}.tflite", mode,
                representative_data=calibration if len(calibration) > 1 else calibration[0],
                num_calibration_samples=CALIBRATION)
            records[mode] = {"size_bytes": paths[mode].stat().st_size, **analyse(paths[mode])}
        if network.role == "step":  # a step file's inputs are a character and the state
            runner = Interpreter(model_path=str(paths["float"])).get_signature_runner()
            by_name = [(n, np.zeros((1, *d["shape"][1:]), d["dtype"]))
                       for n, d in sorted(runner.get_input_details().items())]
        inputs = [x for _, x in by_name]
        for n in threads:
            runs = inferences_per_repetition(paths["float"], inputs, n)
            seconds = _timing.interleave({mode: invoker(path, inputs, n, runs)
                                          for mode, path in paths.items()},
                                         repeats=repeats, warmup=1)
            for mode in modes:
                records[mode][f"latency_ms_{n}_threads"] = (
                    1000 * statistics.median(seconds[mode]) / runs)
                records[mode][f"latency_over_float_{n}_threads"] = _timing.ratios(
                    seconds, mode, "float")
    return {"model": name, "network": network.description, "modes": records}


def recipe_accuracy(runs_dir="runs"):
    """What quantization costs a trained model: for every run of a bundled recipe that exports
    TFLite files (`[export]`), found in `runs_dir`, the test accuracy of the Keras model and of
    each file (`garden.export.verify` on the test split, as `garden train` recorded it)."""
    rows = []
    for path in sorted(Path(runs_dir).glob("*/results.json")):
        summary = json.loads(path.read_text())
        if summary["name"] not in bundled_recipes():
            continue
        model_of = {variant: found["model"]["name"]
                    for variant, found in variants(load_recipe(summary["name"]))}
        for result in summary["results"]:
            files = {fmt: row["accuracy"] for fmt, row in result.get("exports", {}).items()
                     if "accuracy" in row}
            if files:
                rows.append({"recipe": summary["name"], "variant": result["variant"],
                             "seed": result["seed"], "model": model_of[result["variant"]],
                             "keras": result["test_accuracy"], **files})
    return rows


def build(name, small):
    keras.utils.set_random_seed(0)
    entry = models.get_entry(name)
    return entry.build_small() if small else models.build(name)


def rows(tiny=False, repeats=3):
    """Harness rows: each mode's size and latency over the float file's (tiny: one small
    model, float and int8, one thread, one repetition)."""
    if tiny:
        studies = [study("selu_mlp", build("selu_mlp", True), ("float", "int8"), (1,), 1)]
    else:
        studies = [study(name, build(name, False), repeats=repeats)
                   for name in models.list_models()]
    return _rows(studies)


def _rows(studies):
    result = []
    for record in studies:
        float_bytes = record["modes"]["float"]["size_bytes"]
        for mode, found in record["modes"].items():
            if mode == "float":
                continue
            result.append(_timing.row("mobile", f"{record['model']} {mode} size / float",
                                      [found["size_bytes"] / float_bytes], "size ratio",
                                      bytes=found["size_bytes"], float_bytes=float_bytes))
            for key, values in found.items():
                if key.startswith("latency_over_float_"):
                    threads = key.rsplit("_", 2)[1]
                    result.append(_timing.row(
                        "mobile", f"{record['model']} {mode} latency / float, {threads} "
                        "thread(s)", values, "time ratio",
                        ms=found[f"latency_ms_{threads}_threads"]))
    return result


def main(argv=None):
    from benchmarks.__main__ import machine, versions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=None, help="registry names (all)")
    parser.add_argument("--small", action="store_true", help="the build_small() instances")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default="results/mobile.json")
    parser.add_argument("--docs", help="also write the report here (docs/mobile.json)")
    parser.add_argument("--runs", default="runs", help="where `garden train` wrote the runs "
                        "whose exported files' accuracy the report includes")
    parser.add_argument("--note", default="", help="how the run was made, shown on the page "
                        "(e.g. what else shared the machine)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the models already in --output and study the rest")
    args = parser.parse_args(argv)
    output = Path(args.output)
    studies = (json.loads(output.read_text())["records"]
               if args.resume and output.exists() else [])
    done = {record["model"] for record in studies}
    report = {"machine": machine(), "versions": versions(), "small": args.small,
              "date": datetime.date.today().isoformat(), "note": args.note, "records": studies,
              "accuracy": recipe_accuracy(args.runs)}
    for name in args.models or models.list_models():
        if name not in done:
            studies.append(study(name, build(name, args.small), repeats=args.repeats))
            write_text(output, json.dumps(report, indent=1, default=float))
    print(_timing.format_table(_rows(studies)))
    if args.docs:
        write_text(args.docs, json.dumps(report, indent=1, default=float))
    return report


if __name__ == "__main__":
    main()
