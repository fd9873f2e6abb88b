"""A Colab-shaped run: every notebook, top to bottom, against a plain install of a fresh clone.

    python tools/colab_run.py                      # all notebooks; prints a table, writes report.json
    python tools/colab_run.py 05_tanh 22_mnist_mlp # some notebooks (file names or their prefixes)
    options: --workdir DIR (default: a new temporary folder, kept, printed), --python EXE
             (default: `python3.12` with PYENV_VERSION=3.12.1), --worktree (clone, then copy the
             working tree's uncommitted and untracked files over it), --extras course (install
             `<clone>[course]` instead of what the notebooks' Colab install cell installs; fails
             while the `course` extra asks for ipywidgets>=8, which would replace Colab's 7.7.1)

What it builds, to look like Google Colab (Python 3.12, ipywidgets 7.7.1 pinned, recent NumPy and
matplotlib already there, the course installed by pip from its repository):
1. `git clone` of this repository into WORKDIR/clone (committed files only, like GitHub's copy;
   --worktree adds the uncommitted ones).
2. A fresh virtual environment WORKDIR/venv with Python 3.12: first `ipywidgets==7.7.1`, the newest
   numpy and matplotlib, tqdm, and nbclient + ipykernel to execute notebooks (Colab's
   preinstalled set, as far as the notebooks touch it); then a plain, non-editable
   `pip install <clone>` with the extra packages of the notebooks' install cell (tools/colab.py),
   with ipywidgets held at 7.7.1 by a constraints file (pip fails rather than upgrade it).
3. The MNIST files: NBLIB_DATA_DIR points at this checkout's data/ when data/mnist/ holds the four
   files (nblib checks their hashes), else the clone's tools/mnist_offline.py writes them into
   WORKDIR/data/mnist/ (Colab itself downloads them with pooch on first use).
4. Each notebook is copied to WORKDIR/run/ and executed there (outside the clone, so `import nblib`
   is the installed package, which a probe checks first), one cell after another with nbclient
   as tools/nb.py does (`jupyter nbconvert --execute` sometimes hung here), one notebook at a time,
   in a fresh kernel each. The install cell does nothing (no `google.colab` module here). A cell
   gets 10 minutes (40 if it trains or times something). nbclient sometimes waited here for a cell
   that the kernel had finished (twice in ~30 notebooks, after ipywidgets 7's interact cells): a
   watchdog notices (the kernel answers kernel_info, which it does only between cells), kills the
   kernel, and the notebook runs again in a fresh one (up to three tries); the report says so.
   Slider cells (ipywidgets.interact) must execute without error and produce a widget view: that
   is what ipywidgets 7 makes of them.
The executed notebooks stay in WORKDIR/run/ (NN_name.executed.ipynb) and the results in
WORKDIR/report.json. Exit status 0 only if every notebook ran. Takes a while (the full-MNIST notebooks train for minutes): run it with
OPENBLAS_NUM_THREADS=1 on a shared machine. `pytest -m colab tests/test_colab_run.py` runs it.
Hand-written infrastructure, not part of nblib; needs network access to a package registry only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import colab  # noqa: E402

COLAB_PRESET = ["ipywidgets==7.7.1", "numpy", "matplotlib", "tqdm", "nbclient", "ipykernel"]
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# Runs inside the fresh venv: executes the notebooks with nbclient and writes a JSON report.
DRIVER = r'''
import json, sys, threading, time, traceback
from pathlib import Path
import nbformat
from nbclient import NotebookClient

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
run_dir, report_path, names = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]

PROBE = """
import sys, json, numpy, matplotlib, ipywidgets, nblib
print(json.dumps({"python": sys.version.split()[0], "executable": sys.executable, "numpy": numpy.__version__,
                  "matplotlib": matplotlib.__version__, "ipywidgets": ipywidgets.__version__,
                  "nblib_file": nblib.__file__, "colab": "google.colab" in sys.modules}))
