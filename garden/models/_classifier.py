"""The keras.applications classifier contract, shared by every image classifier builder.

Builders take `include_top, weights, input_tensor, input_shape, pooling, classes,
classifier_activation, name` with keras.applications' meaning. These helpers validate the
arguments, create the input, add the optional pooling, and load weights, so each model file holds
only its architecture.
"""

import os

import keras

POOLING = (None, "avg", "max")


def check_classifier_args(*, include_top, weights, pooling, classes, imagenet=False):
    """Validates the contract's arguments, naming the wrong one and what is allowed."""
    allowed_weights = "None, 'imagenet' or the path to a weights file" if imagenet else (
        "None or the path to a weights file"
    )
    if weights is not None and not (imagenet and weights == "imagenet"):
        if not isinstance(weights, (str, os.PathLike)) or not os.path.exists(weights):
            raise ValueError(f"weights={weights!r} is not allowed: use {allowed_weights}.")
    if pooling not in POOLING:
        raise ValueError(f"pooling={pooling!r} is not allowed: use None, 'avg' or 'max'.")
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 1:
        raise ValueError(f"classes={classes!r} is not allowed: use a positive integer.")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            f"classes={classes} is not allowed with weights='imagenet' and include_top=True: "
            "the ImageNet classifier has 1000 classes (use include_top=False for other counts)."
        )


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
    shape = tuple(default_shape if input_shape is None else input_shape)
    if len(shape) != 3 or any(d is not None and (not isinstance(d, int) or d < 1) for d in shape):
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
    x = keras.Input(shape=shape)
    return x, x


def global_pool(x, pooling):
    """`pooling` applied to a feature map: None keeps it, "avg" / "max" reduce it to a vector."""
    if pooling == "avg":
        return keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def finish(inputs, outputs, *, name, weights, imagenet_reference=None, model_class=keras.Model):
    """Creates the functional model and loads `weights` into it.

    `imagenet_reference` is a zero-argument callable returning the keras.applications model with
    the same architecture and `weights="imagenet"`; its weights are copied in layer order, so the
    download and caching stay keras.applications' own. `model_class` makes the model, called as
    `model_class(inputs, outputs, name=name)`: a functional `keras.Model` subclass with its own
    training logic can be given.
    """
    model = model_class(inputs, outputs, name=name)
    if weights == "imagenet":
        model.set_weights(imagenet_reference().get_weights())
    elif weights is not None:
        model.load_weights(os.fspath(weights))
    return model
