"""Atomic writing of the figures, animations and images the tools produce."""

import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; on success it is renamed to `path`.

    An interrupted write never leaves a truncated file under the final name. The temporary
    name keeps the suffix, so writers that pick a format from it (matplotlib, Pillow) work.
    """
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    stem, suffix = os.path.splitext(os.path.basename(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{stem}-", suffix=suffix, dir=directory)
    os.close(handle)
    try:
        yield temporary
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates the file private
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def save_figure(figure, path, **kwargs):
    """Saves a `matplotlib.figure.Figure` atomically; returns `path`.

    The tools draw on `Figure` objects rather than pyplot, so they need no GUI backend and
    leave no global figure state behind.
    """
    with atomic_path(path) as temporary:
        figure.savefig(temporary, **kwargs)
    return path
