"""garden.sparsity: tfmot's pruning API on Keras 3, checked against tfmot itself (in a
subprocess, since importing tfmot switches the process to legacy Keras) and against the rules
it implements."""

import ast
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
import warnings

import keras
import numpy as np
import pytest

from garden import export, sparsity
from garden.utils.serialization import serializable
from garden.sparsity.pruning import keep_count
from tests.sparsity_models import build_twin_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCHEDULES = [
    {"class_name": "ConstantSparsity", "config": {"target_sparsity": 0.5, "begin_step": 0}},
    {"class_name": "ConstantSparsity",
     "config": {"target_sparsity": 0.3, "begin_step": 5, "end_step": 50, "frequency": 7}},
    {"class_name": "PolynomialDecay",
     "config": {"initial_sparsity": 0.1, "final_sparsity": 0.85, "begin_step": 3,
                "end_step": 23, "power": 3, "frequency": 4}},
    {"class_name": "PolynomialDecay",
     "config": {"initial_sparsity": 0.0, "final_sparsity": 0.9, "begin_step": 0,
                "end_step": 200, "power": 2, "frequency": 10}},
]
STEPS = list(range(0, 260))

# Masks after `batches` training batches at learning rate 0, so the weights stay the ones
# both libraries were given and only the schedule and the mask rule matter. No case puts
# `size * (1 - sparsity)` on an exact half: there tfmot's own result depends on how TensorFlow's
# graph optimizer rearranges its float32 arithmetic (it computes 4.500001 for 24 * (1 - 0.8125)
# inside tf.function, 4.5 eagerly), so the rounding can go either way.
CASES = [
    {"schedule": {"class_name": "ConstantSparsity",
                  "config": {"target_sparsity": 0.3, "begin_step": 1, "end_step": 1,
                             "frequency": 1}}, "batches": 1, "duck_typed": False},
    {"schedule": {"class_name": "ConstantSparsity",
                  "config": {"target_sparsity": 0.8, "begin_step": 1, "end_step": 1,
                             "frequency": 1}}, "batches": 1, "duck_typed": True},
    {"schedule": {"class_name": "PolynomialDecay",
                  "config": {"initial_sparsity": 0.2, "final_sparsity": 0.85, "begin_step": 2,
                             "end_step": 8, "frequency": 3}}, "batches": 7, "duck_typed": True},
    # A window holding only step 0 never prunes: training steps start at 1.
    {"schedule": {"class_name": "ConstantSparsity",
                  "config": {"target_sparsity": 0.5, "begin_step": 0, "end_step": 0,
                             "frequency": 1}}, "batches": 2, "duck_typed": False},
]


ONE_SHOT = sparsity.ConstantSparsity(0.75, begin_step=1, end_step=1, frequency=1)


def garden_schedule(spec):
    return getattr(sparsity, spec["class_name"])(**spec["config"])


@pytest.fixture(scope="module")
def twin_weights():
    """The test model's weights rounded to multiples of 1/64, so that magnitudes tie."""
    keras.utils.set_random_seed(1)
    return [np.round(w * 64) / 64 for w in build_twin_model(keras).get_weights()]


@pytest.fixture(scope="module")
def twin_data():
    rng = np.random.default_rng(0)
    return rng.random((8, 8, 8, 1), dtype=np.float32), rng.random((8, 10), dtype=np.float32)


