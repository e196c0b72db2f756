"""Graph networks: Kipf & Welling's two-layer GCN and Atwood & Towsley's DCNN.

Both take two inputs per graph, node features (N, F) and the graph: the adjacency for `gcn`, the
diffusion kernel P* (H + 1, N, N) for `dcnn` (`garden.data.diffusion_kernel`). In the
transductive setting one graph is a batch of one, and the loss covers the labelled nodes through
`sample_weight` (`garden.data.Graph.mask`). `nodes=None` accepts graphs of any size.

References:
    Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks", ICLR 2017.
    https://arxiv.org/abs/1609.02907
    Atwood & Towsley, "Diffusion-Convolutional Neural Networks", NeurIPS 2016.
    https://arxiv.org/abs/1511.02136
    Atwood, Pal, Towsley & Swami, "Sparse Diffusion-Convolutional Neural Networks", 2017.
    https://arxiv.org/abs/1710.09813
"""

import keras
from keras import layers

from garden.layers.graph import DiffusionConv, GraphConv
from garden.models._registry import figure, register_model
from garden.utils.checks import check_bool, check_choice, check_int, check_number, check_rate


def _inputs(nodes, features, graph_shape, sparse):
    if nodes is not None:
        check_int("nodes", nodes)
    check_int("features", features)
    check_bool("sparse", sparse)
    return (keras.Input((nodes, features), name="features"),
            keras.Input(graph_shape, sparse=sparse, name="graph"))


@register_model(
    paper="Kipf & Welling, Semi-Supervised Classification with Graph Convolutional Networks",
    year=2017,
    arxiv="https://arxiv.org/abs/1609.02907",
    input_shape=((2708, 1433), (2708, 2708)),
    task="node classification",
    small_kwargs={"features": 6, "classes": 3, "hidden": 4},
    figures=[figure("parameters", 23_063, "Section 5's network on Cora (1433*16 + 16 + 16*7 + 7)")],
)
def gcn(features=1433, classes=7, hidden=16, dropout=0.5, weight_decay=5e-4, nodes=None,
        sparse=False, classifier_activation="softmax", name="gcn"):
    """Two-layer GCN (Kipf & Welling 2017): softmax(Â ReLU(Â X W0) W1), Â = D^-1/2 (A + I) D^-1/2.

    The paper trains it with Adam (0.01) for up to 200 epochs, stopping when the validation loss
    exceeds the mean of the previous 10 (`garden.callbacks.WindowEarlyStopping(10)`). Cora's
    shapes (1,433 features, 16 hidden, 7 classes) give 23,063 parameters.

    Args:
        features: int. Features per node. Defaults to 1433 (Cora).
        classes: int. Number of classes. Defaults to 7 (Cora).
        hidden: int. Hidden units. Defaults to 16.
        dropout: float. Dropout rate of each layer's input. Defaults to 0.5.
        weight_decay: float. L2 penalty of the first layer, Kipf's `weight_decay *
            tf.nn.l2_loss(W0)` (= weight_decay / 2 * sum(W0^2)). Defaults to 5e-4.
        nodes: int or None. Number of nodes; None for any. Defaults to None.
        sparse: bool. Whether the adjacency input is sparse. Defaults to False.
        classifier_activation: activation of the output; None returns logits.
        name: str. Model name.

    Example:
    >>> gcn().count_params()
    23063
    """
    check_int("hidden", hidden)
    check_int("classes", classes)
    check_rate("dropout", dropout)
    weight_decay = check_number("weight_decay", weight_decay, minimum=0)
    x, adjacency = _inputs(nodes, features, (nodes, nodes), sparse)
    h = GraphConv(hidden, activation="relu", dropout=dropout,
                  kernel_regularizer=keras.regularizers.L2(weight_decay / 2) if weight_decay
                  else None, name="graph_conv_1")([x, adjacency])
    outputs = GraphConv(classes, activation=classifier_activation, dropout=dropout,
                        name="graph_conv_2")([h, adjacency])
    return keras.Model([x, adjacency], outputs, name=name)


@register_model(
    paper="Atwood & Towsley, Diffusion-Convolutional Neural Networks",
    year=2016,
    arxiv="https://arxiv.org/abs/1511.02136",
    input_shape=((2708, 1433), (3, 2708, 2708)),
    task="node classification",
    small_kwargs={"hops": 2, "features": 5, "classes": 3},
)
def dcnn(hops=2, features=1433, classes=7, task="node", nodes=None, sparse=False,
         activation="tanh", classifier_activation="softmax", name="dcnn"):
    """DCNN (Atwood & Towsley 2016): diffusion convolution over hops 0..H, then a dense layer.

    With a thresholded sparse kernel (`diffusion_kernel(..., threshold=t)`, `sparse=True`) it is
    the sparse DCNN of Atwood et al. 2017.

    Args:
        hops: int >= 0. The highest power H of the transition matrix. Defaults to 2.
        features: int. Features per node. Defaults to 1433 (Cora).
        classes: int. Number of classes. Defaults to 7.
        task: str. `"node"` (a prediction per node) or `"graph"` (one per graph).
            Defaults to `"node"`.
        nodes: int or None. Number of nodes; None for any. Defaults to None.
        sparse: bool. Whether the kernel input is sparse. Defaults to False.
        activation: activation of the diffusion convolution. Defaults to `"tanh"`.
        classifier_activation: activation of the output; None returns logits.
        name: str. Model name.

    Example:
    >>> dcnn(hops=2, features=1433, classes=7).count_params()  # (3 * 1433) + (3 * 1433 + 1) * 7
    34399
    """
    hops = check_int("hops", hops, minimum=0)
    check_int("classes", classes)
    check_choice("task", task, ("node", "graph"))
    x, kernel = _inputs(nodes, features, (hops + 1, nodes, nodes), sparse)
    z = DiffusionConv(activation=activation, task=task, name="diffusion_conv")([x, kernel])
    if task == "node":
        z = layers.Reshape((-1, (hops + 1) * features), name="flatten_hops")(z)
    else:
        z = layers.Flatten(name="flatten_hops")(z)
    outputs = layers.Dense(classes, activation=classifier_activation, name="predictions")(z)
    return keras.Model([x, kernel], outputs, name=name)
