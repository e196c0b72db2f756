"""DeepLab: a classification backbone made dense by atrous convolution, with an ASPP head.

References:
    Chen, Papandreou, Kokkinos, Murphy and Yuille, "DeepLab: Semantic Image Segmentation with
    Deep Convolutional Nets, Atrous Convolution, and Fully Connected CRFs", TPAMI 2017.
    https://arxiv.org/abs/1606.00915
    Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation", 2017.
    https://arxiv.org/abs/1706.05587

Output stride (input size / feature size) is controlled as in Section 3.1 of DeepLab: the
strides past the wanted stride are removed and every later convolution is dilated by the
product of the removed strides, so the layers see the same context with the same weights, on a
denser grid. `with_output_stride` does this to any garden functional backbone by rebuilding it
from its layers' configs (each layer's stride is the product of the strides before it, so it
needs no knowledge of the architecture), rather than by an `output_stride` argument in every
backbone. The backbone is a classifier's deepest stage (`garden.models.features`). The score map
is upsampled bilinearly to the input size; the fully connected CRF of the paper is a separate
post-processing step, `garden.tools.DenseCRF`.
"""

import keras
from keras import layers

from garden.layers import ASPP, ASPPv3
from garden.layers.aspp import RATES_L, RATES_V3
from garden.models._features import entry_with_features, features, layer_strides, pair
from garden.models._registry import register_model
from garden.utils.checks import check_choice, check_int, check_ints, check_rate

ASPP_VERSIONS = ("v2", "v3")


def with_output_stride(backbone, output_stride):
    """A copy of a functional image model whose features have the given output stride.

    Every layer whose strides would take the features past `output_stride` gets stride 1 and
    "same" padding (a `ZeroPadding2D` that fed it becomes an `Identity`), and every convolution
    after it (kernel larger than 1x1) has its dilation multiplied by the stride removed before
    it (the "atrous algorithm"). Weights are copied: dilation does not change their shapes.
    Pooling layers lose their stride without dilation, as in DeepLab v1. Each layer's stride is
    read from the layers before it (`layer_strides`), so the rewrite needs no knowledge of the
    architecture.

    Args:
        backbone: functional `keras.Model`.
        output_stride: int. The wanted ratio of input to feature size: a power of two, at most
            the backbone's own output stride.

    Returns:
        A new functional `keras.Model` with the same layer names and weights.

    Example:
    >>> from garden import models
    >>> net = models.build("mobilenet_v1", alpha=0.25, include_top=False, input_shape=(64, 64, 3))
    >>> with_output_stride(net, 8).output_shape
    (None, 8, 8, 256)
    """
    strides = layer_strides(backbone)
    producer = {id(layer.output): layer for layer in backbone.layers}
    native = strides[producer[id(backbone.output)].name]
    if (
        not isinstance(output_stride, int)
        or output_stride < 1
        or output_stride & (output_stride - 1)
        or output_stride > native
    ):
        raise ValueError(
            f"output_stride={output_stride!r} is not allowed: use a power of two up to the "
            f"backbone's own output stride, {native}."
        )
    changes, identities = {}, set()
    for layer in backbone.layers:
        config = layer.get_config()
        if "strides" not in config and "dilation_rate" not in config:
            continue
        stride = pair(config.get("strides", 1))[0]
        stride_in = strides[layer.name] // stride  # before this layer
        change = {}
        if stride > 1 and stride_in * stride > output_stride:
            # "same" padding where the layer pads (option-A shortcuts only subsample).
            change = {"strides": 1, **({"padding": "same"} if "padding" in config else {})}
            before = producer.get(id(layer.input))
            if config.get("padding") == "valid" and isinstance(before, layers.ZeroPadding2D):
                identities.add(before.name)
        kernel = max(pair(config.get("kernel_size", 1)))
        if stride_in > output_stride and "dilation_rate" in config and kernel > 1:
            rate = pair(config["dilation_rate"])[0]
            change["dilation_rate"] = rate * stride_in // output_stride
        if change:
            changes[layer.name] = change

    def rebuild(layer):
        if layer.name in identities:
            return layers.Identity(name=layer.name)
        return layer.__class__.from_config({**layer.get_config(), **changes.get(layer.name, {})})

    model = keras.models.clone_model(backbone, clone_function=rebuild)
    model.set_weights(backbone.get_weights())
    return model


