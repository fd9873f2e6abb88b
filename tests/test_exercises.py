"""The checked exercises (nblib/exercises): the machinery, every checker against its solution and its
typical mistakes, and the exercise sections of the notebooks.

A notebook's exercises follow "## Exercises": each starts with a Markdown heading "### Exercise N",
and a code exercise has the reader's cell (a stub that returns None) and below it a check cell
`check("name", answer)`, stored with its "not attempted yet" verdict.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nblib.exercises as ex
from nblib.exercises import Exercise, evaluate

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CONCEPT_NOTEBOOKS = [nb for nb in NOTEBOOKS if nb.name[:2] != "00"]  # 00 is the introduction
CHECK = re.compile(r"""^\s*check\(\s*["']([A-Za-z0-9_]+)["']""", re.M)


# ---- the machinery, on a small exercise made up here --------------------------------------------

def square_cases(rng):
    return [(rng.standard_normal(shape),) for shape in [(3,), (2, 4)]]


SQUARE = Exercise(name="square", notebook="99_test", title="x squared", cases=square_cases,
                  expected=lambda case: case[0] ** 2,  # the reference
                  mistakes=[("you doubled x instead of squaring it", lambda x: 2 * x)])


def stub(x):
    """The reader's cell as the notebook stores it."""
    return None


def not_implemented(x):
    raise NotImplementedError


def test_a_right_answer_is_correct():
    status, message = evaluate(SQUARE, lambda x: x * x)
    assert status == ex.CORRECT and message.startswith("✓ square")


@pytest.mark.parametrize("answer", [None, stub, not_implemented])
def test_an_unattempted_exercise_says_so(answer):
    status, message = evaluate(SQUARE, answer)
    assert status == ex.NOT_ATTEMPTED and "not attempted yet" in message


def test_a_typical_mistake_gets_its_hint():
    status, message = evaluate(SQUARE, lambda x: x + x)
    assert status == ex.WRONG and "you doubled x" in message


def test_an_unknown_mistake_gets_what_differs():
    status, message = evaluate(SQUARE, lambda x: x ** 3)
    assert status == ex.WRONG and "values differ" in message and "doubled" not in message
    status, message = evaluate(SQUARE, lambda x: (x ** 2).ravel()[:1])
    assert status == ex.WRONG and "shape (1,), expected (3,)" in message


def test_an_error_in_the_answer_is_reported_with_its_case():
    status, message = evaluate(SQUARE, lambda x: x @ np.ones(7))
    assert status == ex.WRONG and "raised ValueError" in message and "case 1 (array(3,) float64)" in message


def test_a_judged_exercise():
    odd = Exercise(name="odd", notebook="99_test", title="an odd number",
                   judge=lambda n: None if n % 2 == 1 else "an odd number leaves 1 when divided by 2",
                   mistakes=[("leaves 1", 4)])
    assert evaluate(odd, 3)[0] == ex.CORRECT
    assert evaluate(odd, 4) == (ex.WRONG, "✗ odd: an odd number leaves 1 when divided by 2")
    assert evaluate(odd, None)[0] == ex.NOT_ATTEMPTED


def test_check_prints_the_verdict(monkeypatch, capsys):
    monkeypatch.setattr(ex, "exercises", lambda: [SQUARE])
    ex.check("square", lambda x: 2 * x)
    assert capsys.readouterr().out.startswith("✗ square: you doubled x")
    with pytest.raises(KeyError, match="no exercise is called 'cube'"):
        ex.check("cube", lambda x: x)


def test_verify_fails_a_checker_that_cannot_tell_a_mistake_from_the_answer(monkeypatch):
    blind = Exercise(name="square", notebook="99_test", title="x squared", cases=lambda rng: [(np.zeros(3),)],
                     expected=lambda case: case[0] ** 2, mistakes=[("you doubled x", lambda x: 2 * x)])
    monkeypatch.setattr(ex, "solution", lambda name: (lambda x: x * x))
    lines = []
    monkeypatch.setattr(ex, "exercises", lambda: [blind])
    assert ex.verify(out=lines.append) == 1 and "the mistake 'you doubled x' is judged correct" in lines[0]
    monkeypatch.setattr(ex, "exercises", lambda: [SQUARE])
    assert ex.verify(out=lines.append) == 0
    monkeypatch.setattr(ex, "solution", lambda name: (lambda x: 2 * x))  # a wrong reference solution
    assert ex.verify(out=lines.append) == 1 and "the solution is judged wrong" in lines[-1]


# ---- every checker of the course ------------------------------------------------------------------

def test_verify_passes_for_every_exercise():
    run = subprocess.run([sys.executable, "-m", "nblib.exercises", "verify"], capture_output=True, text=True,
                         cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(ex.exercises())} exercises checked, 0 failed" in run.stdout


def test_list_names_every_exercise():
    run = subprocess.run([sys.executable, "-m", "nblib.exercises", "list"], capture_output=True, text=True,
                         cwd=ROOT)
    assert run.returncode == 0
    assert [line.split()[1] for line in run.stdout.splitlines()] == [e.name for e in ex.exercises()]


def test_exercise_names_are_unique_and_name_real_notebooks():
    names = [e.name for e in ex.exercises()]
    assert len(names) == len(set(names))
    stems = {nb.stem for nb in NOTEBOOKS}
    assert {e.notebook for e in ex.exercises()} <= stems


# ---- the notebooks' exercise sections --------------------------------------------------------------

def exercise_section(notebook):
    """The cells after the notebook's "## Exercises" heading."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and re.search(r"^## Exercises", "".join(cell["source"]), re.M):
            return cells[i:]
    return []


def text(output):
    return "".join(output.get("text", "")) if output.get("output_type") == "stream" else ""


@pytest.mark.parametrize("notebook", CONCEPT_NOTEBOOKS, ids=lambda p: p.name)
def test_every_concept_notebook_ends_with_checked_exercises(notebook):
    section = exercise_section(notebook)
    assert section, f"{notebook.name} has no '## Exercises' section"
    headings = re.findall(r"^### Exercise (\d+)", "\n".join("".join(c["source"]) for c in section
                                                            if c["cell_type"] == "markdown"), re.M)
    assert len(headings) >= 3 and headings == [str(n) for n in range(1, len(headings) + 1)], headings
    checks = [(CHECK.findall("".join(c["source"])), c) for c in section if c["cell_type"] == "code"]
    checks = [(names, c) for names, c in checks if names]
    assert len(checks) >= 2, f"{notebook.name}: fewer than two checked code exercises"
    registered = {e.name for e in ex.exercises() if e.notebook == notebook.stem}
    code = [e.name for e in ex.exercises() if e.notebook == notebook.stem and e.judge is None]
    assert len(code) >= 2, f"{notebook.name}: fewer than two checked exercises whose answer is code"
    seen = []
    for names, cell in checks:
        seen += names
        for name in names:
            assert name in registered, f"{notebook.name} checks {name!r}, not an exercise of this notebook"
            stored = "".join(text(o) for o in cell["outputs"])
            assert f"… {name}: not attempted yet" in stored, \
                f"{notebook.name}: the check of {name!r} should be stored unattempted, it shows {stored!r}"
    assert sorted(seen) == sorted(registered), f"{notebook.name}: exercises without a check cell"
