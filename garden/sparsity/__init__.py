"""Magnitude pruning for Keras 3 models with tfmot's API, and dense-sparse-dense training."""
