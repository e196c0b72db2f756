"""A CNN classifier with a spatial transformer in front (the paper's ST-CNN).

Reference:
    Jaderberg, Simonyan, Zisserman and Kavukcuoglu, "Spatial Transformer Networks", NeurIPS
    2015. https://arxiv.org/abs/1506.02025

The classifier is two convolution + max-pooling stages and a softmax layer; the localisation
network is two smaller convolution + max-pooling stages and a dense layer whose output the
transformer maps to the six affine parameters. `transformer=False` gives the same CNN without the
transformer, the paper's baseline.
"""

import keras
from keras import layers

from garden.layers import SpatialTransformer
from garden.models._classifier import classifier, dense_top, register_classifier
from garden.utils.checks import check_bool, check_int, check_ints

KERNEL_SIZE = 5


def localization_network(filters=(20, 20), units=50, name="localization"):
    """The localisation network: per entry of `filters` a 5x5 convolution, 2x2 max pooling and
    ReLU, then a dense layer of `units` with ReLU (the transformer adds the affine head)."""
    stack = []
    for index, width in enumerate(filters, start=1):
        stack += [
            layers.Conv2D(width, KERNEL_SIZE, padding="same", name=f"loc_conv{index}"),
            layers.MaxPooling2D(2, name=f"loc_pool{index}"),
            layers.ReLU(name=f"loc_relu{index}"),
        ]
    stack += [layers.Flatten(name="loc_flatten"), layers.Dense(units, "relu", name="loc_fc")]
    return keras.Sequential(stack, name=name)


def _stn_classifier(*, transformer=True, output_size=None, filters=(32, 64),
                    localization_filters=(20, 20), localization_units=50,
                    theta_initializer="zeros", **kwargs):
    """Builds the ST-CNN. The input is at least `2 ** len(filters)` pixels high and wide.

    Args:
        transformer: bool. Whether to put the spatial transformer in front; False gives the
            plain CNN with the same classifier. Defaults to True.
        output_size: (height, width) the transformer samples, or None for the input size.
            Defaults to None.
        filters: sequence of int. Channels of the classifier's 5x5 convolutions, each followed
            by ReLU and 2x2 max pooling. Defaults to (32, 64).
        localization_filters: sequence of int. Channels of the localisation network's
            convolutions. Defaults to (20, 20).
        localization_units: int. Width of the localisation network's dense layer. Defaults to 50.
        theta_initializer: initializer of the kernel that maps the localisation features to the
            affine parameters (their bias starts at the identity). Defaults to "zeros": the
            transformer starts as the identity.
    """
    check_bool("transformer", transformer)
    filters = check_ints("filters", filters)
    localization_filters = check_ints("localization_filters", localization_filters)
    check_int("localization_units", localization_units)

    def features(x):
        if transformer:
            localization = localization_network(localization_filters, localization_units)
            x = SpatialTransformer(localization, output_size=output_size,
                                   theta_initializer=theta_initializer, name="transformer")(x)
        for index, width in enumerate(filters, start=1):
            x = layers.Conv2D(width, KERNEL_SIZE, padding="same", activation="relu",
                              name=f"conv{index}")(x)
            x = layers.MaxPooling2D(2, name=f"pool{index}")(x)
        return x

    return classifier(features, dense_top, fixed_size_top=True, default_shape=(42, 42, 1),
                      min_size=2 ** len(filters), **kwargs)


@register_classifier(
    _stn_classifier,
    classes=10,
    paper="Jaderberg et al., Spatial Transformer Networks",
    year=2015,
    arxiv="https://arxiv.org/abs/1506.02025",
    input_shape=(42, 42, 1),
    small_kwargs={
        "input_shape": (16, 16, 1),
        "classes": 3,
        "filters": (4, 8),
        "localization_filters": (4,),
        "localization_units": 8,
        # A random start (the default is the identity) gives every weight a gradient at once
        # and makes the backend comparison sample at non-integer positions.
        "theta_initializer": "glorot_uniform",
    },
    feature_layers=("conv*", "pool*"),
)
def stn_classifier(**kwargs):
    """ST-CNN (Jaderberg et al. 2015): a spatial transformer, then a small CNN classifier.

    Example:
    >>> model = stn_classifier(input_shape=(42, 42, 1), classes=10)
    >>> model.output_shape
    (None, 10)
    """
    return _stn_classifier(**kwargs)
