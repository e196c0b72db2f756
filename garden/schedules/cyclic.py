"""Cyclical learning rates (Smith 2015) as a serializable Keras learning-rate schedule.

Reference:
    Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
    https://arxiv.org/abs/1506.01186
"""

import keras
from keras import ops

from garden.utils.checks import check_choice, check_int, check_number
from garden.utils.serialization import serializable

MODES = ("triangular", "triangular2", "exp_range")


@serializable
class CyclicLR(keras.optimizers.schedules.LearningRateSchedule):
    """Cyclical learning rate: a triangular wave between `base_lr` and `max_lr`.

    Smith's formula (Section 3.1), at optimizer iteration `i` (counted from 0) with half-cycle
    length `step_size`:

        cycle = floor(1 + i / (2 * step_size))
        x = |i / step_size - 2 * cycle + 1|
        lr = base_lr + (max_lr - base_lr) * max(0, 1 - x) * scale

    where `scale` is 1 for `"triangular"`, `1 / 2**(cycle - 1)` for `"triangular2"` (the
    amplitude halves after each cycle) and `gamma**i` for `"exp_range"` (the amplitude decays
    exponentially with the iteration). The schedule lives in the optimizer, so it is saved with
    the model. Smith recommends `step_size` of 2 to 10 epochs' worth of iterations and bounds
    read from an LR range test (`LRFinder`).

    Args:
        base_lr: float. Lower bound of the cycle, the rate at iteration 0.
        max_lr: float. Upper bound, reached at iteration `step_size` of the first cycle.
        step_size: int. Iterations in half a cycle.
        mode: str. One of `"triangular"`, `"triangular2"`, `"exp_range"`.
            Defaults to `"triangular"`.
        gamma: float. Per-iteration decay of the amplitude in `"exp_range"` mode, in (0, 1].
            Defaults to 1.0.
        name: str. Name of the schedule's operations. Defaults to `"CyclicLR"`.

    The rate is computed in the dtype of `base_lr` (float32 for a Python float), as Keras'
    schedules compute in that of their initial rate.

    Example:
    >>> schedule = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000)
    >>> optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
    >>> round(float(schedule(1000)), 6)
    0.0035

    Reference:
        Smith, "Cyclical Learning Rates for Training Neural Networks", 2015.
        https://arxiv.org/abs/1506.01186
    """

    def __init__(self, base_lr, max_lr, step_size, mode="triangular", gamma=1.0,
                 name="CyclicLR"):
        super().__init__()
        check_number("base_lr", base_lr, minimum=0)
        check_number("max_lr", max_lr)
        if not max_lr > base_lr:
            raise ValueError(
                f"max_lr={max_lr!r} is not allowed: use a rate above base_lr={base_lr!r}."
            )
        self.base_lr = base_lr
        self.max_lr = max_lr
        self.step_size = check_int("step_size", step_size)
        self.mode = check_choice("mode", mode, MODES)
        check_number("gamma", gamma, minimum=0, maximum=1, inclusive=(False, True))
        self.gamma = gamma
        self.name = name

    def __call__(self, step):
        with keras.name_scope(self.name):
            base_lr = ops.convert_to_tensor(self.base_lr)
            dtype = base_lr.dtype
            step = ops.cast(step, dtype)
            step_size = ops.cast(self.step_size, dtype)
            cycle = ops.floor(1.0 + step / (2.0 * step_size))
            x = ops.abs(step / step_size - 2.0 * cycle + 1.0)
            if self.mode == "triangular":
                scale = ops.ones((), dtype)
            elif self.mode == "triangular2":
                scale = ops.power(ops.cast(2.0, dtype), 1.0 - cycle)
            else:
                scale = ops.power(ops.cast(self.gamma, dtype), step)
            amplitude = ops.cast(self.max_lr, dtype) - base_lr
            return base_lr + amplitude * ops.maximum(ops.cast(0.0, dtype), 1.0 - x) * scale

    def get_config(self):
        return {
            "base_lr": self.base_lr,
            "max_lr": self.max_lr,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
            "name": self.name,
        }
