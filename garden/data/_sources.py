"""Where prepared datasets come from: scikit-learn's digits (embedded) and tensorflow-datasets.

A source says what the manifest should record about a dataset and yields, per split, uint8
`(height, width, channels)` images with their integer labels. scikit-learn and tensorflow-datasets
are imported when a source is asked for, so `import garden` does not pay for them.
"""

import contextlib
import dataclasses
import difflib
import logging
import shutil
import socket
from pathlib import Path

import numpy as np

TFDS_PREFIX = "tfds:"
# tensorflow-datasets downloads from its mirror on Google Cloud Storage first: if that host cannot
# be reached, a dataset that is not prepared yet cannot be downloaded (offline machine).
DOWNLOAD_PROBE = ("storage.googleapis.com", 443)
PROBE_TIMEOUT = 5  # seconds


@dataclasses.dataclass(frozen=True)
class Source:
    """A dataset ready to be written as TFRecords.

    Attributes:
        header: the manifest's description: `name`, `source`, `num_classes`, `class_names`.
        splits: per split name, `(origin, size, examples)`: where the split comes from, its
            expected example count and an iterable of `(uint8 image, label)`.
        shards: shards per split when the default (about 100 MB each) does not suit.
    """

    header: dict
    splits: dict
    shards: dict | None = None


def digits():
    """scikit-learn's 1,797 handwritten 8x8 digits, split 80/20 stratified with a fixed seed.

    Pixel values 0..16 are stored as `round(v * 255 / 16)`, which keeps them distinct (lossless).
    Two training shards (one test shard) are written so that even the embedded default exercises
    the parallel multi-shard reader.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    images = np.round(data.images * (255 / 16)).astype(np.uint8)[..., np.newaxis]
    train, test = train_test_split(
        np.arange(len(images)), test_size=0.2, random_state=0, stratify=data.target
    )

    def split(indices, part):
        origin = f"{part} part of train_test_split(test_size=0.2, stratify=target, random_state=0)"
        return origin, len(indices), zip(images[indices], data.target[indices])

    return Source(
        header={
            "name": "digits",
            "source": "scikit-learn load_digits(): 1,797 8x8 handwritten digits (UCI), "
            "pixel values 0..16 stored as round(v * 255 / 16)",
            "num_classes": len(data.target_names),
            "class_names": [str(name) for name in data.target_names],
        },
        splits={"train": split(train, "first"), "test": split(test, "second")},
        shards={"train": 2, "test": 1},
    )


@contextlib.contextmanager
def _absl_warnings_hidden():
    """Hides tfds' warnings such as "Variant folder ... has no dataset_info.json"."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@_absl_warnings_hidden()
def tfds_dataset(name, data_dir=None):
    """An image-classification dataset from tensorflow-datasets, downloaded if needed.

    Its `train` split becomes train; its `test` split becomes test, or its `validation` split when
    it has no test split, or else the last 20% of `train` (tfds split slicing `train[80%:]`, which
    is deterministic) with the first 80% kept for training. The manifest records which.

    Args:
        name: str. A tfds name, with an optional config and version: `"mnist"`,
            `"cifar10:3.0.2"`, `"imagenette/160px"`.
        data_dir: str or Path, optional. The tensorflow-datasets directory to read the prepared
            dataset from, or to download it into; defaults to tfds' own (`~/tensorflow_datasets`).

    Raises:
        ValueError: an unknown or unsuitable dataset, or one that needs a download which fails
            (for instance offline); a failed download leaves no directory behind.
    """
    import tensorflow_datasets as tfds

    full_name = TFDS_PREFIX + name
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.DatasetNotFoundError:
        close = difflib.get_close_matches(name, tfds.list_builders(), n=3)
        hint = f"; did you mean {', '.join(TFDS_PREFIX + c for c in close)}?" if close else ""
        raise ValueError(f"tensorflow-datasets has no dataset {name!r}{hint}") from None
    features = builder.info.features
    keys = builder.info.supervised_keys
    if not (
        isinstance(keys, tuple)
        and len(keys) == 2
        and isinstance(features[keys[0]], tfds.features.Image)
        and isinstance(features[keys[1]], tfds.features.ClassLabel)
    ):
        raise ValueError(
            f"{full_name!r} is not an image-classification dataset: its supervised keys are "
            f"{keys}, garden needs (image, class label)"
        )
    if not builder.is_prepared():
        _download_and_prepare(builder, full_name)
    available = list(builder.info.splits)
    if "train" not in available:
        raise ValueError(f"{full_name!r} has no 'train' split; it has {available}")
    held_out = next((s for s in ("test", "validation") if s in available), None)
    train, test = ("train", held_out) if held_out else ("train[:80%]", "train[80%:]")

    def split(spec):
        examples = builder.as_dataset(split=spec, as_supervised=True, shuffle_files=False)
        size = builder.info.splits[spec].num_examples
        return f"tfds split {spec!r}", size, tfds.as_numpy(examples)

    labels = features[keys[1]]
    return Source(
        header={
            "name": full_name,
            "source": f"tensorflow-datasets {builder.info.full_name}",
            "num_classes": labels.num_classes,
            "class_names": list(labels.names),
        },
        splits={"train": split(train), "test": split(test)},
    )


def _download_and_prepare(builder, full_name):
    """Downloads and prepares a tfds dataset; fails fast offline and removes what a failure made."""
    dataset_dir = Path(builder.data_dir).parents[0 if builder.builder_config is None else 1]
    data_dir = dataset_dir.parent
    hint = (
        f"{full_name!r} is not prepared in {data_dir} and needs a download: connect to the "
        "internet, or pass a tensorflow-datasets directory holding it (--data-dir, data_dir=)"
    )
    host, port = DOWNLOAD_PROBE
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT).close()
    except OSError as error:
        raise ValueError(f"{hint}; {host} cannot be reached ({error})") from None
    created = next((path for path in (data_dir, dataset_dir) if not path.exists()), None)
    try:
        builder.download_and_prepare()
    except BaseException as error:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        if not isinstance(error, Exception):
            raise
        reason = (str(error).strip().splitlines() or [""])[0]
        failure = f"{type(error).__name__}: {reason}"
        raise ValueError(f"{hint}; the download failed ({failure})") from None


EMBEDDED = {"digits": digits}


def is_known(name):
    """Whether `name` is an embedded dataset or names a tensorflow-datasets one."""
    return name in EMBEDDED or (name.startswith(TFDS_PREFIX) and len(name) > len(TFDS_PREFIX))


def get(name, data_dir=None):
    """The `Source` for a known dataset name; `data_dir` is tfds' directory for `tfds:NAME`."""
    if name in EMBEDDED:
        if data_dir is not None:
            raise ValueError(f"data_dir applies to tfds:NAME datasets only, not {name!r}")
        return EMBEDDED[name]()
    return tfds_dataset(name[len(TFDS_PREFIX) :], data_dir)
