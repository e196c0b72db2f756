"""`garden train` as a user runs it, asserting the exit status, a one-line stderr and no
traceback: errors found before training through `garden.cli.main` in-process (as test_cli.py),
Ctrl-C through the real entry point in a subprocess (a signal needs its own process)."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from garden import cli, recipes

GARDEN = Path(sys.executable).with_name("garden")


@pytest.fixture
def garden(request, tmp_path):
    """`garden(*args)` starts the command in `tmp_path` with this checkout first on the path, as
    from a terminal (SIGINT raises KeyboardInterrupt in it); returns the `Popen`."""
    env = {**os.environ, "PYTHONPATH": str(request.config.rootpath), "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONWARNINGS": "ignore"}

    def start(*args):
        return subprocess.Popen(
            [str(GARDEN), *map(str, args)], cwd=tmp_path, env=env, text=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    return start


def run_in_process(capsys, *args):
    """`garden *args` through `cli.main` in the current directory: (status, stdout, stderr)."""
    status = cli.main(list(map(str, args)))
    out, err = capsys.readouterr()
    return status, out, err


# TensorFlow's C++ start-up log lines (absl format), which are not garden's output.
TF_LOG = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages before absl)")


def _one_line(stderr):
    lines = [line for line in stderr.splitlines() if line.strip() and not TF_LOG.match(line)]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    return lines[0]


def test_an_edited_recipe_stops_naming_fresh(capsys, monkeypatch, tiny_recipe, recipe_toml,
                                             tmp_path):
    monkeypatch.chdir(tmp_path)
    old = tiny_recipe()
    old["model"]["width"] = 8
    run_dir = tmp_path / "runs" / "tiny" / "default" / "seed0"
    run_dir.mkdir(parents=True)
    # What `garden train` left after training the recipe before the edit.
    (run_dir / "recipe.json").write_text(json.dumps(
        {"hash": recipes.recipe_key(old, 0), "seed": 0, "recipe": old}))
    (run_dir / "result.json").write_text(json.dumps({"variant": "default", "seed": 0}))
    (tmp_path / "tiny.toml").write_text(recipe_toml(tiny_recipe()))  # width 16

    status, out, err = run_in_process(capsys, "train", "tiny.toml")
    assert status == 2
    line = _one_line(err)
    assert line == (f"garden: error: {Path('runs/tiny/default/seed0')} holds a run of another "
                    "recipe (model.width 8 -> 16): run again with --fresh to retrain it")
    assert "finished before" not in out


def test_a_typo_in_the_last_variant_fails_before_training(capsys, monkeypatch, tiny_recipe,
                                                           recipe_toml, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exp.toml").write_text(recipe_toml(tiny_recipe(variants={
        "a": {"train": {"epochs": 2}}, "b": {"train": {"epochs": "ten"}}})))
    status, _, err = run_in_process(capsys, "train", "exp.toml")
    assert status == 2
    assert _one_line(err) == (
        "garden: error: exp.toml [variant b]: [train] epochs='ten' is not allowed: use an "
        "integer >= 1.")
    assert not (tmp_path / "runs").exists()


def test_ctrl_c_prints_one_line_and_exits_130(garden, tiny_recipe, recipe_toml, tmp_path):
    recipe = tiny_recipe()
    recipe["train"]["epochs"] = 500
    (tmp_path / "tiny.toml").write_text(recipe_toml(recipe))
    process = garden("train", "tiny.toml")
    history = tmp_path / "runs" / "tiny" / "default" / "seed0" / "history.csv"
    deadline = time.monotonic() + 240
    while not (history.exists() and len(history.read_text().splitlines()) >= 3):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    line = _one_line(stderr)
    assert line.startswith("garden: [tiny/default/seed0] interrupted at epoch ")
    epoch = int(line.split("interrupted at epoch ")[1].split("/")[0])
    assert line.endswith("/500; run the same command to resume")
    assert epoch == len(history.read_text().splitlines())  # finished epochs + 1 (the header)
