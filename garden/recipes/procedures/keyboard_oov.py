"""Federated learning of out-of-vocabulary words (Chen et al. 2019): a character LSTM trained
with FedAvg over clients who each type words outside the shared vocabulary, then words sampled
from the trained model and scored against the real out-of-vocabulary words.

Reference:
    Chen et al., "Federated Learning Of Out-Of-Vocabulary Words", 2019.
    https://arxiv.org/abs/1903.10635
"""

import keras
import numpy as np

from garden import federated
from garden.data import oov_words
from garden.recipes import build
from garden.recipes.procedures import procedure
from garden.utils import check_int, check_number


def sample_words(model, count, max_length, seed=0, temperature=1.0):
    """`count` words sampled from a character model one symbol at a time (from BOS to EOS or
    `max_length` symbols)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((count, max_length), np.int32)
    x[:, 0] = oov_words.BOS
    done = np.zeros(count, bool)
    for step in range(max_length - 1):
        logits = np.asarray(model.predict_on_batch(x))[:, step] / temperature
        logits[:, :oov_words.EOS] = -np.inf  # neither padding nor BOS as a next symbol
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        symbol = (p.cumsum(1) > rng.random((count, 1))).argmax(1)
        done |= symbol == oov_words.EOS
        x[:, step + 1] = np.where(done, 0, symbol)
    return [oov_words.decode(row[1:]) for row in x]


def oov_scores(samples, vocabulary, pool, frequencies, top):
    """Precision and recall of sampled words: of the distinct sampled words outside the
    vocabulary, the share that are real pool words (`precision`), and the share of the `top`
    most frequent pool words among the samples (`recall_at_top`)."""
    oov = {w for w in samples if w and w not in set(vocabulary)}
    pool_set = set(pool)
    frequent = {pool[i] for i in np.argsort(-frequencies, kind="stable")[:top]}
    return {"sampled_oov_words": float(len(oov)),
            "precision": len(oov & pool_set) / max(len(oov), 1),
            f"recall_at_top{top}": len(set(samples) & frequent) / top,
            "pool_recall": len(oov & pool_set) / len(pool_set)}


@procedure(clients=20, words_per_client=300, vocabulary_size=2000, pool_size=5000,
           clients_per_round=10, client_epochs=1, samples=2000, top=100, temperature=1.0)
def keyboard_oov(run):
    """`[train] epochs` rounds of FedAvg of the recipe's character model over `clients`
    clients of `garden.data.oov_words` (each typing `words_per_client` out-of-vocabulary words),
    `clients_per_round` per round; then `samples` words sampled from the model (at
    `temperature`), scored with
    `oov_scores` (precision, recall of the `top` most frequent pool words, share of the pool
    recovered), the same scores of the untrained model (`untrained_*`), and the final test
    loss on every pool word."""
    o = run.options
    max_length = run.recipe["model"]["sequence_length"]
    vocabulary, pool, freq = oov_words.word_lists(o["vocabulary_size"], o["pool_size"],
                                                  max_length)
    data = [oov_words.encode(words, max_length) for words in oov_words.client_words(
        o["clients"], o["words_per_client"], o["vocabulary_size"], o["pool_size"], max_length,
        run.seed)]
    train_cfg = run.recipe.get("train", {})
    process = federated.build_weighted_fed_avg(
        lambda: build.build_model(run.recipe),
        lambda: build.build_optimizer(train_cfg.get("optimizer", build.DEFAULT_OPTIMIZER)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        client_epochs=check_int("client_epochs", o["client_epochs"]),
        batch_size=run.recipe["data"].get("batch_size", 32),
        clients_per_round=o["clients_per_round"] or None, seed=run.seed)
    state = process.set_model_weights(process.initialize(),
                                      federated.ModelWeights.from_model(run.model))
    count, top = check_int("samples", o["samples"]), check_int("top", o["top"])
    temperature = check_number("temperature", o["temperature"], minimum=0, inclusive=False)
    untrained = oov_scores(sample_words(run.model, count, max_length, run.seed, temperature), vocabulary,
                           pool, freq, top)
    for round_num in range(1, run.epochs + 1):
        state, metrics = process.next(state, data)
        print(f"round {round_num}: client loss {metrics['loss']:.3f}")
    state.model.assign_weights_to(run.model)
    samples = sample_words(run.model, count, max_length, run.seed, temperature)
    (run.run_dir / "samples.txt").write_text("\n".join(samples) + "\n")
    scores = oov_scores(samples, vocabulary, pool, freq, top)
    scores.update({f"untrained_{k}": v for k, v in untrained.items()})
    scores["test_loss"] = float(run.model.evaluate(run.test_data, verbose=0, return_dict=True)
                                ["loss"])
    return scores
