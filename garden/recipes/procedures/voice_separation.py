"""Singing-voice separation of procedural mixtures: BSS Eval scores over the unprocessed mixture,
separated audio as WAV files and a spectrogram figure.

Reference:
    Jansson et al. 2017, https://ismir2017.smcnus.org/wp-content/uploads/2017/10/171_Paper.pdf
"""

import numpy as np

from garden.data import audio
from garden.metrics import separation_scores
from garden.recipes.procedures import procedure
from garden.recipes.runner import fit
from garden.utils.figures import pyplot, save_figure
from garden.utils.files import atomic_path


def separate(model, mixture):
    """`(vocal, accompaniment)` audio estimates of one mixture: the model's vocal magnitude with
    the mixture's phase, and the mixture minus it."""
    magnitude, phase = (np.asarray(t) for t in audio.stft(mixture))
    patches, _, peaks = audio.magnitude_patches(mixture[None], mixture[None])
    estimate = np.asarray(model.predict(patches, verbose=0)) * peaks[:, None, None, None]
    vocal_magnitude = audio.from_patches(estimate, magnitude.shape[0])
    vocal = np.asarray(audio.istft(vocal_magnitude, phase, len(mixture)))
    return vocal, mixture - vocal


def write_wav(path, signal, sample_rate=audio.SAMPLE_RATE):
    """16-bit PCM WAV, written atomically."""
    import scipy.io.wavfile

    pcm = (np.clip(signal, -1, 1) * 32767).astype(np.int16)
    with atomic_path(path) as tmp:
        scipy.io.wavfile.write(tmp, sample_rate, pcm)


def spectrogram_figure(signals, path):
    """Log-magnitude spectrograms of `{title: audio}`, one panel each."""
    plt = pyplot()
    fig, axes = plt.subplots(len(signals), 1, figsize=(7, 2.0 * len(signals)), squeeze=False,
                             sharex=True)
    for ax, (title, signal) in zip(axes[:, 0], signals.items()):
        magnitude = np.asarray(audio.stft(signal)[0]).T
        ax.imshow(20 * np.log10(magnitude + 1e-4), origin="lower", aspect="auto",
                  cmap="magma", vmin=-60, vmax=40)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("bin")
    axes[-1, 0].set_xlabel("frame")
    return save_figure(fig, path)


@procedure(test_mixtures=4)
def voice_procedure(run):
    """Recipe procedure: `fit` (L1 on vocal magnitude patches), then SDR/SIR/SAR of the vocal
    and the accompaniment on `test_mixtures` test mixtures and their improvement over the
    mixture (mir_eval); writes `mixture.wav`, `vocal.wav`, `accompaniment.wav` and
    `spectrograms.png` of the first."""
    scores = fit(run)
    mixtures, vocals, accompaniments = audio.generate_mixtures(
        run.options["test_mixtures"], seed=audio.SPLIT_SEEDS["test"])
    per_mixture = []
    for i, mixture in enumerate(mixtures):
        vocal, accompaniment = separate(run.model, mixture)
        per_mixture.append(separation_scores(np.stack([vocals[i], accompaniments[i]]),
                                             np.stack([vocal, accompaniment]), mixture))
        if i == 0:
            for name, signal in (("mixture", mixture), ("vocal", vocal),
                                 ("accompaniment", accompaniment)):
                write_wav(run.run_dir / f"{name}.wav", signal)
            spectrogram_figure({"mixture": mixture, "true vocal": vocals[0],
                                "separated vocal": vocal}, run.run_dir / "spectrograms.png")
    for key in per_mixture[0]:
        source = ("vocal", "accompaniment")[int(key[-1])]
        scores[f"{key[:-2]}_{source}"] = float(np.mean([s[key] for s in per_mixture]))
    return scores
