"""The direction of imports: `garden.tools` takes a model, a loss and data and knows nothing of
recipes, so no tools module imports `garden.recipes` (or the old `garden.training`); the leaves
(layers, losses, metrics, schedules, utils) import neither models nor tools: what they compute
on is an argument, and what they share lives in `garden.utils`."""

import ast
from pathlib import Path

import garden.tools

FORBIDDEN = ("garden.recipes", "garden.training")
LEAVES = ("layers", "losses", "metrics", "schedules", "utils")
ABOVE_LEAVES = ("garden.models", "garden.tools", "garden.recipes", "garden.training")


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_tools_import_nothing_from_recipes():
    modules = sorted(Path(garden.tools.__file__).parent.rglob("*.py"))
    assert len(modules) >= 10
    offenders = [f"{path.name}: {name}" for path in modules for name in _imports(path)
                 if name.startswith(FORBIDDEN)]
    assert not offenders, offenders


def test_leaves_import_neither_models_nor_tools():
    root = Path(garden.tools.__file__).parents[1]
    modules = sorted(path for leaf in LEAVES for path in (root / leaf).rglob("*.py"))
    assert len(modules) >= 20
    offenders = [f"{path.relative_to(root)}: {name}" for path in modules
                 for name in _imports(path) if name.startswith(ABOVE_LEAVES)]
    assert not offenders, offenders


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "sneaky.py"
    module.write_text("def f():\n    from garden import recipes\n    import garden.training\n"
                      "    from garden import models\n    from garden.tools.profiler import x\n")
    found = set(_imports(module))
    assert {"garden.recipes", "garden.training"} <= found
    assert any(name.startswith(ABOVE_LEAVES[0]) for name in found)
    assert any(name.startswith(ABOVE_LEAVES[1]) for name in found)
