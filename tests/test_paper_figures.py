"""Every number the registry holds from a paper (`ModelEntry.figures`: parameter counts,
multiply-adds, output shapes) against the full-size model that garden builds.

The figures are written once, in the builders' registrations; the documentation shows them and
this file asserts them. Each full-size model is built once per session (`full_model`); the
heaviest builds run in the slow tier.
"""

import math

import pytest

from garden import models, tools
from tests.harness.models import full_model

# Full-size builds of more than ~10 s on 2 cores (or only repeating a lighter sibling's check).
SLOW = {"vgg11", "vgg13", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn", "resnet34",
        "resnet101", "resnet110", "resnet152", "hrnet_w18", "hrnet_w32"}


def _cases():
    for name in models.list_models():
        for figure in models.get_entry(name).figures:
            arguments = ", ".join(f"{k}={v}" for k, v in figure.kwargs)
            label = f"{name}({arguments}) {figure.quantity}{' of ' + figure.layer if figure.layer else ''}"
            yield pytest.param(name, figure, id=label,
                               marks=[pytest.mark.slow] if name in SLOW else [])


def measure(model, figure):
    """The quantity `figure` names, measured on `model`."""
    if figure.quantity == "parameters":
        return model.count_params()
    if figure.quantity == "trainable parameters":
        return sum(math.prod(w.shape) for w in model.trainable_weights)
    if figure.quantity == "multiply-adds":
        return tools.profile(model).multiply_adds
    shape = model.get_layer(figure.layer).output.shape if figure.layer else model.output_shape
    return tuple(shape[1:])


@pytest.mark.parametrize("name, figure", list(_cases()))
def test_paper_figure(name, figure):
    value = measure(full_model(name, **dict(figure.kwargs)), figure)
    if figure.rel:
        assert value == pytest.approx(figure.value, rel=figure.rel)
    else:
        assert value == figure.value


def test_every_figure_names_a_known_quantity_and_a_source():
    cases = list(_cases())
    assert len(cases) >= 40
    for case in cases:
        name, figure = case.values
        assert figure.source and figure.quantity in models.QUANTITIES
        assert set(dict(figure.kwargs)) <= set(models.get_entry(name).arguments)
    with pytest.raises(ValueError, match="quantity='flops'"):
        models.figure("flops", 1, "x")
