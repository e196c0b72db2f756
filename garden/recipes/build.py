"""Building from a recipe: the model, the data, the optimizer, loss, metrics and callbacks.

Used once per run by the runner, by `garden lr-find` and by the learning-curve procedure; the
schema calls the same builders (without a model or data) to check a recipe when it is read.
"""

import copy
import difflib
import inspect

import keras

from garden import callbacks as garden_callbacks
from garden import data as garden_data
from garden import losses as garden_losses
from garden import metrics as garden_metrics
from garden import models
from garden import schedules as garden_schedules
from garden.data import transforms as data_transforms

DEFAULT_OPTIMIZER = "adam"
DEFAULT_LOSS = "sparse_categorical_crossentropy"
DEFAULT_METRICS = ("accuracy",)
TRANSFORM_KEYS = ("transforms", "batch_transforms", "test_transforms")


def _tuples(value):
    """TOML has no tuples: shapes come as lists, builders expect tuples."""
    return tuple(value) if isinstance(value, list) else value


def _close(name, names):
    close = difflib.get_close_matches(str(name), list(names), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(map(repr, close))}?)" if close else ""


def build_model(recipe):
    """The recipe's model, built from the registry."""
    kwargs = {k: _tuples(v) for k, v in recipe["model"].items() if k != "name"}
    return models.build(recipe["model"]["name"], **kwargs)


def transform_names():
    """Names of the transform factories of garden.data.transforms."""
    return sorted(
        name for name, value in vars(data_transforms).items()
        if inspect.isfunction(value) and not name.startswith("_")
        and value.__module__ == data_transforms.__name__
    )


def build_transforms(specs, key):
    """Transforms from `{name, ...kwargs}` tables: factories of garden.data.transforms."""
    built = []
    names = transform_names()
    for spec in specs:
        if not isinstance(spec, dict):
            raise ValueError(f"[data] {key}={spec!r} is not allowed: use tables {{name, ...}}.")
        spec = dict(spec)
        name = spec.pop("name", None)
        if name not in names:
            raise ValueError(f"[data] {key}: unknown transform {name!r}{_close(name, names)}; "
                             f"use one of {', '.join(names)}.")
        built.append(_call(getattr(data_transforms, name), spec, f"[data] {key} {name!r}"))
    return built


def build_data(recipe, seed):
    """`(train, test)` datasets from `garden.data.load` with the recipe's [data] arguments.

    `transforms` and `batch_transforms` apply to the training split; `test_transforms` to the
    test split (e.g. Zhang et al. corrupt the pixels of both splits but the labels of neither).
    """
    cfg = {k: _tuples(v) for k, v in recipe["data"].items()}
    name = cfg.pop("name")
    transforms = {key: build_transforms(cfg.pop(key, ()), key) for key in TRANSFORM_KEYS}
    train = garden_data.load(
        name, "train", seed=seed, transforms=transforms["transforms"],
        batch_transforms=transforms["batch_transforms"], **cfg,
    )
    test = garden_data.load(name, "test", seed=seed, transforms=transforms["test_transforms"],
                            **{**cfg, "shuffle": False})
    return train, test


def _call(factory, kwargs, where):
    """`factory(**kwargs)`, a wrong argument reported as a ValueError naming the accepted ones."""
    try:
        inspect.signature(factory).bind(**kwargs)
        return factory(**kwargs)
    except (TypeError, ValueError) as e:
        accepted = ", ".join(p for p in inspect.signature(factory).parameters
                             if p not in ("self", "args", "kwargs"))
        raise ValueError(f"{where}: {e}; it takes {accepted or 'no arguments'}.") from None


def _classes(*modules):
    return {name for module in modules for name, value in vars(module).items()
            if isinstance(value, type) and not name.startswith("_")}


def instantiate(spec, where, *modules):
    """`class_name(**config)` from a `{class_name, config}` table, the class looked up in order
    in `modules`."""
    if not isinstance(spec, dict) or set(spec) - {"class_name", "config"}:
        raise ValueError(f"{where}={spec!r} is not allowed: use a table {{class_name, config}}.")
    name = str(spec.get("class_name"))
    for module in modules:
        cls = getattr(module, name, None)
        if isinstance(cls, type):
            return _call(cls, spec.get("config", {}), f"{where} {name}")
    places = " or ".join(m.__name__ for m in modules)
    raise ValueError(f"{where}: unknown class_name {name!r}{_close(name, _classes(*modules))}; "
                     f"use a class of {places}.")


def build_callbacks(specs, run_dir=None):
    """Callbacks from `{class_name, config}` tables, looked up in garden.callbacks then keras.

    A `keras.callbacks.TensorBoard` without a `log_dir` logs into `run_dir / "tensorboard"`.
    """
    built = []
    for spec in specs:
        if (run_dir is not None and isinstance(spec, dict)
                and spec.get("class_name") == "TensorBoard"
                and "log_dir" not in spec.get("config", {})):
            spec = {**spec, "config": {**spec.get("config", {}),
                                       "log_dir": str(run_dir / "tensorboard")}}
        built.append(instantiate(spec, "[train] callbacks", garden_callbacks, keras.callbacks))
    return built


