"""The generated pages of the documentation site: one per paper, model and recipe, and the API.

Nothing here repeats a number: a model page reads the registry, a recipe page reads the bundled
TOML file and its measured result, and a paper page joins its one-line row of the README's paper
table (builders and headline result) with its hand-written account in `docs/papers/<slug>.md`.
An account starts with a `**Paper:**` line linking the paper, says what garden implements, and
records each recipe's measured result in a section of its own, `## Measured: `NAME``: that section
is the recipe's record, shown on the paper's page and on the recipe's page (nowhere else).
`pages()` returns every page as `{path: markdown}`; `gen_pages.py` writes them into the site at
build time and `tests/test_docs.py` checks them without a build (`empty_sections`,
`paper_links`, `foreign_results` are those checks).
"""

import functools
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
_WEB_LINK = re.compile(r"\[[^\]]+\]\((https?://[^)\s]+)\)")
_HEADING = re.compile(r"(#{1,6}) +(.+)")
_RECORD = re.compile(r"Measured: `(\w+)`")
_RESULT_NUMBER = re.compile(r"\d+\.\d+|\d+(?:\.\d+)?[%x]")


@functools.cache
def _recipe(name):
    """A bundled recipe, read and validated once (validation builds its optimizers and losses)."""
    return load_recipe(name)


def _plain(text):
    """Lower-case ASCII: "Konečný" matches "Konecny"."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _cell(text):
    """A README table cell as page text: escaped bars unescaped, links into the repository
    (which the site does not hold) kept as their text."""
    return _RELATIVE_LINK.sub(r"\1", text.strip().replace("\\|", "|"))


def _table_cell(text):
    """Text as one cell of a site table: bars escaped outside code spans and bare inside them
    (Python-Markdown splits cells at neither, and shows a backslash in code), links into the
    repository kept as their text."""
    spans = re.split(r"(`[^`]*`)", _RELATIVE_LINK.sub(r"\1", text.strip()))
    return "".join(s.replace("\\|", "|") if s.startswith("`") else
                   _UNESCAPED_BAR.sub(r"\\|", s) for s in spans)


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


def sections(markdown):
    """`[(level, title, body)]`: every heading of a page (not those inside fenced code) with the
    text up to the next heading."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        heading = None if fenced else _HEADING.fullmatch(line.rstrip())
        if heading:
            out.append((len(heading.group(1)), heading.group(2), []))
        elif out:
            out[-1][2].append(line)
    return [(level, title, "\n".join(body).strip()) for level, title, body in out]


def empty_sections(markdown):
    """The headings of a page followed directly by another heading or by the end."""
    return [title for _, title, body in sections(markdown) if not body]


def paper_links(markdown):
    """The web links of a page's first `**Paper:**` line (none: no line, or one without links)."""
    line = next((l for l in markdown.splitlines() if l.startswith("**Paper:**")), "")
    return _WEB_LINK.findall(line)


def records():
    """`{recipe: (paper slug, text)}`: each bundled recipe's measured result, the section
    `## Measured: `NAME`` of the paper account that holds it (at most one per recipe)."""
    known, out = set(bundled_recipes()), {}
    for path in sorted(PAPERS.glob("*.md")):
        for _, title, body in sections(path.read_text()):
            record = _RECORD.fullmatch(title)
            if not record:
                continue
            name = record.group(1)
            if name not in known:
                raise ValueError(f"{path}: '{title}' names no bundled recipe")
            if name in out:
                raise ValueError(f"{path}: recipe {name} is already recorded in "
                                 f"docs/papers/{out[name][0]}.md")
            out[name] = (path.stem, body)
    return out


def _results(text):
    """The measured numbers of a text: those with three or more significant digits ("0.917",
    "97.5%", "26.3x"), which two results rarely share by chance."""
    return {n for n in _RESULT_NUMBER.findall(text)
            if len(re.sub(r"\D", "", n).lstrip("0")) >= 3}


def foreign_results(text, name, recorded):
    """The other recipes whose results `text` (what recipe `name`'s page shows as measured)
    names: those whose record holds a measured number of `text` that `name`'s own lacks."""
    stray = _results(text) - _results(recorded[name][1] if name in recorded else "")
    return sorted(other for other, (_, body) in recorded.items()
                  if other != name and stray & _results(body))


