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

Arguments shared by every entry point:
    include_top: bool. Whether to add the three fully connected layers. Defaults to True.
    weights: None or the path to a weights file; `vgg16` and `vgg19` also accept `"imagenet"`
        (downloaded by keras.applications; with `include_top` the input must be 224x224x3).
    input_tensor: optional Keras tensor to use as the image input.
    input_shape: (height, width, channels), at least 32x32. Defaults to (224, 224, 3). With
        `include_top`, the first fully connected layer's size depends on it.
    pooling: None, "avg" or "max": pooling of the features when `include_top=False`.
    classes: int. Number of classes. Defaults to 1000.
    classifier_activation: activation of the output layer; None returns logits.
    name: str. Model name.

Example:
>>> model = vgg11(input_shape=(32, 32, 3), classes=10)
>>> model.output_shape
(None, 10)
"""

import keras
from keras import layers

from garden.models._classifier import check_classifier_args, finish, global_pool, image_input
from garden.models._registry import register_model

BLOCK_FILTERS = (64, 128, 256, 512, 512)
# Convolutions in each of the five blocks, per configuration of Table 1.
CONVS_PER_BLOCK = {
    "vgg11": (1, 1, 2, 2, 2),  # A
    "vgg13": (2, 2, 2, 2, 2),  # B
    "vgg16": (2, 2, 3, 3, 3),  # D
    "vgg19": (2, 2, 4, 4, 4),  # E
}
FC_UNITS = 4096
DROPOUT = 0.5
IMAGENET_MODELS = {"vgg16": "VGG16", "vgg19": "VGG19"}

PAPER = dict(
    paper="Simonyan & Zisserman, Very Deep Convolutional Networks",
    year=2014,
    arxiv="https://arxiv.org/abs/1409.1556",
    input_shape=(224, 224, 3),
)
# Without the top: its two 4096-unit layers hold most of the weights even at 32x32.
SMALL = {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"}


def _vgg(
    variant,
    *,
    batch_norm=False,
    include_top,
    weights,
    input_tensor,
    input_shape,
    pooling,
    classes,
    classifier_activation,
    name,
):
    """Builds the VGG configuration `variant`, optionally with batch normalization."""
    imagenet = variant in IMAGENET_MODELS and not batch_norm
    check_classifier_args(
        include_top=include_top, weights=weights, pooling=pooling, classes=classes,
        imagenet=imagenet,
    )
    img, inputs = image_input(input_shape, input_tensor, default_shape=(224, 224, 3), min_size=32)

    x = img
    for block, (filters, convs) in enumerate(zip(BLOCK_FILTERS, CONVS_PER_BLOCK[variant]), 1):
        for conv in range(1, convs + 1):
            conv_name = f"block{block}_conv{conv}"
            x = layers.Conv2D(
                filters, 3, padding="same", activation=None if batch_norm else "relu",
                kernel_initializer="he_uniform", name=conv_name,
            )(x)
            if batch_norm:
                x = layers.BatchNormalization(name=f"{conv_name}_bn")(x)
                x = layers.ReLU(name=f"{conv_name}_relu")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)

    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(FC_UNITS, activation="relu", name="fc1")(x)
        x = layers.Dropout(DROPOUT, name="fc1_dropout")(x)
        x = layers.Dense(FC_UNITS, activation="relu", name="fc2")(x)
        x = layers.Dropout(DROPOUT, name="fc2_dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pool(x, pooling)

    def imagenet_reference():
        application = getattr(keras.applications, IMAGENET_MODELS[variant])
        return application(include_top=include_top, weights="imagenet", input_shape=img.shape[1:])

    return finish(inputs, x, name=name, weights=weights, imagenet_reference=imagenet_reference)


@register_model(**PAPER, small_kwargs=SMALL)
def vgg11(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg11"):
    """VGG-11, configuration A (Simonyan & Zisserman 2014): 132,863,336 parameters."""
    return _vgg("vgg11", **locals())


@register_model(**PAPER, small_kwargs=SMALL)
def vgg13(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg13"):
    """VGG-13, configuration B (Simonyan & Zisserman 2014): 133,047,848 parameters."""
    return _vgg("vgg13", **locals())


@register_model(**PAPER, small_kwargs=SMALL)
def vgg16(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg16"):
    """VGG-16, configuration D (Simonyan & Zisserman 2014): 138,357,544 parameters; loads
    keras.applications.VGG16's weights."""
    return _vgg("vgg16", **locals())


@register_model(**PAPER, small_kwargs=SMALL)
def vgg19(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg19"):
    """VGG-19, configuration E (Simonyan & Zisserman 2014): 143,667,240 parameters; loads
    keras.applications.VGG19's weights."""
    return _vgg("vgg19", **locals())


@register_model(**PAPER, small_kwargs=SMALL)
def vgg11_bn(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="vgg11_bn"):
    """VGG-11 (configuration A) with batch normalization after every convolution."""
    return _vgg("vgg11", batch_norm=True, **locals())


@register_model(**PAPER, small_kwargs=SMALL)
def vgg13_bn(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="vgg13_bn"):
    """VGG-13 (configuration B) with batch normalization after every convolution."""
    return _vgg("vgg13", batch_norm=True, **locals())


@register_model(**PAPER, small_kwargs=SMALL)
def vgg16_bn(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="vgg16_bn"):
    """VGG-16 (configuration D) with batch normalization after every convolution."""
    return _vgg("vgg16", batch_norm=True, **locals())


@register_model(**PAPER, small_kwargs=SMALL)
def vgg19_bn(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="vgg19_bn"):
    """VGG-19 (configuration E) with batch normalization after every convolution."""
    return _vgg("vgg19", batch_norm=True, **locals())
