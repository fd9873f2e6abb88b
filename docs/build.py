"""Build the course's static site from the committed, executed notebooks (no re-execution).

    python docs/build.py [OUT]      # default OUT: _build/site; run with the course's venv (.venv)

`python3 course.py site` sets up .venv and runs this. Steps: fill _build/src/ (next to OUT) with
index.md, made from README.md (the landing page; the notebook table's links to
notebooks/NN_name.ipynb become links to the notebook pages, other relative links point at the
repository, and a table of contents lists the notebooks in course order), and a copy of
notebooks/; then run Sphinx (docs/conf.py: MyST-NB, the book theme, MathJax bundled from PyPI)
into OUT, from scratch each time. Works offline once the packages of requirements.txt are
installed. Prints the build time and the number of pages.
"""
import re
import shutil
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "tools"))
import colab  # noqa: E402

LINK = re.compile(r"(\]\()([^)\s]+)(\))")


def landing_page(readme, notebooks, repository):
    """README.md as the site's index.md, with its links fixed and the course's table of contents."""
    def fix(match):
        target = match.group(2)
        if re.match(r"^(https?:|mailto:|#)", target):
            return match.group(0)
        if target.startswith("notebooks/") and target.endswith(".ipynb"):
            return match.group(0)          # MyST resolves it to the notebook's page
        return f"{match.group(1)}{repository}/blob/{colab.BRANCH}/{target}{match.group(3)}"

    text = LINK.sub(fix, readme)
    toc = "\n".join(f"notebooks/{p.stem}" for p in notebooks)
    return f"{text.rstrip()}\n\n```{{toctree}}\n:hidden:\n:maxdepth: 1\n:caption: The notebooks\n\n{toc}\n```\n"


def stage(src, folder=ROOT / "notebooks"):
    """Fill `src` with index.md and the notebooks of `folder`; drop notebooks that no longer exist."""
    notebooks = sorted(Path(folder).glob("*.ipynb"))
    (src / "notebooks").mkdir(parents=True, exist_ok=True)
    for old in (src / "notebooks").glob("*.ipynb"):
        if not (Path(folder) / old.name).exists():
            old.unlink()
    for path in notebooks:
        shutil.copy2(path, src / "notebooks" / path.name)
    repository = colab.repository_url(ROOT / "pyproject.toml")
    (src / "index.md").write_text(landing_page((ROOT / "README.md").read_text(encoding="utf-8"), notebooks, repository),
                                  encoding="utf-8")
    return notebooks


def build(out=ROOT / "_build" / "site", quiet=True, notebooks=ROOT / "notebooks"):
    """Build the site into `out` from the notebooks in `notebooks` (the course's, by default);
    returns {"seconds", "pages", "notebooks", "warnings"}."""
    from sphinx.cmd.build import build_main

    out = Path(out).resolve()
    work = out.parent / f"{out.name}-work"
    src, doctrees = work / "src", work / "doctrees"
    started = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    notebooks = stage(src, notebooks)
    warnings = work / "warnings.txt"
    args = ["-b", "html", "-E", "-c", str(DOCS), "-d", str(doctrees), "-w", str(warnings), str(src), str(out)]
    code = build_main((["-q"] if quiet else []) + args)
    if code:
        raise SystemExit(f"sphinx-build failed ({code}); see the messages above")
    seconds = time.monotonic() - started
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    return {"seconds": seconds, "pages": pages, "notebooks": [p.stem for p in notebooks],
            "warnings": warnings.read_text(encoding="utf-8").strip()}


def main(argv):
    out = Path(argv[0]) if argv else ROOT / "_build" / "site"
    result = build(out)
    if result["warnings"]:
        print(result["warnings"])
    content = [p for p in result["pages"] if p == "index.html" or p.startswith("notebooks/")]
    print(f"built the site in {result['seconds']:.1f} s: {len(result['pages'])} HTML pages "
          f"({len(content)} of content: the landing page and {len(content) - 1} notebooks) in {out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
