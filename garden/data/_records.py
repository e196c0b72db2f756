"""The TFRecord layout: one record format, sharded writing with a manifest, and shard checks.

A dataset directory holds `SPLIT-IIIII-of-NNNNN.tfrecord` shards and a `manifest.json`. Every record
is a `tf.train.Example` with the raw image bytes (uint8, row-major height x width x channels), the
three sizes and an int64 label, so images of different sizes can share one file. Examples are dealt
to a split's shards round robin, so reading the shards in turn restores the split's order.
"""

import contextlib
import hashlib
import itertools
import json
import math
import os
import shutil
from pathlib import Path

import tensorflow as tf

from garden.utils.files import atomic_path

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SHARD_BYTES = 100 * 2**20  # a split gets about this many bytes per shard unless told otherwise
_SIZE_SAMPLE = 64  # examples read ahead to estimate a split's size in bytes
_REPREPARE = "re-run `garden data prepare {}` to rewrite the dataset"
_OWNER = "writer.pid"  # in a write's temporary folder: the id of the process writing it
_PROGRESS_EVERY = 1000  # examples between progress bar updates

_FEATURES = {
    "image": tf.io.FixedLenFeature([], tf.string),
    "height": tf.io.FixedLenFeature([], tf.int64),
    "width": tf.io.FixedLenFeature([], tf.int64),
    "channels": tf.io.FixedLenFeature([], tf.int64),
    "label": tf.io.FixedLenFeature([], tf.int64),
}


class CorruptShardError(ValueError):
    """A shard is missing, or its size or SHA-256 differs from the dataset's manifest."""


def encode(image, label):
    """One serialized record for a uint8 `(height, width, channels)` image and its class."""

    def ints(value):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))

    height, width, channels = image.shape
    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image.tobytes()])),
                "height": ints(height),
                "width": ints(width),
                "channels": ints(channels),
                "label": ints(label),
            }
        )
    )
    return example.SerializeToString(deterministic=True)


def parse(serialized):
    """`(uint8 image of shape (height, width, channels), int64 label)` from one record."""
    features = tf.io.parse_single_example(serialized, _FEATURES)
    image = tf.io.decode_raw(features["image"], tf.uint8)
    shape = tf.stack([features["height"], features["width"], features["channels"]])
    return tf.reshape(image, shape), features["label"]


def write(directory, header, splits, shards=None, *, progress=False):
    """Writes a dataset to `directory` atomically and returns the directory.

    Everything is written into a temporary sibling directory first, which then replaces
    `directory` by renames: a failed or interrupted write leaves any previous copy in place and no
    partial shard or manifest under the final name. Temporary siblings of earlier writes whose
    process is gone (killed before it could clean up) are removed first.

    Args:
        directory: str or Path. Where the dataset lives.
        header: dict. The manifest's entries other than `format` and `splits`.
        splits: dict. Per split name, `(origin, size, examples)`: a description of where the
            split comes from, its expected example count and an iterable of `(image, label)`.
        shards: int or dict, optional. Shards per split (one int for all, or per split name);
            by default about `SHARD_BYTES` per shard.
        progress: bool. Show a Keras `Progbar` per split. Defaults to False.
    """
    remove_stale_partials(directory)
    with atomic_path(directory, directory=True) as partial:
        (partial.parent / _OWNER).write_text(str(os.getpid()))
        manifest = {"format": FORMAT_VERSION, **header, "splits": {}}
        for split, (origin, size, examples) in splits.items():
            count = shards.get(split) if isinstance(shards, dict) else shards
            written = _write_split(partial, split, size, examples, count, progress)
            manifest["splits"][split] = {"origin": origin, **written}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return Path(directory)


def remove_stale_partials(directory):
    """Removes the temporary folders of interrupted writes of `directory` whose process is gone.

    A write's folder is `.NAME.XXXXXXXX` beside `directory` and records its process id; one
    without a record, or whose process no longer runs, is stale. Returns the removed paths.
    """
    directory = Path(directory)
    if not directory.parent.is_dir():
        return []
    stale = [
        path
        for path in directory.parent.glob(f".{directory.name}.*")
        if path.is_dir() and not _writer_alive(path / _OWNER)
    ]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def _writer_alive(owner):
    try:
        os.kill(int(owner.read_text()), 0)
    except (OSError, ValueError):  # no record, an unreadable one, or no such process
        return False
    return True


def _write_split(directory, split, size, examples, shards, progress):
    examples = iter(examples)
    head = list(itertools.islice(examples, _SIZE_SAMPLE))
    if shards is None:
        mean_bytes = sum(image.nbytes for image, _ in head) / max(len(head), 1)
        shards = math.ceil(mean_bytes * size / SHARD_BYTES)
    shards = max(1, min(shards, size))
    files = [f"{split}-{i:05d}-of-{shards:05d}.tfrecord" for i in range(shards)]
    counts = [0] * shards
    shape = None
    if progress:
        import keras

        print(f"writing split {split!r}")
        bar = keras.utils.Progbar(size, unit_name="example")
    with contextlib.ExitStack() as stack:
        writers = [stack.enter_context(tf.io.TFRecordWriter(str(directory / f))) for f in files]
        for i, (image, label) in enumerate(itertools.chain(head, examples)):
            writers[i % shards].write(encode(image, label))
            counts[i % shards] += 1
            shape = image.shape if shape is None else _common_shape(shape, image.shape)
            if progress and (i + 1) % _PROGRESS_EVERY == 0:
                bar.update(i + 1)
    if progress:
        bar.update(sum(counts), finalize=True)
    if shape is None:
        raise ValueError(f"split {split!r} has no examples")
    return {
        "examples": sum(counts),
        "image_shape": list(shape),
        "shards": [
            {
                "file": file,
                "examples": count,
                "bytes": os.path.getsize(directory / file),
                "sha256": _sha256(directory / file),
            }
            for file, count in zip(files, counts)
        ],
    }


def _common_shape(shape, other):
    """`shape` with None on every axis where `other` differs."""
    return [a if a == b else None for a, b in zip(shape, other)]


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(2**20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(directory, name):
    """The manifest of dataset `name` stored in `directory`, as a dict."""
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not JSON ({error}); {_REPREPARE.format(name)}") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has format {manifest.get('format')!r} but garden reads format "
            f"{FORMAT_VERSION}; {_REPREPARE.format(name)}"
        )
    return manifest


def shard_paths(directory, manifest, split, verify=True):
    """Paths of `split`'s shards; with `verify`, each is first checked against the manifest.

    Raises:
        CorruptShardError: a shard is missing, or its size or SHA-256 is not the manifest's.
    """
    directory = Path(directory)
    paths = []
    for shard in manifest["splits"][split]["shards"]:
        path = directory / shard["file"]
        if verify:
            problem = _shard_problem(path, shard)
            if problem:
                hint = _REPREPARE.format(manifest["name"])
                raise CorruptShardError(f"shard {path} {problem}; {hint}")
        paths.append(str(path))
    return paths


def _shard_problem(path, shard):
    if not path.is_file():
        return "is missing"
    size = os.path.getsize(path)
    if size != shard["bytes"]:
        return f"has {size} bytes, the manifest says {shard['bytes']} (size mismatch: truncated?)"
    digest = _sha256(path)
    if digest != shard["sha256"]:
        return (
            f"has SHA-256 {digest}, the manifest says {shard['sha256']} "
            "(checksum mismatch: corrupted)"
        )
    return None
