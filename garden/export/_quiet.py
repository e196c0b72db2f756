"""Keeps the converter's and LiteRT's native chatter off the console.

TFLite's calibrator prints `fully_quantize: 0, inference_type: 6, ...` on standard output, LiteRT
prints `INFO: Created TensorFlow Lite XNNPACK delegate for CPU.` and the MLIR converter prints
each failing op's location on standard error, all from C++ (so Python's redirections miss them).
"""

import contextlib
import os
import re
import sys
import tempfile

_NOISE = re.compile(
    r"fully_quantize: |INFO: Created TensorFlow Lite|INFO: Initialized TensorFlow Lite|"
    r"W\d{4} |I\d{4} |WARNING: All log messages before absl|loc\(|error: |\s|Some ops are not"
    r"|TF Select ops|Details:|Estimated count of arithmetic ops|Summary on the non-converted ops"
)


@contextlib.contextmanager
def quiet():
    """Captures file descriptors 1 and 2; on success writes back the lines that are not the
    native libraries' routine output, on failure drops them (the exception says what failed)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 1)
        os.dup2(capture.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)
            if not failed:
                capture.seek(0)
                lines = capture.read().decode(errors="replace").splitlines(keepends=True)
                sys.stderr.write("".join(line for line in lines if not _NOISE.match(line)))
                sys.stderr.flush()
