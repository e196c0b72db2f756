"""Running a recipe: every variant once per seed, each in a run directory keyed on its content.

A run directory records the resolved variant recipe that produced it (`recipe.json`, with its
hash). Started again with the same recipe, a finished run is reused and an interrupted one resumes
from its last finished epoch (`keras.callbacks.BackupAndRestore`); with a changed recipe the run
stops with a one-line error naming `--fresh`, so neither a stale result nor another recipe's
checkpoint is ever used.
"""

import copy
import dataclasses
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import keras

from garden import export as garden_export
from garden.recipes import build, distribute, results, schema
from garden.recipes.distribute import LOCAL
from garden.recipes.procedures import procedure
from garden.utils.files import atomic_path, write_text

# Keys that describe a recipe without changing what a run computes.
UNKEYED = ("seeds", "paper", "claim", "time", "description", "compare")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run; the message says where, and that the same command resumes."""


@dataclasses.dataclass
class Run:
    """One training run of a recipe: what a procedure receives.

    Attributes:
        recipe: the recipe with this run's variant applied.
        variant: the variant's name ("default" when the recipe has none).
        seed: the random seed of this run.
        model: the compiled model.
        train_data: the training split, batched.
        test_data: the test split, batched.
        callbacks: the recipe's callbacks plus the run's backup and history logger.
        run_dir: directory for this run's files.
        options: the procedure's `[train] options` over its declared defaults.
    """

    recipe: dict
    variant: str
    seed: int
    model: keras.Model
    train_data: object
    test_data: object
    callbacks: list
    run_dir: Path
    options: dict = dataclasses.field(default_factory=dict)

    @property
    def epochs(self):
        return self.recipe.get("train", {}).get("epochs", 1)


@procedure()
def fit(run):
    """The default procedure: `model.fit` on the training split (the test split is evaluated after
    each epoch for the curves only; nothing is selected on it), then the final test scores."""
    run.model.fit(
        run.train_data,
        validation_data=run.test_data,
        epochs=run.epochs,
        callbacks=run.callbacks,
        shuffle=False,  # garden.data.load shuffles the training split itself
        verbose=1 if sys.stdout.isatty() else 2,
    )
    scores = run.model.evaluate(run.test_data, return_dict=True, verbose=0)
    return {f"test_{k}": float(v) for k, v in scores.items()}


def recipe_key(recipe, seed):
    """The hash of what a run computes: the resolved variant recipe and the seed."""
    content = {k: v for k, v in recipe.items() if k not in UNKEYED}
    text = json.dumps({"recipe": content, "seed": seed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _flat(table, prefix=""):
    flat = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _changes(old, new):
    """The keys that differ between two recipes, as `key old -> new`."""
    old, new = _flat(old), _flat(new)
    keys = sorted(k for k in set(old) | set(new)
                  if k not in UNKEYED and old.get(k, "unset") != new.get(k, "unset"))
    text = ", ".join(f"{k} {old.get(k, 'unset')!r} -> {new.get(k, 'unset')!r}" for k in keys[:3])
    return text + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")


def _check_same_recipe(run_dir, recipe, key):
    """Raises ValueError if `run_dir` holds a run of another recipe."""
    recorded = run_dir / "recipe.json"
    if not recorded.is_file():
        raise ValueError(f"{run_dir} holds a run that records no recipe, so it is not reused: "
                         "run again with --fresh to retrain it")
    old = json.loads(recorded.read_text())
    if old["hash"] != key:
        raise ValueError(f"{run_dir} holds a run of another recipe "
                         f"({_changes(old['recipe'], recipe) or 'seed'}): run again with "
                         "--fresh to retrain it")


def _finished_epochs(run_dir):
    history = results.read_history(run_dir)
    return len(next(iter(history.values()), []))


def _remove_if_untrained(run_dir, runs_dir):
    """Removes a run directory with no finished epoch, and its parents left empty."""
    if _finished_epochs(run_dir) or (run_dir / "backup").exists():
        return
    shutil.rmtree(run_dir, ignore_errors=True)
    for parent in run_dir.parents:
        if parent == Path(runs_dir) or not parent.is_dir() or any(parent.iterdir()):
            break
        parent.rmdir()


def _add_seconds(run_dir, seconds):
    """Adds `seconds` to the run's total training time over its sessions; returns the total."""
    path = run_dir / "train_seconds.json"
    total = json.loads(path.read_text())["train_seconds"] if path.exists() else 0.0
    total += seconds
    write_text(path, json.dumps({"train_seconds": total}))
    return total


