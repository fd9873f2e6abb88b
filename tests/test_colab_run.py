"""The Colab-shaped run (tools/colab_run.py), only when selected with `-m colab`.

It builds a fresh Python 3.12 virtual environment like Colab's (ipywidgets 7.7.1, the newest NumPy
and matplotlib), installs a fresh clone of the course with pip (not editable), and executes every
notebook top to bottom from a folder outside the clone, sliders included; 6 minutes or more on two
cores, and it needs a package registry. Left out of the default run (`python3 course.py test`
reports it as skipped): `python3 course.py test -m colab tests/test_colab_run.py` runs it.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.colab


@pytest.fixture
def selected(request):
    expression = request.config.getoption("markexpr") or ""
    if "colab" not in expression or "not colab" in expression:
        pytest.skip("the Colab-shaped run is slow: select it with -m colab")


def test_every_notebook_runs_as_in_colab(selected, tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "colab_run.py"), "--worktree", "--workdir", str(tmp_path)],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    print(result.stdout[-6000:])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
