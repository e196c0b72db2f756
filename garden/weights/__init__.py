"""Pretrained ImageNet weights: reading PyTorch and safetensors checkpoints without PyTorch,
and converting them into garden's builders (one converter module per family).

Work in progress (wave 3, issue 24): the port helpers (`_port.py`) and the checkpoint table
(`_checkpoints.py`) are the shared interface; readers and converters are being added.
"""
