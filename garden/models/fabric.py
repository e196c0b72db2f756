"""Convolutional neural fabrics: a trellis of layers x scales instead of one chosen architecture.

Reference:
    Saxena and Verbeek, "Convolutional Neural Fabrics", NeurIPS 2016.
    https://arxiv.org/abs/1606.02492

Node `(l, s)` holds a feature map of `channels` channels at scale `s` (resolution / 2^s). In the
first layer the image enters at scale 0 and every coarser node is a stride-2 convolution of the
finer one. Every later node sums three 3x3 convolutions of the previous layer's nodes: the same
scale, the finer scale (stride 2) and the coarser scale (nearest upsampling by 2 first), then
batch normalization and ReLU (the "sparse and homogeneous" fabric of the paper). The output is
read at the last layer's coarsest node (classification: global average pooling and a dense
layer) or its finest node (segmentation: a 1x1 convolution to class logits at the input size);
so that every node reaches it, the last layer also passes information along its own scales
towards that node (`node{L-1}_{s}_from{s'}_same_layer`), as the first layer spreads the input.
A chain of nodes through the trellis is a conventional CNN, so the fabric embeds the
architectures that the chosen layers x scales can express.

Layer names: `node{l}_{s}_from{s'}` for the convolution from scale `s'`, `node{l}_{s}_bn`,
`node{l}_{s}_relu`.
"""

import keras
from keras import layers as layers_  # `layers` is the fabric's argument

from garden.models._classifier import image_input
from garden.models._registry import register_model
from garden.utils.checks import check_choice, check_int

TASKS = ("classification", "segmentation")


def _node(inputs, channels, name):
    """Sum of the convolutions of `inputs` = [(tensor, stride, upsample), ...], BN, ReLU."""
    terms = []
    for x, source, strides, upsample in inputs:
        if upsample:
            x = layers_.UpSampling2D(2, name=f"{name}_up{source}")(x)
        terms.append(layers_.Conv2D(channels, 3, strides=strides, padding="same", use_bias=False,
                                   name=f"{name}_from{source}")(x))
    x = terms[0] if len(terms) == 1 else layers_.Add(name=f"{name}_sum")(terms)
    x = layers_.BatchNormalization(name=f"{name}_bn")(x)
    return layers_.ReLU(name=f"{name}_relu")(x)


@register_model(
    paper="Saxena & Verbeek, Convolutional Neural Fabrics",
    year=2016,
    arxiv="https://arxiv.org/abs/1606.02492",
    input_shape=(32, 32, 3),
    task="classification",
    small_kwargs={"layers": 3, "scales": 3, "channels": 4, "input_shape": (8, 8, 1),
                  "classes": 3},
    feature_layers=("node*_relu",),  # the last layer's node at each scale
)
def conv_fabric(layers=16, scales=6, channels=64, task="classification", classes=10,
                input_shape=None, input_tensor=None, classifier_activation="softmax",
                name="conv_fabric"):
    """A convolutional neural fabric (Saxena & Verbeek 2016) of `layers` x `scales` nodes.

    The defaults are the paper's CIFAR-10 / MNIST fabric: 16 layers, 6 scales (32x32 down to
    1x1) and 64 channels per node.

    Args:
        layers: int. Number of layers (columns of the trellis), at least 2. Defaults to 16.
        scales: int. Number of scales (rows); height and width must be divisible by
            2^(scales - 1). Defaults to 6.
        channels: int. Channels of every node. Defaults to 64.
        task: "classification" (class scores per image) or "segmentation" (class scores per
            pixel, at the input size). Defaults to "classification".
        classes: int. Number of classes. Defaults to 10.
        input_shape: (height, width, channels). Defaults to (32, 32, 3).
        input_tensor: optional Keras tensor to use as the input.
        classifier_activation: activation of the class scores, as in keras.applications:
            "softmax" (probabilities, for `sparse_categorical_crossentropy`) or None (logits,
            for a loss with `from_logits=True`). Defaults to "softmax".
        name: str. Model name.
    """
    check_int("layers", layers, minimum=2)
    check_int("scales", scales)
    check_int("channels", channels)
    check_choice("task", task, TASKS)
    check_int("classes", classes)
    x, inputs = image_input(input_shape, input_tensor, default_shape=(32, 32, 3), min_size=1)
    for size in x.shape[1:3]:
        if size is not None and size % 2 ** (scales - 1):
            raise ValueError(
                f"input_shape={tuple(x.shape[1:])} is not allowed with scales={scales}: height "
                f"and width must be divisible by 2^(scales - 1) = {2 ** (scales - 1)}."
            )
    column = [_node([(x, "input", 1, False)], channels, "node0_0")]
    for s in range(1, scales):
        column.append(_node([(column[-1], s - 1, 2, False)], channels, f"node0_{s}"))
    classify = task == "classification"
    for l in range(1, layers):
        previous, column = column, [None] * scales
        last = l == layers - 1
        # The last layer gathers every scale towards the output node: fine to coarse for
        # classification, coarse to fine for segmentation (as the first spreads the input).
        for s in (range(scales) if classify else range(scales - 1, -1, -1)):
            sources = [(previous[s], s, 1, False)]
            if s > 0:
                sources.append((previous[s - 1], s - 1, 2, False))
                if last and classify:
                    sources.append((column[s - 1], f"{s - 1}_same_layer", 2, False))
            if s < scales - 1:
                sources.append((previous[s + 1], s + 1, 1, True))
                if last and not classify:
                    sources.append((column[s + 1], f"{s + 1}_same_layer", 1, True))
            column[s] = _node(sources, channels, f"node{l}_{s}")
    if classify:
        x = layers_.GlobalAveragePooling2D(name="avg_pool")(column[-1])
        x = layers_.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = layers_.Conv2D(classes, 1, activation=classifier_activation,
                           name="predictions")(column[0])
    return keras.Model(inputs, x, name=name)
