"""The README's commands and snippets run as pasted.

Every fenced code block of README.md is extracted. The rule for what the default tier runs,
explicit so that a new block is covered the moment it is written:
- `make` lines are not run (they create the virtual environment these tests already run in);
- a `garden` command runs in the default tier unless its verb trains or reads a trained model
  (`train`, `export`, `lr-find`, `dream`, `compute`, `demo`: minutes on a CPU); those run, in
  the README's order, in the slow tier;
- a Python block runs in the default tier unless it calls `.fit(` (training); those run in the
  slow tier;
- a Python block that downloads pretrained weights (`weights="imagenet"`) runs in neither: no
  test may need the network (tests/test_weights_io.py runs the same calls on local files).
Everything runs in a fresh directory, as a user would paste it.
"""

import re
import shlex
from pathlib import Path

import pytest

from tests.helpers import garden_in_process, garden_session

README = Path(__file__).resolve().parents[1] / "README.md"
TRAINS = {"train", "export", "lr-find", "dream", "compute", "demo"}
DOWNLOADS = 'weights="imagenet"'


def runnable(block):
    return DOWNLOADS not in block


def blocks(language):
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), re.M | re.S)


def commands():
    """Every `garden` command of the README's bash blocks, as argument lists, in order."""
    found = []
    for block in blocks("bash"):
        for line in block.splitlines():
            for command in line.split("&&"):
                words = shlex.split(command, comments=True)
                if words and words[0] != "make":
                    assert words[0] == "garden", f"README runs {words[0]!r}: {line}"
                    found.append(words[1:])
    return found


def is_cheap(argv):
    return not argv or argv[0] not in TRAINS


def test_the_rule_sees_every_block():
    assert len(blocks("bash")) >= 2 and len(blocks("python")) >= 2
    assert [argv for argv in commands() if not is_cheap(argv)]  # the slow tier has work
    assert any(".fit(" in block for block in blocks("python"))


def test_cheap_commands_run_as_pasted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cheap = [argv for argv in commands() if is_cheap(argv)]
    assert ["list"] in cheap and ["--version"] in cheap
    for argv in cheap:  # in this process: `garden ARGV` is `cli.main(ARGV)`
        status, out, err = garden_in_process(argv)
        assert status == 0, (argv, err)
        assert out, argv
    assert (tmp_path / "conv.gif").exists() and (tmp_path / "tfrecords" / "digits").is_dir()


def test_cheap_python_snippets_run_as_pasted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cheap = [block for block in blocks("python") if ".fit(" not in block and runnable(block)]
    assert cheap
    for block in cheap:
        exec(compile(block, str(README), "exec"), {})


def test_training_commands_name_recipes_and_files_that_exist(tmp_path, monkeypatch):
    """What the slow tier would find first, checked cheaply: each recipe a training command
    names is a file or a bundled recipe from any directory, and each model file it reads is
    the one an earlier `garden train` writes (`runs/NAME/VARIANT/seedS/model.keras`)."""
    from garden import cli
    from garden.recipes import schema

    monkeypatch.chdir(tmp_path)
    written = set()
    for argv in commands():
        if argv[0] in ("train", "lr-find", "compute"):
            args = cli._parser().parse_args(argv)
            for name in getattr(args, "recipes", [getattr(args, "recipe", None)]):
                recipe, _ = schema.read_recipe(name)
                variant = next(iter(recipe.get("variants", {})), "default")
                written.add(f"runs/{recipe['name']}/{variant}/seed{recipe.get('seeds', [0])[0]}"
                            "/model.keras")
        elif argv[0] == "export":
            assert argv[1] in written, f"{argv[1]} is not what `garden train` writes"


@pytest.mark.slow
def test_training_commands_and_snippets_run_as_pasted(tmp_path, monkeypatch):
    argvs = commands()
    for argv, (status, _, err) in zip(argvs, garden_session(argvs, tmp_path, timeout=3600)):
        assert status == 0, (argv, err)
    monkeypatch.chdir(tmp_path)
    for block in blocks("python"):
        if ".fit(" in block:
            exec(compile(block, str(README), "exec"), {})
