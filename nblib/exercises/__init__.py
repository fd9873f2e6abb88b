"""Checked exercises: each notebook's exercises, a checker for each, and reference solutions.

In a notebook, below the cell where you write your answer:

    from nblib.exercises import check
    check("prelu", prelu)

prints ✓ when `prelu` agrees with an independent reference on random cases (shapes, dtypes, edge
values), or ✗ with the likely mistake, or says the exercise is not attempted yet while your
function still returns None (or raises NotImplementedError).

    python -m nblib.exercises list              # every exercise, by notebook
    python -m nblib.exercises verify            # every checker against its solution and typical mistakes
    python -m nblib.exercises solution prelu    # print one reference solution (try first!)

Hand-written infrastructure, not taught in a notebook. The exercises of notebook NN are in
`nblib/exercises/nbNN.py` (a list `EXERCISES`), their reference solutions in
`nblib/exercises/solutions/nbNN.py`, one function (or value) per exercise, named as the exercise.
"""
import importlib
import inspect
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

__all__ = ["Exercise", "NotAttempted", "check", "number_judge", "evaluate", "exercises", "find", "solution", "verify"]

NOTEBOOKS = tuple(f"nb{n:02d}" for n in range(1, 26))  # one module per concept notebook, in course order

CORRECT, WRONG, NOT_ATTEMPTED = "correct", "wrong", "not attempted"


class NotAttempted(Exception):
    """The reader's answer is still the stub."""


@dataclass
class Exercise:
    """One checked exercise.

    The reader's `answer` is run on each case by `run(answer, case)` (default: `answer(*case)`) and
    compared with `expected(case)`, an independent reference. Or, for answers that are values with
    many right choices, `judge(answer)` returns None when it is right and a hint when not.
    `mistakes` are typical wrong answers with the hint each deserves: `(hint, wrong_answer)`, where
    `wrong_answer` has the same form as the reader's answer. When the reader's output matches a
    mistake's, the checker shows that hint; `verify` checks that every mistake is caught with its hint.
    """
    name: str
    notebook: str  # the notebook's file name without .ipynb, e.g. "04_leaky_relu"
    title: str
    cases: Optional[Callable] = None  # rng -> list of cases (each a tuple of arguments by default)
    expected: Optional[Callable] = None  # case -> the right output
    run: Optional[Callable] = None  # (answer, case) -> output; default answer(*case)
    judge: Optional[Callable] = None  # answer -> None if right, else a hint
    mistakes: list = field(default_factory=list)  # [(hint, wrong_answer)]
    rtol: float = 1e-6
    atol: float = 1e-9
    check_dtype: bool = False  # the output's dtype must equal the reference's (e.g. float32 kept)
    describe: Optional[Callable] = None  # case -> a short text for messages; default: its shapes
    seed: int = 0


def number_judge(right, what, otherwise, wrong=(), rtol=1e-3, atol=0.0):
    """A `judge` for an answer that is one number: None when it is within the tolerances of `right`;
    the hint of the first `(value, hint)` in `wrong` that it matches; else `otherwise(value)`, a hint
    computed from the answer (or `otherwise` itself when it is a string)."""
    def judge(answer):
        try:
            value = float(answer)
        except (TypeError, ValueError):
            return f"answer with one number ({what}), got {answer!r}"
        if np.isclose(value, right, rtol=rtol, atol=atol):
            return None
        for wrong_value, hint in wrong:
            if np.isclose(value, wrong_value, rtol=rtol, atol=atol):
                return hint
        return otherwise if isinstance(otherwise, str) else otherwise(value)
    return judge


def _describe(case):
    parts = []
    for item in case if isinstance(case, tuple) else (case,):
        if isinstance(item, np.ndarray):
            parts.append(f"array{item.shape} {item.dtype}")
        elif isinstance(item, (int, float, np.number, str, bool)) or item is None:
            parts.append(repr(item))
        else:
            parts.append(type(item).__name__)
    return "(" + ", ".join(parts) + ")"


def _flatten(output):
    """A list of arrays from an output that may be a number, an array, or a tuple/list of them."""
    if isinstance(output, (tuple, list)):
        return [a for item in output for a in _flatten(item)]
    if isinstance(output, dict):
        return [a for key in sorted(output) for a in _flatten(output[key])]
    return [np.asarray(output)]


