"""Multiply-adds of Keras layers and models, counted as Howard et al. count them for MobileNets.

One multiply-add per weight applied to an input value in a convolution, dense or recurrent
kernel, per example (Tables 6-7). Everything else costs zero by this definition: biases and
element-wise scaling (batch and layer normalization fold into the preceding convolution at
inference, PReLU), activations, pooling, additions, reshapes and embedding look-ups.

Custom layers declare their own count with a method `multiply_adds(input_shape)` (the input
shape includes the batch axis, as in `compute_output_shape`), as every layer of `garden.layers`
does; `layer_multiply_adds` gives the count of the Keras layers (and functional or Sequential
models) they are made of, so a composite layer's method is one sum. Layers with weights that
are neither known here nor declare a count are uncounted (None). The counting lives here, below
`garden.layers`, which use it; `garden.tools.profile` tabulates it per layer.

Reference:
    Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
    Applications", 2017. https://arxiv.org/abs/1704.04861
"""

import math

import keras

_CONV = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_CONV_TRANSPOSE = (
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
)
_DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
_SEPARABLE = (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)
# Layers with weights whose work is not a multiply-add by a weight matrix (see module docstring).
_ZERO_COST = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
    keras.layers.Normalization,
    keras.layers.Embedding,
    keras.layers.PReLU,
)
# Gates of a recurrent cell: each gate applies an input and a recurrent kernel.
_GATES = {keras.layers.SimpleRNNCell: 1, keras.layers.GRUCell: 3, keras.layers.LSTMCell: 4}


def layer_multiply_adds(layer, input_shape):
    """Multiply-adds of one call of `layer` on an input of `input_shape`, per example.

    Args:
        layer: keras.layers.Layer. A built layer.
        input_shape: tuple (or list of tuples for several inputs), batch axis included.

    Returns:
        An int, or None when the layer has weights and no known count (see the module
        docstring for what counts).

    Example:
    >>> conv = keras.layers.Conv2D(8, 3, padding="same")
    >>> conv.build((None, 5, 5, 4))
    >>> layer_multiply_adds(conv, (None, 5, 5, 4))  # 5*5 positions * 8 filters * 3*3*4 weights
    7200
    """
    if hasattr(layer, "multiply_adds"):
        count = layer.multiply_adds(input_shape)
        return None if count is None else int(count)
    if isinstance(layer, keras.Model):  # e.g. a localisation network inside a layer
        counts = [count for *_, count in walk(layer)]
        return None if None in counts else sum(counts)
    if isinstance(layer, _CONV):
        spatial, channels = _spatial_and_channels(layer, layer.compute_output_shape(input_shape))
        in_channels = _spatial_and_channels(layer, input_shape)[1]
        taps = math.prod(layer.kernel_size) * in_channels // layer.groups
        return spatial * channels * taps
    if isinstance(layer, _CONV_TRANSPOSE):
        spatial, in_channels = _spatial_and_channels(layer, input_shape)
        return spatial * in_channels * layer.filters * math.prod(layer.kernel_size)
    if isinstance(layer, (*_DEPTHWISE, *_SEPARABLE)):
        spatial, _ = _spatial_and_channels(layer, layer.compute_output_shape(input_shape))
        depthwise_channels = _spatial_and_channels(layer, input_shape)[1] * layer.depth_multiplier
        per_position = depthwise_channels * math.prod(layer.kernel_size)
        if isinstance(layer, _SEPARABLE):
            per_position += depthwise_channels * layer.filters
        return spatial * per_position
    if isinstance(layer, keras.layers.Dense):
        return _known(input_shape[1:], layer) * layer.units
    if isinstance(layer, tuple(_GATES)):
        return _GATES[type(layer)] * layer.units * (_known(input_shape[1:], layer) + layer.units)
    if isinstance(layer, (keras.layers.RNN, keras.layers.TimeDistributed)):
        inner = layer.cell if isinstance(layer, keras.layers.RNN) else layer.layer
        per_step = layer_multiply_adds(inner, (input_shape[0], *input_shape[2:]))
        return None if per_step is None else _known(input_shape[1:2], layer) * per_step
    if isinstance(layer, keras.layers.Bidirectional):
        counts = [layer_multiply_adds(rnn, input_shape)
                  for rnn in (layer.forward_layer, layer.backward_layer)]
        return None if None in counts else sum(counts)
    return 0 if _costs_nothing(layer) else None


def _costs_nothing(layer):
    return not getattr(layer, "weights", None) or isinstance(layer, _ZERO_COST)


def _known(dims, layer):
    """The product of `dims`, which must all be known."""
    if any(d is None for d in dims):
        raise ValueError(
            f"layer {layer.name!r} sees an input of unknown size {tuple(dims)}: multiply-adds "
            "need fixed input sizes, so build the model with a fixed input_shape."
        )
    return math.prod(dims)


def _spatial_and_channels(layer, shape):
    """(number of spatial positions, channels) of a convolution input or output shape."""
    if layer.data_format == "channels_first":
        return _known(shape[2:], layer), shape[1]
    return _known(shape[1:-1], layer), shape[-1]


def walk(model, prefix="", calls=1):
    """`(layer, prefix, output_shape, multiply_adds)` for every layer of `model`, in graph order.

    Functional and Sequential models are walked call by call, so a layer called twice counts
    twice and a nested model contributes its own layers (named with the `prefix` "inner/"). Of
    a subclassed model without a graph, the nested functional models are walked and other
    layers with weights are uncounted (None).
    """
    if not _is_graph(model):
        for layer in model.layers:
            if isinstance(layer, keras.Model) and not hasattr(layer, "multiply_adds"):
                yield from walk(layer, f"{prefix}{layer.name}/", calls)
            else:
                yield layer, prefix, (), 0 if _costs_nothing(layer) else None
        return
    for operation, input_shapes, output_shape in _calls(model):
        if not input_shapes:  # an Input
            continue
        if isinstance(operation, keras.Model) and not hasattr(operation, "multiply_adds"):
            yield from walk(operation, f"{prefix}{operation.name}/", calls * len(input_shapes))
            continue
        counts = [layer_multiply_adds(operation, shape) for shape in input_shapes]
        yield operation, prefix, output_shape, None if None in counts else calls * sum(counts)


def _is_graph(model):
    return isinstance(model, keras.Sequential) or hasattr(model, "_nodes_by_depth")


def _calls(model):
    """(operation, [input shape of each call]) for every operation of a functional graph.

    Keras records each call of an operation as a node; only the nodes that belong to this
    model's graph count (a layer can also be called in other models).
    """
    if isinstance(model, keras.Sequential):
        try:
            model = keras.Model(model.inputs, model.outputs)
        except (AttributeError, ValueError) as error:
            raise ValueError(
                f"model={model.name!r} is not built: give it an Input or call build() first."
            ) from error
    graph_nodes = {id(node) for nodes in model._nodes_by_depth.values() for node in nodes}
    for operation in model.operations:
        calls = [node for node in operation._inbound_nodes if id(node) in graph_nodes]
        shapes = [_input_shape(node) for node in calls if not node.is_input]
        yield operation, shapes, tuple(calls[0].outputs[0].shape)


def _input_shape(node):
    """The shape (or list of shapes) of a call's first argument."""
    arguments = node.arguments
    first = arguments.args[0] if arguments.args else next(iter(arguments.kwargs.values()))
    return keras.tree.map_structure(lambda tensor: tuple(tensor.shape), first)
