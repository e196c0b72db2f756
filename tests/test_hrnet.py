"""HRNetV2's segmentation head and arguments (its parameter counts and branch sizes are registry
figures, asserted in tests/test_paper_figures.py)."""

import numpy as np
import pytest

from garden import models
from tests.harness.models import run_model_test


def test_segmentation_head_gives_scores_at_the_input_size():
    model = models.get_entry("hrnet_w18_small").tiny(
        head="segmentation", classes=4, input_shape=(32, 32, 3), classifier_activation=None)
    assert model.output_shape == (None, 32, 32, 4)
    assert model.get_layer("seg_concat").output.shape[-1] == 4 + 8 + 8 + 8
    run_model_test(model, np.random.default_rng(0).random((2, 32, 32, 3), np.float32))


def test_bad_head_is_named():
    with pytest.raises(ValueError, match="head='detection'"):
        models.hrnet_w18_small(head="detection")


def test_width_sets_the_branch_widths_only():
    model = models.get_entry("hrnet_w18_small").tiny(
        width=3, head="segmentation", classes=4, input_shape=(32, 32, 3),
        classifier_activation=None)
    assert [model.get_layer(f"stage4_module1_fuse{i}_out").output.shape[-1]
            for i in range(4)] == [3, 6, 12, 24]
    assert model.get_layer("seg_concat").output.shape[-1] == 3 * 15
    assert model.get_layer("stem2_conv").output.shape[-1] == 64  # the stem is not scaled


def test_bad_width_is_named():
    with pytest.raises(ValueError, match="width=0"):
        models.hrnet_w18_small(width=0)


def trainable_parameters(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.slow
def test_width_turns_w18_into_w32_and_back():
    # The official W18 and W32 differ only in their branch widths (about 10 s per build).
    assert trainable_parameters(models.hrnet_w18(width=32, input_shape=(32, 32, 3))) == 41_232_680
    assert trainable_parameters(models.hrnet_w32(width=18, input_shape=(32, 32, 3))) == 21_299_004


def test_segmentation_recipe_compares_at_a_similar_parameter_budget():
    from garden import recipes
    from garden.recipes.build import build_model

    counts = {}
    for name, variant in recipes.variants(recipes.load_recipe("segmentation_shapes")):
        model = build_model(variant)
        assert model.output_shape == (None, 64, 64, 4)
        counts[name] = trainable_parameters(model)
    assert set(counts) == {"hrnet", "unet", "deeplab"}
    assert max(counts.values()) < 1.2 * min(counts.values())


def test_without_the_top_the_head_representation_is_pooled_as_asked():
    # The classification head's map before its classifier (2048 channels at 1/32 at full size,
    # timm's num_classes=0 features); pooling reduces it as keras.applications does.
    build = models.get_entry("hrnet_w18_small").tiny
    kwargs = dict(include_top=False, input_shape=(64, 64, 3))
    features = build(**kwargs)
    assert features.output_shape == (None, 2, 2, 16)
    x = np.random.default_rng(0).random((2, 64, 64, 3), np.float32)
    maps = np.asarray(features(x))
    for pooling, reduce in (("avg", np.mean), ("max", np.max)):
        pooled = build(**kwargs, pooling=pooling)
        pooled.set_weights(features.get_weights())
        np.testing.assert_allclose(pooled(x), reduce(maps, axis=(1, 2)), rtol=1e-5, atol=1e-6)
    # The segmentation head's representation: the four branches concatenated at 1/4.
    assert build(**kwargs, head="segmentation").output_shape == (None, 16, 16, 4 + 8 + 8 + 8)