def run_commands(name, recorded):
    """The commands that run a recipe as it was measured: the `garden train NAME ...` of its
    record (e.g. with `--workers 2`), else `garden train NAME`."""
    text = recorded[name][1] if name in recorded else ""
    found = re.findall(rf"`(garden train {name}(?: [^`]*)?)`", text)
    return list(dict.fromkeys(found)) or [f"garden train {name}"]


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


def cited(rows, recipe):
    """The slugs of the rows a recipe's `paper` cites ("Lin et al. 2017, ...; Buda et al. 2018")."""
    out = []
    for citation in recipe.get("paper", "").split(";"):
        year = re.search(r"\b(19|20)\d\d\b", citation)
        row = _by_author_year(rows, citation, year.group()) if year else None
        if row and row["slug"] not in out:
            out.append(row["slug"])
    return out


def assign(rows, recorded=None):
    """`({model: slug}, {recipe: slug})`: the paper page of each model (its first author and
    year in a README row, else the first row naming it) and of each recipe (the account holding
    its record, else the first paper it cites, else the first row naming it); unplaced ones are
    left out."""
    recorded = records() if recorded is None else recorded
    placed_models, placed_recipes = {}, {}
    for name in models.list_models():
        entry = models.get_entry(name)
        row = _by_author_year(rows, entry.paper, entry.year) or _by_mention(rows, name)
        if row:
            placed_models[name] = row["slug"]
    for name in bundled_recipes():
        if name in recorded:
            placed_recipes[name] = recorded[name][0]
            continue
        row = _by_mention(rows, name)
        slugs = cited(rows, _recipe(name)) or ([row["slug"]] if row else [])
        if slugs:
            placed_recipes[name] = slugs[0]
    return placed_models, placed_recipes


def recipe_models(recipe):
    """The registered models a recipe trains, in any of its variants."""
    names = [recipe.get("model", {}).get("name")]
    names += [v.get("model", {}).get("name") for v in recipe.get("variants", {}).values()]
    return {n for n in names if n in models.list_models()}


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
                     f"{_table_cell(f.source)} |")
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
        size = f"{c.size_bytes / 1e6:.1f} MB" if c.size_bytes else "-"
        lines.append(f"| {c.source}{' (default)' if c is default else ''} | [`{c.file_name}`]"
                     f"({c.url}) | {size} | {c.top1:.2f}% | `{c.preprocessing}` |")
    return lines + [""]


MOBILE = ROOT / "docs" / "mobile.json"  # `python -m benchmarks.mobile --docs docs/mobile.json`


@functools.cache
def mobile_report():
    """The committed mobile report (`benchmarks.mobile`)."""
    return json.loads(MOBILE.read_text())


def mobile_rows(record, with_model=True):
    """Table lines of one model's record in the mobile report, a row per quantization mode."""
    lines = []
    for mode, found in record["modes"].items():
        gpu = "yes" if found["gpu_compatible"] else (
            f"no: {found['gpu_first_incompatible'] or 'see the Analyzer'}")
        cells = [mode, f"{found['size_bytes'] / 1024:,.1f}", str(found["ops"]), gpu,
                 *(f"{found.get(f'latency_ms_{n}_threads', float('nan')):.3f}" for n in (1, 2))]
        lines.append("| " + " | ".join([f"`{record['model']}`"] * with_model + cells) + " |")
    return lines


MOBILE_HEADER = "mode | size (KB) | ops | GPU delegate | 1 thread (ms) | 2 threads (ms) |"


ACCURACY_HEADER = "| recipe | variant | seed | Keras | float file | int8 file |"


def accuracy_rows(report, name=None, root=""):
    """Table lines of the report's recipe accuracies (of model `name` only, when given), linking
    the recipe pages from a page `root` (e.g. "../") below the site's root."""
    return [f"| [`{r['recipe']}`]({root}recipes/{r['recipe']}.md) | {r['variant']} | {r['seed']} | "
            + " | ".join(f"{100 * r[k]:.2f}%" if k in r else "-" for k in ("keras", "float", "int8"))
            + " |" for r in report.get("accuracy", []) if name in (None, r["model"])]


