"""SqueezeNet: AlexNet-level accuracy with 50x fewer parameters.

Reference:
    Iandola, Han, Moskewicz, Ashraf, Dally and Keutzer, "SqueezeNet: AlexNet-level accuracy with
    50x fewer parameters and <0.5MB model size", 2016. https://arxiv.org/abs/1602.07360

Built from fire modules (section 3.2): a 1x1 "squeeze" convolution feeding a 1x1 and a 3x3
"expand" convolution whose outputs are concatenated, every convolution with a bias and ReLU.
`squeezenet1_0` is Table 1 of the paper: a 7x7/2 convolution of 96 filters, fire2..fire9 with
3x3/2 max pooling after conv1, fire4 and fire8, dropout 0.5, a 1x1 convolution with ReLU to the
classes and global average pooling. `squeezenet1_1` is the authors' v1.1 (their repository's
release notes): a 3x3/2 convolution of 64 filters and pooling after conv1, fire3 and fire5, for the
same accuracy with about 2.4x less computation. Pooling is unpadded, so at the paper's 227x227
input (the default) the maps are Table 1's 111, 55, 27 and 13 pixels wide.

`bypass` adds the paper's residual connections (section 6, Figure 2): "simple" adds each of
fire3, fire5, fire7 and fire9's input to its output (their channel counts match); "complex" also
bypasses fire2, fire4, fire6 and fire8 through a 1x1 convolution with bias.

Initialisation follows the authors' Caffe model for conv10 (Gaussian, standard deviation 0.01)
and torchvision for the other convolutions (He uniform): with Keras' default (Glorot), the signal
shrinks about 10^4-fold through the eight fire modules and the network does not train.

Example:
>>> model = squeezenet1_1(bypass="simple", input_shape=(32, 32, 3), classes=10)
>>> model.output_shape
(None, 10)
"""

import keras
from keras import layers

from garden.models._classifier import classifier, register_classifier
from garden.models._registry import figure
from garden.utils.checks import check_choice

# (squeeze filters, expand filters of each of the 1x1 and 3x3 branches) of fire2..fire9.
FIRES = {2: (16, 64), 3: (16, 64), 4: (32, 128), 5: (32, 128),
         6: (48, 192), 7: (48, 192), 8: (64, 256), 9: (64, 256)}
# conv1 (filters, kernel size), the fire modules followed by 3x3/2 max pooling (as conv1 always
# is), and the smallest input.
VARIANTS = {
    "squeezenet1_0": dict(conv1=(96, 7), fires=FIRES, pool_after=(4, 8), min_size=35),
    "squeezenet1_1": dict(conv1=(64, 3), fires=FIRES, pool_after=(3, 5), min_size=31),
}
BYPASSES = (None, "simple", "complex")
CONV10_STDDEV = 0.01
DROPOUT = 0.5
# All eight fire modules, with a quarter of their filters (so the bypasses fall where they do).
TINY = dict(fires={i: (s // 4, e // 4) for i, (s, e) in FIRES.items()})

PAPER = dict(
    paper="Iandola et al., SqueezeNet",
    year=2016,
    arxiv="https://arxiv.org/abs/1602.07360",
    input_shape=(227, 227, 3),
    tiny=TINY,
    feature_layers=("conv1", "fire*_concat", "fire*_bypass"),
)


def _conv(filters, kernel, name, **kwargs):
    """Convolution with bias and He-uniform initialisation."""
    return layers.Conv2D(filters, kernel, kernel_initializer="he_uniform", name=name, **kwargs)


def _fire(x, squeeze, expand, name):
    """Fire module (section 3.2)."""
    x = _conv(squeeze, 1, f"{name}_squeeze1x1", activation="relu")(x)
    left = _conv(expand, 1, f"{name}_expand1x1", activation="relu")(x)
    right = _conv(expand, 3, f"{name}_expand3x3", padding="same", activation="relu")(x)
    return layers.Concatenate(name=f"{name}_concat")([left, right])


def _squeezenet(variant, *, bypass=None, spec=None, **kwargs):
    """Builds the SqueezeNet `variant` of `VARIANTS`, whose entries `spec` replaces (tiny test
    instances). The input is at least 35x35 for v1.0 and 31x31 for v1.1, so that the last
    pooling has a 3x3 map.

    Args:
        bypass: None, "simple" or "complex". Defaults to None (the vanilla network).
    """
    check_choice("bypass", bypass, BYPASSES)
    spec = {**VARIANTS[variant], **(spec or {})}

    def features(x):
        filters, kernel = spec["conv1"]
        x = _conv(filters, kernel, "conv1", strides=2, activation="relu")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
        for index, (squeeze, expand) in spec["fires"].items():
            fire_name = f"fire{index}"
            fire = _fire(x, squeeze, expand, fire_name)
            if bypass and x.shape[-1] == fire.shape[-1]:
                fire = layers.Add(name=f"{fire_name}_bypass")([x, fire])
            elif bypass == "complex":
                shortcut = _conv(fire.shape[-1], 1, f"{fire_name}_bypass_conv")(x)
                fire = layers.Add(name=f"{fire_name}_bypass")([shortcut, fire])
            x = fire
            if index in spec["pool_after"]:
                x = layers.MaxPooling2D(3, strides=2, name=f"pool{index}")(x)
        return x

    def top(x, classes, classifier_activation):
        x = layers.Dropout(DROPOUT, name="dropout")(x)
        x = layers.Conv2D(
            classes, 1, activation="relu", name="conv10",
            kernel_initializer=keras.initializers.RandomNormal(stddev=CONV10_STDDEV),
        )(x)
        x = layers.GlobalAveragePooling2D(name="pool10")(x)
        return layers.Activation(classifier_activation, name="predictions")(x)

    return classifier(features, top, default_shape=(227, 227, 3), min_size=spec["min_size"],
                      **kwargs)


@register_classifier(_squeezenet, **PAPER,
                     small_kwargs={"input_shape": (35, 35, 3), "classes": 5},
                     figures=[figure("parameters", 1_248_424, "Table 1 (1,248,424)")])
def squeezenet1_0(**kwargs):
    """SqueezeNet v1.0, Table 1 of Iandola et al. 2016."""
    return _squeezenet("squeezenet1_0", **kwargs)


@register_classifier(_squeezenet, **PAPER,
                     small_kwargs={"input_shape": (32, 32, 3), "classes": 5},
                     figures=[figure("parameters", 1_235_496, "torchvision's squeezenet1_1")])
def squeezenet1_1(**kwargs):
    """SqueezeNet v1.1 (Iandola et al.): 2.4x less computation than v1.0."""
    return _squeezenet("squeezenet1_1", **kwargs)
