"""The generated pages of the documentation site: one per paper, model and recipe, and the API.

Nothing here repeats a number: a model page reads the registry, a recipe page reads the bundled
TOML file, and a paper page joins its one-line row of the README's paper table (builders and
headline result) with its hand-written account in `docs/papers/<slug>.md` (what garden implements
in full, every measured number, the figures). `pages()` returns every page as `{path: markdown}`; `gen_pages.py`
writes them into the site at build time and `tests/test_docs.py` checks them without a build.
"""

import importlib.resources
import inspect
import json
import re
import unicodedata
from pathlib import Path

from garden import models
from garden.recipes import bundled_recipes, load_recipe

ROOT = Path(__file__).resolve().parent.parent
PAPERS = ROOT / "docs" / "papers"
API_MODULES = (
    "models", "layers", "losses", "metrics", "schedules", "callbacks", "sparsity", "data",
    "export", "tools", "recipes", "federated", "utils", "weights",
)
# Notes pages (hand-written, under docs/notes/) for the README rows that are notes.
NOTES = {
    "karush-kuhn-tucker": ["kkt"],
    "turing-1950-drl-and-neuroscience": ["turing", "drl_neuroscience"],
    "gan-overview": ["gan_overview"],
    "computational-limits": ["computational_limits"],
}
_UNESCAPED_BAR = re.compile(r"(?<!\\)\|")
_RELATIVE_LINK = re.compile(r"\[([^\]]+)\]\((?!https?://)[^)]+\)")
_PAPER_LINK = re.compile(r"\[(.+)\]\(docs/papers/([a-z0-9-]+)\.md\)")


def _plain(text):
    """Lower-case ASCII: "Konečný" matches "Konecny"."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _cell(text):
    """A README table cell as page text: escaped bars unescaped, links into the repository
    (which the site does not hold) kept as their text."""
    return _RELATIVE_LINK.sub(r"\1", text.strip().replace("\\|", "|"))


def slug(paper):
    """The page name of a README paper: "VGG (Simonyan & Zisserman 2014)" -> "vgg"."""
    return re.sub(r"[^a-z0-9]+", "-", _plain(paper.split(" (")[0]).split(", notes")[0]).strip("-")


def paper_rows(readme=None):
    """The README's paper table as `[{"paper", "slug", "garden", "result"}]`, in its order.

    Each row's paper cell links its account, `[Title](docs/papers/<slug>.md)`, and the slug is
    the title's (`slug`), so a renamed paper cannot keep a stale page name.
    """
    text = readme if readme is not None else (ROOT / "README.md").read_text()
    section = text.split("\n## Papers", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in _UNESCAPED_BAR.split(line.strip())[1:-1]]
        if len(cells) != 3 or cells[0] == "paper" or set(cells[0]) <= set("-:"):
            continue
        link = _PAPER_LINK.fullmatch(cells[0])
        if not link or link.group(2) != slug(link.group(1)):
            raise ValueError(f"README paper cell {cells[0]!r}: write it as "
                             f"[Title](docs/papers/<slug of the title>.md)")
        rows.append({"paper": link.group(1), "slug": link.group(2), "garden": cells[1],
                     "result": cells[2]})
    slugs = [r["slug"] for r in rows]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"README paper rows with the same page name: {slugs}")
    return rows


def account(paper_slug):
    """The body of `docs/papers/<slug>.md` below its title: the paper's whole account."""
    path = PAPERS / f"{paper_slug}.md"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: every README paper row needs its account there")
    return path.read_text().split("\n", 1)[1].strip()


def _escape_bars(text):
    return text.replace("|", "\\|")


def _tokens(text):
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(re.findall(r"`([^`]*)`", text))))


def _by_author_year(rows, citation, year):
    """The first row whose paper column names the citation's first author and its year."""
    author = _plain(re.split(r"[\s,&]+", citation.strip())[0])
    for row in rows:
        column = _plain(row["paper"])
        if re.search(rf"\b{re.escape(author)}\b", column) and str(year) in column:
            return row
    return None


