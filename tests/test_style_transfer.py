"""Content crops of the photographs and the feed-forward style-transfer procedure, on tiny
configurations (the bundled recipe's numbers are in docs/papers/perceptual-losses.md)."""

import keras
import numpy as np
import pytest
from keras import ops

from garden import data, recipes
from garden.losses import total_variation
from garden.losses.perceptual import STYLE_LAYERS
from garden.recipes.procedures import style_transfer
from garden.recipes.procedures.style_transfer import StyleTransferLosses


@pytest.fixture
def tiny_loss_network(monkeypatch):
    """The procedure's loss network replaced by four 4-filter convolutions (with VGG-16's
    layer names, a pooling between two): what is checked here holds for any loss network."""
    def network():
        x = inputs = keras.Input((None, None, 3))
        for index, name in enumerate(STYLE_LAYERS):
            if index:
                x = keras.layers.MaxPooling2D()(x)
            x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name=name)(x)
        return keras.Model(inputs, x, name="tiny_loss_network")

    monkeypatch.setattr(style_transfer, "vgg16_loss_network", network)


def test_photo_crops_cut_every_held_out_photograph_on_a_grid():
    # At a shorter side of 64: camera and moon 64x64 (4 crops of 32), chelsea 64x96 (6),
    # coins 64x81 (4).
    pairs = list(data.load("photo_crops", "test", batch_size=100, shuffle=False, crop_size=32,
                           stride=32, short_side=64).as_numpy_iterator())[0]
    assert pairs[0].shape == (18, 32, 32, 3) and np.array_equal(*pairs)
    assert 0 <= pairs[0].min() and pairs[0].max() <= 1
    left = data.load("photo_crops", "test", batch_size=100, crop_size=32, stride=32,
                     short_side=64, exclude=["chelsea"])
    assert sum(int(x.shape[0]) for x, _ in left) == 12


def test_photo_crops_bad_short_side_is_named():
    with pytest.raises(ValueError, match="short_side=16"):
        data.photo_crops.photo_crops(crop_size=32, short_side=16)


def test_objective_is_the_weighted_sum_of_its_parts(tiny_loss_network):
    rng = np.random.default_rng(0)
    content, output = (rng.random((2, 16, 16, 3), np.float32) for _ in range(2))
    losses = StyleTransferLosses(rng.random((24, 24, 3), np.float32), 2.0, 3e-4, 0.5)
    content_loss, style_loss = (float(v) for v in losses.parts(content, output))
    tv = float(ops.mean(total_variation(output)))
    assert float(losses(content, output)) == pytest.approx(
        2.0 * content_loss + 3e-4 * style_loss + 0.5 * tv, rel=1e-5)


def test_style_transfer_procedure_compares_with_the_initial_weights(tiny_recipe, tmp_path,
                                                                  tiny_loss_network):
    # With a learning rate of 0 the trained network is the untrained one: equal scores.
    recipe = tiny_recipe(
        model={"name": "transform_net", "filters": 4, "residual_blocks": 1,
               "input_shape": [16, 16, 3]},
        data={"name": "photo_crops", "crop_size": 16, "stride": 48, "short_side": 32,
              "exclude": ["immunohistochemistry"], "batch_size": 8},
        train={"epochs": 1, "optimizer": {"class_name": "SGD", "config": {"learning_rate": 0.0}},
               "loss": "mse", "metrics": [],
               "procedure": "garden.recipes.procedures.style_transfer:style_transfer_procedure",
               "options": {"style_size": 32, "evaluate_size": 32, "style_weight": 1e-4}},
    )
    (result,) = recipes.train(recipe, runs_dir=tmp_path)["results"]
    for loss in ("style", "content"):
        assert result[f"heldout_{loss}_loss_trained"] == pytest.approx(
            result[f"heldout_{loss}_loss_untrained"], rel=1e-5)
    assert result["heldout_content_loss_untrained"] > 0
    assert result["heldout_style_loss_photograph"] > 0
    assert (tmp_path / "tiny" / "default" / "seed0" / "stylised.png").exists()


def test_evaluate_size_not_a_multiple_of_4_is_named(tiny_recipe, tmp_path):
    recipe = tiny_recipe(
        model={"name": "transform_net", "filters": 4, "residual_blocks": 1,
               "input_shape": [16, 16, 3]},
        data={"name": "photo_crops", "crop_size": 16, "stride": 48, "short_side": 32},
        train={"procedure": "garden.recipes.procedures.style_transfer:style_transfer_procedure",
               "loss": "mse", "metrics": [], "options": {"evaluate_size": 30}})
    with pytest.raises(ValueError, match="evaluate_size=30"):
        recipes.train(recipe, runs_dir=tmp_path)
