"""Running TFLite files with LiteRT's interpreter, and checking them against the Keras model."""

import dataclasses
import os
import statistics
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from garden.export._deploy import deployables
from garden.export._examples import examples, input_names, output_names
from garden.export._quiet import quiet

WARMUP_RUNS = 5


class _Runner:
    """One LiteRT interpreter over a `.tflite` file, run through its signature by input and
    output names, one example at a time.

    Integer (int8) inputs are quantized and outputs dequantized with their tensors' scale and
    zero point, so callers always pass and receive real values.
    """

    def __init__(self, path):
        if not os.path.isfile(path):
            kind = "a directory" if os.path.isdir(path) else "missing"
            raise FileNotFoundError(
                f"TFLite file {os.fspath(path)!r} is {kind}: pass the path of a .tflite file"
            )
        with quiet():  # LiteRT's "Created TensorFlow Lite XNNPACK delegate" line
            self.interpreter = Interpreter(model_path=os.fspath(path))
            (self.key, signature), *others = self.interpreter.get_signature_list().items()
            if others:
                raise ValueError(f"{os.fspath(path)!r} has several signatures: run it with "
                                 "LiteRT's get_signature_runner(key).")
            self.runner = self.interpreter.get_signature_runner(self.key)
            self.runner(**{  # the first run creates the XNNPACK delegate, which says so
                name: np.zeros([max(size, 1) for size in d["shape_signature"]], d["dtype"])
                for name, d in self.runner.get_input_details().items()})
        self.input_names, self.output_names = signature["inputs"], signature["outputs"]

    @property
    def kind(self):
        """The file's kind: int8 (quantized inputs or outputs), float16 or dynamic (float16 /
        int8 weights)."""
        details = [*self.runner.get_input_details().values(),
                   *self.runner.get_output_details().values()]
        if any(np.issubdtype(d["dtype"], np.integer) and d["quantization"][0] for d in details):
            return "int8"
        dtypes = {tensor["dtype"] for tensor in self.interpreter.get_tensor_details()}
        if np.float16 in dtypes:
            return "float16"
        return "dynamic" if np.int8 in dtypes else "float32"

    def order(self, model_names, kind="input"):
        """The file's input (or output) names in the order of `model_names`: the same names,
        or, for a file of one input (output), that one."""
        names = self.input_names if kind == "input" else self.output_names
        if sorted(names) == sorted(model_names):
            return list(model_names)
        if len(names) == len(model_names) == 1:
            return names
        if kind == "output" and len(names) == len(model_names) and all(
                name.startswith("output_") for name in names):  # SavedModel's output_0, ...
            return sorted(names, key=lambda name: int(name.rsplit("_", 1)[1]))
        raise ValueError(f"the file's {kind}s are {names} and the model's {model_names}: "
                         "export the model with garden.export.tflite (named signatures).")

    def feed(self, inputs):
        """`inputs` {name: batch} as the file's tensors take them (quantized for int8)."""
        feed = {}
        details = self.runner.get_input_details()
        for name, x in inputs.items():
            dtype = details[name]["dtype"]
            scale, zero_point = details[name]["quantization"]
            if np.issubdtype(dtype, np.integer) and scale:
                info = np.iinfo(dtype)
                x = np.clip(np.round(x / scale + zero_point), info.min, info.max)
            feed[name] = np.asarray(x).astype(dtype)
        return feed

    def __call__(self, inputs):
        """The outputs {name: array} for one example, `inputs` {name: array} without batch
        axes."""
        outputs = self.runner(**self.feed({name: np.asarray(x)[None]
                                           for name, x in inputs.items()}))
        details = self.runner.get_output_details()
        result = {}
        for name, y in outputs.items():
            scale, zero_point = details[name]["quantization"]
            if np.issubdtype(y.dtype, np.integer) and scale:
                y = (y.astype(np.float32) - zero_point) * scale
            result[name] = np.array(y[0])
        return result

    def run(self, inputs):
        """The outputs {name: array} for batches {name: array}, example by example."""
        count = len(next(iter(inputs.values())))
        outputs = [self({name: x[i] for name, x in inputs.items()}) for i in range(count)]
        return {name: np.stack([o[name] for o in outputs]) for name in self.output_names}