def optimizer_names():
    """The optimizer classes of keras.optimizers."""
    return sorted(
        name for name, value in vars(keras.optimizers).items()
        if isinstance(value, type) and issubclass(value, keras.optimizers.Optimizer)
        and name not in ("Optimizer", "LossScaleOptimizer")
    )


def build_optimizer(spec):
    """The optimizer from a Keras identifier or `{class_name, config}`; a `learning_rate` given
    as a table is a schedule of garden.schedules or keras.optimizers.schedules."""
    spec = copy.deepcopy(spec)
    name = spec.get("class_name") if isinstance(spec, dict) else spec
    known = optimizer_names()
    if str(name).lower() not in {n.lower() for n in known}:
        raise ValueError(f"[train] optimizer: unknown optimizer {name!r}{_close(name, known)}; "
                         f"use one of {', '.join(known)}.")
    if not isinstance(spec, dict):
        return keras.optimizers.get(spec)
    config = spec.get("config", {})
    if isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = instantiate(
            config["learning_rate"], "[train] optimizer learning_rate",
            garden_schedules, keras.optimizers.schedules,
        )
    cls = next(getattr(keras.optimizers, n) for n in known if n.lower() == str(name).lower())
    return _call(cls, config, f"[train] optimizer {name}")


def _identifier(getter, name, kind, module):
    """A Keras loss or metric by name, an unknown one reported with close matches."""
    try:
        return getter(name)
    except ValueError:
        names = [n for n in dir(module) if not n.startswith("_")]
        raise ValueError(f"[train] {kind}: unknown {kind} {name!r}{_close(name, names)}; use a "
                         f"name of keras.{kind}es or a table {{class_name, config}}.") from None


def build_loss(spec):
    """The loss from a Keras identifier or `{class_name, config}` of garden.losses or
    keras.losses. A loss that takes a `feature_extractor` (the perceptual losses) computes on
    `garden.models.vgg16_loss_network(weights)`, the paper's VGG-16, with the config's
    `weights` (default None: random; "imagenet" downloads)."""
    if isinstance(spec, dict):
        cls = getattr(garden_losses, str(spec.get("class_name")), None)
        if isinstance(cls, type) and "feature_extractor" in inspect.signature(cls).parameters:
            config = dict(spec.get("config", {}))
            config["feature_extractor"] = models.vgg16_loss_network(config.pop("weights", None))
            spec = {**spec, "config": config}
        return instantiate(spec, "[train] loss", garden_losses, keras.losses)
    _identifier(keras.losses.get, spec, "loss", keras.losses)
    return spec


def build_metrics(specs):
    """Metrics from Keras identifiers or `{class_name, config}` tables of garden.metrics or
    keras.metrics."""
    built = []
    for spec in specs:
        if isinstance(spec, dict):
            built.append(instantiate(spec, "[train] metrics", garden_metrics, keras.metrics))
        else:
            _identifier(keras.metrics.get, spec, "metric", keras.metrics)
            built.append(spec)
    return built


def compile_model(model, train_cfg):
    """Compiles with the recipe's optimizer, loss, loss weights and metrics. A model that trains
    itself (GANs, VAEs) computes its own losses: it gets the recipe's optimizer if one is given
    (a GAN one instance of it per network), else its paper's."""
    if models.trains_itself(model):
        spec = train_cfg.get("optimizer")
        if spec is None:
            model.compile()
        elif "generator_optimizer" in inspect.signature(model.compile).parameters:
            model.compile(generator_optimizer=build_optimizer(spec),
                          discriminator_optimizer=build_optimizer(spec))
        else:
            model.compile(optimizer=build_optimizer(spec))
        return
    model.compile(
        optimizer=build_optimizer(train_cfg.get("optimizer", DEFAULT_OPTIMIZER)),
        loss=build_loss(train_cfg.get("loss", DEFAULT_LOSS)),
        loss_weights=train_cfg.get("loss_weights"),
        metrics=build_metrics(train_cfg.get("metrics", DEFAULT_METRICS)),
    )


def build_training(recipe, seed, train_cfg=None):
    """`(model, train_data, test_data)`: the recipe's compiled model and its data, seeded.

    Args:
        recipe: a validated variant recipe.
        seed: int. Seeds the weights and the data's shuffle.
        train_cfg: the [train] table to compile with. Defaults to the recipe's.
    """
    keras.utils.set_random_seed(seed)
    model = build_model(recipe)
    train_data, test_data = build_data(recipe, seed)
    compile_model(model, recipe.get("train", {}) if train_cfg is None else train_cfg)
    return model, train_data, test_data
