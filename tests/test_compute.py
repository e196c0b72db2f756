"""Accuracy against compute: recipe variants profiled, the power-law fit, the plot."""

import json

import numpy as np
import pytest

from garden import models
from garden.recipes import compute_points
from garden.tools import (
    ComputePoint,
    format_points,
    plot_accuracy_vs_compute,
    power_law,
    profile,
)

RECIPE = """
name = "widths"
[model]
name = "mobilenet_v1"
input_shape = [32, 32, 1]
classes = 10
[data]
name = "digits"
[variants.narrow]
model.alpha = 0.25
[variants.wide]
model.alpha = 0.5
"""


def test_points_profile_each_variant_and_average_its_seeds(tmp_path):
    recipe = tmp_path / "widths.toml"
    recipe.write_text(RECIPE)
    results = [
        {"variant": "narrow", "seed": 0, "test_accuracy": 0.90},
        {"variant": "narrow", "seed": 1, "test_accuracy": 0.92},
        {"variant": "wide", "seed": 0, "test_accuracy": 0.95},
    ]
    (tmp_path / "runs" / "widths").mkdir(parents=True)
    (tmp_path / "runs" / "widths" / "results.json").write_text(json.dumps({"results": results}))
    narrow, wide = compute_points([recipe], runs_dir=tmp_path / "runs")
    expected = profile(models.build("mobilenet_v1", alpha=0.25, input_shape=(32, 32, 1),
                                    classes=10))
    assert (narrow.label, narrow.multiply_adds, narrow.params) == (
        "widths/narrow", expected.multiply_adds, expected.params)
    assert narrow.accuracy == pytest.approx(0.91)
    assert wide.multiply_adds > narrow.multiply_adds and wide.accuracy == 0.95
    assert "| widths/narrow |" in format_points([wide, narrow]).splitlines()[2]
    path = plot_accuracy_vs_compute([narrow, wide], tmp_path / "compute.png")
    assert path.read_bytes()[:4] == b"\x89PNG"

    with pytest.raises(ValueError, match="run `garden train"):
        compute_points([recipe], runs_dir=tmp_path / "elsewhere")


def test_power_law_fit():
    # error = 2 * compute^-0.5
    points = [ComputePoint(str(c), c, 0, 1 - 2 * c**-0.5) for c in (1e4, 1e5, 1e6)]
    coefficient, slope = power_law(points)
    assert (coefficient, slope) == pytest.approx((2.0, -0.5))
    assert np.isfinite(power_law(points[:2])[1])


def test_command_line_prints_the_table_and_the_fit(tmp_path, capsys, monkeypatch):
    from garden.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "widths.toml").write_text(RECIPE)
    (tmp_path / "runs" / "widths").mkdir(parents=True)
    results = [{"variant": "narrow", "test_accuracy": 0.9},
               {"variant": "wide", "test_accuracy": 0.95}]
    (tmp_path / "runs" / "widths" / "results.json").write_text(json.dumps({"results": results}))
    assert main(["compute", "widths.toml", "--output", "compute.png"]) == 0
    out = capsys.readouterr().out
    assert "| widths/narrow |" in out and "fitted power law: test error ~ multiply-adds^" in out
    assert (tmp_path / "compute.png").is_file()
