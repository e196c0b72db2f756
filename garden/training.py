"""Moved: the recipe runner is the `garden.recipes` package."""

raise ImportError(
    "garden.training has moved to garden.recipes: use garden.recipes.train, train_one, "
    "load_recipe, validate_recipe, variants, Run, fit, build_model, build_data, compile_model, "
    "read_history, summarize and format_table; procedures are in garden.recipes.procedures"
)
