"""Capsules against the paper: squash (Eq. 1), routing-by-agreement (Procedure 1) written
directly in NumPy, the margin loss (Eq. 4) on hand values, and CapsNet's sizes and loss."""

import keras
import numpy as np
import pytest

from garden import models
from garden.layers import CapsuleLayer, Length, Mask, PrimaryCapsules, squash
from garden.losses import MarginLoss, margin_loss
from tests.harness.layers import run_layer_test

RNG = np.random.default_rng(0)


def numpy_squash(s):
    norm = np.linalg.norm(s, axis=-1, keepdims=True)
    return norm**2 / (1 + norm**2) * s / norm


def numpy_routing(u, weights, iterations):
    """Procedure 1 of Sabour et al., one example at a time, loops over capsules as written."""
    n_in, n_out = weights.shape[:2]
    u_hat = np.zeros((n_in, n_out, weights.shape[3]))
    for i in range(n_in):
        for j in range(n_out):
            u_hat[i, j] = u[i] @ weights[i, j]  # W_ij u_i, with u_i as a row vector
    b = np.zeros((n_in, n_out))
    for r in range(iterations):
        c = np.exp(b) / np.exp(b).sum(axis=1, keepdims=True)  # softmax over parents j
        v = np.zeros((n_out, weights.shape[3]))
        for j in range(n_out):
            s_j = sum(c[i, j] * u_hat[i, j] for i in range(n_in))
            v[j] = numpy_squash(s_j)
        if r < iterations - 1:
            for i in range(n_in):
                for j in range(n_out):
                    b[i, j] += u_hat[i, j] @ v[j]
    return v


def test_squash_follows_eq_1():
    s = RNG.normal(size=(4, 5, 8)).astype(np.float32) * RNG.uniform(0.1, 3, size=(4, 5, 1))
    np.testing.assert_allclose(np.asarray(squash(s)), numpy_squash(s), rtol=1e-5, atol=1e-6)
    assert np.all(np.asarray(squash(np.zeros((1, 3)))) == 0)
    lengths = np.linalg.norm(np.asarray(squash(s)), axis=-1)
    assert np.all(lengths < 1)


@pytest.mark.parametrize("iterations", [1, 3])
def test_routing_equals_a_direct_numpy_procedure_1(iterations):
    layer = CapsuleLayer(capsules=4, dim=5, routings=iterations)
    u = RNG.normal(size=(2, 12, 3)).astype(np.float32)
    out = np.asarray(layer(u))
    kernel = layer.kernel.numpy()
    assert kernel.shape == (12, 4, 3, 5)
    for example in range(2):
        np.testing.assert_allclose(
            out[example], numpy_routing(u[example], kernel, iterations), rtol=1e-4, atol=1e-6
        )


def test_routing_iterations_change_the_output():
    u = RNG.normal(size=(2, 12, 3)).astype(np.float32)
    one, three = CapsuleLayer(4, 5, routings=1), CapsuleLayer(4, 5, routings=3)
    one(u), three(u)
    three.set_weights(one.get_weights())
    assert not np.allclose(np.asarray(one(u)), np.asarray(three(u)))


