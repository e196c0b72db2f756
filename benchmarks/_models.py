"""Models the benchmarks share."""

from garden import demo
from garden.recipes.build import build_model
from garden.recipes.schema import load_recipe


def demo_recipe():
    """The bundled recipe `garden demo` trains (MobileNet v1, alpha 0.5, on 32x32 digits)."""
    return load_recipe(demo.RECIPE)


def demo_model():
    """The demo's model, untrained (built from its recipe)."""
    return build_model(demo_recipe())
