"""Magnitude pruning for Keras 3 models, with the API of TF Model Optimization (tfmot).

`prune_low_magnitude` wraps every layer that has prunable weights in `PruneLowMagnitude`, which
holds one mask per weight as a non-trainable variable; the `UpdatePruningStep` callback counts
training steps and, when the schedule says so, recomputes the masks. tfmot's rule is reproduced
exactly: keep the `k = max(round(n * (1 - sparsity)), 1)` weights of largest magnitude, ties at
the threshold kept. Beyond tfmot, weights can be ranked across all layers at once (global
magnitude), at random (the baseline Blalock et al. insist on) or by whole filters (L1 norm, as
Li et al. prune filters).

Each pruned variable's constraint is set to "apply the original constraint, then the mask";
Keras applies a variable's constraint after every optimizer update, so pruned weights stay
exactly zero whatever the optimizer's momentum or moments would add. `strip_pruning` gives back
a plain model with the original layer classes and the masked weights.

References:
- [Han et al., Learning both Weights and Connections](https://arxiv.org/abs/1506.02626)
- [Zhu & Gupta, To prune, or not to prune](https://arxiv.org/abs/1710.01878)
- [Blalock et al., What is the State of Neural Network Pruning?](https://arxiv.org/abs/2003.03033)
- [Li et al., Pruning Filters for Efficient ConvNets](https://arxiv.org/abs/1608.08710)
"""

import itertools

import keras
import numpy as np

from garden.utils.serialization import serializable
from garden.sparsity.schedules import ConstantSparsity
from garden.utils.checks import check_choice

RANKINGS = ("layer", "global", "random", "filter")

# Built-in layers and their prunable weights: (attribute, number of trailing axes that index
# one filter, i.e. one output channel). A depthwise kernel's channels are (input, multiplier).
_PRUNABLE_WEIGHTS = {
    keras.layers.Dense: (("kernel", 1),),
    keras.layers.Conv1D: (("kernel", 1),),
    keras.layers.Conv2D: (("kernel", 1),),
    keras.layers.Conv3D: (("kernel", 1),),
    keras.layers.DepthwiseConv1D: (("kernel", 2),),
    keras.layers.DepthwiseConv2D: (("kernel", 2),),
    keras.layers.SeparableConv1D: (("depthwise_kernel", 2), ("pointwise_kernel", 1)),
    keras.layers.SeparableConv2D: (("depthwise_kernel", 2), ("pointwise_kernel", 1)),
}


def _weight_specs(layer):
    """(variable, filter axes) for each prunable weight of a built layer, or None if the layer
    cannot be pruned. Custom layers declare theirs with `get_prunable_weights()`, tfmot's
    protocol; their filters are indexed by the last axis."""
    if hasattr(layer, "get_prunable_weights"):
        return [(weight, 1) for weight in layer.get_prunable_weights()]
    for cls in type(layer).__mro__:
        if cls in _PRUNABLE_WEIGHTS:
            return [(getattr(layer, name), axes) for name, axes in _PRUNABLE_WEIGHTS[cls]]
    return None


def is_prunable(layer):
    """Whether `layer` has weights `prune_low_magnitude` can prune."""
    return hasattr(layer, "get_prunable_weights") or any(
        cls in _PRUNABLE_WEIGHTS for cls in type(layer).__mro__
    )


def prunable_weights(layer):
    """The variables of `layer` that pruning masks: kernels of built-in layers, or what a custom
    layer returns from `get_prunable_weights()`. Empty for other layers."""
    return [weight for weight, _ in _weight_specs(layer) or []]


def keep_count(size, sparsity):
    """How many of `size` weights survive at `sparsity`: tfmot's float32 `round` (half to even)
    of `size * (1 - sparsity)`, at least one."""
    kept = np.round(np.float32(size) * (np.float32(1) - np.float32(sparsity)))
    return max(int(kept), 1)


