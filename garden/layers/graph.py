"""Graph layers: Kipf & Welling's graph convolution and Atwood & Towsley's diffusion convolution.

Both take `[features, graph]`: node features (batch, N, F) and an adjacency matrix (GraphConv) or
a diffusion kernel (DiffusionConv) per graph, dense or sparse (`tf.SparseTensor` on TensorFlow;
the layers use only `keras.ops.matmul`, which accepts either). One graph (Kipf's transductive
setting) is a batch of one.

References:
    Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks", ICLR 2017.
    https://arxiv.org/abs/1609.02907
    Atwood & Towsley, "Diffusion-Convolutional Neural Networks", NeurIPS 2016.
    https://arxiv.org/abs/1511.02136
"""

import keras
from keras import ops

from garden.utils.checks import check_bool, check_choice, check_int, check_rate
from garden.utils.serialization import serializable


def _check_graph_shapes(layer, features_shape, graph_shape):
    """ValueError unless the graph's last two axes are square and match the features' nodes."""
    rows, columns = graph_shape[-2], graph_shape[-1]
    nodes = features_shape[-2]
    if rows is not None and columns is not None and rows != columns:
        raise ValueError(f"{layer}: the adjacency must be square; got shape {tuple(graph_shape)}")
    if nodes is not None and columns is not None and nodes != columns:
        raise ValueError(
            f"{layer}: features have {nodes} nodes (shape {tuple(features_shape)}) but the "
            f"graph has {columns} (shape {tuple(graph_shape)}); they must agree")


@serializable
class GraphConv(keras.layers.Layer):
    """Graph convolution with the renormalisation trick (Kipf & Welling 2017, eq. 2):

        H' = act(D^-1/2 (A + I) D^-1/2 H W + b),   D_ii = sum_j (A + I)_ij

    computed as d^-1/2 * (A (d^-1/2 * H W) + d^-1/2 * H W), so the normalised matrix is never
    formed and a sparse A stays sparse. With `renormalize=False`, A is used as given (already
    normalised, or any propagation matrix). Dropout (Kipf: 0.5) acts on H in training.

    Args:
        units: int. Output features per node.
        activation: activation of the output. Defaults to None.
        use_bias: bool. Whether to add b. Defaults to True.
        dropout: float. Dropout rate of the input features. Defaults to 0.
        renormalize: bool. Whether to apply the renormalisation trick to A. Defaults to True.
        kernel_initializer: initializer of W. Defaults to `"glorot_uniform"` (Kipf's).
        kernel_regularizer: regularizer of W. Defaults to None.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `[features (batch, N, F), adjacency (batch, N, N)]`.

    Reference:
        Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks".
        https://arxiv.org/abs/1609.02907
    """

    def __init__(self, units, activation=None, use_bias=True, dropout=0.0, renormalize=True,
                 kernel_initializer="glorot_uniform", kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.activation = keras.activations.get(activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.dropout = check_rate("dropout", dropout)
        self.renormalize = check_bool("renormalize", renormalize)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.dropout_layer = keras.layers.Dropout(self.dropout)

    def build(self, input_shape):
        features_shape, adjacency_shape = input_shape
        _check_graph_shapes(self.name, features_shape, adjacency_shape)
        self.kernel = self.add_weight(
            shape=(features_shape[-1], self.units), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs, training=False):
        features, adjacency = inputs
        h = ops.matmul(self.dropout_layer(features, training=training), self.kernel)
        if self.renormalize:
            # Degrees of A + I, as the product of A with a column of ones (works when A is sparse).
            degree = ops.matmul(adjacency, ops.ones_like(h[..., :1])) + 1.0
            scale = ops.rsqrt(degree)
            h = scale * (ops.matmul(adjacency, scale * h) + scale * h)
        else:
            h = ops.matmul(adjacency, h)
        if self.use_bias:
            h = h + self.bias
        return self.activation(h)

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], self.units)

    def multiply_adds(self, input_shape):
        """H W and A (H W) for a dense A (an upper bound for a sparse one); 0 for an unknown
        node count."""
        nodes, features = input_shape[0][-2:]
        return 0 if nodes is None else nodes * self.units * (features + nodes)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "dropout": self.dropout,
            "renormalize": self.renormalize,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        }


@serializable
class DiffusionConv(keras.layers.Layer):
    """Diffusion convolution (Atwood & Towsley 2016): Z = f(W ⊙ P* X).

    P* is the diffusion kernel, the power series P^0 .. P^H of the transition matrix
    P = D^-1 A (`garden.data.diffusion_kernel` computes it, dense or thresholded and sparse),
    given per graph as shape (H + 1, N, N). For node classification (`task="node"`) the output
    is Z_ijk = f(W_jk sum_l P*_jil X_lk), shape (batch, N, H + 1, F); for graph classification
    (`task="graph"`) the diffused features are averaged over the nodes first (the paper's
    1^T P* X / N), shape (batch, H + 1, F). W holds one weight per hop and feature.

    Args:
        activation: f. Defaults to `"tanh"` (the paper's).
        task: str. `"node"` or `"graph"`. Defaults to `"node"`.
        kernel_initializer: initializer of W. Defaults to `"glorot_uniform"`.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `[features (batch, N, F), kernel (batch, H + 1, N, N)]`.

    Reference:
        Atwood & Towsley, "Diffusion-Convolutional Neural Networks", NeurIPS 2016.
        https://arxiv.org/abs/1511.02136
    """

    def __init__(self, activation="tanh", task="node", kernel_initializer="glorot_uniform",
                 **kwargs):
        super().__init__(**kwargs)
        self.activation = keras.activations.get(activation)
        self.task = check_choice("task", task, ("node", "graph"))
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        features_shape, kernel_shape = input_shape
        if len(kernel_shape) != 4:
            raise ValueError(f"{self.name}: the diffusion kernel must have shape (batch, hops + "
                             f"1, N, N); got {tuple(kernel_shape)}")
        _check_graph_shapes(self.name, features_shape, kernel_shape)
        self.kernel = self.add_weight(shape=(kernel_shape[1], features_shape[-1]),
                                      initializer=self.kernel_initializer, name="kernel")

    def call(self, inputs):
        features, kernel = inputs
        hops, width = self.kernel.shape
        nodes = kernel.shape[-1] or ops.shape(kernel)[-1]
        # P*_j X for every hop j as one product (batch, (H + 1) N, N) x (batch, N, F), a batch
        # of 2-D products that a sparse kernel supports too; then (batch, H + 1, N, F).
        stacked = ops.reshape(kernel, (-1, hops * nodes, nodes))
        diffused = ops.reshape(ops.matmul(stacked, features), (-1, hops, nodes, width))
        if self.task == "graph":
            return self.activation(self.kernel * ops.mean(diffused, axis=2))
        return self.activation(self.kernel * ops.transpose(diffused, (0, 2, 1, 3)))

    def compute_output_shape(self, input_shape):
        features_shape, kernel_shape = input_shape
        hops, width = kernel_shape[1], features_shape[-1]
        if self.task == "graph":
            return (features_shape[0], hops, width)
        return (features_shape[0], features_shape[1], hops, width)

    def multiply_adds(self, input_shape):
        """P*_j X for every hop (dense kernel) and the element-wise weights; 0 for an unknown
        node count."""
        (_, nodes, width), (_, hops, _, _) = input_shape
        return 0 if nodes is None else hops * nodes * width * (nodes + 1)

    def get_config(self):
        return {
            **super().get_config(),
            "activation": keras.activations.serialize(self.activation),
            "task": self.task,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
