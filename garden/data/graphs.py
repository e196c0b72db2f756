"""Graphs for the graph models: Zachary's karate club (networkx), Kipf's Planetoid files, a
generated stochastic-block-model graph, and the diffusion kernel of DCNN.

A `Graph` holds one graph: node features, a sparse adjacency, labels and the node indices of the
train / validation / test splits; `Graph.inputs()` gives the `[features, adjacency]` pair of
`garden.models.gcn` (a batch of one graph).

References:
    Yang, Cohen & Salakhutdinov, "Revisiting Semi-Supervised Learning with Graph Embeddings"
    (Planetoid), ICML 2016. https://arxiv.org/abs/1603.08861
    Kipf & Welling 2017 (the `ind.<name>.*` files of github.com/tkipf/gcn).
    https://arxiv.org/abs/1609.02907
"""

import dataclasses
import functools
import pickle
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from garden.data._registry import register_dataset
from garden.utils.checks import check_choice, check_int, check_number
from garden.utils.files import atomic_path

PLANETOID_FILES = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")


@dataclasses.dataclass
class Graph:
    """One graph with node labels and a split.

    Attributes:
        features: float32 array (N, F).
        adjacency: scipy CSR matrix (N, N), symmetric, no self-loops.
        labels: int array (N,); -1 for a node without a label.
        train, validation, test: int arrays of node indices.
    """

    features: np.ndarray
    adjacency: sp.csr_matrix
    labels: np.ndarray
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    @property
    def classes(self):
        return int(self.labels.max()) + 1

    def inputs(self, sparse=False):
        """`[features (1, N, F), adjacency (1, N, N)]`: a batch of one graph, the adjacency a
        `tf.SparseTensor` with `sparse=True` (the features then a `tf.Tensor`: a Keras call
        takes tensors or arrays, not both), else a dense float32 array."""
        if not sparse:
            return [self.features[None], batch_of_one(self.adjacency, sparse)]
        import tensorflow as tf

        return [tf.constant(self.features[None]), batch_of_one(self.adjacency, sparse)]

    def mask(self, split):
        """Float mask (1, N) of a split's nodes, as `sample_weight` of a transductive fit."""
        mask = np.zeros((1, len(self.labels)), "float32")
        mask[0, getattr(self, split)] = 1.0
        return mask


def batch_of_one(matrix, sparse):
    """A scipy matrix (N, N) as a batch of one: a `tf.SparseTensor` (1, N, N) with `sparse`,
    else a dense float32 array (1, N, N)."""
    if not sparse:
        return sp.csr_matrix(matrix).toarray().astype("float32")[None]
    import tensorflow as tf

    coo = sp.coo_matrix(matrix)
    indices = np.stack([np.zeros_like(coo.row), coo.row, coo.col], axis=1).astype("int64")
    return tf.sparse.reorder(tf.SparseTensor(indices, coo.data.astype("float32"),
                                             (1, *coo.shape)))


def karate_communities(graph):
    """The four communities of maximum modularity (0.4198, Brandes et al. 2008) of Zachary's
    club that Kipf & Welling's Figure 3 colours: the best of ten seeded Louvain runs, ordered by
    their smallest member."""
    import networkx as nx

    runs = [nx.community.louvain_communities(graph, weight=None, seed=seed) for seed in range(10)]
    best = max(runs, key=lambda c: nx.community.modularity(graph, c, weight=None))
    return sorted((sorted(c) for c in best), key=min)


def karate(labels="communities"):
    """Zachary's karate club (networkx): 34 members, 78 edges, featureless (X = I, as Kipf &
    Welling's Figure 3).

    The train split is one labelled member per class, the most connected one (the lowest index
    among equals); the others are the test split; there is no validation split.

    Args:
        labels: `"communities"` (the default: Kipf & Welling's setting, the four communities of
            maximum modularity, `karate_communities`) or `"club"` (the two clubs after the
            split; members 0 and 33, the instructor and the administrator, are labelled).
    """
    import networkx as nx

    check_choice("labels", labels, ("communities", "club"))
    graph = nx.karate_club_graph()
    if labels == "club":
        classes = [[n for n in graph if graph.nodes[n]["club"] == club]
                   for club in ("Mr. Hi", "Officer")]
    else:
        classes = karate_communities(graph)
    y = np.zeros(len(graph), dtype="int64")
    for label, members in enumerate(classes):
        y[members] = label
    train = np.array(sorted(max(c, key=lambda n: (graph.degree(n), -n)) for c in classes))
    adjacency = sp.csr_matrix(nx.to_scipy_sparse_array(graph, weight=None, dtype="float32"))
    nodes = len(y)
    return Graph(np.eye(nodes, dtype="float32"), adjacency, y, train, np.array([], dtype="int64"),
                 np.setdiff1d(np.arange(nodes), train))


