"""The one-cycle policy (Smith & Topin 2017; Smith 2018): one learning-rate cycle, momentum in
opposition, then a final annihilation of the learning rate.

References:
    Smith & Topin, "Super-Convergence: Very Fast Training of Neural Networks Using Large
    Learning Rates", 2017. https://arxiv.org/abs/1708.07120
    Smith, "A disciplined approach to neural network hyper-parameters: Part 1 -- learning
    rate, batch size, momentum, and weight decay", 2018. https://arxiv.org/abs/1803.09820

`garden.schedules.OneCycleLR` is the learning-rate half as a serializable schedule. `OneCycle`
is the callback that runs the whole policy: it sets the learning rate from `OneCycleLR` and
cycles the momentum (SGD's `momentum`, or `beta_1` of Adam and its family) in opposition,
inferring the number of steps from `fit`.
"""

import keras
import tensorflow as tf

from garden.schedules.one_cycle import OneCycleLR


class OneCycle(keras.callbacks.Callback):
    """Runs the one-cycle policy: learning rate from `OneCycleLR`, momentum in opposition.

    Before every training step the callback sets the optimizer's learning rate to
    `OneCycleLR(...)(step)` and its momentum to `max_momentum` minus the same cycle scaled to
    `[min_momentum, max_momentum]`: high momentum while the rate is low, low while it is high,
    and `max_momentum` through the annihilation (Smith 2018, Section 4.2). It works with `SGD`
    (with `momentum > 0`, its velocities are rescaled so the step uses the cycled momentum
    exactly; not with `nesterov=True`) and with optimizers that have `beta_1` (`Adam`, `AdamW`,
    `Adamax`, `Nadam`, `Lion`, `Lamb`), whose `beta_1` is a variable while `fit` runs and its
    configured float again afterwards. The optimizer needs a float learning rate (not a
    schedule). On JAX, whose compiled step reads only the optimizer's variables, it works through
    them: the learning rate and SGD's velocities are optimizer variables; `beta_1` is not, so
    the Adam family needs the TensorFlow backend (a clear error says so). The values set are
    written to `logs` as `learning_rate` and `momentum` at the end of each epoch.

    Args:
        max_lr: float. Peak learning rate.
        total_steps: int. Iterations of the policy. Defaults to `epochs * steps` of `fit`.
        initial_lr: float. See `OneCycleLR`. Defaults to `max_lr / 10`.
        final_lr: float. See `OneCycleLR`. Defaults to `initial_lr / 100`.
        annihilation: float. See `OneCycleLR`. Defaults to 0.1.
        max_momentum: float. Momentum at the ends of the cycle. Defaults to 0.95.
        min_momentum: float. Momentum at the peak learning rate. Defaults to 0.85.

    Example:
    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "mse")
    >>> history = model.fit(np.ones((32, 4)), np.ones((32, 1)), batch_size=4, epochs=10,
    ...                     verbose=0, callbacks=[OneCycle(max_lr=0.1)])
    >>> round(history.history["momentum"][-1], 2)
    0.95

    Reference:
        Smith, "A disciplined approach to neural network hyper-parameters: Part 1", 2018.
        https://arxiv.org/abs/1803.09820
    """

    def __init__(
        self,
        max_lr,
        total_steps=None,
        initial_lr=None,
        final_lr=None,
        annihilation=0.1,
        max_momentum=0.95,
        min_momentum=0.85,
    ):
        super().__init__()
        if not 0 <= min_momentum <= max_momentum < 1:  # the two bounds' joint rule
            raise ValueError(
                f"min_momentum={min_momentum!r}, max_momentum={max_momentum!r} are not allowed: "
                "use 0 <= min_momentum <= max_momentum < 1."
            )
        self.schedule_args = dict(
            max_lr=max_lr, initial_lr=initial_lr, final_lr=final_lr, annihilation=annihilation
        )
        # Validates the learning-rate arguments now rather than when training starts.
        OneCycleLR(total_steps=total_steps or 2, **self.schedule_args)
        self.total_steps = total_steps
        self.max_momentum = max_momentum
        self.min_momentum = min_momentum
        self.schedule = None

    def momentum(self, step):
        """The momentum the policy sets at `step` (needs `schedule`, made in `on_train_begin`)."""
        rise, fall, _ = self.schedule.phases(step)
        return self.max_momentum - (self.max_momentum - self.min_momentum) * (rise - fall)

    def on_train_begin(self, logs=None):
        total_steps = self.total_steps
        if total_steps is None:
            steps, epochs = self.params.get("steps"), self.params.get("epochs")
            if not steps:
                raise ValueError(
                    "total_steps=None is not allowed when fit does not know the steps per epoch: "
                    "pass total_steps, or steps_per_epoch to fit."
                )
            total_steps = int(steps * epochs)
        self.schedule = OneCycleLR(total_steps=total_steps, **self.schedule_args)
        self._optimizer = self._synced_optimizer()
        if not isinstance(self._optimizer.learning_rate, keras.Variable):
            raise ValueError(
                "OneCycle sets the learning rate itself: compile with a float learning_rate, "
                "not a schedule (OneCycleLR alone is the schedule form)."
            )
        if isinstance(self._optimizer, keras.optimizers.SGD):
            self._momentum = _SGDMomentum(self._optimizer)
        elif hasattr(self._optimizer, "beta_1") and keras.backend.backend() != "tensorflow":
            raise ValueError(
                f"OneCycle cycles beta_1 of {type(self._optimizer).__name__} only on the "
                f"TensorFlow backend (the backend is {keras.backend.backend()!r}, whose compiled "
                "step reads only the optimizer's variables): use SGD with momentum, or the "
                "TensorFlow backend."
            )
        elif hasattr(self._optimizer, "beta_1"):
            self._momentum = _Beta1(self._optimizer, self.model)
        else:
            raise ValueError(
                f"optimizer={type(self._optimizer).__name__} is not supported by OneCycle: use "
                "SGD with momentum or an optimizer with beta_1 (Adam, AdamW, Nadam, ...)."
            )

    def _synced_optimizer(self):
        """The (unwrapped) optimizer. Reading `self.model` first syncs JAX's training state into
        the variables, so what is read and assigned next is what the next step uses."""
        optimizer = self.model.optimizer
        return getattr(optimizer, "inner_optimizer", optimizer)

    def on_train_batch_begin(self, batch, logs=None):
        self._optimizer = self._synced_optimizer()
        step = int(keras.ops.convert_to_numpy(self._optimizer.iterations))
        self._optimizer.learning_rate = float(self.schedule(step))
        self._momentum.set(float(self.momentum(step)))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(self._optimizer.learning_rate))
            logs["momentum"] = self._momentum.value

    def on_train_end(self, logs=None):
        self._momentum.restore()