JAX_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import keras
    import numpy as np
    from garden import export, sparsity
    from tests.sparsity_models import build_twin_model
    from tests.test_sparsity import ZerosAfterEveryStep
    assert keras.backend.backend() == "jax", keras.backend.backend()
    workdir = sys.argv[1]
    data = np.load(f"{workdir}/data.npz")
    pruned = keras.saving.load_model(f"{workdir}/pruned.keras", safe_mode=True)
    np.save(f"{workdir}/pruned.npy", np.asarray(pruned(data["x"])))
    np.save(f"{workdir}/stripped.npy", np.asarray(sparsity.strip_pruning(pruned)(data["x"])))
    # Masks updated twice during fit (steps 2 and 4) under SGD with momentum.
    schedule = sparsity.PolynomialDecay(0.3, 0.7, begin_step=2, end_step=4, frequency=2)
    model = sparsity.prune_low_magnitude(build_twin_model(keras), schedule)
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "mse")
    check = ZerosAfterEveryStep()
    model.fit(data["x"], data["y"], batch_size=2, epochs=2, verbose=0,
              callbacks=[sparsity.UpdatePruningStep(), check])
    kept = [int(np.asarray(m).sum()) for w in sparsity.pruned_layers(model) for m in w.masks]
    unstepped = sparsity.prune_low_magnitude(build_twin_model(keras), schedule)
    unstepped.compile("sgd", "mse")
    try:
        unstepped.fit(data["x"], data["y"], verbose=0)
        missing_callback = ""
    except ValueError as error:
        missing_callback = str(error)
    json.dump({"checks": check.checks, "kept": kept, "missing_callback": missing_callback},
              open(f"{workdir}/jax.json", "w"))
    """
)


class Background:
    """A subprocess started now and awaited later; its output goes to a file."""

    def __init__(self, args, workdir, **env):
        env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3", **env)
        env.pop("TF_USE_LEGACY_KERAS", None)
        self.workdir = workdir
        self.log = open(workdir / "output.txt", "w")
        self.process = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self):
        code = self.process.wait(timeout=600)
        self.log.close()
        assert code == 0, (self.workdir / "output.txt").read_text()[-3000:]
        return self.workdir


@pytest.fixture(scope="module", autouse=True)
def background(tmp_path_factory, twin_weights, twin_data):
    """The module's two subprocesses, started before its first test so they run alongside:
    tfmot's reference (tests/tfmot_reference.py: schedule values, masks, and garden's masks
    under tfmot's schedule objects) and a pruning run on the JAX backend."""
    tfmot_dir = tmp_path_factory.mktemp("tfmot")
    (tfmot_dir / "request.json").write_text(
        json.dumps({"schedules": SCHEDULES, "steps": STEPS, "cases": CASES})
    )
    arrays = {f"w{i:02d}": w for i, w in enumerate(twin_weights)}
    np.savez(tfmot_dir / "weights.npz", **arrays, x=twin_data[0], y=twin_data[1])

    jax_dir = tmp_path_factory.mktemp("jax")
    keras.utils.set_random_seed(9)
    pruned = sparsity.prune_low_magnitude(build_twin_model(keras), ONE_SHOT)
    sparsity.pruning.update_masks(sparsity.pruned_layers(pruned), step=1)
    pruned.save(jax_dir / "pruned.keras")
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 8, 8, 1), dtype=np.float32), rng.random((8, 10), dtype=np.float32)
    np.savez(jax_dir / "data.npz", x=x, y=y)
    np.save(jax_dir / "expected.npy", np.asarray(pruned(x)))
    (jax_dir / "sizes.json").write_text(json.dumps(
        [int(np.prod(m.shape)) for w in sparsity.pruned_layers(pruned) for m in w.masks]))

    runs = {
        "tfmot": Background([sys.executable, os.path.join(ROOT, "tests", "tfmot_reference.py"),
                             str(tfmot_dir)], tfmot_dir),
        "jax": Background([sys.executable, "-c", JAX_SCRIPT, str(jax_dir)], jax_dir,
                          KERAS_BACKEND="jax", JAX_PLATFORMS="cpu",  # as tests.helpers.run_script
                          XLA_FLAGS="--xla_backend_optimization_level=0 "
                                    "--xla_llvm_disable_expensive_passes=true"),
    }
    yield runs
    for run in runs.values():
        if run.process.poll() is None:
            run.process.kill()


@pytest.fixture(scope="module")
def reference(background):
    return dict(np.load(background["tfmot"].wait() / "reference.npz"))


def pruned_now(weights, **prune_kwargs):
    """The twin model with `weights`, pruned to 75% at once (the first step's mask update)."""
    model = build_twin_model(keras)
    model.set_weights(weights)
    pruned = sparsity.prune_low_magnitude(model, ONE_SHOT, **prune_kwargs)
    sparsity.pruning.update_masks(sparsity.pruned_layers(pruned), step=1)
    return pruned


def garden_masks(weights, schedule, data, batches, **prune_kwargs):
    model = build_twin_model(keras)
    model.set_weights(weights)
    pruned = sparsity.prune_low_magnitude(model, schedule, **prune_kwargs)
    pruned.compile(keras.optimizers.SGD(0.0), "mse")
    pruned.fit(data[0][:batches], data[1][:batches], batch_size=1, verbose=0,
               callbacks=[sparsity.UpdatePruningStep()])
    return pruned


def masks_of(pruned):
    return [np.asarray(mask) for wrapper in sparsity.pruned_layers(pruned)
            for mask in wrapper.masks]


