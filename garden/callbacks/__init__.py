"""Learning-rate schedules and training callbacks that drop into `model.fit`.

Schedules (serializable, saved with the model inside the optimizer): `CyclicLR` (Smith 2015),
`OneCycleLR` (Smith 2018), `Warmup` (Goyal et al. 2017). Callbacks: `OneCycle` (learning rate and
momentum in opposition), `LRFinder` (LR range test; `lr_range_test` runs it). Helpers:
`linear_scaling`, `suggest_learning_rates`, `plot_schedule`.

They combine with what Keras already has:
- cosine decay with warmup is `keras.optimizers.schedules.CosineDecay(..., warmup_target=...,
  warmup_steps=...)`; `Warmup` puts a warmup in front of any other schedule;
- label smoothing is the `label_smoothing` argument of Keras' cross-entropy losses;
- no bias decay is `optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])`
  on `AdamW` / `SGD(weight_decay=...)`.
"""

from garden.callbacks.cyclic import CyclicLR
from garden.callbacks.lr_finder import LRFinder, lr_range_test, suggest_learning_rates
from garden.callbacks.one_cycle import OneCycle, OneCycleLR
from garden.callbacks.plot import plot_schedule
from garden.callbacks.warmup import Warmup, linear_scaling

__all__ = [
    "CyclicLR",
    "LRFinder",
    "OneCycle",
    "OneCycleLR",
    "Warmup",
    "linear_scaling",
    "lr_range_test",
    "plot_schedule",
    "suggest_learning_rates",
]
