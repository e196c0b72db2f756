"""What pruning removed, per layer: the numbers Blalock et al. ask every pruning paper to report.

Compression ratio is parameters before over parameters after (every weight of the model
counts; pruned weights are the zeros in prunable weights), and the theoretical speed-up is
multiply-adds before over multiply-adds after, counting only the multiplications by weights
that are still non-zero.

Reference:
- [Blalock et al., What is the State of Neural Network Pruning?](https://arxiv.org/abs/2003.03033)
"""

import dataclasses
import math

import numpy as np

from garden.sparsity.pruning import PruneLowMagnitude, leaf_layers, prunable_weights


@dataclasses.dataclass(frozen=True)
class LayerSparsity:
    """One layer's prunable weights: how many there are and how many survived.

    Attributes:
        name: the layer's name (the wrapped layer's name for a pruned model).
        class_name: the layer's class, e.g. `"Conv2D"`.
        params: elements of the layer's prunable weights.
        kept: the non-zero ones among them.
        macs: multiply-adds per example by those weights when dense.
        macs_kept: multiply-adds per example by the non-zero weights.
    """

    name: str
    class_name: str
    params: int
    kept: int
    macs: int
    macs_kept: int

    @property
    def sparsity(self):
        return 1.0 - self.kept / self.params

    @property
    def compression_ratio(self):
        return self.params / self.kept if self.kept else math.inf

    @property
    def macs_saved(self):
        return self.macs - self.macs_kept


@dataclasses.dataclass(frozen=True)
class SparsityReport:
    """Per-layer sparsity and the whole model's compression ratio and speed-up.

    Attributes:
        layers: one `LayerSparsity` per layer with prunable weights, in model order.
        total_params: every weight of the model (biases, normalization included; pruning
            masks excluded).
        total_kept: `total_params` less the zeros in prunable weights.
    """

    layers: list
    total_params: int
    total_kept: int

    @property
    def compression_ratio(self):
        return self.total_params / self.total_kept

    @property
    def sparsity(self):
        """The fraction of all prunable weights that are zero."""
        return 1.0 - sum(r.kept for r in self.layers) / sum(r.params for r in self.layers)

    @property
    def macs(self):
        return sum(r.macs for r in self.layers)

    @property
    def macs_kept(self):
        return sum(r.macs_kept for r in self.layers)

    @property
    def speedup(self):
        """Theoretical speed-up of the weight layers: dense over sparse multiply-adds."""
        return self.macs / self.macs_kept if self.macs_kept else math.inf

    def to_dict(self):
        """Plain data (for JSON): the layers' rows and the totals."""
        rows = [
            {**dataclasses.asdict(r), "sparsity": r.sparsity,
             "compression_ratio": r.compression_ratio, "macs_saved": r.macs_saved}
            for r in self.layers
        ]
        return {
            "layers": rows,
            "total_params": self.total_params,
            "total_kept": self.total_kept,
            "sparsity": self.sparsity,
            "compression_ratio": self.compression_ratio,
            "macs": self.macs,
            "macs_kept": self.macs_kept,
            "speedup": self.speedup,
        }

    def __str__(self):
        header = ("layer", "type", "params", "kept", "sparsity", "compression", "MACs",
                  "MACs saved")
        rows = [
            (r.name, r.class_name, f"{r.params:,}", f"{r.kept:,}", f"{r.sparsity:.1%}",
             f"{r.compression_ratio:.2f}x", f"{r.macs:,}", f"{r.macs_saved:,}")
            for r in self.layers
        ]
        rows.append(
            ("total (all weights)", "", f"{self.total_params:,}", f"{self.total_kept:,}",
             f"{self.sparsity:.1%}", f"{self.compression_ratio:.2f}x", f"{self.macs:,}",
             f"{self.macs - self.macs_kept:,} ({self.speedup:.2f}x)")
        )
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                           for i, (cell, w) in enumerate(zip(row, widths)))
                 for row in [header, *rows]]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def sparsity_report(model):
    """Measures the sparsity of every layer with prunable weights in `model`.

    Works on pruned models (with `PruneLowMagnitude` wrappers) and on plain or stripped ones.
    Each weight is counted as used once per output position (the product of the output's
    spatial dimensions; 1 for a Dense layer on vectors), which is exact for Dense, Conv and
    depthwise/separable convolutions.

    Args:
        model: keras.Model. A built Sequential or functional model.

    Returns:
        A `SparsityReport`; `print(report)` shows it as a table, `report.to_dict()` as data.

    Example:
    ```python
    report = garden.sparsity.sparsity_report(garden.sparsity.strip_pruning(pruned))
    print(report)
    report.compression_ratio, report.speedup
    ```

    Reference:
    - [Blalock et al. 2020](https://arxiv.org/abs/2003.03033)
    """
    rows, total_params, total_zeros = [], 0, 0
    for layer in leaf_layers(model):
        inner = layer.layer if isinstance(layer, PruneLowMagnitude) else layer
        total_params += inner.count_params()
        weights = [np.asarray(w) for w in prunable_weights(inner)]
        if not weights:
            continue
        positions = math.prod(layer.output.shape[1:-1])
        params = sum(w.size for w in weights)
        kept = sum(int(np.count_nonzero(w)) for w in weights)
        total_zeros += params - kept
        rows.append(LayerSparsity(inner.name, type(inner).__name__, params, kept,
                                  params * positions, kept * positions))
    return SparsityReport(rows, total_params, total_params - total_zeros)

