"""The generated datasets: shapes with masks, and RTS-distorted digits."""

import numpy as np
import pytest

from garden import data
from garden.data.distorted_digits import distort
from garden.data.shapes import CLASSES, generate_shapes


def test_shapes_are_deterministic_and_every_class_occurs():
    images, masks = generate_shapes(40, (32, 48), seed=3)
    again, _ = generate_shapes(40, (32, 48), seed=3)
    other, _ = generate_shapes(40, (32, 48), seed=4)
    np.testing.assert_array_equal(images, again)
    assert not np.array_equal(images, other)
    assert images.shape == (40, 32, 48, 3) and masks.shape == (40, 32, 48)
    assert images.min() >= 0 and images.max() <= 1
    assert set(np.unique(masks)) == set(range(len(CLASSES)))
    # Every image has at least one shape, and no shape fills it.
    per_image = (masks > 0).mean(axis=(1, 2))
    assert per_image.min() > 0 and per_image.max() < 0.9


def test_shapes_are_drawn_where_the_mask_says():
    # Without noise each shape is one flat colour: the pixels of a single-shape image that the
    # mask marks all have the same value, and differ from what it covers.
    images, masks = generate_shapes(20, (32, 32), max_shapes=1, noise=0.0, seed=1)
    for image, mask in zip(images, masks):
        inside = image[mask > 0]
        np.testing.assert_allclose(inside, np.broadcast_to(inside[0], inside.shape), atol=1e-6)
        assert np.abs(image[mask == 0] - inside[0]).mean() > 0.05


def test_shapes_load_as_batched_image_mask_pairs():
    train = data.load("shapes", "train", batch_size=8, count=16, image_size=(32, 32),
                      shuffle=False)
    test = data.load("shapes", "test", batch_size=8, count=16, image_size=(32, 32))
    images, masks = next(iter(train))
    assert images.shape == (8, 32, 32, 3) and masks.shape == (8, 32, 32)
    assert masks.dtype == "int32"
    assert not np.array_equal(next(iter(test))[0], images)  # the splits have their own images
    assert data.info("shapes")["num_classes"] == 4
    with pytest.raises(ValueError, match="split='val'"):
        data.load("shapes", "val")


def test_distortion_rotates_scales_and_translates_within_the_image():
    digits = np.zeros((50, 20, 20), np.float32)
    digits[:, 5:15, 8:12] = 1.0  # a bar of area 40
    out = distort(digits, (42, 42), seed=0)
    assert out.shape == (50, 42, 42)
    areas = out.sum(axis=(1, 2))
    assert np.all(areas > 40 * 0.7**2 * 0.9) and np.all(areas < 40 * 1.2**2 * 1.1)
    centres = np.array([np.argwhere(o > 0.5).mean(axis=0) for o in out])
    assert centres.std(axis=0).min() > 2  # translated, not always centred
    np.testing.assert_array_equal(out, distort(digits, (42, 42), seed=0))


def test_digits_rts_keeps_the_digits_labels(tmp_path):
    rts = data.load("digits_rts", "test", batch_size=1000, shuffle=False, root=tmp_path)
    plain = data.load("digits", "test", batch_size=1000, shuffle=False, root=tmp_path)
    (images, labels), (_, expected) = next(iter(rts)), next(iter(plain))
    assert images.shape == (len(expected), 42, 42, 1)
    np.testing.assert_array_equal(labels, expected)
