"""The documentation site's generated pages, without building the site: every registered model,
every bundled recipe and every README paper row has its page, the pages carry the registry's,
the recipe's and the README's own text, each recipe page shows its own measured result and the
command that runs it, every paper page links its paper, no section is empty, every relative link
resolves, and the snippets on the pages run."""

import contextlib
import doctest
import importlib.util
import io
import posixpath
import re
import tomllib
from pathlib import Path

import keras
import pytest

import garden.tools.kkt
import garden.tools.td_learning
from garden import models
from garden.recipes import bundled_recipes

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pages_module = _load("pages")


@pytest.fixture(scope="session")
def pages():
    return pages_module.pages()


@pytest.fixture(scope="session")
def site(pages):
    """Every page of the site: the generated ones and the hand-written ones beside them (the
    paper accounts are read into the generated paper pages)."""
    hand_written = {str(p.relative_to(DOCS)): p.read_text() for p in DOCS.rglob("*.md")
                    if p.parent != pages_module.PAPERS}
    return {**pages, **hand_written}


@pytest.fixture(scope="session")
def recorded():
    return pages_module.records()


def _section(markdown, title):
    (body,) = [b for _, t, b in pages_module.sections(markdown) if t == title]
    return body


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
    assert entry.arxiv in page
    assert pages_module.usage_snippet(name).rstrip() in page
    assert (f"models.features({name!r})" in page) == bool(entry.feature_layers)


@pytest.mark.parametrize("name", bundled_recipes())
def test_every_recipe_has_its_page(pages, name):
    page = pages[f"recipes/{name}.md"]
    recipe = pages_module._recipe(name)
    assert recipe["claim"] in page
    assert pages_module.recipe_source(name).rstrip() in page
    assert all(f"| `{v}` |" in page for v in recipe.get("variants", {}))


def test_variant_overrides_are_shown_as_the_toml_that_writes_them(pages):
    for name in bundled_recipes():
        variants = tomllib.loads(pages_module.recipe_source(name)).get("variants", {})
        for overrides in variants.values():
            assert tomllib.loads("\n".join(pages_module._overrides(overrides))) == overrides
    assert ('| `low_rank_8` | `train.options = {compression = {"*kernel" = [{name = "LowRank", '
            'rank = 8}]}}` |') in pages["recipes/konecny_digits.md"]


def test_every_recipe_has_one_record_of_its_measured_result(recorded):
    assert sorted(recorded) == bundled_recipes()


@pytest.mark.parametrize("name", bundled_recipes())
def test_a_recipe_page_shows_its_own_measured_result(pages, recorded, name):
    """Its record, and no number of another recipe's record that its own lacks."""
    home, text = recorded[name]
    measured = _section(pages[f"recipes/{name}.md"], "Measured result")
    assert measured == f"{text}\n\nRecorded on [the paper's page](../papers/{home}.md)."
    assert pages_module.foreign_results(measured, name, recorded) == []


def test_foreign_results_names_the_recipe_whose_result_a_page_shows(recorded):
    """What the pages showed before each recipe had its own record: the paper row's headline
    (konecny_digits showed fedavg_digits' FedAvg against centralised accuracy) and the first
    recipe of a shared paragraph (gcn_sbm showed gcn_karate's accuracy)."""
    foreign = pages_module.foreign_results
    assert foreign("FedAvg 0.917 vs centralized 0.972; 26.3x fewer uplink bits at 0.903",
                   "konecny_digits", recorded) == ["fedavg_digits"]
    assert foreign(recorded["gcn_karate"][1], "gcn_sbm", recorded) == ["gcn_karate"]
    assert foreign(recorded["gcn_sbm"][1], "gcn_sbm", recorded) == []


@pytest.mark.parametrize("name", bundled_recipes())
def test_a_recipe_page_runs_its_recipe_by_name(pages, recorded, name):
    commands = pages_module.run_commands(name, recorded)
    assert "```bash\n" + "\n".join(commands) + "\n```" in _section(
        pages[f"recipes/{name}.md"], "Run it")
    for command in commands:
        assert command == f"garden train {name}" or command.startswith(f"garden train {name} --")
    workers = pages_module._recipe(name).get("distribute", {}).get("strategy") == "multi_worker"
    assert workers == any(re.search(r"--workers [2-9]", c) for c in commands)


def test_the_recipes_index_and_home_page_show_commands_that_name_bundled_recipes(pages):
    index = pages["recipes/index.md"]
    assert "garden train large_minibatch_digits_2workers --workers 2" in index
    for page in (index, (DOCS / "index.md").read_text()):
        named = re.findall(r"garden train (\w+)", page)
        assert named and set(named) <= set(bundled_recipes()) | {"NAME"}


def test_every_readme_paper_has_its_page_with_the_readme_text_and_its_account(pages):
    rows = pages_module.paper_rows()
    assert len(rows) > 40
    for row in rows:
        page = pages[f"papers/{row['slug']}.md"]
        assert pages_module._table_cell(row["garden"]) in page
        assert pages_module._table_cell(row["result"]) in page
        text = pages_module.account(row["slug"])
        assert text.split("\n", 1)[0] in page  # the **Paper:** line
        assert all(body in page for _, _, body in pages_module.sections(text))
    accounts = {p.stem for p in pages_module.PAPERS.glob("*.md")}
    assert accounts == {row["slug"] for row in rows}


