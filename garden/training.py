"""Recipes: one TOML file per experiment, trained by `garden train` (format: training/README.md).

A recipe names a registered model and its arguments, the data, the optimizer, loss, epochs and
callbacks, optional exports, and optionally variants and seeds to compare. `train` runs each
variant once per seed, each in its own run directory with a backup that lets an interrupted run
resume from its last finished epoch, and returns (and prints) a table of the results.
"""

import copy
import csv
import dataclasses
import importlib
import json
import math
import shutil
import statistics
import sys
import time
import tomllib
from pathlib import Path

import keras

from garden import callbacks as garden_callbacks
from garden import data as garden_data
from garden import losses as garden_losses
from garden import metrics as garden_metrics
from garden import export as garden_export
from garden import models
from garden import schedules as garden_schedules
from garden.data import transforms as data_transforms
from garden.utils.files import atomic_path, write_text

SECTIONS = {
    "name": str,
    "paper": str,
    "claim": str,
    "description": str,
    "seeds": list,
    "model": dict,
    "data": dict,
    "train": dict,
    "export": dict,
    "variants": dict,
}
TRAIN_KEYS = {
    "epochs", "optimizer", "loss", "metrics", "callbacks", "procedure", "options", "loss_weights",
}
EXPORT_FORMATS = ("saved_model", "float", "float16", "dynamic", "int8")


@dataclasses.dataclass
class Run:
    """One training run of a recipe: what a `procedure` receives.

    Attributes:
        recipe: the recipe with this run's variant applied.
        variant: the variant's name ("default" when the recipe has none).
        seed: the random seed of this run.
        model: the compiled model.
        train_data: the training split, batched.
        test_data: the test split, batched.
        callbacks: the recipe's callbacks plus the run's backup and history logger.
        run_dir: directory for this run's files.
    """

    recipe: dict
    variant: str
    seed: int
    model: keras.Model
    train_data: object
    test_data: object
    callbacks: list
    run_dir: Path

    @property
    def epochs(self):
        return self.recipe["train"].get("epochs", 1)


def load_recipe(path):
    """Reads and validates a recipe file; the name defaults to the file's stem."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"recipe {str(path)!r} does not exist")
    with open(path, "rb") as f:
        try:
            recipe = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"recipe {str(path)!r} is not valid TOML: {e}") from None
    recipe.setdefault("name", path.stem)
    return validate_recipe(recipe, source=str(path))


def validate_recipe(recipe, source="recipe"):
    """Checks a recipe's sections and fills defaults; returns the recipe."""
    unknown = sorted(set(recipe) - set(SECTIONS))
    if unknown:
        raise ValueError(
            f"{source}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(SECTIONS)}"
        )
    for key, kind in SECTIONS.items():
        if key in recipe and not isinstance(recipe[key], kind):
            raise ValueError(f"{source}: {key!r} must be a {kind.__name__}")
    for key in ("name", "model", "data"):
        if key not in recipe:
            raise ValueError(f"{source}: the [{key}] section is missing")
    if "name" not in recipe["model"]:
        raise ValueError(f"{source}: [model] needs a 'name' (one of `garden list`)")
    models.get_entry(recipe["model"]["name"])
    bad = sorted(set(recipe.get("train", {})) - TRAIN_KEYS)
    if bad:
        raise ValueError(
            f"{source}: unknown [train] key(s) {', '.join(bad)}; allowed: {', '.join(sorted(TRAIN_KEYS))}"
        )
    formats = recipe.get("export", {}).get("formats", [])
    wrong = [f for f in formats if f not in EXPORT_FORMATS]
    if wrong:
        raise ValueError(
            f"{source}: unknown export format(s) {', '.join(wrong)}; allowed: {', '.join(EXPORT_FORMATS)}"
        )
    recipe.setdefault("seeds", [0])
    return recipe


def _merge(base, override):
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def variants(recipe):
    """`[(variant_name, recipe)]`: the recipe with each `[variants.NAME]` table merged in."""
    base = {k: v for k, v in recipe.items() if k != "variants"}
    if not recipe.get("variants"):
        return [("default", base)]
    return [
        (name, validate_recipe(_merge(base, override), source=f"variant {name!r}"))
        for name, override in recipe["variants"].items()
    ]


def _tuples(value):
    """TOML has no tuples: shapes come as lists, builders expect tuples."""
    return tuple(value) if isinstance(value, list) else value


def build_model(recipe):
    """The recipe's model, built from the registry."""
    kwargs = {k: _tuples(v) for k, v in recipe["model"].items() if k != "name"}
    return models.build(recipe["model"]["name"], **kwargs)


