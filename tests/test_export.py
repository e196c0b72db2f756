"""garden.export: exported files match the Keras model, shrink, and are written atomically.

One small conv net (conv-BN-ReLU blocks, then a dense layer that holds most of the weights, as in
a real classifier) is trained for a few steps on a task it learns at once (which quadrant of the
image is bright), so batch-norm statistics are real and the int8 agreement is not a coin toss.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from keras import layers

from garden import export
from garden.export import _convert, _examples

SHAPE, CLASSES = (32, 32, 3), 4


def quadrant_images(n, seed):
    """Noise images in [0, 1] with quadrant `label` brightened: `(images, labels)`."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, n)
    images = 0.5 * rng.random((n, *SHAPE), dtype=np.float32)
    half = SHAPE[0] // 2
    for image, label in zip(images, labels):
        row, col = divmod(int(label), 2)
        image[row * half : (row + 1) * half, col * half : (col + 1) * half] += 0.5
    return images, labels


@pytest.fixture(scope="module")
def train():
    return quadrant_images(256, seed=1)


@pytest.fixture(scope="module")
def test_set():
    return quadrant_images(64, seed=2)


@pytest.fixture(scope="module")
def model(train):
    keras.utils.set_random_seed(0)
    x = inputs = keras.Input(SHAPE)
    for filters in (16, 32):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.5)(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Dense(128, activation="relu")(layers.Flatten()(x))
    model = keras.Model(inputs, layers.Dense(CLASSES, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy", jit_compile=False)
    model.fit(*train, batch_size=32, epochs=3, verbose=0)
    return model


@pytest.fixture(scope="module")
def files(model, train, tmp_path_factory):
    """One `.tflite` file per quantize option, keyed by the option (parent directories made)."""
    directory = tmp_path_factory.mktemp("tflite") / "nested"
    return {
        quantize: export.tflite(
            model, directory / f"{quantize}.tflite", quantize, representative_data=train[0]
        )
        for quantize in export.QUANTIZE
    }


def tree_digest(directory):
    """{relative path: sha256} of every file under `directory`."""
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


# ---------------------------------------------------------------------------------- TFLite


def test_float_tflite_matches_keras_on_random_inputs(model, files):
    x = np.random.default_rng(3).random((8, *SHAPE), dtype=np.float32)
    np.testing.assert_allclose(export.run_tflite(files["float"], x), model(x), rtol=0, atol=1e-4)


@pytest.mark.parametrize(
    "quantize, kind, max_ratio",
    # float16 halves the weights; int8 weights are a quarter of float32 (plus scales, biases).
    [("float", "float32", 1.0), ("float16", "float16", 0.55), ("dynamic", "dynamic", 0.3),
     ("int8", "int8", 0.3)],
)
def test_kind_and_size_against_float(model, files, test_set, quantize, kind, max_ratio):
    report = export.verify(model, files[quantize], test_set[0][:4], latency_runs=3)
    assert report.kind == kind
    assert report.size_bytes == os.path.getsize(files[quantize])
    assert report.size_bytes <= max_ratio * os.path.getsize(files["float"])


def test_int8_file_is_integer_only(files):
    interpreter = Interpreter(model_path=str(files["int8"]))
    (tensor_in,), (tensor_out,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert tensor_in["dtype"] == np.int8 and tensor_out["dtype"] == np.int8
    assert tensor_in["quantization"][0] > 0
    dtypes = {tensor["dtype"] for tensor in interpreter.get_tensor_details()}
    assert dtypes <= {np.int8, np.int32}, dtypes


def test_verify_int8_against_keras_and_labels(model, files, test_set):
    x, y = test_set
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    report = export.verify(model, files["int8"], dataset, latency_runs=5)
    keras_top1 = np.argmax(model.predict(x, verbose=0), axis=-1)
    tflite_top1 = np.argmax(export.run_tflite(files["int8"], x), axis=-1)
    assert report.num_samples == len(x)
    assert report.keras_accuracy == pytest.approx(np.mean(keras_top1 == y))
    assert report.accuracy == pytest.approx(np.mean(tflite_top1 == y))
    assert report.top1_agreement == pytest.approx(np.mean(tflite_top1 == keras_top1))
    assert report.keras_accuracy >= 0.9  # the classes are really told apart, so agreement means
    assert report.top1_agreement >= 0.95
    assert 0 < report.max_abs_diff < 0.1  # softmax outputs, 8-bit output tensor
    assert report.latency_ms > 0
    assert report.as_dict()["kind"] == "int8"


def test_verify_takes_one_hot_labels_arrays_and_a_sample_limit(model, files, test_set):
    x, y = test_set
    one_hot = tf.data.Dataset.from_tensor_slices((x, np.eye(CLASSES)[y])).batch(10)
    by_index = tf.data.Dataset.from_tensor_slices((x, y)).batch(10)
    report = export.verify(model, files["float"], one_hot, num_samples=25, latency_runs=1)
    assert report.num_samples == 25
    assert report.accuracy == export.verify(model, files["float"], by_index, num_samples=25).accuracy
    unlabelled = export.verify(model, files["float"], x[:5], latency_runs=1)
    assert unlabelled.num_samples == 5 and unlabelled.accuracy is None
    assert unlabelled.max_abs_diff < 1e-4 and unlabelled.top1_agreement == 1.0


def test_verify_takes_a_tuple_of_arrays_and_reports_accuracy(model, files, test_set):
    x, y = test_set
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    report = export.verify(model, files["float"], (x, y), latency_runs=1)
    assert report.num_samples == len(x) and report.accuracy is not None
    assert report.accuracy == export.verify(model, files["float"], dataset, latency_runs=1).accuracy
    assert report.keras_accuracy >= 0.9
    with pytest.raises(ValueError, match="holds 64 inputs but 3 labels"):
        export.verify(model, files["float"], (x, y[:3]))


@pytest.mark.parametrize(
    "form",
    [
        lambda x: (lambda: ([example[None]] for example in x)),  # TFLiteConverter's convention
        lambda x: (lambda: iter([[x[:7]], [x[7:]]])),  # batches in lists
        list,  # a list of single examples
        lambda x: [x[:5], x[5:]],  # a list of batches
        lambda x: (x,),
    ],
    ids=["representative_dataset", "generator of batches", "list of examples",
         "list of batches", "tuple"],
)
def test_every_data_form_gives_the_same_examples(model, train, form):
    x = train[0][:12]
    (got,), labels = _examples.examples(form(x), model, limit=10)
    np.testing.assert_array_equal(got, x[:10])
    assert labels is None


def test_int8_from_a_representative_dataset_function(model, files, train, tmp_path):
    calibration = train[0][:100]

    def representative_dataset():
        for example in calibration:
            yield [example[None]]

    path = export.tflite(model, tmp_path / "m.tflite", "int8",
                         representative_data=representative_dataset)
    assert path.read_bytes() == files["int8"].read_bytes()  # the same calibration as the array


def test_verify_of_a_missing_file_says_so(model, tmp_path):
    x = np.zeros((1, *SHAPE), np.float32)
    with pytest.raises(FileNotFoundError, match=r"TFLite file '.*missing.tflite' is missing"):
        export.verify(model, tmp_path / "missing.tflite", x)
    with pytest.raises(FileNotFoundError, match=r"is a directory"):
        export.verify(model, tmp_path, x)


@pytest.mark.parametrize("function", ["tflite", "saved_model"])
def test_export_refuses_other_backends_up_front(model, tmp_path, monkeypatch, function):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    message = (rf"garden.export.{function} needs Keras' TensorFlow backend, and this process runs "
               r"Keras on 'jax' .*KERAS_BACKEND=tensorflow garden export m.keras m.tflite")
    with pytest.raises(ValueError, match=message):
        getattr(export, function)(model, tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_int8_without_representative_data_is_a_clear_error(model, tmp_path):
    with pytest.raises(ValueError, match="representative_data is required for quantize='int8'"):
        export.tflite(model, tmp_path / "m.tflite", quantize="int8")
    assert not tmp_path.joinpath("m.tflite").exists()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"quantize": "int4"}, r"quantize='int4' is not allowed: use one of \('float', 'float16'"),
        ({"quantize": "int8", "representative_data": [1.0]},
         "representative_data is a list of float, not of arrays: pass a tf.data.Dataset"),
        ({"quantize": "int8", "representative_data": "images"}, "of type str is not supported"),
        ({"quantize": "int8", "representative_data": np.zeros((0, *SHAPE))}, "holds no examples"),
        ({"num_calibration_samples": 0}, "num_calibration_samples=0 is not allowed"),
        ({"labels": ["a", "b"]}, "labels has 2 names but .* has 4 outputs"),
    ],
)
def test_bad_tflite_arguments(model, tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        export.tflite(model, tmp_path / "m.tflite", **kwargs)


def test_tflite_path_must_end_in_tflite(model, tmp_path):
    with pytest.raises(ValueError, match=r"path='.*m.tfl' is not allowed: .* ends in .tflite"):
        export.tflite(model, tmp_path / "m.tfl")
    assert list(tmp_path.iterdir()) == []


def test_signature_names_inputs_and_outputs_and_labels_file(model, files, tmp_path):
    path = export.tflite(model, tmp_path / "m.tflite", None, labels=["nw", "ne", "sw", "se"])
    assert path.read_bytes() == files["float"].read_bytes()  # None is "float"
    signature = Interpreter(model_path=str(path)).get_signature_list()
    assert signature == {"serving_default": {"inputs": [model.inputs[0].name],
                                             "outputs": model.output_names}}
    assert (tmp_path / "m.labels.txt").read_text() == "nw\nne\nsw\nse\n"


def test_run_tflite_takes_one_unbatched_example(model, files, test_set):
    x = test_set[0][:2]
    one = export.run_tflite(files["float"], x[0])
    assert one.shape == (CLASSES,)
    np.testing.assert_array_equal(one, export.run_tflite(files["float"], x)[0])


def test_converter_failure_is_one_line_naming_the_op(tmp_path):
    inputs = keras.Input((4,))
    logits = layers.Dense(3)(inputs)  # Keras' argmax tests the sign bit: tf.BitwiseAnd
    net = keras.Model(inputs, keras.ops.one_hot(keras.ops.argmax(logits, axis=-1), 3),
                      name="argmax_net")
    message = (r"^converting argmax_net to TFLite \(float\) failed: op BitwiseAnd has no "
               r"builtin TFLite kernel \(LiteRT on a phone runs no Flex op\)")
    with pytest.raises(ValueError, match=message) as error:
        export.tflite(net, tmp_path / "m.tflite")
    assert "\n" not in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_unbatched_dataset_is_a_clear_error(model, tmp_path):
    single_images = tf.data.Dataset.from_tensors(np.zeros(SHAPE, np.float32))
    message = r"examples of shape \(32, 3\) but the model takes \(32, 32, 3\): pass batches"
    with pytest.raises(ValueError, match=message):
        export.tflite(model, tmp_path / "m.tflite", "int8", representative_data=single_images)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"num_samples": 0}, "num_samples=0 is not allowed"),
     ({"latency_runs": 0}, "latency_runs=0 is not allowed")],
)
def test_bad_verify_arguments(model, files, kwargs, message):
    with pytest.raises(ValueError, match=message):
        export.verify(model, files["float"], np.zeros((1, *SHAPE), np.float32), **kwargs)


