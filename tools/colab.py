"""Open in Colab: a badge and an install cell at the top of every notebook, from one URL.

    python tools/colab.py stamp          # write the badge (1st cell) and install cell (2nd) into every notebook
    python tools/colab.py check          # exit 1, naming the notebook, if any is missing, stale or a placeholder remains
    python tools/colab.py readme-table   # print README's notebook table with a Colab badge column
    python tools/colab.py readme-table --write   # ... and write it into README.md in place of the old table
    (each takes an optional --notebooks DIR, default notebooks/)

The repository's URL is written in one place: `[project.urls] Repository` in pyproject.toml. Every
badge and install cell is derived from it, so changing the URL there and running `stamp` moves
them all; `check` (and tests/test_colab.py) fails while any disagrees.

- The badge: a Markdown cell with the cell id `colab-badge` holding Colab's HTML badge, a link to
  https://colab.research.google.com/github/<owner>/<repo>/blob/main/notebooks/<file>.
- The install cell: a code cell with the cell id `colab-install` (tagged `remove-cell`, so the
  static site leaves it out) that runs `%pip install` only when `google.colab` is imported, i.e.
  only inside Colab, and prints nothing anywhere else (stable under nbval). It is plain Python
  (`get_ipython().run_line_magic`), because the course's teaching-order test parses every code
  cell with `ast` after dropping lines that start with `%` or `!`, and an `if` whose body was a
  `%pip` line would not parse. It installs `nblib` from the repository and tqdm; Colab already has
  NumPy, matplotlib and ipywidgets 7 (the sliders use `ipywidgets.interact`, which works with 7
  and 8). It does not ask for the `course` extra while that extra requires ipywidgets>=8: pip
  would then replace Colab's pinned ipywidgets 7.7.1.
- Stamping is idempotent: an existing badge or install cell (found by its id) is replaced in
  place (its outputs and execution count are kept when its source is already right), never
  duplicated; other cells are not touched, except that the old placeholder instruction
  ("In Colab, first run `%pip install git+<URL of the course repository>` ...") is removed
  and the introduction's Colab paragraph is rewritten to describe the badge.
Hand-written infrastructure, not part of nblib. Needs Python 3.9+ and nothing else.
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PYPROJECT = ROOT / "pyproject.toml"
README = ROOT / "README.md"

BADGE_ID, INSTALL_ID = "colab-badge", "colab-install"
BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"
BRANCH = "main"
EXTRA_PACKAGES = ('"tqdm>=4.60"',)   # what the notebooks use that Colab might lack, besides nblib
PLACEHOLDER = "<URL"                  # what every old instruction contained
PLACEHOLDER_LINE = re.compile(r"^\*In Colab, first run .*<URL[^\n]*\*[ \t]*$", re.M)
INTRO_COLAB = (
    "**Google Colab.** Open a notebook with the *Open in Colab* badge at its top (on GitHub, on the\n"
    "course's site, or in the README's table of notebooks). Its first code cell installs the course\n"
    "(`nblib` from the repository, with NumPy, pooch and tqdm) when it runs in Colab, and does nothing\n"
    "anywhere else; then run the notebook top to bottom. Colab already has matplotlib and ipywidgets.\n"
    "The MNIST notebooks download the data on first use.")


def repository_url(pyproject=PYPROJECT):
    """`Repository` (else `Homepage`) of `[project.urls]` in pyproject.toml, without a trailing / or .git."""
    text = Path(pyproject).read_text(encoding="utf-8")
    try:
        import tomllib
        urls = tomllib.loads(text).get("project", {}).get("urls", {})
    except ImportError:   # Python < 3.11: read the one table we need by hand
        table = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        urls = dict(re.findall(r'^\s*"?([A-Za-z][\w -]*?)"?\s*=\s*"([^"]+)"', table.group(1), re.M)) if table else {}
    url = urls.get("Repository") or urls.get("Homepage")
    if not url:
        raise SystemExit(f"{pyproject}: no [project.urls] Repository (the course repository's URL)")
    url = url.rstrip("/")
    return url[:-4] if url.endswith(".git") else url


def github_path(url):
    """'owner/repo' of a https://github.com/owner/repo URL."""
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+)", url)
    if not match:
        raise SystemExit(f"the repository URL {url!r} is not https://github.com/<owner>/<repo> (Colab opens GitHub URLs)")
    return f"{match.group(1)}/{match.group(2)}"


