"""Timed comparisons against a baseline in the same run: `python -m benchmarks` (`make bench`).

Every module exposes `rows(tiny=False)`, the rows of the one table `benchmarks.__main__` prints
and writes to `results/bench.json`, and `main(argv=None)` to run it alone. A module whose
optional dependency is missing raises `ModuleNotFoundError` (`require`), and the table reports
it as skipped with the reason.
"""

import importlib.util


def require(module, install):
    """Raises `ModuleNotFoundError` saying how to install `module` when it cannot be imported."""
    if importlib.util.find_spec(module) is None:
        raise ModuleNotFoundError(f"needs {module!r}: pip install {install}", name=module)
