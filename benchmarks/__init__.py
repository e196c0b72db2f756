"""Timed comparisons against a baseline in the same run: `python -m benchmarks` (`make bench`).

Every module exposes `rows(tiny=False)`, the rows of the one table `benchmarks.__main__` prints
and writes to `results/bench.json`, and `main(argv=None)` to run it alone. A module whose
optional dependency is missing raises `MissingOptional` (`require`), and the table reports it
as skipped with the reason; any other error, a missing import included, stops the run.
"""

import importlib.util


class MissingOptional(ModuleNotFoundError):
    """An optional dependency of a benchmark (a peer implementation, an engine) is not installed."""


def require(module, install):
    """Raises `MissingOptional` saying how to install `module` when it cannot be imported."""
    if importlib.util.find_spec(module) is None:
        raise MissingOptional(f"needs {module!r}: pip install {install}", name=module)
