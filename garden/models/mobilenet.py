"""MobileNet v1: depthwise-separable convolutions for mobile vision.

Reference:
    Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
    Applications", 2017. https://arxiv.org/abs/1704.04861

The body is the paper's Table 1: a full 3x3 convolution, then 13 depthwise-separable blocks
(3x3 depthwise + 1x1 pointwise, each followed by batch norm and ReLU). Layer names, order and
shapes follow `keras.applications.MobileNet`, so its ImageNet weights load with `set_weights`;
like those weights, the activations are ReLU6 and stride-2 depthwise convolutions pad
bottom/right only.
"""

import keras
from keras import layers

from garden.models._classifier import check_classifier_args, finish, global_pool, image_input
from garden.models._registry import register_model

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
IMAGENET_SIZES = (128, 160, 192, 224)


def _separable_block(x, filters, stride, depth_multiplier, block_id):
    """3x3 depthwise + BN + ReLU6, then 1x1 pointwise + BN + ReLU6 (Figure 3 of the paper)."""
    if stride == 2:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(
        3,
        strides=stride,
        padding="same" if stride == 1 else "valid",
        depth_multiplier=depth_multiplier,
        use_bias=False,
        name=f"conv_dw_{block_id}",
    )(x)
    x = layers.BatchNormalization(name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


@register_model(
    paper="Howard et al., MobileNets",
    year=2017,
    arxiv="https://arxiv.org/abs/1704.04861",
    input_shape=(224, 224, 3),
    small_kwargs={"alpha": 0.25, "input_shape": (32, 32, 3), "classes": 5},
)
def mobilenet_v1(
    alpha=1.0,
    depth_multiplier=1,
    dropout=1e-3,
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="mobilenet_v1",
):
    """MobileNet v1 (Howard et al. 2017) with width multiplier `alpha`.

    Args:
        alpha: float. Width multiplier: every layer has `alpha` times the paper's channels.
            Defaults to 1.0 (4,253,864 parameters at 224x224 with 1000 classes).
        depth_multiplier: int. Channel multiplier of the depthwise convolutions. Defaults to 1.
        dropout: float. Dropout rate before the classifier. Defaults to 0.001.
        include_top: bool. Whether to add the 1x1-convolution classifier. Defaults to True.
        weights: None, `"imagenet"` (downloaded by keras.applications) or a weights file path.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: (height, width, channels), at least 32x32. Defaults to (224, 224, 3).
            The resolution multiplier of the paper is simply a smaller input.
        pooling: None, "avg" or "max": pooling of the features when `include_top=False`.
        classes: int. Number of classes. Defaults to 1000.
        classifier_activation: activation of the output layer; None returns logits.
        name: str. Model name.

    Example:
    >>> model = mobilenet_v1(alpha=0.5, input_shape=(96, 96, 3), classes=10)
    >>> model.output_shape
    (None, 10)
    """
    check_classifier_args(
        include_top=include_top, weights=weights, pooling=pooling, classes=classes, imagenet=True
    )
    if not alpha > 0:
        raise ValueError(f"alpha={alpha!r} is not allowed: use a positive width multiplier.")
    if not isinstance(depth_multiplier, int) or depth_multiplier < 1:
        raise ValueError(f"depth_multiplier={depth_multiplier!r} is not allowed: use an int >= 1.")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout={dropout!r} is not allowed: use a rate in [0, 1).")
    if weights == "imagenet" and (alpha not in IMAGENET_ALPHAS or depth_multiplier != 1):
        raise ValueError(
            f"alpha={alpha}, depth_multiplier={depth_multiplier} have no ImageNet weights: "
            f"use alpha in {IMAGENET_ALPHAS} with depth_multiplier=1."
        )

    img, inputs = image_input(input_shape, input_tensor, default_shape=(224, 224, 3), min_size=32)
    x = layers.Conv2D(
        int(STEM_FILTERS * alpha), 3, strides=2, padding="same", use_bias=False, name="conv1"
    )(img)
    x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, stride) in enumerate(BLOCKS, start=1):
        x = _separable_block(x, int(filters * alpha), stride, depth_multiplier, block_id)

    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, 1, padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    else:
        x = global_pool(x, pooling)

    def imagenet_reference():
        size = img.shape[1] if img.shape[1] in IMAGENET_SIZES else 224
        return keras.applications.MobileNet(
            input_shape=(size, size, 3),
            alpha=alpha,
            include_top=include_top,
            weights="imagenet",
        )

    return finish(inputs, x, name=name, weights=weights, imagenet_reference=imagenet_reference)
