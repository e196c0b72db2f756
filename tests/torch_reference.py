"""The PyTorch side of tests/test_weights_torchvision.py, run in a process of its own: torchvision
and timm crash the interpreter when imported after TensorFlow (which the tests' conftest loads
first), while PyTorch first and TensorFlow after work.

    python -m tests.torch_reference

reads lines "NAME DIRECTORY" from its standard input and answers each with a line "done" (or "error:
..." on one line) once it has built garden model NAME's reference network (torchvision's, or timm's
`resnet50d`) with random weights, biases and batch-norm statistics, written its state dict with
PyTorch's own writer (DIRECTORY/model.pth by `torch.save`, or model.safetensors by
`safetensors.torch.save_file` for timm) and its logits for DIRECTORY/images.npy (RGB in [0, 255],
NHWC, normalised by ImageNet's mean and standard deviation as torchvision's and timm's transforms
do) to DIRECTORY/expected.npy. One process serves a whole test module: importing torchvision costs
seconds.
"""

import functools
import sys
from pathlib import Path

import numpy as np
import torch  # before anything that imports TensorFlow
import torchvision

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
tv = torchvision.models


def timm_resnet50d():
    import timm

    return timm.create_model("resnet50d", pretrained=False)


# garden model: the reference network with random weights (torchvision's GoogLeNet as its
# ImageNet weights are used: transform_input, auxiliary classifiers kept).
REFERENCES = {
    "alexnet": tv.alexnet,
    **{name: getattr(tv, name) for name in ("vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn",
                                            "vgg13_bn", "vgg16_bn", "vgg19_bn")},
    "googlenet": functools.partial(tv.googlenet, aux_logits=True, transform_input=True,
                                   init_weights=True),
    "squeezenet1_0": tv.squeezenet1_0,
    "squeezenet1_1": tv.squeezenet1_1,
    "resnet18": tv.resnet18,
    "resnet34": tv.resnet34,
    "resnet50": tv.resnet50,
    "resnet101": tv.resnet101,
    "resnet152": tv.resnet152,
    "resnet50d": timm_resnet50d,
}


def randomise(network, seed, calibration):
    """Random weights (He-scaled, so the signal keeps its scale through the deepest networks),
    biases and batch-norm scales and shifts, and running statistics near those of the
    `calibration` images (NCHW) then moved off them, so that a swapped or forgotten array
    changes the logits and the logits depend on the input."""
    generator = torch.Generator().manual_seed(seed)

    def uniform(shape, low, high):
        return low + (high - low) * torch.rand(shape, generator=generator)

    def normal(shape, scale):
        return scale * torch.randn(shape, generator=generator)

    batch_norms = [m for m in network.modules()
                   if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                module.weight.copy_(normal(module.weight.shape,
                                           (2 / module.weight[0].numel()) ** 0.5))
                if module.bias is not None:
                    module.bias.copy_(normal(module.bias.shape, 0.1))
        for module in batch_norms:
            module.weight.copy_(uniform(module.weight.shape, 0.5, 1.5))
            module.bias.copy_(normal(module.bias.shape, 0.1))
            module.reset_running_stats()
            module.momentum = None  # the running statistics become the batch's
        network.train()(calibration)
        network.eval()
        for module in batch_norms:
            module.running_var.mul_(uniform(module.running_var.shape, 0.5, 1.5))
            module.running_mean.add_(normal(module.running_mean.shape, 0.2)
                                     * module.running_var.sqrt())


def normalised(images):
    """NHWC RGB `images` in [0, 255] as torchvision's and timm's transforms give them: NCHW,
    normalised by ImageNet's mean and standard deviation."""
    x = ((images / 255.0 - MEAN) / STD).transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(x, np.float32))


def write_state_dict(network, path):
    """The state dict written by PyTorch: safetensors for a `.safetensors` path, else
    `torch.save` (the zip format)."""
    if path.suffix == ".safetensors":
        import safetensors.torch

        safetensors.torch.save_file(network.state_dict(), str(path))
    else:
        torch.save(network.state_dict(), path)


def main(name, directory):
    directory = Path(directory)
    images = np.load(directory / "images.npy")
    torch.manual_seed(0)
    network = REFERENCES[name]()
    calibration = np.random.default_rng(1).uniform(0, 255, (4, *images.shape[1:]))
    randomise(network, seed=1, calibration=normalised(calibration))
    write_state_dict(network, directory / ("model.safetensors" if name == "resnet50d"
                                           else "model.pth"))
    with torch.no_grad():
        np.save(directory / "expected.npy", network(normalised(images)).numpy())


def serve(requests, answers):
    """Runs `main` for every "NAME DIRECTORY" line of `requests`, answering on `answers`."""
    for line in requests:
        try:
            main(*line.split())
            answers.write("done\n")
        except Exception as e:  # the test reports it; the session's other cases go on
            answers.write(f"error: {type(e).__name__}: {e}".replace("\n", " ") + "\n")
        answers.flush()


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout)