def _differs(output, reference, exercise):
    """None when `output` equals `reference` within the tolerances, else what differs."""
    got, want = _flatten(output), _flatten(reference)
    if len(got) != len(want):
        return f"it returned {len(got)} value(s), expected {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        which = f"value {k + 1}: " if len(want) > 1 else ""
        if g.shape != w.shape:
            return f"{which}shape {g.shape}, expected {w.shape}"
        if exercise.check_dtype and g.dtype != w.dtype:
            return f"{which}dtype {g.dtype}, expected {w.dtype}"
        if g.dtype == object or not np.allclose(g, w, rtol=exercise.rtol, atol=exercise.atol, equal_nan=True):
            return f"{which}values differ from the reference"
    return None


def _run(exercise, answer, case):
    output = exercise.run(answer, case) if exercise.run else answer(*(case if isinstance(case, tuple) else (case,)))
    if output is None:
        raise NotAttempted
    return output


def evaluate(exercise, answer):
    """(status, message) for `answer`: status is "correct", "wrong" or "not attempted"."""
    name = exercise.name
    if answer is None:
        return NOT_ATTEMPTED, f"… {name}: not attempted yet (write your answer above, then run this cell again)."
    if exercise.judge is not None:
        try:
            hint = exercise.judge(answer)
        except NotAttempted:
            return NOT_ATTEMPTED, f"… {name}: not attempted yet (write your answer above, then run this cell again)."
        return (CORRECT, f"✓ {name}: correct.") if hint is None else (WRONG, f"✗ {name}: {hint}")
    cases = exercise.cases(np.random.default_rng(exercise.seed))
    for number, case in enumerate(cases):
        where = (exercise.describe or _describe)(case)
        try:
            output = _run(exercise, answer, case)
        except (NotAttempted, NotImplementedError):
            return NOT_ATTEMPTED, f"… {name}: not attempted yet (write your answer above, then run this cell again)."
        except Exception as error:  # the reader's code failed: say where and how
            return WRONG, f"✗ {name}: on case {number + 1} {where} it raised {type(error).__name__}: {error}"
        reference = exercise.expected(case)
        problem = _differs(output, reference, exercise)
        if problem is None:
            continue
        for hint, wrong in exercise.mistakes:  # which typical mistake gives the same output?
            try:
                if _differs(output, _run(exercise, wrong, case), exercise) is None:
                    return WRONG, f"✗ {name}: {hint} (case {number + 1} {where}: {problem})"
            except Exception:
                continue
        return WRONG, f"✗ {name}: on case {number + 1} {where}: {problem}. Compare your code with the derivation."
    return CORRECT, f"✓ {name}: correct on {len(cases)} random cases."


def exercises():
    """Every exercise of the course, in course order."""
    found = []
    for module in NOTEBOOKS:
        found += importlib.import_module(f"{__name__}.{module}").EXERCISES
    return found


def find(name):
    """The exercise called `name`."""
    for exercise in exercises():
        if exercise.name == name:
            return exercise
    raise KeyError(f"no exercise is called {name!r}: `python -m nblib.exercises list` lists them")


def solution(name):
    """The reference solution of exercise `name` (look at it only after trying)."""
    exercise = find(name)
    module = importlib.import_module(f"{__name__}.solutions.nb{exercise.notebook[:2]}")
    return getattr(module, name)


def check(name, answer):
    """Check your answer to exercise `name` and print the verdict: ✓, ✗ with a hint, or not attempted."""
    print(evaluate(find(name), answer)[1])


def verify(names=None, out=print):
    """Run every checker on its reference solution (must be correct) and on each typical mistake
    (must be wrong, with that mistake's hint). Returns the number of failures."""
    failures = 0
    for exercise in exercises():
        if names and exercise.name not in names:
            continue
        problems = []
        status, message = evaluate(exercise, solution(exercise.name))
        if status != CORRECT:
            problems.append(f"the solution is judged {status}: {message}")
        if not exercise.mistakes:
            problems.append("no typical mistake to check the checker with")
        for hint, wrong in exercise.mistakes:
            status, message = evaluate(exercise, wrong)
            if status != WRONG or hint not in message:
                problems.append(f"the mistake {hint!r} is judged {status}: {message}")
        status, message = evaluate(exercise, None)
        if status != NOT_ATTEMPTED:
            problems.append(f"an unattempted answer is judged {status}")
        failures += bool(problems)
        out(f"{'ok  ' if not problems else 'FAIL'} {exercise.notebook:<24} {exercise.name}"
            + "".join(f"\n       {p}" for p in problems))
    return failures


def source(name):
    """The source code of a reference solution, for `python -m nblib.exercises solution NAME`."""
    answer = solution(name)
    return inspect.getsource(answer) if callable(answer) else repr(answer)
