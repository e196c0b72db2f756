"""CapsNet: capsules with dynamic routing, trained with a margin loss and a reconstruction loss.

Reference:
    Sabour, Frosst and Hinton, "Dynamic Routing Between Capsules", NeurIPS 2017.
    https://arxiv.org/abs/1710.09829

The MNIST network of Fig. 1 and Fig. 2: conv1 (256 9x9 kernels, ReLU) gives 20x20x256 from a
28x28 digit; PrimaryCaps (32 channels of 8-D capsules, 9x9, stride 2) gives 6x6x32 = 1,152
capsules; DigitCaps gives 10 16-D capsules through 3 iterations of routing; the decoder (512,
1024, then one sigmoid unit per pixel) reconstructs the digit from the correct capsule alone.
6,804,224 parameters without the decoder and 8,215,568 with it.
"""

import keras
from keras import layers, ops

from garden.layers import CapsuleLayer, Length, Mask, PrimaryCapsules
from garden.models._classifier import image_input
from garden.models._registry import figure, register_model
from garden.utils.checks import check_bool, check_int, check_ints, check_number
from garden.utils.serialization import serializable

RECONSTRUCTION_WEIGHT = 0.0005


@serializable
class CapsNet(keras.Model):
    """A functional CapsNet that adds the scaled reconstruction loss to its compiled loss.

    Outputs `[lengths, capsules, reconstruction]` (without a decoder `[lengths, capsules]`):
    the capsule lengths `(batch, classes)`, which are the class predictions, the digit capsules
    `(batch, classes, dim)`, and the image decoded from the longest capsule. The compiled loss
    and metrics apply to the lengths; compile with `garden.losses.MarginLoss()` for the paper's
    loss. Training masks with the true label instead of the longest capsule (Section 4.1), so
    `compute_loss` decodes the labelled capsule again and adds

        reconstruction_weight * mean_batch(sum_pixels (reconstruction - x)^2)

    `model.fit(images, int_labels)` therefore trains the paper's objective with any optimizer
    and callbacks.

    Args:
        *args: `inputs` and `outputs`, as for a functional `keras.Model`.
        reconstruction_weight: float. Scale of the reconstruction loss. Defaults to 0.0005.
        **kwargs: other functional model arguments (`name`, `trainable`).

    Example:
    >>> from garden.losses import MarginLoss
    >>> model = capsnet(input_shape=(20, 20, 1), conv_filters=16, primary_capsules=4)
    >>> model.compile(optimizer="adam", loss=MarginLoss(), metrics=["accuracy"])
    """

    def __init__(self, *args, reconstruction_weight=RECONSTRUCTION_WEIGHT, **kwargs):
        super().__init__(*args, **kwargs)
        self.reconstruction_weight = reconstruction_weight

    @property
    def has_decoder(self):
        return len(self.outputs) == 3

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred[0], sample_weight, training)
        if not self.has_decoder:
            return loss
        masked = self.get_layer("mask")(y_pred[1], labels=y)
        reconstruction = self.get_layer("decoder")(masked, training=training)
        squared_error = ops.square(reconstruction - ops.cast(x, reconstruction.dtype))
        per_example = ops.sum(
            ops.reshape(squared_error, (ops.shape(squared_error)[0], -1)), axis=-1
        )
        if sample_weight is not None:
            per_example = per_example * ops.cast(sample_weight, per_example.dtype)
        return loss + self.reconstruction_weight * ops.mean(per_example)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, y, y_pred[0], sample_weight)

    def get_config(self):
        return {**super().get_config(), "reconstruction_weight": self.reconstruction_weight}


def capsule_decoder(output_shape, units=(512, 1024), name="decoder"):
    """The reconstruction network of Fig. 2: dense ReLU layers of `units`, then one sigmoid unit
    per value of `output_shape`, reshaped to it."""
    size = 1
    for dim in output_shape:
        size *= dim
    stack = [layers.Dense(width, activation="relu", name=f"fc{i}")
             for i, width in enumerate(units, start=1)]
    stack += [
        layers.Dense(size, activation="sigmoid", name=f"fc{len(units) + 1}"),
        layers.Reshape(tuple(output_shape), name="image"),
    ]
    return keras.Sequential(stack, name=name)


