"""Losses the papers introduced, each registered serializable under package "garden"."""
