"""A classifier's stage features by stride, as one multi-output model (timm's `features_only`,
KerasHub's `pyramid_outputs`).

Each family registers `feature_layers`: shell-style patterns naming the layers whose outputs are
its stage features (`"conv*_block*_out"` for ResNet). The stride of a layer, input size over its
output size, is the product of the strides before it, read from the layers' configurations; the
stride-s feature is the deepest matching layer at stride s. Patterns rather than one name per
stride, because which block ends a stage differs between the variants of a family (ResNet-18's
`conv2_block2_out`, ResNet-50's `conv2_block3_out`, a depth-reduced instance's
`conv2_block1_out`).
"""

import fnmatch

import keras
from keras import layers

from garden.models._registry import _REGISTRY, build


def pair(value):
    """A layer argument (`strides`, `size`, ...) as a (height, width) pair."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def layer_strides(model):
    """`{layer name: stride of its output}` of a functional model's layers: a strided convolution
    or pooling multiplies its input's stride, an upsampling divides it, a merge takes its inputs'
    largest. Read from the layers' configurations, so it needs no input size."""
    stride = {id(t): 1 for t in model.inputs}
    out = {}
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        inputs = [t for t in keras.tree.flatten(layer.input) if id(t) in stride]
        s = max((stride[id(t)] for t in inputs), default=1)
        config = layer.get_config()
        if isinstance(layer, layers.UpSampling2D):
            s //= pair(config["size"])[0]
        elif isinstance(layer, layers.Conv2DTranspose):
            s //= pair(config["strides"])[0]
        elif "strides" in config and config["strides"] is not None:
            s *= pair(config["strides"])[0]
        stride[id(layer.output)] = out[layer.name] = s
    return out


def entry_with_features(name, argument):
    """The registry entry of `name`, which must have stage features."""
    entry = _REGISTRY.get(name)
    if entry is None or not entry.feature_layers:
        with_features = ", ".join(n for n, e in sorted(_REGISTRY.items()) if e.feature_layers)
        raise ValueError(
            f"{argument}={name!r} is not allowed: it is not a registered model with stage "
            f"features. Models with them: {with_features}."
        )
    return entry


def feature_layers(model, architecture=None):
    """The names of a built classifier's stage features, by stride.

    Args:
        model: `keras.Model` built by a registered classifier with stage features.
        architecture: str. The registry name of the builder that made `model`. Defaults to
            None: `model.name` (the builder's default name).

    Returns:
        `{stride: layer name}`, strides ascending; stride = input size / feature size.

    Example:
    >>> from garden import models
    >>> resnet = models.resnet18(include_top=False, input_shape=(64, 64, 3))
    >>> models.feature_layers(resnet)[4], models.feature_layers(resnet)[32]
    ('conv2_block2_out', 'conv5_block2_out')
    """
    entry = entry_with_features(architecture or model.name,
                                "architecture" if architecture else "model.name")
    found = {}
    for name, stride in layer_strides(model).items():  # topological order: the deepest last
        if any(fnmatch.fnmatchcase(name, p) for p in entry.feature_layers):
            found[stride] = name
    return dict(sorted(found.items()))


def features(model, strides=None, *, architecture=None, **kwargs):
    """A classifier's stage features at `strides`, as a multi-output `keras.Model`.

    The outputs are the feature maps of the model's own layers (shared weights, no copy), e.g.
    for a detection or segmentation head; `feature_layers` names them.

    Args:
        model: str or `keras.Model`. A registered classifier's name (built without its top, with
            `kwargs`), or a model such a builder made (its layers are reused).
        strides: sequence of int. Input size / feature size of each output, in the order
            given, e.g. `(4, 8, 16, 32)`. Defaults to None: every stride the model has,
            ascending.
        architecture: str. With a model whose name is not its builder's, the builder's
            registry name. Defaults to None.
        **kwargs: arguments of the builder (`weights`, `input_shape`, ...), with a name only.

    Returns:
        A `keras.Model` from the model's input to its stride-s features (one tensor for one
        stride).

    Example:
    >>> from garden import models
    >>> pyramid = models.features("resnet18", strides=(8, 16, 32), input_shape=(64, 64, 3))
    >>> [tuple(shape) for shape in pyramid.output_shape]
    [(None, 8, 8, 128), (None, 4, 4, 256), (None, 2, 2, 512)]
    """
    if isinstance(model, str):
        if architecture is not None:
            raise ValueError(f"architecture={architecture!r} is not allowed with a model name: "
                             "it names the builder of a built model.")
        entry = entry_with_features(model, "model")
        architecture = entry.name
        top = {"include_top": False} if "include_top" in entry.arguments else {}
        model = build(model, **top, **kwargs)
    elif not isinstance(model, keras.Model):
        raise ValueError(f"model={model!r} is not allowed: use a registered classifier's name "
                         "or a keras.Model one built.")
    elif kwargs:
        raise ValueError(f"builder argument(s) {', '.join(sorted(kwargs))} are not allowed with "
                         "a built model: pass the model's registry name to build one.")
    available = feature_layers(model, architecture)
    if strides is None:
        strides = tuple(available)
    strides = tuple(strides) if isinstance(strides, (list, tuple)) else (strides,)
    missing = [s for s in strides if s not in available]
    if missing or not strides:
        raise ValueError(
            f"strides={strides!r} is not allowed for {architecture or model.name}: its stage "
            f"features are at strides {tuple(available)}."
        )
    outputs = [model.get_layer(available[s]).output for s in strides]
    return keras.Model(model.input, outputs, name=f"{model.name}_features")