def _transforms(specs, key):
    """Transforms from `{name, ...kwargs}` tables: factories of garden.data.transforms."""
    built = []
    for spec in specs:
        spec = dict(spec)
        name = spec.pop("name", None)
        factory = getattr(data_transforms, str(name), None)
        if not callable(factory):
            raise ValueError(f"[data] {key}: unknown transform {name!r}; see garden.data.transforms")
        built.append(factory(**spec))
    return built


def build_data(recipe, seed):
    """`(train, test)` datasets from `garden.data.load` with the recipe's [data] arguments.

    `transforms` and `batch_transforms` apply to the training split; `test_transforms` to the
    test split (e.g. Zhang et al. corrupt the pixels of both splits but the labels of neither).
    """
    cfg = {k: _tuples(v) for k, v in recipe["data"].items()}
    name = cfg.pop("name")
    train_transforms = _transforms(cfg.pop("transforms", ()), "transforms")
    batch_transforms = _transforms(cfg.pop("batch_transforms", ()), "batch_transforms")
    test_transforms = _transforms(cfg.pop("test_transforms", ()), "test_transforms")
    train = garden_data.load(
        name, "train", seed=seed, transforms=train_transforms,
        batch_transforms=batch_transforms, **cfg,
    )
    test = garden_data.load(name, "test", shuffle=False, seed=seed, transforms=test_transforms,
                            **cfg)
    return train, test


def _instantiate(spec, where, *modules):
    """`class_name(**config)` from a `{class_name, config}` table, the class looked up in order
    in `modules`."""
    name = str(spec.get("class_name"))
    for module in modules:
        cls = getattr(module, name, None)
        if isinstance(cls, type):
            return cls(**spec.get("config", {}))
    places = " or ".join(m.__name__ for m in modules)
    raise ValueError(f"{where}: unknown class_name {name!r}; use a class of {places}")


def build_callbacks(specs):
    """Callbacks from `{class_name, config}` tables, looked up in garden.callbacks then keras."""
    return [
        _instantiate(spec, "[train] callbacks", garden_callbacks, keras.callbacks)
        for spec in specs
    ]


def build_optimizer(spec):
    """The optimizer from a Keras identifier or `{class_name, config}`; a `learning_rate` given
    as a table is a schedule of garden.schedules or keras.optimizers.schedules."""
    spec = copy.deepcopy(spec)
    config = spec.get("config", {}) if isinstance(spec, dict) else {}
    if isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = _instantiate(
            config["learning_rate"], "[train] optimizer learning_rate",
            garden_schedules, keras.optimizers.schedules,
        )
    return keras.optimizers.get(spec)


def build_loss(spec):
    """The loss from a Keras identifier or `{class_name, config}` of garden.losses or
    keras.losses."""
    if isinstance(spec, dict):
        return _instantiate(spec, "[train] loss", garden_losses, keras.losses)
    return spec


def compile_model(model, train_cfg):
    """Compiles with the recipe's optimizer, loss and metrics: Keras identifiers, or
    `{class_name, config}` tables of garden.losses / keras.losses and garden.metrics /
    keras.metrics."""
    model.compile(
        optimizer=build_optimizer(train_cfg.get("optimizer", "adam")),
        loss=build_loss(train_cfg.get("loss", "sparse_categorical_crossentropy")),
        loss_weights=train_cfg.get("loss_weights"),
        metrics=[
            _instantiate(m, "[train] metrics", garden_metrics, keras.metrics)
            if isinstance(m, dict) else m
            for m in train_cfg.get("metrics", ["accuracy"])
        ],
    )


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


def _procedure(recipe):
    spec = recipe.get("train", {}).get("procedure", "garden.training:fit")
    module_name, _, func_name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError):
        raise ValueError(
            f"[train] procedure={spec!r} is not a 'module:function' that exists"
        ) from None


def read_history(run_dir):
    """The per-epoch log of CSVLogger as `{metric: [values]}` (its "NA" cells become NaN)."""
    path = run_dir / "history.csv"
    if not path.exists():
        return {}
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}

    def number(text):
        try:
            return float(text)
        except ValueError:
            return float("nan")

    return {k: [number(r[k]) for r in rows] for k in rows[0] if k != "epoch"}


def plot_history(history, path, title=""):
    """Saves the training curves (one panel per metric) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted(k for k in history if not k.startswith("val_") and k != "learning_rate")
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.5), squeeze=False)
    for ax, key in zip(axes[0], keys):
        epochs = range(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label="test")
            ax.legend()
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return str(path)


def _export(model, recipe, test_data, train_data, out_dir):
    """Writes the recipe's exports and verifies each TFLite file on the test split."""
    rows = {}
    for fmt in recipe.get("export", {}).get("formats", []):
        if fmt == "saved_model":
            path = garden_export.saved_model(model, out_dir / "saved_model")
            rows[fmt] = {"path": str(path)}
            continue
        quantize = None if fmt == "float" else fmt
        path = garden_export.tflite(
            model, out_dir / f"model_{fmt}.tflite", quantize=quantize,
            representative_data=train_data if fmt == "int8" else None,
        )
        report = garden_export.verify(model, path, test_data)
        rows[fmt] = {"path": str(path), **report.as_dict()}
    return rows