def _by_mention(rows, name):
    return next((r for r in rows if name in _tokens(
        " ".join([r["garden"], r["result"], account(r["slug"])]))), None)


def assign(rows):
    """`({model: slug}, {recipe: slug})`: the paper page of each model (its first author and
    year in a README row, else the first row naming it) and of each recipe (likewise, from its
    `paper`); unplaced ones are left out."""
    placed_models, placed_recipes = {}, {}
    for name in models.list_models():
        entry = models.get_entry(name)
        row = _by_author_year(rows, entry.paper, entry.year) or _by_mention(rows, name)
        if row:
            placed_models[name] = row["slug"]
    for name in bundled_recipes():
        recipe = load_recipe(name)
        year = re.search(r"\b(19|20)\d\d\b", recipe.get("paper", ""))
        row = (_by_author_year(rows, recipe["paper"], year.group()) if year else None) or (
            _by_mention(rows, name))
        if row:
            placed_recipes[name] = row["slug"]
    return placed_models, placed_recipes


def builder_docs(name):
    """`(text, [(argument, description)])` from the builder's docstring as it is at run time
    (`register_classifier` writes the contract's arguments into it, which a static reader of the
    source does not see); the text is the rest of the docstring as Markdown."""
    text = inspect.getdoc(models.get_entry(name).builder) or ""
    head, _, rest = text.partition("\nArgs:\n")
    arguments, tail = [], []
    for line in rest.splitlines():
        item = re.match(r"    (\*{0,2}\w+): (.*)", line)
        if tail or (line.strip() and not line.startswith("    ")):
            tail.append(line)  # the Args section ends at the first unindented line
        elif item:
            arguments.append([item.group(1), item.group(2)])
        elif line.strip() and arguments:
            arguments[-1][1] += " " + line.strip()
    return _sections("\n".join([head.strip(), *tail])), [tuple(a) for a in arguments]


def _sections(text):
    """Docstring text as Markdown: section titles ("Returns:") bold, doctests fenced."""
    out, in_code = [], False
    for line in text.strip().splitlines():
        stripped = line.strip()
        if stripped.startswith(">>>") or (in_code and stripped):
            if not in_code:
                out += ["", "```pycon"]
                in_code = True
            out.append(stripped)
            continue
        if in_code:
            out += ["```", ""]
            in_code = False
        title = re.fullmatch(r"([A-Z][\w ]*):", stripped)
        out += ["", f"**{title.group(1)}**", ""] if title else [stripped]
    return "\n".join(out + (["```"] if in_code else []))


def usage_snippet(name):
    """Python that builds the model's small instance and prints its output shape."""
    kwargs = ", ".join(f"{k}={v!r}" for k, v in models.get_entry(name).small_kwargs.items())
    return (f"from garden import models\n\n"
            f"model = models.build({name!r}{', ' if kwargs else ''}{kwargs})\n"
            f"print(model.output_shape)\n")


def _figure_value(figure):
    if isinstance(figure.value, tuple):
        return f"`{figure.value}`"
    if figure.quantity == "multiply-adds":
        return f"{figure.value / 1e9:g}G (within {figure.rel:.0%})"
    return f"{figure.value:,}" + (f" (within {figure.rel:.0%})" if figure.rel else "")


def figures_table(names):
    """The registry's paper figures of the models `names`, as page lines (none: no lines)."""
    rows = [(n, f) for n in names for f in models.get_entry(n).figures]
    if not rows:
        return []
    lines = ["## Figures from the paper", "",
             "Each is asserted against the full-size model by `tests/test_paper_figures.py`.", "",
             "| model | arguments | quantity | value | source |", "|---|---|---|---|---|"]
    for name, f in rows:
        arguments = ", ".join(f"`{k}={v!r}`" for k, v in f.kwargs) or "defaults"
        quantity = f"{f.quantity} of `{f.layer}`" if f.layer else f.quantity
        lines.append(f"| `{name}` | {arguments} | {quantity} | {_figure_value(f)} | "
                     f"{_escape_bars(f.source)} |")
    return lines + [""]


