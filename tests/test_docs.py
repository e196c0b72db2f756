"""The documentation site's generated pages, without building the site: every registered model,
every bundled recipe and every README paper row has its page, the pages carry the registry's,
the recipe's and the README's own text, and the snippets on the pages run."""

import contextlib
import doctest
import importlib.util
import io
import re
from pathlib import Path

import keras
import pytest

import garden.tools.kkt
import garden.tools.td_learning
from garden import models
from garden.recipes import bundled_recipes, load_recipe

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pages_module = _load("pages")


@pytest.fixture(scope="module")
def pages():
    return pages_module.pages()


def _python_blocks(markdown):
    return re.findall(r"```python\n(.*?)```", markdown, re.DOTALL)


@pytest.mark.parametrize("name", models.list_models())
def test_every_model_has_its_page(pages, name):
    page = pages[f"models/{name}.md"]
    entry = models.get_entry(name)
    summary, arguments = pages_module.builder_docs(name)
    assert summary in page
    assert [a for a, _ in arguments] == [a for a in entry.arguments if a != "kwargs"] or not arguments
    assert all(f"| `{a}` |" in page for a, _ in arguments)
    assert entry.arxiv in page and entry.paper in page
    assert pages_module.usage_snippet(name).rstrip() in page
    assert (f"models.features({name!r})" in page) == bool(entry.feature_layers)


@pytest.mark.parametrize("name", bundled_recipes())
def test_every_recipe_has_its_page(pages, name):
    page = pages[f"recipes/{name}.md"]
    recipe = load_recipe(name)
    assert recipe["claim"] in page
    assert pages_module.recipe_source(name).rstrip() in page
    assert all(f"| `{v}` |" in page for v in recipe.get("variants", {}))


def test_every_readme_paper_has_its_page_with_the_readme_text_and_its_account(pages):
    rows = pages_module.paper_rows()
    assert len(rows) > 40
    for row in rows:
        page = pages[f"papers/{row['slug']}.md"]
        assert row["garden"] in page and row["result"] in page
        assert pages_module.account(row["slug"]) in page
    accounts = {p.stem for p in pages_module.PAPERS.glob("*.md")}
    assert accounts == {row["slug"] for row in rows}


def test_readme_paper_table_stays_short():
    """The README's table is one line per paper; the accounts live in docs/papers/."""
    for row in pages_module.paper_rows():
        assert len(row["garden"]) <= 160 and len(row["result"]) <= 160, row["paper"]


def test_models_and_recipes_land_on_their_papers():
    model_slug, recipe_slug = pages_module.assign(pages_module.paper_rows())
    assert set(model_slug) == set(models.list_models())
    expected = {"vgg16_bn": "vgg", "resnet50": "resnet", "resnet50d": "bag-of-tricks",
                "gcn": "gcn", "char_lstm": "lstm"}
    assert {m: model_slug[m] for m in expected} == expected
    expected = {"mobilenet_v1_digits": "mobilenet-v1", "compute_digits": "computational-limits",
                "loss_landscape_digits": "loss-landscape", "dsd_digits": "dsd",
                "konecny_digits": "federated-learning",
                "rethinking_generalization": "rethinking-generalization"}
    assert {r: recipe_slug[r] for r in expected} == expected


def test_readme_cells_are_parsed_not_retyped():
    readme = ("# x\n\n## Papers\n\n| paper | garden | result (recipe, measured) |\n|---|---|---|\n"
              "| [Foo (Bar 2020), notes](docs/papers/foo.md) | `f(a=1 \\| 2)`: see [the file](training/f.toml) | "
              "97.5% on [x](https://example.org) |\n\n## Next\n| a | b | c |\n")
    (row,) = pages_module.paper_rows(readme)
    assert row["slug"] == "foo" and row["paper"] == "Foo (Bar 2020), notes"
    assert pages_module._cell(row["garden"]) == "`f(a=1 | 2)`: see the file"
    assert pages_module._cell(row["result"]) == "97.5% on [x](https://example.org)"


def test_a_paper_cell_must_link_its_account_by_its_slug():
    readme = ("# x\n\n## Papers\n\n| paper | garden | result |\n|---|---|---|\n"
              "| [Foo (Bar 2020)](docs/papers/bar.md) | `f` | 1% |\n")
    with pytest.raises(ValueError, match=r"docs/papers/<slug of the title>\.md"):
        pages_module.paper_rows(readme)


@pytest.mark.parametrize("name", ["mobilenet_v1", "srcnn", "gcn"])
def test_model_usage_snippet_runs(pages, name):
    (snippet,) = _python_blocks(pages[f"models/{name}.md"])
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(snippet, namespace)
    assert isinstance(namespace["model"], keras.Model)
    assert out.getvalue().strip() == str(namespace["model"].output_shape)


@pytest.mark.parametrize("page", ["index.md", "notes/kkt.md", "notes/drl_neuroscience.md",
                                  "notes/computational_limits.md"])
def test_hand_written_snippets_run(page):
    blocks = _python_blocks((DOCS / page).read_text())
    assert blocks
    for block in blocks:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(block, {})


@pytest.mark.parametrize("module", [garden.tools.kkt, garden.tools.td_learning])
def test_docstring_examples_run(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_example_sections_become_indented_examples():
    pytest.importorskip("griffe")
    extension = _load("griffe_examples")
    text = "Doc.\n\nExample:\n>>> f(1)\n[1, 2]\n\nReference:\n    x"
    assert extension.indent_examples(text) == (
        "Doc.\n\nExamples:\n    >>> f(1)\n    [1, 2]\n\nReference:\n    x")


def test_nav_names_only_existing_or_generated_pages(pages):
    nav = re.findall(r"^\s+- (?:[\w ]+: )?([\w/]+\.md)$", (DOCS.parent / "mkdocs.yml").read_text(),
                     re.MULTILINE)
    assert len(nav) > 15
    assert [p for p in nav if p not in pages and not (DOCS / p).is_file()] == []


def test_model_and_paper_pages_show_the_registry_figures(pages):
    page = pages["models/vgg16.md"]
    assert "| `vgg16` | defaults | parameters | 138,357,544 |" in page
    assert "| `resnet50` | defaults | multiply-adds | 3.8G (within 2%) |" in pages["papers/resnet.md"]
    assert "| `hrnet_w18_small` | defaults | output shape of `stage4_module1_fuse3_out` | `(7, 7, 128)` |" in (
        pages["papers/hrnet.md"])
