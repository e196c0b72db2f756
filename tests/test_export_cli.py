"""`garden export` through the real entry point in a subprocess: every refusal is one line on
stderr with exit status 2, never a traceback. The cases share one process (one TensorFlow
start-up); each prints its exit status after its error line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[1]

CASES = [
    (["argmax.keras", "m.tflite"], "converting argmax_net to TFLite (float) failed: op "
     "BitwiseAnd has no builtin TFLite kernel (LiteRT on a phone runs no Flex op)"),
    (["dense.keras", "m.h5"], "output 'm.h5' is neither a .tflite file nor a directory for a "
     "SavedModel"),
    (["dense.keras", "m.tflite", "--quantize", "int8"], "--quantize int8 needs --data"),
    (["dense.keras", "m.tflite", "--data", "digits"], "--data digits gives examples of shape "
     "(8, 8, 1) but dense takes (4,)"),
]

DRIVER = """
import json, sys
from garden import cli
for argv in json.loads(sys.argv[1]):
    status = cli.main(["export", *argv])
    sys.stderr.write(f"status {status}\\n")
"""


def models_to_export(directory):
    """A dense model, one whose argmax TFLite has no builtin op for, and a digits classifier,
    saved in `directory`."""
    images = keras.Input((8, 8, 1))
    hidden = keras.layers.Conv2D(4, 3, activation="relu")(images)
    probabilities = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(hidden))
    keras.Model(images, probabilities, name="digits_net").save(directory / "digits.keras")
    inputs = keras.Input((4,))
    logits = keras.layers.Dense(3)(inputs)
    keras.Model(inputs, logits, name="dense").save(directory / "dense.keras")
    argmax = keras.ops.one_hot(keras.ops.argmax(logits, axis=-1), 3)
    keras.Model(inputs, argmax, name="argmax_net").save(directory / "argmax.keras")


def run(argv, cwd, env=None, code=DRIVER):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_export_errors_are_one_line_each(tmp_path, digits_root):
    models_to_export(tmp_path)
    (tmp_path / "tfrecords").symlink_to(digits_root)
    quiet_int8 = ["digits.keras", "q.tflite", "--quantize", "int8", "--data", "digits"]
    result = run([json.dumps([argv for argv, _ in CASES] + [quiet_int8])], tmp_path)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    # No converter or LiteRT chatter (fully_quantize: ..., the XNNPACK INFO line) either.
    assert len(lines) == 2 * len(CASES) + 1 and lines[-1] == "status 0", result.stderr
    for (_, message), line, status in zip(CASES, lines[::2], lines[1::2]):
        assert line.startswith("garden: error: ") and message in line, line
        assert status == "status 2"
    assert result.stdout.startswith("wrote q.tflite: digits_net\nwrote q.labels.txt\n")
    assert "kind:           int8" in result.stdout
    assert (tmp_path / "q.labels.txt").read_text().splitlines() == [str(d) for d in range(10)]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "argmax.keras", "dense.keras", "digits.keras", "q.labels.txt", "q.tflite", "tfrecords"]


@pytest.mark.slow
def test_export_under_jax_runs_on_tensorflow(tmp_path):
    models_to_export(tmp_path)
    code = "import sys\nfrom garden import cli\nsys.exit(cli.main(sys.argv[1:]))"
    result = run(["export", "dense.keras", "m.tflite"], tmp_path,
                 env={"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}, code=code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == "wrote m.tflite: dense\n"
    assert (tmp_path / "m.tflite").stat().st_size > 0
