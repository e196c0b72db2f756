"""timm's side of the checkpoint tests, run in a subprocess: PyTorch's import of triton crashes
in a process that has loaded TensorFlow first, as the test session has.

`python tests/timm_reference.py WORKDIR NAME...` builds each timm model `NAME` (a name with
its checkpoint tag, e.g. `hrnet_w32.ms_in1k`) with random weights and batch-norm statistics,
writes its state dict as timm's Hugging Face files are written (`WORKDIR/NAME.safetensors`),
and for the [0, 255] RGB images of `WORKDIR/pixels.npy` (NHWC) writes `WORKDIR/NAME.npz`:
`mean` and `std` of the checkpoint's pretrained configuration, `logits`, `features` (the
pooled features before the classifier, timm's `num_classes=0` output) and the `versions` of
PyTorch and timm.
"""

import pathlib
import sys

import numpy as np
import safetensors.torch
import timm
import torch


def randomised(name, calibration):
    """timm's `name` with random weights and batch-norm statistics near those of the
    `calibration` images (NCHW), so that activations keep their scale through deep residual
    stacks and the logits depend on the input."""
    network = timm.create_model(name, pretrained=False)
    generator = torch.Generator().manual_seed(0)

    def uniform(shape, low, high):
        return low + (high - low) * torch.rand(shape, generator=generator)

    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.copy_(uniform(module.weight.shape, 0.5, 1.5))
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
                module.reset_running_stats()
                module.momentum = None  # running statistics: the average over the batch
            elif isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator)
                                    * (2 / fan_in) ** 0.5)
                if module.bias is not None:
                    module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
        network.train()(calibration)
        network.eval()
        for module in network.modules():  # statistics off the batch's, so none cancels out
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_var.mul_(uniform(module.running_var.shape, 0.5, 1.5))
                module.running_mean.add_(torch.randn(module.running_mean.shape,
                                                     generator=generator)
                                         * module.running_var.sqrt() * 0.2)
    return network


def reference(workdir, name):
    pixels = np.load(workdir / "pixels.npy")
    cfg = timm.get_pretrained_cfg(name).to_dict()
    mean, std = (np.array(cfg[key]) for key in ("mean", "std"))

    def normalised(images):
        return torch.from_numpy(((images / 255 - mean) / std).transpose(0, 3, 1, 2)
                                .astype("float32"))

    calibration = np.random.default_rng(1).uniform(0, 255, (4, *pixels.shape[1:]))
    network = randomised(name, normalised(calibration))
    safetensors.torch.save_file(network.state_dict(), str(workdir / f"{name}.safetensors"))
    x = normalised(pixels)
    with torch.no_grad():
        features = network.forward_features(x)
        logits = network.forward_head(features)
        pooled = network.forward_head(features, pre_logits=True)
    np.savez(workdir / f"{name}.npz", mean=mean, std=std, logits=logits.numpy(),
             features=pooled.numpy(), versions=np.array([torch.__version__, timm.__version__]))


if __name__ == "__main__":
    for model in sys.argv[2:]:
        reference(pathlib.Path(sys.argv[1]), model)
