"""Pretrained ImageNet weights: the checkpoints of torchvision, timm and keras.applications,
read without PyTorch and converted into garden's builders.

    from garden import models
    model = models.resnet18(weights="imagenet")      # or weights="/path/resnet18-f37072fd.pth"
    preds = model.predict(models.preprocess_input(images, model="resnet18"))
    models.decode_predictions(preds, top=5)

- `load_state_dict(path)`: a `.pth`/`.pt` (`torch.save`, zip or legacy format) or `.safetensors`
  file as `{key: np.ndarray}`; a pickle naming anything a state dict does not need is refused
  without being run.
- `checkpoints(model)`, `get_checkpoint(model, weights)`: the table of checkpoints (source, file,
  size, published top-1, preprocessing), filled by one converter module per family.
- `download(checkpoint)`: the file in Keras' cache, its SHA-256 checked.
- `preprocess_input`, `decode_predictions`, `ImageNormalization`: the checkpoints' input
  normalisation and the 1,000 ImageNet class names shipped with garden.
"""

import functools
import importlib
import os

import numpy as np

from garden.weights._checkpoints import (
    CHECKPOINTS,
    PREPROCESSING,
    Checkpoint,
    register_checkpoint,
)
from garden.weights._download import cache_path, download, sha256
from garden.weights._preprocessing import ImageNormalization, normalize
from garden.weights._torch import read_torch
from garden.weights.imagenet import class_names, decode_predictions

__all__ = [
    "CHECKPOINTS",
    "PREPROCESSING",
    "Checkpoint",
    "ImageNormalization",
    "cache_path",
    "checkpoints",
    "class_names",
    "decode_predictions",
    "default_checkpoint",
    "download",
    "get_checkpoint",
    "load_state_dict",
    "normalize",
    "preprocess_input",
    "register_checkpoint",
    "sha256",
]

# The modules registering checkpoints, imported on first use of the table (they may import
# garden.models, which imports this package); a family without its module yet has none.
CONVERTER_MODULES = ("keras_applications", "alexnet", "vgg", "squeezenet", "googlenet", "resnet",
                     "hrnet", "mobilenet")
TORCH_SUFFIXES = (".pth", ".pt", ".bin")
KERAS_SUFFIXES = (".weights.h5", ".h5")
FILE_SUFFIXES = (*TORCH_SUFFIXES, ".safetensors", *KERAS_SUFFIXES)


@functools.cache
def _import_converters():
    for name in CONVERTER_MODULES:
        module = f"{__name__}.{name}"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise


def checkpoints(model):
    """The pretrained checkpoints of the garden model `model`, as `{source: Checkpoint}`
    (empty where it has none)."""
    _import_converters()
    return dict(CHECKPOINTS.get(model, {}))


def default_checkpoint(model):
    """The checkpoint `weights="imagenet"` loads: the one registered with `default=True`, or
    the model's only one; None where there is none."""
    found = list(checkpoints(model).values())
    defaults = [c for c in found if c.default] or (found if len(found) == 1 else [])
    if len(defaults) > 1:
        raise ValueError(f"{model} has several default checkpoints: "
                         f"{', '.join(c.source for c in defaults)}")
    return defaults[0] if defaults else None


def get_checkpoint(model, weights="imagenet"):
    """The checkpoint `weights` names: "imagenet" (the model's default) or a source.

    Raises:
        ValueError: the model has no such checkpoint; the message lists the ones it has.
    """
    found = checkpoints(model)
    checkpoint = (default_checkpoint(model) if weights == "imagenet"
                  else found.get(weights) if isinstance(weights, str) else None)
    if checkpoint is not None:
        return checkpoint
    allowed = (f"use None, 'imagenet', one of its sources ({', '.join(map(repr, found))})"
               if found else f"{model} has no pretrained checkpoint: use None")
    raise ValueError(f"weights={weights!r} is not allowed for {model}: {allowed} or the path "
                     f"to a weights file ({', '.join(FILE_SUFFIXES)}).")


def load_state_dict(path):
    """The arrays of a PyTorch (`.pth`, `.pt`, `.bin`) or safetensors checkpoint, by key.

    Needs no PyTorch. A `torch.save` pickle may only name the globals a state dict uses
    (`garden.weights._torch.ALLOWED_GLOBALS`): any other is refused without being called.

    Raises:
        ValueError: the file does not exist, is no state dict, names another global, or is
            truncated or corrupted.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"Checkpoint file {path!r} does not exist.")
    if path.endswith(".safetensors"):
        import safetensors
        import safetensors.numpy

        try:
            state = safetensors.numpy.load_file(path)
        except (safetensors.SafetensorError, OSError, ValueError) as e:
            raise ValueError(f"Cannot read {path}: not a valid safetensors file ({e}).") from None
        # bfloat16 (ml_dtypes' type) as float32, as the PyTorch reader gives it.
        return {key: value.astype(np.float32) if value.dtype.name == "bfloat16" else value
                for key, value in state.items()}
    return read_torch(path)


def preprocess_input(images, model, weights="imagenet"):
    """RGB images in [0, 255] normalised as `model`'s checkpoint `weights` was trained.

    Args:
        images: array of shape (..., height, width, 3), RGB in [0, 255].
        model: str. The garden model name, e.g. "resnet18".
        weights: "imagenet" (the model's default checkpoint) or a source, e.g. "keras".
            Defaults to "imagenet".

    Returns:
        A float32 NumPy array of the same shape (for "caffe" checkpoints, BGR).
    """
    return normalize(images, get_checkpoint(model, weights).preprocessing)
