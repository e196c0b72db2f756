"""GoogLeNet: the 22-layer Inception network that won ILSVRC 2014.

Reference:
    Szegedy, Liu, Jia, Sermanet, Reed, Anguelov, Erhan, Vanhoucke and Rabinovich, "Going Deeper
    with Convolutions", CVPR 2015. https://arxiv.org/abs/1409.4842

Table 1 of the paper: a 7x7/2 convolution, 3x3/2 max pooling, local response normalization, a
1x1 reduction and a 3x3 convolution, normalization and pooling again, then inception modules
3a-3b, 4a-4e and 5a-5b with 3x3/2 max pooling before 4a and 5a, global average pooling (7x7 at
224x224), dropout 40% and a linear classifier. An inception module (Figure 2b) concatenates a 1x1
convolution, a 1x1 reduction then 3x3 convolution, a 1x1 reduction then 5x5 convolution, and
3x3/1 max pooling then a 1x1 projection. Every convolution has a bias and ReLU; pooling pads
("same") so the maps are Table 1's 112, 56, 28, 14 and 7 pixels wide. The normalization is the
reference Caffe model's (`bvlc_googlenet`): n=5, k=1, and alpha 1e-4 / 5 in the paper's formula.

The two auxiliary classifiers (section 5) sit on the outputs of 4a and 4d: 5x5/3 average pooling,
a 1x1 convolution of 128 filters, a 1024-unit fully connected layer, dropout 70% and a linear
classifier. Their losses join the main loss with weight 0.3 during training; at inference they
are discarded. With `aux_heads=True` the builder returns a `GoogLeNet` model that does exactly
that; `model.without_aux_heads()` is the inference network, sharing its layers and weights.

The paper does not give its initialisation; the convolutions here are He-uniform initialised.
With Keras' default (Glorot) the activations shrink over 100-fold through the network (it has no
batch normalization) and training stalls.

`batch_norm=True` gives the common batch-normalized variant (torchvision's): batch normalization
after every convolution (which then has no bias) and no local response normalization.
"""

import functools

import keras
from keras import layers

from garden.layers import LocalResponseNormalization
from garden.models._classifier import classifier, register_classifier
from garden.models._registry import figure
from garden.utils import serializable
from garden.utils.checks import check_bool, check_number

# Filters of each inception module (Table 1): #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
# pool proj. A 3x3/2 max pooling precedes 4a and 5a.
INCEPTIONS = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
POOL_BEFORE = ("4a", "5a")
AUX_AFTER = ("4a", "4d")
LRN = dict(n=5, k=1.0, alpha=1e-4 / 5, beta=0.75)
DROPOUT = 0.4
AUX_DROPOUT = 0.7
AUX_LOSS_WEIGHT = 0.3
# The auxiliary heads' 5x5 pooling needs a 5x5 map at 4a, whose stride is 16.
AUX_MIN_SIZE = 65
# Every module and head, with an eighth of the inception modules' filters.
TINY = dict(inceptions={m: tuple(max(1, f // 8) for f in filters)
                        for m, filters in INCEPTIONS.items()})


@serializable
class GoogLeNet(keras.Model):
    """GoogLeNet with its auxiliary classifiers, which only the training loss sees.

    A functional model with three outputs: the main classifier and the two auxiliary ones.
    Called with `training=True` (as `fit` does) it returns all three, and the loss it minimises
    is `L(main) + aux_loss_weight * (L(aux1) + L(aux2))`, `L` being the loss given to `compile`.
    Otherwise (`predict`, `evaluate`, export) it returns only the main output, so it is used as
    any single-output classifier, and metrics are those of the main classifier.

    Build it with `googlenet(aux_heads=True)`; the constructor takes the functional model's
    `inputs` and `outputs` (main output first).

    Args:
        aux_loss_weight: float. Weight of each auxiliary loss. Defaults to 0.3, the paper's.

    Example:
    >>> model = googlenet(input_shape=(96, 96, 3), classes=10)
    >>> model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> model.without_aux_heads().count_params() < model.count_params()
    True

    Reference:
        Szegedy et al., 2015, section 5. https://arxiv.org/abs/1409.4842
    """

    def __init__(self, *args, aux_loss_weight=AUX_LOSS_WEIGHT, **kwargs):
        super().__init__(*args, **kwargs)
        self.aux_loss_weight = check_number("aux_loss_weight", aux_loss_weight, minimum=0)

    def call(self, inputs, training=None, mask=None):
        outputs = super().call(inputs, training=training, mask=mask)
        return outputs if training else outputs[0]

    def compute_output_spec(self, inputs, training=None, mask=None):
        outputs = super().compute_output_spec(inputs, training=training, mask=mask)
        return outputs if training else outputs[0]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y_pred, (list, tuple)):
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        main, *aux = y_pred
        loss = super().compute_loss(x, y, main, sample_weight, training)
        # `_compile_loss` is the loss given to `compile` alone, without the layers' own losses
        # (which `compute_loss` adds once, above).
        for aux_pred in aux:
            loss = loss + self.aux_loss_weight * self._compile_loss(y, aux_pred, sample_weight)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, (list, tuple)):
            y_pred = y_pred[0]
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def without_aux_heads(self):
        """The inference network: the same layers and weights, without the auxiliary heads."""
        return keras.Model(self.input, self.outputs[0], name=self.name)

    def get_config(self):
        return {**super().get_config(), "aux_loss_weight": self.aux_loss_weight}


