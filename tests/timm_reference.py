"""timm's side of the checkpoint tests, run in a subprocess: PyTorch's import of triton crashes
in a process that has loaded TensorFlow first, as the test session has.

`python tests/timm_reference.py WORKDIR NAME...` builds each timm model `NAME` (a name with
its checkpoint tag, e.g. `hrnet_w32.ms_in1k`) with random weights and batch-norm statistics
(`tests.torch_reference.randomise`), writes its state dict as timm's Hugging Face files are written (`WORKDIR/NAME.safetensors`),
and for the [0, 255] RGB images of `WORKDIR/pixels.npy` (NHWC) writes `WORKDIR/NAME.npz`:
`mean` and `std` of the checkpoint's pretrained configuration, `logits`, `features` (the
pooled features before the classifier, timm's `num_classes=0` output) and the `versions` of
PyTorch and timm.
"""

import pathlib
import sys

import numpy as np
import safetensors.torch
import torch  # before anything that imports TensorFlow

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import timm  # noqa: E402

from tests.torch_reference import randomise  # noqa: E402


def reference(workdir, name):
    pixels = np.load(workdir / "pixels.npy")
    cfg = timm.get_pretrained_cfg(name).to_dict()
    mean, std = (np.array(cfg[key]) for key in ("mean", "std"))

    def normalised(images):
        return torch.from_numpy(((images / 255 - mean) / std).transpose(0, 3, 1, 2)
                                .astype("float32"))

    calibration = np.random.default_rng(1).uniform(0, 255, (4, *pixels.shape[1:]))
    network = timm.create_model(name, pretrained=False)
    randomise(network, seed=0, calibration=normalised(calibration))
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
