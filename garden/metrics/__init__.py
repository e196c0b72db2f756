"""Metrics the papers report, each registered serializable under package "garden"."""
