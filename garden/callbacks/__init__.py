"""Training callbacks that drop into `model.fit`: what reacts to training.

`OneCycle` (Smith 2018: learning rate and momentum in opposition), `LRFinder` (Smith 2015's LR
range test; `lr_range_test` runs it, `suggest_learning_rates` reads its curve), `plot_schedule`,
`SampleGrid` (generated samples from fixed noise each epoch, as PNGs and a GIF).
Learning-rate schedules (`CyclicLR`, `OneCycleLR`, `Warmup`, `linear_scaling`) are in
`garden.schedules`, as Keras keeps its own in `keras.optimizers.schedules`.

They combine with what Keras already has:
- label smoothing is the `label_smoothing` argument of Keras' cross-entropy losses;
- no bias decay is `optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])`
  on `AdamW` / `SGD(weight_decay=...)`.
"""

from garden.callbacks.lr_finder import LRFinder, lr_range_test, suggest_learning_rates
from garden.callbacks.one_cycle import OneCycle
from garden.callbacks.plot import plot_schedule
from garden.callbacks.samples import SampleGrid
from garden.callbacks.window_stopping import WindowEarlyStopping

__all__ = [
    "LRFinder",
    "OneCycle",
    "SampleGrid",
    "lr_range_test",
    "plot_schedule",
    "suggest_learning_rates",
    "WindowEarlyStopping",
]

_MOVED_TO_SCHEDULES = ("CyclicLR", "OneCycleLR", "Warmup", "linear_scaling")


def __getattr__(name):
    if name in _MOVED_TO_SCHEDULES:
        raise AttributeError(
            f"garden.callbacks.{name} moved to garden.schedules.{name}: schedules are "
            "serializable step -> rate objects, as keras.optimizers.schedules"
        )
    raise AttributeError(f"module 'garden.callbacks' has no attribute {name!r}")
