"""torchvision's AlexNet in garden's single-stream `alexnet(lrn=False)`.

torchvision's network (`features`, then `classifier` after adaptive 6x6 average pooling, the
identity at 224x224) is garden's single-stream AlexNet without local response normalization;
its first fully connected layer reads a channels-first flatten, reordered here.
"""

from garden.weights._checkpoints import register_checkpoint
from garden.weights._port import Porter
from garden.weights._torchvision import flattened_chw, torchvision_checkpoint

CONVS = {"conv1": "features.0", "conv2": "features.3", "conv3": "features.6",
         "conv4": "features.8", "conv5": "features.10"}
DENSES = {"fc6": "classifier.1", "fc7": "classifier.4", "predictions": "classifier.6"}


def convert(model, state):
    """Copies a torchvision AlexNet state dict into `model` (built with `lrn=False`); the
    classifier where the state has it."""
    porter = Porter(model, state, "torchvision alexnet")
    for layer, prefix in CONVS.items():
        porter.conv(layer, prefix)
    if f"{DENSES['predictions']}.weight" in state:
        for layer, prefix in DENSES.items():
            porter.dense(layer, prefix, chw=flattened_chw(model) if layer == "fc6" else None)
    porter.finish()


register_checkpoint(torchvision_checkpoint(
    "alexnet", "alexnet-owt-7be5be79.pth", 233.087, 56.522, convert,
    sha256="7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02",
    size_bytes=244_408_911,
    signature=("features.10.weight", "classifier.1.weight"),
    builder_kwargs={"groups": 1, "lrn": False}, default=True, top_prefixes=("classifier.",),
))
