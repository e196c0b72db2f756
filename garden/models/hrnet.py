"""HRNetV2: high-resolution networks with parallel branches and repeated multi-resolution fusion.

Reference:
    Wang et al., "Deep High-Resolution Representation Learning for Visual Recognition", TPAMI
    2020 (arXiv 2019). https://arxiv.org/abs/1908.07919

A stem of two stride-2 3x3 convolutions takes the image to 1/4 resolution; stage 1 is bottleneck
blocks at that resolution. Each later stage adds a branch at half the previous lowest
resolution (1/8, 1/16, 1/32; a stride-2 3x3 convolution of the lowest branch) and repeats
"modules": basic blocks on every branch, then a fusion where every output branch sums all
branches, brought to its resolution by strided 3x3 convolutions (down) or a 1x1 convolution and
nearest upsampling (up). The variants are data in `HRNETS` (the official configurations
`w18_small` v1, `w18`, `w32`: modules, blocks and widths per stage). The W of HRNet-W18/W32 is
the width C of the highest-resolution branch (branches C, 2C, 4C, 8C); the builders' `width`
argument sets it, as the official W18 and W32 differ only there (stem, stage 1 and the
classification head are the same for both), so `hrnet_w18(width=32)` is HRNet-W32's network.

Heads: `head="classification"` is HRNetV2-W*-C's: each branch goes through a bottleneck block
to 128, 256, 512 and 1024 channels, the branches are combined from high to low resolution by
stride-2 3x3 convolutions and addition, a 1x1 convolution gives 2048 channels, then global
average pooling and the classifier. `head="segmentation"` is HRNetV2's: all branches are
upsampled bilinearly to 1/4 resolution and concatenated, a 1x1 convolution with batch norm and
ReLU mixes them and a 1x1 convolution gives the class scores, upsampled bilinearly to the input
size (logits). `include_top=False` returns the head's representation before its classifier
(the 2048-channel map at 1/32, or the concatenation at 1/4), reduced by `pooling` where asked.
The four branches stay reachable by name in every variant: `stage4_module{M}_fuse{i}_out`
(M the last module of stage 4: 1 for w18_small, 3 for w18 and w32; C, 2C, 4C, 8C channels at
1/4 to 1/32) and, in the classification head, `incre{i}_block1_out` (128 to 1024 channels, what
timm's `features_only` gives).

Trainable parameters equal the official ImageNet models' (as PyTorch counts them, batch
normalization's moving statistics excluded): hrnet_w18_small 13,187,464, hrnet_w18
21,299,004, hrnet_w32 41,232,680. The network computes timm's function: stride-2 convolutions
pad one pixel on every side (`{name}_pad`, then "valid"), as PyTorch does, where Keras' "same"
would pad only bottom and right; fusion upsamples by nearest neighbour; batch normalization's
epsilon is PyTorch's 1e-5. timm's ImageNet checkpoints (`hrnet_w18_small.ms_in1k` 72.34%,
`hrnet_w18.ms_aug_in1k` 78.11%, `hrnet_w32.ms_in1k` 78.45% top-1) convert by layer name
(`garden.weights.hrnet`): conv1/bn1, conv2/bn2 -> `stem{1,2}_{conv,bn}`; layer1 ->
`layer1_block{b}_{1,2,3}_{conv,bn}` and `layer1_block1_downsample_{conv,bn}`; transition{s-1}
-> `transition{s}_branch{i}_{conv,bn}`; stage{s} branches -> `stage{s}_module{m}_branch{i}_block{b}_
{1,2}_{conv,bn}`; fuse_layers -> `stage{s}_module{m}_fuse{i}_{j}_{conv,bn}` (up) and
`stage{s}_module{m}_fuse{i}_{j}_down{k}_{conv,bn}` (down); incre_modules ->
`incre{i}_block1_...`; downsamp_modules -> `downsamp{i}_{conv,bn}`; final_layer ->
`final_{conv,bn}`; classifier -> `predictions` (segmentation: `seg_last_{conv,bn}`,
`seg_logits`, no checkpoint).
"""

from keras import layers

from garden.models._classifier import classifier, pooled_top, register_classifier
from garden.models._registry import figure
from garden.utils.checks import check_choice, check_int

