"""`run_layer_test`: the checks every garden layer gets, as keras-hub's `TestCase.run_layer_test`.

A layer test file gives tiny constructor arguments, an input and the expected output shape; the
harness builds and calls the layer, compares `compute_output_shape` with the real output, round
trips the config and a `.keras` file of a tiny model holding the layer (safe mode, identical
outputs), and runs one fit step in which every trainable weight must change.
"""

import json
import tempfile
from pathlib import Path

import keras
import numpy as np


def random_input(input_shape, seed=0):
    """A float32 array of `input_shape` (batch axis included) drawn from a fixed seed."""
    return np.random.default_rng(seed).normal(size=input_shape).astype("float32")


def as_json(config):
    """`config` as saved in a `.keras` file (tuples become lists), for comparison."""
    return json.loads(json.dumps(config))


def run_layer_test(
    layer_cls,
    init_kwargs,
    *,
    input_data=None,
    input_shape=None,
    expected_output_shape,
    expected_num_trainable_weights=None,
    run_training_check=True,
):
    """Runs the shared layer checks; returns the layer built by the first call.

    Args:
        layer_cls: the layer class.
        init_kwargs: dict. Tiny constructor arguments.
        input_data: array with a batch axis; or give `input_shape` for a random one.
        input_shape: tuple, batch axis included (used when `input_data` is None).
        expected_output_shape: tuple. Shape of the output of a call on the input.
        expected_num_trainable_weights: int or None. Checked when given.
        run_training_check: bool. Whether to fit one step and require every trainable weight
            to change (turn off only for a layer whose weights cannot get a gradient).
    """
    if input_data is None:
        input_data = random_input(input_shape)
    input_data = np.asarray(input_data)

    # Build and call.
    layer = layer_cls(**init_kwargs)
    output = keras.ops.convert_to_numpy(layer(input_data))
    assert output.shape == tuple(expected_output_shape), (output.shape, expected_output_shape)
    assert np.all(np.isfinite(output)), "the output holds NaN or inf"
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights

    # compute_output_shape equals the real output, with and without a known batch size.
    assert tuple(layer.compute_output_shape(input_data.shape)) == output.shape
    symbolic = (None, *input_data.shape[1:])
    assert tuple(layer.compute_output_shape(symbolic)) == (None, *output.shape[1:])

    # Config round trip: from_config(get_config()) gives the same config, and the same outputs
    # once given the same weights.
    config = layer.get_config()
    revived = layer_cls.from_config(config)
    assert as_json(revived.get_config()) == as_json(config)
    revived(input_data)
    revived.set_weights(layer.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(revived(input_data)), output,
                               rtol=1e-6, atol=1e-6)

    # `.keras` round trip of a tiny model holding the layer, in safe mode.
    inputs = keras.Input(input_data.shape[1:])
    model = keras.Model(inputs, layer(inputs))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "layer.keras"
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(input_data)), output,
                               rtol=1e-6, atol=1e-6)
    assert as_json(loaded.layers[-1].get_config()) == as_json(config)

    # One fit step: every trainable weight moves.
    if run_training_check and layer.trainable_weights:
        before = [keras.ops.convert_to_numpy(w).copy() for w in layer.trainable_weights]
        model.compile(keras.optimizers.SGD(0.1), "mse")
        target = random_input(output.shape, seed=1)
        model.fit(input_data, target, batch_size=len(input_data), epochs=1, verbose=0)
        for weight, old in zip(layer.trainable_weights, before):
            assert not np.array_equal(keras.ops.convert_to_numpy(weight), old), (
                f"{weight.path} did not change in a fit step"
            )
    return layer
