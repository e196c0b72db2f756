"""A griffe extension: garden's docstrings title their doctests "Example:" (keras-hub's style),
some with the doctest lines at the title's own indentation; griffe's Google parser reads only an
indented "Examples:" section as code, so this rewrites the section on load."""

import re

import griffe

_TITLE = re.compile(r"^(\s*)Examples?:\s*$")


def indent_examples(text):
    """`text` with each "Example:" title made "Examples:" and its block indented under it."""
    lines, out, indent = text.splitlines(), [], None
    for line in lines:
        title = _TITLE.match(line)
        if title:
            indent = title.group(1)
            out.append(f"{indent}Examples:")
            continue
        if indent is not None and not line.strip():
            indent = None
        elif indent is not None and len(line) - len(line.lstrip()) <= len(indent):
            line = indent + "    " + line.lstrip()
        out.append(line)
    return "\n".join(out)


class DoctestExamples(griffe.Extension):
    """Applies `indent_examples` to every docstring."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None and "Example:" in obj.docstring.value:
            obj.docstring.value = indent_examples(obj.docstring.value)
