"""garden.layers.LSTMCell: equal to keras.layers.LSTM given its weights (TensorFlow here, JAX in
a subprocess) and, with peepholes and CIFG, to a NumPy transcription of the equations."""

import textwrap

import keras
import numpy as np
import pytest

from garden.layers import LSTMCell
from tests.helpers import run_script

KERAS_PARITY = textwrap.dedent(
    """
    import keras, numpy as np
    from garden.layers import LSTMCell
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 7, 5)).astype("float32")
    reference = keras.layers.LSTM(6, return_sequences=True, return_state=True)
    ours = keras.layers.RNN(LSTMCell(6), return_sequences=True, return_state=True)
    expected = reference(x)
    ours(x)
    assert [w.shape for w in ours.weights] == [w.shape for w in reference.weights]
    ours.set_weights(reference.get_weights())
    for a, b in zip(ours(x), expected, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    print("ok", keras.backend.backend())
    """
)


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_equals_keras_lstm(backend):
    if backend == "tensorflow":
        exec(KERAS_PARITY, {})
        return
    done = run_script(KERAS_PARITY, backend=backend, timeout=300)
    assert done.returncode == 0 and "ok jax" in done.stdout, done.stderr[-3000:]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_lstm(x, kernel, recurrent, bias, peephole, cifg):
    """The docstring's equations, step by step, in NumPy."""
    units = recurrent.shape[0]
    h = c = np.zeros((x.shape[0], units))
    outputs = []
    for t in range(x.shape[1]):
        pre = x[:, t] @ kernel + h @ recurrent + bias
        if cifg:
            a_i, a_z, a_o = np.split(pre, 3, axis=-1)
            p_i, p_o = peephole
        else:
            a_i, a_f, a_z, a_o = np.split(pre, 4, axis=-1)
            p_i, p_f, p_o = peephole
        i = _sigmoid(a_i + p_i * c)
        f = 1 - i if cifg else _sigmoid(a_f + p_f * c)
        c = f * c + i * np.tanh(a_z)
        o = _sigmoid(a_o + p_o * c)
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


@pytest.mark.parametrize("cifg", [False, True])
def test_peepholes_equal_the_equations(cifg):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 4)).astype("float32")
    rnn = keras.layers.RNN(LSTMCell(5, use_peepholes=True, cifg=cifg), return_sequences=True,
                           return_state=True)
    rnn(x)
    gates = 3 if cifg else 4
    assert [tuple(w.shape) for w in rnn.weights] == [(4, 5 * gates), (5, 5 * gates),
                                                       (5 * gates,), (gates - 1, 5)]
    weights = [rng.normal(size=w.shape).astype("float32") * 0.5 for w in rnn.weights]
    rnn.set_weights(weights)
    for got, want in zip(rnn(x), numpy_lstm(x, *weights, cifg=cifg), strict=True):
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-5)


def test_unit_forget_bias_and_bad_arguments():
    cell = LSTMCell(3)
    cell.build((None, 2))
    np.testing.assert_array_equal(np.asarray(cell.bias), [0] * 3 + [1] * 3 + [0] * 6)
    assert cell.multiply_adds((None, 2)) == (2 + 3) * 12 + 9
    with pytest.raises(ValueError, match="units=0"):
        LSTMCell(0)
    with pytest.raises(ValueError, match="cifg='yes'"):
        LSTMCell(3, cifg="yes")