def top_mask(scores, sparsity):
    """Mask keeping the `keep_count` largest `scores` (ties at the threshold kept, as tfmot
    does) and that threshold. `scores` is one array, or a list ranked together."""
    arrays = scores if isinstance(scores, list) else [scores]
    ranked = np.sort(np.concatenate([np.ravel(a) for a in arrays]))
    threshold = ranked[ranked.size - keep_count(ranked.size, sparsity)]
    masks = [(a >= threshold).astype("float32") for a in arrays]
    return (masks if isinstance(scores, list) else masks[0]), float(threshold)


class _MaskedConstraint:
    """A variable constraint: the variable's own constraint, then its mask. Keras applies it
    after every optimizer update. JAX's compiled training step cannot read other variables, so
    there the mask is a snapshot, which `UpdatePruningStep` retakes (and recompiles the step)
    whenever the masks change."""

    def __init__(self, mask, constraint):
        self.mask = mask
        self.constraint = constraint
        self.snapshot = np.asarray(mask)

    def __call__(self, value):
        if self.constraint is not None:
            value = self.constraint(value)
        mask = self.snapshot if keras.backend.backend() == "jax" else self.mask
        return keras.ops.multiply(value, keras.ops.cast(mask, value.dtype))


@serializable
class PruneLowMagnitude(keras.layers.Wrapper):
    """Wraps a layer so that its prunable weights are masked: tfmot's wrapper for Keras 3.

    Adds, for each prunable weight, a non-trainable `mask` (ones until the first pruning step)
    and `threshold`, and a `pruning_step` counter (-1 until training starts). Pruned weights are
    zero after every optimizer step. The `UpdatePruningStep` callback updates the masks during
    `fit`; training without it raises a `ValueError` naming it, as tfmot does (the masks would
    never change). `strip_pruning` removes the wrappers. Use `prune_low_magnitude` to wrap a
    model.

    Args:
        layer: keras.layers.Layer. A Dense, Conv1D/2D/3D, DepthwiseConv1D/2D or
            SeparableConv1D/2D layer (both kernels pruned), or a layer with a
            `get_prunable_weights()` method returning the variables to prune.
        pruning_schedule: callable. Maps the training step (1 on the first batch) to
            `(should_prune, sparsity)`: garden's `ConstantSparsity` / `PolynomialDecay` or
            tfmot's. Defaults to `ConstantSparsity(0.5, begin_step=0)`, tfmot's default.
        ranking: str. Which weights are removed: `"layer"` the smallest magnitudes of each
            weight tensor (tfmot's rule), `"global"` the smallest magnitudes across every
            wrapper with global ranking in the model, `"random"` random weights, `"filter"`
            whole filters (output channels) of smallest L1 norm. Defaults to `"layer"`.
        seed: int. Seed of the random scores for `ranking="random"`. Defaults to 0.
        **kwargs: base layer arguments; the name defaults to `prune_low_magnitude_<layer>`.

    Example:
    ```python
    dense = garden.sparsity.PruneLowMagnitude(
        keras.layers.Dense(10), garden.sparsity.ConstantSparsity(0.8, begin_step=1, end_step=1))
    model = keras.Sequential([keras.Input((64,)), dense])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, callbacks=[garden.sparsity.UpdatePruningStep()])
    ```

    Reference:
    - [tfmot pruning](https://www.tensorflow.org/model_optimization/guide/pruning)
    """

    def __init__(self, layer, pruning_schedule=ConstantSparsity(0.5, 0), ranking="layer",
                 seed=0, **kwargs):
        if not isinstance(layer, keras.layers.Layer) or not is_prunable(layer):
            raise ValueError(
                "layer must be a Dense, Conv1D/2D/3D, DepthwiseConv1D/2D or SeparableConv1D/2D "
                f"layer, or define get_prunable_weights(). Received: layer={layer!r}"
            )
        if not callable(pruning_schedule):
            raise ValueError(
                "pruning_schedule must be a callable step -> (should_prune, sparsity). "
                f"Received: pruning_schedule={pruning_schedule!r}"
            )
        check_choice("ranking", ranking, RANKINGS)
        kwargs.setdefault("name", f"prune_low_magnitude_{layer.name}")
        super().__init__(layer, **kwargs)
        self.pruning_schedule = pruning_schedule
        self.ranking = ranking
        self.seed = seed
        self.stepped = False  # set by UpdatePruningStep when training begins

    def build(self, input_shape=None):
        super().build(input_shape)
        self._specs = _weight_specs(self.layer)
        self.masks, self.thresholds, self._constraints = [], [], []
        for weight, _ in self._specs:
            name = weight.name
            mask = self.add_weight(name=f"{name}_mask", shape=weight.shape, dtype=weight.dtype,
                                   initializer="ones", trainable=False)
            threshold = self.add_weight(name=f"{name}_threshold", shape=(), dtype=weight.dtype,
                                        initializer="zeros", trainable=False)
            self._constraints.append(_MaskedConstraint(mask, weight.constraint))
            weight.constraint = self._constraints[-1]
            self.masks.append(mask)
            self.thresholds.append(threshold)
        self.pruning_step = self.add_weight(
            name="pruning_step", shape=(), dtype="int32",
            initializer=keras.initializers.Constant(-1), trainable=False,
        )

    def call(self, inputs, *args, training=None, **kwargs):
        # Checked when the train step is traced, which `fit` does after the callbacks'
        # `on_train_begin`: a Python flag works on every backend, where tfmot asserts in-graph.
        if training and not self.stepped:
            raise ValueError(
                f"{self.name} is being trained without UpdatePruningStep, so its masks would "
                "never change and nothing would be pruned: you must add UpdatePruningStep "
                "callback to model.fit, e.g. callbacks=[garden.sparsity.UpdatePruningStep()]."
            )
        return self.layer(inputs, *args, **kwargs)  # `training` reaches it by the call context

    @property
    def pruned_weights(self):
        """The wrapped layer's variables that are masked."""
        return [weight for weight, _ in self._specs]

    def scores(self):
        """One array per pruned weight, larger scores kept: magnitudes, random numbers, or the
        L1 norm of each filter (shape 1 except on the filter axes, for `ranking="filter"`)."""
        scores = []
        for index, (weight, filter_axes) in enumerate(self._specs):
            values = np.abs(keras.ops.convert_to_numpy(weight))
            if self.ranking == "random":
                values = np.random.default_rng([self.seed, index]).random(values.shape)
            elif self.ranking == "filter":
                values = values.sum(axis=tuple(range(values.ndim - filter_axes)), keepdims=True)
            scores.append(values)
        return scores

    def assign_masks(self, masks, thresholds):
        """Sets the masks (broadcast to the weights' shapes) and thresholds, and zeroes the
        weights the masks remove."""
        for weight, mask, threshold, new_mask, new_threshold in zip(
            self.pruned_weights, self.masks, self.thresholds, masks, thresholds
        ):
            new_mask = np.broadcast_to(new_mask, weight.shape)
            mask.assign(new_mask)
            threshold.assign(new_threshold)
            weight.assign(keras.ops.convert_to_numpy(weight) * new_mask)
        self.snapshot_masks()

    def snapshot_masks(self):
        """Copies the masks into the weights' constraints (what JAX's training step reads)."""
        for constraint in self._constraints:
            constraint.snapshot = np.asarray(constraint.mask)

    def masked_weights(self):
        """The wrapped layer's weights as numpy arrays, with the masks applied."""
        masks = {weight.path: mask for weight, mask in zip(self.pruned_weights, self.masks)}
        return [
            np.asarray(weight) * np.asarray(masks[weight.path]) if weight.path in masks
            else np.asarray(weight)
            for weight in self.layer.weights
        ]

    def get_config(self):
        return {
            **super().get_config(),
            "pruning_schedule": keras.saving.serialize_keras_object(self.pruning_schedule),
            "ranking": self.ranking,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["pruning_schedule"] = keras.saving.deserialize_keras_object(
            config["pruning_schedule"], custom_objects=custom_objects
        )
        return super().from_config(config, custom_objects=custom_objects)


def leaf_layers(model):
    """The layers of `model`, with nested models replaced by their own layers, in order."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer


def pruned_layers(model):
    """The `PruneLowMagnitude` wrappers in `model`, nested models included, in layer order."""
    return [layer for layer in leaf_layers(model) if isinstance(layer, PruneLowMagnitude)]


def update_masks(wrappers, step):
    """Recomputes the masks of the wrappers whose schedule prunes at `step`; wrappers with
    `ranking="global"` are ranked together at the sparsity of the first one's schedule.
    Returns whether any mask changed."""
    global_group = [w for w in wrappers if w.ranking == "global"]
    groups = [[w] for w in wrappers if w.ranking != "global"]
    groups += [global_group] if global_group else []
    updated = False
    for group in groups:
        should_prune, sparsity = group[0].pruning_schedule(step)
        if not bool(should_prune):
            continue
        scores = [s for wrapper in group for s in wrapper.scores()]
        if group is global_group:
            masks, threshold = top_mask(scores, float(sparsity))
            thresholds = [threshold] * len(masks)
        else:
            masks, thresholds = zip(*(top_mask(s, float(sparsity)) for s in scores))
        start = 0
        for wrapper in group:
            count = len(wrapper.masks)
            wrapper.assign_masks(masks[start:start + count], thresholds[start:start + count])
            start += count
        updated = True
    return updated


def _check_graph_model(model, argument):
    if not isinstance(model, (keras.Sequential, keras.Function)):
        raise ValueError(
            f"{argument} must be a Sequential or functional model: subclassed models cannot be "
            f"cloned layer by layer. Received: {argument}={model!r}"
        )


def _clone(model, clone_layer):
    """`keras.models.clone_model` with `clone_layer(layer) -> (new_layer, source_layer,
    weights)`: every layer is rebuilt from its config and given `weights` afterwards."""
    copies = []

    def clone_function(layer):
        new_layer, target, weights = clone_layer(layer)
        copies.append((target, weights))
        return new_layer

    clone = keras.models.clone_model(model, clone_function=clone_function, recursive=True)
    for target, weights in copies:
        target.set_weights(weights)
    return clone


def _fresh(layer):
    return layer.__class__.from_config(layer.get_config())


def prune_low_magnitude(to_prune, pruning_schedule=ConstantSparsity(0.5, 0), block_size=(1, 1),
                        block_pooling_type="AVG", pruning_policy=None, sparsity_m_by_n=None, *,
                        ranking="layer", seed=0, exclude=(), **kwargs):
    """Makes a layer, a list of layers or a model prunable during training (tfmot's API).

    A model (Sequential or functional, nested models included) is cloned with its weights,
    every prunable layer wrapped in `PruneLowMagnitude`; other layers are copied unchanged. The
    result is not compiled: compile it, then train with the `UpdatePruningStep` callback.

    Args:
        to_prune: keras.Model, keras.layers.Layer or list of layers.
        pruning_schedule: callable. Step -> `(should_prune, sparsity)`, garden's or tfmot's
            schedule objects. Defaults to `ConstantSparsity(0.5, begin_step=0)`.
        block_size, block_pooling_type, pruning_policy, sparsity_m_by_n: tfmot's block, policy
            and M-by-N structured pruning, which garden does not implement: only their defaults
            (`(1, 1)`, `"AVG"`, None, None: weights pruned one by one) are accepted, so a call
            written for tfmot runs unchanged or fails with a clear error. For structure, use
            `ranking="filter"`.
        ranking: str. `"layer"`, `"global"`, `"random"` or `"filter"`; see `PruneLowMagnitude`.
            Defaults to `"layer"`.
        seed: int. Seed for `ranking="random"`; layer `i` of a model gets `seed + i`.
            Defaults to 0.
        exclude: names of a model's layers to leave dense, e.g. the classifier, whose filters
            are the classes (`ranking="filter"` would remove classes). Defaults to none.
        **kwargs: base layer arguments for the wrapper when `to_prune` is one layer.

    Returns:
        The wrapped layer, list of wrapped layers, or a new model.

    Example:
    ```python
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10)])
    pruned = garden.sparsity.prune_low_magnitude(
        model, garden.sparsity.PolynomialDecay(0.0, 0.9, begin_step=0, end_step=500))
    pruned.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    pruned.fit(x, y, epochs=5, callbacks=[garden.sparsity.UpdatePruningStep()])
    plain = garden.sparsity.strip_pruning(pruned)
    ```

    Reference:
    - [tfmot.sparsity.keras.prune_low_magnitude](https://www.tensorflow.org/model_optimization/api_docs/python/tfmot/sparsity/keras/prune_low_magnitude)
    """
    tfmot_only = {"block_size": (block_size, (1, 1)),
                  "block_pooling_type": (block_pooling_type, "AVG"),
                  "pruning_policy": (pruning_policy, None),
                  "sparsity_m_by_n": (sparsity_m_by_n, None)}
    for name, (value, default) in tfmot_only.items():
        if (tuple(value) if isinstance(value, list) else value) != default:
            raise ValueError(f"{name}={value!r} is not supported: garden prunes weights one by one "
                             f"(use {name}={default!r}, or ranking='filter' for whole filters).")
    params = {"pruning_schedule": pruning_schedule, "ranking": ranking}
    if isinstance(to_prune, list):
        return [prune_low_magnitude(layer, seed=seed + i, **params)
                for i, layer in enumerate(to_prune)]
    if isinstance(to_prune, keras.Model):
        _check_graph_model(to_prune, "to_prune")
        names = {layer.name for layer in leaf_layers(to_prune)}
        unknown = sorted(set(exclude) - names)
        if unknown:
            raise ValueError(f"exclude must name layers of the model. Received: exclude={unknown}")
        seeds = itertools.count(seed)

        def wrap(layer):
            copy = _fresh(layer)
            if is_prunable(layer) and layer.name not in exclude:
                wrapped = PruneLowMagnitude(copy, seed=next(seeds), **params)
                return wrapped, copy, layer.get_weights()
            return copy, copy, layer.get_weights()

        return _clone(to_prune, wrap)
    if isinstance(to_prune, PruneLowMagnitude):
        return to_prune
    if isinstance(to_prune, keras.layers.Layer):
        return PruneLowMagnitude(to_prune, seed=seed, **params, **kwargs)
    raise ValueError(
        "to_prune must be a keras.Model, a keras.layers.Layer or a list of layers. "
        f"Received: to_prune={to_prune!r}"
    )


def strip_pruning(model):
    """A copy of `model` without pruning wrappers: the original layer classes with the masked
    weights, ready for `model.save` or TFLite export.

    Args:
        model: keras.Model. A Sequential or functional model with `PruneLowMagnitude` layers.

    Returns:
        A new, uncompiled model with the same architecture as before pruning.

    Example:
    ```python
    plain = garden.sparsity.strip_pruning(pruned)
    garden.sparsity.sparsity_report(plain)
    ```
    """
    _check_graph_model(model, "model")

    def unwrap(layer):
        if isinstance(layer, PruneLowMagnitude):
            copy = _fresh(layer.layer)
            return copy, copy, layer.masked_weights()
        copy = _fresh(layer)
        return copy, copy, layer.get_weights()

    return _clone(model, unwrap)
