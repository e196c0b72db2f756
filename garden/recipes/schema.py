"""Reading and validating recipes: the only validator, and it runs before anything trains.

`load_recipe` reads a TOML file (or a bundled recipe by name) and `validate_recipe` resolves every
variant and checks it whole: the model and its arguments, the data and its arguments, transforms,
optimizer and schedules, loss, metrics, callbacks, the procedure and its declared options, export
formats, and the type and range of every known key. Each message names the file, the variant, the
key, the value and what is allowed, so a typo in the last variant fails in a second.
"""

import copy
import difflib
import importlib
import inspect
import tomllib
from importlib import resources
from pathlib import Path

from garden import models
from garden.data import _registry as data_registry
from garden.data import _sources as data_sources
from garden.recipes import build, distribute
from garden.recipes.procedures import REQUIRED
from garden.utils.checks import check_bool, check_choice, check_int, check_ints

SECTIONS = {
    "name": str,
    "paper": str,
    "claim": str,
    "time": str,
    "description": str,
    "compare": str,
    "seeds": list,
    "model": dict,
    "data": dict,
    "train": dict,
    "export": dict,
    "distribute": dict,
    "variants": dict,
}
TRAIN_KEYS = (
    "epochs", "optimizer", "loss", "metrics", "callbacks", "procedure", "options", "loss_weights",
)
LOAD_KEYS = ("image_size", "channels", "batch_size", "shuffle", "cache", "root", "verify")
EXPORT_FORMATS = ("saved_model", "float", "float16", "dynamic", "int8")
DEFAULT_PROCEDURE = "garden.recipes:fit"
MOVED = {
    "garden.training:fit": DEFAULT_PROCEDURE,
    "garden.tools.procedures:learning_curves": "garden.recipes.procedures.curves:learning_curves",
    "garden.tools.procedures:activation_statistics":
        "garden.recipes.procedures.selu:activation_statistics",
    "garden.tools.procedures:imbalance_metrics":
        "garden.recipes.procedures.class_imbalance:imbalance_metrics",
    "garden.tools.procedures:mc_dropout_evaluation":
        "garden.recipes.procedures.dropout:mc_dropout_evaluation",
    "garden.tools.capsules:capsnet_procedure": "garden.recipes.procedures.capsule_routing:capsnet_procedure",
    "garden.tools.segmentation:deeplab_procedure":
        "garden.recipes.procedures.deeplab_crf:deeplab_procedure",
    "garden.tools.spatial_transformer:stn_procedure": "garden.recipes.procedures.stn_distortions:stn_procedure",
    "garden.tools.super_resolution:sr_procedure":
        "garden.recipes.procedures.sr_photographs:sr_procedure",
    "garden.tools.landscape:surface_procedure":
        "garden.recipes.procedures.loss_landscape:surface_procedure",
    "garden.tools.learning_curve:procedure":
        "garden.recipes.procedures.data_scaling:learning_curve_procedure",
    "garden.sparsity.dsd:procedure": "garden.recipes.procedures.dense_sparse_dense:dsd_procedure",
}


def bundled_recipes():
    """Names of the recipes shipped with garden (`garden/recipes/training/*.toml`)."""
    folder = resources.files("garden.recipes") / "training"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_recipe(path):
    """Reads and validates a recipe file, or a bundled recipe by name (e.g.
    "mobilenet_v1_digits"); the name defaults to the file's stem."""
    recipe, source = read_recipe(path)
    return validate_recipe(recipe, source=source)


