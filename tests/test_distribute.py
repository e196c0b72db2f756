"""Data-parallel recipes ([distribute]): checks, the linear scaling rule, batches divisible by the
replicas, and synchronous data parallelism equal to large-batch SGD on TensorFlow's strategies
and JAX's DataParallel (in subprocesses: a strategy's devices and collectives are fixed when a
process starts)."""

import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from garden import recipes
from garden.cli import main
from garden.recipes import distribute

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}


ONE_CYCLE_STEPS = 40


def _warmup(rate, initial=0.05):
    """10 steps of warmup from `initial` into a one-cycle policy peaking at `rate`."""
    one_cycle = {"class_name": "OneCycleLR",
                 "config": {"max_lr": rate, "total_steps": ONE_CYCLE_STEPS}}
    return {"class_name": "Warmup",
            "config": {"warmup_steps": 10, "initial_lr": initial, "schedule": one_cycle}}


@pytest.fixture
def exact_recipe(tiny_recipe, digits_root):
    """`exact_recipe(batch, rate, epochs, **sections)`: an MLP without dropout or batch norm
    (per-replica randomness or statistics would differ from one large batch) on 1,400 digits
    in stored order (1,390 after undersampling: the last batch of 90 splits evenly), so
    both runs see the same batches. The test split has 359 digits (one fewer of class 0): on
    2 replicas its last batch of 59 is cut to 58, which JAX needs to shard it (and
    MirroredStrategy to train on it)."""

    def make(batch, rate, epochs=2, **sections):
        return tiny_recipe(
            model={"name": "selu_mlp", "depth": 1, "width": 16, "dropout": 0.0,
                   "input_shape": [8, 8, 1]},
            data={"name": "digits", "batch_size": batch, "shuffle": False, "root": digits_root,
                  "transforms": [{"name": "undersample"}],
                  "test_transforms": [{"name": "step_imbalance", "minority_classes": [0],
                                       "ratio": 1.05}]},
            train={"epochs": epochs, "optimizer": {"class_name": "SGD",
                                                   "config": {"learning_rate": _warmup(rate)}}},
            **sections)

    return make


def _weights(run_dir):
    import garden.schedules  # noqa: F401  (registers Warmup for loading)

    model = keras.saving.load_model(Path(run_dir) / "model.keras")
    return model, model.get_weights()


