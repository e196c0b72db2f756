"""Every registered model reaches a phone: its test instance converts to float32 and int8 TFLite
files of builtin ops only, and the float32 file gives Keras' outputs (every output, through the
file's named signature).

The default tier converts one model per family (builder module: the shortest name, e.g. vgg11
for the VGGs); the other variants of a family share its layers and run with `-m slow`, as do the
families whose test graphs take the converter half a minute or more on 2 busy cores (measured:
hrnet_w18 150 s, deeplab 88 s, googlenet 67 s, nvae 50 s, resnet18 36 s, squeezenet1_0 35 s,
conv_fabric 32 s for both files). The GCN's and the char LSTM's files are checked the same
way in tests/test_export_models.py, which converts them once for all its checks.
"""

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from garden import export, models


HEAVY_FAMILIES = {"hrnet", "deeplab", "googlenet", "nvae", "resnet", "squeezenet", "fabric"}
# Families whose test instance the default tier converts and checks as here elsewhere.
CHECKED_ELSEWHERE = {"gcn", "char_lstm"}  # tests/test_export_models.py


def _params():
    seen, params = set(), []
    for name in sorted(models.list_models(), key=lambda name: (len(name), name)):
        family = models.get_entry(name).builder.__module__.rsplit(".", 1)[1]
        slow = family in seen or family in HEAVY_FAMILIES or name in CHECKED_ELSEWHERE
        params.append(pytest.param(name, marks=[pytest.mark.slow] * slow))
        seen.add(family)
    return sorted(params, key=lambda param: param.values[0])


def random_inputs(model, count, seed=0):
    """Inputs for `model`: uniform [0, 1) floats, or small ids for integer inputs."""
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        shape = (count, *(8 if size is None else size for size in tensor.shape[1:]))
        integer = "int" in str(tensor.dtype)
        arrays.append(rng.integers(0, 3, shape).astype(tensor.dtype) if integer
                      else rng.random(shape, dtype=np.float32))
    return arrays if len(arrays) > 1 else arrays[0]


def builtin_ops(path):
    """The op names of a `.tflite` file; Flex and custom ops would show as Flex*/CUSTOM."""
    return {op["op_name"] for op in Interpreter(model_path=str(path))._get_ops_details()}


@pytest.mark.parametrize("name", _params())
def test_model_exports_float32_and_int8_with_builtin_ops(name, small_model, tmp_path):
    model = small_model(name)
    deployable = export.deployables(model)[0]
    # A step file is checked along whole sequences of the model; other files on their inputs.
    x = random_inputs(model if deployable.role == "step" else deployable.network, 4)
    for quantize, kind in (("float", "float32"), ("int8", "int8")):
        path = export.tflite(model, tmp_path / f"{quantize}.tflite", quantize,
                             representative_data=x)
        ops = builtin_ops(path)
        assert not any(op.startswith("Flex") or op == "CUSTOM" for op in ops), ops
        report = export.verify(model, path, x, latency_runs=1)
        assert report.kind == kind and report.network == deployable.description
        assert np.isfinite(report.max_abs_diff)
        if kind == "float32":
            assert report.max_abs_diff <= 1e-4
