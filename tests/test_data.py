"""garden.data: records equal their sources; manifest, shard checks, atomic writes, pipeline."""

import hashlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from garden import data
from garden.data import _records, _registry, _sources


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A data directory with digits prepared once for the read-only tests."""
    path = tmp_path_factory.mktemp("tfrecords")
    data.prepare("digits", path)
    return path


@pytest.fixture(scope="module")
def digits_splits():
    """scikit-learn's digits split as documented: 80/20, stratified, random_state=0."""
    digits = load_digits()
    train, test = train_test_split(
        np.arange(len(digits.images)), test_size=0.2, random_state=0, stratify=digits.target
    )
    return {
        "train": (digits.images[train], digits.target[train]),
        "test": (digits.images[test], digits.target[test]),
    }


def whole_split(name, split, root, **kwargs):
    """One epoch of a split as numpy arrays, in one batch."""
    dataset = data.load(name, split, batch_size=10_000, root=root, **kwargs)
    images, labels = next(iter(dataset))
    return images.numpy(), labels.numpy()


def test_digits_round_trip_in_split_order(root, digits_splits):
    # The test split is not shuffled by default.
    for split, kwargs in [("train", {"shuffle": False}), ("test", {})]:
        images, labels = whole_split("digits", split, root, **kwargs)
        source_images, source_labels = digits_splits[split]
        assert images.dtype == np.float32 and labels.dtype == np.int64
        np.testing.assert_array_equal(labels, source_labels)
        stored = np.float32(np.round(source_images * 255 / 16)) / np.float32(255)
        np.testing.assert_array_equal(images[..., 0], stored)
        # Storing 0..16 as 0..255 loses nothing: the integers come back exactly.
        np.testing.assert_array_equal(np.round(images[..., 0] * 16), source_images)
        assert images.min() == 0.0 and images.max() == 1.0
    # The length is known before the first epoch (Keras shows whole-epoch progress): 1437 / 32.
    assert int(data.load("digits", batch_size=32, root=root).cardinality()) == 45


def test_manifest_describes_the_shards(root):
    manifest = data.info("digits", root)
    assert manifest["name"] == "digits" and manifest["format"] == 1
    assert manifest["num_classes"] == 10
    assert manifest["class_names"] == [str(i) for i in range(10)]
    directory = root / "digits"
    files = {"manifest.json"}
    for split, examples, shards in [("train", 1437, 2), ("test", 360, 1)]:
        entry = manifest["splits"][split]
        assert entry["examples"] == examples and entry["image_shape"] == [8, 8, 1]
        assert len(entry["shards"]) == shards
        assert sum(shard["examples"] for shard in entry["shards"]) == examples
        for shard in entry["shards"]:
            content = (directory / shard["file"]).read_bytes()
            assert shard["bytes"] == len(content)
            assert shard["sha256"] == hashlib.sha256(content).hexdigest()
            records = tf.data.TFRecordDataset(str(directory / shard["file"]))
            assert sum(1 for _ in records) == shard["examples"]
            files.add(shard["file"])
    assert {path.name for path in directory.iterdir()} == files
    assert json.loads((directory / "manifest.json").read_text()) == manifest


def test_digits_prepared_on_first_use_identically(root, tmp_path):
    data.load("digits", "test", root=tmp_path)
    assert (tmp_path / "digits" / "manifest.json").is_file()
    assert data.info("digits", tmp_path) == data.info("digits", root)  # same split, same checksums


@pytest.mark.parametrize(
    "image_size, channels, shape",
    [(None, 3, (8, 8, 3)), ((32, 32), None, (32, 32, 1)), ((16, 24), 3, (16, 24, 3))],
)
def test_resize_and_channels(root, image_size, channels, shape):
    images, labels = whole_split("digits", "test", root, image_size=image_size, channels=channels)
    assert images.shape == (360, *shape) and labels.shape == (360,)
    original, _ = whole_split("digits", "test", root)
    expected = original if image_size is None else tf.image.resize(original, image_size).numpy()
    np.testing.assert_allclose(images, np.repeat(expected, shape[2], axis=-1), atol=1e-6)


