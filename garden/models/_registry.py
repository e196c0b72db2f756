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
        small_kwargs: arguments that build a small instance fast; the registry-driven tests and
            the JAX-backend check build every model with these.
    """

    name: str
    builder: Callable[..., Any]
    paper: str
    year: int
    arxiv: str
    input_shape: tuple
    task: str
    small_kwargs: dict

    @property
    def arguments(self) -> list[str]:
        """Names of the keyword arguments the builder accepts."""
        return list(inspect.signature(self.builder).parameters)


def register_model(*, paper, year, arxiv, input_shape, task="classification", small_kwargs=None):
    """Decorator that records a builder in the registry under its function name."""

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


def build(name, **kwargs):
    """Builds the registered model `name` with the builder's keyword arguments."""
    entry = get_entry(name)
    accepted = entry.arguments
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"{name} does not accept argument(s) {', '.join(unknown)}. "
            f"Accepted: {', '.join(accepted)}."
        )
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
        "doc": inspect.getdoc(entry.builder).splitlines()[0],
    }