def colab_link(url, name):
    return f"https://colab.research.google.com/github/{github_path(url)}/blob/{BRANCH}/notebooks/{name}"


def badge_markdown(url, name):
    return f"[![Open In Colab]({BADGE_SVG})]({colab_link(url, name)})"


def badge_source(url, name):
    """The notebooks' badge: Colab's own HTML form (a Markdown link ending in .ipynb would read as a
    link to another notebook to tests/test_introduction.py, and HTML renders alike on GitHub, in
    JupyterLab, in Colab and on the site)."""
    return f'<a href="{colab_link(url, name)}" target="_parent"><img src="{BADGE_SVG}" alt="Open In Colab"/></a>'


def install_command(url):
    """The pip arguments the install cell passes (also what tools/colab_run.py installs)."""
    return " ".join(["install --quiet", f'"nblib @ git+{url}"', *EXTRA_PACKAGES])


def install_source(url):
    return ("# In Google Colab, this installs the course (nblib, from its repository); elsewhere it does nothing.\n"
            "import sys\n"
            "\n"
            'if "google.colab" in sys.modules:\n'
            f"    get_ipython().run_line_magic(\"pip\", '{install_command(url)}')")


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def lines(text):
    """The notebook-on-disk form of a cell's source (a list of lines, as Jupyter writes it)."""
    return text.splitlines(keepends=True)


def without_placeholders(text):
    """Markdown with the old placeholder instructions removed (or, for the introduction's
    Colab paragraph, rewritten to describe the badge)."""
    text = PLACEHOLDER_LINE.sub("", text)
    paragraphs = [INTRO_COLAB if p.lstrip().startswith("**Google Colab.**") and PLACEHOLDER in p else p
                  for p in re.split(r"\n[ \t]*\n", text)]
    return "\n\n".join(p.strip("\n") for p in paragraphs if p.strip())


def stamp_notebook(path, url):
    """Badge first, install cell second, placeholders gone; returns True if the file changed."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    cells = nb["cells"]
    old = {c.get("id"): c for c in cells if c.get("id") in (BADGE_ID, INSTALL_ID)}
    rest = [c for c in cells if c.get("id") not in (BADGE_ID, INSTALL_ID)]
    for cell in rest:
        if cell["cell_type"] == "markdown" and PLACEHOLDER in source(cell):
            cell["source"] = lines(without_placeholders(source(cell)))

    badge = old.get(BADGE_ID) or {"cell_type": "markdown", "id": BADGE_ID, "metadata": {}, "source": []}
    badge.update(cell_type="markdown", id=BADGE_ID)
    badge.pop("outputs", None), badge.pop("execution_count", None)
    badge["source"] = lines(badge_source(url, path.name))

    install = old.get(INSTALL_ID) or {"cell_type": "code", "execution_count": None, "id": INSTALL_ID,
                                      "metadata": {}, "outputs": [], "source": []}
    if install.get("cell_type") != "code" or source(install) != install_source(url):
        install.update(cell_type="code", execution_count=None, outputs=[])
    install["id"] = INSTALL_ID
    install["source"] = lines(install_source(url))
    tags = install.setdefault("metadata", {}).setdefault("tags", [])
    if "remove-cell" not in tags:
        tags.append("remove-cell")

    nb["cells"] = [badge, install, *rest]
    if nb.get("nbformat", 4) == 4 and nb.get("nbformat_minor", 0) < 5:
        nb["nbformat_minor"] = 5   # cell ids need nbformat 4.5
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"   # as nbformat writes
    if text != raw:
        path.write_text(text, encoding="utf-8")
        return True
    return False


def problems_in(path, url):
    """Messages naming `path` for a missing or stale badge or install cell, or a placeholder left."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells, name, problems = nb["cells"], path.name, []
    if not cells or cells[0].get("id") != BADGE_ID or cells[0]["cell_type"] != "markdown":
        problems.append(f"{name}: the first cell is not the Open in Colab badge (run: python tools/colab.py stamp)")
    elif source(cells[0]) != badge_source(url, name):
        problems.append(f"{name}: the Colab badge does not match {url} (run: python tools/colab.py stamp)")
    if len(cells) < 2 or cells[1].get("id") != INSTALL_ID or cells[1]["cell_type"] != "code":
        problems.append(f"{name}: the second cell is not the Colab install cell (run: python tools/colab.py stamp)")
    elif source(cells[1]) != install_source(url):
        problems.append(f"{name}: the Colab install cell does not match {url} (run: python tools/colab.py stamp)")
    elif cells[1]["outputs"]:
        problems.append(f"{name}: the Colab install cell has stored outputs (it must print nothing outside Colab)")
    ids = [c.get("id") for c in cells]
    for cell_id in (BADGE_ID, INSTALL_ID):
        if ids.count(cell_id) > 1:
            problems.append(f"{name}: {ids.count(cell_id)} cells with the id {cell_id}")
    for i, cell in enumerate(cells):
        if PLACEHOLDER in source(cell):
            problems.append(f"{name}, cell {i}: a placeholder '{PLACEHOLDER}...' remains")
    return problems


