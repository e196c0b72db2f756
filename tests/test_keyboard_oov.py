"""The federated keyboard's OOV data and scores: wordfreq's lists split into a vocabulary and
a disjoint pool, clients typing pool words only, the character encoding round trip, precision
and recall by hand, and words sampled from a model."""

import numpy as np

from garden import models
from garden.data import oov_words
from garden.recipes.procedures.keyboard_oov import oov_scores, sample_words


def test_vocabulary_pool_and_clients():
    vocabulary, pool, freq = oov_words.word_lists(200, 500, max_length=8)
    assert (len(vocabulary), len(pool), len(freq)) == (200, 500, 500)
    assert not set(vocabulary) & set(pool)
    assert vocabulary[:3] == ["the", "to", "and"]
    assert all(w.isalpha() and 2 <= len(w) < 8 for w in pool)
    assert np.all(freq > 0) and freq[0] >= freq[-1]
    clients = oov_words.client_words(4, 50, 200, 500, max_length=8, seed=1)
    assert [len(c) for c in clients] == [50] * 4
    assert set().union(*clients) <= set(pool)
    assert clients == oov_words.client_words(4, 50, 200, 500, max_length=8, seed=1)
    assert clients[0] != clients[1]


def test_encoding_round_trip():
    x, y = oov_words.encode(["cat", "zebra"], max_length=7)
    np.testing.assert_array_equal(x[0], [1, 5, 3, 22, 0, 0, 0])
    np.testing.assert_array_equal(y[0], [5, 3, 22, 2, 0, 0, 0])
    assert [oov_words.decode(row) for row in y] == ["cat", "zebra"]
    assert oov_words.decode(x[1][1:]) == "zebra"


def test_scores_by_hand():
    pool = ["apple", "berry", "cherry", "date"]
    freq = np.array([0.4, 0.3, 0.2, 0.1])
    samples = ["the", "apple", "apple", "xqz", "cherry", ""]
    scores = oov_scores(samples, ["the"], pool, freq, top=2)
    # OOV samples: apple, xqz, cherry; two are pool words. Top 2: apple, berry; apple found.
    assert scores == {"sampled_oov_words": 3.0, "precision": 2 / 3, "recall_at_top2": 0.5,
                      "pool_recall": 0.5}


def test_sampled_words_from_the_model():
    model = models.build("char_lstm", vocabulary_size=oov_words.ALPHABET_SIZE, sequence_length=6,
                         layers=1, units=8, cifg=True, mask_zero=True)
    words = sample_words(model, 20, 6, seed=0)
    assert len(words) == 20
    assert all(set(w) <= set(oov_words.LETTERS) and len(w) <= 5 for w in words)
    assert words == sample_words(model, 20, 6, seed=0)
