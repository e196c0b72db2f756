"""Perceptual losses (Johnson et al. 2016): distances between a fixed network's features.

Reference:
    Johnson, Alahi and Fei-Fei, "Perceptual Losses for Real-Time Style Transfer and
    Super-Resolution", ECCV 2016. https://arxiv.org/abs/1603.08155

The losses compute on the loss network they are given (`feature_extractor`, frozen), so this
leaf module needs no model of its own. The paper's loss network, and the documented choice, is
VGG-16: `garden.models.vgg16_loss_network(weights)` builds it (its layer `block2_conv2` is the
paper's relu2_2: Keras' convolutions include the ReLU); any Keras model can be given with the
names of its layers to compare.
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

    def __init__(self, feature_extractor, layers, preprocess, reduction, name, dtype):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        check_choice("preprocess", preprocess, PREPROCESSING)
        if isinstance(feature_extractor, dict):
            feature_extractor = keras.saving.deserialize_keras_object(feature_extractor)
        if not isinstance(feature_extractor, keras.Model):
            raise ValueError(
                f"feature_extractor={feature_extractor!r} is not allowed: use a Keras model, "
                "e.g. garden.models.vgg16_loss_network() (the paper's VGG-16)."
            )
        self.layers = list(layers)
        self.preprocess = preprocess
        self.feature_extractor = feature_extractor
        self.features = feature_extractor_outputs(feature_extractor, self.layers)

    def _features(self, images):
        images = ops.convert_to_tensor(images, self.dtype)
        if self.preprocess == "vgg":  # images in [0, 1], RGB (grey: repeated)
            if images.shape[-1] == 1:
                images = ops.repeat(images, 3, axis=-1)
            images = images[..., ::-1] * 255.0 - ops.convert_to_tensor(VGG_MEAN_BGR, self.dtype)
        outputs = self.features(images)
        return outputs if isinstance(outputs, (list, tuple)) else [outputs]

    def get_config(self):  # the extractor's architecture; its weights are not a config's
        extractor = self.feature_extractor
        return {
            **super().get_config(),
            "feature_extractor": keras.saving.serialize_keras_object(extractor),
            "layers": self.layers,
            "preprocess": self.preprocess,
        }


@serializable
class PerceptualLoss(_FeatureLoss):
    """Feature reconstruction loss, `||phi_j(y_pred) - phi_j(y_true)||^2 / (C_j H_j W_j)` (Eq. 2),
    summed over the given layers.

    Args:
        feature_extractor: the loss network, a Keras model (frozen here), e.g.
            `garden.models.vgg16_loss_network()`, the paper's VGG-16.
        layers: names of the loss network's layers. Defaults to ("block2_conv2",), VGG-16's
            relu2_2 (the paper's choice for super-resolution and style transfer).
        preprocess: "vgg" (images in [0, 1] RGB, or one grey channel, are converted as
            keras.applications' VGG expects) or None (images go to the extractor as they
            are). Defaults to "vgg".
        reduction, name, dtype: as for every Keras loss.

    Reference:
        Johnson et al. 2016, https://arxiv.org/abs/1603.08155
    """

    def __init__(self, feature_extractor, layers=("block2_conv2",), preprocess="vgg",
                 reduction="sum_over_batch_size", name="perceptual_loss", dtype=None):
        super().__init__(feature_extractor, layers, preprocess, reduction, name, dtype)

    def call(self, y_true, y_pred):
        return sum(ops.mean(ops.square(a - b), axis=(1, 2, 3))
                   for a, b in zip(self._features(y_pred), self._features(y_true)))


@serializable
class StyleLoss(_FeatureLoss):
    """Style reconstruction loss, `sum_j ||G_j(y_pred) - G_j(y_true)||_F^2` with the Gram
    matrices of `gram_matrix` (Eq. 3-4). A single style image as `y_true` is compared with every
    prediction of the batch.

    Args:
        feature_extractor: the loss network, as for `PerceptualLoss`.
        layers: names of the loss network's layers. Defaults to VGG-16's relu1_2, relu2_2,
            relu3_3 and relu4_3.
        preprocess, reduction, name, dtype: as for `PerceptualLoss`.

    Reference:
        Johnson et al. 2016, https://arxiv.org/abs/1603.08155
    """

    def __init__(self, feature_extractor, layers=STYLE_LAYERS, preprocess="vgg",
                 reduction="sum_over_batch_size", name="style_loss", dtype=None):
        super().__init__(feature_extractor, layers, preprocess, reduction, name, dtype)

    def call(self, y_true, y_pred):
        return sum(ops.sum(ops.square(gram_matrix(a) - gram_matrix(b)), axis=(1, 2))
                   for a, b in zip(self._features(y_pred), self._features(y_true)))