def _assert_same_training(distributed_dir, single_dir, batches):
    """Equal weights and equal step counts (at least `batches`: Keras adds a step per epoch
    when a dataset's length is unknown, as after undersampling, alike in both runs), the
    schedules stepped on the global step: warmup and one-cycle end at the doubled rate's
    one-cycle value of the global step count."""
    from garden.schedules import OneCycleLR

    model, weights = _weights(distributed_dir)
    reference, expected = _weights(single_dir)
    steps = int(model.optimizer.iterations)
    assert steps == int(reference.optimizer.iterations) >= batches
    assert float(model.optimizer.learning_rate) == pytest.approx(
        float(OneCycleLR(max_lr=0.1, total_steps=ONE_CYCLE_STEPS)(steps)))
    for got, want in zip(weights, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_errors_before_training(tiny_recipe):
    for section, message in [
        ({"strategy": "horovod"}, "strategy='horovod' is not allowed: use one of 'mirrored'"),
        ({"strategy": "data_parallel"}, "needs the jax backend"),
        ({"strategy": "mirrored", "replicas": 2}, "unknown [distribute] key(s) replicas"),
        ({}, "[distribute] needs a strategy"),
        ({"strategy": "mirrored", "scale_learning_rate": "yes"}, "use True or False"),
    ]:
        with pytest.raises(ValueError, match="^recipe: .*" + re.escape(message)):
            recipes.train(tiny_recipe(distribute=section))
    recipe = tiny_recipe(variants={"two": {"distribute": {"strategy": "mirrored"}}})
    with pytest.raises(ValueError, match="applies to the whole recipe"):
        recipes.validate_recipe(recipe)


def test_linear_scaling_of_rates():
    """Every rate times the replica count, except Warmup's small-batch starting rate (Goyal et
    al. 2017, Sections 2.1-2.2), as the large-minibatch recipe writes by hand."""
    written = {"class_name": "SGD", "config": {"momentum": 0.9, "learning_rate": {
        "class_name": "Warmup", "config": {"warmup_steps": 30, "initial_lr": 0.1, "schedule": {
            "class_name": "CosineDecay",
            "config": {"initial_learning_rate": 0.1, "decay_steps": 180}}}}}}
    scaled = distribute.scale_optimizer(written, 8)
    rate = scaled["config"]["learning_rate"]["config"]
    assert rate["initial_lr"] == 0.1 and rate["warmup_steps"] == 30
    assert rate["schedule"]["config"] == {"initial_learning_rate": 0.8, "decay_steps": 180}
    assert distribute.scale_optimizer("adam", 4)["config"]["learning_rate"] == 0.004
    one_cycle = {"class_name": "SGD", "config": {"learning_rate": {
        "class_name": "OneCycleLR", "config": {"max_lr": 0.4, "total_steps": 100}}}}
    assert distribute.scale_optimizer(one_cycle, 2)["config"]["learning_rate"]["config"] == {
        "max_lr": 0.8, "total_steps": 100}
    with pytest.raises(ValueError, match="cannot scale the rates of 'Mine'.*scale_learning_rate"):
        distribute.scale_optimizer({"class_name": "SGD", "config": {
            "learning_rate": {"class_name": "Mine", "config": {}}}}, 2)


def test_resolve_records_global_batch(exact_recipe):
    engine = distribute.Engine("mirrored", replicas=4)
    resolved = distribute.resolve(exact_recipe(32, 0.05, distribute={"strategy": "mirrored"}),
                                  engine)
    assert resolved["data"]["batch_size"] == 128
    assert resolved["distribute"] == {"strategy": "mirrored", "replicas": 4,
                                      "per_replica_batch_size": 32}
    assert resolved["train"]["optimizer"]["config"]["learning_rate"] == _warmup(0.2)
    assert distribute.describe(resolved).startswith(
        "mirrored: 4 replicas, global batch 128 (32 per replica), rates x4")
    plain = distribute.resolve(exact_recipe(32, 0.05, distribute={
        "strategy": "mirrored", "scale_learning_rate": False}), engine)
    assert plain["train"]["optimizer"]["config"]["learning_rate"] == _warmup(0.05)


def test_workers_need_a_multi_worker_recipe(tmp_path, tiny_recipe, recipe_toml, capsys):
    path = tmp_path / "r.toml"
    path.write_text(recipe_toml(tiny_recipe(distribute={"strategy": "mirrored"})))
    assert main(["train", str(path), "--workers", "2"]) == 2
    assert 'needs a recipe with [distribute] strategy = "multi_worker"' in capsys.readouterr().err
    assert main(["train", str(path), "--workers", "0"]) == 2


TRAIN_PAIR = """
from garden import recipes
distributed, single, runs = json.loads(sys.argv[1])
recipes.train(distributed, runs_dir=runs + "/distributed")
recipes.train(single, runs_dir=runs + "/single")
"""

MIRRORED = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
""") + TRAIN_PAIR + textwrap.dedent("""
    # a last partial batch of 59 (the test split's): cut to 58, 2 replicas train on it exactly as
    # one device does (uncut, MirroredStrategy's shares of 30 and 29 give another gradient)
    import contextlib
    import numpy as np
    from garden import sparsity
    from garden.recipes import distribute
    engine = distribute.start(distributed["distribute"])
    resolved = distribute.resolve(distributed, engine)
    def fit_test_split(scope):
        with scope():
            model, _, data = recipes.build_training(resolved, 0)
        model.fit(distribute.pipeline(data, engine.replicas), epochs=1, verbose=0)
        return model.get_weights()
    cut_error = max(float(np.abs(a - b).max()) for a, b in zip(
        fit_test_split(engine.scope), fit_test_split(contextlib.nullcontext), strict=True))
    # pruning masks under the strategy: one mask per replica, identical
    with engine.scope():
        model, data, _ = recipes.build_training(resolved, 0)
        model = sparsity.prune_low_magnitude(model, pruning_schedule=sparsity.ConstantSparsity(
            0.5, begin_step=0, frequency=5))
        model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(distribute.pipeline(data, engine.replicas), epochs=1, verbose=0,
              callbacks=[sparsity.UpdatePruningStep()])
    wrapper = sparsity.pruned_layers(model)[0]
    strategy = model.distribute_strategy
    local = [m.numpy() for m in strategy.experimental_local_results(wrapper.masks[0].value)]
    print(json.dumps({"replicas": engine.replicas, "masks": len(local), "cut_error": cut_error,
                      "equal": all((x == local[0]).all() for x in local),
                      "sparsity": float(1 - local[0].mean())}))
""")


def _train_pair(script, distributed, single, runs, env):
    """Runs `script` (training `distributed` and `single` under `runs`) in a subprocess and
    asserts both trained alike over the 2 epochs of 14 global batches; returns its stdout."""
    out = subprocess.run([sys.executable, "-c", script,
                          json.dumps([distributed, single, str(runs)])],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    _assert_same_training(runs / "distributed/tiny/default/seed0",
                          runs / "single/tiny/default/seed0", batches=28)
    return out.stdout


@pytest.mark.slow  # about 25 s of CPU in a subprocess; the fast tier checks the pieces
def test_mirrored_two_devices_equal_one_large_batch(exact_recipe, tmp_path):
    """MirroredStrategy over 2 logical CPUs at 50 per replica trains exactly as one device at
    batch 100 with the doubled rate; warmup and one-cycle step on the global step; a partial
    batch cut to an even size trains as on one device; pruning masks agree on every replica."""
    stdout = _train_pair(MIRRORED, exact_recipe(50, 0.05, distribute={"strategy": "mirrored"}),
                         exact_recipe(100, 0.1), tmp_path, ENV)
    assert "mirrored: 2 replicas, global batch 100 (50 per replica), rates x2" in stdout
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report["replicas"] == report["masks"] == 2 and report["equal"]
    assert report["sparsity"] == pytest.approx(0.5, abs=0.01)
    assert report["cut_error"] < 1e-6


@pytest.mark.slow
def test_jax_data_parallel_two_devices_equal_one_large_batch(exact_recipe, tmp_path):
    """keras.distribution.DataParallel over 2 virtual JAX CPU devices at 50 per replica trains
    exactly as one device at batch 100 with the doubled rate (about 20 s: JAX compiles)."""
    env = {**ENV, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    stdout = _train_pair("import json, sys" + TRAIN_PAIR,
                         exact_recipe(50, 0.05, distribute={"strategy": "data_parallel"}),
                         exact_recipe(100, 0.1), tmp_path, env)
    assert "data_parallel: 2 replicas, global batch 100 (50 per replica), rates x2" in stdout


def test_pipeline_cuts_batches_to_the_replicas():
    """Every batch divides by the replica count: a partial batch is cut (inputs and labels
    alike), one left empty is dropped, a fixed batch that cannot divide is an error."""
    import tensorflow as tf

    examples = tf.data.Dataset.from_tensor_slices((tf.range(7), tf.range(7) * 10))
    cut = list(distribute.pipeline(examples.batch(4), 2).as_numpy_iterator())
    assert [(x.tolist(), y.tolist()) for x, y in cut] == [([0, 1, 2, 3], [0, 10, 20, 30]),
                                                          ([4, 5], [40, 50])]
    assert [len(x) for x, _ in distribute.pipeline(examples.batch(6), 3)] == [6]
    assert [len(x) for x, _ in distribute.pipeline(examples.batch(4), 1)] == [4, 3]
    alone = distribute.pipeline(tf.data.Dataset.range(5).batch(4), 2)
    assert [x.tolist() for x in alone.as_numpy_iterator()] == [[0, 1, 2, 3]]
    assert alone.options().experimental_distribute.auto_shard_policy == (
        tf.data.experimental.AutoShardPolicy.DATA)
    with pytest.raises(ValueError, match=re.escape(
            "a global batch of 3 does not divide among 2 replicas: use a multiple of 2")):
        distribute.pipeline(examples.batch(3, drop_remainder=True), 2)


def _history_epochs(run_dir):
    with open(run_dir / "history.csv") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


@pytest.mark.slow
def test_two_workers_equal_one_large_batch(exact_recipe, recipe_toml, tmp_path):
    """Two worker processes (TF_CONFIG on loopback ports) at 50 per replica end with the weights
    of one process at batch 100: synchronous data parallelism is large-batch SGD."""
    path = tmp_path / "tiny.toml"
    path.write_text(recipe_toml(exact_recipe(50, 0.05, distribute={"strategy": "multi_worker"})))
    runs = tmp_path / "runs"
    scratch = set(Path(tempfile.gettempdir()).glob("garden-worker1-*"))
    status = distribute.wait_workers(distribute.start_workers(
        ["train", str(path), "--runs-dir", str(runs)], 2, env=ENV))
    assert status == 0
    recipes.train(exact_recipe(100, 0.1), runs_dir=tmp_path / "single")
    _assert_same_training(runs / "tiny/default/seed0", tmp_path / "single/tiny/default/seed0",
                          batches=28)
    assert sorted(p.name for p in (runs / "tiny").iterdir()) == ["default", "results.json"]
    assert set(Path(tempfile.gettempdir()).glob("garden-worker1-*")) == scratch  # removed


@pytest.mark.slow
def test_killed_worker_resumes_from_last_backup(exact_recipe, recipe_toml, tmp_path):
    """Killing a worker mid-run stops the cluster; the same command resumes from the chief's
    last backup: every epoch is in the history exactly once, none repeated or lost."""
    epochs = 8
    path = tmp_path / "tiny.toml"
    path.write_text(recipe_toml(exact_recipe(50, 0.05, epochs=epochs,
                                             distribute={"strategy": "multi_worker"})))
    run_dir = tmp_path / "runs/tiny/default/seed0"
    argv = ["train", str(path), "--runs-dir", str(tmp_path / "runs")]
    procs = distribute.start_workers(argv, 2, env=ENV)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (
            (run_dir / "history.csv").exists() and len(_history_epochs(run_dir)) >= 2):
        time.sleep(0.2)
    procs[1].kill()
    assert distribute.wait_workers(procs) != 0
    done = _history_epochs(run_dir)
    assert 2 <= len(done) < epochs and (run_dir / "backup").is_dir()
    assert distribute.wait_workers(distribute.start_workers(argv, 2, env=ENV)) == 0
    assert _history_epochs(run_dir) == list(range(epochs))
    model, _ = _weights(run_dir)
    assert int(model.optimizer.iterations) >= epochs * 14


def test_two_worker_recipe_resolves_to_the_single_process_variant():
    """On 2 workers the sibling recipe trains with exactly the batch and optimizer of
    large_minibatch_digits' batch_256_scaled_warmup variant."""
    two = recipes.variants(recipes.load_recipe("large_minibatch_digits_2workers"))[0][1]
    one = dict(recipes.variants(recipes.load_recipe("large_minibatch_digits")))
    resolved = distribute.resolve(two, distribute.Engine("multi_worker", replicas=2))
    single = one["batch_256_scaled_warmup"]
    assert resolved["data"] == single["data"]
    assert resolved["train"] == single["train"]
    own = ("name", "claim", "time")  # what each recipe says of itself
    assert {k: v for k, v in resolved.items() if k not in ("distribute", *own)} == {
        k: v for k, v in single.items() if k not in ("variants", *own)}
