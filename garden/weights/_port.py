"""Copying a PyTorch-layout state dict into a Keras model, one layer at a time.

A converter (one module per family, `garden/weights/<family>.py`) is a short list of `Porter`
calls naming a Keras layer and the checkpoint prefix it takes its arrays from; the transposes
between the two layouts are here, written once:
- convolution kernels: PyTorch (out, in, kh, kw) -> Keras (kh, kw, in, out);
- depthwise kernels: (channels, 1, kh, kw) -> (kh, kw, channels, 1);
- dense kernels: (out, in) -> (in, out), optionally with the input reordered from a
  channels-first flatten (PyTorch's `x.flatten(1)` of an NCHW map) to Keras' channels-last one;
- batch normalization: weight, bias, running_mean, running_var -> gamma, beta, moving_mean,
  moving_variance.

`Porter.finish()` refuses a checkpoint with arrays no layer took, so a converter that forgets a
layer, or a checkpoint of another network, fails loudly instead of leaving random weights.
"""

import difflib

import numpy as np

# Bookkeeping entries of a PyTorch state dict that hold no weight.
IGNORED_SUFFIXES = ("num_batches_tracked",)


def conv_kernel(weight):
    """PyTorch (out, in, kh, kw) -> Keras (kh, kw, in, out)."""
    return np.transpose(weight, (2, 3, 1, 0))


def depthwise_kernel(weight):
    """PyTorch depthwise (channels, 1, kh, kw) -> Keras (kh, kw, channels, 1)."""
    return np.transpose(weight, (2, 3, 0, 1))


def dense_kernel(weight, chw=None):
    """PyTorch (out, in) -> Keras (in, out). With `chw=(channels, height, width)`, the input
    axis is reordered from a channels-first flatten to Keras' channels-last flatten."""
    if chw is not None:
        channels, height, width = chw
        weight = weight.reshape(-1, channels, height, width).transpose(0, 2, 3, 1)
        weight = weight.reshape(weight.shape[0], -1)
    return np.transpose(weight)


class Porter:
    """Assigns a state dict's arrays to a model's layers, checking names and shapes.

    Args:
        model: keras.Model. The garden network the checkpoint is for.
        state: mapping from checkpoint key to NumPy array (as the readers return it).
        source: str. What the checkpoint is, for error messages (e.g. "torchvision alexnet").
    """

    def __init__(self, model, state, source):
        self.model = model
        self.state = state
        self.source = source
        self.used = set()

    def take(self, key):
        """The array under `key`; a missing key names the closest keys the checkpoint has."""
        if key not in self.state:
            close = difflib.get_close_matches(key, list(self.state), n=3, cutoff=0.6)
            hint = f" Closest keys: {', '.join(close)}." if close else ""
            raise ValueError(
                f"The {self.source} checkpoint has no key {key!r}: it was written for another "
                f"network or variant.{hint}"
            )
        self.used.add(key)
        return np.asarray(self.state[key])

    def assign(self, layer_name, arrays, keys):
        """Sets `layer_name`'s weights to `arrays` (converted), naming `keys` on a mismatch."""
        layer = self.model.get_layer(layer_name)
        variables = layer.weights
        if len(variables) != len(arrays):
            raise ValueError(
                f"Layer {layer_name!r} has {len(variables)} weights, the {self.source} "
                f"checkpoint gives {len(arrays)} ({', '.join(keys)})."
            )
        for variable, array, key in zip(variables, arrays, keys):
            if tuple(variable.shape) != array.shape:
                raise ValueError(
                    f"The {self.source} checkpoint's {key!r} has shape {array.shape} (after "
                    f"conversion), layer {layer_name!r} expects {tuple(variable.shape)}: the "
                    "builder's arguments do not match the network the checkpoint was trained as."
                )
            variable.assign(array.astype(variable.dtype))

    def conv(self, layer_name, prefix, depthwise=False):
        """A convolution: `prefix.weight` and, where the layer has a bias, `prefix.bias`."""
        keys = [f"{prefix}.weight"]
        kernel = (depthwise_kernel if depthwise else conv_kernel)(self.take(keys[0]))
        arrays = [kernel]
        if len(self.model.get_layer(layer_name).weights) == 2:
            keys.append(f"{prefix}.bias")
            arrays.append(self.take(keys[1]))
        self.assign(layer_name, arrays, keys)

    def dense(self, layer_name, prefix, chw=None):
        """A fully connected layer: `prefix.weight` (see `dense_kernel` for `chw`), `prefix.bias`."""
        keys = [f"{prefix}.weight", f"{prefix}.bias"]
        self.assign(layer_name, [dense_kernel(self.take(keys[0]), chw), self.take(keys[1])], keys)

    def batch_norm(self, layer_name, prefix):
        """Batch normalization: weight, bias, running_mean, running_var under `prefix`."""
        keys = [f"{prefix}.{name}" for name in ("weight", "bias", "running_mean", "running_var")]
        self.assign(layer_name, [self.take(key) for key in keys], keys)

    def finish(self):
        """Raises `ValueError` if the checkpoint holds arrays that no layer took."""
        unused = sorted(
            key for key in self.state
            if key not in self.used and not key.endswith(IGNORED_SUFFIXES)
        )
        if unused:
            shown = ", ".join(unused[:5]) + (", ..." if len(unused) > 5 else "")
            raise ValueError(
                f"The {self.source} checkpoint has {len(unused)} arrays this network does not "
                f"use ({shown}): it was written for another network or variant."
            )
