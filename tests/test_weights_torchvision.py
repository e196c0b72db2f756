"""torchvision's and timm's ImageNet networks converted into garden's builders: the same logits.

Each reference network is built in PyTorch with random weights, biases and batch-norm statistics and
its state dict written by PyTorch itself (`torch.save`, or `safetensors.torch.save_file` for timm),
in a process of its own (tests/torch_reference.py: torchvision cannot be imported after TensorFlow;
one process serves the module). garden's builder loads the file (`weights=FILE,
include_preprocessing=True`), and both networks classify the same random RGB images in [0, 255],
each normalised as its checkpoint says (garden inside the model): the logits agree within 1e-4 of
their scale. Needs torch, torchvision and (for resnet50d) timm; skipped without them (CI). They take
5-80 s each (PyTorch's import alone seconds): run them with `pytest -m weights`.

Without PyTorch (CI), a tiny torchvision ResNet written by PyTorch (tests/fixtures/
torchvision_resnet, with the script that wrote it) is read and converted, and gives the logits
PyTorch gave.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import garden.weights
from garden import models
from garden.layers import LocalResponseNormalization
from garden.models._classifier import CONTRACT_DEFAULTS
from garden.models.resnet import _resnet
from garden.weights import resnet

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "torchvision_resnet"
MISSING = [name for name in ("torch", "torchvision") if importlib.util.find_spec(name) is None]

RELATIVE_TOLERANCE = 1e-4
SIZE = 224
# garden model: the source of its reference checkpoint.
SOURCES = {name: "torchvision" for name in (
    "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn",
    "vgg19_bn", "googlenet", "squeezenet1_0", "squeezenet1_1", "resnet18", "resnet34",
    "resnet50", "resnet101", "resnet152")}
SOURCES["resnet50d"] = "timm"


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


def garden_logits(name, path, images):
    """garden's logits for `images` in [0, 255], loading the checkpoint file at `path` with
    the checkpoint's normalisation inside the model."""
    model = models.build(name, weights=str(path), include_preprocessing=True,
                         input_shape=(SIZE, SIZE, 3), classifier_activation=None)
    return np.asarray(model(images))


def case(name):
    missing_timm = SOURCES[name] == "timm" and importlib.util.find_spec("timm") is None
    return pytest.param(name, marks=[pytest.mark.skip(reason="timm not installed")]
                        if missing_timm else [])


@pytest.mark.weights
@pytest.mark.slow
@pytest.mark.skipif(bool(MISSING), reason=f"{', '.join(MISSING)} not installed: no reference")
@pytest.mark.parametrize("name", [case(name) for name in SOURCES])
def test_garden_computes_the_reference_networks_logits(name, torch_reference, tmp_path):
    images = np.random.default_rng(0).uniform(0, 255, (2, SIZE, SIZE, 3)).astype(np.float32)
    path, expected = torch_reference(name, tmp_path, images)
    actual = garden_logits(name, path, images)
    difference = np.max(np.abs(actual - expected)) / np.max(np.abs(expected))
    print(f"\n{name} ({SOURCES[name]}): max |garden - reference| / max |reference| = "
          f"{difference:.1e}")
    assert actual.shape == expected.shape == (2, 1000)
    # The logits depend on the image, so a wrong weight cannot hide behind the biases.
    assert np.max(np.abs(expected[0] - expected[1])) > 0.01 * np.max(np.abs(expected))
    assert difference <= RELATIVE_TOLERANCE


def test_tiny_torchvision_resnet_file_gives_pytorchs_logits():
    # tests/fixtures/torchvision_resnet/make_fixture.py: torchvision's ResNet narrowed to two
    # stages of one basic block (2 and 4 channels), 5 classes, input 32x32.
    model = _resnet("resnet18", spec=dict(depths=(1, 1), widths=(2, 4)), **{
        **CONTRACT_DEFAULTS, "input_shape": (32, 32, 3), "classes": 5,
        "classifier_activation": None, "name": "tiny_resnet"})
    state = garden.weights.load_state_dict(FIXTURE / "tiny_resnet.pth")
    resnet.convert(model, state, source="torchvision")
    x = np.random.default_rng(0).standard_normal((2, 32, 32, 3)).astype(np.float32)
    expected = np.load(FIXTURE / "tiny_resnet_logits.npy")
    np.testing.assert_allclose(model(x), expected, rtol=0, atol=1e-5 * np.max(np.abs(expected)))


def test_alexnet_without_lrn_is_torchvisions():
    model = models.build("alexnet", lrn=False, input_shape=(63, 63, 3), classes=3)
    assert not any(isinstance(layer, LocalResponseNormalization) for layer in model.layers)
    assert model.count_params() == models.build(
        "alexnet", input_shape=(63, 63, 3), classes=3).count_params()


def test_squeezenet_ceil_mode_gives_torchvisions_sizes_at_224():
    # torchvision's squeezenet1_0 at 224x224: conv1 109, then pooling 54, 27 and 13 (rounding
    # down would give 54, 26 and 12).
    model = models.build("squeezenet1_0", ceil_mode=True, include_top=False,
                         input_shape=(224, 224, 3))
    pools = {name: model.get_layer(name).output.shape[1] for name in ("pool1", "pool4", "pool8")}
    assert pools == {"pool1": 54, "pool4": 27, "pool8": 13}


def test_googlenet_torchvision_variant():
    model = models.build("googlenet", variant="torchvision", aux_heads=False,
                         input_shape=(64, 64, 3), classes=3)
    assert model.get_layer("inception3a_5x5").kernel_size == (3, 3)
    assert model.get_layer("pool5").pool_size == (2, 2)
    assert isinstance(model.get_layer("conv1_bn"), keras.layers.BatchNormalization)
    with pytest.raises(ValueError, match="batch_norm=False is not allowed"):
        models.build("googlenet", variant="torchvision", batch_norm=False)
    with pytest.raises(ValueError, match="variant='caffe'"):
        models.build("googlenet", variant="caffe")


def test_resnet_layouts():
    ours = models.build("resnet50", layout="torchvision", input_shape=(32, 32, 3), classes=3)
    keras_layout = models.build("resnet50", input_shape=(32, 32, 3), classes=3)
    assert ours.get_layer("conv3_block1_1_conv").strides == (1, 1)
    assert ours.get_layer("conv3_block1_2_conv").strides == (2, 2)
    # PyTorch's symmetric padding before the strided 3x3 convolution.
    assert ours.get_layer("conv3_block1_2_pad").padding == ((1, 1), (1, 1))
    assert not any(layer.use_bias for layer in ours.layers
                   if isinstance(layer, keras.layers.Conv2D))
    assert ours.output_shape == keras_layout.output_shape
    with pytest.raises(ValueError, match="layout='keras' is not allowed for resnet18"):
        models.build("resnet18", layout="keras")
