"""garden: a Keras 3 model garden.

Classic papers as Keras builders (`garden.models`), the layers they introduced (`garden.layers`),
TFRecord data pipelines with embedded default data (`garden.data`), and export to SavedModel and
TFLite (`garden.export`). The `garden` command wraps them.
"""

from garden import layers, models

__version__ = "0.1.0"

__all__ = ["layers", "models", "__version__"]