def checkpoints_table(name):
    """The pretrained checkpoints of model `name` (`garden.weights`), as page lines (none: no
    lines)."""
    from garden import weights

    found = weights.checkpoints(name).values()
    if not found:
        return []
    default = weights.default_checkpoint(name)
    lines = ["## Pretrained checkpoints", "",
             "`weights=\"imagenet\"` loads the one marked *default*; `weights=SOURCE` any of them "
             "([pretrained weights](../weights.md)).", "",
             "| source | file | size | top-1 (published) | input |", "|---|---|---|---|---|"]
    for c in found:
        size = "-" if c.size_bytes is None else f"{c.size_bytes / 1e6:.1f} MB"
        lines.append(f"| {c.source}{' (default)' if c is default else ''} | [`{c.file_name}`]"
                     f"({c.url}) | {size} | {c.top1:.2f}% | `{c.preprocessing}` |")
    return lines + [""]


def model_page(name, paper_slug=None):
    """The page of one registered model: registry facts, usage and the builder's docstring
    (its summary and a table of its arguments)."""
    entry = models.get_entry(name)
    lines = [
        f"# `{name}`", "",
        f"**Paper:** [{entry.paper}]({entry.arxiv}) ({entry.year})", "",
        "| | |", "|---|---|",
        f"| task | {entry.task} |",
        f"| default input | `{entry.input_shape}` |",
        f"| keras.applications twin | {f'`{entry.keras_application}`' if entry.keras_application else '-'} |",
        f"| arguments | {', '.join(f'`{a}`' for a in entry.arguments)} |",
        "",
    ]
    if paper_slug:
        lines += [f"What garden implements for this paper, and the measured result: "
                  f"[the paper's page](../papers/{paper_slug}.md).", ""]
    lines += figures_table([name])
    lines += checkpoints_table(name)
    lines += ["## Usage", "", "```python", usage_snippet(name).rstrip(), "```", "",
              f"`garden info {name}` prints the parameters; `garden info {name} --layers` "
              "the multiply-adds per layer.", "",
              "## Reference", ""]
    summary, arguments = builder_docs(name)
    lines += [summary, ""]
    if arguments:
        lines += ["| argument | description |", "|---|---|"]
        lines += [f"| `{a}` | {_escape_bars(d)} |" for a, d in arguments]
        lines.append("")
    lines += [f"Source: `{entry.builder.__module__}.{entry.builder.__name__}`; every public "
              "name of the package: [`garden.models`](../api/models.md).", ""]
    return "\n".join(lines)


def recipe_source(name):
    """The bundled recipe's TOML text."""
    return (importlib.resources.files("garden.recipes") / "training" / f"{name}.toml").read_text()


def recipe_page(name, paper_slug=None, result=None):
    """The page of one bundled recipe: its claim, variants, measured result and TOML file."""
    recipe = load_recipe(name)
    lines = [f"# Recipe `{name}`", "", f"**Paper:** {recipe.get('paper', '-')}", ""]
    if recipe.get("claim"):
        lines += [f"**Claim:** {recipe['claim']}", ""]
    if recipe.get("description"):
        lines += [recipe["description"], ""]
    model = recipe.get("model", {}).get("name")
    if model in models.list_models():
        lines += [f"**Model:** [`{model}`](../models/{model}.md)", ""]
    lines += [f"**Seeds:** {', '.join(map(str, recipe['seeds']))}", ""]
    if recipe.get("variants"):
        lines += ["## Variants", "", "| variant | overrides |", "|---|---|"]
        lines += [f"| `{v}` | `{json.dumps(o, separators=(', ', ': '))}` |"
                  for v, o in recipe["variants"].items()]
        lines.append("")
    if result is not None:
        lines += ["## Measured result", "", _cell(result) or "not measured yet", "",
                  f"From [the paper's page](../papers/{paper_slug}.md).", ""]
    lines += ["## Run it", "", "```bash", f"garden train {name}", "```", "",
              "## The recipe file", "", "```toml", recipe_source(name).rstrip(), "```", ""]
    return "\n".join(lines)


