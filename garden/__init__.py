"""garden: a Keras 3 model garden.

Classic papers as Keras builders (`garden.models`), the layers, losses and metrics they introduced,
learning-rate schedules (`garden.schedules`), training callbacks (`garden.callbacks`), pruning (`garden.sparsity`), TFRecord data pipelines with
embedded default data (`garden.data`), export to SavedModel and TFLite (`garden.export`) and
analysis tools (`garden.tools`). The `garden` command wraps them.

Importing garden hides TensorFlow's C++ info and warning logs (TF_CPP_MIN_LOG_LEVEL=2) unless
TF_CPP_MIN_LOG_LEVEL is already set.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from garden import (
    callbacks,
    data,
    export,
    layers,
    losses,
    metrics,
    models,
    schedules,
    sparsity,
    tools,
    utils,
)

__version__ = "0.1.0"

__all__ = [
    "callbacks",
    "data",
    "export",
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
