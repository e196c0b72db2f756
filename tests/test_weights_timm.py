"""timm's checkpoints converted into garden's builders compute timm's logits (issue 24).

Each row builds timm's network with random weights and batch-norm statistics and writes its
state dict with `safetensors.torch.save_file`, as timm's Hugging Face files are written
(tests/timm_reference.py, in a subprocess: PyTorch cannot be imported beside TensorFlow here).
garden reads the file with `safetensors.numpy` (no PyTorch) and converts it with the registered
checkpoint's `convert` into its builder called with the checkpoint's `builder_kwargs`. Both
networks see the same random [0, 255] RGB images, normalised as timm's pretrained
configuration says. Skipped where PyTorch, timm or safetensors is not installed (CI).
"""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

if any(importlib.util.find_spec(name) is None for name in ("torch", "timm", "safetensors")):
    pytest.skip("needs torch, timm and safetensors", allow_module_level=True)

import safetensors.numpy  # noqa: E402

from garden import models  # noqa: E402
from garden.weights import hrnet, mobilenet  # noqa: E402, F401 (they register the checkpoints)
from garden.weights._checkpoints import CHECKPOINTS  # noqa: E402

# PyTorch's import alone takes seconds: run them with `pytest -m weights`.
pytestmark = [pytest.mark.weights, pytest.mark.slow]

# garden model -> timm's model and checkpoint; at 64x64 every branch of HRNet still exists
# (2x2 at 1/32).
ROWS = {"hrnet_w18_small": "hrnet_w18_small.ms_in1k", "hrnet_w18": "hrnet_w18.ms_aug_in1k",
        "hrnet_w32": "hrnet_w32.ms_in1k", "mobilenet_v1": "mobilenetv1_100.ra4_e3600_r224_in1k"}
SIZE = 64
# What each preprocessing name of the checkpoint table means as timm's (mean, std) on [0, 1].
MEAN_STD = {"torch": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
            "tf": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))}
SCRIPT = os.path.join(os.path.dirname(__file__), "timm_reference.py")


@pytest.fixture(scope="module")
def reference(request, tmp_path_factory):
    """`reference(model)`: (timm's outputs on random pixels as a dict, its state dict as
    safetensors.numpy reads the file timm wrote). One subprocess (PyTorch's import takes
    seconds) makes the references of every row the session's selected tests use."""
    workdir = tmp_path_factory.mktemp("timm")
    pixels = np.random.default_rng(0).uniform(0, 255, (2, SIZE, SIZE, 3))
    np.save(workdir / "pixels.npy", pixels)
    # The tests without a `model` parameter use mobilenet_v1.
    selected = {item.callspec.params["model"] if hasattr(item, "callspec") else "mobilenet_v1"
                for item in request.session.items if item.module is request.module}
    subprocess.run([sys.executable, SCRIPT, str(workdir), *(ROWS[m] for m in sorted(selected))],
                   check=True, capture_output=True)

    def get(model):
        outputs = dict(np.load(workdir / f"{ROWS[model]}.npz"), pixels=pixels)
        return outputs, safetensors.numpy.load_file(workdir / f"{ROWS[model]}.safetensors")

    return get


def normalised(pixels, checkpoint):
    """`pixels` ([0, 255] RGB) normalised as the checkpoint's preprocessing says."""
    mean, std = MEAN_STD[checkpoint.preprocessing]
    return ((pixels / 255 - mean) / std).astype("float32")


def relative_difference(ours, theirs):
    return float(np.abs(np.asarray(ours) - theirs).max() / np.abs(theirs).max())


@pytest.mark.parametrize("model", list(ROWS))
def test_timm_checkpoint_gives_timm_logits(model, reference):
    theirs, state = reference(model)
    checkpoint = CHECKPOINTS[model]["timm"]
    # The registered facts agree with timm's configuration of the network.
    assert checkpoint.matches(state)
    np.testing.assert_allclose(MEAN_STD[checkpoint.preprocessing],
                               (theirs["mean"], theirs["std"]))
    assert checkpoint.url == (f"https://huggingface.co/timm/{ROWS[model]}/resolve/main/"
                              "model.safetensors")
    # The two images' logits differ by far more than the tolerance: the comparison sees the input.
    assert relative_difference(theirs["logits"][0], theirs["logits"][1]) > 1e-2

    ours = models.build(model, **checkpoint.builder_kwargs, input_shape=(SIZE, SIZE, 3),
                        classifier_activation=None)
    checkpoint.convert(ours, state)
    difference = relative_difference(ours(normalised(theirs["pixels"], checkpoint)),
                                     theirs["logits"])
    print(f"{model}: max |garden - timm| / max |timm| = {difference:.2e} "
          f"(torch {theirs['versions'][0]}, timm {theirs['versions'][1]})")
    assert difference <= 1e-4


@pytest.mark.parametrize("model", ["hrnet_w18_small", "mobilenet_v1"])
def test_without_the_top_gives_timm_features(model, reference):
    # include_top=False, pooling="avg" is timm's num_classes=0 network (pooled pre-logits).
    theirs, state = reference(model)
    checkpoint = CHECKPOINTS[model]["timm"]
    ours = models.build(model, **checkpoint.builder_kwargs, include_top=False, pooling="avg",
                        input_shape=(SIZE, SIZE, 3))
    checkpoint.convert(ours, state)
    assert ours.output_shape == (None, theirs["features"].shape[1])
    assert relative_difference(ours(normalised(theirs["pixels"], checkpoint)),
                               theirs["features"]) <= 1e-4


def test_keras_padding_does_not_compute_timm_mobilenet(reference):
    # Why variant="timm" exists: keras.applications' padding and epsilon change the function.
    theirs, state = reference("mobilenet_v1")
    checkpoint = CHECKPOINTS["mobilenet_v1"]["timm"]
    ours = models.mobilenet_v1(input_shape=(SIZE, SIZE, 3), classifier_activation=None)
    checkpoint.convert(ours, state)
    assert relative_difference(ours(normalised(theirs["pixels"], checkpoint)),
                               theirs["logits"]) > 1e-2


def test_a_checkpoint_of_another_width_is_refused(reference):
    _, state = reference("mobilenet_v1")
    half = models.mobilenet_v1(alpha=0.5, variant="timm", input_shape=(SIZE, SIZE, 3))
    with pytest.raises(ValueError, match="'conv_stem.weight' has shape"):
        CHECKPOINTS["mobilenet_v1"]["timm"].convert(half, state)
