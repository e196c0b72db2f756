"""The mechanism recipes reproduce their claims (slow: minutes each on a CPU; `pytest -m slow`)."""

import pytest

from garden import recipes


def st_beats_cnn(results):
    assert results["st_cnn"]["test_error"] < results["cnn"]["test_error"]


def capsnet_at_least_as_good_as_cnn(results):
    assert results["capsnet"]["test_error"] <= results["cnn"]["test_error"]


def both_beat_bicubic(results):
    for variant in ("srcnn_915", "espcn"):
        assert results[variant]["heldout_psnr"] > results[variant]["heldout_psnr_bicubic"]


def crf_raises_miou(results):
    for variant in ("single_branch", "aspp_s"):
        assert results[variant]["test_miou"] > 0.7
        assert results[variant]["test_miou_crf"] > results[variant]["test_miou"]


def style_learned(results):
    scores = results["default"]
    assert scores["heldout_style_loss_trained"] < scores["heldout_style_loss_untrained"] / 10
    assert scores["heldout_style_loss_trained"] < scores["heldout_style_loss_photograph"]
    assert scores["heldout_content_loss_trained"] <= scores["heldout_content_loss_untrained"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "recipe, claim",
    [
        ("stn_digits_rts", st_beats_cnn),
        ("capsnet_digits", capsnet_at_least_as_good_as_cnn),
        ("super_resolution_x3", both_beat_bicubic),
        ("deeplab_shapes", crf_raises_miou),
        ("style_transfer_photographs", style_learned),
    ],
)
def test_recipe_reproduces_its_claim(recipe, claim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # generated data; digits would be prepared under ./tfrecords
    summary = recipes.train(recipe, runs_dir=tmp_path / "runs",
                            export_dir=tmp_path / "saved_models")
    claim({result["variant"]: result for result in summary["results"]})
