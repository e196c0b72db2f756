"""Loss networks: the fixed feature extractors that garden.losses' perceptual losses compare on.

    from garden import losses, models
    loss = losses.PerceptualLoss(models.vgg16_loss_network())
"""

from garden.models.vgg import vgg16


def vgg16_loss_network(weights=None):
    """VGG-16 without its top, for images of any size: Johnson et al.'s loss network.

    Its layers `block1_conv2`, `block2_conv2`, `block3_conv3`, `block4_conv3` are the paper's
    relu1_2 .. relu4_3 (Keras' convolutions include the ReLU).

    Args:
        weights: None (random), a weights file, or "imagenet" (keras.applications' download,
            online only), as for `vgg16`. The paper uses ImageNet weights. Defaults to None.

    Returns:
        A `keras.Model` from images `(None, None, 3)` to the last convolution block.

    Reference:
        Johnson et al. 2016, https://arxiv.org/abs/1603.08155
    """
    return vgg16(include_top=False, weights=weights, input_shape=(None, None, 3))
