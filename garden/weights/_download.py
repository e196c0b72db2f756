"""Downloading a checkpoint once into Keras' cache, its SHA-256 checked."""

import hashlib
import os

import keras

CACHE_SUBDIR = "models"  # keras.applications' files live there too


def keras_home():
    """Keras' cache directory, as Keras finds it: `$KERAS_HOME`, else `~/.keras`."""
    return os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras"))


def cache_path(checkpoint, cache_dir=None):
    """Where the checkpoint's file is, or would be, in Keras' cache (`$KERAS_HOME/models`,
    `~/.keras/models` by default)."""
    return os.path.join(cache_dir or keras_home(), CACHE_SUBDIR, checkpoint.file_name)


def sha256(path):
    """The SHA-256 of a file, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(checkpoint, cache_dir=None):
    """The path of `checkpoint`'s file in Keras' cache, downloaded first if it is not there.

    The file's SHA-256 must start with `checkpoint.sha256` (the whole hash, or the prefix the
    source publishes); a file that does not is deleted, so no bad file stays in the cache.

    Raises:
        ValueError: the download failed (offline: says from where, and how to pass the file
            instead), or the file's hash is not the checkpoint's.
    """
    target = cache_path(checkpoint, cache_dir)
    # keras.utils.get_file falls back to /tmp/.keras when the directory does not exist yet.
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        path = keras.utils.get_file(
            checkpoint.file_name, checkpoint.url, cache_subdir=CACHE_SUBDIR,
            cache_dir=os.path.dirname(os.path.dirname(target)),
        )
    except Exception as e:  # keras raises a bare Exception for URL errors
        raise ValueError(
            f"Could not download the {checkpoint.source} checkpoint of {checkpoint.model} from "
            f"{checkpoint.url} ({e}). Without internet access, download that file elsewhere and "
            f"pass it: {checkpoint.model}(weights='/path/to/{checkpoint.file_name}')."
        ) from None
    found = sha256(path)
    if not found.startswith(checkpoint.sha256.lower()):
        os.remove(path)
        raise ValueError(
            f"The file downloaded from {checkpoint.url} has SHA-256 {found}, not "
            f"{checkpoint.sha256}...: it is corrupted or not the {checkpoint.source} checkpoint "
            f"of {checkpoint.model}, and was deleted."
        )
    return path
