"""torchvision's ImageNet checkpoints: where they are and what their file names say.

torchvision publishes each file at `https://download.pytorch.org/models/<name>-<hash>.pth`, the
hash being the first hex digits of the file's SHA-256 (which `torch.hub` checks), and its size in
MiB to three decimals (`torchvision.models.<Model>_Weights.<tag>.meta["_file_size"]`, with the
ImageNet top-1 in `meta["_metrics"]`), the numbers recorded here.
"""

from garden.weights._checkpoints import Checkpoint

URL = "https://download.pytorch.org/models/"
MIB = 2**20


def torchvision_checkpoint(model, file_name, file_mib, top1, convert, *, sha256=None,
                           size_bytes=None, preprocessing="torch", **fields):
    """The `Checkpoint` of torchvision's file `file_name` for garden's `model`.

    Args:
        model: the garden registry name.
        file_name: e.g. "alexnet-owt-7be5be79.pth"; its last "-" part is the SHA-256 prefix.
        file_mib: the published size in MiB; the size in bytes is taken from it (to 1 KiB)
            unless `size_bytes` gives it exactly.
        top1: the published ImageNet top-1 (%).
        convert: `convert(model, state)`.
        sha256: the whole SHA-256 where it is known; defaults to the file name's prefix.
        preprocessing: one of `PREPROCESSING`. Defaults to "torch".
        **fields: the other `Checkpoint` fields (signature, builder_kwargs, default,
            top_prefixes).
    """
    prefix = file_name.rsplit("-", 1)[1].split(".")[0]
    return Checkpoint(
        model=model, source=fields.pop("source", "torchvision"), url=URL + file_name,
        sha256=sha256 or prefix, size_bytes=size_bytes or round(file_mib * MIB), top1=top1,
        preprocessing=preprocessing, convert=convert, **fields,
    )


def flattened_chw(model, layer_name="flatten"):
    """(channels, height, width) of the map `layer_name` flattens: the order in which PyTorch's
    `flatten` of the same map lists its values (`Porter.dense`'s `chw`)."""
    height, width, channels = model.get_layer(layer_name).input.shape[1:]
    return channels, height, width
