"""Running TFLite files with LiteRT's interpreter, and checking them against the Keras model."""

import dataclasses
import os
import statistics
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from garden.export._examples import examples

WARMUP_RUNS = 5


class _Runner:
    """One LiteRT interpreter over a single-input, single-output file; runs one example at a time.

    Integer (int8) inputs are quantized and outputs dequantized with their tensors' scale and
    zero point, so callers always pass and receive real values.
    """

    def __init__(self, path):
        if not os.path.isfile(path):
            kind = "a directory" if os.path.isdir(path) else "missing"
            raise FileNotFoundError(
                f"TFLite file {os.fspath(path)!r} is {kind}: pass the path of a .tflite file"
            )
        self.interpreter = Interpreter(model_path=os.fspath(path))
        inputs = self.interpreter.get_input_details()
        outputs = self.interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(
                f"{os.fspath(path)!r} has {len(inputs)} inputs and {len(outputs)} outputs: only "
                "single-input, single-output files are supported."
            )
        self.input, self.output = inputs[0], outputs[0]
        self.interpreter.allocate_tensors()

    @property
    def kind(self):
        """The file's kind: int8 (integer input), float16 or dynamic (float16 / int8 weights)."""
        if np.issubdtype(self.input["dtype"], np.integer):
            return "int8"
        dtypes = {tensor["dtype"] for tensor in self.interpreter.get_tensor_details()}
        if np.float16 in dtypes:
            return "float16"
        return "dynamic" if np.int8 in dtypes else "float32"

    def set_input(self, x):
        x = np.asarray(x)[None]
        if tuple(self.input["shape"]) != x.shape:
            self.interpreter.resize_tensor_input(self.input["index"], x.shape)
            self.interpreter.allocate_tensors()
            self.input = self.interpreter.get_input_details()[0]
        dtype = self.input["dtype"]
        scale, zero_point = self.input["quantization"]
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            x = np.clip(np.round(x / scale + zero_point), info.min, info.max)
        self.interpreter.set_tensor(self.input["index"], x.astype(dtype))

    def get_output(self):
        y = self.interpreter.get_tensor(self.output["index"])[0]
        scale, zero_point = self.output["quantization"]
        if np.issubdtype(y.dtype, np.integer):
            return (y.astype(np.float32) - zero_point) * scale
        return y

    def __call__(self, x):
        self.set_input(x)
        self.interpreter.invoke()
        return self.get_output()

    def run(self, x):
        """The outputs for a batch `x`, example by example."""
        return np.stack([self(example) for example in x])


def run_tflite(path, x):
    """Runs a `.tflite` file on a batch of inputs with LiteRT, one example at a time.

    Args:
        path: str or path-like. A single-input, single-output `.tflite` file.
        x: array-like. Inputs with the examples on the first axis, as real values (int8 files
            get them quantized with their input tensor's scale and zero point).

    Returns:
        NumPy array of the outputs, first axis = examples (dequantized for int8 files).

    Example:
    >>> import numpy as np
    >>> from garden import export, models
    >>> model = models.mobilenet_v1(alpha=0.25, input_shape=(32, 32, 3), classes=4)
    >>> path = export.tflite(model, "saved_models/mobilenet.tflite")
    >>> export.run_tflite(path, np.zeros((2, 32, 32, 3), "float32")).shape
    (2, 4)
    """
    return _Runner(path).run(x)


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """How a TFLite file compares with its Keras model, from `verify`.

    Attributes:
        path: str. The `.tflite` file.
        kind: str. "float32", "float16", "dynamic" or "int8", read from the file's tensors.
        num_samples: int. How many examples were compared.
        max_abs_diff: float. Largest absolute difference between the file's and Keras' outputs.
        top1_agreement: float. Fraction of examples where both give the same top-1 class.
        accuracy: float or None. Top-1 accuracy of the file, when the data has labels.
        keras_accuracy: float or None. Top-1 accuracy of the Keras model on the same examples.
        size_bytes: int. Size of the file.
        latency_ms: float. Median time of one batch-1 `invoke` after warm-up, in milliseconds.
    """

    path: str
    kind: str
    num_samples: int
    max_abs_diff: float
    top1_agreement: float
    accuracy: float | None
    keras_accuracy: float | None
    size_bytes: int
    latency_ms: float

    def as_dict(self):
        return dataclasses.asdict(self)


def _top1_accuracy(predictions, labels):
    """Top-1 accuracy against integer labels, or one-hot labels (argmax taken)."""
    if labels.ndim == predictions.ndim:
        labels = labels.argmax(axis=-1)
    return float(np.mean(predictions.argmax(axis=-1) == labels.reshape(-1)))


def verify(model, path, data, *, num_samples=None, latency_runs=50):
    """Runs a `.tflite` file with LiteRT's interpreter and compares it with the Keras model.

    Each example of `data` goes through the file alone (batch 1, as on a phone) and through the
    Keras model; the report gives their largest output difference, how often their top-1 classes
    agree, both accuracies when `data` has labels, the file size and the batch-1 latency.

    Args:
        model: keras.Model. The model the file was converted from.
        path: str or path-like. The `.tflite` file.
        data: a `tf.data.Dataset` of `x` or `(x, y)` batches, a tuple `(x, y)` of arrays
            (integer or one-hot labels; accuracies are reported), a NumPy array of inputs, a list
            of input arrays, or a function returning an iterable of `[input batch]` lists.
        num_samples: int or None. How many examples of `data` to use; None uses them all.
            Defaults to None.
        latency_runs: int. How many timed `invoke` calls the latency is the median of.
            Defaults to 50.

    Returns:
        A `VerifyReport`; `report.as_dict()` gives a plain dict.

    Example:
    >>> import numpy as np
    >>> from garden import export, models
    >>> model = models.mobilenet_v1(alpha=0.25, input_shape=(32, 32, 3), classes=4)
    >>> path = export.tflite(model, "saved_models/mobilenet.tflite")
    >>> report = export.verify(model, path, np.random.rand(4, 32, 32, 3).astype("float32"))
    >>> report.kind, report.max_abs_diff < 1e-4
    ('float32', True)
    """
    if num_samples is not None and (not isinstance(num_samples, int) or num_samples < 1):
        raise ValueError(f"num_samples={num_samples!r} is not allowed: use None or an int >= 1.")
    if not isinstance(latency_runs, int) or latency_runs < 1:
        raise ValueError(f"latency_runs={latency_runs!r} is not allowed: use an int >= 1.")
    x, y = examples(data, model, num_samples)
    runner = _Runner(path)
    outputs = runner.run(x)
    expected = np.asarray(model.predict(x.astype(model.inputs[0].dtype), verbose=0))

    runner.set_input(x[0])
    times = []
    for _ in range(WARMUP_RUNS + latency_runs):
        start = time.perf_counter()
        runner.interpreter.invoke()
        times.append(time.perf_counter() - start)

    return VerifyReport(
        path=os.fspath(path),
        kind=runner.kind,
        num_samples=len(x),
        max_abs_diff=float(np.max(np.abs(outputs - expected))),
        top1_agreement=float(np.mean(outputs.argmax(axis=-1) == expected.argmax(axis=-1))),
        accuracy=None if y is None else _top1_accuracy(outputs, y),
        keras_accuracy=None if y is None else _top1_accuracy(expected, y),
        size_bytes=os.path.getsize(path),
        latency_ms=1000 * statistics.median(times[WARMUP_RUNS:]),
    )
