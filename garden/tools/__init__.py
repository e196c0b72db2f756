"""Analysis tools: each takes a model, a loss and data; the `garden` command wraps them."""