def mobile_page(report):
    """The documentation's mobile page: every model's TFLite files from one report."""
    machine = report["machine"]
    instances = ("`build_small()` test instances" if report["small"]
                 else "full-size models (each builder at its defaults)")
    note = f" {report['note']}" if report.get("note") else ""
    holds = "; ".join(f"`{r['model']}`: {r['network']}" for r in report["records"]
                      if r["network"] != r["model"])
    return "\n".join([
        "# Mobile report", "",
        "Every registered model's TFLite files, as mobile model zoos tabulate them: "
        "`garden.export.tflite` in each quantization mode (int8: full-integer, int8 inputs and "
        "outputs, calibrated on random inputs), the file's size, its op count, whether TFLite's "
        "GPU delegate runs every op (`tf.lite.experimental.Analyzer(gpu_compatibility=True)`, "
        "the first incompatible op named) and its batch-1 latency with LiteRT on the CPU "
        "(XNNPACK), median over repetitions. Peak memory is not reported: LiteRT's Python "
        "interpreter does not expose it.", "",
        f"Generated from `python -m benchmarks.mobile --docs docs/mobile.json`, one run on "
        f"{machine['cpu']} ({machine['cores']} cores), {report['date']}, {instances}, LiteRT "
        f"{report['versions'].get('ai-edge-litert', '?')}.{note} Absolute times compare only "
        "within this run on this machine. What each file holds, where it is not the whole "
        f"model: {holds or 'none'}.", "",
        "| model | " + MOBILE_HEADER, "|---" * 7 + "|",
        *(line for record in report["records"] for line in mobile_rows(record)), "",
        "## Accuracy after export", "",
        "Test accuracy of trained models and of their TFLite files, from the bundled recipes "
        "that export (`[export]`), as `garden train` checked each file with LiteRT on the test "
        "split: the files above are the builders' defaults, these the recipes' trained "
        "networks.", "", ACCURACY_HEADER, "|---" * 6 + "|", *accuracy_rows(report), ""])


def mobile_section(name):
    """Page lines of model `name`'s files in the mobile report (none where it has no record)."""
    report = mobile_report()
    found = [r for r in report["records"] if r["model"] == name]
    if not found:
        return []
    (record,) = found
    holds = "" if record["network"] == name else f" The file holds {record['network']}."
    lines = ["## On a phone", "",
             f"Its TFLite files at the builder's defaults, from the [mobile report](../mobile.md) "
             f"({report['machine']['cpu']}, {report['date']}).{holds}", "",
             "| " + MOBILE_HEADER, "|---" * 6 + "|", *mobile_rows(record, with_model=False), ""]
    accuracy = accuracy_rows(report, name, root="../")
    if accuracy:
        lines += ["Trained by a bundled recipe, the test accuracy of its files:", "",
                  ACCURACY_HEADER, "|---" * 6 + "|", *accuracy, ""]
    return lines


def features_section(name):
    """Page lines on the model's stage features (none where it has none)."""
    patterns = models.get_entry(name).feature_layers
    if not patterns:
        return []
    return [f"Stage features: `models.features({name!r})` is a multi-output model of its "
            "feature maps, one per stride (input size / feature size; `strides=(8, 16)` picks "
            "some), for a detection or segmentation head. Each is the deepest layer at its "
            f"stride named like {', '.join(f'`{p}`' for p in patterns)}; "
            "`models.feature_layers(model)` names them for a built model.", ""]


def _paper_line(paper_slug):
    """The account's `**Paper:**` line (its first), or None."""
    first = account(paper_slug).split("\n", 1)[0]
    return first if first.startswith("**Paper:**") else None


def model_page(name, paper_slug=None):
    """The page of one registered model: registry facts, usage and the builder's docstring
    (its summary and a table of its arguments)."""
    entry = models.get_entry(name)
    line = _paper_line(paper_slug) if paper_slug else None
    twin = f"`{entry.keras_application}`" if entry.keras_application else "none"
    lines = [f"# `{name}`", "",
             line or f"**Paper:** [{entry.paper} ({entry.year})]({entry.arxiv})", ""]
    if paper_slug:
        lines += [f"What garden implements for the paper, and the measured results: "
                  f"[the paper's page](../papers/{paper_slug}.md).", ""]
    lines += [
        f"- **Task:** {entry.task}",
        f"- **Default input:** `{entry.input_shape}`",
        f"- **keras.applications twin:** {twin}",
        f"- **Arguments:** {', '.join(f'`{a}`' for a in entry.arguments)}",
        "",
    ]
    lines += figures_table([name])
    lines += checkpoints_table(name)
    lines += mobile_section(name)
    lines += ["## Usage", "", "```python", usage_snippet(name).rstrip(), "```", "",
              *features_section(name),
              f"`garden info {name}` prints the parameters; `garden info {name} --layers` "
              "the multiply-adds per layer.", "",
              "## Reference", ""]
    summary, arguments = builder_docs(name)
    lines += [summary, ""]
    if arguments:
        lines += ["| argument | description |", "|---|---|"]
        lines += [f"| `{a}` | {_table_cell(d)} |" for a, d in arguments]
        lines.append("")
    lines += [f"Source: `{entry.builder.__module__}.{entry.builder.__name__}`; every public "
              "name of the package: [`garden.models`](../api/models.md).", ""]
    return "\n".join(lines)


