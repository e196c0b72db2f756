"""Keras 3 model -> TF SavedModel directory or TFLite (LiteRT) flatbuffers of builtin ops,
written atomically."""

import re
import tempfile
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from garden.export._deploy import deployables
from garden.export._examples import ACCEPTED, examples, input_names, output_names
from garden.export._quiet import quiet
from garden.utils.files import atomic_path

QUANTIZE = ("float", "float16", "dynamic", "int8")


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


def tflite(model, path, quantize="float", representative_data=None, *,
           num_calibration_samples=100, labels=None):
    """Converts a Keras model to a TFLite (LiteRT) file of builtin ops, float or quantized.

    The network is traced once as a function whose inputs and outputs carry the model's names
    (`model.inputs`' names, `model.output_names`), so the file's `serving_default` signature
    runs by those names (LiteRT's `get_signature_runner()`), and converted with builtin TFLite
    ops only: no Flex/SELECT_TF_OPS op and no custom op, since phones' LiteRT runs neither.
    What is converted is what runs on a device (`Deployable`): a classifier whole; a GAN's
    generator or a VAE's decoder (the model's `deployable()`); a recurrent language model as a
    step file (one character and the state `h_1, c_1, ...` in; `logits` and the new state
    `h_1_next, c_1_next, ...` out: `garden.export.StepFile` runs it) and, when its sequence
    length is fixed, also as an unrolled whole-sequence file `<stem>_sequence.tflite`. Each file
    is written to a temporary sibling and renamed into place, so `path` never holds a partial
    file.

    Args:
        model: keras.Model. The model to convert (TensorFlow backend).
        path: str or path-like. The `.tflite` file to write; parent directories are created.
        quantize: "float", "float16", "dynamic" or "int8" (None means "float"). "float" keeps
            float32 weights and math; "float16" stores weights as float16 (half the size,
            float32 math); "dynamic" stores weights as int8 and quantizes activations on the fly
            (about a quarter of the size; the converter keeps tensors under 1,024 elements in
            float32, so a model of small layers such as ESPCN or SRCNN gives a float32 file, and
            a warning says so); "int8" is full-integer quantization: int8 weights and
            activations, int8 input and output tensors (integer inputs such as character ids
            stay int32), integer-only builtin ops (what microcontrollers and NPUs run).
            Defaults to "float".
        representative_data: calibration data, required for "int8" and unused otherwise: a
            `tf.data.Dataset` of `x` or `(x, y)` batches (e.g. the training set), a NumPy array
            of inputs, a tuple `(x, y)`, a list of input arrays, or TF's own convention (as
            `TFLiteConverter.representative_dataset`): a function returning an iterable of
            lists holding one batch per input. For a model of several inputs, `x` is a list in
            `model.inputs`' order or a dict by input name; for a generative model, its noise;
            for a recurrent model, sequences. Activation ranges are measured on its first
            examples, one at a time.
        num_calibration_samples: int. How many single examples of `representative_data` to
            calibrate on. Defaults to 100.
        labels: sequence of str or None. A classifier's class names, in output order: written
            one per line to `<stem>.labels.txt` next to the file, as phone apps read them.
            Defaults to None (no labels file).

    Returns:
        `pathlib.Path` of the written (main) file.

    Raises:
        ValueError: on bad arguments, and when the converter fails: the message names the op
            and what to do.

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
    quantize = "float" if quantize is None else quantize
    if quantize not in QUANTIZE:
        raise ValueError(f"quantize={quantize!r} is not allowed: use one of {QUANTIZE}.")
    path = Path(path)
    if path.suffix != ".tflite":
        raise ValueError(f"path={str(path)!r} is not allowed: a TFLite file's name ends in "
                         ".tflite.")
    if quantize == "int8" and representative_data is None:
        raise ValueError(
            "representative_data is required for quantize='int8': pass calibration inputs (e.g. "
            f"training images), so the converter can measure activation ranges: {ACCEPTED}."
        )
    if not isinstance(num_calibration_samples, int) or num_calibration_samples < 1:
        raise ValueError(
            f"num_calibration_samples={num_calibration_samples!r} is not allowed: use an int >= 1."
        )
    targets = deployables(model)
    if labels is not None:
        labels = [str(label) for label in labels]
        classes = targets[0].network.outputs[0].shape[-1]
        if len(labels) != classes:
            raise ValueError(f"labels has {len(labels)} names but {model.name} has {classes} "
                             "outputs: pass one name per class.")
    flatbuffers = []
    for target in targets:
        calibration = None
        if quantize == "int8":
            calibration = _calibration(target, model, representative_data,
                                       num_calibration_samples)
        flatbuffers.append(_convert(target, quantize, calibration))
    for target, flatbuffer in zip(targets, flatbuffers):
        with atomic_path(path.with_name(path.stem + target.suffix + path.suffix)) as tmp:
            tmp.write_bytes(flatbuffer)
    if labels is not None:
        with atomic_path(path.with_name(path.stem + ".labels.txt")) as tmp:
            tmp.write_text("".join(f"{label}\n" for label in labels))
    return path


def _calibration(target, model, data, limit):
    """Single examples for int8 calibration of `target`: a list with one array per input."""
    if target.role != "step":
        return examples(data, target.network, limit, argument="representative_data")[0]
    # A step file's inputs are a character and the state: the states met along the sequences.
    (sequences,), _ = examples(data, model, limit, argument="representative_data")
    step = target.network
    state = [np.zeros((len(sequences), *t.shape[1:]), "float32") for t in step.inputs[1:]]
    found = []
    for position in range(sequences.shape[1]):
        inputs = [sequences[:, position], *state]
        found.append(inputs)
        state = [np.asarray(s) for s in step(inputs, training=False)[1:]]
    found = [np.concatenate(arrays) for arrays in zip(*found)]
    chosen = np.linspace(0, len(found[0]) - 1, min(limit, len(found[0]))).astype(int)
    return [array[chosen] for array in found]


def _convert(target, quantize, calibration):
    """The flatbuffer of `target.network`, with the signature named by its inputs and outputs."""
    network = target.network
    names = input_names(network)
    names_out = output_names(network)
    specs = [tf.TensorSpec((None, *t.shape[1:]), t.dtype, name=name)
             for t, name in zip(network.inputs, names)]

    def serve(*inputs):
        outputs = network(list(inputs) if len(inputs) > 1 else inputs[0], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return dict(zip(names_out, outputs))

    # Through a SavedModel, which freezes the weights (a concrete function keeps them as
    # resource variables).
    archive = keras.export.ExportArchive()
    archive.track(network)
    archive.add_endpoint("serving_default", serve, input_signature=specs)
    with tempfile.TemporaryDirectory() as directory:
        archive.write_out(directory, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(directory)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize != "float":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if quantize == "int8":
            converter.representative_dataset = lambda: (  # by name: the graph's order differs
                {name: array[i:i + 1] for name, array in zip(names, calibration)}
                for i in range(len(calibration[0])))
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        try:
            with quiet(), warnings.catch_warnings():
                # The calibrator runs TF's own deprecated tf.lite.Interpreter, which says so.
                warnings.filterwarnings("ignore", ".*tf.lite.Interpreter is deprecated")
                flatbuffer = converter.convert()
        except Exception as error:  # TFLite's ConverterError, or the calibrator's RuntimeError
            if type(error).__name__ != "ConverterError" and not isinstance(error, RuntimeError):
                raise
            raise ValueError(conversion_error(error, target.description, quantize)) from None
    if quantize == "dynamic" and _float_weights_only(flatbuffer):
        warnings.warn(
            f"quantize='dynamic' left {target.description} in float32: the converter quantizes "
            "only weight tensors of 1,024 elements or more, and this network has none. Use "
            "quantize='int8' for an integer file.", stacklevel=3)
    return flatbuffer


def _float_weights_only(flatbuffer):
    """Whether a converted file holds no int8 tensor (dynamic range quantized nothing)."""
    interpreter = Interpreter(model_content=flatbuffer)
    return all(t["dtype"] != np.int8 for t in interpreter.get_tensor_details())


def conversion_error(error, description, quantize):
    """One line for a failed conversion: the op that failed and what to do."""
    text = str(error)
    ops = sorted(set(re.findall(r"'tf\.(\w+)' op", text))
                 | {op.strip() for found in re.findall(r"TF Select ops: ([\w, ]+)", text)
                    for op in found.split(",") if op.strip()})
    unsupported = re.findall(r"(?:op|operation)[: ]+'?(\w+)'? (?:is not supported|not yet "
                             r"supported)|Quantization not yet supported for op: '?(\w+)", text)
    if ops:
        return (f"converting {description} to TFLite ({quantize}) failed: op {', '.join(ops)} "
                "has no builtin TFLite kernel (LiteRT on a phone runs no Flex op): write the "
                "layer with ops TFLite has (ai.google.dev/edge/litert/models/ops_compatibility).")
    if unsupported and quantize == "int8":
        op = next(name for pair in unsupported for name in pair if name)
        return (f"converting {description} to int8 TFLite failed: op {op} has no int8 kernel: "
                "export it with quantize='dynamic' or 'float16'.")
    first = next((line.strip() for line in text.splitlines() if line.strip()), repr(error))
    return f"converting {description} to TFLite ({quantize}) failed: {first}"