def train_one(recipe, variant, seed, *, runs_dir="runs", export_dir="saved_models", fresh=False):
    """Trains one variant with one seed and returns its results (reused if already finished)."""
    run_dir = Path(runs_dir) / recipe["name"] / variant / f"seed{seed}"
    result_path = run_dir / "result.json"
    if result_path.exists() and not fresh:
        print(f"[{recipe['name']}/{variant}/seed{seed}] finished before: {result_path}")
        return json.loads(result_path.read_text())
    if fresh and run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)

    keras.utils.set_random_seed(seed)
    model = build_model(recipe)
    train_data, test_data = build_data(recipe, seed)
    compile_model(model, recipe.get("train", {}))
    run = Run(
        recipe=recipe,
        variant=variant,
        seed=seed,
        model=model,
        train_data=train_data,
        test_data=test_data,
        callbacks=[
            *build_callbacks(recipe.get("train", {}).get("callbacks", [])),
            keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
            keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
        ],
        run_dir=run_dir,
    )
    print(f"[{recipe['name']}/{variant}/seed{seed}] {model.name}: "
          f"{model.count_params():,} parameters, {run.epochs} epochs")
    start = time.perf_counter()
    scores = _procedure(recipe)(run)
    seconds = time.perf_counter() - start

    result = {
        "variant": variant,
        "seed": seed,
        "parameters": model.count_params(),
        "train_seconds": round(seconds, 1),
        **scores,
    }
    history = read_history(run_dir)
    if history:
        result["curve"] = plot_history(history, run_dir / "curve.png", f"{recipe['name']} {variant}")
    with atomic_path(run_dir / "model.keras") as tmp:
        model.save(tmp)
    exports = recipe.get("export", {}).get("formats")
    if exports:
        many = len(recipe.get("seeds", [0])) > 1 or variant != "default"
        out_dir = Path(export_dir) / recipe["name"]
        out_dir = out_dir / f"{variant}-seed{seed}" if many else out_dir
        result["exports"] = _export(model, recipe, test_data, train_data, out_dir)
    write_text(result_path, json.dumps(result, indent=2))
    return result


def summarize(results):
    """Rows of `{variant, runs, metric: (mean, spread)}` over seeds, in recipe order."""
    by_variant = {}
    for r in results:
        by_variant.setdefault(r["variant"], []).append(r)
    rows = []
    for variant, runs in by_variant.items():
        row = {"variant": variant, "runs": len(runs)}
        keys = [k for k, v in runs[0].items() if isinstance(v, (int, float)) and k != "seed"]
        for key in keys:
            values = [r[key] for r in runs]
            if len(values) < 2:
                spread = 0.0
            elif any(math.isnan(v) for v in values):
                spread = math.nan  # statistics.stdev cannot take NaN (e.g. a target never reached)
            else:
                spread = statistics.stdev(values)
            row[key] = (statistics.fmean(values), spread)
        rows.append(row)
    return rows


def format_table(rows):
    """A Markdown table of `summarize` rows: mean ± standard deviation across seeds."""
    keys = [k for k in rows[0] if k not in ("variant", "runs")]
    lines = ["| variant | runs | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
    for row in rows:
        cells = []
        for key in keys:
            mean, spread = row.get(key, (float("nan"), 0.0))
            text = f"{mean:,.0f}" if key == "parameters" else f"{mean:.4g}"
            cells.append(text + (f" ± {spread:.2g}" if row["runs"] > 1 else ""))
        lines.append(f"| {row['variant']} | {row['runs']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def train(recipe, *, runs_dir="runs", export_dir="saved_models", fresh=False):
    """Runs every variant of a recipe (a path or a dict) for every seed; prints and returns
    `{"name", "results": [...], "table": str}` and writes `runs/NAME/results.json`."""
    if not isinstance(recipe, dict):
        recipe = load_recipe(recipe)
    else:
        recipe = validate_recipe(copy.deepcopy(recipe))
    results = [
        train_one(variant_recipe, variant, seed, runs_dir=runs_dir, export_dir=export_dir,
                  fresh=fresh)
        for variant, variant_recipe in variants(recipe)
        for seed in recipe["seeds"]
    ]
    table = format_table(summarize(results))
    print(f"\n{recipe['name']}" + (f": {recipe['claim']}" if recipe.get("claim") else ""))
    print(table)
    summary = {"name": recipe["name"], "claim": recipe.get("claim", ""), "results": results,
               "table": table}
    write_text(Path(runs_dir) / recipe["name"] / "results.json", json.dumps(summary, indent=2))
    return summary
