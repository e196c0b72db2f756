"""Sampling text from a character-level language model."""

import os

import numpy as np

from garden.utils.checks import check_int, check_number


def sample_text(model, prompt, temperature=1.0, length=200, *, vocabulary, seed=0):
    """Continues `prompt` by `length` characters drawn from `model`'s next-character logits.

    Each step draws from softmax(logits / temperature) of the last position; `temperature=0`
    takes the most likely character. A Keras model is fed the whole text so far at each step; a
    step file (`garden.export.tflite` of a recurrent model) runs with LiteRT one character at a
    time, carrying its state, as a phone keyboard runs it: both give the same text.

    Args:
        model: a model from ids (batch, time) to logits (batch, time, vocabulary), e.g.
            `garden.models.char_lstm`, or the path of its step `.tflite` file.
        prompt: str. The start of the text (at least one character of `vocabulary`).
        temperature: float >= 0. Lower is more conservative. Defaults to 1.
        length: int. Characters to add. Defaults to 200.
        vocabulary: str. The model's characters, id i being `vocabulary[i]`.
        seed: int. Seed of the draws. Defaults to 0.

    Returns:
        str: the prompt and its continuation.
    """
    from garden.data.text import char_encode

    temperature = check_number("temperature", temperature, minimum=0)
    length = check_int("length", length, minimum=0)
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"prompt={prompt!r} is not allowed: use a non-empty string.")
    ids = list(char_encode(prompt, vocabulary)[0])
    rng = np.random.default_rng(seed)
    if isinstance(model, (str, os.PathLike)):
        from garden.export import StepFile

        step = StepFile(model)
        for token in ids[:-1]:
            step(token)

        def next_logits():  # the state holds every character before the last
            return step(ids[-1])
    else:

        def next_logits():
            return model.predict_on_batch(np.array([ids], "int32"))[0, -1]

    for _ in range(length):
        logits = np.asarray(next_logits()).astype("float64")
        if temperature == 0:
            ids.append(int(np.argmax(logits)))
            continue
        scaled = logits / temperature
        p = np.exp(scaled - scaled.max())
        ids.append(int(rng.choice(len(p), p=p / p.sum())))
    return "".join(vocabulary[i] for i in ids)
