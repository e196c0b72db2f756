"""Learning-rate schedules, as `keras.optimizers.schedules`: serializable objects from the step
to the rate, saved with the model inside its optimizer.

`CyclicLR` (Smith 2015), `OneCycleLR` (Smith 2018), `Warmup` (Goyal et al. 2017) and the linear
scaling rule `linear_scaling`. Cosine decay with warmup is Keras' own
`keras.optimizers.schedules.CosineDecay(..., warmup_target=..., warmup_steps=...)`; `Warmup` puts a
warmup in front of any other schedule. What reacts to training (momentum cycling, the LR range
test) is in `garden.callbacks`.
"""

from garden.schedules.cyclic import CyclicLR
from garden.schedules.one_cycle import OneCycleLR
from garden.schedules.warmup import Warmup, linear_scaling

__all__ = ["CyclicLR", "OneCycleLR", "Warmup", "linear_scaling"]