def test_tflite_file_gets_the_usual_permissions(files):
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(files["float"]).st_mode & 0o777 == 0o666 & ~umask


def test_tflite_failure_keeps_the_previous_file(model, files, tmp_path, monkeypatch):
    path = tmp_path / "m.tflite"
    path.write_bytes(files["float"].read_bytes())
    before = path.read_bytes()
    # The conversion is the fixture's (tested there): this test is about the write.
    monkeypatch.setattr(_convert, "_convert", lambda *args: files["float16"].read_bytes())

    def fail_midway(self, data):
        with open(self, "wb") as f:
            f.write(data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        export.tflite(model, path, quantize="float16")
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.tflite"]


# ------------------------------------------------------------------------------ SavedModel


@pytest.fixture(scope="module")
def saved(model, tmp_path_factory):
    return export.saved_model(model, tmp_path_factory.mktemp("saved") / "nested" / "model")


def test_saved_model_reloads_and_serves_the_keras_outputs(model, saved):
    x = np.random.default_rng(4).random((3, *SHAPE), dtype=np.float32)
    reloaded = tf.saved_model.load(str(saved))
    np.testing.assert_allclose(reloaded.serve(x), model(x), rtol=0, atol=1e-6)
    serving_default = reloaded.signatures["serving_default"]
    (output,) = serving_default(tf.constant(x)).values()
    np.testing.assert_allclose(output, model(x), rtol=0, atol=1e-6)
    assert os.listdir(saved.parent) == ["model"]


@pytest.mark.parametrize("failing", ["export", "rename into place"])
def test_saved_model_failure_keeps_the_previous_export(model, saved, monkeypatch, failing):
    before = tree_digest(saved)

    def export_partly(self, filepath, **kwargs):
        Path(filepath, "saved_model.pb").write_bytes(b"new")
        if failing == "export":
            raise OSError("interrupted")

    def replace(src, dst, replace=os.replace):
        if failing == "rename into place" and Path(dst) == saved and Path(src).name == "model":
            raise OSError("interrupted")
        replace(src, dst)

    monkeypatch.setattr(keras.Model, "export", export_partly)
    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="interrupted"):
        export.saved_model(model, saved)
    assert tree_digest(saved) == before
    assert os.listdir(saved.parent) == ["model"]