def read_recipe(path):
    """`(recipe, source)`: a recipe file or bundled recipe parsed, not yet validated (no
    TensorFlow operation runs, so a multi-worker strategy can start next)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"recipe {str(path)!r} is a directory: give a .toml file")
    if path.is_file():
        text, source = path.read_text(), str(path)
    elif path.suffix in ("", ".toml") and path.parent == Path(".") and path.stem in bundled_recipes():
        file = resources.files("garden.recipes") / "training" / f"{path.stem}.toml"
        text, source = file.read_text(), f"bundled recipe {path.stem}"
    else:
        close = difflib.get_close_matches(path.stem, bundled_recipes(), n=3, cutoff=0.8)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ValueError(f"recipe {str(path)!r} does not exist: it is neither a file nor a "
                         f"bundled recipe ({hint}`garden recipes` lists them)")
    try:
        recipe = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"recipe {source!r} is not valid TOML: {e}") from None
    recipe.setdefault("name", path.stem)
    return recipe, source


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
    return [(name, _merge(base, override)) for name, override in recipe["variants"].items()]


def validate_recipe(recipe, source="recipe"):
    """Checks a recipe and every variant of it; fills defaults and returns the recipe.

    Raises:
        ValueError: naming the source (and variant), the key, the value and what is allowed.
    """
    _check_sections(recipe, source)
    recipe.setdefault("seeds", [0])
    if not recipe["seeds"] or not all(_is_int(s) and s >= 0 for s in recipe["seeds"]):
        raise ValueError(f"{source}: seeds={recipe['seeds']!r} is not allowed: use a list of "
                         "integers >= 0.")
    for name, override in recipe.get("variants", {}).items():
        if not isinstance(override, dict):
            raise ValueError(f"{source}: [variants.{name}] must be a table")
        if "distribute" in override:
            raise ValueError(f"{source}: [variants.{name}] sets distribute: a process trains "
                             "under one strategy, so [distribute] applies to the whole recipe")
    if "distribute" in recipe:
        try:
            distribute.check(recipe["distribute"])
        except ValueError as e:
            raise ValueError(f"{source}: {e}") from None
    for name, variant in variants(recipe):
        where = source if name == "default" else f"{source} [variant {name}]"
        _check_sections(variant, where)
        try:
            check_variant(variant)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
    return recipe


def _check_sections(recipe, source):
    unknown = sorted(set(recipe) - set(SECTIONS))
    if unknown:
        raise ValueError(
            f"{source}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(SECTIONS)}"
        )
    for key, kind in SECTIONS.items():
        if key in recipe and not isinstance(recipe[key], kind):
            raise ValueError(f"{source}: {key!r} must be a {kind.__name__}, "
                             f"received {recipe[key]!r}")
    for key in ("name", "model", "data"):
        if key not in recipe:
            raise ValueError(f"{source}: the [{key}] section is missing")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_variant(recipe):
    """Checks one resolved variant: every section's keys, types, ranges and names."""
    _check_model(recipe["model"])
    _check_data(recipe["data"], recipe["model"])
    _check_train(recipe.get("train", {}))
    formats = recipe.get("export", {}).get("formats", [])
    unknown = sorted(set(recipe.get("export", {})) - {"formats"})
    if unknown:
        raise ValueError(f"unknown [export] key(s) {', '.join(unknown)}; allowed: formats")
    wrong = [f for f in formats if f not in EXPORT_FORMATS]
    if not isinstance(formats, list) or wrong:
        raise ValueError(f"unknown export format(s) {', '.join(map(str, wrong or [formats]))}; "
                         f"allowed: {', '.join(EXPORT_FORMATS)}")


def _check_model(model):
    if "name" not in model:
        raise ValueError("[model] needs a 'name' (one of `garden list`)")
    entry = models.get_entry(model["name"])
    unknown = sorted(set(model) - {"name"} - set(entry.arguments))
    if unknown:
        raise ValueError(f"[model] {', '.join(unknown)}: not an argument of {model['name']}; "
                         f"it takes {', '.join(entry.arguments)}")


