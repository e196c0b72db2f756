"""Pruning schedules with tfmot's semantics: when to update the masks, and to which sparsity.

A pruning schedule is any callable from the training step (1 on the first batch) to a pair
`(should_prune, sparsity)`. garden's schedules reproduce
`tfmot.sparsity.keras.ConstantSparsity` and `PolynomialDecay` exactly, including their float32
arithmetic, and tfmot's own schedule objects can be passed wherever a schedule is expected.
PolynomialDecay is the gradual schedule of Zhu & Gupta, "To prune, or not to prune"
(https://arxiv.org/abs/1710.01878).
"""

import keras
import numpy as np

from garden.utils.serialization import serializable
from garden.utils.checks import check_int, check_rate


def _check_steps(begin_step, end_step, frequency, allow_forever):
    """The step window's own rule: `end_step` after `begin_step`, or -1 where allowed."""
    check_int("begin_step", begin_step, minimum=0)
    check_int("frequency", frequency)
    if not isinstance(end_step, int) or (end_step < begin_step and end_step != -1):
        raise ValueError(
            f"end_step must be an integer >= begin_step ({begin_step})"
            f"{' or -1 (prune until training ends)' if allow_forever else ''}. "
            f"Received: end_step={end_step}"
        )
    if end_step == -1 and not allow_forever:
        raise ValueError(f"end_step must be >= begin_step ({begin_step}). Received: end_step=-1")


class PruningSchedule:
    """Base class of garden's schedules: the step window in which masks are updated.

    Masks are updated at the steps `begin_step, begin_step + frequency, ...` up to `end_step`
    inclusive (`end_step=-1`: until training ends). The first training step is 1, so a window
    that holds only step 0 never prunes, as in tfmot.

    Subclasses implement `sparsity(step)` and `get_config()`.
    """

    def __init__(self, begin_step, end_step, frequency):
        self.begin_step = begin_step
        self.end_step = end_step
        self.frequency = frequency

    def should_prune(self, step):
        """Whether the masks are updated at `step`."""
        in_window = step >= self.begin_step and (step <= self.end_step or self.end_step < 0)
        return in_window and (step - self.begin_step) % self.frequency == 0

    def sparsity(self, step):
        """The fraction of weights to remove at `step` (a float32 value)."""
        raise NotImplementedError

    def __call__(self, step):
        step = int(step)
        return self.should_prune(step), self.sparsity(step)

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@serializable
class ConstantSparsity(PruningSchedule):
    """Prunes to a constant sparsity every `frequency` steps between `begin_step` and `end_step`.

    Args:
        target_sparsity: float. Fraction of weights removed, in [0, 1).
        begin_step: int. First step at which masks are updated (training steps start at 1).
        end_step: int. Last step at which masks are updated; -1 keeps updating until training
            ends. Defaults to -1.
        frequency: int. Masks are updated every `frequency` steps. Defaults to 100.

    Example:
    ```python
    schedule = garden.sparsity.ConstantSparsity(0.8, begin_step=1, end_step=1)
    schedule(1)   # (True, 0.800000011920929): prune to 80% (float32) on the first step...
    schedule(2)   # (False, 0.800000011920929): ...then hold the masks
    ```

    Reference:
    - [tfmot's ConstantSparsity](https://www.tensorflow.org/model_optimization/api_docs/python/tfmot/sparsity/keras/ConstantSparsity)
    """

    def __init__(self, target_sparsity, begin_step, end_step=-1, frequency=100):
        _check_steps(begin_step, end_step, frequency, allow_forever=True)
        check_rate("target_sparsity", target_sparsity)
        super().__init__(begin_step, end_step, frequency)
        self.target_sparsity = target_sparsity

    def sparsity(self, step):
        return float(np.float32(self.target_sparsity))

    def get_config(self):
        return {
            "target_sparsity": self.target_sparsity,
            "begin_step": self.begin_step,
            "end_step": self.end_step,
            "frequency": self.frequency,
        }


@serializable
class PolynomialDecay(PruningSchedule):
    """Raises sparsity from `initial_sparsity` to `final_sparsity` along a polynomial.

    `sparsity(step) = final + (initial - final) * (1 - p) ** power`, where
    `p = clip((step - begin_step) / (end_step - begin_step), 0, 1)`: sparsity rises fast at
    first, then levels off at `final_sparsity` (Zhu & Gupta's gradual pruning).

    Args:
        initial_sparsity: float. Sparsity at `begin_step`, in [0, 1).
        final_sparsity: float. Sparsity from `end_step` on, in [0, 1).
        begin_step: int. First step at which masks are updated.
        end_step: int. Last step at which masks are updated (must be >= `begin_step`).
        power: float. Exponent of the decay. Defaults to 3.
        frequency: int. Masks are updated every `frequency` steps. Defaults to 100.

    Example:
    ```python
    schedule = garden.sparsity.PolynomialDecay(0.0, 0.9, begin_step=0, end_step=1000)
    schedule(500)   # (True, 0.78749996): 0.9 - 0.9 * (1 - 500 / 1000) ** 3 in float32
    ```

    Reference:
    - [Zhu & Gupta, To prune, or not to prune](https://arxiv.org/abs/1710.01878)
    """

    def __init__(self, initial_sparsity, final_sparsity, begin_step, end_step, power=3,
                 frequency=100):
        _check_steps(begin_step, end_step, frequency, allow_forever=False)
        check_rate("initial_sparsity", initial_sparsity)
        check_rate("final_sparsity", final_sparsity)
        super().__init__(begin_step, end_step, frequency)
        self.initial_sparsity = initial_sparsity
        self.final_sparsity = final_sparsity
        self.power = power

    def sparsity(self, step):
        # float32 throughout, as tfmot's graph computes it; the power through the backend, whose
        # pow (TensorFlow's is approximate) then gives tfmot's values to the last bit.
        f32 = np.float32
        span = max(self.end_step - self.begin_step, 1)
        progress = np.clip(f32(step - self.begin_step) / f32(span), f32(0), f32(1))
        decay = keras.ops.convert_to_numpy(keras.ops.power(f32(1) - progress, f32(self.power)))
        return float(f32(self.initial_sparsity - self.final_sparsity) * decay
                     + f32(self.final_sparsity))

    def get_config(self):
        return {
            "initial_sparsity": self.initial_sparsity,
            "final_sparsity": self.final_sparsity,
            "begin_step": self.begin_step,
            "end_step": self.end_step,
            "power": self.power,
            "frequency": self.frequency,
        }