def recipe_source(name):
    """The bundled recipe's TOML text."""
    return (importlib.resources.files("garden.recipes") / "training" / f"{name}.toml").read_text()


def _toml_key(key):
    return key if re.fullmatch(r"[\w-]+", key) else json.dumps(key)


def _toml(value):
    """A value as TOML writes it inline: `{class_name = "Adam", config = {rate = 0.1}}`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    return json.dumps(value)  # strings, numbers, true / false


def _overrides(variant):
    """A variant's overrides as the TOML lines that write them: `train.epochs = 5`, one per
    key of a section."""
    lines = []
    for section, value in variant.items():
        if isinstance(value, dict):
            lines += [f"{section}.{_toml_key(k)} = {_toml(v)}" for k, v in value.items()]
        else:
            lines.append(f"{section} = {_toml(value)}")
    return lines


def recipe_page(name, recorded, paper_slug=None):
    """The page of one bundled recipe: its claim, variants, its own measured result (its
    record), the command that runs it and its TOML file."""
    recipe = _recipe(name)
    paper = recipe.get("paper", "-")
    if paper_slug:
        paper += f" ([the paper's page](../papers/{paper_slug}.md))"
    lines = [f"# Recipe `{name}`", "", f"**Paper:** {paper}", ""]
    if recipe.get("claim"):
        lines += [f"**Claim:** {recipe['claim']}", ""]
    if recipe.get("description"):
        lines += [recipe["description"], ""]
    if recipe.get("time"):
        lines += [f"**Run time:** {recipe['time']}", ""]
    if recipe_models(recipe):
        lines += ["**Models:** " + ", ".join(f"[`{m}`](../models/{m}.md)"
                                             for m in sorted(recipe_models(recipe))), ""]
    lines += [f"**Seeds:** {', '.join(map(str, recipe['seeds']))}", ""]
    if recipe.get("variants"):
        lines += ["## Variants", "", "| variant | overrides |", "|---|---|"]
        lines += [f"| `{v}` | " + ("<br>".join(_table_cell(f"`{d}`") for d in _overrides(o))
                                   or "none: the recipe as written") + " |"
                  for v, o in recipe["variants"].items()]
        lines.append("")
    lines += ["## Measured result", ""]
    if name in recorded:
        home, text = recorded[name]
        lines += [text, "", f"Recorded on [the paper's page](../papers/{home}.md).", ""]
    else:
        lines += ["Not measured yet: run it; `garden train` prints the results table and writes "
                  f"`runs/{name}/results.json`.", ""]
    lines += ["## Run it", "", "```bash", *run_commands(name, recorded), "```", "",
              "A bundled recipe runs by its name from any directory; its runs go to "
              f"`runs/{name}/` (`--runs-dir` to change), and a second run resumes or reuses them.",
              "", "## The recipe file", "", "```toml", recipe_source(name).rstrip(), "```", ""]
    return "\n".join(lines)


def _recipe_list(names):
    return [f"- [`{r}`](../recipes/{r}.md): {_recipe(r).get('claim', '')}"
            for r in names] + [""]


def paper_page(row, model_names, recipe_names, user_names=()):
    """The page of one README paper row: its paper link, one-line summary and account (each
    recipe's record linked to the recipe's page), its models, its recipes, the other recipes
    that train its models, and its notes."""
    text = account(row["slug"])
    line = _paper_line(row["slug"])
    if line:
        text = text.split("\n", 1)[1].strip()
    text = re.sub(r"^## Measured: `(\w+)`$", r"## Measured: [`\1`](../recipes/\1.md)", text,
                  flags=re.MULTILINE)
    lines = [f"# {_cell(row['paper'])}", ""]
    if line:
        lines += [line, ""]
    lines += ["| in garden | headline result |", "|---|---|",
              f"| {_table_cell(row['garden'])} | {_table_cell(row['result'])} |", "", text, ""]
    lines += figures_table(model_names)
    if model_names:
        lines += ["## Models", "", "| model | task | default input |", "|---|---|---|"]
        for m in model_names:
            e = models.get_entry(m)
            lines.append(f"| [`{m}`](../models/{m}.md) | {e.task} | `{e.input_shape}` |")
        lines.append("")
    if recipe_names:
        lines += ["## Recipes", "", *_recipe_list(recipe_names)]
    if user_names:
        lines += ["## Recipes that train these models", "", *_recipe_list(user_names)]
    if row["slug"] in NOTES:
        lines += ["## Notes", ""]
        lines += [f"- [{n.replace('_', ' ')}](../notes/{n}.md)" for n in NOTES[row["slug"]]]
        lines.append("")
    return "\n".join(lines)


def pages(readme=None):
    """Every generated page as `{path under docs/: markdown}`."""
    rows = paper_rows(readme)
    recorded = records()
    model_slug, recipe_slug = assign(rows, recorded)
    recipes = {name: _recipe(name) for name in bundled_recipes()}
    out = {}
    index = ["# Papers", "", "Every paper of the reading list: what garden builds for it and the "
             "headline of what its recipes measured (each paper's page has the whole account).", "",
             "| paper | in garden | headline result |", "|---|---|---|"]
    for row in rows:
        ms = [m for m, s in model_slug.items() if s == row["slug"]]
        rs = [r for r in recipes if recipe_slug.get(r) == row["slug"]
              or row["slug"] in cited(rows, recipes[r])]
        users = [r for r in recipes if r not in rs and recipe_models(recipes[r]) & set(ms)]
        out[f"papers/{row['slug']}.md"] = paper_page(row, ms, rs, users)
        index.append(f"| [{_cell(row['paper'])}]({row['slug']}.md) | "
                     f"{_table_cell(row['garden'])} | {_table_cell(row['result'])} |")
    out["papers/index.md"] = "\n".join(index) + "\n"
    model_index = ["# Models", "", "| model | paper | year | task |", "|---|---|---|---|"]
    for name in models.list_models():
        entry = models.get_entry(name)
        out[f"models/{name}.md"] = model_page(name, model_slug.get(name))
        model_index.append(f"| [`{name}`]({name}.md) | {entry.paper} | {entry.year} | {entry.task} |")
    model_index += ["", "## Backbones and stage features", "",
                    "Every image classifier takes keras.applications' arguments: "
                    "`include_top=False` returns its last feature map, `pooling=\"avg\"` or "
                    "`\"max\"` its global average or maximum. `models.features(name, "
                    "strides=(4, 8, 16, 32), **builder_arguments)` returns its stage features "
                    "as one multi-output model (timm's `features_only`, KerasHub's "
                    "`pyramid_outputs`); a model page lists the layers they are read from. "
                    "[`deeplab`](deeplab.md) builds on them."]
    out["models/index.md"] = "\n".join(model_index) + "\n"
    out["mobile.md"] = mobile_page(mobile_report())
    special = [c for n in recipes for c in run_commands(n, recorded) if c != f"garden train {n}"]
    recipe_index = ["# Recipes", "",
                    "Each bundled recipe runs by its name, from any directory:", "", "```bash",
                    f"garden train {next(iter(recipes))}", "```", ""]
    if special:
        recipe_index += ["Those that need more than their name:", "", "```bash",
                         *special, "```", ""]
    recipe_index += ["| recipe | claim |", "|---|---|"]
    for name, recipe in recipes.items():
        out[f"recipes/{name}.md"] = recipe_page(name, recorded, recipe_slug.get(name))
        recipe_index.append(f"| [`{name}`]({name}.md) | {recipe.get('claim', '')} |")
    out["recipes/index.md"] = "\n".join(recipe_index) + "\n"
    for module in API_MODULES:
        out[f"api/{module}.md"] = f"# `garden.{module}`\n\n::: garden.{module}\n"
    return out
