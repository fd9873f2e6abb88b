"""The introduction's table of contents must list every notebook, in course order, and nothing else."""
import json
import re
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def toc_links():
    cells = json.loads((NOTEBOOKS / "00_introduction.ipynb").read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    table = text[text.index("## The notebooks, in course order"):]
    table = table[: table.index("\n\n", table.index("| --- |"))]
    return re.findall(r"\]\(([^)]+\.ipynb)\)", table)


def test_table_of_contents_lists_every_notebook_in_order():
    on_disk = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert toc_links() == on_disk


def test_notebook_names_are_numbered_in_course_order():
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    numbers = [int(re.match(r"(\d\d)_[a-z0-9_]+\.ipynb$", n).group(1)) for n in names]
    assert numbers == list(range(len(names))), names


def test_every_link_between_notebooks_resolves():
    for nb in NOTEBOOKS.glob("*.ipynb"):
        cells = json.loads(nb.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        for target in re.findall(r"\]\(([^)#]+\.ipynb)", text):
            assert (NOTEBOOKS / target).exists(), f"{nb.name} links to a missing notebook {target}"
