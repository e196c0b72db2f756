"""Custom layers introduced by the papers, each registered serializable under package "garden".

Every layer here is decorated with `garden.utils.serializable`, so a model using it saves to
`.keras` and loads back with `keras.saving.load_model(path)` (safe mode on) once any garden
subpackage is imported (`import garden` alone is lazy and registers nothing). Every layer also
declares its multiply-adds with `multiply_adds(input_shape)`, which `garden.tools.profile` and
`garden info --layers` count.
"""

from garden.layers.aspp import ASPP, ASPPv3
from garden.layers.capsules import CapsuleLayer, Length, Mask, PrimaryCapsules, squash
from garden.layers.lrn import LocalResponseNormalization
from garden.layers.shortcut import ZeroPaddingShortcut
from garden.layers.spatial_transformer import SpatialTransformer, affine_grid, bilinear_sample
from garden.layers.subpixel import SubPixelConv2D
from garden.layers.swish import Swish

__all__ = [
    "ASPP",
    "ASPPv3",
    "CapsuleLayer",
    "Length",
    "LocalResponseNormalization",
    "Mask",
    "PrimaryCapsules",
    "squash",
    "SpatialTransformer",
    "affine_grid",
    "bilinear_sample",
    "SubPixelConv2D",
    "Swish",
    "ZeroPaddingShortcut",
]
from garden.layers.lstm import LSTMCell  # noqa: E402

__all__ += ["LSTMCell"]
from garden.layers.graph import DiffusionConv, GraphConv  # noqa: E402

__all__ += ["DiffusionConv", "GraphConv"]
