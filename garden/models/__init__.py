"""Model builders, one module per paper family, and the registry that lists them.

    from garden import models
    model = models.build("mobilenet_v1", alpha=0.5, classes=10, input_shape=(96, 96, 3))
    models.list_models("mobilenet*"); models.info("mobilenet_v1")
    model = models.resnet50(weights="imagenet")   # pretrained: see garden.weights
    models.decode_predictions(model.predict(models.preprocess_input(images, model="resnet50")))

Importing this package imports every model module, so the registry is complete.

A classifier without its top (`include_top=False`) returns its last feature map, or with
`pooling="avg"` / `"max"` its global average / maximum, as keras.applications' do. Its stage
features, for a detection or segmentation head, come from `features` as one multi-output model
(what timm's `features_only=True` and KerasHub's `pyramid_outputs` give):

    pyramid = models.features("resnet50", strides=(4, 8, 16, 32), weights="imagenet")
    c2, c3, c4, c5 = pyramid(images)
    models.feature_layers(model)  # {stride: layer name} of a built classifier

Every image classifier family has them (ResNet, VGG, AlexNet, SqueezeNet, GoogLeNet,
MobileNet, HRNet's four branches, ST-CNN, the convolutional fabric's last column); the MLPs and
CapsNet have no stages of a pyramid. DeepLab reads its backbone's deepest stage this way.
"""

from garden.models._registry import (
    QUANTITIES,
    Figure,
    ModelEntry,
    build,
    figure,
    get_entry,
    info,
    list_models,
    register_model,
)
from garden.models._features import feature_layers, features
from garden.models._steps import StepModel, trains_itself
from garden.models.alexnet import alexnet
from garden.models.capsnet import CapsNet, capsnet
from garden.models.char_lstm import char_lstm
from garden.models.deeplab import deeplab, with_output_stride
from garden.models.fabric import conv_fabric
from garden.models.gan import GAN, dcgan, wgan
from garden.models.googlenet import GoogLeNet, googlenet
from garden.models.graph import dcnn, gcn
from garden.models.hrnet import hrnet_w18, hrnet_w18_small, hrnet_w32
from garden.models.loss_networks import vgg16_loss_network
from garden.models.mlp import dropout_mlp, selu_mlp
from garden.models.mobilenet import mobilenet_v1
from garden.models.nvae import NVAE, nvae
from garden.models.resnet import (
    resnet18,
    resnet20,
    resnet34,
    resnet50,
    resnet50d,
    resnet56,
    resnet101,
    resnet110,
    resnet152,
)
from garden.models.squeezenet import squeezenet1_0, squeezenet1_1
from garden.models.stn import stn_classifier
from garden.models.super_resolution import espcn, srcnn
from garden.models.transform_net import sr_transform_net, transform_net
from garden.models.unet import unet
from garden.models.vae import VAE, vae
from garden.models.vgg import vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
from garden.models.voice_unet import voice_unet
from garden.weights import decode_predictions, preprocess_input

__all__ = [
    "QUANTITIES",
    "Figure",
    "ModelEntry",
    "build",
    "feature_layers",
    "features",
    "figure",
    "get_entry",
    "info",
    "list_models",
    "register_model",
    "decode_predictions",
    "preprocess_input",
    "CapsNet",
    "GAN",
    "GoogLeNet",
    "NVAE",
    "StepModel",
    "VAE",
    "alexnet",
    "capsnet",
    "char_lstm",
    "conv_fabric",
    "dcgan",
    "dcnn",
    "deeplab",
    "dropout_mlp",
    "espcn",
    "gcn",
    "googlenet",
    "hrnet_w18",
    "hrnet_w18_small",
    "hrnet_w32",
    "mobilenet_v1",
    "nvae",
    "resnet101",
    "resnet110",
    "resnet152",
    "resnet18",
    "resnet20",
    "resnet34",
    "resnet50",
    "resnet50d",
    "resnet56",
    "selu_mlp",
    "squeezenet1_0",
    "squeezenet1_1",
    "sr_transform_net",
    "srcnn",
    "stn_classifier",
    "trains_itself",
    "transform_net",
    "unet",
    "vae",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_loss_network",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "voice_unet",
    "wgan",
    "with_output_stride",
]
