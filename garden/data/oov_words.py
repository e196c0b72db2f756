"""Word lists for the federated keyboard's out-of-vocabulary words, from `wordfreq`'s English
frequencies (shipped with the package, no download): a shared vocabulary (the most frequent
words), a pool of out-of-vocabulary words (the next ranks) and clients that each type words of
the pool by frequency, as characters for a character language model.

Reference:
    Chen et al., "Federated Learning Of Out-Of-Vocabulary Words", 2019.
    https://arxiv.org/abs/1903.10635
"""

import numpy as np

from garden.data._registry import register_dataset
from garden.utils import check_int

PAD, BOS, EOS = 0, 1, 2
LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Symbols: padding, begin of word, end of word, a-z.
ALPHABET_SIZE = 3 + len(LETTERS)


def word_lists(vocabulary_size=2000, pool_size=5000, max_length=12):
    """`(vocabulary, pool, frequencies)`: wordfreq's English words of a-z only, up to
    `max_length - 1` letters, by frequency; the first `vocabulary_size` are the shared
    vocabulary, the next `pool_size` the out-of-vocabulary pool, with their frequencies."""
    from wordfreq import top_n_list, word_frequency

    check_int("vocabulary_size", vocabulary_size)
    check_int("pool_size", pool_size)
    needed = vocabulary_size + pool_size
    words = [w for w in top_n_list("en", 4 * needed)
             if w.isascii() and w.isalpha() and w.islower() and 2 <= len(w) < max_length]
    if len(words) < needed:
        raise ValueError(f"vocabulary_size + pool_size = {needed} is more than the "
                         f"{len(words)} words wordfreq lists")
    pool = words[vocabulary_size:needed]
    return words[:vocabulary_size], pool, np.array([word_frequency(w, "en") for w in pool])


def client_words(clients=20, words_per_client=300, vocabulary_size=2000, pool_size=5000,
                 max_length=12, seed=0):
    """Each client's typed out-of-vocabulary words: `words_per_client` draws by frequency from
    a random half of the pool (a client's own interests, so clients differ)."""
    _, pool, freq = word_lists(vocabulary_size, pool_size, max_length)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(check_int("clients", clients)):
        own = rng.permutation(len(pool))[:len(pool) // 2]
        p = freq[own] / freq[own].sum()
        out.append([pool[i] for i in rng.choice(own, check_int("words_per_client",
                                                              words_per_client), p=p)])
    return out


def encode(words, max_length=12):
    """`(inputs, targets)` int32 arrays `(n, max_length)`: BOS then the letters, and the
    letters then EOS, zero-padded."""
    x = np.zeros((len(words), max_length), np.int32)
    y = np.zeros((len(words), max_length), np.int32)
    for row, word in enumerate(words):
        codes = [3 + LETTERS.index(c) for c in word]
        x[row, :len(codes) + 1] = [BOS, *codes]
        y[row, :len(codes) + 1] = [*codes, EOS]
    return x, y


def decode(codes):
    """The word of a row of symbols, up to its first EOS or padding."""
    letters = []
    for code in codes:
        if code < 3:
            break
        letters.append(LETTERS[code - 3])
    return "".join(letters)


@register_dataset("oov_words", task="language-model", alphabet_size=ALPHABET_SIZE)
def oov_words(split="train", clients=20, words_per_client=300, vocabulary_size=2000,
              pool_size=5000, max_length=12, seed=0):
    """The pooled clients' words ("train") or every pool word once ("test") as a
    `tf.data.Dataset` of `(inputs, targets)` character sequences (see `encode`)."""
    import tensorflow as tf

    if split == "train":
        words = [w for client in client_words(clients, words_per_client, vocabulary_size,
                                              pool_size, max_length, seed) for w in client]
    elif split == "test":
        words = word_lists(vocabulary_size, pool_size, max_length)[1]
    else:
        raise ValueError(f"split={split!r} is not allowed: use 'train' or 'test'.")
    return tf.data.Dataset.from_tensor_slices(encode(words, max_length))
