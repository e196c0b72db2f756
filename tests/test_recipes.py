"""The recipe schema: every bundled recipe is valid, and every kind of mistake in any variant is
reported when the recipe is read (file, variant, key, value and what is allowed), before
anything is built or trained."""

import time

import keras
import pytest

from garden import recipes
from garden.recipes import schema


def test_every_bundled_recipe_is_valid():
    names = recipes.bundled_recipes()
    assert len(names) >= 20
    for name in names:
        recipe = recipes.load_recipe(name)  # validates every variant, options included
        assert recipe["name"] == name
        for _, variant in recipes.variants(recipe):
            assert callable(recipes.load_procedure(
                variant.get("train", {}).get("procedure", schema.DEFAULT_PROCEDURE)))


def test_the_repository_training_folder_is_the_bundled_one(request):
    folder = request.config.rootpath / "training"
    assert folder.is_symlink()
    assert sorted(p.stem for p in folder.glob("*.toml")) == recipes.bundled_recipes()


def test_variants_merge_tables_and_replace_values(tiny_recipe):
    recipe = recipes.validate_recipe(tiny_recipe(
        variants={"a": {"train": {"epochs": 5}}, "b": {"model": {"width": 8}}}))
    (a_name, a), (b_name, b) = recipes.variants(recipe)
    assert (a_name, b_name) == ("a", "b")
    assert a["train"]["epochs"] == 5 and a["train"]["metrics"] == ["accuracy"]
    assert b["model"] == {**tiny_recipe()["model"], "width": 8}
    assert recipes.variants(recipes.validate_recipe(tiny_recipe()))[0][0] == "default"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"epochz": 3}, r"unknown key\(s\) epochz"),
        ({"model": {"name": "mobilenet_v9"}}, "Unknown model 'mobilenet_v9'"),
        ({"model": {"name": "selu_mlp", "widht": 3}},
         r"\[model\] widht: not an argument of selu_mlp; it takes depth, width"),
        ({"train": {"epoch": 3}}, r"unknown \[train\] key\(s\) epoch"),
        ({"train": {"epochs": "ten"}}, r"\[train\] epochs='ten' is not allowed: use an integer"),
        ({"train": {"epochs": -3}}, r"\[train\] epochs=-3 is not allowed: use an integer >= 1"),
        ({"seeds": [0, "1"]}, r"seeds=\[0, '1'\] is not allowed: use a list of integers"),
        ({"train": {"optimizer": "Adamm"}},
         r"unknown optimizer 'Adamm' \(did you mean 'Adam'.*use one of Adadelta"),
        ({"train": {"optimizer": {"class_name": "SGD", "config": {"momentun": 0.9}}}},
         r"\[train\] optimizer SGD: .*momentun.*; it takes learning_rate, momentum"),
        ({"train": {"optimizer": {"class_name": "SGD", "config": {
            "learning_rate": {"class_name": "Cosine", "config": {}}}}}},
         r"unknown class_name 'Cosine'"),
        ({"train": {"loss": "sparse_categorical_crossentropi"}},
         r"\[train\] loss: unknown loss 'sparse_categorical_crossentropi' \(did you mean"),
        ({"train": {"metrics": ["acuracy"]}}, r"unknown metric 'acuracy'"),
        ({"train": {"callbacks": [{"class_name": "EarlyStoping"}]}},
         r"unknown class_name 'EarlyStoping' \(did you mean 'EarlyStopping'"),
        ({"train": {"callbacks": [{"class_name": "EarlyStopping",
                                   "config": {"patiense": 2}}]}}, r"patiense.*it takes"),
        ({"train": {"procedure": "garden.recipes.procedures.curves:nope"}},
         r"procedure='garden.recipes.procedures.curves:nope' is not a 'module:function'"),
        ({"train": {"procedure": "garden.recipes.procedures.dropout:mc_dropout_evaluation",
                    "options": {"sampels": 3}}},
         r"options sampels are not allowed: procedure .* takes samples"),
        ({"train": {"procedure": "garden.recipes.procedures.dropout:mc_dropout_evaluation",
                    "options": {"samples": "5"}}},
         r"options.samples='5' is not allowed: use a value of type int, like the default 50"),
        ({"train": {"options": {"targets": [0.9]}}}, r"procedure garden.recipes:fit takes no "),
        ({"train": {"procedure": "garden.recipes.procedures.data_scaling:"
                                 "learning_curve_procedure", "options": {"sizes": [10, 20]}}},
         r"options: procedure .* needs steps"),
        ({"data": {"name": "digitz"}}, r"\[data\] name='digitz' is not allowed: use one of digits"),
        ({"data": {"name": "digits", "batch": 3}}, r"unknown \[data\] key\(s\) batch"),
        ({"data": {"name": "digits", "batch_size": 0}}, r"\[data\] batch_size=0 is not allowed"),
        ({"data": {"name": "digits", "transforms": [{"name": "mixupp"}]}},
         r"unknown transform 'mixupp'"),
        ({"data": {"name": "digits", "transforms": [{"name": "random_labels", "rat": 0.5}]}},
         r"\[data\] transforms 'random_labels'.*it takes rate, num_classes, seed"),
        ({"data": {"name": "digits", "channels": 3}},
         r"\[data\] channels=3 does not match \[model\] input_shape=\[8, 8, 1\]"),
        ({"data": {"name": "digits", "image_size": [16, 16]}},
         r"\[data\] image_size=\[16, 16\] does not match \[model\] input_shape=\[8, 8, 1\]"),
        ({"export": {"formats": ["int4"]}}, r"unknown export format\(s\) int4"),
        ({"data": None}, "'data' must be a dict"),
    ],
)
def test_bad_recipes_are_named(tiny_recipe, change, message):
    with pytest.raises(ValueError, match=message):
        recipes.validate_recipe({**tiny_recipe(), **change}, source="exp.toml")