# Schedules


def test_polynomial_decay_formula():
    schedule = sparsity.PolynomialDecay(0.0, 0.9, begin_step=0, end_step=1000)
    assert schedule(500) == (True, pytest.approx(0.9 - 0.9 * 0.5**3))
    assert schedule(2000)[1] == pytest.approx(0.9)
    assert schedule(2000)[0] is False


@pytest.mark.parametrize("kwargs, argument", [
    ({"target_sparsity": 1.0, "begin_step": 0}, "target_sparsity"),
    ({"target_sparsity": 0.5, "begin_step": -1}, "begin_step"),
    ({"target_sparsity": 0.5, "begin_step": 5, "end_step": 3}, "end_step"),
    ({"target_sparsity": 0.5, "begin_step": 0, "frequency": 0}, "frequency"),
])
def test_schedule_arguments_are_validated(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        sparsity.ConstantSparsity(**kwargs)


def test_polynomial_decay_needs_an_end():
    with pytest.raises(ValueError, match="end_step"):
        sparsity.PolynomialDecay(0.0, 0.5, begin_step=0, end_step=-1)


def test_schedules_serialize():
    for spec in SCHEDULES:
        schedule = garden_schedule(spec)
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(schedule)
        )
        assert type(restored) is type(schedule)
        assert restored.get_config() == schedule.get_config()


# Masks


@pytest.fixture(scope="module")
def case_masks(twin_weights, twin_data):
    """garden's masks for each case of CASES, with garden's schedules."""
    return [masks_of(garden_masks(twin_weights, garden_schedule(spec["schedule"]), twin_data,
                                  spec["batches"]))
            for spec in CASES]


def test_ties_at_the_threshold_are_kept():
    scores = np.array([[3.0, 1.0, 2.0, 2.0], [2.0, 0.5, 4.0, 0.0]])
    mask, threshold = sparsity.pruning.top_mask(scores, 0.5)  # k = 4: 4, 3, 2, 2 ... and 2
    assert threshold == 2.0
    np.testing.assert_array_equal(mask, [[1, 0, 1, 1], [1, 0, 1, 0]])


def test_keep_count_rounds_half_to_even_in_float32():
    assert keep_count(10, 0.75) == 2  # 2.5 rounds to 2
    assert keep_count(10, 0.65) == 4  # 3.5 rounds to 4
    assert keep_count(10, 0.999) == 1  # never below one
    assert keep_count(3, 0.5) == 2


def original_kernels(weights, pruned):
    """For each wrapper of `pruned`, the values its pruned weights had before pruning."""
    model = build_twin_model(keras)
    model.set_weights(weights)
    return [[np.asarray(w) for w in sparsity.prunable_weights(model.get_layer(wrapper.layer.name))]
            for wrapper in sparsity.pruned_layers(pruned)]


def test_global_ranking_keeps_the_largest_magnitudes_of_the_whole_model(twin_weights):
    rng = np.random.default_rng(0)
    weights = [w + rng.normal(0, 1e-4, w.shape).astype("float32") for w in twin_weights]
    pruned = pruned_now(weights, ranking="global")
    kernels = [np.abs(k) for layer in original_kernels(weights, pruned) for k in layer]
    everything = np.sort(np.concatenate([k.ravel() for k in kernels]))[::-1]
    k = keep_count(everything.size, 0.75)
    masks = masks_of(pruned)
    for mask, kernel in zip(masks, kernels):
        np.testing.assert_array_equal(mask, kernel >= everything[k - 1])
    assert sum(int(m.sum()) for m in masks) == k
    per_layer = [m.mean() for m in masks]
    assert max(per_layer) - min(per_layer) > 0.1  # layers end at different sparsities


def test_random_ranking_prunes_each_layer_to_the_target_with_a_fixed_seed(twin_weights):
    first = masks_of(pruned_now(twin_weights, ranking="random"))
    again = masks_of(pruned_now(twin_weights, ranking="random"))
    other = masks_of(pruned_now(twin_weights, ranking="random", seed=7))
    for mask, same in zip(first, again):
        assert mask.sum() == keep_count(np.prod(mask.shape), 0.75)
        np.testing.assert_array_equal(mask, same)
    assert any((a != b).any() for a, b in zip(first, other))
    magnitude = masks_of(pruned_now(twin_weights))
    assert any((a != b).any() for a, b in zip(first, magnitude))


