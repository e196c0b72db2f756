"""garden: a Keras 3 model garden.

Classic papers as Keras builders (`garden.models`), the layers, losses and metrics they introduced,
learning-rate schedules (`garden.schedules`), training callbacks (`garden.callbacks`), pruning
(`garden.sparsity`), TFRecord data pipelines with embedded default data (`garden.data`), export to
SavedModel and TFLite (`garden.export`) and analysis tools (`garden.tools`). The `garden` command
wraps them.

`import garden` is instant: the subpackages load on first use (`garden.models.build(...)`,
`from garden import data`). The first of them imports TensorFlow and Keras and registers garden's
Keras objects (layers, losses, metrics, models, schedules, pruning wrappers), so
`keras.saving.load_model` then finds them. TensorFlow's C++ info and warning logs are hidden
(TF_CPP_MIN_LOG_LEVEL=2 unless already set), and so are the start-up lines its native libraries
print before logging is configured (oneDNN, CUDA drivers).
"""

import contextlib
import importlib
import os
import re
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

__all__ = [
    "callbacks",
    "data",
    "export",
    "federated",
    "layers",
    "losses",
    "metrics",
    "models",
    "schedules",
    "sparsity",
    "tools",
    "utils",
    "__version__",
]

# Subpackages that register Keras-serializable classes: loaded together with any subpackage.
_SERIALIZABLE = ("layers", "losses", "metrics", "models", "schedules", "sparsity")
# absl's lines from before logging is configured: "WARNING: All log messages before
# absl::InitializeLog() ...", info lines such as "I0000 00:00:17... port.cc:153] oneDNN ..." and,
# on a machine without a GPU, "E0000 ... cuda_platform.cc:52] failed call to cuInit".
_STARTUP_LINE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog|I\d{4} |E\d{4} .*cuInit"
)


@contextlib.contextmanager
def _quiet_native_startup():
    """Drops the native libraries' start-up info lines from file descriptor 2; keeps the rest."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not _STARTUP_LINE.match(line)))
            sys.stderr.flush()


def _load_keras():
    """Imports TensorFlow (quietly, the first time) and garden's Keras-serializable subpackages."""
    first = "tensorflow" not in sys.modules
    with _quiet_native_startup() if first else contextlib.nullcontext():
        for package in _SERIALIZABLE:
            importlib.import_module(f"garden.{package}")
        tensorflow = sys.modules.get("tensorflow")  # not imported on the JAX backend
        if first and tensorflow is not None:  # the device look-up reports a missing CUDA driver
            tensorflow.config.list_physical_devices("GPU")


def __getattr__(name):
    if name not in __all__:
        raise AttributeError(f"module 'garden' has no attribute {name!r}")
    _load_keras()
    return importlib.import_module(f"garden.{name}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
