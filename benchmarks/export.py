"""TFLite files of each kind against the float file: size, and batch-1 latency on LiteRT.

`python -m benchmarks.export` converts the demo's model (MobileNet v1 alpha 0.5, 32x32x1, 10
classes) and MobileNet v1 1.0 at 224x224 (1000 classes) to float, float16, dynamic-range and
int8 TFLite files (`garden.export.tflite`; int8 calibrated on random images: size and speed do
not depend on the ranges found), and times batch-1 inference with LiteRT's interpreter (XNNPACK,
its default delegate) on 1 and 2 threads, interleaved with the float file and with the Keras
model's own call. Rows: each file's size over the float file's (targets: int8 <= 0.27), each
file's latency over the float file's (int8 <= 0.6) and over the Keras call's. The untrained
weights give the same sizes and speeds as trained ones.

Where an int8 file's bytes go (`flatbuffer_bytes`): int8 weights are a quarter of the float
weights, but every per-channel quantized convolution also stores a float32 scale and an int64
zero point per output channel for its weights and again for its int32 bias (24 bytes per
channel), and the biases (batch norm folded in) stay 32-bit. A 3x3 depthwise channel holds 9
bytes of weights beside them, so a narrow MobileNet lands above 0.25.
"""

import tempfile
from pathlib import Path

import keras
import numpy as np
from ai_edge_litert.interpreter import Interpreter
from tensorflow.lite.python import schema_py_generated as schema

from benchmarks import _models, _timing
from garden import export, models

KINDS = {"float": None, "float16": "float16", "dynamic": "dynamic", "int8": "int8"}
CALIBRATION = 16
RUNS = 20  # inferences per timed repetition


def flatbuffer_bytes(path):
    """Bytes of a .tflite file by kind: tensor data, quantization parameters, the rest."""
    buffer = Path(path).read_bytes()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(buffer, 0))
    data = sum(len(b.data) for b in model.buffers if b.data is not None)
    parameters = 0
    for tensor in model.subgraphs[0].tensors:
        q = tensor.quantization
        if q is not None:  # float32 scales, int64 zero points
            parameters += 4 * len(q.scale if q.scale is not None else []) + 8 * len(
                q.zeroPoint if q.zeroPoint is not None else [])
    return {"total": len(buffer), "tensor_data": data, "quantization_parameters": parameters,
            "other": len(buffer) - data - parameters}


def invoker(path, x, threads):
    """A callable running `RUNS` batch-1 inferences of the file on `threads` threads."""
    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    given = interpreter.get_input_details()[0]
    if np.issubdtype(given["dtype"], np.integer):
        scale, zero_point = given["quantization"]
        x = np.clip(np.round(x / scale + zero_point), -128, 127)
    x = x.astype(given["dtype"])

    def run():
        for _ in range(RUNS):
            interpreter.set_tensor(given["index"], x)
            interpreter.invoke()

    return run


def study(name, model, kinds, threads, repeats):
    """Rows of one model: size and latency of each kind against the float file and Keras."""
    shape = tuple(model.inputs[0].shape[1:])
    rng = np.random.default_rng(0)
    calibration = rng.random((CALIBRATION, *shape), dtype=np.float32)
    x = calibration[:1]
    result = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = {kind: export.tflite(model, Path(tmp) / f"{kind}.tflite", quantize=quantize,
                                     representative_data=calibration,
                                     num_calibration_samples=CALIBRATION)
                 for kind, quantize in kinds.items()}
        sizes = {kind: flatbuffer_bytes(path) for kind, path in paths.items()}
        for kind in kinds:
            if kind != "float":
                result.append(_timing.row(
                    "export", f"{name} {kind} file size / float", [
                        sizes[kind]["total"] / sizes["float"]["total"]], "size ratio",
                    bytes=sizes[kind], float_bytes=sizes["float"]))

        def keras_call():
            for _ in range(RUNS):
                model(x, training=False)

        for n in threads:
            functions = {kind: invoker(path, x, n) for kind, path in paths.items()}
            functions["keras"] = keras_call
            seconds = _timing.interleave(functions, repeats=repeats, warmup=2)
            for kind in kinds:
                detail = {"threads": n, "runs": RUNS, "repeats": repeats,
                          "ms_per_inference": 1000 * float(np.median(seconds[kind])) / RUNS}
                if kind != "float":
                    result.append(_timing.row(
                        "export", f"{name} {kind} latency / float, {n} thread(s)",
                        _timing.ratios(seconds, kind, "float"), "time ratio", **detail))
                result.append(_timing.row(
                    "export", f"{name} {kind} latency / Keras call, {n} thread(s)",
                    _timing.ratios(seconds, kind, "keras"), "time ratio", **detail,
                    keras_ms_per_inference=1000 * float(np.median(seconds["keras"])) / RUNS))
    return result


def rows(tiny=False, repeats=5):
    """Size and latency rows of the demo model and (not tiny) MobileNet v1 1.0 at 224."""
    keras.utils.set_random_seed(0)
    if tiny:  # the registry's small MLP converts in a fraction of the demo's time
        return study("selu_mlp small", models.get_entry("selu_mlp").build_small(),
                     {"float": None, "int8": "int8"}, (1,), 1)
    result = study("demo", _models.demo_model(), KINDS, (1, 2), repeats)
    return result + study("mobilenet_v1 1.0 224", models.mobilenet_v1(), KINDS, (1, 2), repeats)


def main(argv=None):
    return _timing.repeats_main(rows, __doc__, argv)


if __name__ == "__main__":
    main()
