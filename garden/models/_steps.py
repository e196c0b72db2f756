"""`StepModel`: a `keras.Model` whose training step is written once, in stateful style, for the
TensorFlow, JAX and PyTorch backends.

Keras runs a custom `train_step(data)` statefully on TensorFlow, but on JAX it calls
`train_step(state, data)` with every variable's value passed in and expects the new values back.
A model with several gradient computations, optimizers or conditional updates (a GAN's critic
and generator) would have to be written twice. Instead, as Keras' own JAX trainer does for
metrics, `StepModel` runs the one stateful step inside a `keras.StatelessScope` that maps every
variable to its value in `state` and collects the new values afterwards ("pretend everything is
stateful"). PyTorch runs steps eagerly and statefully, as TensorFlow does. Three primitives
carry what differs between the backends:

- `value_and_grad(fn, variables)`: the loss `fn()` computes and its gradients (a
  `tf.GradientTape` on TensorFlow, `jax.value_and_grad` of a pure function on JAX,
  `torch.autograd.grad` on PyTorch; other state the loss changes, such as batch-norm
  statistics or seeds, is kept);
- `input_gradient(fn, x, variables)` (a function of this module): the gradient of `sum(fn(x))`
  with respect to the tensor `x` (for gradient penalties), differentiable again;
- `run_if(pred, fn)`: runs the stateful `fn()` only where `pred` holds, inside compiled steps.

A subclass defines `step(data)`, one training step on a batch written statefully (and optionally
`evaluation_step(data)`), each returning its logs, and lists its metrics in `metrics`.
"""

import keras
from keras import ops

BACKENDS = ("tensorflow", "jax", "torch")


def _backend():
    backend = keras.backend.backend()
    if backend not in BACKENDS:
        raise RuntimeError(
            f"garden's generative models train on the TensorFlow, JAX and PyTorch backends; this "
            f"process runs Keras on {backend!r}. Train with KERAS_BACKEND=tensorflow, jax or "
            "torch."
        )
    return backend


def input_gradient(fn, x, variables=()):
    """d sum(fn(x)) / d x for a tensor `x`, differentiable again (for gradient penalties).
    Updates `fn` makes to `variables` (e.g. batch-norm statistics) are discarded."""
    backend = _backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            out = fn(x)
        return tape.gradient(out, x)
    if backend == "torch":
        import torch

        x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(ops.sum(fn(x)), x, create_graph=True)
        return grad
    import jax

    def scalar(x):
        with keras.StatelessScope([(v, v.value) for v in variables]):
            return ops.sum(fn(x))

    return jax.grad(scalar)(x)


def trains_itself(model):
    """Whether `model` writes its own `train_step` (garden's GANs and VAEs): its losses are no
    function of its outputs and labels, so it compiles with its own defaults (`compile()`) and
    learns from unlabelled examples of shape `model.data_shape`."""
    return type(model).train_step is not keras.Model.train_step


