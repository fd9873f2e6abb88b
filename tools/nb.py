"""Small notebook chores for contributors (hand-written infrastructure, not part of nblib).

    python tools/nb.py from-py draft.py notebooks/05_tanh.ipynb   # percent-format draft -> notebook
    python tools/nb.py to-py notebooks/05_tanh.ipynb draft.py      # notebook -> percent-format draft
    python tools/nb.py run notebooks/05_tanh.ipynb [...]           # execute in place, outputs stored
    python tools/nb.py strip-widgets notebooks/*.ipynb              # drop stored slider views (run does it)

A draft uses jupytext's "percent" cells: a line `# %%` starts a code cell and `# %% [markdown]`
a Markdown cell whose lines are commented with `# `. Notebooks stay the source of truth; drafts
are a convenience for writing them in an editor.
"""
import sys
from pathlib import Path

import nbformat


def from_py(draft, notebook):
    cells, kind, lines = [], None, []

    def flush():
        text = "\n".join(lines).strip("\n")
        if kind == "markdown":
            text = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in text.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(text))
        elif kind == "code":
            cells.append(nbformat.v4.new_code_cell(text))

    for line in Path(draft).read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            lines.append(line)
    flush()
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    nbformat.write(nb, notebook)


def to_py(notebook, draft):
    nb = nbformat.read(notebook, as_version=4)
    out = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            out.append("# %% [markdown]\n" + "\n".join("# " + l if l else "#" for l in cell.source.splitlines()))
        elif cell.cell_type == "code":
            out.append("# %%\n" + cell.source)
    Path(draft).write_text("\n\n".join(out) + "\n", encoding="utf-8")


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def strip_widgets(nb):
    """Drop every widget view from the stored outputs, and the saved widget state.

    A stored slider is only a view of a kernel-side object: JupyterLab, opening the file, cannot
    restore it and shows its text fallback `interactive(children=...)` instead. Without it the
    reader sees nothing until the cell runs; the ordinary cell below each slider keeps the static plot.
    """
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
    nb.metadata.pop("widgets", None)
    return nb


def run(*notebooks):
    """Execute each notebook in place, one cell after another in a fresh kernel, then strip widgets.

    nbclient's execute_cell, cell by cell: `jupyter nbconvert --execute` sometimes hung here with
    an idle kernel (see shared/NOTES.md). Stops at the first cell that raises.
    """
    from nbclient import NotebookClient

    for notebook in notebooks:
        path = Path(notebook).resolve()
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=1800, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
        nbformat.write(strip_widgets(nb), path)
        print(f"ran {notebook}", flush=True)


def strip(*notebooks):
    for notebook in notebooks:
        nbformat.write(strip_widgets(nbformat.read(notebook, as_version=4)), notebook)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"from-py": from_py, "to-py": to_py, "run": run, "strip-widgets": strip}[command](*args)
