"""The keras.applications classifier contract, written once for every image classifier.

A family module holds its variants as data, a feature builder and, where the paper's differs from
global average pooling and a dense layer, its own top. Its entry points are short:

    @register_classifier(_vgg, keras_application="VGG16", **PAPER)
    def vgg16(**kwargs):
        \"\"\"VGG-16, configuration D (Simonyan & Zisserman 2014).\"\"\"
        return _vgg("vgg16", **kwargs)

`register_classifier` gives the entry point its full signature (the family builder's keyword
arguments, then the contract's nine: `include_top, weights, input_tensor, input_shape, pooling,
classes, classifier_activation, include_preprocessing, name`) and a docstring documenting every
argument, rejects unknown arguments naming the accepted ones, and registers it.

Pretrained weights (`garden.weights`): before the family builder runs, the entry point resolves
`weights` to a checkpoint of the model (`resolve_weights`): "imagenet" or a source name picks one
of the table, a PyTorch or safetensors file is read and recognised by its keys. The checkpoint's
`builder_kwargs` (e.g. AlexNet without LRN for torchvision's) join the arguments. The family
builder ends with `classifier(features, top, ...)`, which checks the contract's arguments,
creates the input (normalised inside with `include_preprocessing`), adds the top or the pooling
and loads the weights: a checkpoint's `convert`, or for keras.applications' checkpoints the
weights of the registry's `keras_application` (e.g. `keras.applications.VGG16`) copied in order,
so their download and caching stay keras.applications' own.
"""

import dataclasses
import functools
import inspect
import os

import keras
from keras import layers

from garden import weights as pretrained_weights
from garden.models._registry import check_arguments, register_model
from garden.utils.checks import check_bool, check_choice, check_int

POOLING = (None, "avg", "max")
CONTRACT_DEFAULTS = dict(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", include_preprocessing=False, name=None,
)
IMAGENET_CLASSES = 1000
# Keyword arguments of family builders that are not the entry points' own: the spec override
# of the registry's tiny instances and the registry's keras.applications name.
PRIVATE = ("spec", "keras_application")

