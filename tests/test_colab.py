"""Open in Colab: every notebook's badge and install cell agree with pyproject's repository URL.

tools/colab.py stamps them (`python tools/colab.py stamp`) and checks them (`... check`). The
stamping itself is tested on copies of the notebooks in a temporary folder (stamp, check, stamp
again: nothing changes; another URL or a missing cell is caught, naming the notebook); the install
cell is run with and without a `google.colab` module; and the course's own notebooks are checked.
"""
import ast
import re
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import colab  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
URL = colab.repository_url()


def cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


@pytest.fixture
def originals(tmp_path):
    """Copies of the course's notebooks as they were before stamping: without badge and install cell."""
    folder = tmp_path / "originals"
    folder.mkdir()
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        nb["cells"] = [c for c in nb["cells"] if c.get("id") not in (colab.BADGE_ID, colab.INSTALL_ID)]
        (folder / path.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return sorted(folder.glob("*.ipynb"))


@pytest.fixture
def stamped(tmp_path, originals):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for path in originals:
        shutil.copy(path, folder)
    colab.stamp(folder, URL)
    return folder


def test_the_url_is_a_github_repository_in_pyproject():
    assert URL.startswith("https://github.com/") and colab.github_path(URL).count("/") == 1
    assert colab.colab_link(URL, "05_tanh.ipynb") == \
        f"https://colab.research.google.com/github/{colab.github_path(URL)}/blob/main/notebooks/05_tanh.ipynb"


def test_a_stamped_copy_passes_the_check(stamped):
    assert colab.check(stamped, URL) == []
    for path in sorted(stamped.glob("*.ipynb")):
        first, second = cells(path)[:2]
        assert first["id"] == colab.BADGE_ID and first["cell_type"] == "markdown"
        assert f'blob/main/notebooks/{path.name}"' in "".join(first["source"])
        # not a Markdown link to a .ipynb, which tests/test_introduction.py would take for a notebook
        assert not re.findall(r"\]\(([^)#]+\.ipynb)", "".join(first["source"]))
        assert second["id"] == colab.INSTALL_ID and second["cell_type"] == "code" and second["outputs"] == []
        assert not any("<URL" in "".join(c["source"]) for c in cells(path)), path.name


def test_stamping_is_idempotent_and_leaves_the_other_cells_alone(stamped, originals):
    before = {p.name: p.read_bytes() for p in stamped.glob("*.ipynb")}
    assert colab.stamp(stamped, URL) == []
    assert {p.name: p.read_bytes() for p in stamped.glob("*.ipynb")} == before
    for original in originals:
        old, new = cells(original), cells(stamped / original.name)
        assert [c["id"] for c in new] == [colab.BADGE_ID, colab.INSTALL_ID] + [c["id"] for c in old]
        for a, b in zip(old, new[2:]):
            if "<URL" not in "".join(a["source"]):
                assert a == b, f"{original.name}: cell {a['id']} changed"


def test_a_changed_url_is_detected_and_restamped(stamped, originals):
    other = "https://github.com/someone-else/a-fork"
    problems = colab.check(stamped, other)
    for path in stamped.glob("*.ipynb"):
        assert f"{path.name}: the Colab badge does not match {other} (run: python tools/colab.py stamp)" in problems
        assert f"{path.name}: the Colab install cell does not match {other} (run: python tools/colab.py stamp)" in problems
    changed = colab.stamp(stamped, other)
    assert len(changed) == len(NOTEBOOKS) and colab.check(stamped, other) == []
    assert "someone-else/a-fork" in "".join(cells(stamped / NOTEBOOKS[3].name)[1]["source"])
    assert len(cells(stamped / NOTEBOOKS[3].name)) == len(cells(originals[3])) + 2   # replaced, not added


def test_a_missing_cell_or_a_placeholder_is_named(stamped):
    path = stamped / NOTEBOOKS[5].name
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"] = nb["cells"][1:]                                 # no badge
    nb["cells"][-1]["source"] = ["run `%pip install git+<URL of the course repository>`"]
    path.write_text(json.dumps(nb), encoding="utf-8")
    problems = colab.check(stamped, URL)
    assert any(p.startswith(f"{path.name}: the first cell is not the Open in Colab badge") for p in problems)
    assert any(p.startswith(f"{path.name}, cell ") and "placeholder" in p for p in problems)
    assert all(p.startswith(path.name) for p in problems)
    assert colab.main(["check", "--notebooks", str(stamped)]) == 1


def run_install_cell(source, in_colab, monkeypatch):
    calls = []

    class Shell:
        def run_line_magic(self, name, line):
            calls.append((name, line))

    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "install cell", "exec"), {"get_ipython": Shell})
    return calls


def test_the_install_cell_installs_in_colab_only(monkeypatch):
    source = colab.install_source(URL)
    assert run_install_cell(source, in_colab=False, monkeypatch=monkeypatch) == []
    calls = run_install_cell(source, in_colab=True, monkeypatch=monkeypatch)
    assert calls == [("pip", f'install --quiet "nblib @ git+{URL}" "tqdm>=4.60"')]


def test_the_install_cell_suits_the_teaching_order_parser(stamped, originals):
    spec = importlib.util.spec_from_file_location("teaching_order", ROOT / "tests" / "test_teaching_order.py")
    order = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(order)
    ast.parse(colab.install_source(URL))
    assert order.nblib_uses(stamped / NOTEBOOKS[1].name) == \
        [(cell + 2, name) for cell, name in order.nblib_uses(originals[1])]


def test_the_readme_table_gets_a_badge_per_notebook(tmp_path):
    old, new = colab.readme_table(ROOT / "README.md", URL)
    rows = [line for line in new.splitlines() if "](notebooks/" in line]
    assert len(rows) == len(NOTEBOOKS)
    for row, path in zip(rows, NOTEBOOKS):
        assert row.endswith(f"| {colab.badge_markdown(URL, path.name)} |"), row
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n\n{new}\n\nmore\n", encoding="utf-8")
    assert colab.readme_table(readme, URL)[1] == new   # run again on its own output: unchanged


def test_the_course_notebooks_are_stamped():
    """Fails until `python tools/colab.py stamp` has been run on the course's notebooks."""
    assert colab.check(ROOT / "notebooks", URL) == []
