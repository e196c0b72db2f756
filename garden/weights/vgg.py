"""torchvision's VGGs (with and without batch normalization) in garden's `vgg11`..`vgg19_bn`.

torchvision's `features` is a flat list: per convolution its index, then (for `_bn`) batch
normalization and ReLU, a max pooling after each block; its `classifier` after adaptive 7x7
average pooling (the identity at 224x224) has linear layers at 0, 3 and 6, the first reading a
channels-first flatten. `vgg16` and `vgg19` also have keras.applications' weights (source
"keras", garden.weights.keras_applications); torchvision's are their "imagenet".
"""

import functools

from garden.models.vgg import VGGS
from garden.weights._checkpoints import register_checkpoint
from garden.weights._port import Porter
from garden.weights._torchvision import flattened_chw, torchvision_checkpoint

DENSES = {"fc1": "classifier.0", "fc2": "classifier.3", "predictions": "classifier.6"}
# variant: (file, size in MiB, top-1 %), from torchvision's VGG*_Weights.IMAGENET1K_V1.
FILES = {
    "vgg11": ("vgg11-8a719046.pth", 506.840, 69.020),
    "vgg13": ("vgg13-19584684.pth", 507.545, 69.928),
    "vgg16": ("vgg16-397923af.pth", 527.796, 71.592),
    "vgg19": ("vgg19-dcbb9e9d.pth", 548.051, 72.376),
    "vgg11_bn": ("vgg11_bn-6002323d.pth", 506.881, 70.370),
    "vgg13_bn": ("vgg13_bn-abd245e5.pth", 507.590, 71.586),
    "vgg16_bn": ("vgg16_bn-6c64b313.pth", 527.866, 73.360),
    "vgg19_bn": ("vgg19_bn-c79401a0.pth", 548.143, 74.218),
}


def feature_indices(convs, batch_norm):
    """{garden convolution name: its index in torchvision's `features`}, for blocks of `convs`
    convolutions."""
    indices, index = {}, 0
    for block, count in enumerate(convs, 1):
        for conv in range(1, count + 1):
            indices[f"block{block}_conv{conv}"] = index
            index += 3 if batch_norm else 2  # convolution, (batch norm,) ReLU
        index += 1  # max pooling
    return indices


def convert(model, state, *, convs, batch_norm):
    """Copies a torchvision VGG state dict (blocks of `convs` convolutions, `batch_norm` or not)
    into `model`; the classifier where the state has it."""
    porter = Porter(model, state, "torchvision vgg")
    for layer, index in feature_indices(convs, batch_norm).items():
        porter.conv(layer, f"features.{index}")
        if batch_norm:
            porter.batch_norm(f"{layer}_bn", f"features.{index + 1}")
    if f"{DENSES['predictions']}.weight" in state:
        for layer, prefix in DENSES.items():
            porter.dense(layer, prefix, chw=flattened_chw(model) if layer == "fc1" else None)
    porter.finish()


for _variant, (_file, _mib, _top1) in FILES.items():
    _spec = VGGS[_variant]
    _signature = ("features.0.weight", "classifier.0.weight")
    if _spec["batch_norm"]:
        _signature += ("features.1.running_var",)
    register_checkpoint(torchvision_checkpoint(
        _variant, _file, _mib, _top1,
        functools.partial(convert, convs=_spec["convs"], batch_norm=_spec["batch_norm"]),
        signature=_signature, default=True, top_prefixes=("classifier.",),
    ))
