"""Every benchmark module runs on its tiny configuration and returns well-formed rows, and the
aggregator writes a well-formed bench.json (`python -m benchmarks`), so the benchmarks do not
rot. Tiny runs measure nothing: the figures are `make bench`'s."""

import importlib
import json
import math

import pytest

from benchmarks import MissingOptional
from benchmarks import __main__ as aggregator

KEYS = {"benchmark", "row", "ratio", "min", "max", "unit", "detail"}


def check_rows(name, rows):
    assert rows, f"{name} returned no rows"
    for row in rows:
        assert set(row) == KEYS, row
        assert row["benchmark"] == name
        assert all(math.isfinite(row[k]) and row[k] > 0 for k in ("ratio", "min", "max")), row
        assert row["min"] <= row["ratio"] <= row["max"], row
        json.dumps(row, default=float)  # the JSON file can hold it


@pytest.mark.parametrize("name", aggregator.module_names())
def test_module_runs_tiny(name):
    try:
        rows = importlib.import_module(f"benchmarks.{name}").rows(tiny=True)
    except MissingOptional as error:  # only what `benchmarks.require` declares optional
        pytest.skip(f"optional dependency missing: {error}")
    check_rows(name, rows)


def test_aggregator_writes_bench_json(tmp_path):
    out = tmp_path / "bench.json"
    aggregator.main(["--tiny", "--only", "landscape", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["tiny"] is True
    assert {"date", "machine", "versions", "rows", "skipped", "seconds"} <= set(result)
    assert result["machine"]["cores"] >= 1 and result["machine"]["cpu"]
    assert {"python", "tensorflow", "keras"} <= set(result["versions"])
    check_rows("landscape", result["rows"])
    assert list(result["seconds"]) == ["landscape"]


def test_missing_dependency_is_reported_as_skipped(tmp_path, monkeypatch):
    def missing(tiny=False):
        raise MissingOptional("needs 'x': pip install x", name="x")

    monkeypatch.setattr(importlib.import_module("benchmarks.landscape"), "rows", missing)
    out = tmp_path / "bench.json"
    aggregator.main(["--tiny", "--only", "landscape", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["rows"] == []
    assert result["skipped"] == [{"benchmark": "landscape", "reason": "needs 'x': pip install x"}]


def test_a_missing_import_that_is_not_optional_stops_the_run(tmp_path, monkeypatch):
    def broken(tiny=False):
        import garden.no_such_module  # noqa: F401

    monkeypatch.setattr(importlib.import_module("benchmarks.landscape"), "rows", broken)
    with pytest.raises(ModuleNotFoundError, match="garden.no_such_module"):
        aggregator.main(["--tiny", "--only", "landscape", "--out", str(tmp_path / "b.json")])


def test_mobile_report_reads_the_accuracy_of_the_files_recipes_exported(tmp_path):
    from benchmarks import mobile

    runs = [{"variant": variant, "seed": 0, "test_accuracy": 0.97,
             "exports": {"float": {"accuracy": 0.97, "kind": "float32"},
                         "int8": {"accuracy": 0.96, "kind": "int8"}, "saved_model": {}}}
            for variant in ("v1_0", "v1_1")]
    runs.append({"variant": "v1_0", "seed": 1, "test_accuracy": 0.5})  # exported nothing
    for name, results in (("squeezenet_digits", runs), ("not_bundled", runs)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps({"name": name,
                                                                  "results": results}))
    assert mobile.recipe_accuracy(tmp_path) == [
        {"recipe": "squeezenet_digits", "variant": variant, "seed": 0, "model": model,
         "keras": 0.97, "float": 0.97, "int8": 0.96}
        for variant, model in (("v1_0", "squeezenet1_0"), ("v1_1", "squeezenet1_1"))]