def _export(model, recipe, test_data, train_data, out_dir):
    """Writes the recipe's exports and verifies each TFLite file on the test split."""
    rows = {}
    for fmt in recipe.get("export", {}).get("formats", []):
        if fmt == "saved_model":
            path = garden_export.saved_model(model, out_dir / "saved_model")
            rows[fmt] = {"path": str(path)}
            continue
        path = garden_export.tflite(
            model, out_dir / f"model_{fmt}.tflite", quantize=fmt,
            representative_data=train_data if fmt == "int8" else None,
        )
        verified = garden_export.verify(model, path, test_data)
        rows[fmt] = {"path": str(path), **verified.as_dict()}
    return rows


def _scores(spec, scores):
    """The procedure's scores, checked to be named numbers."""
    bad = {k: v for k, v in scores.items()
           if not isinstance(v, (int, float)) or isinstance(v, bool)}
    if bad:
        raise ValueError(f"procedure {spec} returned {bad!r}: procedures return floats only "
                         "(write figures and files into run.run_dir)")
    return {k: float(v) for k, v in scores.items()}


def _total_epochs(recipe):
    epochs = recipe.get("train", {}).get("epochs", 1)
    return sum(epochs) if isinstance(epochs, list) else epochs


def train_one(recipe, variant, seed, *, runs_dir="runs", export_dir="saved_models", fresh=False,
              engine=LOCAL):
    """Trains one variant with one seed and returns its results (reused if already finished).

    Under a strategy (`engine`, from `distribute.start`; call this in its scope, as `train`
    does) a non-chief worker reads the chief's run directory and writes to its scratch one.

    Raises:
        ValueError: the run directory holds a run of another recipe (and `fresh` is False).
        Interrupted: on Ctrl-C, saying at which epoch; the same call resumes there.
    """
    label = f"[{recipe['name']}/{variant}/seed{seed}]"
    run_dir = Path(runs_dir) / recipe["name"] / variant / f"seed{seed}"
    key = recipe_key(recipe, seed)
    if not engine.is_chief:  # reads the chief's run directory, writes a mirror of it
        if not fresh and (run_dir / "result.json").exists():
            return json.loads((run_dir / "result.json").read_text())
        run_dir = distribute.worker_dir(engine, run_dir, runs_dir, resume=not fresh)
        runs_dir, export_dir = engine.scratch / "runs", engine.scratch / "saved_models"
    if fresh and run_dir.exists():
        shutil.rmtree(run_dir)
    if run_dir.exists():
        _check_same_recipe(run_dir, recipe, key)
        if (run_dir / "result.json").exists():
            print(f"{label} finished before: {run_dir / 'result.json'}")
            return json.loads((run_dir / "result.json").read_text())
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text(run_dir / "recipe.json",
               json.dumps({"hash": key, "seed": seed, "recipe": recipe}, indent=2))
    spec = recipe.get("train", {}).get("procedure", schema.DEFAULT_PROCEDURE)
    try:
        model, train_data, test_data = build.build_training(recipe, seed)
        if engine.strategy:
            train_data, test_data = (distribute.pipeline(data, engine.replicas)
                                     for data in (train_data, test_data))
        run = Run(
            recipe=recipe, variant=variant, seed=seed, model=model, train_data=train_data,
            test_data=test_data, run_dir=run_dir,
            callbacks=[
                *build.build_callbacks(recipe.get("train", {}).get("callbacks", []), run_dir),
                keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
                keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
            ],
            options=schema.procedure_options(recipe.get("train", {})),
        )
        print(f"{label} {model.name}: {model.count_params():,} parameters, {run.epochs} epochs")
        if engine.strategy:
            print(f"{label} {distribute.describe(recipe)}")
        start = time.perf_counter()
        try:
            scores = _scores(spec, schema.load_procedure(spec)(run))
        finally:
            seconds = _add_seconds(run_dir, time.perf_counter() - start)
    except KeyboardInterrupt:
        epoch = min(_finished_epochs(run_dir) + 1, _total_epochs(recipe))
        _remove_if_untrained(run_dir, runs_dir)
        raise Interrupted(f"{label} interrupted at epoch {epoch}/{_total_epochs(recipe)}; "
                          "run the same command to resume") from None
    except BaseException:
        _remove_if_untrained(run_dir, runs_dir)
        raise

    result = {
        "variant": variant,
        "seed": seed,
        "parameters": model.count_params(),
        "train_seconds": round(seconds, 1),
        **scores,
    }
    history = results.read_history(run_dir)
    if history:
        result["curve"] = str(results.plot_history(history, run_dir / "curve.png",
                                                  f"{recipe['name']} {variant}"))
    with atomic_path(run_dir / "model.keras") as tmp:
        model.save(tmp)
    if recipe.get("export", {}).get("formats"):
        many = len(recipe.get("seeds", [0])) > 1 or variant != "default"
        out_dir = Path(export_dir) / recipe["name"]
        out_dir = out_dir / f"{variant}-seed{seed}" if many else out_dir
        result["exports"] = _export(model, recipe, test_data, train_data, out_dir)
    write_text(run_dir / "result.json", json.dumps(result, indent=2))
    return result


