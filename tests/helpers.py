"""Small utilities the tests share."""

import contextlib
import importlib.util
import io
import json
import os
import select
import subprocess
import sys
import tempfile

import keras
import numpy as np
import pytest

# PyTorch is optional (the bench extra): the tests of the torch backend run where it is installed.
requires_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                    reason="PyTorch is not installed (the bench extra has it)")


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# The process that runs `run_script`'s scripts on one backend, one per backend and test
# process: a new process would cost seconds of imports (Keras, JAX, garden) per script. It runs
# each request (a JSON line: script, args, working directory) in a fresh namespace, and replies
# on its own copy of stdout with a JSON line `[status, stdout, stderr]`.
_SERVER = """
import contextlib, io, json, os, sys, traceback
import keras
replies = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # what C code prints cannot corrupt the replies
for line in sys.stdin:
    request = json.loads(line)
    os.chdir(request["cwd"])
    sys.argv = ["-c", *request["args"]]
    out, err, status = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            exec(compile(request["script"], "<string>", "exec"), {"__name__": "__main__"})
        except SystemExit as exit:  # as the interpreter maps it to an exit status
            if exit.code is not None and not isinstance(exit.code, int):
                print(exit.code, file=sys.stderr)
            status = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
        except BaseException:
            traceback.print_exc()
            status = 1
    keras.backend.clear_session()
    replies.write(json.dumps([status, out.getvalue(), err.getvalue()]) + "\\n")
    replies.flush()
"""
_servers = {}


def run_script(script, *args, backend="jax", timeout=600):
    """Runs the Python `script` (with `args` as sys.argv[1:]) on Keras `backend` (fixed per
    process) in this test process's script server for that backend, as `python -c script args`
    in the current directory would, garden and tests importable, in a fresh namespace after
    `keras.backend.clear_session()`; returns a `subprocess.CompletedProcess`, output captured as
    text (a server that dies answers its exit status and its stderr). A script that changes a
    process-wide setting (`keras.config.set_floatx`, say) restores it. JAX runs on the CPU with
    XLA's optimisations off: compiling them costs more than these tiny models run."""
    server = _servers.get(backend)
    if server is None or server.poll() is not None:
        env = dict(os.environ, PYTHONPATH=ROOT, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu",
                   TF_CPP_MIN_LOG_LEVEL="3",
                   XLA_FLAGS="--xla_backend_optimization_level=0 "
                             "--xla_llvm_disable_expensive_passes=true")
        log = tempfile.TemporaryFile()
        server = _servers[backend] = subprocess.Popen(
            [sys.executable, "-c", _SERVER], env=env, text=True, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=log)
        server.log = log
    command = [sys.executable, "-c", script, *map(str, args)]
    request = {"script": script, "args": command[3:], "cwd": os.getcwd()}
    server.stdin.write(json.dumps(request) + "\n")
    server.stdin.flush()
    if not select.select([server.stdout], [], [], timeout)[0]:
        server.kill()
        server.wait()
        raise subprocess.TimeoutExpired(command, timeout)
    reply = server.stdout.readline()
    if not reply:  # the server died
        server.log.seek(0)
        return subprocess.CompletedProcess(command, server.wait(), "",
                                           server.log.read().decode(errors="replace"))
    return subprocess.CompletedProcess(command, *json.loads(reply))


@contextlib.contextmanager
def numpy_initial_values(seed=0):
    """Within it, Keras' random initializers draw with NumPy: on JAX each weight shape would
    otherwise compile its own sampler (most of a model's build time). For models whose weights
    are loaded right after (their initial values are never used)."""
    from keras.src import backend

    rng = np.random.default_rng(seed)

    def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
        return rng.uniform(minval, maxval, shape).astype(dtype or keras.config.floatx())

    def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        return rng.normal(mean, stddev, shape).astype(dtype or keras.config.floatx())

    def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        values = mean + stddev * np.clip(rng.normal(size=shape), -2, 2)
        return values.astype(dtype or keras.config.floatx())

    samplers = {"uniform": uniform, "normal": normal, "truncated_normal": truncated_normal}
    saved = {name: getattr(backend.random, name) for name in samplers}
    for name, sampler in samplers.items():
        setattr(backend.random, name, sampler)
    try:
        yield
    finally:
        for name, sampler in saved.items():
            setattr(backend.random, name, sampler)


def random_inputs(model, batch=2, seed=0, unknown=5):
    """Random arrays matching each of `model`'s inputs (ints in [0, 2) for integer inputs,
    floats in [0, 1) otherwise, so a graph input is a valid weighted adjacency). An axis of
    unknown size (a sequence length, a graph's node count) gets size `unknown` in every input,
    so a graph's features and adjacency agree."""
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        shape = (batch, *(unknown if d is None else d for d in tensor.shape[1:]))
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(0, 2, size=shape).astype(tensor.dtype))
        else:
            arrays.append(rng.random(shape, dtype=np.float32))
    return arrays[0] if len(arrays) == 1 else arrays


def as_list(outputs):
    """A model's output(s) as a list of numpy arrays."""
    if isinstance(outputs, dict):
        outputs = [outputs[k] for k in sorted(outputs)]
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [keras.ops.convert_to_numpy(o) for o in outputs]


def garden_in_process(argv):
    """`[status, stdout, stderr]` of `cli.main(argv)` in this process, as `garden ARGV` would
    give them."""
    from garden import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(argv)
        except SystemExit as exit:
            status = exit.code
    return [status, out.getvalue(), err.getvalue()]


# Several `garden` commands in one new process (each process costs seconds of TensorFlow's
# start-up).
_SESSION = """
import json, sys
from tests.helpers import garden_in_process
print(json.dumps([garden_in_process(argv) for argv in json.loads(sys.argv[1])]))
"""


def garden_session(argvs, cwd, timeout=300):
    """`[status, stdout, stderr]` of `garden ARGV` for each of `argvs`, run in order in one new
    Python process in directory `cwd` (the repository on its PYTHONPATH)."""
    result = subprocess.run([sys.executable, "-c", _SESSION, json.dumps(argvs)], cwd=cwd,
                            capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])
