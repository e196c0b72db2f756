"""Reading PyTorch state dicts (`torch.save` files) into NumPy arrays, without PyTorch and
without executing code from the file.

A `torch.save` file is a pickle whose tensors point at raw storages, in one of two layouts:
- the zip format (PyTorch >= 1.6): `<name>/data.pkl`, one `<name>/data/<key>` entry of raw bytes
  per storage, and `<name>/byteorder`;
- the legacy format (`_use_new_zipfile_serialization=False`, and PyTorch < 1.6, e.g. torchvision's
  2017 files such as `resnet18-5c106cde.pth`, pytorch/vision#2068): five pickles in a row (a magic
  number, the protocol version, system information, the object, the list of storage keys), then
  each storage as an 8-byte little-endian element count and its bytes.

Pickles are read by `_StateDictUnpickler`, which resolves only the globals a state dict needs
(`ALLOWED_GLOBALS`) to functions of this module and refuses every other global by name before
anything is called: a pickle can only run code through the globals it names, so a file naming
`os.system` is refused, never run.
"""

import collections
import io
import pickle
import struct
import zipfile

import numpy as np

# Storage types -> NumPy dtypes (bfloat16 has none: read as its 16-bit pattern, see _bfloat16).
STORAGE_DTYPES = {
    "DoubleStorage": np.float64,
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "BFloat16Storage": np.uint16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
ZIP_MAGIC = b"PK\x03\x04"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


class _Storage:
    """A storage named by a pickle's persistent id: its dtype and key (bytes are read later)."""

    def __init__(self, kind, key, numel):
        self.kind, self.key, self.numel = kind, key, numel
        self.array = None  # the storage's elements, set once its bytes are read


class _Tensor:
    """A tensor of a pickle: a view of a storage, materialised once the storages are read."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset = storage, offset
        self.size, self.stride = tuple(size), tuple(stride)

    def to_numpy(self):
        flat = self.storage.array
        extent = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride) if n)
        if any(n == 0 for n in self.size):
            return np.zeros(self.size, flat.dtype)
        if self.offset < 0 or min(self.stride, default=0) < 0 or extent >= flat.size:
            raise ValueError(
                f"a tensor of shape {self.size} reaches element {extent} of a storage of "
                f"{flat.size}: the file is corrupted"
            )
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset:], self.size, tuple(s * flat.itemsize for s in self.stride)
        )
        array = np.array(view)
        if self.storage.kind == "BFloat16Storage":
            array = _bfloat16(array)
        return array


def _bfloat16(bits):
    """bfloat16 bit patterns (uint16) -> float32: the upper half of a float32's bits."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    if not isinstance(storage, _Storage):
        raise ValueError("a tensor's storage is not a storage: the file is corrupted")
    return _Tensor(storage, offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


def _storage_type(kind):
    def storage_type(*args):
        raise pickle.UnpicklingError(f"storage type torch.{kind} cannot be called")
    storage_type.kind = kind
    return storage_type


ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", kind): _storage_type(kind) for kind in STORAGE_DTYPES},
}


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle names a global that a state dict does not use."""


class _StateDictUnpickler(pickle.Unpickler):
    """An unpickler that knows only `ALLOWED_GLOBALS` and records the storages it meets."""

    def __init__(self, file):
        super().__init__(file)
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) not in ALLOWED_GLOBALS:
            raise RefusedGlobal(
                f"the pickle names the global {module}.{name}, which a state dict does not use "
                "(it may only name collections.OrderedDict, torch._utils' tensor rebuilders "
                "and torch's storage types)"
            )
        return ALLOWED_GLOBALS[module, name]

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and getattr(pid[1], "kind", None) in STORAGE_DTYPES):
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel = pid[:5]
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views (PyTorch < 0.4 files) are not supported")
        storage = self.storages.setdefault(key, _Storage(storage_type.kind, key, numel))
        return storage


def _unpickle(unpickler, path):
    try:
        return unpickler.load()
    except RefusedGlobal as e:
        raise ValueError(f"Cannot read {path}: {e}; it is refused, not run.") from None
    except (pickle.UnpicklingError, EOFError, struct.error, IndexError, KeyError, TypeError,
            AttributeError, ValueError) as e:
        raise ValueError(f"Cannot read {path}: its pickle is truncated or corrupted ({e}).") \
            from None


def _storage_array(data, storage, byteorder, path):
    dtype = np.dtype(STORAGE_DTYPES[storage.kind]).newbyteorder(byteorder)
    need = storage.numel * dtype.itemsize
    if len(data) < need:
        raise ValueError(
            f"Cannot read {path}: storage {storage.key} has {len(data)} bytes, its tensors need "
            f"{need}: the file is truncated or corrupted."
        )
    array = np.frombuffer(data, dtype, storage.numel)  # read-only: tensors copy from it
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def _read_zip(path):
    try:
        archive = zipfile.ZipFile(path)
        names = archive.namelist()
        pickles = [name for name in names if name.endswith("/data.pkl") or name == "data.pkl"]
        if len(pickles) != 1:
            raise ValueError(f"Cannot read {path}: a zip file that is not a torch.save file "
                             "(no data.pkl).")
        prefix = pickles[0][: -len("data.pkl")]
        byteorder_name = f"{prefix}byteorder"
        byteorder = archive.read(byteorder_name).decode() if byteorder_name in names else "little"
        unpickler = _StateDictUnpickler(io.BytesIO(archive.read(pickles[0])))
        obj = _unpickle(unpickler, path)
        for storage in unpickler.storages.values():
            data = archive.read(f"{prefix}data/{storage.key}")
            storage.array = _storage_array(data, storage, "<" if byteorder == "little" else ">",
                                           path)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as e:
        raise ValueError(f"Cannot read {path}: the zip archive is truncated or corrupted ({e}).") \
            from None
    return obj


def _read_legacy(path):
    with open(path, "rb") as file:
        header = []
        for _ in range(3):  # magic number, protocol version, system information
            header.append(_unpickle(_StateDictUnpickler(file), path))
        if header[0] != LEGACY_MAGIC or header[1] != LEGACY_PROTOCOL:
            raise ValueError(f"Cannot read {path}: a pickle, but not a torch.save file (no "
                             "magic number of its legacy format).")
        byteorder = "<" if header[2].get("little_endian", True) else ">"
        unpickler = _StateDictUnpickler(file)
        obj = _unpickle(unpickler, path)
        keys = _unpickle(_StateDictUnpickler(file), path)
        for key in keys:
            storage = unpickler.storages.get(key)
            if storage is None:
                raise ValueError(f"Cannot read {path}: storage {key!r} is listed but unused: the "
                                 "file is corrupted.")
            count = file.read(8)
            if len(count) < 8:
                raise ValueError(f"Cannot read {path}: the file is truncated (storage {key}).")
            itemsize = np.dtype(STORAGE_DTYPES[storage.kind]).itemsize
            storage.numel = struct.unpack("<q", count)[0]
            storage.array = _storage_array(file.read(storage.numel * itemsize), storage,
                                           byteorder, path)
    return obj


def _materialise(obj, path):
    """The state dict with every tensor as a NumPy array; a nested {"state_dict": ...} or
    {"model": ...} (training checkpoints) is unwrapped."""
    if not isinstance(obj, dict):
        raise ValueError(f"Cannot read {path}: it holds a {type(obj).__name__}, not a state dict.")
    if not any(isinstance(value, _Tensor) for value in obj.values()):
        for wrapper in ("state_dict", "model"):
            if isinstance(obj.get(wrapper), dict):
                return _materialise(obj[wrapper], path)
    state = {}
    for key, value in obj.items():
        if not isinstance(value, _Tensor):
            raise ValueError(f"Cannot read {path}: entry {key!r} is a {type(value).__name__}, "
                             "not a tensor.")
        if value.storage.array is None:
            raise ValueError(f"Cannot read {path}: the storage of {key!r} is missing: the file "
                             "is truncated or corrupted.")
        try:
            state[key] = value.to_numpy()
        except ValueError as e:
            raise ValueError(f"Cannot read {path}: {key!r}: {e}.") from None
    return state


def read_torch(path):
    """The state dict of a `torch.save` file (zip or legacy format) as `{key: np.ndarray}`.

    Raises:
        ValueError: the file is not a state dict, names a global a state dict does not use
            (refused without running it), or is truncated or corrupted.
    """
    with open(path, "rb") as file:
        start = file.read(4)
    if start.startswith(ZIP_MAGIC):
        obj = _read_zip(path)
    elif start[:1] == pickle.PROTO:
        obj = _read_legacy(path)
    else:
        raise ValueError(f"Cannot read {path}: not a torch.save file (neither a zip archive nor "
                         "a pickle).")
    return _materialise(obj, path)
