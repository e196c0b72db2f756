"""Keras 3 model -> TF SavedModel directory or TFLite (LiteRT) flatbuffer, written atomically."""

import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from garden.utils.files import atomic_path
from garden.export._examples import ACCEPTED, examples

QUANTIZE = (None, "float16", "dynamic", "int8")


def _check_backend(function):
    """Export converts TensorFlow graphs: other Keras backends are refused before any work."""
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ValueError(
            f"garden.export.{function} needs Keras' TensorFlow backend, and this process runs "
            f"Keras on {backend!r} (converting its graphs fails, e.g. on ZeroPaddingShortcut's "
            "gather under JAX): save the model (model.save('m.keras'), any backend) and export "
            "the file with the TensorFlow backend: KERAS_BACKEND=tensorflow garden export "
            "m.keras m.tflite"
        )


def _export(model, directory):
    """The model's forward pass as a SavedModel with a `serve` function and `serving_default`."""
    model.export(str(directory), format="tf_saved_model", verbose=False)


def saved_model(model, path):
    """Exports a Keras model as a TensorFlow SavedModel directory, atomically.

    The SavedModel holds the inference forward pass only (no Python code is needed to load it),
    as the `serve` function and the `serving_default` signature over the model's inputs. It is
    written into a temporary sibling directory and renamed into place when complete: an existing
    export at `path` is replaced only then, and a failure leaves it untouched.

    Args:
        model: keras.Model. The model to export (TensorFlow backend).
        path: str or path-like. The SavedModel directory. It may exist only as an earlier
            SavedModel (it is replaced) or an empty directory. Parent directories are created.

    Returns:
        `pathlib.Path` of the SavedModel directory.

    Example:
    >>> import tensorflow as tf
    >>> from garden import export, models
    >>> model = models.mobilenet_v1(alpha=0.25, input_shape=(32, 32, 3), classes=4)
    >>> path = export.saved_model(model, "saved_models/mobilenet")
    >>> reloaded = tf.saved_model.load(str(path))  # keep a reference while serving
    >>> reloaded.serve(tf.zeros((1, 32, 32, 3))).shape
    TensorShape([1, 4])
    """
    _check_backend("saved_model")
    path = Path(path)
    if path.exists() and not (
        path.is_dir() and ((path / "saved_model.pb").exists() or not any(path.iterdir()))
    ):
        raise ValueError(
            f"path={str(path)!r} exists and is not a directory holding saved_model.pb: pass a new "
            "path or an earlier SavedModel's directory (only those are replaced)."
        )
    with atomic_path(path, directory=True) as staging:
        _export(model, staging)
    return path


def tflite(model, path, quantize=None, representative_data=None, *, num_calibration_samples=100):
    """Converts a Keras model to a TFLite (LiteRT) file, float or quantized, atomically.

    The model is exported to a temporary SavedModel and converted with `tf.lite.TFLiteConverter`
    (the robust route for Keras 3 models). The file is written to a temporary sibling and renamed
    into place, so `path` never holds a partial file.

    Args:
        model: keras.Model. The model to convert (TensorFlow backend).
        path: str or path-like. The `.tflite` file to write; parent directories are created.
        quantize: None, "float16", "dynamic" or "int8". None keeps float32 weights and math;
            "float16" stores weights as float16 (half the size, float32 math); "dynamic" stores
            weights as int8 and quantizes activations on the fly (about a quarter of the size);
            "int8" is full-integer quantization: int8 weights and activations, int8 input and
            output tensors, integer-only builtin ops (what microcontrollers and NPUs run).
            Defaults to None.
        representative_data: calibration data, required for "int8" and unused otherwise: a
            `tf.data.Dataset` of `x` or `(x, y)` batches (e.g. the training set), a NumPy array
            of inputs, a tuple `(x, y)`, a list of input arrays, or TF's own convention (as
            `TFLiteConverter.representative_dataset`): a function returning an iterable of
            lists holding one input batch each. Activation ranges are measured on its first
            examples, one at a time.
        num_calibration_samples: int. How many single examples of `representative_data` to
            calibrate on. Defaults to 100.

    Returns:
        `pathlib.Path` of the written file.

    Example:
    >>> import numpy as np
    >>> from garden import export, models
    >>> model = models.mobilenet_v1(alpha=0.25, input_shape=(32, 32, 3), classes=4)
    >>> images = np.random.rand(8, 32, 32, 3).astype("float32")
    >>> path = export.tflite(model, "saved_models/mobilenet_int8.tflite", quantize="int8",
    ...                      representative_data=images)
    >>> export.verify(model, path, images).kind
    'int8'
    """
    _check_backend("tflite")
    if quantize not in QUANTIZE:
        raise ValueError(f"quantize={quantize!r} is not allowed: use one of {QUANTIZE}.")
    if quantize == "int8" and representative_data is None:
        raise ValueError(
            "representative_data is required for quantize='int8': pass calibration inputs (e.g. "
            f"training images), so the converter can measure activation ranges: {ACCEPTED}."
        )
    if not isinstance(num_calibration_samples, int) or num_calibration_samples < 1:
        raise ValueError(
            f"num_calibration_samples={num_calibration_samples!r} is not allowed: use an int >= 1."
        )
    if quantize == "int8":
        calibration, _ = examples(
            representative_data, model, num_calibration_samples, argument="representative_data"
        )
    with tempfile.TemporaryDirectory() as directory:
        _export(model, directory)
        converter = tf.lite.TFLiteConverter.from_saved_model(directory)
        if quantize is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if quantize == "int8":
            dtype = model.inputs[0].dtype
            converter.representative_dataset = lambda: (
                [example[None].astype(dtype)] for example in calibration
            )
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        flatbuffer = converter.convert()
    with atomic_path(path) as tmp:
        tmp.write_bytes(flatbuffer)
    return Path(path)
