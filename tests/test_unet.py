"""U-Net's padding modes, label crop and weight map against NumPy (its Figure 1 sizes are
registry figures)."""

import numpy as np
import pytest

from garden import data, models
from garden.models.unet import valid_output_size
from tests.harness.models import run_model_test


def test_same_padding_keeps_the_size_and_runs():
    model = models.unet(input_shape=(32, 48, 3), classes=4, padding="same", filters=4, depth=4)
    assert model.output_shape == (None, 32, 48, 4)
    run_model_test(model, np.random.default_rng(0).random((2, 32, 48, 3), np.float32),
                   round_trip=False)


def test_valid_output_size_follows_the_padding_arithmetic():
    assert valid_output_size(572, 5) == 388
    assert valid_output_size(570, 5) is None
    small = models.unet(input_shape=(44, 44, 1), filters=2, depth=3)
    assert small.output_shape[1] == valid_output_size(44, 3) == 4


@pytest.mark.parametrize("kwargs, match", [
    (dict(input_shape=(100, 100, 1), padding="same"), r"input_shape=\(100, 100, 1\).*divisible "
                                                      r"by 2\^\(depth - 1\) = 16"),
    (dict(input_shape=(570, 570, 1)), r"input_shape=\(570, 570, 1\).*even size"),
    (dict(input_shape=(None, None, 1)), "fixed height and width"),
    (dict(padding="full"), r"padding='full'"),
    (dict(depth=1), "depth=1"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.unet(**kwargs)


def test_crop_to_output_takes_the_centre():
    labels = np.arange(2 * 10 * 12).reshape(2, 10, 12)
    np.testing.assert_array_equal(data.crop_to_output(labels, (6, 4)), labels[:, 2:8, 4:8])
    images = np.zeros((3, 572, 572, 1))
    assert data.crop_to_output(images, (388, 388)).shape == (3, 388, 388, 1)
    with pytest.raises(ValueError, match=r"output_size=\(5, 4\)"):
        data.crop_to_output(labels, (5, 4))


def _reference_weight_map(instances, w0, sigma):
    """Eq. 2 by brute force: distances from every pixel to every object pixel."""
    rows, cols = np.indices(instances.shape)
    pixels = np.stack([rows.ravel(), cols.ravel()], axis=1).astype(float)
    per_object = []
    for label in (1, 2):
        points = pixels[instances.ravel() == label]
        d = np.sqrt(((pixels[:, None, :] - points[None]) ** 2).sum(-1)).min(axis=1)
        per_object.append(d.reshape(instances.shape))
    d1, d2 = np.minimum(*per_object), np.maximum(*per_object)
    foreground = instances > 0
    wc = np.where(foreground, instances.size / (2 * foreground.sum()),
                  instances.size / (2 * (~foreground).sum()))
    return wc + np.where(foreground, 0, w0 * np.exp(-(d1 + d2) ** 2 / (2 * sigma**2)))


def test_weight_map_of_two_objects_matches_numpy():
    instances = np.zeros((20, 24), np.int32)
    instances[3:12, 2:10] = 1
    instances[5:15, 12:20] = 2  # two pixels of background between them
    weights = data.unet_weight_map(instances)
    np.testing.assert_allclose(weights, _reference_weight_map(instances, 10, 5), rtol=1e-5)
    # The gap between the objects weighs the most: about w_c + w0 * exp(-9 / 50).
    assert weights[8, 11] == weights.max() > 8


def test_weight_map_rejects_a_float_mask():
    with pytest.raises(ValueError, match="integer mask"):
        data.unet_weight_map(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="sigma=0"):
        data.unet_weight_map(np.zeros((4, 4), int), sigma=0)


def test_instances_keep_touching_objects_of_two_classes_apart():
    from garden.recipes.procedures.unet_segmentation import instances_of

    masks = np.zeros((1, 6, 8), np.int32)
    masks[0, 1:4, 1:4] = 1
    masks[0, 1:4, 4:7] = 2  # touches the first
    masks[0, 5, 7] = 1  # a second object of class 1
    instances = instances_of(masks)[0]
    assert sorted(np.unique(instances)) == [0, 1, 2, 3]
    assert len(np.unique(instances[1:4, 1:4])) == len(np.unique(instances[1:4, 4:7])) == 1
