"""The `garden` command: output of each verb, and one-line errors with exit status 2."""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import keras
import pytest

import garden as garden_package
from garden import cli, models
from tests.helpers import garden_in_process


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_list_shows_every_model_with_its_paper(capsys):
    status, out, _ = run(capsys, "list")
    assert status == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == models.list_models()
    assert "2017" in lines[models.list_models().index("mobilenet_v1")]
    assert run(capsys, "list", "mobile*")[1].split()[0] == "mobilenet_v1"


def test_info(capsys):
    status, out, _ = run(capsys, "info", "mobilenet_v1")
    assert status == 0
    assert "https://arxiv.org/abs/1704.04861" in out and "4,253,864" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["info", "mobilenet"], "Did you mean: mobilenet_v1"),
        (["list", "zzz*"], "no model matches 'zzz*'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["train", "no/such/recipe.toml"], "recipe 'no/such/recipe.toml' does not exist"),
        (["export", "missing.keras", "m.tflite"], "model file 'missing.keras' does not exist"),
        (["data", "prepare", "nosuchdata"], "nosuchdata"),
    ],
)
def test_bad_input_is_one_line_and_status_2(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("garden")
    assert message in err


def test_export_and_verify_from_the_command_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = models.selu_mlp(depth=1, width=8, input_shape=(8, 8, 1), classes=10)
    model.save("m.keras")
    status, out, err = run(capsys, "export", "m.keras", "out/m.tflite", "--quantize", "int8")
    assert status == 2 and "representative" in err
    status, out, _ = run(capsys, "export", "m.keras", "out/m.tflite", "--data", "digits")
    assert status == 0
    assert "wrote out/m.tflite" in out and "max_abs_diff" in out
    assert (tmp_path / "out" / "m.tflite").stat().st_size > 0
    status, out, _ = run(capsys, "export", "m.keras", "out/sm")
    assert status == 0 and (tmp_path / "out" / "sm" / "saved_model.pb").exists()


# ------------------------------------------------------- the real entry point, in a subprocess

ROOT = Path(__file__).resolve().parents[1]


def garden(*argv):
    """Runs `garden ARGV` as a new process."""
    code = "import sys\nfrom garden import cli\nsys.exit(cli.main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)


def test_help_version_and_bare_command_print_before_importing_tensorflow():
    # One new process: `--help`, `--version` and the bare command, then which modules it holds.
    code = ("import contextlib, io, json, sys\nfrom garden import cli\nresults = []\n"
            "for argv in (['--help'], ['--version'], []):\n"
            "    out, err = io.StringIO(), io.StringIO()\n"
            "    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):\n"
            "        try:\n            status = cli.main(argv)\n"
            "        except SystemExit as exit:\n            status = exit.code\n"
            "    results.append([status, out.getvalue(), err.getvalue()])\n"
            "print(json.dumps(results))\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'}))")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert time.perf_counter() - start < 2
    results, modules = result.stdout.splitlines()[-2:]
    assert modules == "[]"
    (_, help_out, _), version, bare = json.loads(results)
    assert help_out.startswith("usage: garden")
    assert version[:2] == [0, f"garden {garden_package.__version__}\n"]
    status, out, err = bare
    assert status == 0 and out.startswith("usage: garden")
    assert "demo" in out and err == ""


def test_every_option_and_argument_has_help_text():
    def parsers(parser):
        yield parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from parsers(sub)

    missing = [f"{parser.prog} {action.dest}" for parser in parsers(cli._parser())
               for action in parser._actions
               if not isinstance(action, argparse._SubParsersAction) and not action.help]
    assert missing == []


def test_data_prepare_help_lists_every_dataset(capsys):
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["data", "prepare", "--help"])
    assert exit_status.value.code == 0
    out = capsys.readouterr().out
    for name in ("digits", "tfds:NAME", "digits_rts", "shapes", "sr_patches"):
        assert name in out


