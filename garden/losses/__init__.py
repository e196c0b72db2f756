"""Losses the papers introduced, each registered serializable under package "garden"."""

from garden.losses.margin import MarginLoss, margin_loss

__all__ = ["MarginLoss", "margin_loss"]
