"""FocalLoss against the paper's formula, Keras' cross-entropies and Keras' focal losses."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from garden.losses import FocalLoss, MarginLoss
from garden.metrics import PSNR, SSIM

rng = np.random.default_rng(0)
LOGITS = rng.normal(0, 2, (6, 4)).astype("float32")
ONE_HOT = np.eye(4, dtype="float32")[rng.integers(0, 4, 6)]
BINARY = rng.integers(0, 2, (6, 4)).astype("float32")


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("from_logits", [True, False])
def test_gamma_zero_is_cross_entropy(from_logits):
    probs = softmax(LOGITS)
    preds = LOGITS if from_logits else probs
    categorical = FocalLoss(gamma=0.0, from_logits=from_logits)(ONE_HOT, preds)
    reference = keras.losses.CategoricalCrossentropy(from_logits=from_logits)(ONE_HOT, preds)
    np.testing.assert_allclose(categorical, reference, rtol=1e-6)

    labels = ONE_HOT.argmax(-1)
    sparse = FocalLoss(gamma=0.0, mode="sparse_categorical", from_logits=from_logits)
    reference = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    np.testing.assert_allclose(sparse(labels, preds), reference(labels, preds), rtol=1e-6)

    preds = LOGITS if from_logits else sigmoid(LOGITS)
    binary = FocalLoss(gamma=0.0, mode="binary", from_logits=from_logits)(BINARY, preds)
    reference = keras.losses.BinaryCrossentropy(from_logits=from_logits)(BINARY, preds)
    np.testing.assert_allclose(binary, reference, rtol=1e-5)


def test_binary_matches_the_paper_on_hand_values():
    # FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t); alpha weights positives, 1 - alpha negatives.
    loss = FocalLoss(gamma=2.0, alpha=0.25, mode="binary", reduction=None)
    values = loss(np.array([[1.0], [0.0]]), np.array([[0.9], [0.3]]))
    expected = [0.25 * 0.1**2 * -math.log(0.9), 0.75 * 0.3**2 * -math.log(0.7)]
    np.testing.assert_allclose(values, expected, rtol=1e-6)


def test_well_classified_examples_lose_100x_at_gamma_2():
    # Section 3.2: with gamma = 2, p_t = 0.9 has 100x lower loss than cross-entropy, and
    # p_t ~ 0.968 about 1000x lower.
    for p_t, ratio in ((0.9, 100.0), (0.968, 1 / 0.032**2)):
        focal = FocalLoss(gamma=2.0, mode="binary")([[1.0]], [[p_t]])
        assert -math.log(p_t) / float(focal) == pytest.approx(ratio, rel=1e-4)


def test_categorical_matches_the_formula_with_class_weights():
    alpha = [0.1, 0.2, 0.3, 0.4]
    loss = FocalLoss(gamma=1.5, alpha=alpha, from_logits=True, reduction=None)
    p_t = (softmax(LOGITS) * ONE_HOT).sum(-1)
    alpha_t = (np.array(alpha) * ONE_HOT).sum(-1)
    expected = -alpha_t * (1 - p_t) ** 1.5 * np.log(p_t)
    np.testing.assert_allclose(loss(ONE_HOT, LOGITS), expected, rtol=1e-5)


def test_equals_keras_focal_losses_where_they_agree():
    ours = FocalLoss(gamma=2.0, alpha=0.25, mode="binary", from_logits=True)
    theirs = keras.losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, alpha=0.25, gamma=2.0, from_logits=True
    )
    np.testing.assert_allclose(ours(BINARY, LOGITS), theirs(BINARY, LOGITS), rtol=1e-5)
    ours = FocalLoss(gamma=2.0, alpha=[0.25] * 4, from_logits=True)
    theirs = keras.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=True)
    np.testing.assert_allclose(ours(ONE_HOT, LOGITS), theirs(ONE_HOT, LOGITS), rtol=1e-5)


@pytest.mark.parametrize("mode", ["binary", "categorical"])
def test_confident_predictions_stay_finite_and_exact(mode):
    # Logits of +-1e4: probabilities round to exactly 0 and 1 in float32.
    logits = tf.constant([[1e4, -1e4], [-1e4, 1e4]])
    labels = np.array([[1.0, 0.0], [1.0, 0.0]], "float32")  # first right, second wrong
    loss = FocalLoss(gamma=2.0, mode=mode, from_logits=True, reduction=None)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        values = loss(labels, logits)
    grads = tape.gradient(values, logits)
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(grads))
    # Right: no loss. Wrong: (1 - 0)^2 * -log(exp(-2e4)) per wrong unit.
    wrong = 2e4 if mode == "categorical" else 1e4
    np.testing.assert_allclose(values, [0.0, wrong], rtol=1e-6)


def test_trains_and_survives_model_save(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    loss = FocalLoss(gamma=2.0, alpha=[1.0, 2.0, 0.5], mode="sparse_categorical", from_logits=True)
    model.compile("adam", loss)
    x, y = rng.normal(size=(16, 4)).astype("float32"), rng.integers(0, 3, 16)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert loaded.loss.get_config() == loss.get_config()
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mode": "softmax"}, "mode='softmax'"),
        ({"gamma": -1.0}, "gamma=-1.0"),
        ({"mode": "binary", "alpha": [0.5]}, r"alpha=\[0.5\]"),
        ({"alpha": 0.25}, "alpha=0.25 is not allowed with mode='categorical'"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FocalLoss(**kwargs)


def test_integer_labels_in_categorical_mode_name_the_sparse_mode():
    logits = np.zeros((4, 3), "float32")
    with pytest.raises(ValueError, match=r"mode='categorical'.*shape \(4,\).*"
                       r"FocalLoss\(mode='sparse_categorical'\)"):
        FocalLoss(from_logits=True)(np.array([0, 1, 2, 1]), logits)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    model.compile("sgd", FocalLoss(from_logits=True))
    with pytest.raises(ValueError, match=r"shape \(None, 1\)"):  # as fit passes them
        model.fit(np.zeros((4, 2)), np.array([[0], [1], [2], [1]]), verbose=0)


def test_alpha_must_match_the_classes():
    with pytest.raises(ValueError, match="alpha has 2 weights but the predictions have 4"):
        FocalLoss(alpha=[1.0, 1.0])(ONE_HOT, LOGITS)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: MarginLoss(m_plus=1.5), "m_plus=1.5"),
        (lambda: MarginLoss(m_minus=-0.1), "m_minus=-0.1"),
        (lambda: MarginLoss(down_weight="half"), "down_weight='half'"),
        (lambda: PSNR(max_val=0), "max_val=0"),
        (lambda: SSIM(max_val=-1.0), "max_val=-1.0"),
    ],
)
def test_margin_loss_and_image_metrics_name_bad_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()

