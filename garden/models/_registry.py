"""The model registry: one table from name to builder, filled by importing the model modules.

Every builder is registered with the paper it implements, so `garden list` and `garden info` can
show where a model comes from, and the registry-driven tests cover a model as soon as it exists.
"""

import dataclasses
import difflib
import fnmatch
import functools
import inspect
from typing import Any, Callable

_REGISTRY: dict[str, "ModelEntry"] = {}
QUANTITIES = ("parameters", "trainable parameters", "multiply-adds", "output shape")


@dataclasses.dataclass(frozen=True)
class Figure:
    """A number a paper or its reference implementation states for a model, which garden's
    builder reproduces; `tests/test_paper_figures.py` asserts every one and the documentation
    shows them, so each is written once, here.

    Attributes:
        quantity: one of `QUANTITIES`: "parameters" (`count_params`, batch-norm statistics
            included), "trainable parameters", "multiply-adds" (`garden.tools.profile`) or
            "output shape" (of the model, or of `layer`; without the batch axis).
        value: the number, or the shape as a tuple.
        source: where it is stated, e.g. "Table 2" or "torchvision".
        kwargs: builder arguments of the instance it is stated for, as `(name, value)` pairs.
        layer: for an output shape, the layer's name; None for the model's output.
        rel: relative tolerance, for a figure the source rounds (0: exact).
    """

    quantity: str
    value: Any
    source: str
    kwargs: tuple = ()
    layer: str | None = None
    rel: float = 0.0


def figure(quantity, value, source, *, layer=None, rel=0.0, **kwargs):
    """A `Figure` of the instance built with `kwargs`."""
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity={quantity!r} is not allowed; use one of {QUANTITIES}")
    return Figure(quantity, value, source, tuple(sorted(kwargs.items())), layer, rel)


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """What the registry knows about one builder.

    Attributes:
        name: registry name, e.g. `"mobilenet_v1"`.
        builder: the function returning a `keras.Model`.
        paper: short citation, e.g. `"Howard et al., MobileNets"`.
        year: publication year.
        arxiv: link to the paper.
        input_shape: the paper's default input shape (without the batch axis).
        task: what the model's output is, e.g. `"classification"`.
        small_kwargs: public arguments of a small instance (small input, few classes).
        keras_application: name of the `keras.applications` model with the same layers and
            weight order (its ImageNet weights load), or None.
        tiny: None, or a builder taking the entry's arguments that returns a depth-reduced
            instance of the same structure (one block per stage, few filters); no public
            argument reaches it.
        figures: the paper's numbers for this model (`Figure`s) that garden reproduces.
        feature_layers: shell-style patterns naming the layers whose outputs are the model's
            stage features, which `garden.models.features` returns by stride; () for none.
    """

    name: str
    builder: Callable[..., Any]
    paper: str
    year: int
    arxiv: str
    input_shape: tuple
    task: str
    small_kwargs: dict
    keras_application: str | None = None
    tiny: Callable[..., Any] | None = None
    figures: tuple = ()
    feature_layers: tuple = ()

    def build_small(self):
        """The test instance: `small_kwargs`, depth-reduced by `tiny` where the entry has it.
        The registry-driven tests and the JAX-backend check build every model this way."""
        return (self.tiny or self.builder)(**self.small_kwargs)

    @property
    def arguments(self) -> list[str]:
        """Names of the keyword arguments the builder accepts."""
        return list(inspect.signature(self.builder).parameters)


def register_model(*, paper, year, arxiv, input_shape, task="classification", small_kwargs=None,
                   keras_application=None, tiny=None, figures=(), feature_layers=()):
    """Decorator that records a builder in the registry under its function name (the fields
    are `ModelEntry`'s)."""

    def decorate(builder):
        name = builder.__name__
        if name in _REGISTRY:
            raise ValueError(f"model name {name!r} is registered twice")
        _REGISTRY[name] = ModelEntry(
            name=name,
            builder=builder,
            paper=paper,
            year=year,
            arxiv=arxiv,
            input_shape=tuple(input_shape),
            task=task,
            small_kwargs=dict(small_kwargs or {}),
            keras_application=keras_application,
            tiny=tiny,
            figures=tuple(figures),
            feature_layers=tuple(feature_layers),
        )
        return builder

    return decorate


def list_models(pattern="*"):
    """Sorted names of registered models matching a shell-style wildcard, e.g. `"vgg*"`."""
    return sorted(name for name in _REGISTRY if fnmatch.fnmatchcase(name, pattern))


def get_entry(name) -> ModelEntry:
    """The registry entry for `name`; an unknown name raises `ValueError` with close matches."""
    if name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Unknown model {name!r}.{hint} `garden list` shows all {len(_REGISTRY)} models."
        )
    return _REGISTRY[name]


def check_arguments(name, accepted, kwargs):
    """Raises `ValueError` naming the arguments of `kwargs` that `accepted` lacks, and `accepted`."""
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"{name} does not accept argument(s) {', '.join(unknown)}. "
            f"Accepted: {', '.join(accepted)}."
        )


def build(name, **kwargs):
    """Builds the registered model `name` with the builder's keyword arguments."""
    entry = get_entry(name)
    check_arguments(name, entry.arguments, kwargs)
    return entry.builder(**kwargs)


@functools.lru_cache(maxsize=None)
def _default_param_count(name):
    return build(name).count_params()


def info(name):
    """A dict describing a model: paper, year, arXiv link, default input, task, arguments and
    its parameter count at default arguments (the model is built once to count them)."""
    entry = get_entry(name)
    return {
        "name": entry.name,
        "paper": entry.paper,
        "year": entry.year,
        "arxiv": entry.arxiv,
        "input_shape": entry.input_shape,
        "task": entry.task,
        "arguments": entry.arguments,
        "parameters": _default_param_count(name),
        "doc": " ".join(inspect.getdoc(entry.builder).split("\n\n")[0].split()),
    }
