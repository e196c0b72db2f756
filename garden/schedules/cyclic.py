"""Cyclical learning rates (Smith 2015) as a serializable Keras learning-rate schedule.

Reference:
    Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
    https://arxiv.org/abs/1506.01186
"""

import keras
from keras import ops

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

    Example:
    >>> schedule = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000)
    >>> optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
    >>> round(float(schedule(1000)), 6)
    0.0035

    Reference:
        Smith, "Cyclical Learning Rates for Training Neural Networks", 2015.
        https://arxiv.org/abs/1506.01186
    """

    def __init__(self, base_lr, max_lr, step_size, mode="triangular", gamma=1.0):
        if not base_lr >= 0:
            raise ValueError(f"base_lr={base_lr!r} is not allowed: use a rate >= 0.")
        if not max_lr > base_lr:
            raise ValueError(f"max_lr={max_lr!r} is not allowed: use a rate above base_lr.")
        if not step_size > 0:
            raise ValueError(f"step_size={step_size!r} is not allowed: use a positive count.")
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is not allowed: use one of {', '.join(MODES)}.")
        if not 0 < gamma <= 1:
            raise ValueError(f"gamma={gamma!r} is not allowed: use a value in (0, 1].")
        self.base_lr = base_lr
        self.max_lr = max_lr
        self.step_size = step_size
        self.mode = mode
        self.gamma = gamma

    def __call__(self, step):
        step = ops.cast(step, "float32")
        cycle = ops.floor(1.0 + step / (2.0 * self.step_size))
        x = ops.abs(step / self.step_size - 2.0 * cycle + 1.0)
        if self.mode == "triangular":
            scale = 1.0
        elif self.mode == "triangular2":
            scale = ops.power(2.0, 1.0 - cycle)
        else:
            scale = ops.power(ops.cast(self.gamma, "float32"), step)
        return self.base_lr + (self.max_lr - self.base_lr) * ops.maximum(0.0, 1.0 - x) * scale

    def get_config(self):
        return {
            "base_lr": self.base_lr,
            "max_lr": self.max_lr,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
        }
