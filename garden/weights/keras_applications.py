"""keras.applications' ImageNet checkpoints, source "keras".

garden's vgg16, vgg19, resnet50/101/152 and mobilenet_v1 have keras.applications' layers in
keras.applications' order, so these checkpoints load by building the keras.applications model
with its weights (keras.applications downloads and checks its own files, with and without the
top) and copying them in order: `convert` is None. The top-1 accuracies are keras.io's
(https://keras.io/api/applications/).
"""

from garden.weights._checkpoints import Checkpoint, register_checkpoint

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
# model: (file under BASE_URL, top-1 %, preprocessing, whether it is the model's "imagenet").
# VGG's "imagenet" is torchvision's (issue 24); keras.applications' stays `weights="keras"`.
KERAS_CHECKPOINTS = {
    "vgg16": ("vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5", 71.3, "caffe", False),
    "vgg19": ("vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5", 71.3, "caffe", False),
    "resnet50": ("resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5", 74.9, "caffe", True),
    "resnet101": ("resnet/resnet101_weights_tf_dim_ordering_tf_kernels.h5", 76.4, "caffe", True),
    "resnet152": ("resnet/resnet152_weights_tf_dim_ordering_tf_kernels.h5", 76.6, "caffe", True),
    "mobilenet_v1": ("mobilenet/mobilenet_1_0_224_tf.h5", 70.4, "tf", True),
}

for _model, (_file, _top1, _preprocessing, _default) in KERAS_CHECKPOINTS.items():
    register_checkpoint(Checkpoint(
        model=_model, source="keras", url=BASE_URL + _file, sha256="", size_bytes=None,
        top1=_top1, preprocessing=_preprocessing, convert=None, default=_default,
    ))
