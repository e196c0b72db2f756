"""Helpers every part of garden shares, in one public home.

- `serializable`: registers a class with Keras under package "garden" (saved models find it).
- argument checks (`check_int`, `check_ints`, `check_number`, `check_rate`, `check_bool`,
  `check_choice`): a bad value raises `ValueError`
  naming the argument, the value and what is allowed.
- `save_figure`, `pyplot`: matplotlib figures written atomically.
- `atomic_path`, `write_text`: files and directories that appear complete or not at all.
"""

from garden.utils.checks import (
    check_bool,
    check_choice,
    check_int,
    check_ints,
    check_number,
    check_rate,
)
from garden.utils.figures import pyplot, save_figure
from garden.utils.files import atomic_path, write_text
from garden.utils.serialization import serializable

__all__ = [
    "atomic_path",
    "check_bool",
    "check_choice",
    "check_int",
    "check_ints",
    "check_number",
    "check_rate",
    "pyplot",
    "save_figure",
    "serializable",
    "write_text",
]
