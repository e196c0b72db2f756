"""Datasets generated in memory (shapes with masks, patch pairs, ...) instead of stored as files."""

import dataclasses
import inspect
from typing import Any, Callable

from garden.data import _sources

_GENERATED: dict[str, "Generated"] = {}


@dataclasses.dataclass(frozen=True)
class Generated:
    """A registered dataset: its generating function and what `garden.data.info` reports."""

    function: Callable[..., Any]
    metadata: dict

    def call(self, name, split, seed, options):
        """The function's unbatched dataset, given `options` (and `seed` if it takes one)."""
        parameters = inspect.signature(self.function).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        refused = [key for key in options if key not in parameters and not takes_any]
        if refused:
            raise ValueError(
                f"dataset {name!r} does not take {', '.join(refused)}; it takes: "
                f"{', '.join(list(parameters)[1:]) or 'nothing but the split'}"
            )
        if "seed" in parameters or takes_any:
            options = {**options, "seed": seed}
        return self.function(split, **options)


def register_dataset(name, **metadata):
    """Decorator registering a function that generates a dataset, so `load(name)` can build it.

    The function takes the split name and keyword options and returns an unbatched
    `tf.data.Dataset`; `garden.data.load` then applies the transforms, caching, shuffling, batching
    and prefetching as for any dataset. `load` passes the function its `image_size`, `channels`
    (when given), `seed` (when the function takes one) and any further keyword options.

    Args:
        name: str. The dataset's name for `load` and recipes.
        **metadata: what `garden.data.info(name)` reports besides the name and source, e.g.
            `num_classes=4`.

    Example:

    ```python
    import tensorflow as tf
    from garden import data

    @data.register_dataset("ramps", num_classes=2)
    def ramps(split, image_size=(8, 8), seed=0):
        images = tf.linspace(0.0, 1.0, 16)[:, None, None, None] * tf.ones((1, *image_size, 1))
        return tf.data.Dataset.from_tensor_slices((images, tf.range(16) % 2))

    images, labels = next(iter(data.load("ramps", batch_size=4)))
    ```
    """

    def decorate(function):
        if name in _GENERATED or _sources.is_known(name):
            raise ValueError(f"dataset name {name!r} is already taken")
        _GENERATED[name] = Generated(function, dict(metadata))
        return function

    return decorate


def get(name):
    """The registered `Generated` dataset called `name`, or None."""
    return _GENERATED.get(name)


def names():
    """Sorted names of the registered datasets."""
    return sorted(_GENERATED)