def test_filter_ranking_removes_whole_filters_of_smallest_l1_norm():
    keras.utils.set_random_seed(4)
    weights = build_twin_model(keras).get_weights()
    pruned = pruned_now(weights, ranking="filter")
    for wrapper, kernels in zip(sparsity.pruned_layers(pruned), original_kernels(weights, pruned)):
        for weight, mask, kernel in zip(wrapper.pruned_weights, wrapper.masks, kernels):
            channel_axes = 2 if "depthwise" in weight.path else 1  # (channel, multiplier)
            channels = int(np.prod(kernel.shape[-channel_axes:]))
            per_filter = np.asarray(mask).reshape(-1, channels)
            assert (per_filter == per_filter[:1]).all()  # a filter is kept or removed whole
            norms = np.abs(kernel).reshape(-1, channels).sum(axis=0)
            kept = per_filter[0].astype(bool)
            assert kept.sum() == keep_count(channels, 0.75)
            assert norms[kept].min() >= norms[~kept].max()


# Training


class ZerosAfterEveryStep(keras.callbacks.Callback):
    """Records, after every batch, whether every masked weight is exactly zero."""

    def __init__(self):
        super().__init__()
        self.checks = []

    def on_train_batch_end(self, batch, logs=None):
        for wrapper in sparsity.pruned_layers(self.model):
            for weight, mask in zip(wrapper.pruned_weights, wrapper.masks):
                pruned = np.asarray(mask) == 0
                if pruned.any():
                    self.checks.append(bool((np.asarray(weight)[pruned] == 0).all()))


def momentum_training(optimizer, keep_constraint=True):
    keras.utils.set_random_seed(5)
    model = build_twin_model(keras)
    # Pruning on step 3, after two dense steps have built up momentum.
    schedule = sparsity.ConstantSparsity(0.6, begin_step=3, end_step=3, frequency=1)
    pruned = sparsity.prune_low_magnitude(model, schedule)
    pruned.compile(optimizer, "mse")
    if not keep_constraint:
        for wrapper in sparsity.pruned_layers(pruned):
            for weight in wrapper.pruned_weights:
                weight.constraint = weight.constraint.constraint
    check = ZerosAfterEveryStep()
    x, y = np.random.default_rng(1).random((48, 8, 8, 1)), np.random.default_rng(2).random((48, 10))
    pruned.fit(x, y, batch_size=4, epochs=1, verbose=0,
               callbacks=[sparsity.UpdatePruningStep(), check])
    return check.checks


@pytest.mark.parametrize("optimizer", [
    lambda: keras.optimizers.SGD(0.05, momentum=0.9),
    lambda: keras.optimizers.Adam(0.01),
])
def test_pruned_weights_stay_zero_after_every_step(optimizer):
    checks = momentum_training(optimizer())
    assert len(checks) == 10 * 5 and all(checks)  # steps 3..12, five pruned kernels


def test_without_the_mask_constraint_the_optimizer_would_resurrect_weights():
    assert not all(momentum_training(keras.optimizers.SGD(0.05, momentum=0.9),
                                     keep_constraint=False))


def test_gradual_pruning_reaches_final_sparsity_and_counts_steps(tmp_path):
    keras.utils.set_random_seed(6)
    schedule = sparsity.PolynomialDecay(0.0, 0.7, begin_step=0, end_step=6, frequency=2)
    pruned = sparsity.prune_low_magnitude(build_twin_model(keras), schedule)
    pruned.compile(keras.optimizers.SGD(0.01), "mse")
    x, y = np.random.default_rng(1).random((16, 8, 8, 1)), np.random.default_rng(2).random((16, 10))
    pruned.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[sparsity.UpdatePruningStep()])
    for wrapper in sparsity.pruned_layers(pruned):
        assert int(np.asarray(wrapper.pruning_step)) == 8
        for mask in wrapper.masks:
            assert np.asarray(mask).sum() == keep_count(np.prod(mask.shape), 0.7)

    path = tmp_path / "pruned.keras"
    pruned.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), pruned.predict(x, verbose=0))
    for a, b in zip(sparsity.pruned_layers(restored), sparsity.pruned_layers(pruned)):
        for key in ("name", "pruning_schedule", "ranking", "seed"):
            assert a.get_config()[key] == b.get_config()[key]
        for u, v in zip(a.weights, b.weights):
            np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    # Training resumes from the saved step, and the reloaded masks still hold.
    restored.compile(keras.optimizers.SGD(0.05, momentum=0.9), "mse")
    check = ZerosAfterEveryStep()
    restored.fit(x, y, batch_size=4, verbose=0, callbacks=[sparsity.UpdatePruningStep(), check])
    assert int(np.asarray(sparsity.pruned_layers(restored)[0].pruning_step)) == 12
    assert check.checks and all(check.checks)


