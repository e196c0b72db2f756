"""The keras.applications classifier contract, written once for every image classifier.

A family module holds its variants as data, a feature builder and, where the paper's differs from
global average pooling and a dense layer, its own top. Its entry points are short:

    @register_classifier(_vgg, keras_application="VGG16", **PAPER)
    def vgg16(**kwargs):
        \"\"\"VGG-16, configuration D (Simonyan & Zisserman 2014).\"\"\"
        return _vgg("vgg16", **kwargs)

`register_classifier` gives the entry point its full signature (the family builder's keyword
arguments, then the contract's eight: `include_top, weights, input_tensor, input_shape, pooling,
classes, classifier_activation, name`) and a docstring documenting every argument, rejects
unknown arguments naming the accepted ones, and registers it. The family builder ends with
`classifier(features, top, ...)`, which checks the contract's arguments, creates the input, adds
the top or the pooling and loads the weights; `weights="imagenet"` copies the weights of the
registry's `keras_application` (e.g. `keras.applications.VGG16`) in order, so the download and
caching stay keras.applications' own.
"""

import functools
import inspect
import os

import keras
from keras import layers

from garden.models._registry import check_arguments, register_model
from garden.utils.checks import check_bool, check_choice, check_int

POOLING = (None, "avg", "max")
CONTRACT_DEFAULTS = dict(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None,
)
# Keyword arguments of family builders that are not the entry points' own: the spec override
# of the registry's tiny instances and the registry's keras.applications name.
PRIVATE = ("spec", "keras_application")

CONTRACT_DOC = """\
include_top: bool. Whether to add the classifier top. Defaults to True.
weights: None, or the path to a weights file (`.weights.h5`, or a whole-model `.h5` as
    keras.applications' files){imagenet}. Defaults to None.
input_tensor: optional Keras tensor (the output of `keras.Input()`) to use as the image input.
input_shape: (height, width, channels). Defaults to {input_shape}, the paper's. None as height
    and width gives a variable size where the top allows it (a top that flattens the features
    needs a fixed size).
pooling: None, "avg" or "max": pooling of the features when `include_top=False`. Defaults to
    None (the feature map).
classes: int. Number of classes. Defaults to {classes}.
classifier_activation: activation of the output layer (a name or a callable); None returns
    logits. Defaults to "softmax".
name: str. Model name. Defaults to "{name}"."""


def _args_section(doc):
    """The indented lines of the "Args:" section of a Google-style docstring."""
    lines = (doc or "").splitlines()
    if "Args:" not in (line.strip() for line in lines):
        return []
    start = [line.strip() for line in lines].index("Args:") + 1
    section = []
    for line in lines[start:]:
        if line.strip() and not line.startswith(" "):
            break
        section.append(line)
    return [line for line in inspect.cleandoc("\n".join(section)).splitlines()]


def _document(entry, family, defaults, input_shape, keras_application):
    """The entry point's docstring: its own, then every argument (the family's, the contract's)."""
    imagenet = (
        f',\n    or "imagenet": the ImageNet weights of `keras.applications.{keras_application}`'
        if keras_application else ""
    )
    contract = CONTRACT_DOC.format(
        imagenet=imagenet, input_shape=tuple(input_shape), classes=defaults["classes"],
        name=defaults["name"],
    )
    args = _args_section(inspect.getdoc(family)) + contract.splitlines()
    lines = (inspect.getdoc(entry) or "").splitlines()
    # Google style: the arguments before the example.
    cut = lines.index("Example:") if "Example:" in lines else len(lines)
    while cut and not lines[cut - 1].strip():
        cut -= 1
    return "\n".join([*lines[:cut], "", "Args:", *(f"    {line}" if line else "" for line in args),
                      *lines[cut:]])


def register_classifier(family, *, classes=1000, keras_application=None, tiny=None,
                        **registration):
    """Decorator making `entry(**kwargs)` a documented, checked and registered classifier.

    Args:
        family: the family builder the entry point calls; its keyword-only arguments with
            defaults (other than `spec` and `keras_application`) are the entry's own arguments
            and its docstring's "Args:" section documents them.
        classes: int. The entry's default class count. Defaults to 1000.
        keras_application: name of the `keras.applications` model with the same layers and
            weight order, whose ImageNet weights `weights="imagenet"` loads. Defaults to None.
        tiny: dict. Entries of the family's variant spec that give a depth-reduced instance of
            the same structure (one block per stage, few filters), which the registry-driven
            tests build with the entry's `small_kwargs`. Defaults to None (the entry's own).
        **registration: the paper data and `small_kwargs` of `register_model`.
    """
    family_parameters = [
        p for p in inspect.signature(family).parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.default is not p.empty and p.name not in PRIVATE
    ]

    def decorate(entry):
        name = entry.__name__
        defaults = dict(CONTRACT_DEFAULTS, classes=classes, name=name)
        signature = inspect.Signature(family_parameters + [
            inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=value)
            for key, value in defaults.items()
        ])
        bound_defaults = {key: p.default for key, p in signature.parameters.items()}

        def call(kwargs, **private):
            check_arguments(name, list(signature.parameters), kwargs)
            return entry(**{**bound_defaults, **kwargs}, keras_application=keras_application,
                         **private)

        @functools.wraps(entry)
        def builder(**kwargs):
            return call(kwargs)

        builder.__signature__ = signature
        builder.__doc__ = _document(entry, family, defaults, registration["input_shape"],
                                    keras_application)
        tiny_builder = None if tiny is None else (lambda **kwargs: call(kwargs, spec=tiny))
        return register_model(
            **registration, keras_application=keras_application, tiny=tiny_builder
        )(builder)

    return decorate


