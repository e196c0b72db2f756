"""Super-resolution with a pixel loss vs a perceptual loss (Johnson et al. 2016): PSNR/SSIM and a
feature distance on the held-out photographs, and side-by-side crops.

Reference:
    Johnson et al. 2016, https://arxiv.org/abs/1603.08155
"""

import keras
import numpy as np

from garden.losses import PerceptualLoss
from garden.models import vgg16_loss_network
from garden.recipes.procedures import procedure
from garden.recipes.procedures.sr_photographs import (
    comparison_figure,
    evaluate_super_resolution,
    whole_image_model,
)
from garden.recipes.runner import fit

METRIC_SEED = 1234  # the judge's loss network: the same weights for every variant


@procedure()
def sr_perceptual_procedure(run):
    """Recipe procedure: `fit`, then on the whole held-out photographs the model's PSNR/SSIM
    (and bicubic's), the feature distance at VGG-16 relu2_2 (`PerceptualLoss` with its own fixed
    random weights, the same for every variant and unlike the training loss network's: no
    ImageNet weights offline; lower is closer), and `comparison.png`."""
    scores = fit(run)
    scale = run.recipe["data"].get("scale", 4)
    twin = whole_image_model(run.model, run.recipe["model"])
    metrics, examples = evaluate_super_resolution(twin, "low_resolution", scale)
    scores.update({f"heldout_{key}": value for key, value in metrics.items()})
    keras.utils.set_random_seed(METRIC_SEED)
    judge = PerceptualLoss(vgg16_loss_network())
    for key, index in (("feature_distance", 3), ("feature_distance_bicubic", 2)):
        scores[f"heldout_{key}"] = float(np.mean([
            judge(example[1][None, ..., None], example[index][None, ..., None])
            for example in examples]))
    comparison_figure(examples, run.run_dir / "comparison.png", run.variant)
    return scores
