"""garden.weights: the checkpoint readers, downloads, the `weights=` contract, preprocessing and
the CLI, without PyTorch (the fixtures were written by PyTorch: tests/fixtures/weights)."""

import hashlib
import io
import os
import pickle
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
import safetensors.numpy

from garden import models, weights
from garden.cli import main
from garden.weights import CHECKPOINTS, Checkpoint
from garden.weights._port import Porter
from tests.helpers import requires_torch

FIXTURES = Path(__file__).parent / "fixtures" / "weights"
READERS = ["tiny_zip.pth", "tiny_legacy.pth", "tiny.safetensors"]


@pytest.fixture(scope="module")
def expected():
    with np.load(FIXTURES / "tiny_expected.npz", allow_pickle=False) as arrays:
        return dict(arrays)


# Readers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", READERS)
def test_readers_give_the_arrays_pytorch_wrote(name, expected):
    """Every dtype (bfloat16 as float32), the 0-d counter, and views with a storage offset and
    a transposed stride, exactly as PyTorch's tensors were."""
    state = weights.load_state_dict(FIXTURES / name)
    assert sorted(state) == sorted(expected)
    for key, array in expected.items():
        assert state[key].dtype == array.dtype, key
        np.testing.assert_array_equal(state[key], array, err_msg=key)
    np.testing.assert_array_equal(state["views.transposed"], np.arange(12).reshape(3, 4).T)
    np.testing.assert_array_equal(state["views.row"], [4, 5, 6, 7])


class _Payload:
    """Pickles to a call of os.system, as a malicious checkpoint does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_pickle_naming_another_global_is_refused_without_running_it(tmp_path):
    payload = pickle.dumps({"conv.weight": _Payload(tmp_path / "ran")}, protocol=2)
    # The payload is live: plain pickle runs it.
    pickle.loads(pickle.dumps(_Payload(tmp_path / "control"), protocol=2))
    assert (tmp_path / "control").exists()

    legacy = tmp_path / "evil_legacy.pth"
    legacy.write_bytes(payload)
    archive = tmp_path / "evil_zip.pth"
    with zipfile.ZipFile(FIXTURES / "tiny_zip.pth") as source, \
            zipfile.ZipFile(archive, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, payload if item.filename.endswith("/data.pkl") else data)
    for path in (legacy, archive):
        with pytest.raises(ValueError, match=r"names the global posix\.system"):
            weights.load_state_dict(path)
    assert not (tmp_path / "ran").exists()


def test_truncated_and_corrupted_files_give_clear_errors(tmp_path):
    cases = {}
    for name in READERS:
        data = (FIXTURES / name).read_bytes()
        for cut in (len(data) // 2, len(data) - 7):
            cases[f"cut{cut}_{name}"] = data[:cut]
    zipped = bytearray((FIXTURES / "tiny_zip.pth").read_bytes())
    with zipfile.ZipFile(FIXTURES / "tiny_zip.pth") as archive:
        member = next(i for i in archive.infolist() if i.filename.endswith("/data/0"))
    # A byte of the storage's data (its local header: 30 bytes, then name and extra field).
    name_length, extra_length = struct.unpack_from("<HH", zipped, member.header_offset + 26)
    zipped[member.header_offset + 30 + name_length + extra_length + 2] ^= 0xFF
    cases["crc_zip.pth"] = bytes(zipped)
    legacy = bytearray((FIXTURES / "tiny_legacy.pth").read_bytes())
    legacy[200:240] = b"\xff" * 40  # inside the state dict's pickle
    cases["pickle_legacy.pth"] = bytes(legacy)
    cases["text.pth"] = b"not a checkpoint\n"
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ValueError, match=r"Cannot read .*(truncated|corrupted|not)"):
            weights.load_state_dict(path)
    with pytest.raises(ValueError, match="does not exist"):
        weights.load_state_dict(tmp_path / "missing.pth")


# Downloads -------------------------------------------------------------------------------------

def _checkpoint(url, sha256="", **fields):
    return Checkpoint(**{**dict(model="alexnet", source="test", url=url, sha256=sha256,
                                size_bytes=None, top1=50.0, preprocessing="torch",
                                convert=_port_every_layer), **fields})


def test_every_checkpoint_has_its_own_file_in_the_cache():
    assert _checkpoint("https://huggingface.co/timm/hrnet_w18.ms_aug_in1k/resolve/main/"
                       "model.safetensors").file_name == "hrnet_w18.ms_aug_in1k.safetensors"
    names = [c.file_name for name in models.list_models()
             for c in weights.checkpoints(name).values()]
    assert len(names) == len(set(names)), names


def test_download_checks_the_sha256_and_leaves_no_bad_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    served = tmp_path / "served" / "tiny-0123abcd.pth"
    served.parent.mkdir()
    shutil.copy(FIXTURES / "tiny_zip.pth", served)
    digest = hashlib.sha256(served.read_bytes()).hexdigest()
    url = served.as_uri()
    cache = tmp_path / "keras" / "models" / served.name

    for sha256 in (digest, digest[:8]):  # the whole hash, and a published prefix
        path = weights.download(_checkpoint(url, sha256))
        assert Path(path) == cache == Path(weights.cache_path(_checkpoint(url)))
        assert cache.read_bytes() == served.read_bytes()
        cache.unlink()

    wrong = ("0" if digest[0] != "0" else "1") + digest[1:8]
    with pytest.raises(ValueError, match=f"SHA-256 {digest}, not {wrong}.*deleted"):
        weights.download(_checkpoint(url, wrong))
    assert not cache.exists()

    missing = (tmp_path / "offline" / "x.pth").as_uri()
    with pytest.raises(ValueError, match=f"Could not download .* from {missing} .* "
                                         r"pass it: alexnet\(weights='/path/to/x.pth'\)"):
        weights.download(_checkpoint(missing, digest))
    assert os.listdir(cache.parent) == []


# The weights= contract ---------------------------------------------------------------------------

def _port_every_layer(model, state):
    """A converter for the test: each convolution and dense layer from `<layer name>.*`."""
    porter = Porter(model, state, "test")
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            porter.conv(layer.name, layer.name)
        elif isinstance(layer, keras.layers.Dense):
            porter.dense(layer.name, layer.name)
    porter.finish()


def _torch_layout(model):
    """The model's convolution and dense weights as a PyTorch state dict would hold them."""
    state = {}
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            kernel = keras.ops.convert_to_numpy(layer.kernel)
            state[f"{layer.name}.weight"] = (kernel.transpose(3, 2, 0, 1) if kernel.ndim == 4
                                             else kernel.T).copy()
            state[f"{layer.name}.bias"] = keras.ops.convert_to_numpy(layer.bias)
    return state


