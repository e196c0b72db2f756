"""Analysis tools: each takes a model, a loss and data; the `garden` command wraps them."""

from garden.tools.crf import DenseCRF

__all__ = ["DenseCRF"]
