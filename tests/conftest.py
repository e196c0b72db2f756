"""Shared test set-up: quiet TensorFlow, the TensorFlow backend, fixed seeds, built models cached."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_BACKEND"] = "tensorflow"

import keras  # noqa: E402
import pytest  # noqa: E402

from garden import models  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


@pytest.fixture(scope="session")
def small_model():
    """`small_model(name)`: the registered model's depth-reduced test instance
    (`ModelEntry.build_small`), built once per session."""
    cache = {}

    def get(name):
        if name not in cache:
            keras.utils.set_random_seed(0)
            cache[name] = models.get_entry(name).build_small()
        return cache[name]

    return get
