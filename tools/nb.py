"""Small notebook chores for contributors (hand-written infrastructure, not part of nblib).

    python tools/nb.py from-py draft.py notebooks/05_tanh.ipynb   # percent-format draft -> notebook
    python tools/nb.py to-py notebooks/05_tanh.ipynb draft.py      # notebook -> percent-format draft
    python tools/nb.py run notebooks/05_tanh.ipynb [...]           # execute in place, outputs stored

A draft uses jupytext's "percent" cells: a line `# %%` starts a code cell and `# %% [markdown]`
a Markdown cell whose lines are commented with `# `. Notebooks stay the source of truth; drafts
are a convenience for writing them in an editor.
"""
import subprocess
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


def run(*notebooks):
    for notebook in notebooks:
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                        "--inplace", "--ExecutePreprocessor.timeout=1800",
                        "--ExecutePreprocessor.kernel_name=python3", notebook], check=True)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"from-py": from_py, "to-py": to_py, "run": run}[command](*args)
