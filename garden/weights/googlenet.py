"""torchvision's GoogLeNet in garden's `googlenet(variant="torchvision")`.

Every torchvision convolution is a `BasicConv2d` (`conv`, then `bn`); its stem `conv1`, `conv2`,
`conv3` are garden's conv1, conv2_reduce and conv2, and an inception module's branches 1-4 are
garden's 1x1, 3x3 (reduce, then convolution), "5x5" (reduce, then a 3x3 convolution in
torchvision) and pooling projection. torchvision's `transform_input` maps its mean/std input to
[-1, 1]: the weights expect "tf" preprocessing. The auxiliary classifiers (`aux1`, `aux2`)
load where the model has them (`aux_heads=True`); torchvision pools them adaptively to 4x4,
garden 5x5/3 (the same shapes at 224x224), so their outputs differ a little from torchvision's.
"""

from garden.models.googlenet import AUX_AFTER, INCEPTIONS
from garden.weights._checkpoints import register_checkpoint
from garden.weights._port import Porter
from garden.weights._torchvision import flattened_chw, torchvision_checkpoint

STEM = {"conv1": "conv1", "conv2_reduce": "conv2", "conv2": "conv3"}
BRANCHES = {"1x1": "branch1", "3x3_reduce": "branch2.0", "3x3": "branch2.1",
            "5x5_reduce": "branch3.0", "5x5": "branch3.1", "pool_proj": "branch4.1"}
AUX_PREFIXES = tuple(f"aux{i}." for i in range(1, len(AUX_AFTER) + 1))


def convert(model, state):
    """Copies a torchvision GoogLeNet state dict into `model` (built with
    `variant="torchvision"`); the classifier, and the auxiliary ones, where the state and the
    model have them."""
    layer_names = {layer.name for layer in model.layers}
    if "aux1_conv" not in layer_names:
        state = {k: v for k, v in state.items() if not k.startswith(AUX_PREFIXES)}
    porter = Porter(model, state, "torchvision googlenet")

    def conv_bn(layer, prefix):
        porter.conv(layer, f"{prefix}.conv")
        porter.batch_norm(f"{layer}_bn", f"{prefix}.bn")

    for layer, prefix in STEM.items():
        conv_bn(layer, prefix)
    for module in INCEPTIONS:
        for branch, prefix in BRANCHES.items():
            conv_bn(f"inception{module}_{branch}", f"inception{module}.{prefix}")
    if "fc.weight" in state:
        porter.dense("predictions", "fc")
    for aux in AUX_PREFIXES:
        if f"{aux}fc2.weight" in state:
            name = aux[:-1]
            conv_bn(f"{name}_conv", f"{name}.conv")
            porter.dense(f"{name}_fc", f"{name}.fc1", chw=flattened_chw(model, f"{name}_flatten"))
            porter.dense(f"{name}_predictions", f"{name}.fc2")
    porter.finish()


register_checkpoint(torchvision_checkpoint(
    "googlenet", "googlenet-1378be20.pth", 49.731, 69.778, convert, preprocessing="tf",
    signature=("conv1.conv.weight", "inception3a.branch1.conv.weight"),
    builder_kwargs={"variant": "torchvision"}, default=True,
    top_prefixes=("fc.", *AUX_PREFIXES),
))
