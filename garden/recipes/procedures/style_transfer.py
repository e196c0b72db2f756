"""Feed-forward style transfer (Johnson et al. 2016): a transformation network trained to give
content images one photograph's style; content and style losses of its outputs against the
untrained network's, and the stylised held-out photographs.

Reference:
    Johnson et al. 2016, https://arxiv.org/abs/1603.08155

Offline, the loss network is garden's VGG-16 with random weights (ImageNet's need a download).
Gram matrices of random convolutional features still describe colour and local texture
statistics, but not the learned ones the paper's results depend on: the style learned here is
the style as a random VGG-16 sees it.
"""

import keras
import numpy as np
from keras import ops

from garden.data.photo_crops import resized_photograph
from garden.data.sr_patches import TEST_PHOTOGRAPHS
from garden.losses import PerceptualLoss, StyleLoss, total_variation
from garden.models import vgg16_loss_network
from garden.recipes.build import build_model, build_optimizer
from garden.recipes.procedures import procedure
from garden.recipes.runner import fit
from garden.utils.figures import pyplot, save_figure


def center_square(image, size):
    """The central `size` x `size` square of an image."""
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return image[top:top + size, left:left + size]


class StyleTransferLosses:
    """Johnson et al.'s objective on one loss network: `content_weight` x feature
    reconstruction (relu2_2) of the content image + `style_weight` x style reconstruction
    (relu1_2 .. relu4_3) of `style` + `tv_weight` x total variation."""

    def __init__(self, style, content_weight, style_weight, tv_weight):
        extractor = vgg16_loss_network()
        self.content = PerceptualLoss(extractor)
        self.style_loss = StyleLoss(extractor)
        self.style = ops.convert_to_tensor(style[None])
        self.weights = (content_weight, style_weight, tv_weight)

    def parts(self, content, output):
        """`(content loss, style loss)` of `output` (batch means)."""
        return self.content(content, output), self.style_loss(self.style, output)

    def __call__(self, content, output):
        content_loss, style_loss = self.parts(content, output)
        content_weight, style_weight, tv_weight = self.weights
        return (content_weight * content_loss + style_weight * style_loss
                + tv_weight * ops.mean(total_variation(output)))


def stylisation_figure(style, rows, path):
    """Saves the style image, then content / untrained net / trained net per row."""
    plt = pyplot()
    fig, axes = plt.subplots(len(rows) + 1, 3, figsize=(7.5, 2.6 * (len(rows) + 1)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(style)
    axes[0, 0].set_title("style", fontsize=8)
    for row, (name, images) in enumerate(rows, start=1):
        for col, (label, image) in enumerate(zip(("content", "untrained net", "stylised"),
                                                 images)):
            axes[row, col].imshow(np.clip(image, 0, 1))
            axes[row, col].set_title(f"{name}: {label}" if col == 0 else label, fontsize=8)
    return save_figure(fig, path)


@procedure(style="immunohistochemistry", style_size=128, content_weight=1.0,
           style_weight=1.0, tv_weight=0.0, evaluate_size=128)
def style_transfer_procedure(run):
    """Recipe procedure: train the transformation network on the content crops with the
    content, style and total-variation losses (the recipe's loss is replaced; its optimizer is
    kept), then on the held-out photographs (central `evaluate_size` squares) the content and
    style losses of the trained net's outputs, of the untrained net's (the same initial
    weights) and, for style, of the photograph itself; writes `stylised.png`. The saved model
    is compiled without a loss."""
    options = run.options
    if options["evaluate_size"] % 4:
        raise ValueError(f"evaluate_size={options['evaluate_size']!r} is not allowed: use a "
                         "multiple of 4 (the network's two stride-2 convolutions).")
    style = resized_photograph(options["style"], options["style_size"])
    losses = StyleTransferLosses(style, options["content_weight"], options["style_weight"],
                                 options["tv_weight"])
    run.model.compile(optimizer=build_optimizer(run.recipe["train"]["optimizer"]),
                      loss=losses)
    scores = fit(run)
    run.model.compile()  # model.keras keeps the network; the loss holds the style image
    whole = {"model": {**run.recipe["model"], "input_shape": [None, None, 3]}}
    trained = build_model(whole)
    trained.set_weights(run.model.get_weights())
    keras.utils.set_random_seed(run.seed)  # as the runner before building the model
    untrained = build_model(whole)
    totals, rows = {}, []
    for name in TEST_PHOTOGRAPHS:
        content = center_square(resized_photograph(name, options["evaluate_size"]),
                                options["evaluate_size"])[None]
        outputs = {"trained": np.asarray(trained(content)),
                   "untrained": np.asarray(untrained(content)), "photograph": content}
        for key, output in outputs.items():
            content_loss, style_loss = (float(v) for v in losses.parts(content, output))
            totals.setdefault(f"heldout_style_loss_{key}", []).append(style_loss)
            if key != "photograph":  # the photograph's own content loss is 0
                totals.setdefault(f"heldout_content_loss_{key}", []).append(content_loss)
        rows.append((name, (content[0], outputs["untrained"][0], outputs["trained"][0])))
    scores.update({key: float(np.mean(values)) for key, values in totals.items()})
    stylisation_figure(style, rows, run.run_dir / "stylised.png")
    return scores
