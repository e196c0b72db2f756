"""The classic-CNN recipes are valid: they load, and every variant's model arguments are ones
its builder accepts (checked without building the models)."""

from pathlib import Path

import pytest

from garden import models, training

TRAINING = Path(__file__).resolve().parents[1] / "training"
RECIPES = ["alexnet_digits", "vgg_digits", "googlenet_digits", "squeezenet_digits",
           "bag_of_tricks_digits"]


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_variants_name_real_models_and_arguments(recipe):
    for variant, config in training.variants(training.load_recipe(TRAINING / f"{recipe}.toml")):
        arguments = {k for k in config["model"] if k != "name"}
        accepted = set(models.get_entry(config["model"]["name"]).arguments)
        assert arguments <= accepted, f"{recipe}/{variant}: {arguments - accepted}"
        assert config["model"]["input_shape"][:2] == config["data"]["image_size"]
        assert config["model"]["input_shape"][2] == config["data"]["channels"]
