"""Analysis tools: each takes a model, a loss and data; the `garden` command wraps them."""

from garden.tools.profiler import LayerProfile, Profile, layer_multiply_adds, profile

__all__ = ["LayerProfile", "Profile", "layer_multiply_adds", "profile"]
