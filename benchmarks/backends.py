"""Training throughput of one model per family on each Keras backend, and against torchvision.

`python -m benchmarks.backends` starts one worker process per Keras backend (TensorFlow, JAX
and, where PyTorch is installed, PyTorch: `KERAS_BACKEND` is fixed per process), each building
the same models: the registry's small instance (`ModelEntry.build_small()`) of a classic CNN
(ResNet-18), a model with its own training step (the VAE), the U-Net, an LSTM (char-level
language model) and the GCN, trained one whole epoch at a time on the same random examples.
The workers stay up, so epochs are interleaved across processes (TF, JAX, torch, TF, ...) after
each has compiled its step (the tiny run trains this process's own backend in this process).
Rows: each backend's epochs/s over TensorFlow's (above 1: faster than TensorFlow). The small
instances are tiny, so these figures weigh each backend's per-step overhead more than its
kernels.

Where PyTorch and torchvision are installed, garden's ResNet-18 and VGG-11 at 32x32 (10
classes) on each backend are also timed against torchvision's same networks trained in PyTorch
eager (VGG-11's classifier takes the 1x1x512 features, as garden's does at 32x32; parameter
counts are checked equal). torchvision has no MobileNet v1, so MobileNet is not compared.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np

from benchmarks import _timing

FAMILIES = {"classic CNN": "resnet18", "own training step": "vae", "U-Net": "unet",
            "LSTM": "char_lstm", "GCN": "gcn"}
TORCHVISION = ("resnet18", "vgg11")
BATCH, STEPS = 16, 4
VISION_BATCH, VISION_STEPS = 32, 2
PREFIX = "BENCH "


def _keras_job(name, vision, tiny):
    """A no-argument callable training one epoch of garden's `name` (in a worker)."""
    import keras

    from garden import models
    from garden.models import trains_itself

    keras.utils.set_random_seed(0)
    batch, steps = (VISION_BATCH, VISION_STEPS) if vision else (BATCH, STEPS)
    batch, steps = (2, 1) if tiny else (batch, steps)
    if vision:
        model = models.build(name, input_shape=(32, 32, 3), classes=10)
    else:
        model = models.get_entry(name).build_small()
    rng = np.random.default_rng(0)
    if trains_itself(model):
        x = rng.random((batch * steps, *model.data_shape), dtype=np.float32)
        model.compile()
        return lambda: model.fit(x, epochs=1, batch_size=batch, shuffle=False, verbose=0)
    x = []
    for tensor in model.inputs:  # an unknown axis (sequence length, node count) gets 5
        shape = (batch * steps, *(5 if d is None else d for d in tensor.shape[1:]))
        x.append(rng.integers(0, 2, shape).astype(tensor.dtype) if "int" in str(tensor.dtype)
                 else rng.random(shape, dtype=np.float32))
    out = model.outputs[0].shape
    output_shape = (batch * steps, *(5 if d is None else d for d in out[1:]))
    if models.get_entry(name).task in ("classification", "language model", "node classification"):
        y, loss = rng.integers(0, out[-1], output_shape[:-1]), "sparse_categorical_crossentropy"
    else:
        y, loss = np.zeros(output_shape, np.float32), "mse"
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9), loss)
    x = x[0] if len(x) == 1 else x
    return lambda: model.fit(x, y, epochs=1, batch_size=batch, shuffle=False, verbose=0)


def torchvision_model(name):
    """torchvision's `name` with 10 classes, shaped like garden's at 32x32."""
    import torch
    import torchvision

    model = getattr(torchvision.models, name)(num_classes=10)
    if name.startswith("vgg"):  # garden's classifier reads the 1x1x512 map at 32x32
        model.avgpool = torch.nn.Identity()
        model.classifier[0] = torch.nn.Linear(512, 4096)
    return model


def _torchvision_job(name, tiny):
    """A no-argument callable training one epoch of torchvision's `name` in PyTorch eager."""
    import torch

    from garden import models

    torch.manual_seed(0)
    batch, steps = (2, 1) if tiny else (VISION_BATCH, VISION_STEPS)
    model = torchvision_model(name)
    garden = models.build(name, input_shape=(32, 32, 3), classes=10)
    ours = sum(int(np.prod(w.shape)) for w in garden.trainable_weights)
    theirs = sum(p.numel() for p in model.parameters())
    if ours != theirs:
        raise AssertionError(f"{name}: garden has {ours:,} trainable parameters, torchvision "
                             f"{theirs:,}")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(batch * steps, 3, 32, 32)
    y = torch.randint(0, 10, (batch * steps,))

    def epoch():
        model.train()
        for start in range(0, len(x), batch):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[start:start + batch]),
                                                     y[start:start + batch])
            loss.backward()
            optimizer.step()

    return epoch