def planetoid(directory, name, validation=500):
    """Loads Kipf's Planetoid files `ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}` (Cora,
    Citeseer, Pubmed) with the public split: the `len(y)` nodes of `x` train (140 for Cora),
    the next `validation` validate (500), the nodes of `test.index` test (1,000).

    Test nodes missing from `test.index`'s range (Citeseer's isolated nodes) get zero features
    and label -1.

    Args:
        directory: folder holding the files.
        name: str. The dataset's name in the file names, e.g. `"cora"`.
        validation: int. Number of validation nodes. Defaults to 500.
    """
    directory = Path(directory)
    missing = [f"ind.{name}.{s}" for s in PLANETOID_FILES
               if not (directory / f"ind.{name}.{s}").is_file()]
    if missing:
        raise ValueError(f"Planetoid directory {str(directory)!r} lacks {', '.join(missing)} "
                         f"(needs ind.{name}.{{{','.join(PLANETOID_FILES)}}})")
    parts = {}
    for suffix in PLANETOID_FILES[:-1]:
        with open(directory / f"ind.{name}.{suffix}", "rb") as file:
            parts[suffix] = pickle.load(file, encoding="latin1")  # Python 2 pickles
    test_index = np.loadtxt(directory / f"ind.{name}.test.index", dtype="int64", ndmin=1)
    allx, ally = sp.csr_matrix(parts["allx"]), np.asarray(parts["ally"])
    nodes = max(allx.shape[0], int(test_index.max()) + 1, len(parts["graph"]))
    features = np.zeros((nodes, allx.shape[1]), "float32")
    features[: allx.shape[0]] = allx.toarray()
    features[test_index] = sp.csr_matrix(parts["tx"]).toarray()
    one_hot = np.zeros((nodes, ally.shape[1]))
    one_hot[: len(ally)] = ally
    one_hot[test_index] = np.asarray(parts["ty"])
    labels = np.where(one_hot.any(axis=1), one_hot.argmax(axis=1), -1)
    rows, cols = zip(*((node, other) for node, neighbours in parts["graph"].items()
                       for other in neighbours if other != node))
    adjacency = sp.csr_matrix((np.ones(len(rows), "float32"), (rows, cols)), (nodes, nodes))
    adjacency = ((adjacency + adjacency.T) > 0).astype("float32")  # symmetric, unweighted
    train = len(parts["y"])
    return Graph(features, sp.csr_matrix(adjacency), labels, np.arange(train),
                 np.arange(train, train + validation), np.sort(test_index))


def write_planetoid(graph, directory, name, shuffle_seed=0):
    """Writes `graph` as Kipf's Planetoid files (the inverse of `planetoid`): the train nodes
    first, then the validation nodes and the other unlabelled non-test ones (allx), the test
    nodes last, listed in `test.index` in a shuffled order as in Kipf's files. The node order
    of `graph` must already be train, validation, others, test (as `stochastic_block_model`'s).
    """
    nodes, classes = len(graph.labels), graph.classes
    one_hot = np.eye(classes)[graph.labels]
    test = np.random.default_rng(shuffle_seed).permutation(graph.test)
    non_test = np.setdiff1d(np.arange(nodes), graph.test)
    x = sp.csr_matrix(graph.features)
    lists = {node: graph.adjacency[node].indices.tolist() for node in range(nodes)}
    parts = {"x": x[graph.train], "y": one_hot[graph.train], "allx": x[non_test],
             "ally": one_hot[non_test], "tx": x[test], "ty": one_hot[test], "graph": lists}
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for suffix, value in parts.items():
        with atomic_path(directory / f"ind.{name}.{suffix}") as path, open(path, "wb") as file:
            pickle.dump(value, file)
    with atomic_path(directory / f"ind.{name}.test.index") as path:
        Path(path).write_text("".join(f"{i}\n" for i in test))


def stochastic_block_model(nodes=2708, classes=7, features=100, degree=4.0, homophily=0.8,
                           word_signal=0.1, train_per_class=20, validation=500, test=1000, seed=0):
    """A Planetoid-like graph with community structure: a stochastic block model whose classes
    are the blocks, and bag-of-words features weakly tied to the class.

    Edges: each pair is linked with a probability giving a mean degree of `degree`, a share
    `homophily` of the edges inside a class. Features: binary, each word on with probability
    0.05, plus `word_signal` for the `features / classes` words of the node's class. Nodes
    are ordered as Planetoid's: `train_per_class` labelled per class first, then `validation`,
    then the rest, with the last `test` nodes as the test split.
    """
    nodes, classes, features = (check_int(n, v) for n, v in
                                (("nodes", nodes), ("classes", classes), ("features", features)))
    homophily = check_number("homophily", homophily, minimum=0, maximum=1)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, nodes)
    first = np.concatenate([np.flatnonzero(labels == c)[:train_per_class] for c in range(classes)])
    order = np.concatenate([first, np.setdiff1d(np.arange(nodes), first)])
    labels = labels[order]
    same = labels[:, None] == labels[None, :]
    inside = same.sum() - nodes
    p_in = homophily * degree * nodes / max(inside, 1)
    p_out = (1 - homophily) * degree * nodes / max(nodes * nodes - nodes - inside, 1)
    upper = np.triu(rng.random((nodes, nodes)) < np.where(same, p_in, p_out), k=1)
    adjacency = sp.csr_matrix((upper | upper.T).astype("float32"))
    words = np.arange(features) * classes // features
    probability = 0.05 + word_signal * (words[None, :] == labels[:, None])
    x = (rng.random((nodes, features)) < probability).astype("float32")
    train = len(first)
    return Graph(x, adjacency, labels, np.arange(train), np.arange(train, train + validation),
                 np.arange(nodes - test, nodes))


