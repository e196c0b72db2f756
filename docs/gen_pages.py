"""mkdocs-gen-files script: writes the generated pages (docs/pages.py) and the TD figure."""

import sys
import tempfile
from pathlib import Path

import mkdocs_gen_files

sys.path.insert(0, str(Path(__file__).parent))
import pages  # noqa: E402

from garden.tools import td_learning  # noqa: E402

for path, text in pages.pages().items():
    with mkdocs_gen_files.open(path, "w") as f:
        f.write(text)

with tempfile.TemporaryDirectory() as tmp:
    figure = td_learning.plot_td(td_learning.cue_reward_td(), Path(tmp) / "td_learning.png")
    with mkdocs_gen_files.open("notes/td_learning.png", "wb") as f:
        f.write(figure.read_bytes())
