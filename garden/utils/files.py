"""Atomic writes: a file or directory appears under its final name complete, or not at all."""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path, *, directory=False):
    """Yields a temporary path beside `path`; on success it replaces `path`, on error it is removed.

    The temporary name keeps `path`'s suffix (Keras picks the format from it). A directory
    replaces an existing one only once the new one is complete; a failure leaves the old intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    tmp = workdir / path.name
    if directory:
        tmp.mkdir()
    try:
        yield tmp
        old = workdir / "old"
        if directory and path.exists():
            os.replace(path, old)
        try:
            os.replace(tmp, path)
        except BaseException:
            if old.exists():  # put the previous copy back rather than lose it with `workdir`
                os.replace(old, path)
            raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def write_text(path, text):
    """Writes `text` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)
