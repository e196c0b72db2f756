"""The input normalisation each checkpoint was trained with, in NumPy and as a Keras layer.

The three modes are keras.applications' (`keras.applications.imagenet_utils.preprocess_input`),
all from RGB images in [0, 255]:
- "torch": x / 255, then minus ImageNet's mean and divided by its standard deviation per channel
  (torchvision's `Normalize`, timm's defaults);
- "tf": x / 127.5 - 1, i.e. [-1, 1] (keras.applications' MobileNet);
- "caffe": RGB -> BGR, then minus ImageNet's mean per channel (keras.applications' VGG, ResNet).
"""

import keras
import numpy as np
from keras import ops

from garden.utils.checks import check_choice
from garden.utils.serialization import serializable

TORCH_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
TORCH_STD = np.array([0.229, 0.224, 0.225], np.float32)
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)
MODES = ("torch", "tf", "caffe")


def normalize(images, mode):
    """RGB images in [0, 255] (channels last) normalised as `mode` says, as float32."""
    check_choice("mode", mode, MODES)
    x = np.asarray(images, np.float32)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"images of shape {x.shape} are not allowed: use RGB images with 3 "
                         "channels last.")
    if mode == "torch":
        return (x / np.float32(255) - TORCH_MEAN) / TORCH_STD
    if mode == "tf":
        return x / np.float32(127.5) - np.float32(1)
    return x[..., ::-1] - CAFFE_MEAN_BGR


@serializable
class ImageNormalization(keras.layers.Layer):
    """`normalize` inside a model: RGB in [0, 255] in, the checkpoint's normalisation out.

    Elementwise arithmetic and a channel reversal only, so a TFLite file of the model takes raw
    pixels and uses builtin ops. No weights: the model's weights stay the network's.

    Args:
        mode: "torch", "tf" or "caffe" (see the module's docstring).
    """

    def __init__(self, mode, **kwargs):
        super().__init__(**kwargs)
        self.mode = check_choice("mode", mode, MODES)

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        if self.mode == "torch":
            return (x / 255.0 - TORCH_MEAN) / TORCH_STD
        if self.mode == "tf":
            return x / 127.5 - 1.0
        return ops.flip(x, axis=-1) - CAFFE_MEAN_BGR

    def compute_output_shape(self, input_shape):
        return input_shape

    def multiply_adds(self, input_shape):
        """Elementwise arithmetic: no multiply-adds of a kernel."""
        return 0

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
