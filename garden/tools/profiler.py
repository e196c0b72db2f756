"""Model profiler: parameters and multiply-adds per layer, as data and as a table.

Multiply-adds are counted the way Howard et al. count them for MobileNets (Tables 6-7): one
multiply-add per weight applied to an input value in a convolution, dense or recurrent kernel,
per example. Everything else costs zero by this definition: biases and element-wise scaling
(batch and layer normalization fold into the preceding convolution at inference, PReLU),
activations, pooling, additions, reshapes and embedding look-ups. Thompson et al., "The
Computational Limits of Deep Learning" (https://arxiv.org/abs/2007.05558), compare models by
this kind of count.

The counting is `garden.utils.multiply_adds` (custom layers declare their own count with a
method `multiply_adds(input_shape)`); layers with weights and no known count are reported as
uncounted.

Reference:
    Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
    Applications", 2017. https://arxiv.org/abs/1704.04861
"""

import dataclasses
import math

import keras

from garden.utils.multiply_adds import layer_multiply_adds, walk

__all__ = ["LayerProfile", "Profile", "layer_multiply_adds", "profile"]


@dataclasses.dataclass(frozen=True)
class LayerProfile:
    """One row of a profile.

    Attributes:
        name: layer name; layers of a nested model are named `"inner_model/layer"`.
        kind: the layer's class name.
        output_shape: output shape of the layer's first call, batch axis included.
        trainable_params: number of trainable weights.
        non_trainable_params: number of non-trainable weights (e.g. batch-norm statistics).
        multiply_adds: multiply-adds per example over all the layer's calls in the model, or
            None when the layer has weights and no known count.
    """

    name: str
    kind: str
    output_shape: tuple
    trainable_params: int
    non_trainable_params: int
    multiply_adds: int | None


@dataclasses.dataclass(frozen=True)
class Profile:
    """Parameters and multiply-adds of a model, per layer and in total.

    Attributes:
        name: the model's name.
        layers: one `LayerProfile` per layer, in graph order.
        trainable_params: the model's trainable parameter count.
        non_trainable_params: the model's non-trainable parameter count.
    """

    name: str
    layers: tuple
    trainable_params: int
    non_trainable_params: int

    @property
    def params(self):
        return self.trainable_params + self.non_trainable_params

    @property
    def multiply_adds(self):
        """Total multiply-adds per example of the counted layers."""
        return sum(row.multiply_adds or 0 for row in self.layers)

    @property
    def uncounted(self):
        """Names of layers with weights whose multiply-adds are unknown."""
        return [row.name for row in self.layers if row.multiply_adds is None]

    def as_dict(self):
        """The profile as plain Python data (JSON-serialisable)."""
        return {
            "name": self.name,
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "multiply_adds": self.multiply_adds,
            "uncounted": self.uncounted,
            "layers": [dataclasses.asdict(row) for row in self.layers],
        }

    def table(self):
        """The profile as a text table, one line per layer, totals last."""
        header = ("layer", "type", "output shape", "params", "mult-adds")
        lines = [
            (
                row.name,
                row.kind,
                str(row.output_shape),
                f"{row.trainable_params + row.non_trainable_params:,}",
                "?" if row.multiply_adds is None else f"{row.multiply_adds:,}",
            )
            for row in self.layers
        ]
        widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]

        def fmt(cells):
            left = [cell.ljust(width) for cell, width in zip(cells[:3], widths)]
            right = [cell.rjust(width) for cell, width in zip(cells[3:], widths[3:])]
            return "  ".join(left + right)

        rule = "-" * len(fmt(header))
        text = [fmt(header), rule, *map(fmt, lines), rule]
        text.append(
            f"{self.name}: {self.params:,} parameters ({self.trainable_params:,} trainable, "
            f"{self.non_trainable_params:,} non-trainable), "
            f"{self.multiply_adds:,} multiply-adds ({self.multiply_adds / 1e6:.1f}M) per example"
        )
        if self.uncounted:
            text.append(f"not counted (no known multiply-adds): {', '.join(self.uncounted)}")
        return "\n".join(text)

    def __str__(self):
        return self.table()


def profile(model):
    """Parameters and multiply-adds of every layer of a Keras model.

    Functional and Sequential models are walked call by call, so a layer called twice counts
    twice and a nested model contributes its own layers. Of a subclassed model without a
    graph, the nested functional models are profiled and other layers are listed uncounted.
    Which layers count is described in the module docstring.

    Args:
        model: keras.Model. A built model; the input sizes must be fixed (no `None` besides the
            batch axis) wherever a convolution or dense kernel is applied.

    Returns:
        A `Profile`: `.layers` holds the rows, `.multiply_adds` and `.params` the totals,
        `.table()` (or `print(profile)`) formats them.

    Example:
    >>> from garden.models import mobilenet_v1
    >>> result = profile(mobilenet_v1())
    >>> round(result.multiply_adds / 1e6)  # Howard et al., Table 6: 569M
    569
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"model={model!r} is not allowed: use a keras.Model.")
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    rows = tuple(_row(*item) for item in walk(model))
    return Profile(model.name, rows, trainable, non_trainable)


def _row(layer, prefix, output_shape, multiply_adds):
    return LayerProfile(
        name=prefix + layer.name,
        kind=type(layer).__name__,
        output_shape=output_shape,
        trainable_params=sum(math.prod(w.shape) for w in getattr(layer, "trainable_weights", [])),
        non_trainable_params=sum(
            math.prod(w.shape) for w in getattr(layer, "non_trainable_weights", [])
        ),
        multiply_adds=multiply_adds,
    )