def test_data_prepare_prints_the_counts(tmp_path):
    result = garden("data", "prepare", "digits", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "train: 1,437 examples of shape (8, 8, 1) in 2 shards" in result.stdout
    assert "test: 360 examples of shape (8, 8, 1) in 1 shard\n" in result.stdout
    assert result.stdout.endswith(f"wrote {tmp_path / 'digits'}\n")
    assert result.stderr == ""  # no oneDNN / CUDA start-up lines


def test_tfds_prepare_offline_fails_at_once_and_leaves_nothing(capsys, tmp_path, monkeypatch):
    from tensorflow_datasets.core import constants

    from garden import data

    with socket.socket() as probe:  # a port nothing listens on: the download host is unreachable
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(data._sources, "DOWNLOAD_PROBE", ("127.0.0.1", port))
    default = tmp_path / "tensorflow_datasets"  # tfds' default directory, as under a new $HOME
    monkeypatch.setenv("TFDS_DATA_DIR", str(default))
    monkeypatch.setattr(constants, "DATA_DIR", str(default))
    start = time.perf_counter()
    status, _, err = run(capsys, "data", "prepare", "tfds:mnist", "--root",
                         str(tmp_path / "tfrecords"))
    assert time.perf_counter() - start < 60
    assert_one_line((status, "", err), f"'tfds:mnist' is not prepared in {default} ")
    assert "Traceback" not in err
    assert "needs a download" in err and "--data-dir" in err
    assert not default.exists()
    assert not (tmp_path / "tfrecords").exists()


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """The commands below, run in this process from a directory outside the repository."""
    cwd = tmp_path_factory.mktemp("elsewhere")
    (cwd / "garbage.keras").write_bytes(b"not a zip archive")
    commands = {
        "directory": [["export", str(cwd), "m.tflite"], ["train", str(cwd)],
                      ["lr-find", str(cwd)], ["dream", str(cwd), "--layers", "a"]],
        "garbage": [["export", "garbage.keras", "m.tflite"]],
        "top-level": [["frobnicate"]],
        "subcommand": [["train"]],
        "unknown recipe": [["train", "mobilenet_v1_digit"]],
        "recipes": [["recipes"]],
        "lr-find": [["lr-find", "clr_digits", "--steps", "3", "--output", "lr.png"]],
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        results = {name: [garden_in_process(argv) for argv in group]
                   for name, group in commands.items()}
    return cwd, results


def assert_one_line(status_out_err, message):
    status, _, err = status_out_err
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith("garden: error: "), err
    assert message in err


def test_a_directory_or_a_non_model_file_is_named(session):
    cwd, results = session
    for result in results["directory"]:
        assert_one_line(result, f"{str(cwd)!r} is a directory, not a file")
    assert_one_line(results["garbage"][0], "'garbage.keras' is not a Keras model file")
    assert not (cwd / "m.tflite").exists()


def test_argument_errors_have_one_prefix(session):
    _, results = session
    assert_one_line(results["top-level"][0], "garden: error: argument COMMAND: invalid choice")
    assert_one_line(results["subcommand"][0],
                    "garden: error: train: the following arguments are required: recipe")


def test_bundled_recipes_by_name_from_any_directory(session):
    cwd, results = session
    assert_one_line(results["unknown recipe"][0], "did you mean mobilenet_v1_digits?")
    status, out, _ = results["recipes"][0]
    assert status == 0
    from garden.recipes import schema

    names = schema.bundled_recipes()
    assert [line.split()[0] for line in out.splitlines() if not line.startswith(" ")] == names
    demo = out.splitlines()[2 * names.index("mobilenet_v1_digits"):][:2]
    recipe, _ = schema.read_recipe("mobilenet_v1_digits")
    assert demo == [f"mobilenet_v1_digits  ({recipe['paper']}; {recipe['time']})",
                    f"    {recipe['claim']}"]
    status, out, err = results["lr-find"][0]
    assert status == 0, err
    assert "clr_digits/fixed: 3 steps, learning rate 1e-05 to 10\n" in out
    assert (cwd / "lr.png").exists()


def test_tensorboard_is_a_declared_dependency():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(re.match(r"tensorboard\b", dependency) for dependency in dependencies)
    keras.callbacks.TensorBoard  # noqa: B018 (imports tensorboard lazily on use)
    import tensorboard  # noqa: F401


@pytest.fixture(scope="module")
def saved_garden_model(tmp_path_factory):
    """A GoogLeNet (a keras.Model subclass with garden's LRN layers; its narrow test instance)
    whose optimizer holds a garden.schedules.Warmup."""
    from garden import schedules

    model = models.get_entry("googlenet").tiny(input_shape=(65, 65, 3), classes=3)
    model.compile(keras.optimizers.SGD(schedules.Warmup(0.1, warmup_steps=5)),
                  "sparse_categorical_crossentropy")
    path = tmp_path_factory.mktemp("saved") / "googlenet.keras"
    model.save(path)
    return path


# How a script imports garden before loading: garden first (lazily: no TensorFlow yet), or Keras.
RELOADS = {
    "garden then keras": "import sys, garden\nprint('tensorflow' in sys.modules)\nimport keras\n",
    "keras then garden.export": "import keras, garden.export\nprint('imported')\n",
}


@pytest.mark.parametrize("imports", list(RELOADS), ids=list(RELOADS))
def test_a_saved_model_reloads_after_any_import_of_garden(saved_garden_model, imports):
    code = (RELOADS[imports] + f"model = keras.saving.load_model({str(saved_garden_model)!r})\n"
            "print(type(model).__name__, model.get_layer('lrn1').__class__.__name__,\n"
            "      type(model.optimizer._learning_rate).__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.returncode == 0, result.stderr
    first = "False" if imports == "garden then keras" else "imported"
    assert result.stdout == f"{first}\nGoogLeNet LocalResponseNormalization Warmup\n"
    if imports.startswith("garden"):  # TensorFlow's start-up lines are hidden
        assert result.stderr == ""
