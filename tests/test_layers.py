"""Every garden layer on both backends: the shared layer checks for the layers whose other tests
live with their models (ASPP in test_deeplab.py, ZeroPaddingShortcut in test_resnet.py), and one
JAX subprocess that loads each layer saved under TensorFlow, gives TF's outputs for the same
weights and trains one step."""

import json
import textwrap

import keras
import numpy as np
import pytest

from garden import layers
from tests.harness.layers import random_input, run_layer_test
from tests.helpers import run_script


def _localization():
    return keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(4, activation="relu")])


# name: (class, tiny constructor arguments, input shape, output shape). Every layer class of
# garden.layers has a case (checked below).
CASES = {
    "ASPP": (layers.ASPP, dict(classes=3, rates=(1, 2), filters=4, dropout=0.0),
             (2, 5, 5, 2), (2, 5, 5, 3)),
    "ASPPv3": (layers.ASPPv3, dict(filters=4, rates=(1, 2)), (2, 5, 5, 2), (2, 5, 5, 4)),
    "CapsuleLayer": (layers.CapsuleLayer, dict(capsules=3, dim=4, routings=2), (2, 6, 5),
                     (2, 3, 4)),
    "Length": (layers.Length, {}, (2, 3, 4), (2, 3)),
    "LocalResponseNormalization": (layers.LocalResponseNormalization, dict(n=3, alpha=0.1),
                                   (2, 3, 3, 6), (2, 3, 3, 6)),
    "Mask": (layers.Mask, {}, (2, 3, 4), (2, 12)),
    "PrimaryCapsules": (layers.PrimaryCapsules, dict(capsules=2, dim=3, kernel_size=3),
                        (2, 7, 7, 4), (2, 18, 3)),
    "SpatialTransformer": (
        layers.SpatialTransformer,
        dict(localization=_localization(), output_size=(4, 5),
             theta_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=1)),
        (2, 7, 9, 3), (2, 4, 5, 3)),
    "SubPixelConv2D": (layers.SubPixelConv2D, dict(channels=2, scale=2), (2, 4, 3, 5),
                       (2, 8, 6, 2)),
    "Swish": (layers.Swish, dict(beta=1.5, trainable_beta=True), (2, 6), (2, 6)),
    "ZeroPaddingShortcut": (layers.ZeroPaddingShortcut, dict(filters=6, strides=2),
                            (2, 5, 4, 3), (2, 3, 2, 6)),
    # A cell runs inside keras.layers.RNN; graph layers take [features, graph] (a list of shapes).
    "LSTMCell": (keras.layers.RNN, dict(cell=layers.LSTMCell(3, use_peepholes=True),
                                        return_sequences=True), (2, 4, 2), (2, 4, 3)),
    "GraphConv": (layers.GraphConv, dict(units=3, activation="tanh"), [(2, 5, 4), (2, 5, 5)],
                  (2, 5, 3)),
    "DiffusionConv": (layers.DiffusionConv, dict(task="graph"), [(2, 5, 3), (2, 3, 5, 5)],
                      (2, 3, 3)),
}


def test_every_garden_layer_has_a_case():
    classes = {name for name in layers.__all__ if isinstance(getattr(layers, name), type)}
    assert classes == set(CASES)


@pytest.mark.parametrize("name", ["ASPP", "ASPPv3", "ZeroPaddingShortcut"])
def test_layer_harness(name):
    layer_cls, init_kwargs, input_shape, output_shape = CASES[name]
    run_layer_test(layer_cls, init_kwargs, input_shape=input_shape,
                   expected_output_shape=output_shape)


JAX_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import keras
    import numpy as np
    from garden import layers  # the first garden subpackage used registers its Keras objects
    from tests.helpers import numpy_initial_values
    assert keras.backend.backend() == "jax", keras.backend.backend()
    workdir, names = sys.argv[1], sys.argv[2:]
    report = {}
    for name in names:
        data = np.load(f"{workdir}/{name}.npz")
        x = [data[k] for k in sorted(data.files) if k.startswith("x")]
        x = x[0] if len(x) == 1 else x
        with numpy_initial_values():  # replaced by the saved weights
            model = keras.saving.load_model(f"{workdir}/{name}.keras", safe_mode=True)
        difference = float(np.max(np.abs(np.asarray(model(x)) - data["y"])))
        layer = model.layers[-1]
        before = [np.array(w) for w in layer.trainable_weights]
        model.compile(keras.optimizers.SGD(0.1), "mse")
        model.fit(x, data["target"], batch_size=len(data["target"]), verbose=0)
        unchanged = [w.path for w, old in zip(layer.trainable_weights, before)
                     if np.array_equal(np.array(w), old)]
        report[name] = {"difference": difference, "weights": len(before), "unchanged": unchanged}
    json.dump(report, open(f"{workdir}/report.json", "w"))
    """
)


def test_every_layer_on_jax_equals_tensorflow_and_trains(tmp_path):
    for name, (layer_cls, init_kwargs, input_shape, _) in CASES.items():
        if isinstance(input_shape, list):  # graph layers: non-negative, as adjacency weights
            x = [np.abs(random_input(shape, seed=i)) for i, shape in enumerate(input_shape)]
            inputs = [keras.Input(shape[1:]) for shape in input_shape]
        else:
            x, inputs = random_input(input_shape), keras.Input(input_shape[1:])
        model = keras.Model(inputs, layer_cls(**init_kwargs)(inputs))
        y = keras.ops.convert_to_numpy(model(x))
        model.save(tmp_path / f"{name}.keras")
        arrays = {f"x{i}": a for i, a in enumerate(x if isinstance(x, list) else [x])}
        np.savez(tmp_path / f"{name}.npz", **arrays, y=y, target=random_input(y.shape, seed=1))
    done = run_script(JAX_SCRIPT, tmp_path, *CASES)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert sorted(report) == sorted(CASES)
    for name, result in report.items():
        assert result["difference"] < 1e-5, (name, result)
        assert result["unchanged"] == [], (name, result)
    assert report["CapsuleLayer"]["weights"] == 1 and report["SpatialTransformer"]["weights"] == 4