@register_model(
    paper="Chen et al., DeepLab: atrous convolution, ASPP and fully connected CRFs",
    year=2016,
    arxiv="https://arxiv.org/abs/1606.00915",
    input_shape=(321, 321, 3),
    task="segmentation",
    small_kwargs={
        "input_shape": (32, 32, 3),
        "classes": 3,
        "backbone_kwargs": {"alpha": 0.25},
        "output_stride": 8,
        "rates": (1, 2),
        "head_filters": 8,
    },
)
def deeplab(
    backbone="mobilenet_v1",
    backbone_kwargs=None,
    output_stride=16,
    aspp="v2",
    rates=None,
    head_filters=None,
    dropout=0.5,
    classes=21,
    input_shape=None,
    name="deeplab",
):
    """DeepLab (Chen et al. 2016): an atrous backbone, an ASPP head, bilinear upsampling.

    Returns per-pixel class logits at the input resolution, `(batch, height, width, classes)`.

    Args:
        backbone: str. A registered image classifier with stage features
            (`garden.models.features`): its deepest stage feeds the head. Defaults to
            "mobilenet_v1".
        backbone_kwargs: dict. More arguments for the backbone (e.g. `{"alpha": 0.5}` or
            `{"weights": "imagenet"}`). Defaults to None.
        output_stride: int. Input size over feature size, by `with_output_stride`. Defaults to
            16 (DeepLab v2 uses 8).
        aspp: str. "v2": per-rate classifier branches summed (`garden.layers.ASPP`); "v3":
            1x1 + atrous + image-pooling branches concatenated, then a 1x1 classifier
            (`garden.layers.ASPPv3`). Defaults to "v2".
        rates: sequence of int. Atrous rates of the head. Defaults to ASPP-L (6, 12, 18, 24)
            for v2 and (6, 12, 18), doubled at output stride 8, for v3. A single rate is the
            paper's baseline without a pyramid (12: DeepLab-LargeFOV).
        head_filters: int. Channels inside the head. Defaults to 1024 (v2) or 256 (v3).
        dropout: float. Dropout rate inside the v2 branches (as in DeepLab v2; v3 has batch
            normalization instead). Defaults to 0.5.
        classes: int. Number of classes. Defaults to 21 (PASCAL VOC).
        input_shape: (height, width, channels), known height and width. Defaults to
            (321, 321, 3), DeepLab v2's training crops.
        name: str. Model name.

    Example:
    >>> model = deeplab(backbone_kwargs={"alpha": 0.25}, rates=(2, 4), head_filters=32,
    ...                 input_shape=(64, 64, 3), classes=4, output_stride=8)
    >>> model.output_shape
    (None, 64, 64, 4)
    """
    check_choice("aspp", aspp, ASPP_VERSIONS)
    entry_with_features(backbone, "backbone")
    check_int("classes", classes)
    check_rate("dropout", dropout)
    if rates is None:
        rates = RATES_L if aspp == "v2" else tuple(r * 16 // min(output_stride, 16)
                                                   for r in RATES_V3)
    rates = check_ints("rates", rates)
    input_shape = tuple(input_shape or (321, 321, 3))
    stages = features(backbone, input_shape=input_shape, **(backbone_kwargs or {}))
    dense = with_output_stride(keras.Model(stages.input, stages.outputs[-1]), output_stride)
    if aspp == "v2":
        x = ASPP(classes, rates, filters=head_filters or 1024, dropout=dropout,
                 name="aspp")(dense.output)
    else:
        x = ASPPv3(head_filters or 256, rates, name="aspp")(dense.output)
        x = layers.Conv2D(classes, 1, name="classifier")(x)
    x = layers.Resizing(input_shape[0], input_shape[1], interpolation="bilinear",
                        name="upsample")(x)
    return keras.Model(dense.input, x, name=name)
