"""`run_model_test`: the checks every model gets, written once (keras-hub's `run_model_test`).

The registry-driven tests call it for every registered model (tests/test_registry.py on
TensorFlow, tests/test_backends.py on JAX); a model test file calls it with its own tiny
instance. It returns the forward outputs, so a caller can compare them with other numbers.
"""

import functools
import os
import tempfile
import warnings

import keras
import numpy as np

from garden import models
from garden.models import trains_itself
from tests.helpers import as_list, random_inputs


def run_model_test(model, x=None, *, expected_output_shape=None, labels=True, backward=None,
                   round_trip=True, fit=True):
    """Checks `model` and returns its inference outputs on `x` as a list of arrays.

    - forward: the outputs have the symbolic outputs' shapes (`expected_output_shape` for the
      first, when given) and are finite;
    - backward (TensorFlow): every trainable weight gets a nonzero gradient of a fixed random
      projection of every training output;
    - round trip: the `.keras` file loads with `safe_mode=True` into the same class with the
      same parameters and gives identical outputs;
    - fit: one SGD training step (`train_on_batch`, `fit`'s step) has a finite loss and moves the
      first and the last trainable weight; with `labels`, the
      loss is sparse cross-entropy on integer labels over the last axis of the first output,
      otherwise mean squared error towards zero (regression outputs such as images). A model
      that writes its own training step (`trains_itself`: GANs, VAEs) is compiled with its own
      defaults and takes its step on unlabelled random examples of `model.data_shape`; every
      log is finite.

    Args:
        model: a built `keras.Model`.
        x: input array(s). Defaults to `random_inputs(model)`.
        expected_output_shape: tuple. Shape of the first output, batch included.
        labels: bool. Whether the fit step uses class labels. Defaults to True.
        backward: bool. Whether to check gradients. Defaults to True on TensorFlow (the check
            uses `tf.GradientTape`) for models trained through their outputs, False elsewhere
            (a GAN's discriminator, say, is no part of its output).
        round_trip: bool. Whether to check the `.keras` round trip. Defaults to True.
        fit: bool. Whether to check one training step (last: it changes the weights).
            Defaults to True.
    """
    x = random_inputs(model) if x is None else x
    outputs = infer(model, x)
    for out, symbolic in zip(outputs, model.outputs):
        assert out.ndim == len(symbolic.shape), (model.name, out.shape, symbolic.shape)
        assert all(d is None or d == n for d, n in zip(symbolic.shape[1:], out.shape[1:]))
        assert np.all(np.isfinite(out)), f"{model.name} produced NaN or inf"
    if expected_output_shape is not None:
        assert outputs[0].shape == tuple(expected_output_shape)
    if backward is None:
        backward = keras.backend.backend() == "tensorflow" and not trains_itself(model)
    if backward:
        _check_gradients(model, x)
    if round_trip:
        _check_round_trip(model, x)
    if fit:
        _check_fit_step(model, x, outputs, labels)
    return outputs


def _check_gradients(model, x):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        training_outputs = as_tensors(model(x, training=True))
        # A fixed random projection of every output: its gradient reaches all weights that
        # influence an output, unlike a sum of softmax probabilities (constant 1).
        loss = sum(
            tf.reduce_sum(o * tf.random.stateless_normal(tf.shape(o), seed=(1, i)))
            for i, o in enumerate(training_outputs)
        )
    grads = tape.gradient(loss, model.trainable_weights)
    missing = [w.path for w, g in zip(model.trainable_weights, grads) if g is None]
    assert not missing, f"no gradient reaches {missing}"
    # An embedding's gradient is tf.IndexedSlices: made dense to be read.
    zero = [w.path for w, g in zip(model.trainable_weights, grads)
            if not np.any(tf.convert_to_tensor(g).numpy())]
    assert not zero, f"gradient is exactly zero for {zero}"


def _check_round_trip(model, x):
    outputs = infer(model, x)  # batch-norm statistics moved in training
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    assert loaded.count_params() == model.count_params()
    for a, b in zip(outputs, infer(loaded, x), strict=True):
        np.testing.assert_array_equal(a, b)


def _check_fit_step(model, x, outputs, labels):
    # On TensorFlow eagerly: one step does not repay tracing the graph. JAX runs eager code op
    # by op, compiling each, which costs more than compiling the step.
    eager = keras.backend.backend() == "tensorflow"
    before = [w.numpy() for w in model.trainable_weights]
    if trains_itself(model):
        data = np.random.default_rng(0).random((2, *model.data_shape), dtype=np.float32)
        model.compile(run_eagerly=eager)
        logs = model.train_on_batch(data, return_dict=True)
        assert logs and all(np.isfinite(float(v)) for v in logs.values()), logs
        _check_moved(model, before)
        return
    first = outputs[0]
    if labels:
        rng = np.random.default_rng(0)
        y = rng.integers(0, first.shape[-1], size=first.shape[:-1])
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        y, loss = np.zeros_like(first), "mse"
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss, run_eagerly=eager)
    with warnings.catch_warnings():  # softmax outputs taken as logits: still a training step
        warnings.filterwarnings("ignore", ".*sparse_categorical_crossentropy. received")
        loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    _check_moved(model, before)


def _check_moved(model, before):
    # The step reached the first layer and the last: an update is applied through the network
    # (inner weights may have gradients too small to move float32, e.g. biases before batch
    # normalization).
    for index in (0, -1):
        weight = model.trainable_weights[index]
        assert not np.array_equal(weight.numpy(), before[index]), f"{weight.path} unchanged"


def infer(model, x):
    """Inference outputs as a list of arrays: an eager call on TensorFlow, a compiled one on
    JAX (whose eager calls compile every operation)."""
    if keras.backend.backend() == "jax":
        return as_list(model.predict_on_batch(x))
    return as_list(model(x, training=False))


def as_tensors(outputs):
    """A model's output(s) as a list, without converting them to arrays."""
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


# Tasks whose outputs are images or spectrograms, fitted towards a target by a regression loss.
REGRESSION_TASKS = ("super-resolution", "image-transformation", "source-separation")


def registry_model_test(name, model, x=None, **kwargs):
    """`run_model_test` of a registered model's test instance: with its class count as the
    output width, and class labels unless its task regresses images."""
    entry = models.get_entry(name)
    expected = None
    if entry.task == "classification" and "classes" in entry.small_kwargs:
        batch = len(x[0] if isinstance(x, list) else x) if x is not None else 2
        expected = (batch, entry.small_kwargs["classes"])
    return run_model_test(model, x, expected_output_shape=expected,
                          labels=entry.task not in REGRESSION_TASKS, **kwargs)


@functools.lru_cache(maxsize=8)
def full_model(name, **kwargs):
    """The registered model `name` built with `kwargs` (full size), once per test session for
    the test files that share it (the eight most recent are kept: VGGs weigh 0.5 GB)."""
    keras.utils.set_random_seed(0)
    return models.build(name, **kwargs)