def test_a_typo_in_the_third_variant_fails_fast_naming_file_and_variant(tiny_recipe, tmp_path,
                                                                         recipe_toml):
    path = tmp_path / "exp.toml"
    path.write_text(recipe_toml(tiny_recipe(variants={
        "a": {"train": {"epochs": 2}}, "b": {"model": {"width": 8}},
        "c": {"train": {"optimizer": "Adamm"}}})))
    start = time.perf_counter()
    with pytest.raises(ValueError, match=rf"^{path} \[variant c\]: \[train\] optimizer: unknown"):
        recipes.train(path, runs_dir=tmp_path / "runs")
    assert time.perf_counter() - start < 5
    assert not (tmp_path / "runs").exists()  # variant a did not train


@pytest.mark.parametrize("old, new", sorted(schema.MOVED.items()))
def test_old_procedure_strings_name_their_new_home(tiny_recipe, old, new):
    with pytest.raises(ValueError, match=f"procedure='{old}' has moved: use '{new}'"):
        recipes.validate_recipe(tiny_recipe(train={"procedure": old}))
    assert callable(recipes.load_procedure(new))


def test_toml_files_directories_and_bundled_names(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text('[model]\nname = "mobilenet_v1"\n[data]\nname = "digits"\n')
    recipe = recipes.load_recipe(path)
    assert recipe["name"] == "exp" and recipe["seeds"] == [0]
    path.write_text("[model\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        recipes.load_recipe(path)
    with pytest.raises(ValueError, match="is a directory"):
        recipes.load_recipe(tmp_path)
    with pytest.raises(ValueError, match="does not exist: .*`garden recipes` lists them"):
        recipes.load_recipe(tmp_path / "missing.toml")
    with pytest.raises(ValueError, match=r"did you mean vgg_digits\?"):
        recipes.load_recipe("vgg_digit")
    assert recipes.load_recipe("vgg_digits")["model"]["name"].startswith("vgg")


def test_optimizer_with_a_schedule_table():
    optimizer = recipes.build_optimizer({
        "class_name": "SGD",
        "config": {"momentum": 0.9, "learning_rate": {
            "class_name": "CosineDecay",
            "config": {"initial_learning_rate": 0.1, "decay_steps": 10}}},
    })
    assert optimizer.momentum == 0.9
    schedule = optimizer._learning_rate  # Keras keeps the schedule object here
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert float(schedule(5)) == pytest.approx(0.05)
    assert isinstance(recipes.build_optimizer("adam"), keras.optimizers.Adam)


def test_the_demo_recipe_loads_from_any_directory(tmp_path, monkeypatch):
    from garden import demo

    monkeypatch.chdir(tmp_path)  # no training/ folder here: the bundled package data is read
    recipe = recipes.load_recipe(demo.RECIPE)
    assert recipe["name"] == "mobilenet_v1_digits"
    assert {"float", "int8"} <= set(recipe["export"]["formats"])
