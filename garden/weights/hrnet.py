"""timm's HRNet ImageNet checkpoints converted into garden's `hrnet_w18_small`, `hrnet_w18` and
`hrnet_w32` (classification head).

garden's layer names follow the official modules (see garden.models.hrnet), so the map is a
table of name patterns: a garden convolution `<prefix>_conv` and its batch norm `<prefix>_bn`
take timm's module `TIMM_MODULES` names for `<prefix>`. In timm a conv-bn pair inside a
residual block is `conv{n}` / `bn{n}`, elsewhere it is an `nn.Sequential` whose items 0 and 1
are the convolution and the batch norm.
"""

import re

from keras import layers

from garden.weights._checkpoints import Checkpoint, register_checkpoint
from garden.weights._port import Porter

# (garden prefix pattern, timm module with {layer} for "conv"/"bn" or "0"/"1", residual block?)
# garden counts blocks (b) and modules (m) from 1, timm from 0; garden's transition{s} feeds
# stage s (timm's transition{s-1}), and its new, half-size branch (i = s - 1) is one more
# nn.Sequential deep in timm.
TIMM_MODULES = (
    (r"stem(?P<n>\d)", "{layer}{n}", True),
    (r"layer1_block(?P<b>\d+)_(?P<n>\d)", "layer1.{b}.{layer}{n}", True),
    (r"layer1_block(?P<b>\d+)_downsample", "layer1.{b}.downsample.{layer}", False),
    (r"transition(?P<s>\d)_branch(?P<i>\d)", "transition{t}.{i}{new}.{layer}", False),
    (r"stage(?P<s>\d)_module(?P<m>\d+)_branch(?P<i>\d)_block(?P<b>\d+)_(?P<n>\d)",
     "stage{s}.{m}.branches.{i}.{b}.{layer}{n}", True),
    (r"stage(?P<s>\d)_module(?P<m>\d+)_fuse(?P<i>\d)_(?P<j>\d)_down(?P<k>\d)",
     "stage{s}.{m}.fuse_layers.{i}.{j}.{k}.{layer}", False),
    (r"stage(?P<s>\d)_module(?P<m>\d+)_fuse(?P<i>\d)_(?P<j>\d)",
     "stage{s}.{m}.fuse_layers.{i}.{j}.{layer}", False),
    (r"incre(?P<i>\d)_block1_(?P<n>\d)", "incre_modules.{i}.0.{layer}{n}", True),
    (r"incre(?P<i>\d)_block1_downsample", "incre_modules.{i}.0.downsample.{layer}", False),
    (r"downsamp(?P<i>\d)", "downsamp_modules.{i}.{layer}", False),
    (r"final", "final_layer.{layer}", False),
)
SOURCE = "timm HRNet"


def timm_modules(prefix):
    """timm's (convolution, batch norm) module names for garden's `<prefix>_conv` / `_bn`."""
    for pattern, template, residual in TIMM_MODULES:
        match = re.fullmatch(pattern, prefix)
        if match:
            fields = match.groupdict()
            for one_based in ("b", "m"):
                if one_based in fields:
                    fields[one_based] = int(fields[one_based]) - 1
            if "s" in fields:
                fields["t"] = int(fields["s"]) - 1
                fields["new"] = ".0" if int(fields["i"]) == fields["t"] else ""
            conv, bn = ("conv", "bn") if residual else ("0", "1")
            return template.format(layer=conv, **fields), template.format(layer=bn, **fields)
    raise ValueError(f"Layer {prefix!r} has no counterpart in timm's HRNet (classification head).")


def convert(model, state):
    """Copies a timm HRNet state dict into `model` (built with `head="classification"`);
    without the top (`include_top=False`) the checkpoint's classifier is left out."""
    porter = Porter(model, state, SOURCE)
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D) and layer.name.endswith("_conv"):
            prefix = layer.name.removesuffix("_conv")
            conv, bn = timm_modules(prefix)
            porter.conv(layer.name, conv)
            porter.batch_norm(f"{prefix}_bn", bn)
    if any(layer.name == "predictions" for layer in model.layers):
        porter.dense("predictions", "classifier")
    else:
        for key in ("classifier.weight", "classifier.bias"):
            porter.take(key)
    porter.finish()


SIGNATURE = ("conv1.weight", "stage2.0.fuse_layers.0.1.0.weight",
             "incre_modules.0.0.conv1.weight", "final_layer.0.weight")

# (garden model, timm checkpoint, top-1 %): timm's results table (results-imagenet.csv, 224x224,
# crop 0.875, or 0.95 for ms_aug_in1k), inputs normalised with ImageNet's mean and std ("torch").
# The SHA-256 and sizes of the Hugging Face files were not available offline: empty and 0 until
# someone records them.
TIMM_CHECKPOINTS = (("hrnet_w18_small", "hrnet_w18_small.ms_in1k", 72.34),
                    ("hrnet_w18", "hrnet_w18.ms_aug_in1k", 78.11),
                    ("hrnet_w32", "hrnet_w32.ms_in1k", 78.45))
REGISTERED = [
    register_checkpoint(Checkpoint(
        model=model, source="timm",
        url=f"https://huggingface.co/timm/{checkpoint}/resolve/main/model.safetensors",
        sha256="", size_bytes=0, top1=top1, preprocessing="torch", convert=convert,
        signature=SIGNATURE, builder_kwargs={"head": "classification"}, default=True))
    for model, checkpoint, top1 in TIMM_CHECKPOINTS]
