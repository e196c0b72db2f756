"""Large-minibatch SGD (Goyal et al. 2017): the linear scaling rule and gradual warmup.

Reference:
    Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", 2017.
    https://arxiv.org/abs/1706.02677

The paper's other ingredient, zero-initialised gamma of the last batch norm in each residual
block, belongs to the ResNet builders. Keras' `CosineDecay(warmup_target=..., warmup_steps=...)`
already warms up a cosine decay; `Warmup` wraps any schedule (or a constant) instead.
"""

import keras
from keras import ops

from garden.utils.checks import check_int, check_number
from garden.utils.serialization import serializable


def linear_scaling(base_lr, batch_size, base_batch_size=256):
    """The linear scaling rule: multiply the learning rate by the minibatch growth factor.

    "When the minibatch size is multiplied by k, multiply the learning rate by k" (Goyal et al.,
    Section 2.1), with the paper's reference of 0.1 for a batch of 256.

    Args:
        base_lr: float. Learning rate tuned for `base_batch_size`.
        batch_size: int. The minibatch size to train with.
        base_batch_size: int. Minibatch size `base_lr` belongs to. Defaults to 256.

    Returns:
        `base_lr * batch_size / base_batch_size`.

    Example:
    >>> linear_scaling(0.1, batch_size=8192)
    3.2

    Reference:
        Goyal et al., 2017. https://arxiv.org/abs/1706.02677
    """
    check_int("batch_size", batch_size)
    check_int("base_batch_size", base_batch_size)
    check_number("base_lr", base_lr, minimum=0, inclusive=False)
    return base_lr * batch_size / base_batch_size


def _deserialize(config):
    """A schedule from its dict; garden's schedules may be named without the "garden>" prefix."""
    name = str(config.get("class_name"))
    garden_class = keras.saving.get_registered_object(f"garden>{name}")
    custom_objects = {name: garden_class} if garden_class else None
    return keras.optimizers.schedules.deserialize(config, custom_objects=custom_objects)


@serializable
class Warmup(keras.optimizers.schedules.LearningRateSchedule):
    """Gradual warmup in front of any learning-rate schedule.

    For the first `warmup_steps` iterations the rate grows linearly from `initial_lr` to
    `schedule(warmup_steps)`, "increment[ing] it by a constant amount at each iteration"
    (Goyal et al., Section 2.2); from then on it is `schedule(step)`. The wrapped schedule sees
    the optimizer's own step count, so step boundaries keep their meaning (unlike
    `CosineDecay`'s warmup, which shifts the decay by `warmup_steps`).

    Args:
        schedule: a `LearningRateSchedule`, a float (a constant rate), or a schedule's
            `{"class_name": ..., "config": ...}` dict (a garden or Keras schedule).
        warmup_steps: int. Iterations of warmup (the paper: 5 epochs).
        initial_lr: float. Rate at iteration 0; the paper starts from the small-batch rate, i.e.
            the target divided by k. Defaults to 0.0.
        name: str. Name of the schedule's operations. Defaults to `"Warmup"`.

    The rate is computed in the dtype of `initial_lr` (float32 for a Python float), as Keras'
    schedules compute in that of their initial rate; the wrapped schedule's rate is cast to it.

    Example:
    >>> lr = linear_scaling(0.1, batch_size=1024)
    >>> schedule = Warmup(lr, warmup_steps=5 * 1251, initial_lr=0.1)
    >>> round(float(schedule(0)), 4), round(float(schedule(5 * 1251)), 4)
    (0.1, 0.4)

    Reference:
        Goyal et al., 2017. https://arxiv.org/abs/1706.02677
    """

    def __init__(self, schedule, warmup_steps, initial_lr=0.0, name="Warmup"):
        super().__init__()
        if isinstance(schedule, dict):
            schedule = _deserialize(schedule)
        if not isinstance(schedule, (keras.optimizers.schedules.LearningRateSchedule, int, float)):
            raise ValueError(
                f"schedule={schedule!r} is not allowed: use a LearningRateSchedule or a float."
            )
        self.schedule = schedule
        self.warmup_steps = check_int("warmup_steps", warmup_steps)
        check_number("initial_lr", initial_lr, minimum=0)
        self.initial_lr = initial_lr
        self.name = name

    def _after(self, step, dtype):
        if isinstance(self.schedule, keras.optimizers.schedules.LearningRateSchedule):
            return ops.cast(self.schedule(step), dtype)
        return ops.cast(self.schedule, dtype)

    def __call__(self, step):
        with keras.name_scope(self.name):
            initial_lr = ops.convert_to_tensor(self.initial_lr)
            dtype = initial_lr.dtype
            step = ops.cast(step, dtype)
            warmup_steps = ops.cast(self.warmup_steps, dtype)
            target = self._after(self.warmup_steps, dtype)
            warm = initial_lr + (target - initial_lr) * step / warmup_steps
            return ops.where(step < warmup_steps, warm, self._after(step, dtype))

    def get_config(self):
        schedule = self.schedule
        if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            schedule = keras.optimizers.schedules.serialize(schedule)
        return {
            "schedule": schedule,
            "warmup_steps": self.warmup_steps,
            "initial_lr": self.initial_lr,
            "name": self.name,
        }
