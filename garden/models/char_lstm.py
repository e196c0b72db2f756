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