CONTRACT_DOC = """\
include_top: bool. Whether to add the classifier top. Defaults to True.
weights: None; "imagenet" (the model's default pretrained checkpoint, downloaded into Keras'
    cache, its SHA-256 checked) or a source ("torchvision", "timm", "keras") where the model has
    such checkpoints (`garden info NAME` lists them); or the path to a file: a PyTorch
    (`.pth`, `.pt`) or safetensors checkpoint of the reference network, or a Keras weights file
    (`.weights.h5`, or a whole-model `.h5` as keras.applications'). Defaults to None.
input_tensor: optional Keras tensor (the output of `keras.Input()`) to use as the image input.
input_shape: (height, width, channels). Defaults to {input_shape}, the paper's. None as height
    and width gives a variable size where the top allows it (a top that flattens the features
    needs a fixed size).
pooling: None, "avg" or "max": pooling of the features when `include_top=False`. Defaults to
    None (the feature map).
classes: int. Number of classes. Defaults to {classes}.
classifier_activation: activation of the output layer (a name or a callable); None returns
    logits. Defaults to "softmax".
include_preprocessing: bool. Whether the model takes RGB images in [0, 255] and normalises
    them inside as its checkpoint was trained (`garden.weights.ImageNormalization`; without
    pretrained weights, as the model's default checkpoint). Defaults to False.
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


def _document(entry, family, defaults, input_shape):
    """The entry point's docstring: its own, then every argument (the family's, the contract's)."""
    contract = CONTRACT_DOC.format(
        input_shape=tuple(input_shape), classes=defaults["classes"], name=defaults["name"],
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
            weight order, whose ImageNet weights the "keras" checkpoint
            (`garden.weights.keras_applications`) copies. Defaults to None.
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
            arguments = {**bound_defaults, **kwargs}
            pretrained = resolve_weights(name, arguments, given=kwargs)
            return entry(**{**arguments, **pretrained.builder_kwargs}, pretrained=pretrained,
                         keras_application=keras_application, **private)

        @functools.wraps(entry)
        def builder(**kwargs):
            return call(kwargs)

        builder.__signature__ = signature
        builder.__doc__ = _document(entry, family, defaults, registration["input_shape"])
        tiny_builder = None if tiny is None else (lambda **kwargs: call(kwargs, spec=tiny))
        return register_model(
            **registration, keras_application=keras_application, tiny=tiny_builder
        )(builder)

    return decorate


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """What an entry point's `weights` resolved to (`resolve_weights`).

    Attributes:
        weights: the `weights` argument as given, for messages.
        checkpoint: the `garden.weights.Checkpoint` to load, or None.
        state: the arrays of a local PyTorch or safetensors file, or None (a checkpoint named
            by "imagenet" or its source is downloaded when the model is built).
        keras_file: the path of a local Keras weights file, or None.
        builder_kwargs: builder arguments the checkpoint's network needs.
        preprocessing: the normalisation `include_preprocessing=True` puts in the model, or
            None.
    """

    weights: object = None
    checkpoint: object = None
    state: dict | None = None
    keras_file: str | None = None
    builder_kwargs: dict = dataclasses.field(default_factory=dict)
    preprocessing: str | None = None


def _read_checkpoint_file(model, path):
    """The checkpoint of `model` that the PyTorch or safetensors file `path` holds (recognised
    by its keys, `Checkpoint.signature`) and the file's arrays."""
    state = pretrained_weights.load_state_dict(path)
    convertible = [c for c in pretrained_weights.checkpoints(model).values() if c.convert]
    for checkpoint in convertible:
        if checkpoint.matches(state):
            return checkpoint, state
    keys = ", ".join(list(state)[:3])
    if not convertible:
        raise ValueError(f"weights={path!r} is a PyTorch or safetensors checkpoint, but {model} "
                         "has no converter for one: use a Keras weights file (.weights.h5, .h5).")
    layouts = "; ".join(
        f"{c.source}'s, with keys {', '.join(c.signature)}"
        + (f" (builder arguments {dict(c.builder_kwargs)})" if c.builder_kwargs else "")
        for c in convertible
    )
    raise ValueError(f"weights={path!r} is not a checkpoint garden converts into {model}: its "
                     f"keys begin {keys}, and {model} reads {layouts}.")


def resolve_weights(model, arguments, given):
    """Resolves the `weights` of registered model `model` before it is built.

    Args:
        model: the registry name.
        arguments: all the entry point's arguments (defaults filled in).
        given: the arguments the caller passed, which a checkpoint's `builder_kwargs` may not
            contradict.

    Returns:
        A `Pretrained`.
    """
    weights, include_top = arguments["weights"], arguments["include_top"]
    checkpoint = state = keras_file = None
    if weights is None:
        pass
    elif isinstance(weights, str) and (
            weights == "imagenet" or weights in pretrained_weights.checkpoints(model)):
        checkpoint = pretrained_weights.get_checkpoint(model, weights)
        if include_top and arguments["classes"] != IMAGENET_CLASSES:
            raise ValueError(
                f"classes={arguments['classes']} is not allowed with weights={weights!r} and "
                f"include_top=True: the ImageNet classifier has {IMAGENET_CLASSES} classes (use "
                "include_top=False for other counts)."
            )
    elif isinstance(weights, (str, os.PathLike)) and (
            os.fspath(weights).endswith(pretrained_weights.FILE_SUFFIXES)):
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise ValueError(f"weights={weights!r}: the file does not exist.")
        if path.endswith(pretrained_weights.KERAS_SUFFIXES):
            keras_file = path
        else:
            checkpoint, state = _read_checkpoint_file(model, path)
    else:
        pretrained_weights.get_checkpoint(model, weights)  # raises, naming what is allowed
    builder_kwargs = dict(checkpoint.builder_kwargs) if checkpoint else {}
    for key, value in builder_kwargs.items():
        if key in given and given[key] != value:
            raise ValueError(
                f"{key}={given[key]!r} contradicts weights={weights!r}: the {checkpoint.source} "
                f"checkpoint of {model} is of the network with {key}={value!r}."
            )
    preprocessing = None
    if check_bool("include_preprocessing", arguments["include_preprocessing"]):
        source = checkpoint or pretrained_weights.default_checkpoint(model)
        if source is None:
            raise ValueError(
                f"include_preprocessing=True is not allowed for {model}: it has no pretrained "
                "checkpoint whose normalisation it would use."
            )
        preprocessing = source.preprocessing
    return Pretrained(weights, checkpoint, state, keras_file, builder_kwargs, preprocessing)


def check_classifier_args(*, include_top, pooling, classes, classifier_activation, name):
    """Validates the contract's arguments, naming the wrong one and what is allowed."""
    check_bool("include_top", include_top)
    check_choice("pooling", pooling, POOLING)
    check_int("classes", classes)
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
    include_preprocessing, name, pretrained=None, keras_application=None,
    application_kwargs=None, model_class=keras.Model,
):
    """A classifier: the input, `features(image)`, then `top` or `pooling`, then the weights.

    Args:
        features: callable taking the image tensor and returning the feature map.
        top: callable `top(features, classes, classifier_activation)` returning the output
            tensor, or a list of them (main output first). Defaults to `pooled_top`.
        default_shape: the input shape when `input_shape` is None.
        min_size: smallest height and width the architecture accepts.
        fixed_size_top: bool. Whether the top needs a known height and width (it flattens).
        pretrained: `Pretrained`: the weights to load, resolved by the entry point; None: none.
        keras_application: name of the `keras.applications` model whose ImageNet weights a
            "keras" checkpoint copies in order; None: the arguments made another network.
        application_kwargs: dict. Further arguments of that keras.applications model (e.g.
            MobileNet's `alpha`).
        model_class: makes the model as `model_class(inputs, outputs, name=name)`: a functional
            `keras.Model` subclass with its own training logic can be given.
        The others: the contract's arguments, as documented on the entry points.
    """
    pretrained = pretrained or Pretrained()
    check_classifier_args(
        include_top=include_top, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name,
    )
    checkpoint = pretrained.checkpoint
    if checkpoint is not None and checkpoint.convert is None and keras_application is None:
        raise ValueError(
            f"weights={weights!r} is not allowed with these arguments: keras.applications' "
            "weights are those of the standard network."
        )
    img, inputs = image_input(input_shape, input_tensor, default_shape=default_shape,
                              min_size=min_size)
    if include_top and fixed_size_top and None in tuple(img.shape[1:3]):
        raise ValueError(
            f"input_shape={tuple(img.shape[1:])} is not allowed with include_top=True: this "
            "model's top needs a fixed height and width. Use include_top=False (with pooling) "
            "for a variable size, or a fixed input_shape."
        )
    x = img
    if include_preprocessing:
        x = pretrained_weights.ImageNormalization(pretrained.preprocessing,
                                                  name="preprocessing")(x)
    x = features(x)
    x = top(x, classes, classifier_activation) if include_top else global_pool(x, pooling)
    model = model_class(inputs, x, name=name)
    if pretrained.keras_file:
        model.load_weights(pretrained.keras_file)
    elif checkpoint is not None and checkpoint.convert is None:
        _copy_keras_application(model, keras_application, application_kwargs, include_top,
                                tuple(img.shape[1:]), checkpoint)
    elif checkpoint is not None:
        state = pretrained.state
        if state is None:
            state = pretrained_weights.load_state_dict(pretrained_weights.download(checkpoint))
        if not include_top:
            state = {k: v for k, v in state.items() if not k.startswith(checkpoint.top_prefixes)}
        checkpoint.convert(model, state)
    return model


def _copy_keras_application(model, application_name, application_kwargs, include_top,
                            input_shape, checkpoint):
    """Copies the ImageNet weights of `keras.applications.<application_name>` in order."""
    application = getattr(keras.applications, application_name)
    try:
        reference = application(include_top=include_top, weights="imagenet",
                                input_shape=input_shape, **(application_kwargs or {}))
    except Exception as e:
        if "URL fetch failure" not in str(e):
            raise
        raise ValueError(
            f"Could not download keras.applications.{application_name}'s ImageNet weights "
            f"({e}). Without internet access, download {checkpoint.url} (its _notop.h5 twin for "
            f"include_top=False) elsewhere and pass it: weights='/path/to/{checkpoint.file_name}'."
        ) from None
    model.set_weights(reference.get_weights())
