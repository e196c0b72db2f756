"""Character-level LSTM language model (Graves 2013; Karpathy's char-rnn): embedded characters,
stacked LSTMs (garden's `LSTMCell`), and the logits of the next character at every step (train
with `SparseCategoricalCrossentropy(from_logits=True)`; a softmax of them is the distribution).

The federated keyboard's out-of-vocabulary word model (Chen et al. 2019) is the same network:
one CIFG layer over padded words, `char_lstm(cifg=True, mask_zero=True, layers=1)`.

References:
    Graves, "Generating Sequences With Recurrent Neural Networks", 2013.
    https://arxiv.org/abs/1308.0850
    Chen et al., "Federated Learning Of Out-Of-Vocabulary Words", 2019.
    https://arxiv.org/abs/1903.10635
"""

import keras

from garden.layers.lstm import LSTMCell
from garden.models._registry import register_model
from garden.utils.checks import check_bool, check_int, check_rate


@register_model(
    paper="Hochreiter & Schmidhuber, Long Short-Term Memory (character LM after Graves 2013)",
    year=1997,
    arxiv="https://arxiv.org/abs/1308.0850",
    input_shape=(None,),
    task="language model",
    small_kwargs={"vocabulary_size": 7, "embedding_dim": 4, "units": 5, "layers": 2},
)
def char_lstm(vocabulary_size=103, embedding_dim=32, units=256, layers=2, dropout=0.0,
              use_peepholes=False, cifg=False, mask_zero=False, sequence_length=None,
              name="char_lstm"):
    """Character LSTM: the logits of the next character after every prefix.

    Args:
        vocabulary_size: int. Number of characters. Defaults to 103 (`garden.data.python_docs`).
        embedding_dim: int. Size of the character embedding. Defaults to 32.
        units: int. Units of each LSTM layer. Defaults to 256.
        layers: int. Number of stacked LSTM layers. Defaults to 2.
        dropout: float. Dropout between layers. Defaults to 0.
        use_peepholes: bool. `LSTMCell`'s peephole connections. Defaults to False.
        cifg: bool. `LSTMCell`'s coupled input-forget gate. Defaults to False.
        mask_zero: bool. Symbol 0 is padding: masked steps keep the LSTM state (the padded
            words of `garden.data.oov_words`). Defaults to False.
        sequence_length: int or None. Length of the input sequences; None for any.
        name: str. Model name.

    Example:
    >>> char_lstm(vocabulary_size=50, embedding_dim=8, units=16, layers=1).output_shape
    (None, None, 50)
    """
    check_int("vocabulary_size", vocabulary_size)
    check_int("embedding_dim", embedding_dim)
    check_int("layers", layers)
    check_rate("dropout", dropout)
    check_bool("use_peepholes", use_peepholes)
    check_bool("cifg", cifg)
    check_bool("mask_zero", mask_zero)
    if sequence_length is not None:
        check_int("sequence_length", sequence_length)
    inputs = keras.Input((sequence_length,), dtype="int32", name="characters")
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=mask_zero,
                               name="embedding")(inputs)
    for i in range(1, layers + 1):
        cell = LSTMCell(units, use_peepholes=use_peepholes, cifg=cifg)
        x = keras.layers.RNN(cell, return_sequences=True, name=f"lstm_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(vocabulary_size, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


class _CellStep(keras.layers.Layer):
    """An RNN cell's one step on symbolic tensors: `(x, h, c) -> (output, h, c)`."""

    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.supports_masking = True  # the mask is applied by `_step`

    def compute_mask(self, *args, **kwargs):
        return None

    def call(self, x, h, c):
        output, (h, c) = self.cell.call(x, [h, c])  # built; __call__ would warn of the mask
        return output, h, c

    def compute_output_spec(self, x, h, c):
        return tuple(keras.KerasTensor(h.shape, h.dtype) for _ in range(3))


def _step(model, token, state):
    """One position of `model`'s layers (an embedding, RNNs of `LSTMCell`s, dropout, dense
    layers) on symbolic `token` ids `(batch,)`; `state` lists each RNN's `[h, c]`. A padding
    token (0, with `mask_zero`) keeps the state and repeats the last output, as the RNN does."""
    x, new_state, keep = token, [], None
    for layer in model.layers[1:]:
        if isinstance(layer, keras.layers.Embedding) and layer.mask_zero:
            keep = keras.ops.expand_dims(keras.ops.equal(token, 0), -1)
        if isinstance(layer, keras.layers.RNN):
            previous = state[len(new_state)]
            x, *states = _CellStep(layer.cell)(x, *previous)
            if keep is not None:
                states = [keras.ops.where(keep, old, new) for old, new in zip(previous, states)]
                x = states[0]
            new_state.append(list(states))
        elif not isinstance(layer, keras.layers.Dropout):
            x = layer(x)
    return x, new_state


def _state_inputs(model):
    """Symbolic `[h_l, c_l]` inputs, one pair per RNN layer of `model`."""
    rnns = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]
    return [[keras.Input((rnn.cell.units,), name=f"{kind}_{i}") for kind in ("h", "c")]
            for i, rnn in enumerate(rnns, 1)]


def step_model(model):
    """The one-character step of a `char_lstm` model, sharing its weights: what a keyboard
    runs on a phone (and what `garden.export.tflite` converts: TFLite has no builtin op for
    Keras 3's recurrent loop).

    Inputs: the model's token input (one id per example, `(batch,)`) and the state `h_1, c_1,
    ...` (each `(batch, units)`, zeros at the start). Outputs: the logits `(batch,
    vocabulary_size)`, named as `model`'s output, and the new state `h_1_next, c_1_next, ...`.
    Feeding a sequence's ids one by one gives the logits of `model` at each position.

    Example:
    >>> model = char_lstm(vocabulary_size=8, embedding_dim=4, units=6, layers=1)
    >>> step_model(model).output_names
    ['logits', 'h_1_next', 'c_1_next']
    """
    token = keras.Input((), dtype=model.inputs[0].dtype, name=model.inputs[0].name)
    state = _state_inputs(model)
    logits, new_state = _step(model, token, state)
    outputs = [logits] + [
        keras.layers.Identity(name=f"{tensor.name}_next")(new)
        for old, new_pair in zip(state, new_state) for tensor, new in zip(old, new_pair)]
    return keras.Model([token, *(t for pair in state for t in pair)], outputs,
                       name=f"{model.name}_step")


def unrolled_model(model):
    """A `char_lstm` model of fixed `sequence_length` with the recurrence unrolled into one
    step per position, sharing its weights: the whole-sequence model TFLite converts with
    builtin ops. Same input and output as `model`."""
    length = model.inputs[0].shape[1]
    if length is None:
        raise ValueError(f"{model.name} takes sequences of any length: build it with "
                         "sequence_length=N to unroll it.")
    tokens = keras.Input((length,), dtype=model.inputs[0].dtype, name=model.inputs[0].name)
    zero = keras.ops.zeros_like(keras.ops.cast(tokens[:, :1], "float32"))  # (batch, 1)
    state = [[keras.ops.tile(zero, (1, layer.cell.units))] * 2 for layer in model.layers
             if isinstance(layer, keras.layers.RNN)]
    logits = []
    for position in range(length):
        x, state = _step(model, tokens[:, position], state)
        logits.append(x)
    outputs = keras.layers.Identity(name=f"{model.output_names[0]}_sequence")(
        keras.ops.stack(logits, axis=1))
    return keras.Model(tokens, outputs, name=f"{model.name}_unrolled")