def test_shuffle_is_seeded_and_changes_every_epoch(root):
    dataset = data.load("digits", "train", batch_size=10_000, root=root)
    epochs = [(x.numpy(), y.numpy()) for x, y in dataset.take(1).repeat(2)]
    (first, first_labels), (second, second_labels) = epochs
    stored, stored_labels = whole_split("digits", "train", root, shuffle=False)
    assert not np.array_equal(first_labels, second_labels)
    assert not np.array_equal(first_labels, stored_labels)

    def multiset(images, labels):
        return sorted(image.tobytes() + bytes([label]) for image, label in zip(images, labels))

    assert multiset(first, first_labels) == multiset(second, second_labels)
    assert multiset(first, first_labels) == multiset(stored, stored_labels)
    again, _ = whole_split("digits", "train", root)
    other_seed, _ = whole_split("digits", "train", root, seed=1)
    np.testing.assert_array_equal(again, first)
    assert not np.array_equal(other_seed, first)


@pytest.mark.parametrize(
    "damage, problem",
    [("flip", "checksum mismatch"), ("truncate", "size mismatch"), ("delete", "is missing")],
)
def test_damaged_shard_is_named(root, tmp_path, damage, problem):
    shutil.copytree(root / "digits", tmp_path / "digits")
    shard = tmp_path / "digits" / "train-00001-of-00002.tfrecord"
    content = bytearray(shard.read_bytes())
    if damage == "flip":
        content[len(content) // 2] ^= 0xFF
        shard.write_bytes(content)
    elif damage == "truncate":
        shard.write_bytes(content[:-100])
    else:
        shard.unlink()
    expected = rf"shard .*train-00001-of-00002\.tfrecord .*{problem}"
    with pytest.raises(data.CorruptShardError, match=expected) as error:
        data.load("digits", "train", root=tmp_path)
    assert "garden data prepare digits" in str(error.value)
    assert isinstance(error.value, ValueError)
    data.load("digits", "test", root=tmp_path)  # the undamaged split still loads


def _fail_on_call(monkeypatch, module, name, when):
    """Makes `module.name` raise on the calls for which `when(args)` is true."""
    real = getattr(module, name)

    def failing(*args):
        if when(args):
            raise OSError("simulated failure")
        return real(*args)

    monkeypatch.setattr(module, name, failing)


def test_failed_prepare_keeps_the_previous_copy(tmp_path, monkeypatch):
    data.prepare("digits", tmp_path)
    before = {path.name: path.read_bytes() for path in (tmp_path / "digits").iterdir()}
    calls = itertools.count()
    _fail_on_call(monkeypatch, _records, "encode", lambda args: next(calls) == 1000)  # mid-train
    with pytest.raises(OSError, match="simulated failure"):
        data.prepare("digits", tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["digits"]  # no partial directory left
    assert {path.name: path.read_bytes() for path in (tmp_path / "digits").iterdir()} == before
    whole_split("digits", "test", tmp_path)  # and it still verifies and loads


def test_failed_prepare_leaves_nothing_under_the_final_name(tmp_path, monkeypatch):
    calls = itertools.count()
    _fail_on_call(monkeypatch, _records, "encode", lambda args: next(calls) == 1000)
    with pytest.raises(OSError, match="simulated failure"):
        data.prepare("digits", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_failed_swap_restores_the_previous_copy(tmp_path, monkeypatch):
    data.prepare("digits", tmp_path)
    manifest = data.info("digits", tmp_path)
    # The new copy is complete but cannot be moved in: the old one must come back.
    final = tmp_path / "digits"

    def moving_new_copy_in(args):
        source, target = map(Path, args)
        return target == final and source.name == "digits"

    _fail_on_call(monkeypatch, os, "replace", moving_new_copy_in)
    with pytest.raises(OSError, match="simulated failure"):
        data.prepare("digits", tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["digits"]
    assert data.info("digits", tmp_path) == manifest
    whole_split("digits", "test", tmp_path)


KILLED_MID_WRITE = """
import sys, time
from garden import data
from garden.data import _records
real, calls = _records.encode, iter(range(10**6))

def encode(*args):
    if next(calls) == 1000:  # mid-train: shards partly written
        print("writing", flush=True)
        time.sleep(600)
    return real(*args)

_records.encode = encode
data.prepare("digits", sys.argv[1])
"""


@pytest.mark.slow
def test_prepare_after_a_kill_removes_the_stale_temporary_folder(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    writer = subprocess.Popen([sys.executable, "-c", KILLED_MID_WRITE, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert writer.stdout.readline() == "writing\n"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    (stale,) = tmp_path.glob(".digits.*")
    assert list(stale.rglob("*.tfrecord"))
    data.prepare("digits", tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["digits"]


def test_only_temporary_folders_of_gone_writers_are_removed(tmp_path):
    running, gone, unrecorded = (tmp_path / f".digits.{kind}" for kind in ("a", "b", "c"))
    for folder in (running, gone, unrecorded):
        (folder / "digits").mkdir(parents=True)
    (running / "writer.pid").write_text(str(os.getpid()))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    (gone / "writer.pid").write_text(ended.stdout)
    (tmp_path / ".other.dataset").mkdir()
    removed = _records.remove_stale_partials(tmp_path / "digits")
    assert sorted(removed) == [gone, unrecorded]
    assert sorted(path.name for path in tmp_path.iterdir()) == [".digits.a", ".other.dataset"]


def test_prepare_shows_progress(tmp_path, capsys):
    data.prepare("digits", tmp_path, progress=True)
    out = capsys.readouterr().out
    assert "writing split 'train'" in out and "1437/1437" in out and "360/360" in out


def test_list_datasets_names_embedded_and_generated():
    kinds = data.list_datasets()
    assert kinds["embedded"] == ["digits"]
    assert {"digits_rts", "shapes", "sr_patches"} <= set(kinds["generated"])


def test_transforms_run_per_example_before_cache_and_batch_transforms_after_batching(root):
    specs = {}

    def random_labels(dataset):
        specs["example"] = dataset.element_spec
        return dataset.map(lambda image, label: (image, tf.random.uniform([], 0, 10, tf.int64)))

    def reverse_batch(dataset):
        specs["batch"] = dataset.element_spec
        return dataset.map(lambda images, labels: (images[::-1], labels[::-1]))

    kwargs = dict(image_size=(16, 16), channels=3, root=root)
    dataset = data.load(
        "digits", "test", batch_size=360, shuffle=True, transforms=[random_labels], **kwargs
    )
    assert specs["example"] == (
        tf.TensorSpec((16, 16, 3), tf.float32),
        tf.TensorSpec((), tf.int64),
    )
    epochs = [dict(zip(map(bytes, x.numpy()), y.numpy())) for x, y in dataset.repeat(2)]
    true = whole_split("digits", "test", **kwargs)
    truth = dict(zip(map(bytes, true[0]), true[1]))
    assert epochs[0] == epochs[1]  # drawn once, kept by the cache, though the order changed
    assert np.mean([epochs[0][key] != label for key, label in truth.items()]) > 0.8

    reversed_batches = data.load(
        "digits", "test", batch_size=10, batch_transforms=[reverse_batch], **kwargs
    )
    images, labels = next(iter(reversed_batches))
    assert specs["batch"][0].shape.as_list() == [None, 16, 16, 3]
    np.testing.assert_array_equal(labels, true[1][:10][::-1])
    np.testing.assert_array_equal(images, true[0][:10][::-1])


def fake_tfds(metadata_dir, name, splits):
    """Mocks tfds dataset `name` with the given `(image, label)` examples per split, offline.

    Writes the split metadata the mock reads, and serves split specs such as `train[80%:]` by
    tfds' own slicing rules.
    """
    builder = tfds.builder(name, data_dir=metadata_dir)
    builder.info.set_splits(
        tfds.core.SplitDict(
            [
                tfds.core.SplitInfo(name=split, shard_lengths=[len(examples)], num_bytes=0)
                for split, examples in splits.items()
            ]
        )
    )
    os.makedirs(builder.data_dir)
    builder.info.write_to_directory(builder.data_dir)
    image_spec = builder.info.features["image"].get_tensor_spec()

    def as_dataset(builder, split, **kwargs):
        (part,) = tfds.core.ReadInstruction.from_spec(split).to_absolute(builder.info.splits)
        chosen = splits[part.splitname][part.from_ : part.to]
        return tf.data.Dataset.from_generator(
            lambda: ({"image": image, "label": label} for image, label in chosen),
            output_signature={"image": image_spec, "label": tf.TensorSpec((), tf.int64)},
        )

    return tfds.testing.mock_data(
        policy=tfds.testing.MockPolicy.USE_FILES,
        data_dir=str(metadata_dir),
        as_dataset_fn=as_dataset,
    )


def random_examples(rng, count, sizes, channels, classes):
    """`count` random `(uint8 image, label)` pairs, cycling through the image `sizes`."""
    return [
        (
            rng.integers(0, 256, (*sizes[i % len(sizes)], channels), dtype=np.uint8),
            int(rng.integers(classes)),
        )
        for i in range(count)
    ]


def test_tfds_dataset_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    splits = {"train": random_examples(rng, 10, [(28, 28)], 1, 10)}
    splits["test"] = random_examples(rng, 4, [(28, 28)], 1, 10)
    with fake_tfds(tmp_path / "tfds", "mnist", splits):
        path = data.prepare("tfds:mnist", tmp_path / "tfrecords", shards=3)
    assert path == tmp_path / "tfrecords" / "tfds_mnist"
    manifest = data.info("tfds:mnist", tmp_path / "tfrecords")
    assert manifest["source"] == "tensorflow-datasets mnist/3.0.1"
    assert manifest["num_classes"] == 10 and manifest["class_names"] == [str(i) for i in range(10)]
    assert [len(manifest["splits"][s]["shards"]) for s in ("train", "test")] == [3, 3]
    for split, examples in splits.items():
        assert manifest["splits"][split]["origin"] == f"tfds split {split!r}"
        assert manifest["splits"][split]["image_shape"] == [28, 28, 1]
        images, labels = whole_split("tfds:mnist", split, tmp_path / "tfrecords", shuffle=False)
        np.testing.assert_array_equal(labels, [label for _, label in examples])
        stored = np.float32([image for image, _ in examples]) / np.float32(255)
        np.testing.assert_array_equal(images, stored)


def test_tfds_without_test_split_holds_out_the_last_fifth_and_sizes_vary(tmp_path):
    rng = np.random.default_rng(1)
    train = random_examples(rng, 10, [(5, 7), (9, 4)], 3, 5)
    root = tmp_path / "tfrecords"
    with fake_tfds(tmp_path / "tfds", "tf_flowers", {"train": train}):
        data.prepare("tfds:tf_flowers", root)
    manifest = data.info("tfds:tf_flowers", root)
    assert [manifest["splits"][s]["origin"] for s in ("train", "test")] == [
        "tfds split 'train[:80%]'",
        "tfds split 'train[80%:]'",
    ]
    assert manifest["splits"]["test"]["image_shape"] == [None, None, 3]
    with pytest.raises(ValueError, match=r"vary in size.*image_size"):
        data.load("tfds:tf_flowers", "test", root=root)
    for split, examples in [("train", train[:8]), ("test", train[8:])]:
        images, labels = whole_split(
            "tfds:tf_flowers", split, root, image_size=(6, 6), channels=1, shuffle=False
        )
        np.testing.assert_array_equal(labels, [label for _, label in examples])
        resized = np.stack([tf.image.resize(np.float32(x) / 255, (6, 6)) for x, _ in examples])
        gray = resized @ np.float32([0.2989, 0.5870, 0.1140])  # ITU-R BT.601 luma
        np.testing.assert_allclose(images[..., 0], gray, atol=1e-6)


def test_tfds_download_that_fails_leaves_no_directory(tmp_path, monkeypatch):
    with socket.socket() as listening:  # the download host "answers", the download then fails
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        monkeypatch.setattr(_sources, "DOWNLOAD_PROBE", listening.getsockname())

        def failing(builder, *args, **kwargs):
            Path(builder.data_dir, "incomplete.part").mkdir(parents=True)
            raise ConnectionError("simulated failure\nwith detail")

        monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", failing)
        message = (r"'tfds:mnist' is not prepared in .*tfds and needs a download: .*--data-dir.*;"
                   r" the download failed \(ConnectionError: simulated failure\)$")
        with pytest.raises(ValueError, match=message):
            data.prepare("tfds:mnist", tmp_path / "tfrecords", data_dir=tmp_path / "tfds")
    assert list(tmp_path.iterdir()) == []


def test_data_dir_is_for_tfds_only(tmp_path):
    with pytest.raises(ValueError, match="data_dir applies to tfds:NAME datasets only"):
        data.prepare("digits", tmp_path, data_dir=tmp_path)


def test_tfds_name_errors(tmp_path):
    with pytest.raises(ValueError, match=r"run `garden data prepare tfds:mnist`"):
        data.load("tfds:mnist", root=tmp_path)
    with pytest.raises(ValueError, match=r"no dataset 'mnistt'; did you mean tfds:mnist"):
        data.prepare("tfds:mnistt", tmp_path)
    with pytest.raises(ValueError, match=r"'tfds:coco' is not an image-classification dataset"):
        data.prepare("tfds:coco", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unknown_names_and_bad_arguments(root, monkeypatch):
    monkeypatch.setattr(_registry, "_GENERATED", {})
    data.register_dataset("squares")(lambda split: None)
    expected = r"unknown dataset 'nope'; available: 'digits', 'tfds:NAME'.*'squares'"
    for call in (data.load, data.prepare, data.info):
        with pytest.raises(ValueError, match=expected):
            call("nope", root=root)
    with pytest.raises(ValueError, match=r"split='valid'.*train, test"):
        data.load("digits", "valid", root=root)
    with pytest.raises(ValueError, match=r"channels=2"):
        data.load("digits", channels=2, root=root)
    with pytest.raises(ValueError, match=r"image_size=\(32,\)"):
        data.load("digits", image_size=(32,), root=root)
    with pytest.raises(ValueError, match=r"takes no options, received scale"):
        data.load("digits", scale=2, root=root)


def test_registered_dataset_gets_the_options_it_takes(monkeypatch):
    monkeypatch.setattr(_registry, "_GENERATED", {})

    @data.register_dataset("ramps", num_classes=2)
    def ramps(split, image_size=(4, 4), count=6, seed=0):
        images = tf.linspace(0.0, 1.0, count)[:, None, None, None] * tf.ones((1, *image_size, 1))
        labels = tf.range(count, dtype=tf.int64) % 2 + (seed if split == "train" else 10)
        return tf.data.Dataset.from_tensor_slices((images, labels))

    test = data.load("ramps", "test", image_size=(3, 5), count=4, batch_size=8)
    images, labels = next(iter(test))
    assert images.shape == (4, 3, 5, 1)
    np.testing.assert_array_equal(labels, [10, 11, 10, 11])
    _, labels = next(iter(data.load("ramps", "train", seed=5, batch_size=8)))
    assert sorted(labels.numpy()) == [5, 5, 5, 6, 6, 6]  # the seed reached the function
    source = f"{__name__}.{ramps.__qualname__}"
    assert data.info("ramps") == {"name": "ramps", "source": source, "num_classes": 2}
    expected = r"'ramps' does not take channels; it takes: image_size, count, seed"
    with pytest.raises(ValueError, match=expected):
        data.load("ramps", channels=3)
    with pytest.raises(ValueError, match=r"generated in memory"):
        data.prepare("ramps")
    with pytest.raises(ValueError, match=r"already taken"):
        data.register_dataset("digits")(ramps)
