"""Data-parallel training of a recipe on the engines' own distribution: TensorFlow's
`MirroredStrategy` and `MultiWorkerMirroredStrategy`, Keras' `DataParallel` on JAX.

A recipe's `[distribute]` section names the strategy; `[data] batch_size` is then the batch of one
replica and the optimizer's rate the rate of one replica. `resolve` derives the global batch
(per-replica batch times replicas) and, by the linear scaling rule (Goyal et al. 2017, Section
2.1), multiplies every rate of the optimizer by the replica count, except `Warmup`'s
`initial_lr`, which the paper keeps at the small-batch rate (Section 2.2). Schedules see the
optimizer's step, which under a strategy counts global batches.

The data pipeline is the one-process pipeline batched by the global batch, each last partial
batch cut to a multiple of the replica count (`pipeline`); the strategy splits each global batch
across replicas, and across workers `tf.data` auto-shards by DATA (every worker reads the same
shuffled stream, seeded alike, and keeps its slice of every global batch), so the workers
together see exactly the batches one process would, less at most `replicas - 1` examples of
each epoch's last batch.

Every worker runs the same code (saving reads variables through collective ops); the chief
writes the run directory, the others write to a temporary directory removed at the end (the
standard TensorFlow pattern), after copying the chief's `BackupAndRestore` backup so that every
worker resumes from the same epoch.

Reference:
    Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", 2017.
    https://arxiv.org/abs/1706.02677
"""

import contextlib
import copy
import dataclasses
import inspect
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import keras

from garden.utils.checks import check_bool, check_choice

# strategy -> the backend that has it
STRATEGIES = {"mirrored": "tensorflow", "multi_worker": "tensorflow", "data_parallel": "jax"}
KEYS = ("strategy", "scale_learning_rate")
# The rates in each schedule's config that the linear scaling rule multiplies. Warmup's
# initial_lr is left out on purpose: gradual warmup starts from the small-batch rate.
RATE_KEYS = {
    "CosineDecay": ("initial_learning_rate", "warmup_target"),
    "CosineDecayRestarts": ("initial_learning_rate",),
    "ExponentialDecay": ("initial_learning_rate",),
    "InverseTimeDecay": ("initial_learning_rate",),
    "PolynomialDecay": ("initial_learning_rate", "end_learning_rate"),
    "PiecewiseConstantDecay": ("values",),
    "CyclicLR": ("base_lr", "max_lr"),
    "OneCycleLR": ("max_lr", "initial_lr", "final_lr"),
    "Warmup": ("schedule",),
}


def check(section):
    """Checks a `[distribute]` table (pure Python: no TensorFlow op runs, so a multi-worker
    strategy can still start afterwards).

    Raises:
        ValueError: an unknown key or strategy, or a strategy the current backend lacks.
    """
    if not isinstance(section, dict):
        raise ValueError(f"[distribute]={section!r} is not allowed: use a table")
    unknown = sorted(set(section) - set(KEYS))
    if unknown:
        raise ValueError(f"unknown [distribute] key(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(KEYS)}")
    if "strategy" not in section:
        raise ValueError(f"[distribute] needs a strategy: one of {', '.join(STRATEGIES)}")
    strategy = check_choice("[distribute] strategy", section["strategy"], tuple(STRATEGIES))
    check_bool("[distribute] scale_learning_rate", section.get("scale_learning_rate", True))
    backend, needed = keras.backend.backend(), STRATEGIES[strategy]
    if backend != needed:
        others = [name for name, b in STRATEGIES.items() if b == backend]
        instead = f"on {backend} use {' or '.join(map(repr, others))}" if others else (
            f"the {backend} backend has no strategy here")
        raise ValueError(f"[distribute] strategy={strategy!r} needs the {needed} backend "
                         f"(KERAS_BACKEND={needed}); {instead}")
    return section


@dataclasses.dataclass
class Engine:
    """The distribution a process trains under.

    Attributes:
        strategy: the `[distribute]` strategy name, or None for one process and one device.
        replicas: number of replicas in sync (all workers' devices together).
        is_chief: whether this process writes the run directories.
        worker: this worker's index.
        scope: the strategy's scope (a context manager factory).
        scratch: where a non-chief worker writes instead of the run directories.
    """

    strategy: str | None = None
    replicas: int = 1
    is_chief: bool = True
    worker: int = 0
    scope: object = contextlib.nullcontext
    scratch: Path | None = None


LOCAL = Engine()
_started = {}


def _tf_strategy(name):
    import tensorflow as tf

    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
        return strategy, True, 0
    strategy = _multi_worker_class()()
    resolver = strategy.cluster_resolver
    kind, index = resolver.task_type, resolver.task_id or 0
    chief = kind in (None, "chief") or (
        kind == "worker" and index == 0 and "chief" not in resolver.cluster_spec().as_dict())
    return strategy, chief, index