TINY = dict(input_shape=(67, 67, 3), classes=5, classifier_activation=None)


def _tiny_alexnet(**kwargs):
    return models.get_entry("alexnet").tiny(**{**TINY, **kwargs})


@pytest.fixture
def test_checkpoint(monkeypatch, tmp_path):
    """Registers a test checkpoint as alexnet's only one (its network: `groups=2`), and writes
    a safetensors file of a random such network; returns (checkpoint, file, network)."""
    weights.checkpoints("alexnet")  # the family modules first
    reference = _tiny_alexnet(groups=2)
    path = tmp_path / "served" / "alexnet-test.safetensors"
    path.parent.mkdir()
    safetensors.numpy.save_file(_torch_layout(reference), str(path))
    checkpoint = _checkpoint(
        path.as_uri(), hashlib.sha256(path.read_bytes()).hexdigest()[:10],
        signature=("conv1.weight", "fc6.weight"), builder_kwargs={"groups": 2},
        top_prefixes=("fc6.", "fc7.", "predictions."), default=True,
    )
    monkeypatch.setitem(CHECKPOINTS, "alexnet", {"test": checkpoint})
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return checkpoint, path, reference


def test_a_checkpoint_file_selects_its_network_and_loads(test_checkpoint):
    _, path, reference = test_checkpoint
    model = _tiny_alexnet(weights=str(path))  # groups=2 comes from the checkpoint
    assert model.get_layer("conv2").groups == 2
    x = np.random.default_rng(0).uniform(0, 1, (2, 67, 67, 3)).astype("float32")
    np.testing.assert_array_equal(model(x), reference(x))

    with pytest.raises(ValueError, match=r"groups=1 contradicts weights=.*with groups=2"):
        _tiny_alexnet(weights=str(path), groups=1)
    with pytest.raises(ValueError, match=r"'predictions.weight' has shape \(32, 5\) \(after "
                                         r"conversion\), layer 'predictions' expects \(32, 7\)"):
        _tiny_alexnet(weights=str(path), classes=7)


def test_imagenet_downloads_the_default_checkpoint(test_checkpoint):
    """Through Keras' cache (the hash prefix checked), without the top: its keys are dropped."""
    _, path, reference = test_checkpoint
    model = _tiny_alexnet(weights="imagenet", include_top=False, pooling="avg")
    assert (Path(os.environ["KERAS_HOME"]) / "models" / path.name).exists()
    for name in ("conv1", "conv5"):
        for ours, theirs in zip(model.get_layer(name).weights, reference.get_layer(name).weights):
            np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ValueError, match="classes=5 is not allowed with weights='imagenet'"):
        _tiny_alexnet(weights="imagenet")


