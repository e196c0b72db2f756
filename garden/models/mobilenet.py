"""MobileNet v1: depthwise-separable convolutions for mobile vision.

Reference:
    Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
    Applications", 2017. https://arxiv.org/abs/1704.04861

The body is the paper's Table 1: a full 3x3 convolution, then 13 depthwise-separable blocks
(3x3 depthwise + 1x1 pointwise, each followed by batch norm and ReLU). Layer names, order and
shapes follow `keras.applications.MobileNet`, so its ImageNet weights load with `set_weights`;
like those weights, the activations are ReLU6 and stride-2 depthwise convolutions pad
bottom/right only. Every layer's configuration equals keras.applications' (the 1x1 pointwise
convolutions included, padding "same"), so both build the same graph and train at one speed
(`benchmarks.applications`).

`variant="timm"` is the same network as timm's `mobilenetv1_100` (Table 1's layers, ReLU6 and
a linear classifier on the pooled features, no residual connections) trained in PyTorch:
stride-2 convolutions (the first one included, after a `conv1_pad`) pad one pixel on every
side and batch normalization's epsilon is PyTorch's 1e-5 instead of Keras' 1e-3, so timm's
`mobilenetv1_100.ra4_e3600_r224_in1k` checkpoint (75.39% top-1 at 224, inputs scaled to
[-1, 1]) converts exactly (`garden.weights.mobilenet`).
"""

from keras import layers

from garden.models._classifier import classifier, register_classifier
from garden.models._registry import figure
from garden.utils.checks import check_choice, check_int, check_number, check_rate

# (pointwise filters, stride) of the 13 depthwise-separable blocks, Table 1 of the paper.
BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)
STEM_FILTERS = 32
IMAGENET_ALPHAS = (0.25, 0.5, 0.75, 1.0)
# How stride-2 convolutions pad (top/left, bottom/right) and batch normalization's epsilon:
# keras.applications' network, and the same trained in PyTorch (timm).
VARIANTS = {"keras": dict(padding=(0, 1), epsilon=1e-3),
            "timm": dict(padding=(1, 1), epsilon=1e-5)}
# The stride-1 blocks once each between the strides, few filters.
TINY = dict(stem_filters=8, blocks=((8, 1), (16, 2), (16, 1), (32, 2), (32, 2), (64, 2), (64, 1)))


def _separable_block(x, filters, stride, depth_multiplier, block_id, layout):
    """3x3 depthwise + BN + ReLU6, then 1x1 pointwise + BN + ReLU6 (Figure 3 of the paper)."""
    if stride == 2:
        x = layers.ZeroPadding2D((layout["padding"],) * 2, name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(
        3,
        strides=stride,
        padding="same" if stride == 1 else "valid",
        depth_multiplier=depth_multiplier,
        use_bias=False,
        name=f"conv_dw_{block_id}",
    )(x)
    x = layers.BatchNormalization(epsilon=layout["epsilon"], name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(epsilon=layout["epsilon"], name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def _mobilenet(*, alpha=1.0, depth_multiplier=1, dropout=1e-3, variant="keras", spec=None,
               keras_application=None, **kwargs):
    """Builds MobileNet v1; `spec` replaces `stem_filters` and `blocks` (tiny test instances).

    Args:
        alpha: float. Width multiplier: every layer has `alpha` times the paper's channels.
            Defaults to 1.0 (4,253,864 parameters at 224x224 with 1000 classes). The
            resolution multiplier of the paper is simply a smaller `input_shape`.
        depth_multiplier: int. Channel multiplier of the depthwise convolutions. Defaults to 1.
        dropout: float. Dropout rate before the classifier. Defaults to 0.001.
        variant: "keras" (keras.applications' network: stride-2 convolutions pad bottom and
            right, batch-norm epsilon 1e-3; `weights="imagenet"` loads its weights) or "timm"
            (PyTorch's: one pixel of padding on every side, epsilon 1e-5; timm's
            `mobilenetv1_100` checkpoint). Defaults to "keras".
    """
    alpha = check_number("alpha", alpha, minimum=0, inclusive=False)
    check_int("depth_multiplier", depth_multiplier)
    check_rate("dropout", dropout)
    if kwargs.get("weights") == "imagenet" and (
        alpha not in IMAGENET_ALPHAS or depth_multiplier != 1
    ):
        raise ValueError(
            f"alpha={alpha}, depth_multiplier={depth_multiplier} have no ImageNet weights: "
            f"use alpha in {IMAGENET_ALPHAS} with depth_multiplier=1."
        )
    check_choice("variant", variant, tuple(VARIANTS))
    if kwargs.get("weights") == "imagenet" and variant != "keras":
        raise ValueError(
            f"variant={variant!r} is not allowed with weights='imagenet' (keras.applications' "
            "weights): use variant='keras'."
        )
    spec = {"stem_filters": STEM_FILTERS, "blocks": BLOCKS, **(spec or {})}
    layout = VARIANTS[variant]

    def features(x):
        # keras.applications' first convolution pads as "same" does (bottom and right).
        if variant != "keras":
            x = layers.ZeroPadding2D((layout["padding"],) * 2, name="conv1_pad")(x)
        x = layers.Conv2D(int(spec["stem_filters"] * alpha), 3, strides=2,
                          padding="same" if variant == "keras" else "valid", use_bias=False,
                          name="conv1")(x)
        x = layers.BatchNormalization(epsilon=layout["epsilon"], name="conv1_bn")(x)
        x = layers.ReLU(6.0, name="conv1_relu")(x)
        for block_id, (filters, stride) in enumerate(spec["blocks"], start=1):
            x = _separable_block(x, int(filters * alpha), stride, depth_multiplier, block_id,
                                 layout)
        return x

    def top(x, classes, classifier_activation):
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, 1, padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        return layers.Activation(classifier_activation, name="predictions")(x)

    return classifier(
        features, top, default_shape=(224, 224, 3), min_size=32,
        keras_application=keras_application, application_kwargs={"alpha": alpha}, **kwargs,
    )


@register_classifier(
    _mobilenet,
    keras_application="MobileNet",
    paper="Howard et al., MobileNets",
    year=2017,
    arxiv="https://arxiv.org/abs/1704.04861",
    input_shape=(224, 224, 3),
    small_kwargs={"alpha": 0.25, "input_shape": (32, 32, 3), "classes": 5},
    tiny=TINY,
    feature_layers=("conv1_relu", "conv_pw_*_relu"),
    # Table 6 rounds them to 4.2M, 2.6M, 1.3M and 0.5M; keras.applications has these exactly.
    figures=[figure("parameters", count, "Table 6; keras.applications.MobileNet", alpha=alpha)
             for alpha, count in ((1.0, 4_253_864), (0.75, 2_601_976), (0.5, 1_342_536),
                                  (0.25, 475_544))],
)
def mobilenet_v1(**kwargs):
    """MobileNet v1 (Howard et al. 2017) with width multiplier `alpha`.

    Example:
    >>> model = mobilenet_v1(alpha=0.5, input_shape=(96, 96, 3), classes=10)
    >>> model.output_shape
    (None, 10)
    """
    return _mobilenet(**kwargs)