class _SGDMomentum:
    """Cycles Keras SGD's momentum by rescaling its velocities before each step.

    SGD updates `v <- m0 * v - lr * g` with the float momentum `m0` it was built with (read once,
    when the train step is traced). Scaling `v` by `m / m0` just before the step makes that
    exactly `v <- m * v - lr * g`; after the step `v` is the true velocity again.
    """

    def __init__(self, optimizer):
        if optimizer.momentum == 0 or optimizer.nesterov:
            raise ValueError(
                f"SGD(momentum={optimizer.momentum}, nesterov={optimizer.nesterov}) is not "
                "supported by OneCycle: use momentum > 0 (its value is replaced by the cycle) "
                "and nesterov=False."
            )
        self.optimizer = optimizer
        self.value = optimizer.momentum

    def set(self, value):
        if self.optimizer.built:  # before the first step the velocities are zero
            factor = value / self.optimizer.momentum
            for velocity in self.optimizer.momentums:
                velocity.assign(velocity * factor)
        self.value = value

    def restore(self):
        pass


class _Beta1:
    """Cycles `beta_1` of an Adam-family optimizer: during `fit` the float is replaced by a
    variable (a TensorFlow one, which Keras does not add to the optimizer's saved variables)
    that the traced train step reads at every step; the float comes back when training ends."""

    def __init__(self, optimizer, model):
        self.optimizer = optimizer
        self.model = model
        self.configured = optimizer.beta_1
        self.variable = tf.Variable(float(self.configured), trainable=False, dtype="float32")
        optimizer.beta_1 = self.variable
        model.make_train_function(force=True)

    @property
    def value(self):
        return float(self.variable.numpy())

    def set(self, value):
        self.variable.assign(value)

    def restore(self):
        self.optimizer.beta_1 = self.configured
        self.model.make_train_function(force=True)
