"""ResNet: deep residual learning, its CIFAR-10 networks, and the Bag-of-Tricks ResNet-D.

References:
    He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.
    https://arxiv.org/abs/1512.03385
    He, Zhang, Zhang, Zhang, Xie and Li, "Bag of Tricks for Image Classification with
    Convolutional Neural Networks", CVPR 2019. https://arxiv.org/abs/1812.01187

Every variant is data in `RESNETS`, built by one function:
- `resnet18`, `resnet34`: Table 1 of He et al. with basic blocks (two 3x3 convolutions), batch
  normalization after every convolution (which has no bias), and projection shortcuts where the
  shape changes (option B); the first 3x3 convolution of a stage has the stride. Their trainable
  parameters are torchvision's (11,689,512 and 21,797,672).
- `resnet50`, `resnet101`, `resnet152`: bottleneck blocks (1x1, 3x3, 1x1 with 4x expansion) with
  the stride in the first 1x1 convolution, as the paper's original models ("ResNet-A" in Bag of
  Tricks). Layer names, order and shapes are `keras.applications.ResNet50/101/152`'s, whose
  ImageNet weights therefore load with `set_weights`; like them the convolutions have biases (the
  paper's Caffe models have none) and batch normalization uses epsilon 1.001e-5, which every
  variant here shares. Batch normalization's moving averages use momentum 0.9 (the default of
  Torch, PyTorch and MXNet, in which Bag of Tricks was trained) rather than Keras' 0.99, so they
  track the weights within tens of steps; weights and inference are unchanged.
- `resnet50d`: ResNet-50 with the three tweaks of Bag of Tricks section 4: B, the stride moved to
  the 3x3 convolution; C, a stem of three 3x3 convolutions (32, 32, 64 filters) instead of the 7x7;
  D, downsampling shortcuts that average-pool 2x2 before their 1x1 convolution. No biases, so its
  trainable parameters are timm's `resnet50d` (25,576,264). `zero_init_residual=True` adds the
  paper's zero-gamma initialisation (section 3.1).
- `resnet20`, `resnet56`, `resnet110`: the CIFAR-10 networks of He et al. section 4.2: a 3x3
  convolution of 16 filters, three stages of n basic blocks with 16, 32 and 64 filters
  (depth 6n + 2), and parameter-free zero-padding shortcuts (option A, `ZeroPaddingShortcut`), so
  `shortcuts=False` gives the plain network with exactly the same parameters.

`shortcuts=False` removes every shortcut (and projection), giving the paper's "plain" networks.
The blocks' outputs are named `conv{stage}_block{index}_out` (stages 2-5, or 2-4 for CIFAR), the
feature maps a detection or segmentation head takes; `garden.models.with_output_stride` makes
the ImageNet variants dense for DeepLab, replacing strides by dilation with every weight's shape
kept, so ImageNet weights still load.

Example:
>>> model = resnet18(input_shape=(32, 32, 3), classes=10)
>>> model.output_shape
(None, 10)
>>> features = resnet50(include_top=False, input_shape=(64, 64, 3))
>>> features.output_shape
(None, 2, 2, 2048)
"""

from keras import layers

from garden.layers import ZeroPaddingShortcut
from garden.models._classifier import classifier, register_classifier
from garden.models._registry import figure
from garden.utils.checks import check_bool

IMAGENET = dict(widths=(64, 128, 256, 512), stem="7x7", shortcut="projection", conv_bias=False,
                stride_in_1x1=False)
KERAS_LAYOUT = dict(IMAGENET, conv_bias=True, stride_in_1x1=True)
CIFAR = dict(widths=(16, 32, 64), stem="cifar", shortcut="zero_padding", conv_bias=False,
             stride_in_1x1=False)
RESNETS = {
    "resnet18": dict(IMAGENET, block="basic", depths=(2, 2, 2, 2)),
    "resnet34": dict(IMAGENET, block="basic", depths=(3, 4, 6, 3)),
    "resnet50": dict(KERAS_LAYOUT, block="bottleneck", depths=(3, 4, 6, 3)),
    "resnet101": dict(KERAS_LAYOUT, block="bottleneck", depths=(3, 4, 23, 3)),
    "resnet152": dict(KERAS_LAYOUT, block="bottleneck", depths=(3, 8, 36, 3)),
    "resnet50d": dict(IMAGENET, block="bottleneck", depths=(3, 4, 6, 3), stem="deep",
                      shortcut="average_projection"),
    "resnet20": dict(CIFAR, block="basic", depths=(3, 3, 3)),
    "resnet56": dict(CIFAR, block="basic", depths=(9, 9, 9)),
    "resnet110": dict(CIFAR, block="basic", depths=(18, 18, 18)),
}
# One block per stage, narrow stages; the stem keeps its layers with the first stage's width.
TINY_IMAGENET = dict(depths=(1, 1, 1, 1), widths=(8, 16, 32, 64))
TINY_CIFAR = dict(depths=(1, 1, 1), widths=(4, 8, 16))
EXPANSION = 4  # of bottleneck blocks
BN_EPSILON = 1.001e-5
BN_MOMENTUM = 0.9