def test_every_paper_page_links_its_paper_and_the_papers_of_its_models(pages):
    model_slug, _ = pages_module.assign(pages_module.paper_rows())
    for row in pages_module.paper_rows():
        links = pages_module.paper_links(pages[f"papers/{row['slug']}.md"])
        assert links, row["slug"]
        for name in [m for m, s in model_slug.items() if s == row["slug"]]:
            assert models.get_entry(name).arxiv in links, (row["slug"], name)
            assert pages_module.paper_links(pages[f"models/{name}.md"]) == links
    # char_lstm's registry link is Graves 2013's; its page links Hochreiter & Schmidhuber too
    assert pages_module.paper_links(pages["models/char_lstm.md"])[0] == (
        "https://doi.org/10.1162/neco.1997.9.8.1735")


def test_paper_links_finds_no_link_on_a_page_without_one():
    assert pages_module.paper_links("# LSTM\n\n## What garden implements\n\nx\n") == []
    assert pages_module.paper_links("# LSTM\n\n**Paper:** Hochreiter 1997\n") == []
    line = "**Paper:** [H 1997](https://doi.org/1); [G 2013](https://a.b/2)"
    assert pages_module.paper_links(line) == ["https://doi.org/1", "https://a.b/2"]


def test_no_page_has_an_empty_section(site):
    empty = {path: pages_module.empty_sections(text) for path, text in site.items()}
    assert {path: titles for path, titles in empty.items() if titles} == {}


def test_empty_sections_are_headings_followed_by_a_heading_or_the_end():
    page = "# Title\n\n## Recipes\n\n## Models\n\n- a\n\n```bash\n# a comment\n```\n\n## Notes\n"
    assert pages_module.empty_sections(page) == ["Title", "Recipes", "Notes"]


def test_every_relative_link_and_image_resolves(site):
    """What `mkdocs build --strict` checks, without the build: each relative link of a
    generated or hand-written page names a page of the site or a file under docs/."""
    broken = []
    for path, text in site.items():
        text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
        for target in re.findall(r"\]\((?!https?://)([^)#\s]+)", text):
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            if resolved not in site and not (DOCS / resolved).is_file() and (
                    resolved != "notes/td_learning.png"):  # written by gen_pages.py at build time
                broken.append((path, target))
    assert broken == []


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


def test_paper_pages_list_the_recipes_that_cite_them_or_train_their_models(pages):
    def listed(slug, title):
        return re.findall(r"^- \[`(\w+)`\]", _section(pages[f"papers/{slug}.md"], title),
                          re.MULTILINE)

    assert listed("class-imbalance", "Recipes") == ["focal_loss_imbalanced"]  # cites Buda 2018
    assert listed("u-net", "Recipes") == ["segmentation_shapes", "unet_shapes"]
    assert listed("one-cycle-disciplined-approach", "Recipes") == ["super_convergence_digits"]
    assert {"clr_digits", "loss_landscape_digits", "bag_of_tricks_digits"} <= set(
        listed("resnet", "Recipes that train these models"))


def test_readme_cells_are_parsed_not_retyped():
    readme = ("# x\n\n## Papers\n\n| paper | garden | result (recipe, measured) |\n|---|---|---|\n"
              "| [Foo (Bar 2020), notes](docs/papers/foo.md) | `f(a=1 \\| 2)`: see [the file](training/f.toml) | "
              "97.5% on [x](https://example.org) |\n\n## Next\n| a | b | c |\n")
    (row,) = pages_module.paper_rows(readme)
    assert row["slug"] == "foo" and row["paper"] == "Foo (Bar 2020), notes"
    assert pages_module._cell(row["garden"]) == "`f(a=1 | 2)`: see the file"
    assert pages_module._cell(row["result"]) == "97.5% on [x](https://example.org)"
    assert pages_module._table_cell(row["garden"]) == "`f(a=1 | 2)`: see the file"
    assert pages_module._table_cell("a | b `c \\| d`") == "a \\| b `c | d`"


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


def test_the_mobile_report_covers_every_model_and_each_page_shows_its_files(pages):
    """docs/mobile.json (`python -m benchmarks.mobile --docs docs/mobile.json`) has every
    registered model in the four modes; its page and each model's page show the recorded files."""
    report = pages_module.mobile_report()
    recorded = {r["model"]: r for r in report["records"]}
    assert sorted(recorded) == models.list_models()
    for name, record in recorded.items():
        assert list(record["modes"]) == ["float", "float16", "dynamic", "int8"], name
        size = record["modes"]["int8"]["size_bytes"] / 1024
        row = [line for line in pages[f"models/{name}.md"].splitlines()
               if line.startswith("| int8 |")]
        assert row and f"| {size:,.1f} |" in row[0], name
        assert f"| `{name}` | int8 | {size:,.1f} |" in pages["mobile.md"]
