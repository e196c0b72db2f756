"""Loss landscapes on a tiny model: filter normalisation, the surface against model.evaluate,
PCA trajectories, surface statistics, plots."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from garden.tools import landscape

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@pytest.fixture(scope="module")
def tiny():
    """A small CNN with every kernel layout the normaliser handles, and 48 labelled images."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="depthwise")(x)
    x = keras.layers.SeparableConv2D(4, 3, strides=2, activation="relu", name="separable")(x)
    x = keras.layers.Conv2DTranspose(3, 2, strides=2, name="transposed")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(5, name="dense")(x))
    rng = np.random.default_rng(0)
    x = rng.random((48, 8, 8, 2), dtype=np.float32)
    y = rng.integers(0, 5, 48).astype("int32")
    model.compile(optimizer="sgd", loss=LOSS)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)  # moves BN statistics off their init
    return model, x, y


def _filter_norms(array, keep):
    axes = tuple(a for a in range(array.ndim) if a not in keep)
    return np.sqrt(np.sum(array**2, axis=axes))


def test_directions_are_filter_normalised(tiny):
    model, _, _ = tiny
    direction = landscape.filter_normalized_direction(model, seed=3)
    layouts = {  # Keras kernel layouts: which axes index the filters
        "conv/kernel": (3,), "depthwise/kernel": (2, 3), "separable/depthwise_kernel": (2, 3),
        "separable/pointwise_kernel": (3,), "transposed/kernel": (2,), "dense/kernel": (1,),
    }
    checked = 0
    for variable, d in zip(model.trainable_variables, direction, strict=True):
        w = np.array(variable)
        assert d.shape == w.shape
        if w.ndim <= 1:  # biases, BN gamma and beta
            assert not d.any(), variable.path
            continue
        keep = layouts[variable.path]
        np.testing.assert_allclose(_filter_norms(d, keep), _filter_norms(w, keep), rtol=1e-5)
        assert not np.allclose(d, w)
        checked += 1
    assert checked == 6


def test_centre_and_points_of_the_surface_are_the_model_loss(tiny):
    model, x, y = tiny
    surface = landscape.loss_surface(model, LOSS, (x, y), span=(-1, 1), steps=3, seed=4)
    assert surface.losses.shape == (3, 3)
    assert surface.losses[1, 1] == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)

    # The point (alpha, beta) = (-1, 1), checked by moving the weights and evaluating.
    first, second = (landscape.filter_normalized_direction(model, seed) for seed in (4, 5))
    original = model.get_weights()
    for variable, d1, d2 in zip(model.trainable_variables, first, second, strict=True):
        variable.assign(np.array(variable) - d1 + d2)
    moved = model.evaluate(x, y, verbose=0)
    model.set_weights(original)
    assert surface.losses[0, 2] == pytest.approx(moved, rel=1e-5)
    assert surface.losses[0, 2] != pytest.approx(surface.losses[2, 0], rel=1e-3)


def test_batched_datasets_give_the_same_curve(tiny):
    model, x, y = tiny
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(10)  # uneven last batch
    from_arrays = landscape.loss_curve(model, LOSS, (x, y), steps=4, seed=2)
    from_dataset = landscape.loss_curve(model, LOSS, dataset, steps=4, seed=2)
    np.testing.assert_allclose(from_dataset.losses, from_arrays.losses, rtol=1e-5)
    assert from_arrays.losses[0] != pytest.approx(from_arrays.losses[-1], rel=1e-3)


def test_interpolation_ends_are_the_two_models(tiny):
    model, x, y = tiny
    other = keras.models.clone_model(model)
    other.set_weights(model.get_weights())
    for variable in other.trainable_variables:
        variable.assign(np.array(variable) * 1.5)
    other.compile(loss=LOSS)
    curve = landscape.interpolate(model, LOSS, (x, y), model, other, span=(0, 1), steps=3)
    np.testing.assert_allclose(
        curve.losses[[0, 2]],
        [model.evaluate(x, y, verbose=0), other.evaluate(x, y, verbose=0)],
        rtol=1e-5,
    )


def test_trajectory_recovers_a_planar_path(tiny, tmp_path):
    model, x, y = tiny
    final = landscape.trainable_weights(model)
    u, v = (landscape.filter_normalized_direction(model, seed) for seed in (6, 7))
    offsets = np.array([[2.0, 1.0], [1.2, 0.9], [0.5, -0.3], [0.1, 0.05], [0.0, 0.0]])
    checkpoints = [[w + a * du + b * dv for w, du, dv in zip(final, u, v, strict=True)]
                   for a, b in offsets]
    files = []
    for k, weights in enumerate(checkpoints):  # the same path as weight files
        for variable, value in zip(model.trainable_variables, weights, strict=True):
            variable.assign(value)
        files.append(str(tmp_path / f"epoch{k}.weights.h5"))
        model.save_weights(files[-1])
    state = model.get_weights()

    result = landscape.trajectory(model, LOSS, (x, y), files, steps=5)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), state, strict=True))
    # The path lies in a plane, so two components explain all of it ...
    assert result.explained_variance.sum() == pytest.approx(1.0, abs=1e-6)
    # ... and the projection keeps the distances between checkpoints.
    plane = np.stack([np.concatenate([d.ravel() for d in direction]) for direction in (u, v)])
    distances = lambda p: np.linalg.norm(p[:, None] - p[None], axis=-1)  # noqa: E731
    np.testing.assert_allclose(distances(result.path), distances(offsets @ plane), rtol=1e-4)
    assert result.path[-1] == pytest.approx([0, 0], abs=1e-6)  # the final weights
    assert result.surface.losses.shape == (5, 5)
    s = result.surface
    assert s.alphas.min() <= result.path[:, 0].min() and s.alphas.max() >= result.path[:, 0].max()


def _analytic_surface(function, steps=41):
    alphas = betas = np.linspace(-1, 1, steps)
    a, b = np.meshgrid(alphas, betas, indexing="ij")
    return landscape.Surface(alphas, betas, function(a, b))


def test_surface_statistics_on_known_shapes():
    bowl = _analytic_surface(lambda a, b: 3 * a**2 + b**2 + 1)
    # Mean of 3a^2 + b^2 + 1 on the circle of radius r: 2 r^2 + 1.
    assert bowl.loss_at_radius(0.5) == pytest.approx(1.5, rel=1e-2)
    assert bowl.nonconvex_fraction(0.8) == 0.0
    saddle = _analytic_surface(lambda a, b: a**2 - b**2)
    assert saddle.nonconvex_fraction(0.8) == 1.0
    ridge = _analytic_surface(lambda a, b: a**2 - 0.01 * b**2)  # |min/max| = 1%: convex enough
    assert ridge.nonconvex_fraction(0.8) == 0.0


def test_plots_are_written(tiny, tmp_path):
    surface = _analytic_surface(lambda a, b: a**2 + np.sin(3 * b) + 1, steps=11)
    curve = landscape.Curve(surface.alphas, surface.losses[:, 5])
    paths = [
        landscape.plot_curves([curve, curve], tmp_path / "curve.png", labels=["a", "b"]),
        landscape.plot_contour(surface, tmp_path / "contour.png",
                               trajectory_path=np.array([[0.5, 0.5], [0.0, 0.0]])),
        landscape.plot_surface_3d(surface, tmp_path / "surface.png", zmax=2),
    ]
    for path in paths:
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path)) == ["contour.png", "curve.png", "surface.png"]
