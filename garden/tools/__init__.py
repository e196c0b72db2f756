"""Analysis tools: each takes a model, a loss and data; the `garden` command wraps them."""

from garden.tools.conv_arithmetic import (
    RELATIONSHIPS,
    Arithmetic,
    animate,
    conv_arithmetic,
    pool_arithmetic,
    transposed_conv_arithmetic,
)
from garden.tools.profiler import LayerProfile, Profile, layer_multiply_adds, profile

__all__ = [
    "RELATIONSHIPS",
    "Arithmetic",
    "LayerProfile",
    "Profile",
    "animate",
    "conv_arithmetic",
    "layer_multiply_adds",
    "pool_arithmetic",
    "profile",
    "transposed_conv_arithmetic",
]
