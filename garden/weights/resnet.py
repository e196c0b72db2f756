"""torchvision's ResNets and timm's ResNet-50-D in garden's `resnet18`..`resnet152`, `resnet50d`.

Both name a block's layers `layer{stage}.{block}.conv{i}` / `bn{i}` (stages 1-4, blocks from 0;
garden: `conv{stage + 1}_block{block + 1}_{i}_conv` / `_bn`) and its projection shortcut
`downsample` (torchvision: convolution 0, batch norm 1; timm's ResNet-D: average pooling 0,
convolution 1, batch norm 2). The stem is torchvision's `conv1`, `bn1`, or timm's deep stem
`conv1.{0,3,6}` (batch norms 1 and 4, then `bn1`); the classifier is `fc`. torchvision's
ResNet-50/101/152 are garden's `layout="torchvision"` (the stride in the 3x3 convolution, no
biases); keras.applications' weights (source "keras") stay their "imagenet".
"""

import functools

from garden.weights._checkpoints import Checkpoint, register_checkpoint
from garden.weights._port import Porter
from garden.weights._torchvision import torchvision_checkpoint

# garden's stem layers: (checkpoint prefix of the convolution, of its batch norm).
STEMS = {
    "torchvision": {"conv1": ("conv1", "bn1")},
    "timm": {"conv1_1": ("conv1.0", "conv1.1"), "conv1_2": ("conv1.3", "conv1.4"),
             "conv1_3": ("conv1.6", "bn1")},
}
# Index of the shortcut's convolution in `downsample` (its batch norm follows).
DOWNSAMPLE_CONV = {"torchvision": 0, "timm": 1}
STAGES = (2, 3, 4, 5)
# variant: (file, size in MiB, top-1 %), from torchvision's ResNet*_Weights.
FILES = {
    "resnet18": ("resnet18-f37072fd.pth", 44.661, 69.758),
    "resnet34": ("resnet34-b627a593.pth", 83.275, 73.314),
    "resnet50": ("resnet50-0676ba61.pth", 97.781, 76.130),
    "resnet101": ("resnet101-63fe2227.pth", 170.511, 77.374),
    "resnet152": ("resnet152-394f9c45.pth", 230.434, 78.312),
}
# torchvision's second weights of the bottleneck ResNets (IMAGENET1K_V2, a longer recipe).
FILES_V2 = {
    "resnet50": ("resnet50-11ad3fa6.pth", 97.790, 80.858),
    "resnet101": ("resnet101-cd907fc2.pth", 170.530, 81.886),
    "resnet152": ("resnet152-f82ba261.pth", 230.474, 82.284),
}
BOTTLENECKS = ("resnet50", "resnet101", "resnet152")


def blocks(model):
    """(garden block name, checkpoint block prefix) of every residual block of `model`."""
    names = {layer.name for layer in model.layers}
    for stage in STAGES:
        block = 1
        while f"conv{stage}_block{block}_out" in names:
            yield f"conv{stage}_block{block}", f"layer{stage - 1}.{block - 1}"
            block += 1


def convert(model, state, *, source):
    """Copies a torchvision (`source="torchvision"`) or timm ResNet-D (`"timm"`) state dict
    into `model`; the classifier where the state has it."""
    porter = Porter(model, state, f"{source} resnet")
    names = {layer.name for layer in model.layers}

    def conv_bn(layer, conv_prefix, bn_prefix):
        porter.conv(f"{layer}_conv", conv_prefix)
        porter.batch_norm(f"{layer}_bn", bn_prefix)

    for layer, (conv_prefix, bn_prefix) in STEMS[source].items():
        conv_bn(layer, conv_prefix, bn_prefix)
    for block, prefix in blocks(model):
        convs = 1
        while f"{block}_{convs + 1}_conv" in names:
            convs += 1
        for i in range(1, convs + 1):
            conv_bn(f"{block}_{i}", f"{prefix}.conv{i}", f"{prefix}.bn{i}")
        if f"{block}_0_conv" in names:
            index = DOWNSAMPLE_CONV[source]
            conv_bn(f"{block}_0", f"{prefix}.downsample.{index}",
                    f"{prefix}.downsample.{index + 1}")
    if "fc.weight" in state:
        porter.dense("predictions", "fc")
    porter.finish()


TORCHVISION = dict(signature=("conv1.weight", "layer1.0.conv1.weight"), top_prefixes=("fc.",),
                   convert=functools.partial(convert, source="torchvision"))
for _variant, (_file, _mib, _top1) in FILES.items():
    _bottleneck = _variant in BOTTLENECKS
    register_checkpoint(torchvision_checkpoint(
        _variant, _file, _mib, _top1, **TORCHVISION,
        builder_kwargs={"shortcuts": True, **({"layout": "torchvision"} if _bottleneck else {})},
        default=not _bottleneck,  # keras.applications' stay the bottleneck ResNets' "imagenet"
    ))
for _variant, (_file, _mib, _top1) in FILES_V2.items():
    register_checkpoint(torchvision_checkpoint(
        _variant, _file, _mib, _top1, **TORCHVISION, source="torchvision_v2",
        builder_kwargs={"shortcuts": True, "layout": "torchvision"},
    ))

# timm's resnet50d.ra2_in1k (its pretrained cfg: hf_hub_id "timm/resnet50d.ra2_in1k", ImageNet
# mean/std; top-1 80.55%). Its SHA-256 and size were not found offline: left unknown.
register_checkpoint(Checkpoint(
    model="resnet50d", source="timm",
    url="https://huggingface.co/timm/resnet50d.ra2_in1k/resolve/main/model.safetensors",
    sha256="", size_bytes=None, top1=80.55, preprocessing="torch",
    convert=functools.partial(convert, source="timm"),
    signature=("conv1.0.weight", "conv1.6.weight"),
    builder_kwargs={"shortcuts": True}, default=True, top_prefixes=("fc.",),
))
