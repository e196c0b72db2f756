"""The `garden` command: output of each verb, and one-line errors with exit status 2."""

import pytest

from garden import cli, models


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
    model = models.mobilenet_v1(alpha=0.25, input_shape=(32, 32, 1), classes=10)
    model.save("m.keras")
    status, out, err = run(capsys, "export", "m.keras", "out/m.tflite", "--quantize", "int8")
    assert status == 2 and "representative" in err
    status, out, _ = run(capsys, "export", "m.keras", "out/m.tflite", "--data", "digits")
    assert status == 0
    assert "wrote out/m.tflite" in out and "max_abs_diff" in out
    assert (tmp_path / "out" / "m.tflite").stat().st_size > 0
    status, out, _ = run(capsys, "export", "m.keras", "out/sm")
    assert status == 0 and (tmp_path / "out" / "sm" / "saved_model.pb").exists()