# Layers, custom layers, stripping


@serializable
class Bilinear(keras.layers.Layer):
    """A custom layer that declares which of its weights may be pruned."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.left = self.add_weight(shape=(input_shape[-1], self.units), name="left")
        self.right = self.add_weight(shape=(input_shape[-1], self.units), name="right")
        self.scale = self.add_weight(shape=(self.units,), initializer="ones", name="scale")

    def call(self, inputs):
        left, right = keras.ops.matmul(inputs, self.left), keras.ops.matmul(inputs, self.right)
        return left * right * self.scale

    def get_prunable_weights(self):
        return [self.left, self.right]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@pytest.fixture(scope="module")
def every_layer_model():
    keras.utils.set_random_seed(7)
    image = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv2d")(image)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="depthwise_conv2d")(x)
    x = keras.layers.SeparableConv2D(5, 3, padding="same", name="separable_conv2d")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    volume = keras.Input((4, 4, 4, 2))
    v = keras.layers.Conv3D(3, 2, name="conv3d")(volume)
    v = keras.layers.Flatten()(v)
    sequence = keras.Input((10, 3))
    s = keras.layers.Conv1D(4, 3, name="conv1d")(sequence)
    s = keras.layers.Flatten()(s)
    merged = keras.layers.Concatenate()([x, v, s])
    inner = keras.Sequential([keras.Input((merged.shape[-1],)), Bilinear(6, name="bilinear"),
                              keras.layers.Dense(3, name="dense")], name="head")
    return keras.Model([image, volume, sequence], inner(merged))


def test_every_kind_of_layer_is_pruned_and_strips_back(every_layer_model, tmp_path):
    model = every_layer_model
    rng = np.random.default_rng(0)
    x = [rng.random((4, 8, 8, 3)), rng.random((4, 4, 4, 4, 2)), rng.random((4, 10, 3))]
    assert [w.layer.name for w in sparsity.pruned_layers(
        sparsity.prune_low_magnitude(model, exclude=["conv3d", "dense"]))] == [
        "conv2d", "depthwise_conv2d", "separable_conv2d", "conv1d", "bilinear"]
    pruned = sparsity.prune_low_magnitude(model, ONE_SHOT)
    wrapped = {type(w.layer).__name__: len(w.masks) for w in sparsity.pruned_layers(pruned)}
    assert wrapped == {"Conv2D": 1, "DepthwiseConv2D": 1, "SeparableConv2D": 2, "Conv3D": 1,
                       "Conv1D": 1, "Bilinear": 2, "Dense": 1}
    np.testing.assert_allclose(pruned(x), model(x), rtol=1e-5, atol=1e-6)
    sparsity.pruning.update_masks(sparsity.pruned_layers(pruned), step=1)

    plain = sparsity.strip_pruning(pruned)
    originals = [type(layer) for layer in sparsity.pruning.leaf_layers(model)]
    assert [type(layer) for layer in sparsity.pruning.leaf_layers(plain)] == originals
    assert plain.count_params() == model.count_params()
    np.testing.assert_allclose(plain(x), pruned(x), rtol=1e-5, atol=1e-6)
    for wrapper in sparsity.pruned_layers(pruned):
        for weight, mask in zip(wrapper.pruned_weights, wrapper.masks):
            assert np.asarray(mask).sum() == keep_count(np.prod(mask.shape), 0.75)
    kept = {wrapper.layer.name: sum(keep_count(np.prod(mask.shape), 0.75) for mask in wrapper.masks)
            for wrapper in sparsity.pruned_layers(pruned)}
    assert {row.name: row.kept for row in sparsity.sparsity_report(plain).layers} == kept

    path = tmp_path / "plain.keras"
    plain.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(restored(x), plain(x))


def test_stripped_model_exports_to_tflite(tmp_path):
    pruned = pruned_now(build_twin_model(keras).get_weights())
    plain = sparsity.strip_pruning(pruned)
    x = np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)
    path = export.tflite(plain, tmp_path / "sparse.tflite")
    report = export.verify(plain, path, x, latency_runs=1)
    assert report.max_abs_diff < 1e-5 and report.top1_agreement == 1.0


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="layer"):
        sparsity.PruneLowMagnitude(keras.layers.Flatten())
    with pytest.raises(ValueError, match="ranking"):
        sparsity.PruneLowMagnitude(keras.layers.Dense(2), ranking="largest")
    with pytest.raises(ValueError, match="pruning_schedule"):
        sparsity.PruneLowMagnitude(keras.layers.Dense(2), pruning_schedule=0.5)
    with pytest.raises(ValueError, match="to_prune"):
        sparsity.prune_low_magnitude("dense")
    with pytest.raises(ValueError, match="exclude"):
        sparsity.prune_low_magnitude(build_twin_model(keras), exclude=["no_such_layer"])

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    subclassed = Subclassed()
    subclassed(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="Sequential"):
        sparsity.prune_low_magnitude(subclassed)


def test_fit_without_update_pruning_step_names_the_callback(twin_data):
    # tfmot raises here too; without the callback the masks never change.
    x, y = twin_data
    pruned = sparsity.prune_low_magnitude(build_twin_model(keras), ONE_SHOT)
    pruned.compile("sgd", "mse")
    with pytest.raises(ValueError, match="you must add UpdatePruningStep callback"):
        pruned.fit(x, y, batch_size=4, verbose=0)
    pruned.fit(x, y, batch_size=4, verbose=0, callbacks=[sparsity.UpdatePruningStep()])
    assert sparsity.sparsity_report(pruned).sparsity > 0.5
    pruned.predict(x, verbose=0)  # inference needs no callback


@pytest.mark.parametrize(
    "schedule, first",
    [
        (sparsity.ConstantSparsity(0.8, 0), 100),  # step 0 never comes: the next is frequency
        (sparsity.ConstantSparsity(0.8, 5, frequency=7), 5),
        (sparsity.PolynomialDecay(0.1, 0.5, begin_step=0, end_step=50, frequency=100), 0),
        (lambda step: (step == 3, 0.5), None),  # no window to read
    ],
)
def test_first_pruning_step_reads_the_schedule_window(schedule, first):
    from garden.sparsity.callbacks import _first_pruning_step

    assert _first_pruning_step(schedule) == first


def test_training_that_ends_before_the_first_pruning_step_warns(twin_data):
    # ConstantSparsity(0.8, 0) first prunes at step frequency=100: a 2-step fit prunes nothing.
    x, y = twin_data
    schedule = sparsity.ConstantSparsity(0.8, 0)
    pruned = sparsity.prune_low_magnitude(build_twin_model(keras), schedule)
    pruned.compile("sgd", "mse")
    with pytest.warns(UserWarning, match="first pruning step is 100.*frequency=100"):
        pruned.fit(x, y, batch_size=4, verbose=0, callbacks=[sparsity.UpdatePruningStep()])
    assert sparsity.sparsity_report(pruned).sparsity == 0
    # With a frequency that prunes within the fit: no warning, and the weights are pruned.
    pruned = sparsity.prune_low_magnitude(
        build_twin_model(keras), sparsity.ConstantSparsity(0.8, 0, frequency=2))
    pruned.compile("sgd", "mse")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pruned.fit(x, y, batch_size=4, verbose=0, callbacks=[sparsity.UpdatePruningStep()])
    assert not [w for w in caught if "pruning schedule" in str(w.message)]
    assert sparsity.sparsity_report(pruned).sparsity > 0.7


# Report


def test_report_counts_parameters_and_multiply_adds():
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(4, 3, name="conv"),                      # 6x6 outputs
        keras.layers.DepthwiseConv2D(3, name="depthwise"),           # 4x4 outputs
        keras.layers.Flatten(),
        keras.layers.Dense(10, name="dense"),
    ])
    conv, depthwise, _, dense = model.layers
    conv.kernel.assign(np.where(np.arange(36).reshape(3, 3, 1, 4) < 9, 0.0, 1.0))
    dense.kernel.assign(np.where(np.arange(640).reshape(64, 10) % 4 == 0, 1.0, 0.0))
    report = sparsity.sparsity_report(model)
    rows = {row.name: row for row in report.layers}
    assert (rows["conv"].params, rows["conv"].kept) == (36, 27)
    assert (rows["conv"].macs, rows["conv"].macs_kept) == (36 * 36, 27 * 36)
    assert (rows["depthwise"].params, rows["depthwise"].macs) == (36, 36 * 16)
    assert (rows["dense"].kept, rows["dense"].macs_saved) == (160, 480)
    assert rows["dense"].compression_ratio == 4.0
    total = model.count_params()
    assert report.total_params == total
    assert report.compression_ratio == total / (total - 9 - 480)
    assert report.speedup == (1296 + 576 + 640) / (972 + 576 + 160)
    table = str(report)
    assert "conv" in table and "75.0%" in table and "4.00x" in table
    assert json.loads(json.dumps(report.to_dict()))["layers"][2]["macs_saved"] == 480


def test_pruning_summaries_log_mask_sparsity(tmp_path):
    pruned = sparsity.prune_low_magnitude(build_twin_model(keras), ONE_SHOT)
    pruned.compile(keras.optimizers.SGD(0.01), "mse")
    x, y = np.zeros((4, 8, 8, 1)), np.zeros((4, 10))
    history = pruned.fit(x, y, batch_size=2, verbose=0, callbacks=[
        sparsity.UpdatePruningStep(), sparsity.PruningSummaries(str(tmp_path / "board")),
        keras.callbacks.CSVLogger(tmp_path / "log.csv")])
    events = b"".join(path.read_bytes() for path in (tmp_path / "board").rglob("events.*"))
    sparsities = {k: v for k, v in history.history.items() if k.endswith("/sparsity")}
    assert len(sparsities) == 5
    for wrapper in sparsity.pruned_layers(pruned):
        for mask in wrapper.masks:
            expected = 1 - keep_count(np.prod(mask.shape), 0.75) / np.prod(mask.shape)
            assert sparsities[f"{mask.path}/sparsity"] == [pytest.approx(expected)]
            assert f"{mask.path}/sparsity".encode() in events  # written to TensorBoard
    header = (tmp_path / "log.csv").read_text().splitlines()[0].split(",")
    assert set(sparsities) <= set(header)


def _tfmot_signatures():
    """tfmot.sparsity.keras's public signatures, read from its source without importing it (the
    import would switch this process to legacy Keras): name -> [(parameter, default source)]."""
    package = importlib.util.find_spec("tensorflow_model_optimization")
    assert package is not None, "tensorflow-model-optimization, a test dependency, is missing"
    root = os.path.dirname(package.origin)
    api = open(os.path.join(root, "python/core/api/sparsity/keras/__init__.py")).read()
    signatures = {}
    for module, name in re.findall(r"from tensorflow_model_optimization\.([\w.]+) import (\w+)",
                                   api):
        tree = ast.parse(open(os.path.join(root, *module.split(".")) + ".py").read())
        node = next(n for n in tree.body if getattr(n, "name", None) == name)
        if isinstance(node, ast.ClassDef):
            node = next((n for n in node.body if getattr(n, "name", None) == "__init__"), None)
            if node is None:
                signatures[name] = []
                continue
        args = node.args.args[1:] if node.args.args[:1] and node.args.args[0].arg == "self" \
            else node.args.args
        defaults = [None] * (len(args) - len(node.args.defaults)) + node.args.defaults
        signatures[name] = [(a.arg, d and ast.unparse(d)) for a, d in zip(args, defaults)]
    return signatures


def test_every_public_name_shared_with_tfmot_has_its_signature():
    """A call written for tfmot (positional arguments included) reaches the same parameters in
    garden: tfmot's parameters come first, in its order, with its defaults."""
    tfmot = _tfmot_signatures()
    shared = sorted(set(tfmot) & set(sparsity.__all__))
    assert shared == ["ConstantSparsity", "PolynomialDecay", "PruningSchedule",
                      "PruningSummaries", "UpdatePruningStep", "prune_low_magnitude",
                      "strip_pruning"]
    for name in shared:
        target = getattr(sparsity, name)
        if name == "PruningSchedule":  # abstract in both: garden's holds the window
            continue
        parameters = list(inspect.signature(target).parameters.values())
        positional = [p for p in parameters
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        assert [p.name for p in positional[:len(tfmot[name])]] == [a for a, _ in tfmot[name]], name
        for parameter, (_, default) in zip(positional, tfmot[name]):
            if default is None:
                assert parameter.default is inspect.Parameter.empty, (name, parameter.name)
            elif parameter.name != "pruning_schedule":  # tfmot's own ConstantSparsity(0.5, 0)
                assert parameter.default == ast.literal_eval(default), (name, parameter.name)
    summaries = sparsity.PruningSummaries("/tmp/logs")  # tfmot's positional log_dir
    assert summaries.log_dir == "/tmp/logs" and summaries.update_freq == "epoch"


def test_tfmot_structured_pruning_arguments_are_refused_by_name():
    model = build_twin_model(keras)
    with pytest.raises(ValueError, match=r"block_size=\(2, 2\) is not supported"):
        sparsity.prune_low_magnitude(model, ONE_SHOT, (2, 2))
    with pytest.raises(ValueError, match=r"sparsity_m_by_n=\(2, 4\) is not supported"):
        sparsity.prune_low_magnitude(model, sparsity_m_by_n=(2, 4))
    assert sparsity.prune_low_magnitude(model, ONE_SHOT, [1, 1], "AVG", None, None).layers


# DSD


def test_dsd_phases(tmp_path):
    keras.utils.set_random_seed(8)
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 12)).astype("float32"), rng.integers(0, 3, 64)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    result = sparsity.dsd(model, (x, y), epochs=(1, 1, 2), sparsity=0.5, validation_data=(x, y),
                          batch_size=16)
    assert [p.name for p in result.phases] == ["dense", "sparse", "re-dense"]
    assert [p.epochs for p in result.phases] == [1, 1, 2]
    assert [len(p.history["loss"]) for p in result.phases] == [1, 1, 2]
    rates = [p.learning_rate for p in result.phases]
    assert rates[0] == rates[1] == pytest.approx(0.1) and rates[2] == pytest.approx(0.01)
    assert result.phases[0].sparsity == 0.0
    assert result.phases[1].sparsity == pytest.approx(0.5, abs=0.01)
    assert result.phases[2].sparsity < 0.1  # the pruned weights grew back
    assert set(result.phases[2].metrics) == {"loss", "accuracy"}
    final = model.evaluate(x, y, verbose=0, return_dict=True)
    assert final["loss"] == pytest.approx(result.phases[2].metrics["loss"], rel=1e-5)
    path = result.plot(tmp_path / "dsd.png")
    assert os.path.getsize(path) > 1000
    with pytest.raises(ValueError, match="epochs"):
        sparsity.dsd(model, (x, y), epochs=(1, 1))


