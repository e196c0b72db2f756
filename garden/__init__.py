"""garden: a Keras 3 model garden.

Classic papers as Keras builders (`garden.models`), the layers, losses and metrics they introduced,
learning-rate schedules (`garden.schedules`), training callbacks (`garden.callbacks`), pruning
(`garden.sparsity`), TFRecord data pipelines with embedded default data (`garden.data`), export to
SavedModel and TFLite (`garden.export`) and analysis tools (`garden.tools`). The `garden` command
wraps them.

`import garden` is instant: the subpackages load on first use (`garden.models.build(...)`,
`from garden import data`). garden's Keras objects (layers, losses, metrics, models, schedules,
pruning wrappers) are registered as soon as both garden and Keras are imported, in whichever order
and by whichever import (`import garden, keras`, `import garden.export`, `import tensorflow`), so
`keras.saving.load_model` finds them. TensorFlow's C++ info and warning logs are hidden
(TF_CPP_MIN_LOG_LEVEL=2 unless already set), and so are the start-up lines its native libraries
print before logging is configured (oneDNN, CUDA drivers).
"""

import contextlib
import importlib
import importlib.abc
import importlib.util
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


class _Registrar(importlib.abc.MetaPathFinder):
    """Registers garden's Keras objects once the outermost import that loads Keras has finished.

    Keras finds a custom class only if it was registered before `load_model` reads its name, and
    it imports no package but its own, so garden registers as soon as Keras is there. Waiting for
    the outermost import of Keras, TensorFlow or a garden module to finish keeps every module
    complete when the registering imports run (no partially initialised module is imported from).
    """

    TRIGGERS = ("keras", "tensorflow", "garden")

    def __init__(self):
        self.depth = 0
        self.finding = False

    def find_spec(self, fullname, path=None, target=None):
        if self.finding or fullname.split(".")[0] not in self.TRIGGERS:
            return None
        self.finding = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self.finding = False
        if spec is not None and spec.loader is not None:
            spec.loader = _CountingLoader(spec.loader, self)
        return spec

    def finished(self):
        if self.depth == 0 and "keras" in sys.modules and self in sys.meta_path:
            sys.meta_path.remove(self)
            _register()


class _CountingLoader(importlib.abc.Loader):
    """Wraps a module's loader to tell the registrar when the module has been executed."""

    def __init__(self, loader, registrar):
        self.loader = loader
        self.registrar = registrar

    def __getattr__(self, name):  # resources, source and code come from the wrapped loader
        if name == "loader":  # not set yet (e.g. while copying): no recursion
            raise AttributeError(name)
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = self.loader
        first = self.registrar.depth == 0 and "tensorflow" not in sys.modules
        with _quiet_native_startup() if first else contextlib.nullcontext():
            self.registrar.depth += 1
            try:
                self.loader.exec_module(module)
            finally:
                self.registrar.depth -= 1
            if first:
                _find_devices()
        self.registrar.finished()


def _register():
    """Imports the subpackages whose import registers garden's Keras-serializable classes."""
    for package in _SERIALIZABLE:
        importlib.import_module(f"garden.{package}")


def _load_keras():
    """Imports TensorFlow (quietly, the first time) and garden's Keras-serializable subpackages."""
    first = "tensorflow" not in sys.modules
    with _quiet_native_startup() if first else contextlib.nullcontext():
        _register()
        if first:
            _find_devices()


def _find_devices():
    """Looks the GPUs up once TensorFlow is imported, as that reports a missing CUDA driver."""
    tensorflow = sys.modules.get("tensorflow")  # not imported on the JAX backend
    if tensorflow is not None:
        tensorflow.config.list_physical_devices("GPU")


def __getattr__(name):
    if name not in __all__:
        raise AttributeError(f"module 'garden' has no attribute {name!r}")
    _load_keras()
    return importlib.import_module(f"garden.{name}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


if "keras" in sys.modules:  # Keras came first: register now (a fraction of a second then)
    _register()
else:
    sys.meta_path.insert(0, _Registrar())
