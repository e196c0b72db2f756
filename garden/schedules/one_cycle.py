"""The learning-rate half of the one-cycle policy (Smith & Topin 2017; Smith 2018), as a
serializable schedule: it lives in the optimizer and is saved with the model. The callback
`garden.callbacks.OneCycle` runs the whole policy (this schedule plus momentum in opposition).

References:
    Smith & Topin, "Super-Convergence: Very Fast Training of Neural Networks Using Large
    Learning Rates", 2017. https://arxiv.org/abs/1708.07120
    Smith, "A disciplined approach to neural network hyper-parameters: Part 1 -- learning
    rate, batch size, momentum, and weight decay", 2018. https://arxiv.org/abs/1803.09820
"""

import keras
from keras import ops

from garden.utils.checks import check_int, check_number
from garden.utils.serialization import serializable


@serializable
class OneCycleLR(keras.optimizers.schedules.LearningRateSchedule):
    """The learning-rate half of the one-cycle policy.

    With `step_size = (1 - annihilation) * total_steps / 2`, the rate rises linearly from
    `initial_lr` to `max_lr` over `step_size` iterations, falls back to `initial_lr` over the
    next `step_size`, then decays linearly to `final_lr` over the remaining
    `annihilation * total_steps` iterations, and stays there.

    Args:
        max_lr: float. Peak rate, e.g. the largest rate of an LR range test that still trains.
        total_steps: int. Iterations of the whole policy (epochs times steps per epoch).
        initial_lr: float. Rate at iteration 0 and at the end of the cycle. Defaults to
            `max_lr / 10` (Smith uses bounds a factor 10 apart, e.g. 0.08 to 0.8).
        final_lr: float. Rate after the annihilation. Defaults to `initial_lr / 100`, "several
            orders of magnitude" below the initial rate.
        annihilation: float. Fraction of `total_steps` spent in the final decay, in (0, 1).
            Defaults to 0.1.
        name: str. Name of the schedule's operations. Defaults to `"OneCycleLR"`.

    The rate is computed in the dtype of `max_lr` (float32 for a Python float), as Keras'
    schedules compute in that of their initial rate.

    Example:
    >>> schedule = OneCycleLR(max_lr=0.8, total_steps=1000)
    >>> [round(float(schedule(s)), 4) for s in (0, 450, 900, 1000)]
    [0.08, 0.8, 0.08, 0.0008]

    Reference:
        Smith, "A disciplined approach to neural network hyper-parameters: Part 1", 2018.
        https://arxiv.org/abs/1803.09820
    """

    def __init__(self, max_lr, total_steps, initial_lr=None, final_lr=None, annihilation=0.1,
                 name="OneCycleLR"):
        super().__init__()
        check_number("max_lr", max_lr, minimum=0, inclusive=False)
        check_int("total_steps", total_steps, minimum=2)
        start = max_lr / 10 if initial_lr is None else initial_lr
        check_number("initial_lr", start, minimum=0, maximum=max_lr)
        end = start / 100 if final_lr is None else final_lr
        check_number("final_lr", end, minimum=0, maximum=start)
        check_number("annihilation", annihilation, minimum=0, maximum=1, inclusive=False)
        self.max_lr = max_lr
        self.total_steps = total_steps
        self.initial_lr = initial_lr
        self.final_lr = final_lr
        self.annihilation = annihilation
        self.name = name
        self._start, self._end = start, end

    def phases(self, step, dtype="float32"):
        """How far `step` is through the rise, the fall and the annihilation, each in [0, 1]."""
        step = ops.cast(step, dtype)
        step_size = (1 - self.annihilation) * self.total_steps / 2
        final_steps = self.total_steps - 2 * step_size
        zero, one = ops.cast(0.0, dtype), ops.cast(1.0, dtype)
        rise = ops.clip(step / step_size, zero, one)
        fall = ops.clip((step - step_size) / step_size, zero, one)
        annihilate = ops.clip((step - 2 * step_size) / final_steps, zero, one)
        return rise, fall, annihilate

    def __call__(self, step):
        with keras.name_scope(self.name):
            max_lr = ops.convert_to_tensor(self.max_lr)
            start, end = ops.cast(self._start, max_lr.dtype), ops.cast(self._end, max_lr.dtype)
            rise, fall, annihilate = self.phases(step, max_lr.dtype)
            cycle = start + (max_lr - start) * (rise - fall)
            return cycle * (1.0 - annihilate) + end * annihilate

    def get_config(self):
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "initial_lr": self.initial_lr,
            "final_lr": self.final_lr,
            "annihilation": self.annihilation,
            "name": self.name,
        }
