"""VGG: very deep networks of 3x3 convolutions.

Reference:
    Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
    ICLR 2015. https://arxiv.org/abs/1409.1556

Configurations A, B, D and E of the paper's Table 1 (11, 13, 16 and 19 weight layers): five
blocks of 3x3 convolutions (stride 1, "same" padding, ReLU), each followed by 2x2 max pooling,
then fully connected layers of 4096, 4096 and `classes` units with dropout 0.5 after the first two
(section 3.1). The `_bn` variants add batch normalization after every convolution, as
torchvision's do (their convolutions keep their biases). Layer names, order and shapes follow
`keras.applications.VGG16` / `VGG19`, whose ImageNet weights load into `vgg16` / `vgg19` with
`set_weights` (keras.applications has no dropout layers; dropout has no weights). The
convolutions are He-uniform initialised (He et al. 2015), which keeps the activations' scale
through the ReLUs: with Keras' Glorot default (or the paper's N(0, 0.01)) the signal shrinks
layer by layer and training starts with a long plateau.

Example:
>>> model = vgg11(input_shape=(32, 32, 3), classes=10)
>>> model.output_shape
(None, 10)
"""

from keras import layers

from garden.models._classifier import classifier, dense_top, register_classifier
from garden.models._registry import figure

BASE = dict(filters=(64, 128, 256, 512, 512), fc_units=4096, batch_norm=False)
# Convolutions in each of the five blocks, per configuration of Table 1.
VGGS = {
    "vgg11": dict(BASE, convs=(1, 1, 2, 2, 2)),  # A
    "vgg13": dict(BASE, convs=(2, 2, 2, 2, 2)),  # B
    "vgg16": dict(BASE, convs=(2, 2, 3, 3, 3)),  # D
    "vgg19": dict(BASE, convs=(2, 2, 4, 4, 4)),  # E
}
VGGS.update({f"{variant}_bn": dict(spec, batch_norm=True) for variant, spec in list(VGGS.items())})
DROPOUT = 0.5
# Every configuration's blocks, with few filters and a narrow top.
TINY = dict(filters=(8, 16, 16, 32, 32), fc_units=32)

PAPER = dict(
    paper="Simonyan & Zisserman, Very Deep Convolutional Networks",
    year=2014,
    arxiv="https://arxiv.org/abs/1409.1556",
    input_shape=(224, 224, 3),
    small_kwargs={"input_shape": (32, 32, 3), "classes": 5},
    tiny=TINY,
    feature_layers=("block*_conv*", "block*_pool"),
)


def _vgg(variant, *, spec=None, **kwargs):
    """Builds the VGG `variant` of `VGGS`, whose entries `spec` replaces (tiny test instances).

    The input is at least 32x32; with the top, its size sets the first fully connected layer's.
    """
    spec = {**VGGS[variant], **(spec or {})}

    def features(x):
        for block, (filters, convs) in enumerate(zip(spec["filters"], spec["convs"]), 1):
            for conv in range(1, convs + 1):
                conv_name = f"block{block}_conv{conv}"
                x = layers.Conv2D(
                    filters, 3, padding="same", activation=None if spec["batch_norm"] else "relu",
                    kernel_initializer="he_uniform", name=conv_name,
                )(x)
                if spec["batch_norm"]:
                    x = layers.BatchNormalization(name=f"{conv_name}_bn")(x)
                    x = layers.ReLU(name=f"{conv_name}_relu")(x)
            x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
        return x

    def top(x, classes, classifier_activation):
        return dense_top(x, classes, classifier_activation, hidden=("fc1", "fc2"),
                         units=spec["fc_units"], dropout=DROPOUT)

    return classifier(features, top, fixed_size_top=True, default_shape=(224, 224, 3),
                      min_size=32, **kwargs)


@register_classifier(_vgg, **PAPER, figures=[
    figure("parameters", 132_863_336, "Table 2 (133M); torchvision's vgg11")])
def vgg11(**kwargs):
    """VGG-11, configuration A (Simonyan & Zisserman 2014)."""
    return _vgg("vgg11", **kwargs)


@register_classifier(_vgg, **PAPER, figures=[
    figure("parameters", 133_047_848, "Table 2 (133M); torchvision's vgg13")])
def vgg13(**kwargs):
    """VGG-13, configuration B (Simonyan & Zisserman 2014)."""
    return _vgg("vgg13", **kwargs)


@register_classifier(_vgg, keras_application="VGG16", **PAPER, figures=[
    figure("parameters", 138_357_544, "Table 2 (138M); keras.applications.VGG16")])
def vgg16(**kwargs):
    """VGG-16, configuration D (Simonyan & Zisserman 2014); loads
    keras.applications.VGG16's weights."""
    return _vgg("vgg16", **kwargs)


@register_classifier(_vgg, keras_application="VGG19", **PAPER, figures=[
    figure("parameters", 143_667_240, "Table 2 (144M); keras.applications.VGG19")])
def vgg19(**kwargs):
    """VGG-19, configuration E (Simonyan & Zisserman 2014); loads
    keras.applications.VGG19's weights."""
    return _vgg("vgg19", **kwargs)


@register_classifier(_vgg, **PAPER, figures=[
    figure("trainable parameters", 132_868_840, "torchvision's vgg11_bn")])
def vgg11_bn(**kwargs):
    """VGG-11 (configuration A) with batch normalization after every convolution."""
    return _vgg("vgg11_bn", **kwargs)


@register_classifier(_vgg, **PAPER, figures=[
    figure("trainable parameters", 133_053_736, "torchvision's vgg13_bn")])
def vgg13_bn(**kwargs):
    """VGG-13 (configuration B) with batch normalization after every convolution."""
    return _vgg("vgg13_bn", **kwargs)


@register_classifier(_vgg, **PAPER, figures=[
    figure("trainable parameters", 138_365_992, "torchvision's vgg16_bn")])
def vgg16_bn(**kwargs):
    """VGG-16 (configuration D) with batch normalization after every convolution."""
    return _vgg("vgg16_bn", **kwargs)


@register_classifier(_vgg, **PAPER, figures=[
    figure("trainable parameters", 143_678_248, "torchvision's vgg19_bn")])
def vgg19_bn(**kwargs):
    """VGG-19 (configuration E) with batch normalization after every convolution."""
    return _vgg("vgg19_bn", **kwargs)