def _check_data(data, model):
    name = data.get("name")
    generated = data_registry.get(name) if isinstance(name, str) else None
    if not generated and not (isinstance(name, str) and data_sources.is_known(name)):
        names = ", ".join([*data_sources.EMBEDDED, "tfds:NAME", *data_registry.names()])
        raise ValueError(f"[data] name={name!r} is not allowed: use one of {names}")
    options = []
    if generated:
        options = [p for p in inspect.signature(generated.function).parameters
                   if p not in ("split", "seed")]
    allowed = ["name", *LOAD_KEYS, *build.TRANSFORM_KEYS, *options]
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValueError(f"unknown [data] key(s) {', '.join(unknown)} for dataset {name!r}; "
                         f"allowed: {', '.join(allowed)}")
    if "image_size" in data:
        check_ints("[data] image_size", data["image_size"], length=2)
    if "channels" in data:
        check_choice("[data] channels", data["channels"], (1, 3))
    check_int("[data] batch_size", data.get("batch_size", 32))
    for key in ("shuffle", "cache", "verify"):
        if key in data:
            check_bool(f"[data] {key}", data[key])
    for key in build.TRANSFORM_KEYS:
        if not isinstance(data.get(key, []), list):
            raise ValueError(f"[data] {key}={data[key]!r} is not allowed: use a list of tables")
        build.build_transforms(data.get(key, []), key)
    shape = model.get("input_shape")
    if not (isinstance(shape, list) and len(shape) == 3):
        return
    if "channels" in data and shape[-1] is not None and shape[-1] != data["channels"]:
        raise ValueError(f"[data] channels={data['channels']} does not match [model] "
                         f"input_shape={shape} (last axis {shape[-1]}): make them equal")
    if "image_size" in data and None not in shape[:2] and list(data["image_size"]) != shape[:2]:
        raise ValueError(f"[data] image_size={data['image_size']} does not match [model] "
                         f"input_shape={shape} (first two axes): make them equal")


def _check_train(train):
    unknown = sorted(set(train) - set(TRAIN_KEYS))
    if unknown:
        raise ValueError(f"unknown [train] key(s) {', '.join(unknown)}; "
                         f"allowed: {', '.join(sorted(TRAIN_KEYS))}")
    epochs = train.get("epochs", 1)
    if isinstance(epochs, list):
        check_ints("[train] epochs", epochs)
    else:
        check_int("[train] epochs", epochs)
    build.build_optimizer(train.get("optimizer", build.DEFAULT_OPTIMIZER))
    build.build_loss(train.get("loss", build.DEFAULT_LOSS))
    for key in ("metrics", "callbacks"):
        if not isinstance(train.get(key, []), list):
            raise ValueError(f"[train] {key}={train[key]!r} is not allowed: use a list")
    build.build_metrics(train.get("metrics", build.DEFAULT_METRICS))
    build.build_callbacks(train.get("callbacks", []))
    weights = train.get("loss_weights")
    values = weights.values() if isinstance(weights, dict) else weights or []
    if weights is not None and (not isinstance(weights, (list, dict))
                                or not all(isinstance(v, (int, float)) for v in values)):
        raise ValueError(f"[train] loss_weights={weights!r} is not allowed: use a list or table "
                         "of numbers")
    procedure_options(train)


def load_procedure(spec):
    """The procedure function named by a `"module:function"` string."""
    if spec in MOVED:
        raise ValueError(f"[train] procedure={spec!r} has moved: use {MOVED[spec]!r}")
    module_name, _, func_name = str(spec).partition(":")
    try:
        function = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError, ValueError):
        raise ValueError(f"[train] procedure={spec!r} is not a 'module:function' that exists "
                         "(garden's are in garden.recipes.procedures)") from None
    if not callable(function):
        raise ValueError(f"[train] procedure={spec!r} is not a function")
    return function


def procedure_options(train):
    """`[train] options` over the defaults the procedure declares, checked: no unknown option,
    every required one given, each of its default's type."""
    spec = train.get("procedure", DEFAULT_PROCEDURE)
    declared = getattr(load_procedure(spec), "options", {})
    given = train.get("options", {})
    if not isinstance(given, dict):
        raise ValueError(f"[train] options={given!r} is not allowed: use a table")
    takes = ", ".join(declared) or "no options"
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"[train] options {', '.join(unknown)} are not allowed: procedure "
                         f"{spec} takes {takes}")
    missing = [k for k, v in declared.items() if v is REQUIRED and k not in given]
    if missing:
        raise ValueError(f"[train] options: procedure {spec} needs {', '.join(missing)}")
    for key, value in given.items():
        default = declared[key]
        if default is None or default is REQUIRED:
            continue
        kinds = {bool: (bool,), int: (int,), float: (int, float), str: (str,),
                 tuple: (list, tuple), list: (list, tuple)}[type(default)]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise ValueError(f"[train] options.{key}={value!r} is not allowed: use a value of "
                             f"type {type(default).__name__}, like the default {default!r}")
    return {**declared, **given}
