"""Every registered model builds, runs and trains a step on the JAX backend, and computes what
it computes on TensorFlow: the TF test instances' weights are loaded into their JAX-built twins
in one subprocess, which runs `run_model_test` (forward, one fit step) on each. The default
tier checks one model of every family (model module); `-m slow` checks the rest. The models with
their own training step also train on PyTorch where it is installed (the bench extra)."""

import json
import textwrap

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
    for name in json.loads(sys.argv[2]):
        with numpy_initial_values():  # replaced by TensorFlow's weights
            model = models.get_entry(name).build_small()
        model.load_weights(f"{workdir}/{name}.weights.h5")
        data = np.load(f"{workdir}/{name}.inputs.npz")
        x = [data[k] for k in sorted(data.files)]
        outputs = registry_model_test(name, model, x[0] if len(x) == 1 else x,
                                      round_trip=False)
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


def test_every_family_matches_and_trains_on_jax(small_model, tmp_path):
    _check_on("jax", FAMILIES, small_model, tmp_path)


@pytest.mark.slow
def test_every_other_model_matches_and_trains_on_jax(small_model, tmp_path):
    _check_on("jax", sorted(set(models.list_models()) - set(FAMILIES)), small_model, tmp_path)


@requires_torch
def test_models_with_their_own_training_step_train_on_torch(small_model, tmp_path):
    names = [n for n in models.list_models() if models.trains_itself(small_model(n))]
    assert {"dcgan", "wgan", "vae", "nvae"} <= set(names)
    _check_on("torch", names, small_model, tmp_path)


def _check_on(backend, names, small_model, tmp_path):
    expected = {}
    for name in names:
        model = small_model(name)
        x = random_inputs(model)
        x = x if isinstance(x, list) else [x]
        model.save_weights(tmp_path / f"{name}.weights.h5")
        np.savez(tmp_path / f"{name}.inputs.npz", **{f"x{i:02d}": a for i, a in enumerate(x)})
        expected[name] = as_list(model(x[0] if len(x) == 1 else x, training=False))

    done = run_script(JAX_SCRIPT, tmp_path, json.dumps(names), backend=backend)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in names:
        got = np.load(tmp_path / f"{name}.jax.npz")
        got = [got[k] for k in sorted(got.files, key=lambda k: int(k.split("_")[1]))]
        assert len(got) == len(expected[name]), name
        for a, b in zip(expected[name], got):
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4, err_msg=name)
