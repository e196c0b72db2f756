"""Audio for source separation: the STFT front end of the singing-voice U-Net and procedural
mixtures with known stems.

Reference:
    Jansson et al., "Singing Voice Separation with Deep U-Net Convolutional Networks", ISMIR
    2017. https://ismir2017.smcnus.org/wp-content/uploads/2017/10/171_Paper.pdf

The paper downsamples audio to 8,192 Hz and takes an STFT with a window of 1,024 samples and a
hop of 768; the magnitude spectrogram without its last (Nyquist) bin is cut into patches of
512 bins x 128 frames. The separated magnitude is turned back into audio with the mixture's
phase. The transforms use `keras.ops.stft`/`istft` (Hann window, centred frames), so they run on
every backend.

The mixtures: a "voice" of sung notes (a harmonic series with vibrato whose harmonics follow
vowel-like formant envelopes, with attack and release) over an accompaniment of chords (decaying
harmonic tones) and percussive noise bursts on the beat. Generation is deterministic in `seed`.
"""

import numpy as np
from keras import ops

from garden.data._registry import register_dataset
from garden.utils.checks import check_choice, check_int, check_number

SAMPLE_RATE = 8192
WINDOW = 1024
HOP = 768
PATCH = (512, 128)  # frequency bins x frames
# Formants (F1, F2, F3) in Hz of the vowels /a/, /i/, /u/, /e/, /o/ (adult male averages).
VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480),
          (570, 840, 2410))


def _check_frames(window, hop):
    check_int("window", window, minimum=2)
    if window % 2:
        raise ValueError(f"window={window!r} is not allowed: use an even number of samples "
                         "(1024 in the paper).")
    check_int("hop", hop)
    if hop > window:
        raise ValueError(f"hop={hop!r} is not allowed: use at most window={window} samples.")


def stft(audio, window=WINDOW, hop=HOP):
    """Magnitude and phase of the short-time Fourier transform of `audio` (Hann window,
    centred frames).

    Args:
        audio: tensor `(..., samples)`.
        window: int. Window (and FFT) length in samples, even. Defaults to 1024.
        hop: int. Hop in samples, at most `window`. Defaults to 768.

    Returns:
        `(magnitude, phase)`, each `(..., frames, window // 2 + 1)`.
    """
    _check_frames(window, hop)
    real, imag = ops.stft(ops.convert_to_tensor(audio, "float32"), window, hop, window,
                          window="hann", center=True)
    return ops.sqrt(real**2 + imag**2), ops.arctan2(imag, real)


def istft(magnitude, phase, length, window=WINDOW, hop=HOP):
    """Audio of `length` samples from a magnitude and a phase (e.g. the mixture's), the inverse
    of `stft`.

    Args:
        magnitude: tensor `(..., frames, window // 2 + 1)`.
        phase: tensor of the same shape, in radians.
        length: int. Number of samples of the output.
        window, hop: as for `stft`.
    """
    _check_frames(window, hop)
    magnitude = ops.convert_to_tensor(magnitude, "float32")
    phase = ops.convert_to_tensor(phase, "float32")
    return ops.istft((magnitude * ops.cos(phase), magnitude * ops.sin(phase)), window, hop,
                     window, length=length, window="hann", center=True)


