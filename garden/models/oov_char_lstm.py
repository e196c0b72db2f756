"""A character-level LSTM language model for words, as the federated keyboard's
out-of-vocabulary word model.

Reference:
    Chen et al., "Federated Learning Of Out-Of-Vocabulary Words", 2019.
    https://arxiv.org/abs/1903.10635
"""

import keras

from garden.models._registry import register_model
from garden.utils import check_int


@register_model(
    paper="Chen et al., Federated Learning Of Out-Of-Vocabulary Words",
    year=2019,
    arxiv="https://arxiv.org/abs/1903.10635",
    input_shape=(12,),
    task="language-model",
    small_kwargs={"alphabet_size": 8, "max_length": 5, "embedding_dim": 4, "units": 6},
)
def oov_char_lstm(alphabet_size=29, max_length=12, embedding_dim=32, units=128,
                  name="oov_char_lstm"):
    """Character LSTM (Chen et al. 2019): symbol embeddings (0 is padding, masked), one LSTM
    layer and per-step logits over the next symbol.

    Args:
        alphabet_size: int. Symbols including padding (`garden.data.oov_words`: 29).
        max_length: int. Symbols per word sequence.
        embedding_dim: int. Embedding width. Defaults to 32.
        units: int. LSTM units. Defaults to 128.
        name: str. Model name.
    """
    for key, value in (("alphabet_size", alphabet_size), ("max_length", max_length),
                       ("embedding_dim", embedding_dim), ("units", units)):
        check_int(key, value, minimum=2 if key == "alphabet_size" else 1)
    inputs = keras.Input((max_length,), dtype="int32", name="symbols")
    x = keras.layers.Embedding(alphabet_size, embedding_dim, mask_zero=True,
                               name="embedding")(inputs)
    x = keras.layers.LSTM(units, return_sequences=True, name="lstm")(x)
    outputs = keras.layers.Dense(alphabet_size, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)
