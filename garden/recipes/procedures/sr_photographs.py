"""Super-resolution of whole held-out photographs: PSNR/SSIM against bicubic interpolation, a
side-by-side figure, and the recipe procedure around them.

References:
    Dong et al. 2014, https://arxiv.org/abs/1501.00092 (SRCNN)
    Shi et al. 2016, https://arxiv.org/abs/1609.05158 (ESPCN)
"""

import numpy as np

from garden.data.sr_patches import TEST_PHOTOGRAPHS, degrade, luminance
from garden.metrics import psnr, ssim
from garden.recipes.build import build_model
from garden.recipes.procedures import procedure
from garden.recipes.runner import fit
from garden.utils.figures import pyplot, save_figure


def whole_image_model(model, recipe_model):
    """A copy of a fully convolutional model that takes images of any size, with `model`'s
    weights (`recipe_model` is the recipe's [model] table)."""
    twin = build_model({"model": {**recipe_model, "input_shape": [None, None, 1]}})
    twin.set_weights(model.get_weights())
    return twin


def super_resolve(model, model_input, low, bicubic):
    """The model's high-resolution Y image from `low` (ESPCN) or `bicubic` (SRCNN), 2-D."""
    source = low if model_input == "low_resolution" else bicubic
    return np.asarray(model(source[None, ..., None]))[0, ..., 0]


def evaluate_super_resolution(model, model_input, scale, photographs=TEST_PHOTOGRAPHS, border=8):
    """Mean PSNR and SSIM (dB, on Y) of the model and of bicubic interpolation over whole
    photographs.

    Both are measured on the same central region, without `border` pixels on each side (the
    usual shave of super-resolution benchmarks, and at least what a valid-padding model such
    as SRCNN loses), so that models with and without padding are compared on the same pixels.

    Args:
        model: a model taking Y images of any size (see `whole_image_model`).
        model_input: "bicubic" (SRCNN) or "low_resolution" (ESPCN).
        scale: int. Upscaling factor.
        photographs: sequence of str. scikit-image photograph names. Defaults to the held-out
            `TEST_PHOTOGRAPHS`.
        border: int. Pixels left out on each side. Defaults to 8.

    Returns:
        `({"psnr", "ssim", "psnr_bicubic", "ssim_bicubic"}, examples)`, examples being
        `(name, high, bicubic, output)` per photograph with the region cropped.
    """
    totals = {"psnr": [], "ssim": [], "psnr_bicubic": [], "ssim_bicubic": []}
    examples = []
    for name in photographs:
        high, low, bicubic = degrade(luminance(name), scale)
        output = np.clip(super_resolve(model, model_input, low, bicubic), 0.0, 1.0)
        lost = (high.shape[0] - output.shape[0]) // 2  # per side, by valid convolutions
        if lost > border:
            raise ValueError(f"border={border} is not allowed: the model loses {lost} pixels "
                             "per side; use a border at least that large.")
        trim = border - lost
        output = output[trim:-trim, trim:-trim] if trim else output
        high, bicubic = high[border:-border, border:-border], bicubic[border:-border,
                                                                      border:-border]
        for key, image in (("", output), ("_bicubic", bicubic)):
            pair = (high[None, ..., None], image[None, ..., None])
            totals[f"psnr{key}"].append(float(psnr(*pair)[0]))
            totals[f"ssim{key}"].append(float(ssim(*pair)[0]))
        examples.append((name, high, bicubic, output))
    return {key: float(np.mean(values)) for key, values in totals.items()}, examples


def comparison_figure(examples, path, title, window=96):
    """Saves original / bicubic / model side by side for each example, on a central window."""
    plt = pyplot()
    fig, axes = plt.subplots(len(examples), 3, figsize=(7.5, 2.6 * len(examples)),
                             squeeze=False)
    for row, (name, high, bicubic, output) in enumerate(examples):
        top, left = (high.shape[0] - window) // 2, (high.shape[1] - window) // 2
        view = (slice(top, top + window), slice(left, left + window))
        for col, (label, image) in enumerate(
            (("original", high), ("bicubic", bicubic), (title, output))
        ):
            axes[row, col].imshow(image[view], cmap="gray", vmin=0, vmax=1)
            axes[row, col].set_title(f"{name}: {label}" if col == 0 else label, fontsize=8)
            axes[row, col].axis("off")
    return save_figure(fig, path)


@procedure()
def sr_procedure(run):
    """Recipe procedure: `fit` on patches, then PSNR/SSIM of the model and of bicubic
    interpolation on the whole held-out photographs, and the side-by-side figure
    (`comparison.png` in the run directory)."""
    scores = fit(run)
    data = run.recipe["data"]
    model_input, scale = data.get("model_input", "bicubic"), data.get("scale", 3)
    twin = whole_image_model(run.model, run.recipe["model"])
    metrics, examples = evaluate_super_resolution(twin, model_input, scale)
    scores.update({f"heldout_{key}": value for key, value in metrics.items()})
    comparison_figure(examples, run.run_dir / "comparison.png", run.recipe["model"]["name"])
    return scores
