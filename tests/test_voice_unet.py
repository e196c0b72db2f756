"""The singing-voice U-Net, its STFT front end, the procedural mixtures and BSS Eval scores."""

import numpy as np
import pytest

from garden import models
from garden.data import audio
from garden.metrics import separation_scores


def _conv(k, cin, cout):
    return k * k * cin * cout + cout


def test_voice_unet_has_the_papers_layers():
    model = models.voice_unet()
    assert model.output_shape == (None, 512, 128, 1)
    channels = [16, 32, 64, 128, 256, 512]
    encoder = sum(_conv(5, cin, cout) + 4 * cout for cin, cout in zip([1] + channels, channels))
    # Decoder: 512 -> 256, then each input is the previous output concatenated with the skip.
    ins = [512, 512, 256, 128, 64, 32]
    outs = [256, 128, 64, 32, 16]
    decoder = sum(_conv(5, cin, cout) + 4 * cout for cin, cout in zip(ins, outs))
    assert model.count_params() == encoder + decoder + _conv(5, 32, 1)
    dropouts = [layer.name for layer in model.layers if "dropout" in layer.name]
    assert dropouts == ["dec1_dropout", "dec2_dropout", "dec3_dropout"]


def test_output_is_the_masked_input():
    model = models.voice_unet(filters=2, input_shape=(64, 64, 1))
    x = np.random.default_rng(0).random((2, 64, 64, 1), np.float32)
    out = np.asarray(model(x))
    assert np.all(out >= 0) and np.all(out <= x + 1e-7)


def test_stft_round_trip_reconstructs_the_procedural_audio():
    mixtures, _, _ = audio.generate_mixtures(2, seconds=3.0)
    magnitude, phase = audio.stft(mixtures)
    assert tuple(magnitude.shape) == (2, 3 * 8192 // 768 + 1, 513)
    rebuilt = np.asarray(audio.istft(magnitude, phase, mixtures.shape[-1]))
    assert np.max(np.abs(rebuilt - mixtures)) < 1e-4


def test_patches_are_512_by_128_and_invert():
    mixture, _, _ = audio.generate_mixtures(1)
    magnitude = np.asarray(audio.stft(mixture[0])[0])
    assert magnitude.shape == (128, 513)
    patches = audio.to_patches(magnitude)
    assert patches.shape == (1, 512, 128, 1)
    np.testing.assert_array_equal(audio.from_patches(patches, 128)[:, :-1], magnitude[:, :-1])


def test_mixtures_are_seeded_sums_of_their_stems():
    a = audio.generate_mixtures(2, seconds=2.0, seed=3)
    b = audio.generate_mixtures(2, seconds=2.0, seed=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    mixtures, vocals, accompaniments = a
    np.testing.assert_allclose(mixtures, vocals + accompaniments, atol=1e-6)
    assert np.abs(mixtures).max() <= 0.9 + 1e-6 and np.std(vocals) > 0.05
    assert not np.array_equal(a[1], audio.generate_mixtures(2, seconds=2.0, seed=4)[1])


def test_separation_scores_reward_the_true_stems_over_the_mixture():
    mixture, vocal, accompaniment = (x[0] for x in audio.generate_mixtures(1, seconds=1.0))
    references = np.stack([vocal, accompaniment])
    noisy = references + 0.01 * np.random.default_rng(0).normal(size=references.shape)
    scores = separation_scores(references, noisy, mixture)
    assert scores["sdr_0"] > 20 and scores["nsdr_0"] > 15 and scores["nsdr_1"] > 15
    same = separation_scores(references, np.stack([mixture, mixture]), mixture)
    assert same["nsdr_0"] == pytest.approx(0, abs=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda: audio.stft(np.zeros(4096), window=1023), "window=1023.*even number"),
    (lambda: audio.stft(np.zeros(4096), hop=2048), "hop=2048"),
    (lambda: models.voice_unet(input_shape=(500, 128, 1)), r"input_shape=\(500, 128, 1\)"),
    (lambda: separation_scores(np.zeros((2, 9)), np.zeros((1, 9)), np.zeros(9)), "estimates"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_mixtures_dataset_gives_normalised_patch_pairs():
    from garden import data

    x, y = next(iter(data.load("mixtures", "test", count=1, batch_size=1)))
    assert x.shape == y.shape == (1, 512, 128, 1)
    assert float(np.max(x)) == pytest.approx(1.0)
    assert 0 < float(np.mean(y)) < float(np.mean(x))  # one stem of the mixture


def test_separate_with_a_perfect_mask_recovers_the_vocal():
    import keras

    from garden.recipes.procedures.voice_separation import separate

    mixture, vocal, _ = (x[0] for x in audio.generate_mixtures(1, seconds=1.0))
    patches, targets, _ = audio.magnitude_patches(mixture[None], vocal[None])

    class Oracle(keras.Model):  # the ideal ratio mask of this mixture
        def predict(self, x, verbose=0):
            return targets

    estimate, rest = separate(Oracle(), mixture)
    scores = separation_scores(np.stack([vocal, mixture - vocal]), np.stack([estimate, rest]),
                               mixture)
    assert scores["nsdr_0"] > 5 and scores["nsdr_1"] > 5


def test_the_default_input_is_the_audio_pipelines_patch():
    from garden.data import audio

    assert models.get_entry("voice_unet").input_shape == (*audio.PATCH, 1)
