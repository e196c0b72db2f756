"""torchvision's SqueezeNets in garden's `squeezenet1_0` / `squeezenet1_1` (`ceil_mode=True`).

torchvision's `features` lists the first convolution (index 0), its ReLU and pooling, then the
fire modules (`squeeze`, `expand1x1`, `expand3x3`) with a pooling after those of the variant's
`pool_after`; `classifier.1` is conv10. Its max pooling rounds up (ceil mode), which its weights
were trained with at 224x224.
"""

import functools

from garden.models.squeezenet import VARIANTS
from garden.weights._checkpoints import register_checkpoint
from garden.weights._port import Porter
from garden.weights._torchvision import torchvision_checkpoint

# garden's fire-module layers (`fire{n}_...`) and torchvision's (`features.{index}....`).
FIRE_CONVS = {"squeeze1x1": "squeeze", "expand1x1": "expand1x1", "expand3x3": "expand3x3"}
FIRST_FIRE = 3  # after conv1, its ReLU and its pooling
# variant: (file, size in MiB, top-1 %), from torchvision's SqueezeNet*_Weights.IMAGENET1K_V1.
FILES = {
    "squeezenet1_0": ("squeezenet1_0-b66bff10.pth", 4.778, 58.092),
    "squeezenet1_1": ("squeezenet1_1-b8a52dc0.pth", 4.729, 58.178),
}


def fire_indices(fires, pool_after):
    """{fire module number: its index in torchvision's `features`}."""
    indices, index = {}, FIRST_FIRE
    for fire in fires:
        indices[fire] = index
        index += 2 if fire in pool_after else 1
    return indices


def convert(model, state, *, variant):
    """Copies a torchvision SqueezeNet state dict into `model`, garden's `variant` built with
    `ceil_mode=True`; conv10 where the state has it."""
    spec = VARIANTS[variant]
    porter = Porter(model, state, f"torchvision {variant}")
    porter.conv("conv1", "features.0")
    for fire, index in fire_indices(spec["fires"], spec["pool_after"]).items():
        for layer, module in FIRE_CONVS.items():
            porter.conv(f"fire{fire}_{layer}", f"features.{index}.{module}")
    if "classifier.1.weight" in state:
        porter.conv("conv10", "classifier.1")
    porter.finish()


for _variant, (_file, _mib, _top1) in FILES.items():
    register_checkpoint(torchvision_checkpoint(
        _variant, _file, _mib, _top1, functools.partial(convert, variant=_variant),
        signature=("features.0.weight", f"features.{FIRST_FIRE}.squeeze.weight"),
        builder_kwargs={"ceil_mode": True, "bypass": None}, default=True,
        top_prefixes=("classifier.",),
    ))