def check_classifier_args(*, include_top, weights, pooling, classes, classifier_activation,
                          name, imagenet):
    """Validates the contract's arguments, naming the wrong one and what is allowed."""
    check_bool("include_top", include_top)
    allowed_weights = "None, 'imagenet' or the path to a weights file" if imagenet else (
        "None or the path to a weights file"
    )
    if weights is not None and not (imagenet and weights == "imagenet"):
        if not isinstance(weights, (str, os.PathLike)) or not os.path.exists(weights):
            raise ValueError(f"weights={weights!r} is not allowed: use {allowed_weights}.")
    check_choice("pooling", pooling, POOLING)
    check_int("classes", classes)
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            f"classes={classes} is not allowed with weights='imagenet' and include_top=True: "
            "the ImageNet classifier has 1000 classes (use include_top=False for other counts)."
        )
    if not (classifier_activation is None or isinstance(classifier_activation, str)
            or callable(classifier_activation)):
        raise ValueError(
            f"classifier_activation={classifier_activation!r} is not allowed: use None, an "
            "activation name or a callable."
        )
    if not isinstance(name, str) or not name:
        raise ValueError(f"name={name!r} is not allowed: use a non-empty string.")


def image_input(input_shape, input_tensor, *, default_shape, min_size):
    """The model's image input: `input_tensor` if given, else an `Input` of `input_shape`.

    Returns `(x, inputs)`: the tensor the network starts from and the model's source inputs.
    """
    if input_tensor is not None:
        if not keras.backend.is_keras_tensor(input_tensor):
            raise ValueError(
                f"input_tensor={input_tensor!r} is not allowed: use the output of keras.Input()."
            )
        return input_tensor, keras.utils.get_source_inputs(input_tensor)
    shape = tuple(default_shape) if input_shape is None else input_shape
    if (not isinstance(shape, (tuple, list)) or len(shape) != 3
            or any(d is not None and (not isinstance(d, int) or isinstance(d, bool) or d < 1)
                   for d in shape)):
        raise ValueError(
            f"input_shape={input_shape!r} is not allowed: use (height, width, channels) "
            "with positive integers (None for a variable size)."
        )
    small = [d for d in shape[:2] if d is not None and d < min_size]
    if small:
        raise ValueError(
            f"input_shape={input_shape!r} is too small: height and width must be at least "
            f"{min_size} for this model."
        )
    x = keras.Input(shape=tuple(shape))
    return x, x


def global_pool(x, pooling):
    """`pooling` applied to a feature map: None keeps it, "avg" / "max" reduce it to a vector."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def pooled_top(x, classes, classifier_activation):
    """Global average pooling and a dense classifier (ResNet, keras-hub's ImageClassifier)."""
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


def dense_top(x, classes, classifier_activation, *, hidden=(), units=4096, dropout=0.5):
    """Flatten, then per name in `hidden` a ReLU dense layer of `units` and dropout, then the
    classifier (VGG's fc1/fc2, AlexNet's fc6/fc7; no hidden layer: ST-CNN's)."""
    x = layers.Flatten(name="flatten")(x)
    for fc in hidden:
        x = layers.Dense(units, activation="relu", name=fc)(x)
        x = layers.Dropout(dropout, name=f"{fc}_dropout")(x)
    return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


def classifier(
    features, top=pooled_top, *, default_shape, min_size, fixed_size_top=False,
    include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
    name, keras_application=None, application_kwargs=None, model_class=keras.Model,
):
    """A classifier: the input, `features(image)`, then `top` or `pooling`, then the weights.

    Args:
        features: callable taking the image tensor and returning the feature map.
        top: callable `top(features, classes, classifier_activation)` returning the output
            tensor, or a list of them (main output first). Defaults to `pooled_top`.
        default_shape: the input shape when `input_shape` is None.
        min_size: smallest height and width the architecture accepts.
        fixed_size_top: bool. Whether the top needs a known height and width (it flattens).
        keras_application: name of the `keras.applications` model whose ImageNet weights
            `weights="imagenet"` copies in order; None: no ImageNet weights.
        application_kwargs: dict. Further arguments of that keras.applications model (e.g.
            MobileNet's `alpha`).
        model_class: makes the model as `model_class(inputs, outputs, name=name)`: a functional
            `keras.Model` subclass with its own training logic can be given.
        The others: the contract's arguments, as documented on the entry points.
    """
    check_classifier_args(
        include_top=include_top, weights=weights, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name,
        imagenet=keras_application is not None,
    )
    img, inputs = image_input(input_shape, input_tensor, default_shape=default_shape,
                              min_size=min_size)
    if include_top and fixed_size_top and None in tuple(img.shape[1:3]):
        raise ValueError(
            f"input_shape={tuple(img.shape[1:])} is not allowed with include_top=True: this "
            "model's top needs a fixed height and width. Use include_top=False (with pooling) "
            "for a variable size, or a fixed input_shape."
        )
    x = features(img)
    x = top(x, classes, classifier_activation) if include_top else global_pool(x, pooling)
    model = model_class(inputs, x, name=name)
    if weights == "imagenet":
        application = getattr(keras.applications, keras_application)
        reference = application(include_top=include_top, weights="imagenet",
                                input_shape=tuple(img.shape[1:]), **(application_kwargs or {}))
        model.set_weights(reference.get_weights())
    elif weights is not None:
        model.load_weights(os.fspath(weights))
    return model