def run_tflite(path, x):
    """Runs a `.tflite` file with LiteRT through its signature, one example at a time.

    Args:
        path: str or path-like. A `.tflite` file.
        x: the inputs as real values (int8 files get them quantized with their input tensors'
            scale and zero point): for a file of one input an array of examples (first axis), or
            one example without the batch axis; for several inputs a dict from the signature's
            input names to arrays, or a list in the order of
            `Interpreter.get_signature_list()`'s inputs.

    Returns:
        The outputs, dequantized for int8 files: an array (first axis = examples; no batch
        axis for an unbatched example) for a file of one output, else a dict by output name.

    Example:
    >>> import numpy as np
    >>> from garden import export, models
    >>> model = models.mobilenet_v1(alpha=0.25, input_shape=(32, 32, 3), classes=4)
    >>> path = export.tflite(model, "saved_models/mobilenet.tflite")
    >>> export.run_tflite(path, np.zeros((2, 32, 32, 3), "float32")).shape
    (2, 4)
    >>> export.run_tflite(path, np.zeros((32, 32, 3), "float32")).shape  # one example
    (4,)
    """
    runner = _Runner(path)
    names = runner.input_names
    if not isinstance(x, dict):
        x = list(x) if isinstance(x, (list, tuple)) and len(names) > 1 else [x]
        if len(x) != len(names):
            raise ValueError(f"x has {len(x)} inputs but {os.fspath(path)!r} takes {names}: "
                             "pass a dict by input name.")
        x = dict(zip(names, x))
    if set(x) != set(names):
        raise ValueError(f"x has inputs {sorted(x)} but {os.fspath(path)!r} takes {names}.")
    details = runner.runner.get_input_details()
    x = {name: np.asarray(a) for name, a in x.items()}
    single = all(a.ndim == len(details[name]["shape_signature"]) - 1 for name, a in x.items())
    outputs = runner.run({name: a[None] for name, a in x.items()} if single else x)
    if single:
        outputs = {name: y[0] for name, y in outputs.items()}
    return next(iter(outputs.values())) if len(outputs) == 1 else outputs


class StepFile:
    """A recurrent model's step file (from `garden.export.tflite`) run by LiteRT one character
    at a time, carrying the state from call to call, as a keyboard runs it.

    Args:
        path: str or path-like. The step `.tflite` file.

    Example:
    >>> from garden import export, models
    >>> model = models.char_lstm(vocabulary_size=8, embedding_dim=4, units=6, layers=1)
    >>> path = export.tflite(model, "saved_models/char_lstm_step.tflite")
    >>> step = export.StepFile(path)
    >>> step(3).shape  # the next character's logits
    (8,)
    """

    def __init__(self, path):
        self.runner = _Runner(path)
        outputs = set(self.runner.output_names)
        self.states = [name for name in self.runner.input_names if f"{name}_next" in outputs]
        tokens = [name for name in self.runner.input_names if name not in self.states]
        logits = [name for name in self.runner.output_names if not name.endswith("_next")]
        if len(tokens) != 1 or len(logits) != 1:
            raise ValueError(f"{os.fspath(path)!r} is not a step file (inputs "
                             f"{self.runner.input_names}, outputs {self.runner.output_names}): "
                             "export a recurrent model with garden.export.tflite.")
        (self.token,), (self.logits,) = tokens, logits
        self.reset()

    def reset(self):
        """Sets the state to zeros, as at the start of a sequence."""
        details = self.runner.runner.get_input_details()
        self.state = {name: np.zeros(details[name]["shape_signature"][1:], np.float32)
                      for name in self.states}

    def __call__(self, token):
        """The logits after `token` (an int), updating the state."""
        outputs = self.runner({self.token: np.int32(token), **self.state})
        self.state = {name: outputs[f"{name}_next"] for name in self.states}
        return outputs[self.logits]

    def run(self, sequence):
        """The logits at every position of `sequence` (ints), from a zero state."""
        self.reset()
        return np.stack([self(token) for token in sequence])


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """How a TFLite file compares with its Keras model, from `verify`.

    Attributes:
        path: str. The `.tflite` file.
        kind: str. "float32", "float16", "dynamic" or "int8", read from the file's tensors.
        network: str. What the file holds, e.g. the model, or the generator of a GAN.
        num_samples: int. How many examples were compared.
        max_abs_diff: float. Largest absolute difference between the file's and Keras' outputs,
            over every output.
        top1_agreement: float. Fraction of examples (of positions, for a step file) where both
            give the same top-1 class of the first output.
        accuracy: float or None. Top-1 accuracy of the file, when the data has labels.
        keras_accuracy: float or None. Top-1 accuracy of the Keras model on the same examples.
        size_bytes: int. Size of the file.
        latency_ms: float. Median time of one batch-1 `invoke` after warm-up, in milliseconds.
    """

    path: str
    kind: str
    network: str
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
    return float(np.mean(predictions.argmax(axis=-1).reshape(-1) == labels.reshape(-1)))