def notebooks(folder=NOTEBOOKS):
    return sorted(Path(folder).glob("*.ipynb"))


def stamp(folder=NOTEBOOKS, url=None):
    url = url or repository_url()
    return [p.name for p in notebooks(folder) if stamp_notebook(p, url)]


def check(folder=NOTEBOOKS, url=None):
    url = url or repository_url()
    found = notebooks(folder)
    problems = [] if found else [f"{folder}: no notebooks"]
    for path in found:
        problems += problems_in(path, url)
    return problems


TABLE_ROW = re.compile(r"^\| *(\d\d) *\| *\[[^\]]*\]\(notebooks/([^)]+\.ipynb)\) *\|")


def readme_table(readme=README, url=None):
    """(old table text, new table text): README's notebook table with a Colab badge column."""
    url = url or repository_url()
    text = Path(readme).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("| #"))
    end = start
    while end < len(text) and text[end].startswith("|"):
        end += 1
    old = text[start:end]
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in old]
    has_column = cells[0][-1].lower() == "colab"
    new = []
    for line, row in zip(old, cells):
        row = row[:-1] if has_column else row
        match = TABLE_ROW.match(line)
        if row == cells[0][:len(row)] and line is old[0]:
            row = row + ["Colab"]
        elif set("".join(row)) <= set("- :"):
            row = row + ["---"]
        else:
            row = row + [badge_markdown(url, match.group(2)) if match else ""]
        new.append("| " + " | ".join(row) + " |")
    return "\n".join(old), "\n".join(new)


def main(argv):
    args = list(argv)
    folder = NOTEBOOKS
    if "--notebooks" in args:
        i = args.index("--notebooks")
        folder = Path(args[i + 1])
        del args[i:i + 2]
    if args[:1] == ["stamp"]:
        changed = stamp(folder)
        print(f"stamped {len(changed)} notebook(s) from {repository_url()}" + (": " + ", ".join(changed) if changed else ""))
        return 0
    if args[:1] == ["check"]:
        problems = check(folder)
        for problem in problems:
            print(problem)
        if problems:
            return 1
        print(f"every notebook in {folder} has the Colab badge and install cell for {repository_url()}")
        return 0
    if args[:1] == ["readme-table"]:
        old, new = readme_table()
        if "--write" in args:
            README.write_text(README.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
            print("README.md: notebook table written with a Colab column")
        else:
            print(new)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