def test_saved_model_replaces_an_earlier_export(model, saved, tmp_path, monkeypatch):
    path = tmp_path / "model"
    path.mkdir()
    (path / "saved_model.pb").write_bytes(b"an earlier export")
    (path / "stale.txt").write_text("from the earlier export")
    # The export itself is the fixture's (tested there): this test is about the replacement.
    monkeypatch.setattr(_convert, "_export", lambda model, staging: shutil.copytree(
        saved, staging, dirs_exist_ok=True))
    export.saved_model(model, path)
    assert not (path / "stale.txt").exists()
    reloaded = tf.saved_model.load(str(path))
    assert reloaded.serve(np.zeros((1, *SHAPE), np.float32)).shape == (1, CLASSES)
    assert os.listdir(tmp_path) == ["model"]


@pytest.mark.parametrize("existing", ["file", "directory"])
def test_saved_model_never_replaces_other_files(model, tmp_path, existing):
    path = tmp_path / "exports"
    if existing == "file":
        path.write_text("mine")
    else:
        path.mkdir()
        (path / "model.tflite").write_text("mine")
    with pytest.raises(ValueError, match="is not a directory holding saved_model.pb"):
        export.saved_model(model, path)
    kept = path if existing == "file" else path / "model.tflite"
    assert kept.read_text() == "mine"


JAX_EXPORT = """
import sys
from garden import export, models
model = models.resnet20(input_shape=(16, 16, 3))  # option-A ZeroPaddingShortcuts
try:
    export.tflite(model, sys.argv[1])
except ValueError as error:
    print(error)
"""


@pytest.mark.slow
def test_tflite_export_on_jax_says_what_works(tmp_path):
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", PYTHONPATH=str(root))
    result = subprocess.run([sys.executable, "-c", JAX_EXPORT, str(tmp_path / "m.tflite")],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "needs Keras' TensorFlow backend, and this process runs Keras on 'jax'" in result.stdout
    assert "KERAS_BACKEND=tensorflow garden export" in result.stdout
    assert list(tmp_path.iterdir()) == []
