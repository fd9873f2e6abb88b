"""The sliders as a reader uses them: JupyterLab in headless Chromium, driven by Playwright.

One JupyterLab server (127.0.0.1, a free port, a random token, its own settings, workspaces and
runtime folders) and one browser serve every notebook that has sliders. For each notebook, a copy
of the committed file is opened as a reader opens it: first we check that no slider cell shows a
widget's text repr (`interactive(children=...`) and that the static plots are there; then Run All,
and in every slider cell the first slider is moved with the keyboard and the plot in that cell must
be redrawn (its PNG data URL changes). Uses Debian's /usr/bin/chromium, never a browser downloaded
by Playwright; skipped, with the reason, where that browser or playwright is missing. The full-MNIST
notebooks also carry the `mnist` marker. About 10-25 s a notebook plus its run time.
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

# generous limits: the machine may be shared with other jobs
SERVER_START_S = 180
KERNEL_READY_S = 240
FIRST_PLOT_S = 1800    # Run All of a full-MNIST notebook trains its models first (minutes; more on a busy machine)
REDRAW_S = 180
KERNEL_BUSY_S = 1800   # the longest the kernel may stay busy (Run All, redraws)
SETTLE_S = 3           # idle this long in a row = nothing left to run


def slider_cells(path):
    """Indices (among all cells) of the code cells that build sliders."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and "Slider(" in "".join(c["source"])]


def with_marks(path):
    marks = [pytest.mark.mnist] if "mnist" in path.name else []
    return pytest.param(path, marks=marks, id=path.stem)


WITH_SLIDERS = [with_marks(p) for p in sorted(NOTEBOOKS.glob("*.ipynb")) if slider_cells(p)]


def free_port():
    """A port nobody listens on right now (bind port 0 and let the OS choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read().decode())


def wait_until(condition, seconds, what, interval=0.5):
    """Call `condition` until it returns something truthy; fail with `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def start_lab(root, env, log):
    """Start JupyterLab on a free port; return (process, base URL, token) once /api/status answers."""
    for attempt in range(3):  # another process may take the port between bind(0) and the server's bind
        port, token = free_port(), secrets.token_hex(24)
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
             "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             "--ServerApp.allow_root=True", "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"

        def answers():
            if server.poll() is not None:
                return "exited"
            try:
                get_json(f"{base}/api/status?token={token}", timeout=5)
                return "up"
            except (urllib.error.URLError, OSError, ValueError):
                return None

        if wait_until(answers, SERVER_START_S, "JupyterLab to answer /api/status") == "up":
            return server, base, token
        server.wait()
    raise AssertionError("JupyterLab exited three times before answering; see its log")


def stop(server):
    """SIGTERM (the server shuts its kernels down), then wait; SIGKILL its process group if stuck."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)   # the group this test started, nothing else
            server.wait(timeout=30)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(base URL, token, root folder, playwright browser) shared by every notebook's test."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent (install Debian's chromium: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "root"
    root.mkdir()
    settings = tmp / "settings"
    for extension, values in {"apputils-extension/notification": {"fetchNews": "false"},
                              "notebook-extension/tracker": {"windowingMode": "none"}}.items():
        file = settings / "@jupyterlab" / f"{extension}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # the kernel's inline backend draws the PNGs
    env.update(JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTER_CONFIG_DIR=str(tmp / "config"),
               IPYTHONDIR=str(tmp / "ipython"))
    log_path = tmp / "jupyterlab.log"
    with open(log_path, "w") as log:
        server, base, token = start_lab(root, env, log)
        try:
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
                try:
                    yield dict(base=base, token=token, root=root, browser=browser, log=log_path, tmp=tmp)
                finally:
                    browser.close()
        finally:
            stop(server)


@pytest.mark.parametrize("path", WITH_SLIDERS)
def test_every_slider_redraws_its_plot(lab, path):
    from playwright import sync_api

    base, token, root = lab["base"], lab["token"], lab["root"]
    shutil.copy(path, root / path.name)
    cells = slider_cells(path)
    started = time.monotonic()

    def kernels():
        return get_json(f"{base}/api/kernels?token={token}")

    def kernel_settled(quiet_s=SETTLE_S):
        """Wait until every kernel has been idle for quiet_s seconds in a row (Run All has
        short idle gaps between cells; a slider's redraw runs as one request)."""
        since = None

        def quiet():
            nonlocal since
            if any(k["execution_state"] != "idle" for k in kernels()):
                since = None
            elif since is None:
                since = time.monotonic()
            return since is not None and time.monotonic() - since >= quiet_s

        wait_until(quiet, KERNEL_BUSY_S, f"the kernel to be idle for {quiet_s} s", interval=0.25)

    page = lab["browser"].new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(120_000)
    moved = []
    try:
        page.goto(f"{base}/lab/tree/{path.name}?token={token}&reset", wait_until="domcontentloaded", timeout=180_000)
        wait_until(lambda: any(k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels()),
                   KERNEL_READY_S, "a connected, idle kernel", interval=1)
        notebook_cells = page.locator(".jp-Notebook .jp-Cell")
        sync_api.expect(notebook_cells.first).to_be_attached()
        # as opened, before running anything: the stored static plots, and no widget repr as text
        sync_api.expect(page.locator(".jp-Notebook .jp-OutputArea-output img").first).to_be_attached()
        text = page.locator(".jp-Notebook").inner_text()
        assert "interactive(children" not in text, f"{path.name}: a slider cell shows a widget's text repr"

        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        for index in cells:
            image = notebook_cells.nth(index).locator(".widget-output .jp-OutputArea-output img")
            sync_api.expect(image).to_have_count(1, timeout=FIRST_PLOT_S * 1000)
        # Let Run All finish first: a slider moved while later cells still ran once showed a
        # half-drawn figure, a "changed" image even with a slider wired to nothing.
        kernel_settled()
        for index in cells:
            cell = notebook_cells.nth(index)
            image = cell.locator(".widget-output .jp-OutputArea-output img")
            slider = cell.locator(".widget-slider").first
            readout = slider.locator(".widget-readout")
            before, initial = image.get_attribute("src"), (readout.text_content() or "").strip()
            assert before.startswith("data:image/png"), f"cell {index}: {before[:40]}"
            slider.locator(".noUi-handle").first.focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(300)
            if (readout.text_content() or "").strip() == initial:   # already at its maximum
                page.keyboard.press("ArrowLeft")
            sync_api.expect(readout).not_to_have_text(initial, timeout=REDRAW_S * 1000)
            sync_api.expect(image).not_to_have_attribute("src", before, timeout=REDRAW_S * 1000)
            kernel_settled()    # every queued redraw is done
            sync_api.expect(image).to_have_count(1, timeout=REDRAW_S * 1000)
            after = image.get_attribute("src")
            assert after.startswith("data:image/png") and after != before, f"cell {index}: plot not redrawn"
            moved.append(f"cell {index}: {initial} -> {(readout.text_content() or '').strip()}")
    except Exception as error:
        shot = lab["tmp"] / f"failure-{path.stem}.png"
        page.screenshot(path=str(shot), full_page=True)
        tail = lab["log"].read_text(errors="replace")[-3000:]
        raise AssertionError(f"{path.name}: {error}\n--- JupyterLab log (end) ---\n{tail}\n(screenshot: {shot})") from error
    finally:
        page.close()
        for kernel in kernels():   # free the kernel's memory before the next notebook
            request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
            urllib.request.urlopen(request, timeout=60).close()
    assert len(moved) == len(cells)
    print(f"{path.name}: {'; '.join(moved)}; plots redrawn; {time.monotonic() - started:.1f} s")
