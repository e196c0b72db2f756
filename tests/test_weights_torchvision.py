"""torchvision's and timm's ImageNet networks converted into garden's builders: the same logits.

Each reference network is built in PyTorch with random weights, biases and batch-norm statistics
and its state dict written by PyTorch itself (`torch.save`, or `safetensors.torch.save_file` for
timm), in a process of its own (tests/torch_reference.py: torchvision cannot be imported after
TensorFlow; one process serves the module). garden's builder takes the checkpoint, and both networks classify the same random
RGB images in [0, 255], each normalised as its checkpoint says: the logits agree within 1e-4 of
their scale. Needs torch, torchvision and (for resnet50d) timm; skipped without them (CI). The
full-size VGGs but the first two, ResNet-34 and ResNet-101/152 run in the slow tier.

Without PyTorch (CI), a tiny torchvision ResNet written by PyTorch (tests/fixtures/
torchvision_resnet, with the script that wrote it) is read and converted, and gives the logits
PyTorch gave.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import garden.weights
from garden import models
from garden.models._classifier import CONTRACT_DEFAULTS
from garden.models.resnet import _resnet
from garden.weights import alexnet, googlenet, resnet, squeezenet, vgg  # noqa: F401
from garden.weights._checkpoints import CHECKPOINTS

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "torchvision_resnet"
MISSING = [name for name in ("torch", "torchvision") if importlib.util.find_spec(name) is None]

RELATIVE_TOLERANCE = 1e-4
SIZE = 224
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
# garden model: the source of its reference checkpoint.
SOURCES = {name: "torchvision" for name in (
    "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn",
    "vgg19_bn", "googlenet", "squeezenet1_0", "squeezenet1_1", "resnet18", "resnet34",
    "resnet50", "resnet101", "resnet152")}
SOURCES["resnet50d"] = "timm"
SLOW = {"vgg13", "vgg16", "vgg19", "vgg13_bn", "vgg16_bn", "vgg19_bn", "resnet34", "resnet101",
        "resnet152"}


def normalise(images, preprocessing):
    """RGB images in [0, 255] as a checkpoint's network expects them ("torch" or "tf")."""
    if preprocessing == "torch":
        return (images / 255.0 - MEAN) / STD
    assert preprocessing == "tf", preprocessing
    return images / 127.5 - 1.0


def read_state_dict(path):
    """The file's arrays by key, as garden's converters take them."""
    if path.suffix == ".safetensors":
        import safetensors.numpy

        return safetensors.numpy.load_file(str(path))
    import torch  # PyTorch itself imports after TensorFlow (torchvision does not)

    return {key: value.numpy() for key, value in torch.load(path, weights_only=True).items()}


@pytest.fixture(scope="module")
def torch_reference():
    """`torch_reference(name, directory, images)`: the reference network's checkpoint file and
    its logits for `images`, from one PyTorch process serving the whole module."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "-m", "tests.torch_reference"], cwd=ROOT,
                               env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(name, directory, images):
        np.save(directory / "images.npy", images)
        process.stdin.write(f"{name} {directory}\n")
        process.stdin.flush()
        answer = process.stdout.readline().strip()
        assert answer == "done", f"PyTorch's side failed for {name}: {answer or 'it exited'}"
        path = next(p for p in directory.iterdir() if p.stem == "model")
        return path, np.load(directory / "expected.npy")

    yield run
    process.stdin.close()
    process.wait(timeout=60)


def garden_logits(name, checkpoint, path, images):
    """garden's logits for `images` in [0, 255] with the checkpoint file at `path`."""
    model = models.build(name, input_shape=(SIZE, SIZE, 3), classifier_activation=None,
                         **checkpoint.builder_kwargs)
    checkpoint.convert(model, read_state_dict(path))
    return np.asarray(model(normalise(images, checkpoint.preprocessing)))


def case(name):
    marks = [pytest.mark.slow] if name in SLOW else []
    if SOURCES[name] == "timm" and importlib.util.find_spec("timm") is None:
        marks.append(pytest.mark.skip(reason="timm not installed"))
    return pytest.param(name, marks=marks)


@pytest.mark.weights
@pytest.mark.skipif(bool(MISSING), reason=f"{', '.join(MISSING)} not installed: no reference")
@pytest.mark.parametrize("name", [case(name) for name in SOURCES])
def test_garden_computes_the_reference_networks_logits(name, torch_reference, tmp_path):
    images = np.random.default_rng(0).uniform(0, 255, (2, SIZE, SIZE, 3)).astype(np.float32)
    path, expected = torch_reference(name, tmp_path, images)
    checkpoint = CHECKPOINTS[name][SOURCES[name]]
    actual = garden_logits(name, checkpoint, path, images)
    difference = np.max(np.abs(actual - expected)) / np.max(np.abs(expected))
    print(f"\n{name} ({checkpoint.source}): max |garden - reference| / max |reference| = "
          f"{difference:.1e}")
    assert actual.shape == expected.shape == (2, 1000)
    assert difference <= RELATIVE_TOLERANCE


@pytest.mark.skipif(not hasattr(garden.weights, "load_state_dict"),
                    reason="garden.weights.load_state_dict (issue 24's reader) is not here yet")
def test_tiny_torchvision_resnet_file_gives_pytorchs_logits():
    # tests/fixtures/torchvision_resnet/make_fixture.py: torchvision's ResNet narrowed to two
    # stages of one basic block (2 and 4 channels), 5 classes, input 32x32.
    model = _resnet("resnet18", spec=dict(depths=(1, 1), widths=(2, 4)), **{
        **CONTRACT_DEFAULTS, "input_shape": (32, 32, 3), "classes": 5,
        "classifier_activation": None, "name": "tiny_resnet"})
    state = garden.weights.load_state_dict(FIXTURE / "tiny_resnet.pth")
    CHECKPOINTS["resnet18"]["torchvision"].convert(model, state)
    x = np.random.default_rng(0).standard_normal((2, 32, 32, 3)).astype(np.float32)
    expected = np.load(FIXTURE / "tiny_resnet_logits.npy")
    np.testing.assert_allclose(model(x), expected, rtol=0, atol=1e-5 * np.max(np.abs(expected)))