@register_model(
    paper="Sabour et al., Dynamic Routing Between Capsules",
    year=2017,
    arxiv="https://arxiv.org/abs/1710.09829",
    input_shape=(28, 28, 1),
    small_kwargs={
        "input_shape": (20, 20, 1),
        "classes": 3,
        "conv_filters": 16,
        "primary_capsules": 4,
        "primary_dim": 4,
        "capsule_dim": 6,
        "decoder_units": (16, 32),
    },
    figures=[figure("parameters", 8_215_568, "Section 5 (8.2M)"),
             figure("parameters", 6_804_224, "Section 5 (6.8M without the reconstruction network)", decoder=False)],
)
def capsnet(
    routings=3,
    decoder=True,
    conv_filters=256,
    primary_capsules=32,
    primary_dim=8,
    capsule_dim=16,
    decoder_units=(512, 1024),
    reconstruction_weight=RECONSTRUCTION_WEIGHT,
    input_tensor=None,
    input_shape=None,
    classes=10,
    name="capsnet",
):
    """CapsNet (Sabour et al. 2017) with routing-by-agreement and the reconstruction decoder.

    Returns a `CapsNet` model: compiled with `garden.losses.MarginLoss()` (m+ 0.9, m- 0.1,
    lambda 0.5) it trains with the paper's margin loss plus `reconstruction_weight` times the
    decoder's sum of squared errors.

    Args:
        routings: int. Iterations of routing-by-agreement. Defaults to 3.
        decoder: bool. Whether to add the reconstruction decoder (and its loss). Defaults to
            True.
        conv_filters: int. Channels of conv1. Defaults to 256.
        primary_capsules: int. Capsule channels of PrimaryCaps. Defaults to 32.
        primary_dim: int. Dimensions of a primary capsule. Defaults to 8.
        capsule_dim: int. Dimensions of a digit capsule. Defaults to 16.
        decoder_units: sequence of int. Hidden layers of the decoder. Defaults to (512, 1024).
        reconstruction_weight: float. Scale of the reconstruction loss. Defaults to 0.0005.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: (height, width, channels), at least 17x17. Defaults to (28, 28, 1).
        classes: int. Number of classes (digit capsules). Defaults to 10.
        name: str. Model name.

    Example:
    >>> model = capsnet()
    >>> model.count_params()
    8215568
    >>> [tuple(o.shape) for o in model.outputs]
    [(None, 10), (None, 10, 16), (None, 28, 28, 1)]
    """
    for arg, value in (("routings", routings), ("conv_filters", conv_filters),
                       ("primary_capsules", primary_capsules), ("primary_dim", primary_dim),
                       ("capsule_dim", capsule_dim), ("classes", classes)):
        check_int(arg, value)
    check_bool("decoder", decoder)
    check_number("reconstruction_weight", reconstruction_weight, minimum=0)
    decoder_units = check_ints("decoder_units", decoder_units)
    img, inputs = image_input(input_shape, input_tensor, default_shape=(28, 28, 1), min_size=17)
    # He initialisation for the ReLU layer: with Keras's default Glorot (fan-out 256 x 81) the
    # conv1 outputs are so small that after two squashes every digit capsule is ~1e-7 long and
    # the margin loss cannot move it.
    x = layers.Conv2D(conv_filters, 9, activation="relu", kernel_initializer="he_normal",
                      name="conv1")(img)
    x = PrimaryCapsules(primary_capsules, primary_dim, name="primary_caps")(x)
    capsules = CapsuleLayer(classes, capsule_dim, routings=routings, name="digit_caps")(x)
    outputs = [Length(name="lengths")(capsules), capsules]
    if decoder:
        masked = Mask(name="mask")(capsules)
        outputs.append(capsule_decoder(img.shape[1:], decoder_units)(masked))
    return CapsNet(inputs, outputs, name=name, reconstruction_weight=reconstruction_weight)