def to_patches(magnitude, frames=PATCH[1]):
    """The network's inputs from a magnitude `(frames, bins)`: the bins without the last
    (Nyquist) one, as rows, cut into patches `(count, bins - 1, frames, 1)` (a partial last
    patch is zero-padded)."""
    spectrogram = np.asarray(magnitude)[:, :-1].T  # (bins, frames)
    count = -(-spectrogram.shape[1] // frames)
    padded = np.zeros((spectrogram.shape[0], count * frames), np.float32)
    padded[:, :spectrogram.shape[1]] = spectrogram
    return padded.reshape(spectrogram.shape[0], count, frames).transpose(1, 0, 2)[..., None]


def from_patches(patches, frames):
    """The inverse of `to_patches`: a magnitude `(frames, bins)` with a zero Nyquist bin."""
    patches = np.asarray(patches)[..., 0]  # (count, bins, patch frames)
    spectrogram = patches.transpose(1, 0, 2).reshape(patches.shape[1], -1)[:, :frames]
    return np.concatenate([spectrogram, np.zeros((1, frames), spectrogram.dtype)]).T


def _envelope(samples, attack, release):
    env = np.ones(samples)
    a, r = min(attack, samples // 2), min(release, samples // 2)
    env[:a] = np.linspace(0, 1, a, endpoint=False)
    env[samples - r:] = np.linspace(1, 0, r)
    return env


def _midi_hz(note):
    return 440.0 * 2 ** ((note - 69) / 12)


def _voice(samples, rng, sample_rate):
    out = np.zeros(samples)
    t = 0
    while t < samples:
        t += int(rng.uniform(0.05, 0.4) * sample_rate)  # a rest
        length = min(int(rng.uniform(0.3, 0.9) * sample_rate), samples - t)
        if length < sample_rate // 10:
            break
        time = np.arange(length) / sample_rate
        f0 = _midi_hz(rng.integers(55, 74)) * 2 ** (
            rng.uniform(0.3, 0.7) / 12 * np.sin(2 * np.pi * rng.uniform(4.5, 6.5) * time))
        phase = 2 * np.pi * np.cumsum(f0) / sample_rate
        formants = np.array(VOWELS[rng.integers(len(VOWELS))])
        note = np.zeros(length)
        for k in range(1, int(0.45 * sample_rate / f0.max()) + 1):
            gain = np.exp(-((k * f0[:, None] - formants) ** 2) / (2 * 120.0**2)).sum(1) + 0.05
            note += gain / k * np.sin(k * phase)
        out[t:t + length] += note * _envelope(length, 400, 800)
        t += length
    return out


def _accompaniment(samples, rng, sample_rate):
    out = np.zeros(samples)
    beat = int(rng.uniform(0.4, 0.6) * sample_rate)
    time = np.arange(4 * beat) / sample_rate
    for start in range(0, samples, 4 * beat):  # one chord per bar of four beats
        root = rng.integers(40, 52)
        chord = np.zeros(4 * beat)
        for note in (root, root + (3 if rng.random() < 0.5 else 4), root + 7):
            for k in range(1, 7):
                chord += np.sin(2 * np.pi * k * _midi_hz(note) * time) / k**2
        chord *= np.exp(-time / 1.5)
        end = min(start + 4 * beat, samples)
        out[start:end] += 0.4 * chord[:end - start]
    decay = np.exp(-np.arange(beat // 2) / (0.03 * sample_rate))
    for start in range(0, samples, beat):  # percussive noise on every beat
        burst = rng.normal(size=len(decay)) * decay
        end = min(start + len(decay), samples)
        out[start:end] += 0.5 * burst[:end - start]
    return out


PATCH_SECONDS = (PATCH[1] - 1) * HOP / SAMPLE_RATE  # 11.9 s: exactly 128 centred frames


def generate_mixtures(count, seconds=PATCH_SECONDS, sample_rate=SAMPLE_RATE, seed=0):
    """`count` mixtures with their stems: `(mixtures, vocals, accompaniments)`, each float32
    `(count, samples)`, with `mixture = vocal + accompaniment` exactly and peaks below 1.

    Args:
        count: int. Number of mixtures.
        seconds: float. Duration of each. Defaults to 11.9, one patch of 128 frames at the
            paper's hop.
        sample_rate: int. Defaults to 8192 (the paper's).
        seed: int. Random seed: the same arguments give the same audio.
    """
    check_int("count", count)
    check_number("seconds", seconds, minimum=0.5)
    check_int("sample_rate", sample_rate, minimum=2000)
    samples = int(seconds * sample_rate)
    vocals, accompaniments = np.zeros((2, count, samples), np.float32)
    for i in range(count):
        rng = np.random.default_rng([seed, i])
        voice = _voice(samples, rng, sample_rate)
        accompaniment = _accompaniment(samples, rng, sample_rate)
        voice *= rng.uniform(0.7, 1.3) * np.std(accompaniment) / max(np.std(voice), 1e-8)
        peak = np.abs(voice + accompaniment).max() / 0.9
        vocals[i], accompaniments[i] = voice / peak, accompaniment / peak
    return vocals + accompaniments, vocals, accompaniments


def magnitude_patches(mixtures, sources):
    """Network pairs from audio: mixture and source magnitude patches `(count, 512, 128, 1)`,
    both divided by the mixture patch's peak (the paper's normalisation to [0, 1]).

    Args:
        mixtures: array `(count, samples)`.
        sources: array `(count, samples)`, the target source of each mixture.

    Returns:
        `(inputs, targets, peaks)`, peaks `(count,)` to undo the scaling.
    """
    inputs, targets = [], []
    for mixture, source in zip(mixtures, sources):
        inputs.append(to_patches(np.asarray(stft(mixture)[0])))
        targets.append(to_patches(np.asarray(stft(source)[0])))
    inputs, targets = np.concatenate(inputs), np.concatenate(targets)
    peaks = np.maximum(inputs.max(axis=(1, 2, 3)), 1e-8)
    return inputs / peaks[:, None, None, None], targets / peaks[:, None, None, None], peaks


SPLIT_SEEDS = {"train": 0, "validation": 1, "test": 2}
SPLIT_COUNTS = {"train": 64, "validation": 8, "test": 8}
TARGETS = ("vocal", "accompaniment")


@register_dataset("mixtures", task="source-separation", sample_rate=SAMPLE_RATE,
                  patch=PATCH, targets=TARGETS)
def mixtures(split="train", count=None, target="vocal"):
    """Procedural mixtures as a `tf.data.Dataset` of `(mixture, target)` magnitude patches
    `(512, 128, 1)` (see `magnitude_patches`), one per 11.9 s mixture.

    Registered as `"mixtures"`: `garden.data.load("mixtures", "train", batch_size=8)`.

    Args:
        split: str. "train", "validation" or "test"; each has its own seed.
        count: int. Number of mixtures. Defaults to 64 for "train" and 8 otherwise.
        target: "vocal" or "accompaniment". Defaults to "vocal".
    """
    import tensorflow as tf

    check_choice("split", split, tuple(SPLIT_SEEDS))
    check_choice("target", target, TARGETS)
    audio = generate_mixtures(count or SPLIT_COUNTS[split], seed=SPLIT_SEEDS[split])
    inputs, targets, _ = magnitude_patches(audio[0], audio[1 + TARGETS.index(target)])
    return tf.data.Dataset.from_tensor_slices((inputs.astype(np.float32),
                                               targets.astype(np.float32)))
