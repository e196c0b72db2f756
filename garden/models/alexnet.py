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
from garden.models._classifier import classifier, dense_top, register_classifier
from garden.models._registry import figure
from garden.utils.checks import check_choice

KERNEL_SIZES = (11, 5, 3, 3, 3)
VARIANTS = {
    1: dict(
        filters=(64, 192, 384, 256, 256), groups=(1, 1, 1, 1, 1), conv1_padding=2,
        input_shape=(224, 224, 3), min_size=63, fc_units=4096,
    ),
    2: dict(
        filters=(96, 256, 384, 384, 256), groups=(1, 2, 1, 2, 2), conv1_padding=0,
        input_shape=(227, 227, 3), min_size=67, fc_units=4096,
    ),
}
DROPOUT = 0.5
# Every layer, few filters (even, for the two groups) and a narrow top.
TINY = dict(filters=(8, 16, 16, 16, 16), fc_units=32)


def _alexnet(*, groups=1, spec=None, **kwargs):
    """Builds AlexNet; `spec` replaces entries of `VARIANTS[groups]` (tiny test instances).

    Args:
        groups: int. 1 for the single-stream network (torchvision's widths, 224x224), 2 for the
            paper's two-GPU network with grouped convolutions (227x227, the default input for
            it). The input is at least 63x63 and 67x67 respectively, so that the last pooling
            has a 3x3 map; with the top, its size sets the first fully connected layer's.
            Defaults to 1.
    """
    check_choice("groups", groups, tuple(VARIANTS))
    spec = {**VARIANTS[groups], **(spec or {})}

    def features(x):
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
        return x

    def top(x, classes, classifier_activation):
        return dense_top(x, classes, classifier_activation, hidden=("fc6", "fc7"),
                         units=spec["fc_units"], dropout=DROPOUT)

    return classifier(features, top, fixed_size_top=True, default_shape=spec["input_shape"],
                      min_size=spec["min_size"], **kwargs)


@register_classifier(
    _alexnet,
    paper="Krizhevsky et al., ImageNet Classification with Deep CNNs",
    year=2012,
    arxiv="https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks",
    input_shape=(224, 224, 3),
    small_kwargs={"input_shape": (63, 63, 3), "classes": 5},
    tiny=TINY,
    feature_layers=("conv[0-9]", "lrn*", "pool*"),
    figures=[figure("parameters", 61_100_840, "torchvision's single-stream alexnet"),
             figure("parameters", 60_965_224, "Section 3.5's two-GPU network (60M)", groups=2)],
)
def alexnet(**kwargs):
    """AlexNet (Krizhevsky et al. 2012), single-stream or the paper's two-group network.

    Example:
    >>> model = alexnet(groups=2, input_shape=(67, 67, 3), classes=10)
    >>> model.output_shape
    (None, 10)
    """
    return _alexnet(**kwargs)
