"""The character LSTM, its corpus (CPython's bundled help topics) and `sample_text`."""

import keras
import numpy as np
import pytest

from garden import data, models, tools


def test_corpus_and_windows():
    text = data.python_docs()
    assert len(text) > 400_000
    ids, vocabulary = data.char_encode(text)
    assert len(vocabulary) == len(set(text)) and "".join(vocabulary[i] for i in ids[:50]) == text[:50]
    inputs, targets = data.char_windows(ids[:1000], 100)
    assert inputs.shape == targets.shape == (9, 100)
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        data.char_encode("abc", vocabulary="ab")


def test_char_lstm_shapes_and_parameters():
    model = models.char_lstm(vocabulary_size=10, embedding_dim=4, units=6, layers=2)
    # embedding 10*4; LSTM (4 + 6 + 1) * 24 and (6 + 6 + 1) * 24; logits 6*10 + 10.
    assert model.count_params() == 40 + 264 + 312 + 70
    assert model.output_shape == (None, None, 10)
    with pytest.raises(ValueError, match="layers=0"):
        models.char_lstm(layers=0)


def _constant_model(vocabulary_size, favourite):
    """Logits that always favour character `favourite` by 20 nats."""
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(vocabulary_size, 1, embeddings_initializer="zeros")(inputs)
    bias = np.full(vocabulary_size, -10.0)
    bias[favourite] = 10.0
    dense = keras.layers.Dense(vocabulary_size, kernel_initializer="zeros",
                               bias_initializer=keras.initializers.Constant(bias))
    return keras.Model(inputs, dense(embedded))


def test_sample_text():
    vocabulary = "abc"
    model = _constant_model(3, favourite=2)
    assert tools.sample_text(model, "ab", temperature=0, length=5, vocabulary=vocabulary) == "abccccc"
    # At a temperature of 1e3 the 20-nat preference is almost gone: other characters appear.
    hot = tools.sample_text(model, "a", temperature=1e3, length=60, vocabulary=vocabulary)
    assert len(hot) == 61 and set(hot[1:]) == set(vocabulary)
    with pytest.raises(ValueError, match="temperature=-1"):
        tools.sample_text(model, "a", temperature=-1, vocabulary=vocabulary)
    with pytest.raises(ValueError, match="prompt=''"):
        tools.sample_text(model, "", vocabulary=vocabulary)


def test_python_docs_dataset_holds_out_the_end():
    inputs, targets = next(iter(data.load("python_docs", "test", batch_size=4, shuffle=False,
                                          sequence_length=50)))
    assert inputs.shape == targets.shape == (4, 50)
    text = data.python_docs()
    _, vocabulary = data.char_encode(text)
    start = int(len(text) * 0.9)
    assert "".join(vocabulary[i] for i in inputs.numpy()[0]) == text[start: start + 50]


def test_masked_padding_is_left_out_of_the_loss_and_the_state():
    """`mask_zero=True` (the keyboard's padded words): padded steps add nothing to the loss and
    leave the LSTM state as it was, so a word's logits do not depend on the padding after it."""
    model = models.char_lstm(vocabulary_size=6, embedding_dim=3, units=4, layers=1, cifg=True,
                             mask_zero=True)
    rng = np.random.default_rng(0)
    model.set_weights([3 * rng.standard_normal(w.shape) for w in model.get_weights()])
    x = np.array([[1, 4, 5, 2, 0, 0], [1, 3, 2, 0, 0, 0]], np.int32)
    y = np.array([[4, 5, 2, 0, 0, 0], [3, 2, 0, 0, 0, 0]], np.int32)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(loss=loss)
    logits = model.predict_on_batch(x)
    per_step = keras.ops.convert_to_numpy(
        keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
    expected = per_step[x != 0].mean()
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-5)
    assert abs(per_step.mean() - expected) > 0.05  # the padded steps would change it
    longer = np.concatenate([x, np.zeros((2, 3), np.int32)], axis=1)
    np.testing.assert_allclose(model.predict_on_batch(longer)[:, :6][x != 0], logits[x != 0],
                               atol=1e-6)