"""

LONG = ("fit(", "train(", "epochs", "lr_finder", "load_mnist", "timeit", "perf_counter")

def cell_timeout(cell):
    # cells that train or time things get 40 minutes, the others 10
    return 2400 if any(word in cell.source for word in LONG) else 600

def watchdog(client, current, stop):
    """nbclient sometimes waits forever for a cell that the kernel has finished (seen here around
    ipywidgets 7's interact cells, a few times in a hundred notebooks). A kernel answers
    kernel_info only once its running cell is done: if it answers while nbclient has been waiting
    for the same cell for more than 20 s, and still waits 20 s later, kill the kernel so that
    nbclient raises DeadKernelError and the notebook is run again. (Without this, nbclient went on
    only when the cell's timeout ran out: the reply had come, and was found then.)"""
    import os, queue, signal
    from jupyter_client import BlockingKernelClient
    probe = BlockingKernelClient()
    probe.load_connection_info(client.km.get_connection_info())
    probe.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
    answered = {}
    try:
        while not stop.wait(10):
            key = current.get("cell")
            if key is None or time.monotonic() - key[1] < 20:
                continue
            msg_id = probe.kernel_info()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    reply = probe.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if reply["parent_header"].get("msg_id") == msg_id:
                    first = answered.setdefault(key, time.monotonic())
                    if time.monotonic() - first > 20 and current.get("cell") == key:
                        current["hung"] = key[0]
                        os.kill(client.km.provisioner.pid, signal.SIGKILL)
                        return
                    break
    finally:
        probe.stop_channels()

def execute(nb, path):
    client = NotebookClient(nb, timeout=2400, timeout_func=cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path)}})
    failed, current, stop = None, {}, threading.Event()
    with client.setup_kernel():
        guard = threading.Thread(target=watchdog, args=(client, current, stop), daemon=True)
        guard.start()
        for index, cell in enumerate(nb.cells):
            current["cell"] = (index, time.monotonic())
            try:
                client.execute_cell(cell, index)
            except Exception as error:
                hung = current.get("hung") == index
                failed = {"cell": index, "error": f"{type(error).__name__}: {str(error)[-1500:]}",
                          "timeout": hung or "Timeout" in type(error).__name__, "hung": hung}
                break
        current["cell"] = None
        stop.set()
        guard.join()
    return failed

results = {"notebooks": []}
probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE)])
failed = execute(probe, run_dir)
results["probe"] = failed or json.loads(probe.cells[0].outputs[0]["text"])
report_path.write_text(json.dumps(results, indent=1))
for name in names:
    path = run_dir / name
    attempts = []
    for attempt in (1, 2, 3):   # another try, in a fresh kernel, only after a cell hung or timed out
        nb = nbformat.read(path, as_version=4)
        started = time.monotonic()
        failed = execute(nb, run_dir)
        seconds = time.monotonic() - started
        attempts.append({"seconds": round(seconds, 1), "failed": failed})
        if not (failed and failed["timeout"]):
            break
        print(f"     {name}: cell {failed['cell']} " + ("hung (nbclient waited for a finished cell)" if failed["hung"]
              else "timed out") + "; running the notebook again", flush=True)
    sliders = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "Slider(" in c.source]
    views = [i for i in sliders if any(WIDGET_VIEW in o.get("data", {}) for o in nb.cells[i].outputs)]
    errors = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
              and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    nbformat.write(nb, run_dir / (path.stem + ".executed.ipynb"))
    entry = {"notebook": name, "ok": failed is None and not errors and views == sliders,
             "seconds": round(seconds, 1), "slider_cells": len(sliders), "slider_cells_with_widget": len(views),
             "failed": failed, "attempts": attempts}
    results["notebooks"].append(entry)
    report_path.write_text(json.dumps(results, indent=1))
    print(("ok  " if entry["ok"] else "FAIL") + f" {name} {seconds:.1f} s" +
          (f" (try {len(attempts)}: cell {attempts[0]['failed']['cell']} hung or timed out before)" if len(attempts) > 1 else ""), flush=True)
