"""Graph and sequence experiments: transductive node classification (GCN, DCNN, an MLP as a
GCN without edges) with Kipf's early stopping, the 2-D hidden representation of Kipf & Welling's
Figure 3, the memory of dense and thresholded diffusion kernels (Atwood et al. 2017), and a
character LSTM's bits per character with samples.

References:
    Kipf & Welling 2017. https://arxiv.org/abs/1609.02907
    Atwood & Towsley 2016. https://arxiv.org/abs/1511.02136
    Atwood, Pal, Towsley & Swami 2017. https://arxiv.org/abs/1710.09813
"""

import math

import keras
import numpy as np
from matplotlib.figure import Figure

from garden import data as garden_data
from garden.callbacks import WindowEarlyStopping
from garden.recipes.procedures import procedure
from garden.recipes.results import read_history
from garden.recipes.runner import fit
from garden.tools import sample_text
from garden.utils.figures import save_figure
from garden.utils.files import write_text


def _split(run, split):
    config = {k: v for k, v in run.recipe["data"].items() if k not in ("name", "batch_size")}
    return garden_data.load(run.recipe["data"]["name"], split, batch_size=1, shuffle=False,
                            seed=run.seed, **config)


@procedure(window=10, figure=False)
def node_classification(run):
    """One graph, the loss on the labelled nodes (`sample_weight`); stops when the validation
    loss exceeds the mean of the previous `window` epochs' (0: no early stopping, no
    validation: Kipf's karate experiment). Returns the test accuracy and loss over the test
    nodes and the epochs trained. With `figure`, draws the first GraphConv layer's output
    projected on its two principal axes (Kipf & Welling's Figure 3) in `hidden.png`."""
    model = run.model
    model.compile(optimizer=model.optimizer, loss=model.loss, weighted_metrics=["accuracy"])
    callbacks = list(run.callbacks)
    validation = None
    if run.options["window"]:
        validation = _split(run, "validation")
        callbacks.append(WindowEarlyStopping(run.options["window"]))
    model.fit(run.train_data, validation_data=validation, epochs=run.epochs,
              callbacks=callbacks, shuffle=False, verbose=0)
    scores = model.evaluate(run.test_data, return_dict=True, verbose=0)
    if run.options["figure"]:
        _draw_hidden(model, run)
    return {"test_accuracy": float(scores["accuracy"]), "test_loss": float(scores["loss"]),
            "epochs": float(len(read_history(run.run_dir)["loss"]))}  # resumed runs too


def _draw_hidden(model, run):
    (inputs, labels, mask), = run.test_data.take(1).as_numpy_iterator()
    probe = keras.Model(model.inputs, model.get_layer("graph_conv_1").output)
    hidden = np.asarray(probe(list(inputs), training=False))[0]
    centred = hidden - hidden.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2][:2]
    points = centred @ axes.T
    figure = Figure(figsize=(5, 4.5), layout="constrained")
    ax = figure.subplots()
    ax.scatter(points[:, 0], points[:, 1], c=labels[0], cmap="coolwarm", s=40)
    labelled = mask[0] == 0  # the nodes outside the test split are the labelled ones
    ax.scatter(points[labelled, 0], points[labelled, 1], marker="*", s=300, c="k",
               label="labelled node")
    ax.set_title("GCN hidden layer (first two principal axes)")
    ax.legend()
    save_figure(figure, run.run_dir / "hidden.png")


@procedure(window=10, figure=False, sizes=[500, 1000, 2000, 4000], hops=2, threshold=0.01)
def kernel_memory(run):
    """The memory of DCNN's diffusion kernel, dense (N x (H + 1) x N float32) against
    thresholded and sparse (values float32, indices int64), on stochastic-block-model graphs
    of growing size, then `node_classification` on the recipe's graph. Returns `dense_mb_N`,
    `sparse_mb_N` and `kept_N` (share of entries kept) for each size N."""
    result = {}
    for nodes in run.options["sizes"]:
        graph = garden_data.stochastic_block_model(nodes=nodes, train_per_class=1,
                                                   validation=0, test=0, seed=0)
        hops = run.options["hops"]
        sparse = garden_data.diffusion_kernel(graph.adjacency, hops, run.options["threshold"])
        entries = (hops + 1) * nodes * nodes
        kept = int(sparse.values.shape[0])
        result[f"dense_mb_{nodes}"] = entries * 4 / 1e6
        result[f"sparse_mb_{nodes}"] = kept * (4 + 8 * 4) / 1e6
        result[f"kept_{nodes}"] = kept / entries
    return {**node_classification(run), **result}


@procedure(temperatures=[0.5, 1.0], prompt="The ", length=300)
def char_language_model(run):
    """The default fit on next-character windows, then bits per character on the held-out
    text (test cross-entropy / ln 2) and samples at each temperature in `samples.txt`."""
    result = fit(run)
    result["test_bits_per_character"] = result["test_loss"] / math.log(2)
    _, vocabulary = garden_data.char_encode(garden_data.python_docs())
    samples = [f"--- temperature {t} ---\n" + sample_text(
        run.model, run.options["prompt"], t, run.options["length"], vocabulary=vocabulary,
        seed=run.seed) for t in run.options["temperatures"]]
    write_text(run.run_dir / "samples.txt", "\n\n".join(samples) + "\n")
    return result