def _multi_worker_class():
    import tensorflow as tf

    class MultiWorker(tf.distribute.MultiWorkerMirroredStrategy):
        """`MultiWorkerMirroredStrategy` whose `reduce` takes a nest and scalars.

        Keras 3.15's `fit` reduces a whole `(x, y)` batch and scalar metrics with `axis=0`
        under this strategy, which TensorFlow's `reduce` rejects (keras-team/keras#20585):
        each leaf is reduced alone, a scalar across replicas only.
        """

        def reduce(self, reduce_op, value, axis):
            def one(v):
                rank = self.experimental_local_results(v)[0].shape.rank
                return super(MultiWorker, self).reduce(
                    reduce_op, v, None if rank is not None and axis is not None and rank <= axis
                    else axis)

            return tf.nest.map_structure(one, value)

    return MultiWorker


def start(section):
    """Starts the recipe's strategy (once per process) and returns its `Engine`.

    Call it before any TensorFlow operation runs: `MultiWorkerMirroredStrategy` configures the
    collective ops at program startup. `multi_worker` reads its cluster from `TF_CONFIG` (no
    `TF_CONFIG`: one worker); `data_parallel` joins several JAX processes when the
    `KERAS_DISTRIBUTION_*` variables of `keras.distribution.initialize` are set.
    """
    if section is None:
        return LOCAL
    name = check(section)["strategy"]
    if _started and name not in _started:
        raise ValueError(f"[distribute] strategy={name!r}: this process already trains under "
                         f"{next(iter(_started))!r}; one strategy per process")
    if name not in _started:
        if name == "data_parallel":
            if int(os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES", "1")) > 1:
                keras.distribution.initialize()
            import jax

            distribution = keras.distribution.DataParallel()
            engine = Engine(name, len(keras.distribution.list_devices()),
                            jax.process_index() == 0, jax.process_index(), distribution.scope)
        else:
            strategy, chief, index = _tf_strategy(name)
            engine = Engine(name, strategy.num_replicas_in_sync, chief, index, strategy.scope)
        if not engine.is_chief:
            engine.scratch = Path(tempfile.mkdtemp(prefix=f"garden-worker{engine.worker}-"))
        _started[name] = engine
    return _started[name]


def _scale_schedule(spec, factor, where):
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return spec * factor
    name = spec.get("class_name") if isinstance(spec, dict) else None
    if name not in RATE_KEYS:
        raise ValueError(f"{where}: cannot scale the rates of {name or spec!r} by the linear "
                         f"scaling rule; it knows {', '.join(RATE_KEYS)}. Write the scaled "
                         "rates yourself and set [distribute] scale_learning_rate = false")
    config = dict(spec.get("config", {}))
    for key in RATE_KEYS[name]:
        value = config.get(key)
        if isinstance(value, list):
            config[key] = [v * factor for v in value]
        elif value is not None:
            config[key] = _scale_schedule(value, factor, f"{where} {name}.{key}")
    return {**spec, "config": config}


def scale_optimizer(spec, factor):
    """The optimizer spec (a Keras name or `{class_name, config}`) with every rate times
    `factor`; an unset `learning_rate` is the optimizer's default."""
    from garden.recipes import build

    spec = {"class_name": spec} if isinstance(spec, str) else copy.deepcopy(spec)
    name = str(spec.get("class_name")).lower()
    cls = next((getattr(keras.optimizers, n) for n in build.optimizer_names()
                if n.lower() == name), None)
    if cls is None:
        build.build_optimizer(spec)  # raises the unknown-optimizer error
    config = spec.setdefault("config", {})
    rate = config.get("learning_rate",
                      inspect.signature(cls).parameters["learning_rate"].default)
    config["learning_rate"] = _scale_schedule(rate, factor, "[train] optimizer learning_rate")
    return spec


def resolve(recipe, engine):
    """The variant recipe as trained under `engine`: `[data] batch_size` the global batch, the
    optimizer's rates scaled by the replica count (unless `scale_learning_rate = false`), and
    `[distribute]` recording `replicas` and `per_replica_batch_size` (so they key the run)."""
    from garden import models
    from garden.recipes import build

    resolved = copy.deepcopy(recipe)
    section = resolved["distribute"]
    per_replica = resolved["data"].get("batch_size", 32)
    resolved["data"]["batch_size"] = per_replica * engine.replicas
    section.update(replicas=engine.replicas, per_replica_batch_size=per_replica)
    train = resolved.setdefault("train", {})
    if section.get("scale_learning_rate", True):
        if "optimizer" not in train and models.trains_itself(build.build_model(recipe)):
            raise ValueError("[distribute] scale_learning_rate: this model compiles with its "
                             "paper's optimizer; give [train] optimizer to scale its rate")
        base = train.get("optimizer", build.DEFAULT_OPTIMIZER)
        train["optimizer"] = scale_optimizer(base, engine.replicas)
    return resolved


def pipeline(dataset, replicas):
    """`dataset` as a strategy trains on it: every batch divisible by `replicas`, auto-sharded
    by DATA across workers (each keeps its slice of every global batch; sharding by FILE would
    need as many TFRecord shards as workers).

    A full global batch (per-replica batch times replicas) always divides. A last partial batch
    is cut to the largest multiple of `replicas` (a batch left empty is dropped), so every replica
    gets as many examples and the averaged gradient is the mean over the batch, exactly as one
    process: each epoch and each evaluation leave out at most `replicas - 1` examples (which ones
    changes with the shuffle). Without the cut TensorFlow gives replicas unequal shares (a
    gradient no longer the batch mean) and JAX cannot shard the batch at all.

    Raises:
        ValueError: the batch size is fixed (e.g. batched with `drop_remainder=True`) and does
            not divide by `replicas`: the error names both, before anything trains.
    """
    import tensorflow as tf

    fixed = tf.nest.flatten(dataset.element_spec)[0].shape[0]
    if fixed is not None and fixed % replicas:
        raise ValueError(f"a global batch of {fixed} does not divide among {replicas} replicas: "
                         f"use a multiple of {replicas} (under [distribute], [data] batch_size "
                         "is the batch of one replica)")

    def size(*batch):
        return tf.shape(tf.nest.flatten(batch)[0])[0]

    def cut(*batch):
        keep = size(*batch) // replicas * replicas
        kept = tf.nest.map_structure(lambda tensor: tensor[:keep], batch)
        return kept if len(kept) > 1 else kept[0]

    if fixed is None and replicas > 1:
        dataset = dataset.map(cut).filter(lambda *batch: size(*batch) > 0)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def describe(recipe):
    """One line: the strategy, replicas, global and per-replica batch, and the rate."""
    section = recipe["distribute"]
    rate = recipe.get("train", {}).get("optimizer", {})
    rate = rate.get("config", {}).get("learning_rate") if isinstance(rate, dict) else None
    scaled = section.get("scale_learning_rate", True)
    text = (f"{section['strategy']}: {section['replicas']} replicas, global batch "
            f"{recipe['data']['batch_size']} ({section['per_replica_batch_size']} per replica)")
    if scaled:
        rate = rate if isinstance(rate, (int, float)) else json.dumps(rate)
        return f"{text}, rates x{section['replicas']} (linear scaling): learning_rate {rate}"
    return f"{text}, rates as written (scale_learning_rate = false)"


def worker_dir(engine, run_dir, runs_dir, resume=True):
    """Where a non-chief worker writes a run: the run directory's mirror in its scratch
    directory; with `resume`, holding a copy of the chief's backup and recipe record, so the
    worker resumes from the chief's epoch (the chief writes neither before every worker has
    joined the first epoch's collectives)."""
    run_dir = Path(run_dir)
    mirror = engine.scratch / "runs" / run_dir.relative_to(runs_dir)
    if resume and (run_dir / "backup").is_dir() and not mirror.exists():
        shutil.copytree(run_dir / "backup", mirror / "backup")
        shutil.copy(run_dir / "recipe.json", mirror / "recipe.json")
    return mirror


def finish(engine):
    """Removes a non-chief worker's scratch directory."""
    if engine.scratch is not None:
        shutil.rmtree(engine.scratch, ignore_errors=True)


def free_ports(count):
    """`count` loopback ports free at the moment of asking."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(addresses, index):
    """The `TF_CONFIG` of worker `index` of a cluster of workers at `addresses`."""
    return json.dumps({"cluster": {"worker": list(addresses)},
                       "task": {"type": "worker", "index": index}})


def start_workers(argv, workers, env=None):
    """Starts `workers` local processes of `garden ARGV...`, each with the `TF_CONFIG` of a
    cluster on loopback ports; worker 0 is the chief. Returns their `Popen`s."""
    addresses = [f"localhost:{port}" for port in free_ports(workers)]
    procs = []
    for index in range(workers):
        worker_env = {**(os.environ if env is None else env),
                      "TF_CONFIG": tf_config(addresses, index)}
        procs.append(subprocess.Popen([sys.executable, "-m", "garden.cli", *argv],
                                      env=worker_env))
    return procs


def wait_workers(procs):
    """Waits for the workers; when one fails the others are stopped (their peers' collective
    ops would wait forever). Returns the first non-zero exit status, else 0."""
    status = 0
    pending = list(procs)
    try:
        while pending:
            for proc in list(pending):
                try:
                    code = proc.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    continue
                pending.remove(proc)
                if code and not status:
                    status = code
                    for other in pending:
                        other.send_signal(signal.SIGTERM)
    finally:
        for proc in pending:
            proc.kill()
            proc.wait()
    return status
