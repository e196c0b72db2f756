"""Seeded tf.data transforms: what each does to the data, and that it depends only on the seed
and the example's position."""

import math

import numpy as np
import pytest
import tensorflow as tf

from garden.data import transforms

# 60 images of 4x4x2 with distinct pixels; classes 0, 1, 2 with 30, 20 and 10 examples.
IMAGES = np.arange(60 * 32, dtype="float32").reshape(60, 4, 4, 2)
LABELS = np.array([0] * 30 + [1] * 20 + [2] * 10, dtype="int64")


def dataset(images=IMAGES, labels=LABELS):
    return tf.data.Dataset.from_tensor_slices((images, labels))


def arrays(data):
    images, labels = zip(*data.batch(1000).as_numpy_iterator())
    return np.concatenate(images), np.concatenate(labels)


def test_random_labels_rates():
    labels = np.zeros(4000, "int64")
    data = dataset(np.zeros((4000, 1, 1, 1), "float32"), labels)
    for rate in (0.0, 0.5, 1.0):
        _, noisy = arrays(transforms.random_labels(rate, num_classes=10, seed=1)(data))
        # A replaced label keeps its value with probability 1/10.
        assert np.mean(noisy != 0) == pytest.approx(rate * 0.9, abs=0.025)
        assert set(np.unique(noisy)) <= set(range(10))
    _, all_random = arrays(transforms.random_labels(1.0, num_classes=10, seed=1)(data))
    assert np.bincount(all_random, minlength=10) == pytest.approx([400] * 10, abs=60)


def test_random_labels_depend_only_on_seed_and_index():
    corrupt = transforms.random_labels(0.5, num_classes=3, seed=7)
    images, first = arrays(corrupt(dataset()))
    _, again = arrays(corrupt(dataset()))
    _, prefix = arrays(corrupt(dataset().take(10)))
    _, other_seed = arrays(transforms.random_labels(0.5, num_classes=3, seed=8)(dataset()))
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first[:10], prefix)
    assert np.any(first != other_seed)
    np.testing.assert_array_equal(images, IMAGES)


def test_shuffled_pixels_is_one_permutation_for_all_images():
    images, labels = arrays(transforms.shuffled_pixels(seed=3)(dataset()))
    pixels = images.reshape(60, 16, 2)
    # Image i holds the values 32 i .. 32 i + 31: subtracting 32 i must give the same layout.
    layout = pixels - 32 * np.arange(60)[:, None, None]
    assert np.all(layout == layout[0])
    # Channels move together, positions are permuted, and the permutation is not the identity.
    position = layout[0, :, 0] / 2
    assert sorted(position) == list(range(16)) and list(position) != list(range(16))
    np.testing.assert_array_equal(layout[0, :, 1], layout[0, :, 0] + 1)
    np.testing.assert_array_equal(labels, LABELS)
    again, _ = arrays(transforms.shuffled_pixels(seed=3)(dataset()))
    np.testing.assert_array_equal(images, again)


def test_random_pixels_permutes_each_image_differently():
    images, _ = arrays(transforms.random_pixels(seed=3)(dataset()))
    pixels, original = images.reshape(60, 16, 2), IMAGES.reshape(60, 16, 2)
    for shuffled, image in zip(pixels, original):
        np.testing.assert_array_equal(np.sort(shuffled, axis=0), image)
    orders = {tuple(np.argsort(p[:, 0])) for p in pixels}
    assert len(orders) == 60
    again, _ = arrays(transforms.random_pixels(seed=3)(dataset()))
    np.testing.assert_array_equal(images, again)


def test_gaussian_matches_the_datasets_mean_and_variance():
    rng = np.random.default_rng(0)
    images = np.stack([rng.uniform(0, 1, (300, 8, 8)), rng.uniform(2, 5, (300, 8, 8))], -1)
    data = dataset(images.astype("float32"), np.zeros(300, "int64"))
    noise, _ = arrays(transforms.gaussian(seed=2)(data))
    for channel in range(2):
        assert noise[..., channel].mean() == pytest.approx(images[..., channel].mean(), abs=0.01)
        assert noise[..., channel].std() == pytest.approx(images[..., channel].std(), rel=0.01)
    # Gaussian, not uniform: the excess kurtosis of the noise is ~0 (uniform: -1.2).
    z = (noise[..., 0] - noise[..., 0].mean()) / noise[..., 0].std()
    assert abs(np.mean(z**4) - 3) < 0.1
    again, _ = arrays(transforms.gaussian(seed=2)(data))
    np.testing.assert_array_equal(noise, again)


def rows(images):
    return {tuple(image.ravel()) for image in images}


def test_step_imbalance_keeps_a_fraction_of_the_minority_classes():
    images, labels = arrays(transforms.step_imbalance([0, 2], ratio=4, seed=1)(dataset()))
    assert list(np.bincount(labels)) == [math.ceil(30 / 4), 20, math.ceil(10 / 4)]
    assert rows(images) <= rows(IMAGES)
    other, _ = arrays(transforms.step_imbalance([0, 2], ratio=4, seed=2)(dataset()))
    assert rows(other) != rows(images)