# tfmot and JAX: the subprocesses started with the module have run alongside the tests above


def test_schedules_equal_tfmot(reference):
    for i, spec in enumerate(SCHEDULES):
        schedule = garden_schedule(spec)
        for step in STEPS:
            should_prune, value = schedule(step)
            expected = reference[f"schedule/{i}/{step}"]
            assert (should_prune, value) == (bool(expected[0]), expected[1]), (spec, step)


def test_masks_equal_tfmot(reference, case_masks):
    for case, (spec, masks) in enumerate(zip(CASES, case_masks)):
        # tfmot leaves depthwise kernels dense: the separable layer's first mask has no twin.
        ours = masks[:1] + masks[2:]
        assert len([k for k in reference if k.startswith(f"tfmot/{case}/")]) == len(ours)
        for j, mask in enumerate(ours):
            np.testing.assert_array_equal(mask, reference[f"tfmot/{case}/{j}"], err_msg=str(spec))
    assert 0 < case_masks[1][0].mean() < 0.5  # the cases do prune...
    assert all(mask.all() for mask in case_masks[3])  # ...except the one at step 0


def test_tfmot_schedule_objects_are_accepted(reference, case_masks):
    for case, (spec, masks) in enumerate(zip(CASES, case_masks)):
        if spec["duck_typed"]:
            for j, mask in enumerate(masks):
                np.testing.assert_array_equal(mask, reference[f"garden/{case}/{j}"])


def test_pruning_runs_on_jax(background):
    workdir = background["jax"].wait()
    expected = np.load(workdir / "expected.npy")
    for name in ("pruned", "stripped"):
        np.testing.assert_allclose(np.load(workdir / f"{name}.npy"), expected, rtol=1e-4,
                                   atol=1e-5)
    report = json.loads((workdir / "jax.json").read_text())
    assert len(report["checks"]) == 7 * 5 and all(report["checks"])  # steps 2..8
    sizes = json.loads((workdir / "sizes.json").read_text())
    assert report["kept"] == [keep_count(size, 0.7) for size in sizes]
    assert "you must add UpdatePruningStep callback" in report["missing_callback"]
