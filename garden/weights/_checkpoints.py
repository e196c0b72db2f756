"""The table of pretrained checkpoints: which file each garden model can load, and how.

Each family's converter module registers its checkpoints with `register_checkpoint`; the
builders, `garden weights list` and the docs read them from `CHECKPOINTS`.
"""

import dataclasses
import os
from typing import Callable, Mapping

import numpy as np

CHECKPOINTS: dict[str, dict[str, "Checkpoint"]] = {}
# How a checkpoint's network expects its input (see garden.weights' preprocessing): "torch"
# (RGB in [0, 1], then ImageNet mean/std), "tf" ([-1, 1]), "caffe" (BGR, ImageNet means
# subtracted, [0, 255]).
PREPROCESSING = ("torch", "tf", "caffe")


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """One pretrained checkpoint of one garden model.

    Attributes:
        model: the garden registry name, e.g. "alexnet".
        source: where it comes from: "torchvision", "timm" or "keras".
        url: where `weights="imagenet"` (or `weights=source`) downloads it from.
        sha256: the file's SHA-256 as hex; a prefix where the source publishes only that
            (torchvision's file names carry the first 8 or 10 hex digits); empty where it is
            not checked: keras.applications' files (keras.applications checks them itself) and
            files whose hash is not recorded yet.
        size_bytes: the file's size; None (or 0) where it is not recorded.
        top1: the source's published ImageNet top-1 accuracy (%).
        preprocessing: one of `PREPROCESSING`.
        builder_kwargs: builder arguments the checkpoint's network needs (e.g. `{"lrn": False}`
            for torchvision's AlexNet); a user argument contradicting one is refused.
        signature: checkpoint keys that identify this source's layout, so a local file is
            recognised by its keys.
        convert: `convert(model, state)` copies the state dict (key -> NumPy array) into the
            model built with `builder_kwargs`.
        default: whether `weights="imagenet"` means this checkpoint.
        top_prefixes: key prefixes of the classifier top (e.g. `("fc.",)`). Built without its
            top (`include_top=False`), a model gets the state dict without these keys, so
            `convert` ports the top only where the model has its layers.
    """

    model: str
    source: str
    url: str
    sha256: str
    size_bytes: int | None
    top1: float
    preprocessing: str
    convert: Callable[..., None]
    signature: tuple = ()
    builder_kwargs: Mapping = dataclasses.field(default_factory=dict)
    default: bool = False
    top_prefixes: tuple = ()

    @property
    def file_name(self) -> str:
        """The file's name in Keras' cache: the last part of its URL, or for a Hugging Face
        file (`.../<repository>/resolve/<revision>/model.safetensors`, the same name in every
        repository) the repository's name with the file's suffix."""
        parts = self.url.split("/")
        if "resolve" in parts[:-1]:
            return parts[parts.index("resolve") - 1] + os.path.splitext(parts[-1])[1]
        return parts[-1]

    def matches(self, state: Mapping[str, np.ndarray]) -> bool:
        """Whether a state dict has this checkpoint's identifying keys."""
        return all(key in state for key in self.signature)


def register_checkpoint(checkpoint):
    """Adds `checkpoint` to `CHECKPOINTS[model][source]` (one per model and source)."""
    sources = CHECKPOINTS.setdefault(checkpoint.model, {})
    if checkpoint.source in sources:
        raise ValueError(
            f"checkpoint {checkpoint.source!r} of {checkpoint.model!r} is registered twice"
        )
    if checkpoint.preprocessing not in PREPROCESSING:
        raise ValueError(
            f"preprocessing={checkpoint.preprocessing!r} is not allowed; use one of "
            f"{PREPROCESSING}"
        )
    sources[checkpoint.source] = checkpoint
    return checkpoint