def verify(model, path, data, *, num_samples=None, latency_runs=50):
    """Runs a `.tflite` file with LiteRT's interpreter and compares it with the Keras model.

    Each example of `data` goes through the file alone (batch 1, as on a phone, through the
    file's signature by input and output names) and through the Keras network the file was
    converted from; the report gives their largest difference over every output, how often their
    top-1 classes agree, both accuracies when `data` has labels, the file size and the batch-1
    latency. For a generative model the file holds its generator or decoder, and `data` is its
    noise; for a recurrent model's step file, `data` holds whole sequences: the file runs along
    each one, carrying its state, and every position's logits are compared with
    `model.predict(sequences)`.

    Args:
        model: keras.Model. The model the file was converted from (given to
            `garden.export.tflite`).
        path: str or path-like. The `.tflite` file.
        data: a `tf.data.Dataset` of `x` or `(x, y)` batches, a tuple `(x, y)` of arrays
            (integer or one-hot labels; accuracies are reported), a NumPy array of inputs, a list
            of input arrays, or a function returning an iterable of `[input batch]` lists; for a
            network of several inputs, `x` is a list in `model.inputs`' order or a dict by name.
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
    runner = _Runner(path)
    candidates = deployables(model)
    target = next((d for d in candidates if sorted(input_names(d.network))
                   == sorted(runner.input_names)), candidates[0])
    if target.role == "step":
        x, y = examples(data, model, num_samples)
        steps = StepFile(path)
        outputs = [np.stack([steps.run(sequence) for sequence in x[0]])]
        expected = [np.asarray(model.predict(x[0], verbose=0))]
    else:
        network = target.network
        x, y = examples(data, network, num_samples)
        x = [a.astype(t.dtype) for a, t in zip(x, network.inputs)]
        names = runner.order(input_names(network))
        predicted = network.predict(x if len(x) > 1 else x[0], verbose=0)
        expected = [np.asarray(p) for p in (
            predicted if isinstance(predicted, (list, tuple)) else [predicted])]
        # The names of the outputs at inference (GoogLeNet's auxiliary heads are for training).
        names_out = runner.order(output_names(network)[:len(expected)], "output")
        result = runner.run(dict(zip(names, x)))
        outputs = [result[name] for name in names_out]

    if target.role == "step":
        first = {name: np.zeros((1, *d["shape_signature"][1:]), d["dtype"])
                 for name, d in runner.runner.get_input_details().items()}
    else:
        first = runner.feed(dict(zip(names, (a[:1] for a in x))))
    times = []
    for _ in range(WARMUP_RUNS + latency_runs):
        start = time.perf_counter()
        runner.runner(**first)
        times.append(time.perf_counter() - start)

    return VerifyReport(
        path=os.fspath(path),
        kind=runner.kind,
        network=target.description,
        num_samples=len(x[0]),
        max_abs_diff=max(float(np.max(np.abs(o - e))) for o, e in zip(outputs, expected)),
        top1_agreement=float(np.mean(outputs[0].argmax(-1) == expected[0].argmax(-1))),
        accuracy=None if y is None else _top1_accuracy(outputs[0], y),
        keras_accuracy=None if y is None else _top1_accuracy(expected[0], y),
        size_bytes=os.path.getsize(path),
        latency_ms=1000 * statistics.median(times[WARMUP_RUNS:]),
    )

