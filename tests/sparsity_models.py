"""The small model the sparsity tests prune, written once for both Keras 3 and tf_keras so the
tfmot comparison can build the same network in each."""


def build_twin_model(keras_module):
    """Conv2D, SeparableConv2D and two Dense layers on 8x8x1 inputs, in `keras_module`
    (`keras` or `tf_keras`); both give the same weight list in the same order."""
    layers = keras_module.layers
    return keras_module.Sequential([
        keras_module.Input((8, 8, 1)),
        layers.Conv2D(4, 3, activation="relu", name="conv"),
        layers.SeparableConv2D(6, 3, activation="relu", name="separable"),
        layers.Flatten(name="flatten"),
        layers.Dense(16, activation="relu", name="hidden"),
        layers.Dense(10, name="logits"),
    ])
