"""tfmot's side of the sparsity tests, run in a subprocess: importing tfmot sets
TF_USE_LEGACY_KERAS=1 for the whole process, which must not leak into the test session.

`python tests/tfmot_reference.py WORKDIR` reads `WORKDIR/request.json` and
`WORKDIR/weights.npz` and writes `WORKDIR/reference.npz`:
- `schedule/<i>/<step>`: `(should_prune, sparsity)` of tfmot's schedule `i` at each step;
- `tfmot/<case>/<j>`: the masks tfmot computes on the tf_keras twin of the test model
  (same weights) after `batches` training batches at learning rate 0;
- `garden/<case>/<j>`: for the cases marked `duck_typed`, the masks garden computes on the
  Keras 3 model when given tfmot's schedule object itself.
"""

import json
import sys

import numpy as np
import tensorflow_model_optimization as tfmot  # sets TF_USE_LEGACY_KERAS=1

import tf_keras  # noqa: E402  (the Keras 2 that tfmot prunes)

import keras  # noqa: E402  (Keras 3, garden's)
from garden import sparsity  # noqa: E402
from tests.sparsity_models import build_twin_model  # noqa: E402

TFMOT_SCHEDULES = {
    "ConstantSparsity": tfmot.sparsity.keras.ConstantSparsity,
    "PolynomialDecay": tfmot.sparsity.keras.PolynomialDecay,
}


def tfmot_schedule(spec):
    return TFMOT_SCHEDULES[spec["class_name"]](**spec["config"])


def train(model, callback, data, batches):
    x, y = data
    model.fit(x[:batches], y[:batches], batch_size=1, epochs=1, verbose=0, callbacks=[callback])


def tfmot_masks(weights, schedule, data, batches):
    model = build_twin_model(tf_keras)
    model.set_weights(weights)
    pruned = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
    pruned.compile(tf_keras.optimizers.SGD(0.0), "mse")
    train(pruned, tfmot.sparsity.keras.UpdatePruningStep(), data, batches)
    return [mask.numpy() for layer in pruned.layers if hasattr(layer, "pruning_vars")
            for _, mask, _ in layer.pruning_vars]


def garden_masks(weights, schedule, data, batches):
    model = build_twin_model(keras)
    model.set_weights(weights)
    pruned = sparsity.prune_low_magnitude(model, pruning_schedule=schedule)
    pruned.compile(keras.optimizers.SGD(0.0), "mse")
    train(pruned, sparsity.UpdatePruningStep(), data, batches)
    return [np.asarray(mask) for wrapper in sparsity.pruned_layers(pruned)
            for mask in wrapper.masks]


def main(workdir):
    request = json.load(open(f"{workdir}/request.json"))
    stored = np.load(f"{workdir}/weights.npz")
    weights = [stored[f"w{i:02d}"] for i in range(len(stored.files) - 2)]
    data = (stored["x"], stored["y"])
    out = {}
    for i, spec in enumerate(request["schedules"]):
        schedule = tfmot_schedule(spec)
        for step in request["steps"]:
            should_prune, value = schedule(step)
            out[f"schedule/{i}/{step}"] = np.array([bool(should_prune), float(value)])
    for case, spec in enumerate(request["cases"]):
        for j, mask in enumerate(tfmot_masks(weights, tfmot_schedule(spec["schedule"]), data,
                                             spec["batches"])):
            out[f"tfmot/{case}/{j}"] = mask
        if spec["duck_typed"]:
            for j, mask in enumerate(garden_masks(weights, tfmot_schedule(spec["schedule"]),
                                                  data, spec["batches"])):
                out[f"garden/{case}/{j}"] = mask
    np.savez(f"{workdir}/reference.npz", **out)


if __name__ == "__main__":
    main(sys.argv[1])
