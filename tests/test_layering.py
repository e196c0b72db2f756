"""The direction of imports: `garden.tools` takes a model, a loss and data and knows nothing of
recipes, so no tools module imports `garden.recipes` (or the old `garden.training`)."""

import ast
from pathlib import Path

import garden.tools

FORBIDDEN = ("garden.recipes", "garden.training")


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


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "sneaky.py"
    module.write_text("def f():\n    from garden import recipes\n    import garden.training\n")
    assert {"garden.recipes", "garden.training"} <= set(_imports(module))