'''


def sh(*cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def clean_env(**extra):
    """The environment for the venv's processes: nothing of this checkout's venv or settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MPLBACKEND", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR")}
    env.update(extra)
    return env


def select(names):
    every = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    if not names:
        return every
    chosen = [n for n in every if any(n == a or n.startswith(a) for a in names)]
    if not chosen:
        raise SystemExit(f"no notebook matches {names}")
    return chosen


def make_clone(work, worktree):
    clone = work / "clone"
    sh("git", "clone", "--quiet", "--no-hardlinks", ROOT, clone)
    if worktree:   # the uncommitted and untracked (not ignored) files of this checkout, over the clone
        listed = subprocess.run(["git", "ls-files", "-z", "--modified", "--others", "--exclude-standard"],
                                cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
        for name in filter(None, listed):
            if (ROOT / name).is_file():
                (clone / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, clone / name)
        print(f"copied {len([n for n in listed if n])} uncommitted file(s) over the clone", flush=True)
    return clone


def make_venv(work, python, clone, extras):
    venv = work / "venv"
    env = clean_env(PYENV_VERSION=os.environ.get("PYENV_VERSION", "3.12.1"))
    sh(python, "-m", "venv", venv, env=env)
    pip = [venv / "bin" / "python", "-m", "pip"]
    sh(*pip, "install", "--quiet", "--upgrade", "pip", env=env)
    sh(*pip, "install", "--quiet", *COLAB_PRESET, env=env)
    constraints = work / "colab-constraints.txt"
    constraints.write_text("ipywidgets==7.7.1\n")
    extra_packages = [p.strip('"') for p in colab.EXTRA_PACKAGES]
    target = f"{clone}[{extras}]" if extras else str(clone)
    sh(*pip, "install", "--quiet", "-c", constraints, target, *extra_packages, env=env)
    return venv


def mnist_dir(work, venv, clone):
    if all((ROOT / "data" / "mnist" / f).is_file() for f in MNIST_FILES):
        return ROOT / "data"
    sh(venv / "bin" / "python", clone / "tools" / "mnist_offline.py", "--dest", work / "data" / "mnist", env=clean_env())
    return work / "data"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("--workdir")
    parser.add_argument("--python", default="python3.12")
    parser.add_argument("--worktree", action="store_true")
    parser.add_argument("--extras", default="")
    args = parser.parse_args(argv)
    names = select(args.notebooks)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="colab-run-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(f"working in {work}", flush=True)
    started = time.monotonic()
    clone = make_clone(work, args.worktree)
    venv = make_venv(work, args.python, clone, args.extras)
    data = mnist_dir(work, venv, clone)
    run_dir = work / "run"
    run_dir.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(clone / "notebooks" / name, run_dir / name)
    (work / "driver.py").write_text(DRIVER)
    report = work / "report.json"
    setup_s = time.monotonic() - started
    code = subprocess.run([str(venv / "bin" / "python"), str(work / "driver.py"), str(run_dir), str(report), *names],
                          cwd=run_dir, env=clean_env(NBLIB_DATA_DIR=str(data))).returncode
    results = json.loads(report.read_text()) if report.exists() else {"probe": None, "notebooks": []}
    probe = results.get("probe") or {}
    print(f"\nset-up {setup_s:.0f} s; kernel: {json.dumps(probe)}")
    problems = []
    if code:
        problems.append(f"the driver exited with {code}")
    if not probe.get("nblib_file", "").startswith(str(venv)):
        problems.append(f"nblib was not imported from the venv's site-packages: {probe}")
    if probe.get("ipywidgets") != "7.7.1":
        problems.append(f"ipywidgets is {probe.get('ipywidgets')}, not 7.7.1")
    done = {e["notebook"]: e for e in results["notebooks"]}
    print(f"{'notebook':32} {'result':6} {'seconds':>8}  sliders (with widget)")
    for name in names:
        e = done.get(name)
        if e is None:
            problems.append(f"{name}: not run")
            continue
        retried = f"  (try {len(e['attempts'])}: a cell hung or timed out before)" if len(e.get("attempts", [])) > 1 else ""
        print(f"{name:32} {'ok' if e['ok'] else 'FAIL':6} {e['seconds']:8.1f}  {e['slider_cells']} ({e['slider_cells_with_widget']}){retried}")
        if not e["ok"]:
            problems.append(f"{name}: {e['failed'] or 'a slider cell made no widget or a cell stored an error'}")
    print(f"total {time.monotonic() - started:.0f} s; report: {report}")
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
