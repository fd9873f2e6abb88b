"""Sphinx configuration of the course's static site (built by `python3 course.py site`, see docs/build.py).

The source folder is _build/src/, which docs/build.py fills before each build: index.md (the README,
its links to notebooks/NN_name.ipynb kept as links to the notebook pages and its other relative links
pointed at the repository) and a copy of notebooks/. The site is rendered from the committed,
executed notebooks: MyST-NB never executes them (nb_execution_mode = "off").

Nothing is loaded from outside the site when a page is read:
- MathJax 3 comes from the PyPI package django-static-mathjax (MathJax 3.2.2's files in a wheel, no
  dependencies, pinned in requirements.txt): its es5/ folder is copied into _static/mathjax/ after
  each build and `mathjax_path` points there. (Chosen over npm so that a machine without node, CI
  included, builds the site with pip alone.)
- MyST-NB's widget scripts (require.js and @jupyter-widgets/html-manager from a CDN) are turned
  off: the course stores no widget state in its notebooks (tools/nb.py strips it, since JupyterLab
  cannot restore it either; tests/test_notebook_files.py checks this), so there is no widget to
  embed, and each slider's static plot, drawn by the cell below it, is what the site shows.
- The Open in Colab badge image (colab.research.google.com/assets/colab-badge.svg, as GitHub shows
  it) is replaced in the HTML by a copy in _static/; the badge's link to Colab stays a link.
The theme's launch button opens each notebook in Colab too (links only).
"""
import importlib.util
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "tools"))
import colab  # noqa: E402  (the repository URL from pyproject.toml, the badge image's URL)

REPOSITORY = colab.repository_url(ROOT / "pyproject.toml")

project = "Neural networks from scratch, in NumPy"
author = "the course's authors"
copyright = "the course's authors"
html_title = project
extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# notebooks as they are committed, never re-executed
nb_execution_mode = "off"
nb_ipywidgets_js = {}
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]   # some notebooks go from # to ### on purpose

mathjax_path = "mathjax/es5/tex-mml-chtml.js"

html_theme = "sphinx_book_theme"
html_static_path = [str(DOCS / "_static")]
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = True
# the theme's light/dark switch starts from "auto" (without it the page logs "Got invalid theme mode")
html_context = {"default_mode": "auto"}
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": colab.BRANCH,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
    "home_page_in_toc": True,
    "show_toc_level": 2,
}


def _mathjax_es5():
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax is missing: pip install django-static-mathjax (see requirements.txt)")
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"


def _finish(app, exception):
    """Bundle MathJax and point the Colab badge image at the local copy."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    source = _mathjax_es5()
    shutil.copytree(source / "es5", out / "_static" / "mathjax" / "es5", dirs_exist_ok=True)
    shutil.copy(source / "LICENSE", out / "_static" / "mathjax" / "LICENSE")
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if colab.BADGE_SVG in text:
            local = "../" * (len(page.relative_to(out).parts) - 1) + "_static/colab-badge.svg"
            page.write_text(text.replace(colab.BADGE_SVG, local), encoding="utf-8")


def setup(app):
    app.connect("build-finished", _finish)
    return {"parallel_read_safe": True}
