"""timm's MobileNet v1 checkpoint (`mobilenetv1_100`) converted into garden's `mobilenet_v1`
built with `variant="timm"`.

timm builds MobileNet v1 with its EfficientNet builder: a stem (`conv_stem`, `bn1`), 13
depthwise-separable blocks in five stages (`blocks.{stage}.{index}`: `conv_dw`, `bn1`,
`conv_pw`, `bn2`, ReLU6 after both, no residual connections) and a linear `classifier` on the
pooled features, which is garden's 1x1 `conv_preds` on the pooled map.
"""

import numpy as np

from garden.weights._checkpoints import Checkpoint, register_checkpoint
from garden.weights._port import Porter

# Blocks per stage of timm's arch_def (64 | 128 x2 | 256 x2 | 512 x6 | 1024 x2): garden's
# blocks 1..13 in order.
STAGE_BLOCKS = (1, 2, 2, 6, 2)
BLOCKS = tuple(f"blocks.{stage}.{index}" for stage, count in enumerate(STAGE_BLOCKS)
               for index in range(count))
SOURCE = "timm mobilenetv1"


def convert(model, state):
    """Copies a timm `mobilenetv1_*` state dict into `model` (built with `variant="timm"`);
    without the top (`include_top=False`) the checkpoint's classifier is left out."""
    porter = Porter(model, state, SOURCE)
    porter.conv("conv1", "conv_stem")
    porter.batch_norm("conv1_bn", "bn1")
    for block_id, prefix in enumerate(BLOCKS, start=1):
        porter.conv(f"conv_dw_{block_id}", f"{prefix}.conv_dw", depthwise=True)
        porter.batch_norm(f"conv_dw_{block_id}_bn", f"{prefix}.bn1")
        porter.conv(f"conv_pw_{block_id}", f"{prefix}.conv_pw")
        porter.batch_norm(f"conv_pw_{block_id}_bn", f"{prefix}.bn2")
    weight, bias = porter.take("classifier.weight"), porter.take("classifier.bias")
    if any(layer.name == "conv_preds" for layer in model.layers):
        # A linear layer on the pooled features is a 1x1 convolution on the pooled 1x1 map.
        porter.assign("conv_preds", [np.transpose(weight)[None, None], bias],
                      ["classifier.weight", "classifier.bias"])
    porter.finish()


# timm's results table (results-imagenet.csv): 75.388% at 224 (crop 0.875, bicubic), 76.088% at
# its test size 256. Its mean and std are 0.5 (IMAGENET_INCEPTION_*): inputs in [-1, 1], "tf".
# The SHA-256 and size of the Hugging Face file were not available offline: empty and 0.
register_checkpoint(Checkpoint(
    model="mobilenet_v1", source="timm",
    url="https://huggingface.co/timm/mobilenetv1_100.ra4_e3600_r224_in1k/resolve/main/"
        "model.safetensors",
    sha256="", size_bytes=0, top1=75.39, preprocessing="tf", convert=convert,
    signature=("conv_stem.weight", "blocks.0.0.conv_dw.weight", "blocks.0.0.conv_pw.weight"),
    builder_kwargs={"variant": "timm", "alpha": 1.0, "depth_multiplier": 1}))
