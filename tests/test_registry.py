"""The registry, and the checks every registered model gets (as timm's test_models does).

A model is covered here the moment it is registered: it builds small, its forward pass has the
right shape and no NaN, every trainable weight receives a gradient, and it survives a `.keras`
round trip with safe mode on.
"""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from garden import models
from tests.helpers import as_list, random_inputs

ALL_MODELS = models.list_models()


def test_registry_is_filled_by_import():
    assert "mobilenet_v1" in ALL_MODELS
    assert models.list_models("mobile*") == ["mobilenet_v1"]
    assert models.list_models("nothing*") == []


def test_every_builder_is_importable_by_name():
    for name in ALL_MODELS:
        assert getattr(models, name) is models.get_entry(name).builder


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match="Did you mean: mobilenet_v1"):
        models.build("mobilenet_v2x")


def test_unknown_argument_names_accepted_ones():
    with pytest.raises(ValueError, match=r"does not accept argument\(s\) alfa\. Accepted: alpha"):
        models.build("mobilenet_v1", alfa=0.5)


def test_registering_a_name_twice_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        models.register_model(paper="x", year=2000, arxiv="x", input_shape=(1,))(
            models.get_entry("mobilenet_v1").builder
        )


def test_info_reports_paper_and_parameters():
    info = models.info("mobilenet_v1")
    assert info["year"] == 2017
    assert info["arxiv"].startswith("https://arxiv.org/abs/")
    assert info["input_shape"] == (224, 224, 3)
    assert info["parameters"] == 4_253_864


@pytest.mark.parametrize("name", ALL_MODELS)
def test_entry_is_documented(name):
    entry = models.get_entry(name)
    assert inspect.getdoc(entry.builder), f"{name} has no docstring"
    assert set(entry.small_kwargs) <= set(entry.arguments)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_forward(name, small_model):
    model = small_model(name)
    outputs = as_list(model(random_inputs(model), training=False))
    for out, symbolic in zip(outputs, model.outputs):
        assert all(d is None or d == n for d, n in zip(symbolic.shape[1:], out.shape[1:]))
        assert out.ndim == len(symbolic.shape)
    for out in outputs:
        assert np.all(np.isfinite(out)), f"{name} produced NaN or inf"
    entry = models.get_entry(name)
    if entry.task == "classification" and "classes" in entry.small_kwargs:
        assert outputs[0].shape == (2, entry.small_kwargs["classes"])


@pytest.mark.parametrize("name", ALL_MODELS)
def test_backward_reaches_every_weight(name, small_model):
    model = small_model(name)
    x = random_inputs(model)
    with tf.GradientTape() as tape:
        outputs = model(x, training=True)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        # A fixed random projection of every output: its gradient reaches all weights that
        # influence the output, unlike a sum of softmax probabilities (constant 1).
        loss = sum(
            tf.reduce_sum(o * tf.random.stateless_normal(tf.shape(o), seed=(1, i)))
            for i, o in enumerate(outputs)
        )
    grads = tape.gradient(loss, model.trainable_weights)
    missing = [w.path for w, g in zip(model.trainable_weights, grads) if g is None]
    assert not missing, f"no gradient reaches {missing}"
    zero = [w.path for w, g in zip(model.trainable_weights, grads) if not np.any(g.numpy())]
    assert not zero, f"gradient is exactly zero for {zero}"


@pytest.mark.parametrize("name", ALL_MODELS)
def test_keras_file_round_trip(name, small_model, tmp_path):
    model = small_model(name)
    x = random_inputs(model)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    for a, b in zip(as_list(model(x, training=False)), as_list(loaded(x, training=False))):
        np.testing.assert_array_equal(a, b)
    assert loaded.count_params() == model.count_params()