def _conv(x, filters, kernel, batch_norm, name, strides=1):
    """He-initialised convolution with ReLU, batch-normalized (and then without bias) if asked."""
    x = layers.Conv2D(
        filters, kernel, strides=strides, padding="same", use_bias=not batch_norm,
        kernel_initializer="he_uniform", name=name,
    )(x)
    if batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _inception(x, filters, batch_norm, name):
    """Inception module with dimension reductions (Figure 2b)."""
    n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj = filters
    branch1 = _conv(x, n1x1, 1, batch_norm, f"{name}_1x1")
    branch2 = _conv(x, n3x3_reduce, 1, batch_norm, f"{name}_3x3_reduce")
    branch2 = _conv(branch2, n3x3, 3, batch_norm, f"{name}_3x3")
    branch3 = _conv(x, n5x5_reduce, 1, batch_norm, f"{name}_5x5_reduce")
    branch3 = _conv(branch3, n5x5, 5, batch_norm, f"{name}_5x5")
    branch4 = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branch4 = _conv(branch4, pool_proj, 1, batch_norm, f"{name}_pool_proj")
    return layers.Concatenate(name=f"{name}_output")([branch1, branch2, branch3, branch4])


def _aux_head(x, classes, classifier_activation, batch_norm, name):
    """Auxiliary classifier (section 5)."""
    x = layers.AveragePooling2D(5, strides=3, name=f"{name}_pool")(x)
    x = _conv(x, 128, 1, batch_norm, f"{name}_conv")
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = layers.Dense(1024, activation="relu", name=f"{name}_fc")(x)
    x = layers.Dropout(AUX_DROPOUT, name=f"{name}_dropout")(x)
    return layers.Dense(classes, activation=classifier_activation, name=f"{name}_predictions")(x)


def _googlenet(*, aux_heads=True, aux_loss_weight=AUX_LOSS_WEIGHT, batch_norm=False,
               spec=None, **kwargs):
    """Builds GoogLeNet; `spec` may replace `inceptions` (tiny test instances).

    Args:
        aux_heads: bool. Whether the top also has the two auxiliary classifiers: the model is
            then a `GoogLeNet`, whose training loss includes them and whose inference output
            is the main classifier's. Needs `include_top` and an input of at least 65x65.
            Defaults to True.
        aux_loss_weight: float. Weight of each auxiliary classifier's loss. Defaults to 0.3.
        batch_norm: bool. Batch normalization after every convolution instead of bias and
            local response normalization. Defaults to False (the paper's network).
    """
    check_bool("aux_heads", aux_heads)
    check_number("aux_loss_weight", aux_loss_weight, minimum=0)
    check_bool("batch_norm", batch_norm)
    inceptions = (spec or {}).get("inceptions", INCEPTIONS)
    aux_heads = aux_heads and kwargs["include_top"]
    taps = []  # the outputs of 4a and 4d, which the auxiliary heads read

    def features(img):
        if aux_heads and any(d is None or d < AUX_MIN_SIZE for d in img.shape[1:3]):
            raise ValueError(
                f"input_shape={tuple(img.shape[1:])} is not allowed for the auxiliary "
                f"classifiers: use a fixed size of at least {AUX_MIN_SIZE}x{AUX_MIN_SIZE}, or "
                "aux_heads=False."
            )
        x = _conv(img, 64, 7, batch_norm, "conv1", strides=2)
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
        if not batch_norm:
            x = LocalResponseNormalization(**LRN, name="lrn1")(x)
        x = _conv(x, 64, 1, batch_norm, "conv2_reduce")
        x = _conv(x, 192, 3, batch_norm, "conv2")
        if not batch_norm:
            x = LocalResponseNormalization(**LRN, name="lrn2")(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
        for module, filters in inceptions.items():
            if module in POOL_BEFORE:
                x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{module[0]}")(x)
            x = _inception(x, filters, batch_norm, f"inception{module}")
            if module in AUX_AFTER:
                taps.append(x)
        return x

    def top(x, classes, classifier_activation):
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(DROPOUT, name="dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
        if not aux_heads:
            return x
        return [x, *(_aux_head(tap, classes, classifier_activation, batch_norm, f"aux{i}")
                     for i, tap in enumerate(taps, 1))]

    model_class = (functools.partial(GoogLeNet, aux_loss_weight=aux_loss_weight) if aux_heads
                   else keras.Model)
    return classifier(features, top, default_shape=(224, 224, 3), min_size=32,
                      model_class=model_class, **kwargs)


@register_classifier(
    _googlenet,
    paper="Szegedy et al., Going Deeper with Convolutions",
    year=2015,
    arxiv="https://arxiv.org/abs/1409.4842",
    input_shape=(224, 224, 3),
    small_kwargs={"input_shape": (AUX_MIN_SIZE, AUX_MIN_SIZE, 3), "classes": 5},
    tiny=TINY,
    feature_layers=("conv*_relu", "lrn*", "inception*_output"),
    figures=[figure("parameters", 6_998_552, "Table 1's layers (its column sums to 6.8M)",
                    aux_heads=False),
             figure("parameters", 13_378_280, "with the auxiliary classifiers of Section 5")],
)
def googlenet(**kwargs):
    """GoogLeNet (Szegedy et al. 2015), with the auxiliary classifiers used in training.

    Example:
    >>> model = googlenet(aux_heads=False, input_shape=(32, 32, 3), classes=10)
    >>> model.output_shape
    (None, 10)
    """
    return _googlenet(**kwargs)
