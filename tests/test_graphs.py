"""Graph layers, models and data: GraphConv against NumPy's renormalised propagation (dense and
sparse), the diffusion kernel against NumPy powers of P, DiffusionConv against NumPy, GCN's
parameter count for Cora, the Planetoid files round trip with the public split sizes."""

import keras
import numpy as np
import pytest

from garden import data, layers, models
from garden.data.graphs import batch_of_one


def _small_graph(nodes=6, seed=0):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((nodes, nodes)) < 0.4, k=1)
    adjacency = (upper | upper.T).astype("float32")
    return rng.normal(size=(nodes, 3)).astype("float32"), adjacency


def test_graph_conv_equals_numpy_renormalised_propagation_dense_and_sparse():
    x, adjacency = _small_graph()
    layer = layers.GraphConv(4, activation="relu")
    dense = np.asarray(layer([x[None], adjacency[None]]))[0]
    a_tilde = adjacency + np.eye(len(adjacency))
    d = np.diag(a_tilde.sum(axis=1) ** -0.5)
    kernel, bias = (np.asarray(w) for w in layer.weights)
    np.testing.assert_allclose(dense, np.maximum(d @ a_tilde @ d @ x @ kernel + bias, 0),
                               atol=1e-5)
    sparse = np.asarray(layer([x[None], batch_of_one(adjacency, sparse=True)]))[0]
    np.testing.assert_allclose(sparse, dense, atol=1e-6)
    plain = layers.GraphConv(4, renormalize=False, use_bias=False)
    out = np.asarray(plain([x[None], adjacency[None]]))[0]
    np.testing.assert_allclose(out, adjacency @ x @ np.asarray(plain.kernel), atol=1e-5)


def test_graph_shapes_are_checked():
    with pytest.raises(ValueError, match="must be square"):
        layers.GraphConv(2)([np.ones((1, 4, 3)), np.ones((1, 4, 5))])
    with pytest.raises(ValueError, match="features have 3 nodes"):
        layers.GraphConv(2)([np.ones((1, 3, 3)), np.ones((1, 4, 4))])
    with pytest.raises(ValueError, match="features have 3 nodes"):
        layers.DiffusionConv()([np.ones((1, 3, 2)), np.ones((1, 2, 4, 4))])
    with pytest.raises(ValueError, match="hops=-1"):
        models.dcnn(hops=-1)
    with pytest.raises(ValueError, match="hops=-1"):
        data.diffusion_kernel(np.eye(3), hops=-1)
    with pytest.raises(ValueError, match="square"):
        data.diffusion_kernel(np.ones((3, 4)), hops=1)


def test_gcn_has_kipfs_weight_decay():
    model = models.gcn()
    first = model.get_layer("graph_conv_1")
    assert first.kernel_regularizer.l2 == pytest.approx(2.5e-4)  # 5e-4 * tf.nn.l2_loss
    assert model.get_layer("graph_conv_2").kernel_regularizer is None
    assert first.dropout == 0.5 and first.units == 16


def test_sparse_gcn_equals_dense():
    x, adjacency = _small_graph(7)
    dense = models.gcn(features=3, classes=2)
    sparse = models.gcn(features=3, classes=2, sparse=True)
    sparse.set_weights(dense.get_weights())
    np.testing.assert_allclose(
        np.asarray(sparse([keras.ops.convert_to_tensor(x[None]), batch_of_one(adjacency, True)])),
        np.asarray(dense([x[None], adjacency[None]])), atol=1e-6)


def test_diffusion_kernel_equals_numpy_powers_and_threshold():
    _, adjacency = _small_graph(8, seed=3)
    adjacency[0, 1] = adjacency[1, 0] = 1  # no isolated node 0
    kernel = data.diffusion_kernel(adjacency, hops=3)
    degree = adjacency.sum(axis=1, keepdims=True)
    p = np.divide(adjacency, degree, out=np.zeros_like(adjacency), where=degree > 0)
    expected = np.stack([np.linalg.matrix_power(p, j) for j in range(4)])
    np.testing.assert_allclose(kernel, expected, atol=1e-6)
    sparse = data.diffusion_kernel(adjacency, hops=3, threshold=0.1)
    import tensorflow as tf

    np.testing.assert_allclose(tf.sparse.to_dense(sparse).numpy()[0],
                               np.where(expected >= 0.1, expected, 0), atol=1e-6)


