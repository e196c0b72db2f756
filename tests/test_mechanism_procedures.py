"""The evaluation and figure helpers of the mechanism recipes' procedures."""

import keras
import numpy as np
import pytest

from garden import models
from garden.data.sr_patches import degrade, luminance
from garden.metrics import mean_iou, psnr
from garden.tools import DenseCRF
from garden.recipes.procedures import capsule_routing, deeplab_crf, sr_photographs, stn_distortions

RNG = np.random.default_rng(0)


def identity_srcnn():
    """A 1-1-1 "SRCNN" whose output is its (bicubic) input."""
    model = models.srcnn(kernel_sizes=(1, 1, 1), filters=(1, 1), input_shape=(None, None, 1))
    model.set_weights([np.ones((1, 1, 1, 1), np.float32), np.zeros(1, np.float32)] * 3)
    return model


def test_a_model_that_returns_bicubic_scores_exactly_bicubic():
    scores, examples = sr_photographs.evaluate_super_resolution(
        identity_srcnn(), "bicubic", 3, photographs=("coins",))
    assert scores["psnr"] == pytest.approx(scores["psnr_bicubic"], abs=1e-4)
    assert scores["ssim"] == pytest.approx(scores["ssim_bicubic"], abs=1e-5)
    name, high, bicubic, output = examples[0]
    full_high, _, full_bicubic = degrade(luminance("coins"), 3)
    np.testing.assert_array_equal(high, full_high[8:-8, 8:-8])
    np.testing.assert_allclose(output, np.clip(bicubic, 0, 1), atol=1e-6)
    expected = float(psnr(high[None, ..., None], bicubic[None, ..., None])[0])
    assert scores["psnr_bicubic"] == pytest.approx(expected, rel=1e-6)


def test_valid_padding_losses_are_aligned_with_the_target():
    # SRCNN 9-1-5 loses 6 pixels per side; with centre-tap kernels it passes its input through,
    # so its score must again be bicubic's, on the same region.
    model = models.srcnn(input_shape=(None, None, 1), filters=(1, 1))
    weights = []
    for w in model.get_weights():
        w = np.zeros_like(w)
        if w.ndim == 4:
            w[w.shape[0] // 2, w.shape[1] // 2] = 1.0
        weights.append(w)
    model.set_weights(weights)
    scores, _ = sr_photographs.evaluate_super_resolution(model, "bicubic", 3,
                                                           photographs=("coins",))
    assert scores["psnr"] == pytest.approx(scores["psnr_bicubic"], abs=1e-4)
    with pytest.raises(ValueError, match="border=4"):
        sr_photographs.evaluate_super_resolution(model, "bicubic", 3, ("coins",), border=4)


def test_crf_tuning_picks_the_best_grid_point_and_refine_labels_each_image():
    images = np.zeros((2, 12, 12, 3), np.float32)
    images[:, 3:9, 3:9] = 1.0
    masks = (images[..., 0] > 0.5).astype(int)
    probabilities = np.where(masks[..., None] == np.arange(2), 0.6, 0.4)
    probabilities[:, 5, 5] = probabilities[:, 5, 5, ::-1]  # one wrong pixel inside
    grid = {"appearance_weight": (0.0, 5.0), "smoothness_weight": (0.0,)}
    crf = deeplab_crf.tune_crf(images, masks, probabilities, 2, grid)
    assert crf == DenseCRF(appearance_weight=5.0, smoothness_weight=0.0)
    refined = deeplab_crf.refine(crf, images, probabilities)
    assert mean_iou(masks, refined, 2) == 1.0 > mean_iou(masks, probabilities.argmax(-1), 2)


def test_figures_are_written(tmp_path):
    keras.utils.set_random_seed(0)
    stn = models.build("stn_classifier", **models.get_entry("stn_classifier").small_kwargs)
    images = RNG.random((3, 16, 16, 1)).astype(np.float32)
    path = stn_distortions.transformer_figure(stn, images, tmp_path / "st.png", columns=2)
    caps = models.build("capsnet", **models.get_entry("capsnet").small_kwargs)
    digits = RNG.random((2, 20, 20, 1)).astype(np.float32)
    paths = [
        path,
        capsule_routing.reconstruction_figure(caps, digits, [0, 1], tmp_path / "recon.png"),
        capsule_routing.perturbation_figure(caps, digits[0], 1, tmp_path / "perturb.png",
                                     dimensions=(0, 5)),
        deeplab_crf.segmentation_figure(images[..., 0], *(np.zeros((3, 16, 16), int),) * 3,
                                         tmp_path / "seg.png", 4),
    ]
    for path in paths:
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "perturb.png", "recon.png", "seg.png", "st.png"]  # no temporary files left


def test_perturbing_a_capsule_dimension_changes_the_decoded_image():
    caps = models.build("capsnet", **models.get_entry("capsnet").small_kwargs)
    capsule_values = RNG.normal(size=(2, 3, 6)).astype(np.float32)
    shifted = capsule_values.copy()
    shifted[:, 1, 2] += 0.25
    labels = np.array([1, 1])
    assert not np.allclose(capsule_routing.decode(caps, capsule_values, labels),
                           capsule_routing.decode(caps, shifted, labels))
    # A dimension of a masked-out capsule has no effect.
    other = capsule_values.copy()
    other[:, 0, 2] += 0.25
    np.testing.assert_array_equal(capsule_routing.decode(caps, capsule_values, labels),
                                  capsule_routing.decode(caps, other, labels))