# stage: (modules, blocks per branch, channels per branch); stage 1 is bottleneck blocks.
HRNETS = {
    "hrnet_w18_small": dict(stage1=(1, 1, 32), stages=((1, 2, (16, 32)), (1, 2, (16, 32, 64)),
                                                       (1, 2, (16, 32, 64, 128)))),
    "hrnet_w18": dict(stage1=(1, 4, 64), stages=((1, 4, (18, 36)), (4, 4, (18, 36, 72)),
                                                 (3, 4, (18, 36, 72, 144)))),
    "hrnet_w32": dict(stage1=(1, 4, 64), stages=((1, 4, (32, 64)), (4, 4, (32, 64, 128)),
                                                 (3, 4, (32, 64, 128, 256)))),
}
STEM_WIDTH = 64
HEAD_CHANNELS = (32, 64, 128, 256)  # bottleneck widths of the classification head (x4)
FINAL_CHANNELS = 2048
EXPANSION = 4
BN_MOMENTUM = 0.9  # PyTorch's 0.1
TINY = dict(stage1=(1, 1, 8), stages=((1, 1, (4, 8)), (1, 1, (4, 8, 8)), (1, 1, (4, 8, 8, 8))),
            head_channels=(4, 4, 4, 4), final_channels=16)
HEADS = ("classification", "segmentation")
PAPER = dict(
    paper="Wang et al., Deep High-Resolution Representation Learning for Visual Recognition",
    year=2019,
    arxiv="https://arxiv.org/abs/1908.07919",
    input_shape=(224, 224, 3),
    small_kwargs={"input_shape": (32, 32, 3), "classes": 3},
    tiny=TINY,
    feature_layers=("stem*_relu", "stage*_fuse*_out"),  # the stem, then the four branches
)


def _conv_bn(x, filters, kernel, name, strides=1, relu=True, bias=False):
    if strides == 2:  # PyTorch's symmetric padding, as the checkpoints were trained with
        x = layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
    x = layers.Conv2D(filters, kernel, strides=strides,
                      padding="same" if strides == 1 else "valid", use_bias=bias,
                      name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=1e-5, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def _bottleneck(x, width, name):
    shortcut = x
    if x.shape[-1] != width * EXPANSION:
        shortcut = _conv_bn(x, width * EXPANSION, 1, f"{name}_downsample", relu=False)
    x = _conv_bn(x, width, 1, f"{name}_1")
    x = _conv_bn(x, width, 3, f"{name}_2")
    x = _conv_bn(x, width * EXPANSION, 1, f"{name}_3", relu=False)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.ReLU(name=f"{name}_out")(x)


def _basic(x, width, name):
    y = _conv_bn(x, width, 3, f"{name}_1")
    y = _conv_bn(y, width, 3, f"{name}_2", relu=False)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([x, y]))


def _fuse(branches, channels, name):
    """Every output branch i sums all branches j at its resolution."""
    outputs = []
    for i, width in enumerate(channels):
        terms = []
        for j, x in enumerate(branches):
            if j > i:  # lower resolution: 1x1 convolution, nearest upsampling
                x = _conv_bn(x, width, 1, f"{name}_fuse{i}_{j}", relu=False)
                x = layers.UpSampling2D(2 ** (j - i), name=f"{name}_fuse{i}_{j}_up")(x)
            for k in range(i - j):  # higher resolution: stride-2 3x3 convolutions
                last = k == i - j - 1
                x = _conv_bn(x, width if last else channels[j], 3,
                             f"{name}_fuse{i}_{j}_down{k}", strides=2, relu=not last)
            terms.append(x)
        outputs.append(layers.ReLU(name=f"{name}_fuse{i}_out")(
            layers.Add(name=f"{name}_fuse{i}_add")(terms)))
    return outputs


def _hrnet_features(x, spec):
    """The stem and the four stages: the list of branch outputs, highest resolution first."""
    x = _conv_bn(x, STEM_WIDTH, 3, "stem1", strides=2)
    x = _conv_bn(x, STEM_WIDTH, 3, "stem2", strides=2)
    _, blocks, width = spec["stage1"]
    for b in range(blocks):
        x = _bottleneck(x, width, f"layer1_block{b + 1}")
    branches = [x]
    for s, (modules, blocks, channels) in enumerate(spec["stages"], start=2):
        # Transition: existing branches change width where needed; a new, half-size branch.
        new = []
        for i, width in enumerate(channels):
            source = branches[min(i, len(branches) - 1)]
            if i < len(branches):
                new.append(source if source.shape[-1] == width else
                           _conv_bn(source, width, 3, f"transition{s}_branch{i}"))
            else:
                new.append(_conv_bn(source, width, 3, f"transition{s}_branch{i}", strides=2))
        branches = new
        for m in range(modules):
            name = f"stage{s}_module{m + 1}"
            branches = [_run_blocks(x, width, blocks, f"{name}_branch{i}")
                        for i, (x, width) in enumerate(zip(branches, channels))]
            branches = _fuse(branches, channels, name)
    return branches


def _run_blocks(x, width, blocks, name):
    for b in range(blocks):
        x = _basic(x, width, f"{name}_block{b + 1}")
    return x