@pytest.mark.parametrize("task", ["node", "graph"])
def test_diffusion_conv_equals_numpy(task):
    x, adjacency = _small_graph(6)
    kernel = data.diffusion_kernel(adjacency, hops=2)
    layer = layers.DiffusionConv(task=task)
    out = np.asarray(layer([x[None], kernel[None]]))[0]
    diffused = np.einsum("jil,lk->ijk", kernel, x)  # P*_jil X_lk
    if task == "graph":
        diffused = diffused.mean(axis=0)
    np.testing.assert_allclose(out, np.tanh(np.asarray(layer.kernel) * diffused), atol=1e-5)
    sparse_kernel = data.diffusion_kernel(adjacency, hops=2, threshold=0.0)
    np.testing.assert_allclose(np.asarray(layer([x[None], sparse_kernel]))[0], out, atol=1e-6)


def test_karate_is_zacharys_club_with_kipfs_four_communities():
    import networkx as nx

    graph = data.karate()
    assert graph.adjacency.shape == (34, 34) and graph.adjacency.nnz == 2 * 78
    communities = [np.flatnonzero(graph.labels == c) for c in range(4)]
    # The maximum modularity of the club (Brandes et al. 2008): 0.4198, four communities.
    modularity = nx.community.modularity(nx.karate_club_graph(), communities, weight=None)
    assert round(modularity, 4) == 0.4198
    assert sorted(map(len, communities)) == [5, 6, 11, 12]
    # One labelled member per community, its hub: the instructor (0) and the administrator (33).
    assert len(graph.train) == 4 and {0, 33} <= set(graph.train.tolist())
    assert sorted(graph.labels[graph.train].tolist()) == [0, 1, 2, 3]
    assert sorted(graph.train.tolist() + graph.test.tolist()) == list(range(34))
    club = data.karate(labels="club")
    assert np.bincount(club.labels).tolist() == [17, 17] and club.train.tolist() == [0, 33]
    with pytest.raises(ValueError, match="labels='faction'"):
        data.karate(labels="faction")


def test_planetoid_round_trip_with_the_public_split(tmp_path):
    graph = data.stochastic_block_model(nodes=2708, classes=7, features=20, seed=1)
    data.write_planetoid(graph, tmp_path, "sbm")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"ind.sbm.{s}" for s in ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"))
    loaded = data.planetoid(tmp_path, "sbm")
    assert (len(loaded.train), len(loaded.validation), len(loaded.test)) == (140, 500, 1000)
    np.testing.assert_array_equal(loaded.features, graph.features)
    np.testing.assert_array_equal(loaded.labels, graph.labels)
    assert (loaded.adjacency != graph.adjacency).nnz == 0
    np.testing.assert_array_equal(loaded.test, np.arange(1708, 2708))
    assert np.bincount(loaded.labels[loaded.train]).tolist() == [20] * 7
    (tmp_path / "ind.sbm.ty").unlink()
    with pytest.raises(ValueError, match=r"lacks ind\.sbm\.ty"):
        data.planetoid(tmp_path, "sbm")


def test_graph_datasets_mask_the_split_and_drop_edges():
    (x, a), y, mask = next(iter(data.load("karate", "train", batch_size=1)))
    assert x.shape == a.shape == (1, 34, 34) and y.shape == mask.shape == (1, 34)
    assert np.flatnonzero(mask.numpy()[0]).tolist() == data.karate().train.tolist()
    (_, empty), _, test_mask = next(iter(data.load("karate", "test", batch_size=1, edges=False,
                                                   labels="club")))
    assert not np.any(empty.numpy()) and test_mask.numpy().sum() == 32
    (_, kernel), _, _ = next(iter(data.load("karate", "test", batch_size=1, hops=2)))
    assert kernel.shape == (1, 3, 34, 34)


def test_window_early_stopping_is_kipfs_rule():
    from garden.callbacks import WindowEarlyStopping

    stopper = WindowEarlyStopping(window=3)
    model = keras.Sequential([keras.layers.Dense(1)])
    model.stop_training = False  # as fit sets it
    stopper.set_model(model)
    stopper.on_train_begin()
    for epoch, loss in enumerate([5.0, 4.0, 3.0, 2.0, 2.5, 2.9, 3.2]):
        stopper.on_epoch_end(epoch, {"val_loss": loss})
        if stopper.model.stop_training:
            break
    # 2.5 <= mean(4, 3, 2); 2.9 > mean(3, 2, 2.5) = 2.5: stops at epoch 5.
    assert stopper.stopped_epoch == 5
    with pytest.raises(ValueError, match="'val_loss' is not logged"):
        stopper.on_epoch_end(0, {"loss": 1.0})
