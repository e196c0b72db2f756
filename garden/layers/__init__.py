"""Custom layers introduced by the papers, each registered serializable under package "garden".

Every layer here is decorated with `serializable`, so a model using it saves to `.keras` and loads
back with `keras.saving.load_model(path)` (safe mode on) after `import garden`.
"""

from garden.layers._base import serializable
from garden.layers.swish import Swish

__all__ = ["serializable", "Swish"]