def _classification_features(branches, spec):
    """HRNetV2-W*-C's representation: each branch widened by a bottleneck block (incre), the
    branches summed from high to low resolution through stride-2 convolutions (downsamp), then
    a 1x1 convolution (final): one map at 1/32 of the input."""
    y = None
    for i, (x, width) in enumerate(zip(branches, spec["head_channels"])):
        x = _bottleneck(x, width, f"incre{i}_block1")
        y = x if y is None else layers.Add(name=f"incre{i}_add")([x, y])
        if i < len(branches) - 1:
            y = _conv_bn(y, spec["head_channels"][i + 1] * EXPANSION, 3, f"downsamp{i}",
                         strides=2, bias=True)
    return _conv_bn(y, spec["final_channels"], 1, "final", bias=True)


def _segmentation_features(branches):
    """HRNetV2's representation: every branch upsampled bilinearly to 1/4 and concatenated."""
    upsampled = [branches[0]] + [
        layers.UpSampling2D(2 ** i, interpolation="bilinear", name=f"seg_up{i}")(x)
        for i, x in enumerate(branches[1:], start=1)]
    return layers.Concatenate(name="seg_concat")(upsampled)


def _segmentation_top(input_size):
    def top(x, classes, classifier_activation):
        size = x.shape[1:3]
        x = _conv_bn(x, x.shape[-1], 1, "seg_last", bias=True)
        x = layers.Conv2D(classes, 1, name="seg_logits")(x)
        factor = input_size // size[0] if input_size and size[0] else 4
        x = layers.UpSampling2D(factor, interpolation="bilinear", name="seg_upsample")(x)
        return layers.Activation(classifier_activation, name="predictions")(x) if (
            classifier_activation) else x

    return top


def _hrnet(variant, *, head="classification", width=None, spec=None, keras_application=None,
           **kwargs):
    """Builds the HRNetV2 `variant` of `HRNETS`, whose entries `spec` replaces.

    Args:
        head: "classification" (HRNetV2-W*-C's head: a vector of class scores) or
            "segmentation" (per-pixel class scores at the input size; use
            `classifier_activation=None` for logits). Defaults to "classification".
            With `include_top=False` the model returns the head's representation, which
            `pooling` may reduce to a vector: for "classification" the 2048-channel map at
            1/32 of the input before the classifier (timm's `num_classes=0` features), for
            "segmentation" the four branches concatenated at 1/4 (15C channels).
        width: int. Channels C of the highest-resolution branch; the branches of stages 2-4
            get C, 2C, 4C, 8C, everything else stays the variant's. Defaults to None, the
            variant's own (16 for w18_small, 18, 32).
    """
    check_choice("head", head, HEADS)
    spec = {"head_channels": HEAD_CHANNELS, "final_channels": FINAL_CHANNELS,
            **HRNETS[variant], **(spec or {})}
    if width is not None:
        check_int("width", width)
        spec["stages"] = tuple((modules, blocks, tuple(width * 2 ** i for i in range(len(c))))
                               for modules, blocks, c in spec["stages"])
    if head == "classification":
        def features(x):
            return _classification_features(_hrnet_features(x, spec), spec)
        top = pooled_top
    else:
        def features(x):
            return _segmentation_features(_hrnet_features(x, spec))
        top = _segmentation_top((kwargs.get("input_shape") or (224, 224, 3))[0])
    return classifier(features, top, default_shape=(224, 224, 3), min_size=32,
                      keras_application=keras_application, **kwargs)


@register_classifier(_hrnet, **PAPER, figures=[
    figure("trainable parameters", 13_187_464, "timm's hrnet_w18_small (exact)"),
    # Section 3: four parallel branches at 1/4 to 1/32 of the input, channels C, 2C, 4C, 8C.
    figure("output shape", (56, 56, 16), "Section 3", layer="stage4_module1_fuse0_out"),
    figure("output shape", (28, 28, 32), "Section 3", layer="stage4_module1_fuse1_out"),
    figure("output shape", (14, 14, 64), "Section 3", layer="stage4_module1_fuse2_out"),
    figure("output shape", (7, 7, 128), "Section 3", layer="stage4_module1_fuse3_out")])
def hrnet_w18_small(**kwargs):
    """HRNetV2-W18-Small-v1-C (Wang et al. 2019); `width` (default 16) sets its branch widths."""
    return _hrnet("hrnet_w18_small", **kwargs)


@register_classifier(_hrnet, **PAPER, figures=[
    figure("trainable parameters", 21_299_004, "timm's hrnet_w18 (exact)")])
def hrnet_w18(**kwargs):
    """HRNetV2-W18-C (Wang et al. 2019); `width` (default 18) sets its branch widths."""
    return _hrnet("hrnet_w18", **kwargs)


@register_classifier(_hrnet, **PAPER, figures=[
    figure("trainable parameters", 41_232_680, "timm's hrnet_w32 (exact)")])
def hrnet_w32(**kwargs):
    """HRNetV2-W32-C (Wang et al. 2019); `width` (default 32) sets its branch widths."""
    return _hrnet("hrnet_w32", **kwargs)