def paper_page(row, model_names, recipe_names):
    """The page of one README paper row: its one-line summary, its account, its models,
    recipes and notes."""
    links = sorted({models.get_entry(m).arxiv for m in model_names})
    lines = [f"# {_cell(row['paper'])}", ""]
    if links:
        lines += ["**Paper:** " + ", ".join(f"<{u}>" for u in links), ""]
    lines += ["| in garden | headline result |", "|---|---|",
              f"| {row['garden']} | {row['result']} |", "", account(row["slug"]), ""]
    lines += figures_table(model_names)
    if model_names:
        lines += ["## Models", "", "| model | task | default input |", "|---|---|---|"]
        for m in model_names:
            e = models.get_entry(m)
            lines.append(f"| [`{m}`](../models/{m}.md) | {e.task} | `{e.input_shape}` |")
        lines.append("")
    if recipe_names:
        lines += ["## Recipes", ""]
        lines += [f"- [`{r}`](../recipes/{r}.md): {load_recipe(r).get('claim', '')}"
                  for r in recipe_names]
        lines.append("")
    if row["slug"] in NOTES:
        lines += ["## Notes", ""]
        lines += [f"- [{n.replace('_', ' ')}](../notes/{n}.md)" for n in NOTES[row["slug"]]]
        lines.append("")
    return "\n".join(lines)


def pages(readme=None):
    """Every generated page as `{path under docs/: markdown}`."""
    rows = paper_rows(readme)
    model_slug, recipe_slug = assign(rows)
    results = {r["slug"]: r["result"] for r in rows}
    out = {}
    index = ["# Papers", "", "Every paper of the reading list, with what garden builds for it.", "",
             "| paper | models | recipes |", "|---|---|---|"]
    for row in rows:
        ms = [m for m, s in model_slug.items() if s == row["slug"]]
        rs = [r for r, s in recipe_slug.items() if s == row["slug"]]
        out[f"papers/{row['slug']}.md"] = paper_page(row, ms, rs)
        index.append(f"| [{_cell(row['paper'])}]({row['slug']}.md) | "
                     f"{', '.join(f'`{m}`' for m in ms)} | {', '.join(f'`{r}`' for r in rs)} |")
    out["papers/index.md"] = "\n".join(index) + "\n"
    model_index = ["# Models", "", "| model | paper | year | task |", "|---|---|---|---|"]
    for name in models.list_models():
        entry = models.get_entry(name)
        out[f"models/{name}.md"] = model_page(name, model_slug.get(name))
        model_index.append(f"| [`{name}`]({name}.md) | {entry.paper} | {entry.year} | {entry.task} |")
    out["models/index.md"] = "\n".join(model_index) + "\n"
    recipe_index = ["# Recipes", "", "Run one with `garden train NAME`.", "",
                    "| recipe | claim |", "|---|---|"]
    for name in bundled_recipes():
        s = recipe_slug.get(name)
        out[f"recipes/{name}.md"] = recipe_page(name, s, results.get(s))
        recipe_index.append(f"| [`{name}`]({name}.md) | {load_recipe(name).get('claim', '')} |")
    out["recipes/index.md"] = "\n".join(recipe_index) + "\n"
    for module in API_MODULES:
        out[f"api/{module}.md"] = f"# `garden.{module}`\n\n::: garden.{module}\n"
    return out
