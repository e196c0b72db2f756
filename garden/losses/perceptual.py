"""Perceptual losses (Johnson et al. 2016): distances between a fixed network's features.

Reference:
    Johnson, Alahi and Fei-Fei, "Perceptual Losses for Real-Time Style Transfer and
    Super-Resolution", ECCV 2016. https://arxiv.org/abs/1603.08155

The loss network is VGG-16 by default (garden's `vgg16`, whose layer `block2_conv2` is the
paper's relu2_2: Keras' convolutions include the ReLU); `weights` is None (random), a local
weights file or "imagenet" (keras.applications' download, online only). Any Keras model can be
given as `feature_extractor` with the names of its layers to compare; the extractor is frozen.
"""

import keras
from keras import ops

from garden.utils.checks import check_choice
from garden.utils.serialization import serializable

STYLE_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3")
# keras.applications.vgg16.preprocess_input ("caffe"): BGR, minus the ImageNet mean, 0..255.
VGG_MEAN_BGR = (103.939, 116.779, 123.68)
PREPROCESSING = ("vgg", None)


def total_variation(images):
    """Total variation of each image: the sum of absolute differences between vertically and
    horizontally neighbouring pixels (as `tf.image.total_variation`), the paper's `l_TV`.

    Args:
        images: tensor `(batch, height, width, channels)`.

    Returns:
        Tensor `(batch,)`.
    """
    images = ops.convert_to_tensor(images)
    dy = ops.abs(images[:, 1:] - images[:, :-1])
    dx = ops.abs(images[:, :, 1:] - images[:, :, :-1])
    return ops.sum(dy, axis=(1, 2, 3)) + ops.sum(dx, axis=(1, 2, 3))


def gram_matrix(features):
    """`G[c, c'] = sum_{h, w} phi[h, w, c] phi[h, w, c'] / (C H W)` per example (Eq. 3).

    Args:
        features: tensor `(batch, height, width, channels)`.

    Returns:
        Tensor `(batch, channels, channels)`.
    """
    features = ops.convert_to_tensor(features)
    _, height, width, channels = ops.shape(features)
    flat = ops.reshape(features, (ops.shape(features)[0], height * width, channels))
    size = ops.cast(height * width * channels, features.dtype)
    return ops.einsum("bnc,bnd->bcd", flat, flat) / size


def feature_extractor_outputs(feature_extractor, layer_names):
    """A frozen model from `feature_extractor`'s input to the outputs of `layer_names`."""
    names = [layer.name for layer in feature_extractor.layers]
    missing = [name for name in layer_names if name not in names]
    if missing:
        raise ValueError(
            f"layers={list(layer_names)!r} is not allowed: {', '.join(missing)} not in "
            f"{feature_extractor.name}. Its layers: {', '.join(names)}."
        )
    model = keras.Model(feature_extractor.input,
                        [feature_extractor.get_layer(name).output for name in layer_names],
                        name=f"{feature_extractor.name}_features")
    model.trainable = False
    return model


class _FeatureLoss(keras.losses.Loss):
    """The loss network shared by the perceptual losses."""

    def __init__(self, layers, feature_extractor, weights, preprocess, reduction, name, dtype):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        check_choice("preprocess", preprocess, PREPROCESSING)
        if isinstance(feature_extractor, dict):
            feature_extractor = keras.saving.deserialize_keras_object(feature_extractor)
        self.layers = list(layers)
        self.weights = weights
        self.preprocess = preprocess
        self.feature_extractor = feature_extractor
        if feature_extractor is None:
            from garden.models import vgg16

            feature_extractor = vgg16(include_top=False, weights=weights,
                                      input_shape=(None, None, 3))
        self.features = feature_extractor_outputs(feature_extractor, self.layers)

    def _features(self, images):
        images = ops.convert_to_tensor(images, self.dtype)
        if self.preprocess == "vgg":  # images in [0, 1], RGB (grey: repeated)
            if images.shape[-1] == 1:
                images = ops.repeat(images, 3, axis=-1)
            images = images[..., ::-1] * 255.0 - ops.convert_to_tensor(VGG_MEAN_BGR, self.dtype)
        outputs = self.features(images)
        return outputs if isinstance(outputs, (list, tuple)) else [outputs]

    def get_config(self):
        extractor = self.feature_extractor
        return {
            **super().get_config(),
            "layers": self.layers,
            "feature_extractor": None if extractor is None
            else keras.saving.serialize_keras_object(extractor),
            "weights": self.weights,
            "preprocess": self.preprocess,
        }


@serializable
class PerceptualLoss(_FeatureLoss):
    """Feature reconstruction loss, `||phi_j(y_pred) - phi_j(y_true)||^2 / (C_j H_j W_j)` (Eq. 2),
    summed over the given layers.

    Args:
        layers: names of the loss network's layers. Defaults to ("block2_conv2",), VGG-16's
            relu2_2 (the paper's choice for super-resolution and style transfer).
        feature_extractor: a Keras model, or None for garden's VGG-16 without its top.
        weights: the default VGG-16's weights: None, a weights file or "imagenet".
            Defaults to None.
        preprocess: "vgg" (images in [0, 1] RGB, or one grey channel, are converted as
            keras.applications' VGG expects) or None (images go to the extractor as they are). Defaults to "vgg".
        reduction, name, dtype: as for every Keras loss.

    Reference:
        Johnson et al. 2016, https://arxiv.org/abs/1603.08155
    """

    def __init__(self, layers=("block2_conv2",), feature_extractor=None, weights=None,
                 preprocess="vgg", reduction="sum_over_batch_size", name="perceptual_loss",
                 dtype=None):
        super().__init__(layers, feature_extractor, weights, preprocess, reduction, name, dtype)

    def call(self, y_true, y_pred):
        return sum(ops.mean(ops.square(a - b), axis=(1, 2, 3))
                   for a, b in zip(self._features(y_pred), self._features(y_true)))


@serializable
class StyleLoss(_FeatureLoss):
    """Style reconstruction loss, `sum_j ||G_j(y_pred) - G_j(y_true)||_F^2` with the Gram
    matrices of `gram_matrix` (Eq. 3-4). A single style image as `y_true` is compared with every
    prediction of the batch.

    Args:
        layers: names of the loss network's layers. Defaults to VGG-16's relu1_2, relu2_2,
            relu3_3 and relu4_3.
        feature_extractor, weights, preprocess, reduction, name, dtype: as for
            `PerceptualLoss`.

    Reference:
        Johnson et al. 2016, https://arxiv.org/abs/1603.08155
    """

    def __init__(self, layers=STYLE_LAYERS, feature_extractor=None, weights=None,
                 preprocess="vgg", reduction="sum_over_batch_size", name="style_loss",
                 dtype=None):
        super().__init__(layers, feature_extractor, weights, preprocess, reduction, name, dtype)

    def call(self, y_true, y_pred):
        return sum(ops.sum(ops.square(gram_matrix(a) - gram_matrix(b)), axis=(1, 2))
                   for a, b in zip(self._features(y_pred), self._features(y_true)))
