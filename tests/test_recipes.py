"""Every recipe in training/ is valid: it loads, and each variant names a registered model with
arguments its builder accepts, an optimizer, schedule, callbacks, loss, transforms and procedure
that exist. Checked without building models or data, so a typo fails here, not minutes into
`garden train`."""

from pathlib import Path

import pytest

from garden import models, training

RECIPES = sorted((Path(__file__).resolve().parents[1] / "training").glob("*.toml"))


def test_recipes_are_found():
    assert len(RECIPES) >= 20


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_recipe_variants_name_real_components(path):
    for variant, recipe in training.variants(training.load_recipe(path)):
        where = f"{path.name} [{variant}]"
        arguments = {k for k in recipe["model"] if k != "name"}
        accepted = set(models.get_entry(recipe["model"]["name"]).arguments)
        assert arguments <= accepted, f"{where}: {sorted(arguments - accepted)}"
        data, train = recipe["data"], recipe.get("train", {})
        if data["name"] == "digits" and "image_size" in data:
            assert tuple(recipe["model"]["input_shape"][:2]) == tuple(data["image_size"]), where
            assert recipe["model"]["input_shape"][2] == data.get("channels", 3), where
        training.build_optimizer(train.get("optimizer", "adam"))
        training.build_callbacks(train.get("callbacks", []))
        for key in ("transforms", "batch_transforms", "test_transforms"):
            training._transforms(data.get(key, ()), key)
        training.build_loss(train.get("loss", "sparse_categorical_crossentropy"))
        assert callable(training._procedure(recipe)), where
