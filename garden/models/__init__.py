"""Model builders, one module per paper family, and the registry that lists them.

    from garden import models
    model = models.build("mobilenet_v1", alpha=0.5, classes=10, input_shape=(96, 96, 3))
    models.list_models("mobilenet*"); models.info("mobilenet_v1")

Importing this package imports every model module, so the registry is complete.
"""

from garden.models._registry import ModelEntry, build, get_entry, info, list_models, register_model
from garden.models.mobilenet import mobilenet_v1
from garden.models.mlp import dropout_mlp, selu_mlp

__all__ = [
    "ModelEntry",
    "build",
    "get_entry",
    "info",
    "list_models",
    "register_model",
    "dropout_mlp",
    "mobilenet_v1",
    "selu_mlp",
]