def _build(jobs, tiny):
    """`jobs` built and each warmed up: ({job: epoch callable}, {job: why this backend cannot
    run it})."""
    epochs, unsupported = {}, {}
    for job in jobs:
        kind, name = job.split(":")
        try:
            epochs[job] = (_torchvision_job(name, tiny) if kind == "torchvision"
                           else _keras_job(name, kind == "vision", tiny))
            epochs[job]()
        except RuntimeError as error:  # a model refusing this backend says so
            unsupported[job] = str(error)
    return epochs, unsupported


def worker(jobs, tiny):
    """A worker's loop: builds `jobs`, warms each up, replies with the jobs this backend cannot
    run (and why), then trains the epoch named on each line of stdin, replying once done."""
    epochs, unsupported = _build(jobs, tiny)
    print(PREFIX + json.dumps(unsupported), flush=True)
    for line in sys.stdin:
        epochs[line.strip()]()
        print(PREFIX + "done", flush=True)


class Worker:
    """One worker process for `backend`, driven over pipes."""

    def __init__(self, backend, jobs, tiny):
        command = [sys.executable, "-m", "benchmarks.backends", "--worker", json.dumps(jobs)]
        if tiny:
            command.append("--tiny")
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env)
        self.backend = backend

    def wait(self):
        """The worker's next reply."""
        for line in self.process.stdout:
            if line.startswith(PREFIX):
                return line[len(PREFIX):].strip()
        raise RuntimeError(f"the {self.backend} worker exited with {self.process.wait()}")

    def epoch(self, job):
        self.process.stdin.write(job + "\n")
        self.process.stdin.flush()
        self.wait()

    def close(self):
        self.process.stdin.close()
        self.process.wait()


class InProcess:
    """A `Worker` for this process's own backend, run in this process: the tiny run checks the
    jobs without paying for a second TensorFlow start-up."""

    def __init__(self, backend, jobs, tiny):
        self.epochs, self.unsupported = _build(jobs, tiny)
        self.backend = backend

    def wait(self):
        return json.dumps(self.unsupported)

    def epoch(self, job):
        self.epochs[job]()

    def close(self):
        pass


def rows(tiny=False, repeats=3):
    """Rows: each backend's epochs/s over TensorFlow's, per family; torchvision comparisons."""
    torch = importlib.util.find_spec("torch") is not None
    vision = torch and importlib.util.find_spec("torchvision") is not None
    backends = ["tensorflow", "jax"] + (["torch"] if torch and not tiny else [])
    vision = vision and not tiny  # the tiny run checks the workers, on two backends
    families = {"GCN": "gcn"} if tiny else FAMILIES
    keras_jobs = [f"family:{name}" for name in families.values()]
    vision_names = TORCHVISION if vision else ()
    keras_jobs += [f"vision:{name}" for name in vision_names]
    repeats = 1 if tiny else repeats
    here = importlib.import_module("keras").config.backend() if tiny else None
    workers = {b: (InProcess if tiny and b == here else Worker)(
                   b, keras_jobs + ([f"torchvision:{n}" for n in vision_names]
                                    if vision and b == "torch" else []), tiny)
               for b in backends}
    try:
        unsupported = {b: json.loads(w.wait()) for b, w in workers.items()}
        result = []
        for family, name in families.items():
            job = f"family:{name}"
            refused = {b: u[job] for b, u in unsupported.items() if job in u}
            seconds = _timing.interleave(
                {b: (lambda w=w: w.epoch(job)) for b, w in workers.items() if b not in refused},
                repeats=repeats, warmup=0)
            medians = {b: float(np.median(s)) for b, s in seconds.items()}
            for b in [b for b in backends[1:] if b in seconds]:
                result.append(_timing.row(
                    "backends", f"{family} ({name}) epochs/s: {b} / tensorflow",
                    _timing.ratios(seconds, "tensorflow", b), "throughput ratio",
                    seconds_per_epoch=medians, fastest=min(medians, key=medians.get),
                    unsupported=refused, repeats=repeats))
        for name in vision_names:
            functions = {b: (lambda w=w: w.epoch(f"vision:{name}")) for b, w in workers.items()}
            functions["torchvision"] = lambda: workers["torch"].epoch(f"torchvision:{name}")
            seconds = _timing.interleave(functions, repeats=repeats, warmup=0)
            medians = {b: float(np.median(s)) for b, s in seconds.items()}
            for b in backends:
                result.append(_timing.row(
                    "backends", f"{name} 32x32 train images/s: garden on {b} / torchvision eager",
                    _timing.ratios(seconds, "torchvision", b), "throughput ratio",
                    seconds_per_epoch=medians, images_per_epoch=VISION_BATCH * VISION_STEPS,
                    repeats=repeats))
        return result
    finally:
        for w in workers.values():
            w.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker), args.tiny)
    result = rows(repeats=args.repeats)
    print(_timing.format_table(result))
    return result


if __name__ == "__main__":
    main()