def transition_matrix(adjacency):
    """P = D^-1 A, the degree-normalised transition matrix (rows of isolated nodes stay 0)."""
    adjacency = sp.csr_matrix(adjacency, dtype="float64")
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    return sp.diags(np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)) @ adjacency


def diffusion_kernel(adjacency, hops, threshold=None):
    """DCNN's diffusion kernel P* = [P^0, P^1, ..., P^hops] of one graph, shape
    (hops + 1, N, N).

    Args:
        adjacency: (N, N) array or scipy matrix.
        hops: int >= 0. The highest power H.
        threshold: None for the dense float32 array (Atwood & Towsley 2016); a float for the
            sparse kernel of Atwood et al. 2017: entries below it are dropped and the kernel is
            a `tf.SparseTensor` (1, hops + 1, N, N), a batch of one.
    """
    hops = check_int("hops", hops, minimum=0)
    shape = getattr(adjacency, "shape", np.shape(adjacency))
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"adjacency must be a square (N, N) matrix; got shape {shape}")
    transition = transition_matrix(adjacency)
    power = sp.identity(shape[0], format="csr")
    powers = []
    for _ in range(hops + 1):
        powers.append(power)
        power = transition @ power
    if threshold is None:
        return np.stack([p.toarray() for p in powers]).astype("float32")
    threshold = check_number("threshold", threshold, minimum=0)
    import tensorflow as tf

    indices, values = [], []
    for hop, p in enumerate(powers):
        coo = sp.coo_matrix(p)
        keep = coo.data >= threshold
        indices.append(np.stack([np.zeros(keep.sum()), np.full(keep.sum(), hop),
                                 coo.row[keep], coo.col[keep]], axis=1))
        values.append(coo.data[keep])
    return tf.sparse.reorder(tf.SparseTensor(np.concatenate(indices).astype("int64"),
                                             np.concatenate(values).astype("float32"),
                                             (1, hops + 1, *shape)))


def graph_dataset(graph, split, edges=True, hops=None, threshold=None):
    """One graph as a `tf.data.Dataset` of one element `((features, graph input), labels,
    mask)` for a transductive fit: the mask (`sample_weight`) selects the split's nodes.

    The graph input is the adjacency, or with `hops` the diffusion kernel (sparse with a
    `threshold`); `edges=False` drops every edge (a GCN then is an MLP on the features).
    """
    import tensorflow as tf

    if split not in ("train", "validation", "test"):
        raise ValueError(f"split={split!r} is not allowed: use 'train', 'validation' or 'test'.")
    adjacency = graph.adjacency if edges else sp.csr_matrix(graph.adjacency.shape, dtype="float32")
    if hops is None:
        graph_input = adjacency.toarray()
    elif threshold is None:
        graph_input = diffusion_kernel(adjacency, hops)
    else:
        kernel = diffusion_kernel(adjacency, hops, threshold)
        graph_input = tf.sparse.reshape(kernel, kernel.dense_shape[1:])
    labels = np.maximum(graph.labels, 0)
    return tf.data.Dataset.from_tensors(((graph.features, graph_input), labels,
                                         graph.mask(split)[0]))


@functools.lru_cache(maxsize=4)
def planetoid_sbm(**options):
    """`stochastic_block_model(**options)` written as Planetoid files and read back with
    `planetoid` (so the loader is what a Cora user runs)."""
    with tempfile.TemporaryDirectory() as directory:
        write_planetoid(stochastic_block_model(**options), directory, "sbm")
        return planetoid(directory, "sbm")


@register_dataset("karate", num_classes=4, nodes=34, features=34)
def _karate(split, edges=True, hops=None, threshold=None, labels="communities"):
    return graph_dataset(karate(labels), split, edges, hops, threshold)


@register_dataset("sbm", num_classes=7, nodes=2708, features=100)
def _sbm(split, edges=True, hops=None, threshold=None, homophily=0.8, word_signal=0.1,
         graph_seed=0):
    graph = planetoid_sbm(homophily=homophily, word_signal=word_signal, seed=graph_seed)
    return graph_dataset(graph, split, edges, hops, threshold)