IMAGENET_PAPER = dict(
    paper="He et al., Deep Residual Learning for Image Recognition",
    year=2016,
    arxiv="https://arxiv.org/abs/1512.03385",
    input_shape=(224, 224, 3),
    small_kwargs={"input_shape": (32, 32, 3), "classes": 5},
    tiny=TINY_IMAGENET,
    feature_layers=("conv1*_relu", "conv*_block*_out"),  # the stem, then every stage's blocks
)
CIFAR_PAPER = dict(IMAGENET_PAPER, input_shape=(32, 32, 3), classes=10, tiny=TINY_CIFAR)


def _conv_bn(x, filters, kernel, spec, name, strides=1, relu=True, zero_gamma=False):
    """Convolution and batch normalization (named `{name}_conv`, `{name}_bn`), then ReLU."""
    x = layers.Conv2D(
        filters, kernel, strides=strides, padding="same", use_bias=spec["conv_bias"],
        name=f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=f"{name}_bn",
        gamma_initializer="zeros" if zero_gamma else "ones",
    )(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def _shortcut(x, filters, stride, spec, name):
    """The shortcut branch of a block whose output has `filters` channels."""
    if stride == 1 and x.shape[-1] == filters:
        return x
    if spec["shortcut"] == "zero_padding":  # option A
        return ZeroPaddingShortcut(filters, stride, name=f"{name}_0_shortcut")(x)
    if spec["shortcut"] == "average_projection" and stride > 1:  # tweak D
        x = layers.AveragePooling2D(stride, strides=stride, padding="same",
                                    name=f"{name}_0_pool")(x)
        stride = 1
    return _conv_bn(x, filters, 1, spec, f"{name}_0", strides=stride, relu=False)  # option B


def _block(x, width, stride, spec, shortcuts, zero_init_residual, name):
    """A basic (two 3x3) or bottleneck (1x1, 3x3, 1x1) residual block."""
    filters = width * EXPANSION if spec["block"] == "bottleneck" else width
    shortcut = _shortcut(x, filters, stride, spec, name) if shortcuts else None
    if spec["block"] == "basic":
        x = _conv_bn(x, width, 3, spec, f"{name}_1", strides=stride)
        x = _conv_bn(x, width, 3, spec, f"{name}_2", relu=False,
                     zero_gamma=zero_init_residual)
    else:
        stride_1x1, stride_3x3 = (stride, 1) if spec["stride_in_1x1"] else (1, stride)
        x = _conv_bn(x, width, 1, spec, f"{name}_1", strides=stride_1x1)
        x = _conv_bn(x, width, 3, spec, f"{name}_2", strides=stride_3x3)
        x = _conv_bn(x, filters, 1, spec, f"{name}_3", relu=False, zero_gamma=zero_init_residual)
    if shortcuts:
        x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.ReLU(name=f"{name}_out")(x)


def _stem(x, spec):
    """The 7x7 convolution and max pooling, tweak C's three 3x3 convolutions and max pooling, or
    the CIFAR networks' single 3x3 convolution."""
    width = spec["widths"][0]
    if spec["stem"] == "cifar":  # one 3x3 convolution, no pooling
        return _conv_bn(x, width, 3, spec, "conv1")
    if spec["stem"] == "7x7":
        x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
        x = layers.Conv2D(width, 7, strides=2, use_bias=spec["conv_bias"], name="conv1_conv")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name="conv1_bn")(x)
        x = layers.ReLU(name="conv1_relu")(x)
    else:  # tweak C: three 3x3 convolutions (32, 32, 64 filters at full width)
        x = _conv_bn(x, width // 2, 3, spec, "conv1_1", strides=2)
        x = _conv_bn(x, width // 2, 3, spec, "conv1_2")
        x = _conv_bn(x, width, 3, spec, "conv1_3")
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def _resnet(variant, *, shortcuts=True, zero_init_residual=False, spec=None,
            keras_application=None, **kwargs):
    """Builds the ResNet `variant` of `RESNETS`, whose entries `spec` replaces (tiny test
    instances).

    Args:
        shortcuts: bool. Whether blocks have their shortcut connections; False gives the
            paper's plain network. Defaults to True.
        zero_init_residual: bool. Initialise each block's last batch-normalization scale to
            zero, so every residual block starts as the identity. Defaults to False.
    """
    check_bool("shortcuts", shortcuts)
    check_bool("zero_init_residual", zero_init_residual)
    if zero_init_residual and not shortcuts:
        raise ValueError(
            "zero_init_residual=True is not allowed with shortcuts=False: a block whose output "
            "starts at zero would cut the network."
        )
    spec = {**RESNETS[variant], **(spec or {})}
    cifar = spec["stem"] == "cifar"

    def features(x):
        x = _stem(x, spec)
        for stage, (width, depth) in enumerate(zip(spec["widths"], spec["depths"])):
            for block in range(depth):
                x = _block(
                    x, width, 2 if stage > 0 and block == 0 else 1, spec, shortcuts,
                    zero_init_residual, name=f"conv{stage + 2}_block{block + 1}",
                )
        return x

    return classifier(
        features, default_shape=(32, 32, 3) if cifar else (224, 224, 3),
        min_size=8 if cifar else 32,
        # Without shortcuts the ImageNet weights are another network's.
        keras_application=keras_application if shortcuts else None, **kwargs,
    )


@register_classifier(_resnet, **IMAGENET_PAPER, figures=[
    figure("trainable parameters", 11_689_512, "torchvision's resnet18"),
    figure("multiply-adds", 1.8e9, "Table 1 (1.8 x 10^9 FLOPs)", rel=0.02)])
def resnet18(**kwargs):
    """ResNet-18 (He et al. 2016): basic blocks."""
    return _resnet("resnet18", **kwargs)


@register_classifier(_resnet, **IMAGENET_PAPER, figures=[
    figure("trainable parameters", 21_797_672, "torchvision's resnet34"),
    figure("multiply-adds", 3.6e9, "Table 1 (3.6 x 10^9 FLOPs)", rel=0.02)])
def resnet34(**kwargs):
    """ResNet-34 (He et al. 2016): basic blocks."""
    return _resnet("resnet34", **kwargs)


@register_classifier(_resnet, keras_application="ResNet50", **IMAGENET_PAPER, figures=[
    figure("parameters", 25_636_712, "keras.applications.ResNet50"),
    figure("multiply-adds", 3.8e9, "Table 1 (3.8 x 10^9 FLOPs)", rel=0.02)])
def resnet50(**kwargs):
    """ResNet-50 (He et al. 2016) in keras.applications.ResNet50's layout."""
    return _resnet("resnet50", **kwargs)


@register_classifier(_resnet, keras_application="ResNet101", **IMAGENET_PAPER, figures=[
    figure("parameters", 44_707_176, "keras.applications.ResNet101"),
    figure("multiply-adds", 7.6e9, "Table 1 (7.6 x 10^9 FLOPs)", rel=0.02)])
def resnet101(**kwargs):
    """ResNet-101 (He et al. 2016) in keras.applications.ResNet101's layout."""
    return _resnet("resnet101", **kwargs)


@register_classifier(_resnet, keras_application="ResNet152", **IMAGENET_PAPER, figures=[
    figure("parameters", 60_419_944, "keras.applications.ResNet152"),
    figure("multiply-adds", 11.3e9, "Table 1 (11.3 x 10^9 FLOPs)", rel=0.02)])
def resnet152(**kwargs):
    """ResNet-152 (He et al. 2016) in keras.applications.ResNet152's layout."""
    return _resnet("resnet152", **kwargs)


@register_classifier(_resnet, **dict(
    IMAGENET_PAPER,
    paper="He et al., Bag of Tricks for Image Classification with CNNs",
    year=2019,
    arxiv="https://arxiv.org/abs/1812.01187",
), figures=[
    figure("trainable parameters", 25_576_264, "timm's resnet50d"),
    figure("multiply-adds", 4.3e9, "Table 5 (4.3 x 10^9 FLOPs)", rel=0.02)])
def resnet50d(**kwargs):
    """ResNet-50-D (He et al. 2019, Bag of Tricks): tweaks B, C and D."""
    return _resnet("resnet50d", **kwargs)


@register_classifier(_resnet, **CIFAR_PAPER, figures=[
    figure("trainable parameters", 269_722, "Section 4.2 (0.27M; option-A shortcuts)")])
def resnet20(**kwargs):
    """ResNet-20 for CIFAR-10 (He et al. 2016, section 4.2)."""
    return _resnet("resnet20", **kwargs)


@register_classifier(_resnet, **CIFAR_PAPER, figures=[
    figure("trainable parameters", 853_018, "Section 4.2 (0.85M)")])
def resnet56(**kwargs):
    """ResNet-56 for CIFAR-10 (He et al. 2016, section 4.2)."""
    return _resnet("resnet56", **kwargs)


@register_classifier(_resnet, **CIFAR_PAPER, figures=[
    figure("trainable parameters", 1_727_962, "Section 4.2 (1.7M)")])
def resnet110(**kwargs):
    """ResNet-110 for CIFAR-10 (He et al. 2016, section 4.2)."""
    return _resnet("resnet110", **kwargs)
