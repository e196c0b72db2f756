"""AlexNet: the convolutional network that won ILSVRC 2012.

Reference:
    Krizhevsky, Sutskever and Hinton, "ImageNet Classification with Deep Convolutional Neural
    Networks", NeurIPS 2012.
    https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks

Five convolutional layers and three fully connected ones (section 3.5, Figure 2): ReLU after
every layer, local response normalization (`garden.layers.LocalResponseNormalization`, k=2, n=5,
alpha=1e-4, beta=0.75) after the first two convolutions, overlapping 3x3 max pooling of stride 2
after both normalizations and after the fifth convolution (section 3.4), and dropout 0.5 on the
outputs of the two hidden fully connected layers (section 4.2).

Two variants, selected by `groups`:
- `groups=1`, single stream, at 224x224: torchvision's widths 64-192-384-256-256, the first
  convolution padded by 2 (61,100,840 parameters with 1000 classes).
- `groups=2`, the paper's network split over two GPUs, at 227x227: widths 96-256-384-384-256,
  where the second, fourth and fifth convolutions see only their own GPU's half of the channels
  (grouped convolutions) and the third sees all of them (60,965,224 parameters).
The convolutions are He-uniform initialised (He et al. 2015), the fully connected layers Glorot
(Keras' default), rather than the paper's N(0, 0.01) with some biases at 1.
"""

from keras import layers

from garden.layers import LocalResponseNormalization
from garden.models._classifier import check_classifier_args, finish, global_pool, image_input
from garden.models._registry import register_model

KERNEL_SIZES = (11, 5, 3, 3, 3)
VARIANTS = {
    1: dict(
        filters=(64, 192, 384, 256, 256), groups=(1, 1, 1, 1, 1), conv1_padding=2,
        input_shape=(224, 224, 3), min_size=63,
    ),
    2: dict(
        filters=(96, 256, 384, 384, 256), groups=(1, 2, 1, 2, 2), conv1_padding=0,
        input_shape=(227, 227, 3), min_size=67,
    ),
}
FC_UNITS = 4096
DROPOUT = 0.5


@register_model(
    paper="Krizhevsky et al., ImageNet Classification with Deep CNNs",
    year=2012,
    arxiv="https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks",
    input_shape=(224, 224, 3),
    small_kwargs={"input_shape": (63, 63, 3), "include_top": False, "pooling": "avg"},
)
def alexnet(
    groups=1,
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="alexnet",
):
    """AlexNet (Krizhevsky et al. 2012), single-stream or the paper's two-group network.

    Args:
        groups: int. 1 for the single-stream network (torchvision's widths, 224x224), 2 for the
            paper's two-GPU network with grouped convolutions (227x227). Defaults to 1.
        include_top: bool. Whether to add the three fully connected layers. Defaults to True.
        weights: None or the path to a weights file.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: (height, width, channels). Defaults to (224, 224, 3) for `groups=1` and
            (227, 227, 3) for `groups=2`; at least 63x63 and 67x67 respectively, so that the
            last pooling has a 3x3 map. With `include_top`, the first fully connected layer's
            size depends on it.
        pooling: None, "avg" or "max": pooling of the features when `include_top=False`.
        classes: int. Number of classes. Defaults to 1000.
        classifier_activation: activation of the output layer; None returns logits.
        name: str. Model name.

    Example:
    >>> model = alexnet(groups=2, input_shape=(67, 67, 3), classes=10)
    >>> model.output_shape
    (None, 10)
    """
    if groups not in VARIANTS:
        raise ValueError(
            f"groups={groups!r} is not allowed: use 1 (single stream) or 2 (the paper's two GPUs)."
        )
    check_classifier_args(
        include_top=include_top, weights=weights, pooling=pooling, classes=classes
    )
    spec = VARIANTS[groups]
    img, inputs = image_input(
        input_shape, input_tensor, default_shape=spec["input_shape"], min_size=spec["min_size"]
    )

    x = img
    if spec["conv1_padding"]:
        x = layers.ZeroPadding2D(spec["conv1_padding"], name="conv1_pad")(x)
    for i, (filters, kernel, conv_groups) in enumerate(
        zip(spec["filters"], KERNEL_SIZES, spec["groups"]), 1
    ):
        x = layers.Conv2D(
            filters,
            kernel,
            strides=4 if i == 1 else 1,
            padding="valid" if i == 1 else "same",
            groups=conv_groups,
            activation="relu",
            kernel_initializer="he_uniform",
            name=f"conv{i}",
        )(x)
        if i in (1, 2):
            x = LocalResponseNormalization(name=f"lrn{i}")(x)
        if i in (1, 2, 5):
            x = layers.MaxPooling2D(3, strides=2, name=f"pool{i}")(x)

    if include_top:
        x = layers.Flatten(name="flatten")(x)
        for fc in ("fc6", "fc7"):
            x = layers.Dense(FC_UNITS, activation="relu", name=fc)(x)
            x = layers.Dropout(DROPOUT, name=f"{fc}_dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pool(x, pooling)
    return finish(inputs, x, name=name, weights=weights)