def test_oversample_balances_up_to_the_largest_class():
    images, labels = arrays(transforms.oversample(seed=1)(dataset()))
    assert list(np.bincount(labels)) == [30, 30, 30]
    assert rows(images) == rows(IMAGES)
    # Class 1 has 20 examples for 30 places: 10 of them appear twice.
    copies = [int(np.sum(np.all(images == image, axis=(1, 2, 3)))) for image in IMAGES[30:50]]
    assert sorted(copies) == [1] * 10 + [2] * 10


def test_undersample_balances_down_to_the_smallest_class():
    images, labels = arrays(transforms.undersample(seed=1)(dataset()))
    assert list(np.bincount(labels)) == [10, 10, 10]
    assert rows(images) <= rows(IMAGES)
    np.testing.assert_array_equal(arrays(transforms.undersample(seed=1)(dataset()))[0], images)


def test_mixup_mixes_images_and_labels_alike_with_beta_weights():
    # Image k of a batch is the one-hot vector e_k and its label is k: mixed images must equal
    # mixed labels, and an example mixed with another holds lam at its own position.
    batch = 8
    data = tf.data.Dataset.from_tensor_slices(
        (np.tile(np.eye(batch, dtype="float32"), (500, 1)), np.tile(np.arange(batch), 500))
    ).batch(batch)
    mixed = list(transforms.mixup(alpha=0.4, num_classes=batch, seed=5)(data).as_numpy_iterator())
    lams = []
    for images, labels in mixed:
        np.testing.assert_allclose(images, labels, atol=1e-6)
        np.testing.assert_allclose(labels.sum(1), 1.0, atol=1e-6)
        mixed_rows = np.flatnonzero(np.diag(images) < 1 - 1e-6)
        if len(mixed_rows):
            lams.append(images[mixed_rows[0], mixed_rows[0]])
    lams = np.array(lams)
    # Beta(0.4, 0.4): mean 1/2, variance 1 / (4 (2 * 0.4 + 1)).
    assert lams.mean() == pytest.approx(0.5, abs=0.04)
    assert lams.var() == pytest.approx(1 / 7.2, abs=0.02)
    again = list(transforms.mixup(alpha=0.4, num_classes=batch, seed=5)(data).as_numpy_iterator())
    np.testing.assert_array_equal(np.stack([m[0] for m in mixed]), np.stack([m[0] for m in again]))


def shifted(image, dy, dx):
    """`image` moved down `dy` and right `dx` pixels, zeros where it uncovers the border."""
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def test_augmented_copies_shift_each_copy_of_each_example():
    images, labels = arrays(transforms.augmented_copies(3, max_shift=1, seed=4)(dataset()))
    assert len(images) == 3 * 60
    # All examples in order, then all again: copy c of example i is at c * 60 + i.
    np.testing.assert_array_equal(labels, np.tile(LABELS, 3))
    moves = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    found = []
    for index, image in enumerate(images):
        original = IMAGES[index % 60]
        found.append([m for m in moves if np.array_equal(image, shifted(original, *m))])
        assert len(found[-1]) == 1, f"copy {index} is not a shift of its example by <= 1 pixel"
    assert len({tuple(m[0]) for m in found}) == 9
    again, _ = arrays(transforms.augmented_copies(3, max_shift=1, seed=4)(dataset()))
    other, _ = arrays(transforms.augmented_copies(3, max_shift=1, seed=5)(dataset()))
    np.testing.assert_array_equal(images, again)
    assert np.any(images != other)
    plain, _ = arrays(transforms.augmented_copies(2, max_shift=0)(dataset()))
    np.testing.assert_array_equal(plain, np.concatenate([IMAGES, IMAGES]))


def test_augmented_copies_need_a_shift_below_half_the_image():
    with pytest.raises(ValueError, match="max_shift=2 is not allowed for 4x4 images"):
        transforms.augmented_copies(2, max_shift=2)(dataset())


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: transforms.random_labels(1.5, 10), "rate=1.5"),
        (lambda: transforms.random_labels(0.5, 1), "num_classes=1"),
        (lambda: transforms.mixup(0.0, 10), "alpha=0.0"),
        (lambda: transforms.step_imbalance([3], ratio=0.5), "ratio=0.5"),
        (lambda: transforms.oversample(seed="a"), "seed='a'"),
        (lambda: transforms.augmented_copies(0), "copies=0"),
        (lambda: transforms.augmented_copies(2, max_shift=-1), "max_shift=-1"),
        (lambda: transforms.augmented_copies(2, max_shift=1.5), "max_shift=1.5"),
    ],
)
def test_bad_arguments_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_pixel_corruptions_need_a_fixed_image_shape():
    flat = tf.data.Dataset.from_tensor_slices((np.zeros((4, 16), "float32"), np.zeros(4)))
    with pytest.raises(ValueError, match="fixed"):
        transforms.shuffled_pixels()(flat)
