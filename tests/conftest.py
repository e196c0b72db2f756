"""Shared test set-up: quiet TensorFlow, the TensorFlow backend, fixed seeds, built models cached."""

import copy
import json
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


@pytest.fixture(scope="session")
def digits_root(tmp_path_factory):
    """A data directory with the digits prepared once per session (8x8 grayscale)."""
    from garden import data

    root = tmp_path_factory.mktemp("tfrecords")
    data.prepare("digits", root)
    return str(root)


@pytest.fixture
def tiny_recipe(digits_root):
    """`tiny_recipe(**sections)`: a one-epoch recipe of a small SELU MLP on the prepared 8x8
    digits, as a new dict; keyword arguments replace whole sections."""
    base = {
        "name": "tiny",
        "seeds": [0],
        "model": {"name": "selu_mlp", "depth": 2, "width": 16, "input_shape": [8, 8, 1],
                  "classes": 10},
        "data": {"name": "digits", "batch_size": 64, "root": digits_root},
        "train": {"epochs": 1,
                  "optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.01}},
                  "metrics": ["accuracy"]},
    }

    def make(**sections):
        return copy.deepcopy({**base, **sections})

    return make


@pytest.fixture(scope="session")
def recipe_toml():
    """`recipe_toml(recipe)`: TOML text for the nested dicts of the tests' recipes."""

    def value(v):
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)

    def text(recipe):
        lines = [f"{k} = {value(v)}" for k, v in recipe.items() if not isinstance(v, dict)]
        for section, table in recipe.items():
            if isinstance(table, dict) and section != "variants":
                lines += [f"[{section}]"] + [f"{k} = {value(v)}" for k, v in table.items()]
        for name, table in recipe.get("variants", {}).items():
            lines += [f"[variants.{name}]"] + [f"{k} = {value(v)}" for k, v in table.items()]
        return "\n".join(lines) + "\n"

    return text