def test_primary_capsules_group_channels_into_squashed_vectors():
    layer = PrimaryCapsules(capsules=2, dim=3, kernel_size=3, strides=1)
    x = RNG.normal(size=(1, 4, 4, 5)).astype(np.float32)
    out = np.asarray(layer(x))
    conv = np.asarray(layer.conv(x))  # (1, 2, 2, 6): channels are (capsule type, component)
    assert out.shape == (1, 2 * 2 * 2, 3)
    np.testing.assert_allclose(out, numpy_squash(conv.reshape(1, -1, 3)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "layer_cls, init_kwargs, input_shape, output_shape, weights",
    [
        (PrimaryCapsules, dict(capsules=2, dim=3, kernel_size=3), (2, 7, 7, 4), (2, 18, 3), 2),
        (CapsuleLayer, dict(capsules=3, dim=4, routings=2), (2, 6, 5), (2, 3, 4), 1),
        (Length, {}, (2, 3, 4), (2, 3), 0),
        (Mask, {}, (2, 3, 4), (2, 12), 0),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
def test_layer_harness(layer_cls, init_kwargs, input_shape, output_shape, weights):
    run_layer_test(layer_cls, init_kwargs, input_shape=input_shape,
                   expected_output_shape=output_shape, expected_num_trainable_weights=weights)


def test_length_and_mask():
    capsules = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(Length()(capsules)),
                               np.linalg.norm(capsules, axis=-1), rtol=1e-5)
    by_label = np.asarray(Mask()(capsules, labels=np.array([2, 0]))).reshape(2, 3, 4)
    expected = np.zeros_like(capsules)
    expected[0, 2], expected[1, 0] = capsules[0, 2], capsules[1, 0]
    np.testing.assert_array_equal(by_label, expected)
    longest = np.linalg.norm(capsules, axis=-1).argmax(-1)
    by_length = np.asarray(Mask()(capsules)).reshape(2, 3, 4)
    for example, kept in enumerate(longest):
        np.testing.assert_array_equal(by_length[example, kept], capsules[example, kept])
        assert np.count_nonzero(np.abs(by_length[example]).sum(-1)) == 1


def test_margin_loss_on_hand_values():
    # Class 0 present with length 0.5: (0.9 - 0.5)^2 = 0.16. Class 1 absent with length 0.3:
    # 0.5 * (0.3 - 0.1)^2 = 0.02. Class 2 absent with length 0.05: 0.
    lengths = np.array([[0.5, 0.3, 0.05], [0.95, 0.1, 0.0]], np.float32)
    np.testing.assert_allclose(np.asarray(margin_loss(np.array([0, 0]), lengths)), [0.18, 0.0],
                               atol=1e-7)
    one_hot = np.array([[1, 0, 0], [1, 0, 0]], np.float32)
    np.testing.assert_allclose(np.asarray(margin_loss(one_hot, lengths)), [0.18, 0.0], atol=1e-7)
    assert float(MarginLoss()(np.array([0, 0]), lengths)) == pytest.approx(0.09)
    # Present class too short and absent classes too long at once, weighted by lambda = 0.5.
    assert float(margin_loss(np.array([1]), np.array([[1.0, 0.0]]))[0]) == pytest.approx(
        0.81 + 0.5 * 0.81
    )
    config = MarginLoss(m_plus=0.8).get_config()
    assert MarginLoss.from_config(config).m_plus == 0.8


@pytest.fixture(scope="module")
def paper_capsnet():
    return models.capsnet()


def test_capsnet_has_the_papers_sizes(paper_capsnet):
    model = paper_capsnet
    assert model.get_layer("conv1").output.shape == (None, 20, 20, 256)
    assert model.get_layer("primary_caps").output.shape == (None, 1152, 8)
    assert model.get_layer("digit_caps").output.shape == (None, 10, 16)
    assert model.get_layer("digit_caps").routings == 3
    assert model.get_layer("decoder").output.shape == (None, 28, 28, 1)


@pytest.fixture(scope="module")
def small_capsnet():
    keras.utils.set_random_seed(0)
    return models.build("capsnet", **models.get_entry("capsnet").small_kwargs)


def test_capsnet_loss_is_margin_plus_scaled_label_masked_reconstruction(small_capsnet):
    model = small_capsnet
    x = RNG.random((4, 20, 20, 1)).astype(np.float32)
    y = np.array([0, 1, 2, 1])
    lengths, capsules, _ = model(x)
    decoder = model.get_layer("decoder")
    masked = np.zeros_like(np.asarray(capsules))
    masked[np.arange(4), y] = np.asarray(capsules)[np.arange(4), y]
    reconstruction = np.asarray(decoder(masked.reshape(4, -1)))
    sse = ((reconstruction - x) ** 2).reshape(4, -1).sum(-1)
    expected = np.mean(np.asarray(margin_loss(y, lengths)) + 0.0005 * sse)
    model.compile(optimizer="adam", loss=MarginLoss())
    loss = model.compute_loss(x, y, model(x))
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_capsnet_fits_with_keras_fit_and_reports_accuracy(small_capsnet):
    model = small_capsnet
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=MarginLoss(), metrics=["accuracy"],
                  jit_compile=False)
    x = RNG.random((8, 20, 20, 1)).astype(np.float32)
    y = RNG.integers(0, 3, size=8)
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert all(np.any(b != w.numpy()) for b, w in zip(before, model.trainable_weights))


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="routings=0"):
        CapsuleLayer(10, routings=0)
    with pytest.raises(ValueError, match="input_shape"):
        models.capsnet(input_shape=(12, 12, 1))