def test_weights_that_fit_nothing_are_refused_naming_why(test_checkpoint, tmp_path):
    _, path, _ = test_checkpoint
    other = tmp_path / "other.safetensors"
    safetensors.numpy.save_file({"features.0.weight": np.zeros((2, 3, 1, 1), "float32")},
                                str(other))
    cases = [
        (dict(weights=str(other)), r"keys begin features\.0\.weight.*test's, with keys conv1"
                                   r"\.weight, fc6\.weight \(builder arguments \{'groups': 2\}"),
        (dict(weights=str(tmp_path / "missing.pth")), "missing.pth'.*does not exist"),
        (dict(weights="timm"), r"weights='timm' is not allowed for alexnet: use None, 'imagenet', "
                               r"one of its sources \('test'\)"),
        (dict(weights=str(tmp_path / "model.ckpt")), "weights='.*model.ckpt' is not allowed"),
        (dict(weights=["imagenet"]), r"weights=\['imagenet'\] is not allowed"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            _tiny_alexnet(**kwargs)


def test_offline_keras_applications_weights_say_where_to_get_them(monkeypatch):
    def offline(**kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/x.h5: None -- "
                        "[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.applications, "MobileNet", offline)
    with pytest.raises(ValueError, match=r"Could not download keras\.applications\.MobileNet's "
                                         r"ImageNet weights .* pass it: "
                                         r"weights='/path/to/mobilenet_1_0_224_tf\.h5'"):
        models.get_entry("mobilenet_v1").tiny(alpha=0.25, input_shape=(32, 32, 3),
                                              include_top=False, weights="imagenet")


def test_models_without_checkpoints_refuse_imagenet_and_include_preprocessing():
    with pytest.raises(ValueError, match="stn_classifier has no pretrained checkpoint"):
        models.build("stn_classifier", weights="imagenet")
    with pytest.raises(ValueError, match="include_preprocessing=True is not allowed"):
        models.build("stn_classifier", include_preprocessing=True)


# Preprocessing and class names -------------------------------------------------------------------

@pytest.mark.parametrize("mode", weights.PREPROCESSING)
def test_normalisation_equals_keras_applications(mode):
    """In NumPy and in the layer, as keras.applications' preprocess_input computes it."""
    images = np.random.default_rng(0).uniform(0, 255, (2, 4, 5, 3)).astype("float32")
    reference = keras.applications.imagenet_utils.preprocess_input(images.copy(), mode=mode)
    np.testing.assert_allclose(weights.normalize(images, mode), reference, rtol=1e-6, atol=1e-5)
    layer = weights.ImageNormalization(mode)
    np.testing.assert_allclose(layer(images), reference, rtol=1e-6, atol=1e-5)


def test_normalisation_exports_to_builtin_tflite_ops(tmp_path):
    """The three modes in one model, converted with builtin ops only (no Flex), equal NumPy's."""
    from garden import export

    inputs = keras.Input((4, 4, 3))
    outputs = keras.layers.Concatenate()(
        [weights.ImageNormalization(mode)(inputs) for mode in weights.PREPROCESSING])
    path = export.tflite(keras.Model(inputs, outputs), tmp_path / "normalise.tflite")
    images = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    expected = np.concatenate([weights.normalize(images, m) for m in weights.PREPROCESSING], -1)
    np.testing.assert_allclose(export.run_tflite(path, images), expected, rtol=1e-6, atol=1e-5)


def test_preprocess_input_follows_the_checkpoint():
    images = np.random.default_rng(1).uniform(0, 255, (1, 3, 3, 3)).astype("float32")
    np.testing.assert_allclose(models.preprocess_input(images, model="resnet50"),
                               keras.applications.resnet.preprocess_input(images.copy()),
                               rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(models.preprocess_input(images, model="mobilenet_v1"),
                               keras.applications.mobilenet.preprocess_input(images.copy()),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="weights='torchvision' is not allowed for resnet50"):
        models.preprocess_input(images, model="resnet50", weights="torchvision")


def test_include_preprocessing_equals_preprocessing_outside(test_checkpoint, tmp_path):
    """Raw pixels into the model with it equal preprocessed pixels into the model without it;
    the model saves to .keras and loads back (safe mode) computing the same."""
    _, path, _ = test_checkpoint
    inside = _tiny_alexnet(weights=str(path), include_preprocessing=True)
    outside = _tiny_alexnet(weights=str(path))
    assert inside.get_layer("preprocessing").mode == "torch"
    raw = np.random.default_rng(0).uniform(0, 255, (2, 67, 67, 3)).astype("float32")
    expected = outside(models.preprocess_input(raw, model="alexnet"))
    np.testing.assert_allclose(inside(raw), expected, rtol=1e-5, atol=1e-6)
    inside.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded(raw), inside(raw))


def test_decode_predictions_ranks_the_shipped_class_names():
    names = weights.class_names()
    assert len(names) == len(set(names)) == 1000  # torchvision made the names unique
    assert (names[0], names[207], names[999]) == ("tench", "golden retriever", "toilet tissue")
    preds = np.zeros((2, 1000), "float32")
    preds[0, [3, 207, 5]] = [0.2, 0.7, 0.1]
    preds[1, 999] = 1.0
    decoded = models.decode_predictions(preds, top=3)
    assert decoded[0] == [(207, "golden retriever", pytest.approx(0.7)),
                          (3, "tiger shark", pytest.approx(0.2)),
                          (5, "electric ray", pytest.approx(0.1))]
    assert decoded[1][:2] == [(999, "toilet tissue", 1.0), (0, "tench", 0.0)]
    for preds, top, message in [(np.zeros((2, 10)), 5, r"preds of shape \(2, 10\)"),
                                (np.zeros((1, 1000)), 0, "top=0")]:
        with pytest.raises(ValueError, match=message):
            models.decode_predictions(preds, top=top)


# The command ------------------------------------------------------------------------------------

def test_cli_lists_and_converts_checkpoints(test_checkpoint, tmp_path, capsys, monkeypatch):
    checkpoint, path, _ = test_checkpoint
    assert main(["weights", "list", "alex*"]) == 0
    out = capsys.readouterr().out
    assert "alexnet  test *  alexnet-test.safetensors  ?     50.00%  torch  no" in out
    # Converting needs a full-size network: squeezenet1_1 is small.
    network = models.build("squeezenet1_1", classes=1000)
    source = tmp_path / "squeezenet.safetensors"
    safetensors.numpy.save_file(_torch_layout(network), str(source))
    monkeypatch.setitem(CHECKPOINTS, "squeezenet1_1", {"test": _checkpoint(
        source.as_uri(), model="squeezenet1_1", signature=("conv1.weight",))})
    output = tmp_path / "out" / "squeezenet1_1.weights.h5"
    assert main(["weights", "convert", str(source), "--model", "squeezenet1_1",
                 str(output)]) == 0
    loaded = models.build("squeezenet1_1", weights=str(output))
    for ours, theirs in zip(loaded.weights, network.weights):
        np.testing.assert_array_equal(ours, theirs)
    assert main(["weights", "convert", str(source), "--model", "squeezenet1_1",
                 str(tmp_path / "x.h5")]) == 2
    assert "use a NAME.weights.h5 path" in capsys.readouterr().err
    assert main(["info", "squeezenet1_1"]) == 0
    assert ("checkpoints:\nmodel          source  file                    size  top-1   input  cached\n"
            "squeezenet1_1  test *  squeezenet.safetensors  ?     50.00%  torch  no"
            ) in capsys.readouterr().out


# Against PyTorch itself, where installed ---------------------------------------------------------

# torchvision segfaults when imported after TensorFlow in one process: PyTorch writes the files
# and what torch.load reads from them in a process of its own.
TORCH_WRITER = """
import sys, numpy as np, torch, torchvision
torch.manual_seed(0)
state = torchvision.models.resnet18().state_dict()
for zip_format, name in ((True, "zip.pth"), (False, "legacy.pth")):
    torch.save(state, f"{sys.argv[1]}/{name}", _use_new_zipfile_serialization=zip_format)
    loaded = torch.load(f"{sys.argv[1]}/{name}", weights_only=True)
    np.savez(f"{sys.argv[1]}/{name}.npz", keys=np.array(list(loaded)),
             **{f"a{i}": t.numpy() for i, t in enumerate(loaded.values())})
"""


@pytest.mark.weights
@pytest.mark.slow  # about 20 s, mostly importing PyTorch: `pytest -m weights` runs it
@requires_torch
def test_reader_equals_torch_load_on_a_torchvision_state_dict(tmp_path):
    """A whole torchvision network's state dict (ResNet-18: 102 arrays, batch-norm counters),
    written by torch.save in either format, read as torch.load reads it."""
    subprocess.run([sys.executable, "-c", TORCH_WRITER, str(tmp_path)], check=True)
    for name in ("zip.pth", "legacy.pth"):
        ours = weights.load_state_dict(tmp_path / name)
        with np.load(tmp_path / f"{name}.npz", allow_pickle=False) as theirs:
            assert list(ours) == list(theirs["keys"])
            for i, key in enumerate(theirs["keys"]):
                assert ours[key].dtype == theirs[f"a{i}"].dtype, key
                np.testing.assert_array_equal(ours[key], theirs[f"a{i}"], err_msg=key)
