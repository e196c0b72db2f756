"""Atomic writes: a reader of the final path sees the old artifact or the new one, never a part."""

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path


def write_bytes(path, data):
    """Writes `data` to `path` through a temporary sibling file and `os.replace`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique name opened with "x" (not mkstemp) so the file gets the usual umask permissions.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def replaced_directory(path, keep_file):
    """Yields an empty staging directory that replaces the directory `path` once the block ends.

    The staging directory is a sibling of `path` (same file system, so renames are atomic). The
    old directory is moved aside, the new one renamed into place and only then is the old one
    deleted; if the block or the swap fails, `path` keeps its old contents and nothing is left
    behind. An existing `path` is replaced only if it is empty or contains `keep_file` (the marker
    of the artifact kind), so a directory of other files is never deleted by mistake.
    """
    path = Path(path)
    replaceable = not path.exists() or (
        path.is_dir() and ((path / keep_file).exists() or not any(path.iterdir()))
    )
    if not replaceable:
        raise ValueError(
            f"path={str(path)!r} exists and is not a directory holding {keep_file}: "
            "pass a new path or an earlier export's directory to replace."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        new, old = stage / "new", stage / "old"
        new.mkdir()
        yield new
        if path.exists():
            os.replace(path, old)
        try:
            os.replace(new, path)
        except BaseException:
            if old.exists():
                os.replace(old, path)
            raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
