"""timm's side of the checkpoint tests, run in a subprocess: PyTorch's import of triton crashes
in a process that has loaded TensorFlow first, as the test session has.

`python tests/timm_reference.py WORKDIR NAME...` builds each timm model `NAME` with random
weights and batch-norm statistics, writes its state dict as timm's Hugging Face files are
written (`WORKDIR/NAME.safetensors`), and for the [0, 255] RGB images of `WORKDIR/pixels.npy`
(NHWC) writes `WORKDIR/NAME.npz`: `mean` and `std` of timm's pretrained configuration,
`logits`, `features` (the pooled features before the classifier, timm's `num_classes=0`
output) and the `versions` of PyTorch and timm.
"""

import pathlib
import sys

import numpy as np
import safetensors.torch
import timm
import torch


def randomised(name):
    """timm's `name`, every float in its state dict random (batch-norm statistics included)."""
    network = timm.create_model(name, pretrained=False).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for key, tensor in network.state_dict().items():
            if not tensor.dtype.is_floating_point:
                continue
            if key.endswith("running_var") or (key.endswith("weight") and tensor.ndim == 1):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            else:  # He's scale for kernels keeps the activations, and their differences, O(1)
                fan_in = tensor[0].numel() if tensor.ndim > 1 else 400
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * (2 / fan_in) ** 0.5)
    return network


def reference(workdir, name):
    network = randomised(name)
    safetensors.torch.save_file(network.state_dict(), str(workdir / f"{name}.safetensors"))
    mean, std = (np.array(network.pretrained_cfg[key]) for key in ("mean", "std"))
    pixels = np.load(workdir / "pixels.npy")
    x = torch.from_numpy(((pixels / 255 - mean) / std).transpose(0, 3, 1, 2).astype("float32"))
    with torch.no_grad():
        features = network.forward_features(x)
        logits = network.forward_head(features)
        pooled = network.forward_head(features, pre_logits=True)
    np.savez(workdir / f"{name}.npz", mean=mean, std=std, logits=logits.numpy(),
             features=pooled.numpy(), versions=np.array([torch.__version__, timm.__version__]))


if __name__ == "__main__":
    for model in sys.argv[2:]:
        reference(pathlib.Path(sys.argv[1]), model)
