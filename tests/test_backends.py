"""Every registered model builds, runs and trains a step on the JAX backend, and computes what
it computes on TensorFlow: the TF test instances' weights are loaded into their JAX-built twins
in one subprocess, which runs `run_model_test` (forward, and one fit step where asked) on each.

The default tier checks the forward pass of one model of every family (model module), and the
fit step of every family whose training garden writes (its own `train_step`: GANs, VAEs, NVAE;
its own `compute_loss`: CapsNet, GoogLeNet) plus one plain functional classifier, the
representative of Keras' own `fit` on JAX: the other plain models' JAX fit is that same Keras
code over layers that tests/test_layers.py trains on JAX one by one. `-m slow` fits every other
model on JAX, families included. The models with their own training step also train on PyTorch
where it is installed (the bench extra)."""

import json
import textwrap

import keras
import numpy as np
import pytest

from garden import models
from tests.helpers import as_list, random_inputs, requires_torch, run_script

JAX_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    import keras
    from garden import models
    from tests.harness.models import registry_model_test
    from tests.helpers import numpy_initial_values
    assert keras.backend.backend() == os.environ["KERAS_BACKEND"], keras.backend.backend()
    workdir = sys.argv[1]
    for name, fit in json.loads(sys.argv[2]):
        with numpy_initial_values():  # replaced by TensorFlow's weights
            model = models.get_entry(name).build_small()
        model.load_weights(f"{workdir}/{name}.weights.h5")
        data = np.load(f"{workdir}/{name}.inputs.npz")
        x = [data[k] for k in sorted(data.files)]
        outputs = registry_model_test(name, model, x[0] if len(x) == 1 else x,
                                      round_trip=False, fit=fit)
        np.savez(f"{workdir}/{name}.jax.npz", *outputs)
    """
)


def _one_per_family():
    """One registered model of every model module, its shortest-named (the base variant, as
    resnet18 before resnet101): the default tier's JAX check covers each family's code; the
    slow tier runs the others."""
    chosen = {}
    for name in sorted(models.list_models(), key=lambda n: (len(n), n)):
        chosen.setdefault(models.get_entry(name).builder.__module__, name)
    return sorted(chosen.values())


FAMILIES = _one_per_family()
# The plain functional classifier whose fit step represents Keras' own `fit` on JAX (the
# cheapest to compile).
PLAIN = "selu_mlp"


def writes_its_training(model):
    """Whether garden writes part of `model`'s training step: its own `train_step` (GANs, VAEs)
    or its own `compute_loss` (CapsNet's reconstruction, GoogLeNet's auxiliary heads)."""
    return (models.trains_itself(model)
            or type(model).compute_loss is not keras.Model.compute_loss)


def _fitted_by_default(small_model):
    """The families the default tier fits on JAX."""
    return {n for n in FAMILIES if n == PLAIN or writes_its_training(small_model(n))}


def test_every_family_matches_on_jax_and_its_own_training_trains(small_model, tmp_path):
    fitted = _fitted_by_default(small_model)
    assert {PLAIN, "capsnet", "googlenet", "nvae", "vae", "wgan"} <= fitted
    _check_on("jax", FAMILIES, small_model, tmp_path, fitted)


@pytest.mark.slow
def test_every_other_model_matches_and_trains_on_jax(small_model, tmp_path):
    """Every model the default tier does not fit on JAX: the other variants, and the families
    whose fit is Keras' own (their forward pass is checked again)."""
    names = sorted(set(models.list_models()) - _fitted_by_default(small_model))
    _check_on("jax", names, small_model, tmp_path)


@requires_torch
def test_models_with_their_own_training_step_train_on_torch(small_model, tmp_path):
    names = [n for n in models.list_models() if models.trains_itself(small_model(n))]
    assert {"dcgan", "wgan", "vae", "nvae"} <= set(names)
    _check_on("torch", names, small_model, tmp_path)


def _check_on(backend, names, small_model, tmp_path, fitted=None):
    """Checks `names` on `backend`, each fitted one step if in `fitted` (default: all)."""
    fitted = set(names) if fitted is None else fitted
    expected = {}
    for name in names:
        model = small_model(name)
        x = random_inputs(model)
        x = x if isinstance(x, list) else [x]
        model.save_weights(tmp_path / f"{name}.weights.h5")
        np.savez(tmp_path / f"{name}.inputs.npz", **{f"x{i:02d}": a for i, a in enumerate(x)})
        expected[name] = as_list(model(x[0] if len(x) == 1 else x, training=False))

    plan = json.dumps([[name, name in fitted] for name in names])
    done = run_script(JAX_SCRIPT, tmp_path, plan, backend=backend)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in names:
        got = np.load(tmp_path / f"{name}.jax.npz")
        got = [got[k] for k in sorted(got.files, key=lambda k: int(k.split("_")[1]))]
        assert len(got) == len(expected[name]), name
        for a, b in zip(expected[name], got):
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4, err_msg=name)