class StepModel(keras.Model):
    """A model with its own training logic in `step(data)`, run by `fit` on TensorFlow and JAX.

    Its metrics are the `keras.metrics.Mean` trackers of `self.trackers` (a dict). `compile`
    takes one optimizer (`default_optimizer()` when None) and Keras' execution options, no loss
    or metrics; a model with several optimizers (the GAN) overrides it.
    """

    COMPILE_OPTIONS = ("run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss")

    @property
    def metrics(self):
        return list(self.trackers.values())

    def check_compile_options(self, options, takes="optimizer"):
        """Raises `ValueError` for compile arguments other than Keras' execution options."""
        refused = sorted(set(options) - set(self.COMPILE_OPTIONS))
        if refused:
            raise ValueError(f"{type(self).__name__}.compile does not take "
                             f"{', '.join(refused)}: the model computes its own losses. It takes "
                             f"{takes}, {', '.join(self.COMPILE_OPTIONS)}.")

    def compile(self, optimizer=None, **kwargs):
        """Configures training with `optimizer` (a `keras.optimizers.Optimizer`, its name or
        config; defaults to the model's paper's) and `run_eagerly`, `jit_compile`,
        `steps_per_execution`."""
        self.check_compile_options(kwargs)
        super().compile(optimizer=optimizer or self.default_optimizer(), **kwargs)
        self.optimizer.build(self.trainable_variables)

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {"optimizer": keras.saving.serialize_keras_object(self.optimizer)}

    def compile_from_config(self, config):
        self.compile(optimizer=keras.saving.deserialize_keras_object(config["optimizer"]))

    def evaluation_step(self, data):
        """One evaluation step on a batch (no update); returns the logs. Defaults to the
        metrics' current results."""
        return self.logs()

    def logs(self):
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, *args):
        if _backend() == "jax":
            state, data = args
            groups = (self.trainable_variables, self.non_trainable_variables,
                      self.optimizer.variables, self.metrics_variables)
            return self._stateless(self.step, groups, state, data)
        return self.step(args[0])

    def test_step(self, *args):
        if _backend() == "jax":
            state, data = args
            groups = (self.trainable_variables, self.non_trainable_variables,
                      self.metrics_variables)
            return self._stateless(self.evaluation_step, groups, state, data)
        return self.evaluation_step(args[0])

    def _stateless(self, step, groups, state, data):
        """JAX: `step(data)` inside a scope mapping each variable of `groups` to its value in
        `state`; returns the logs and the variables' new values, grouped as `state`."""
        variables = [v for group in groups for v in group]
        values = [value for group in state for value in group]
        # Not tracked as the model's own variables: a plain attribute, past Keras' __setattr__.
        object.__setattr__(self, "_step_variables", variables)
        try:
            with keras.StatelessScope(list(zip(variables, values))) as scope:
                logs = step(data)
        finally:
            object.__setattr__(self, "_step_variables", None)
        return logs, tuple([scope.get_current_value(v) for v in group] for group in groups)

    def _jax_variables(self):
        """The variables a JAX step maps: the step's state, or all of the model's outside one."""
        return getattr(self, "_step_variables", None) or self.variables

    def value_and_grad(self, fn, variables):
        """`(loss, aux), grads`: `fn()` returns `(loss, aux)`, computed with stateful Keras
        calls; `grads` are d loss / d `variables`."""
        backend = _backend()
        if backend == "tensorflow":
            import tensorflow as tf

            with tf.GradientTape() as tape:
                loss, aux = fn()
            return (loss, aux), tape.gradient(loss, variables)
        if backend == "torch":
            import torch

            loss, aux = fn()
            grads = torch.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
            return (loss.detach(), aux), [ops.zeros_like(v) if g is None else g
                                          for v, g in zip(variables, grads)]
        import jax

        targets = {id(v) for v in variables}
        others = [v for v in self._jax_variables() if id(v) not in targets]

        def pure(values):
            mapping = [(v, v.value) for v in others] + list(zip(variables, values))
            with keras.StatelessScope(mapping) as scope:
                loss, aux = fn()
            return loss, (aux, [scope.get_current_value(v) for v in others])

        (loss, (aux, updated)), grads = jax.value_and_grad(pure, has_aux=True)(
            [v.value for v in variables]
        )
        for v, value in zip(others, updated):
            v.assign(value)  # batch-norm statistics, seeds: recorded in the step's scope
        return (loss, aux), grads

    def run_if(self, pred, fn):
        """Runs the stateful `fn()` where the boolean tensor `pred` holds (an `ops.cond`)."""
        backend = _backend()
        if backend == "torch":
            if bool(pred):
                fn()
            return
        if backend == "tensorflow":
            def taken():
                fn()
                return ops.zeros((), "int32")

            ops.cond(pred, taken, lambda: ops.zeros((), "int32"))
            return
        variables = self._jax_variables()
        mapping = [(v, v.value) for v in variables]

        def taken():
            with keras.StatelessScope(mapping) as scope:
                fn()
            return [scope.get_current_value(v) for v in variables]

        new = ops.cond(pred, taken, lambda: [value for _, value in mapping])
        for v, value in zip(variables, new):
            v.assign(value)