def train(recipe, *, runs_dir="runs", export_dir="saved_models", fresh=False):
    """Runs every variant of a recipe (a path, a bundled recipe's name, or a dict) for every
    seed; prints and returns `{"name", "claim", "results": [...], "table": str}` and writes
    `runs/NAME/results.json`. The whole recipe is validated before anything trains.

    A recipe with a `[distribute]` section trains under its strategy (started first: a
    multi-worker strategy must start before any TensorFlow operation), with the global batch and
    scaled rates of `distribute.resolve`; only the chief writes `runs_dir` and `export_dir`."""
    source = "recipe"
    if isinstance(recipe, dict):
        recipe = copy.deepcopy(recipe)
    else:
        recipe, source = schema.read_recipe(recipe)
    engine = LOCAL
    if isinstance(recipe.get("distribute"), dict):
        try:
            engine = distribute.start(recipe["distribute"])
        except ValueError as e:
            raise ValueError(f"{source}: {e}") from None
    recipe = schema.validate_recipe(recipe, source=source)
    planned = [(variant, distribute.resolve(variant_recipe, engine) if engine.strategy
                else variant_recipe) for variant, variant_recipe in schema.variants(recipe)]
    try:
        with engine.scope():
            run_results = [
                train_one(variant_recipe, variant, seed, runs_dir=runs_dir,
                          export_dir=export_dir, fresh=fresh, engine=engine)
                for variant, variant_recipe in planned
                for seed in recipe["seeds"]
            ]
    finally:
        distribute.finish(engine)
    table = results.format_table(results.summarize(run_results))
    metric = recipe.get("compare", "test_accuracy")
    comparison = results.format_comparison(
        results.compare(run_results, metric), metric, baseline=planned[0][0])
    if "compare" in recipe and not any(metric in r for r in run_results):
        reported = sorted({k for r in run_results for k, v in r.items()
                           if isinstance(v, (int, float)) and k != "seed"})
        comparison = [f"compare = {metric!r}: no run reports it; the runs report "
                      f"{', '.join(reported)}"]
    print(f"\n{recipe['name']}" + (f": {recipe['claim']}" if recipe.get("claim") else ""))
    print("\n".join([table, *comparison]))
    summary = {"name": recipe["name"], "claim": recipe.get("claim", ""), "results": run_results,
               "table": table, "comparison": comparison}
    if engine.is_chief:
        write_text(Path(runs_dir) / recipe["name"] / "results.json",
                   json.dumps(summary, indent=2))
    return summary
