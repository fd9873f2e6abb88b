"""The course's static site, read in headless Chromium with nothing reachable but the site itself.

The site is built once (docs/build.py, as `python3 course.py site` does) into a temporary folder
and served on 127.0.0.1 from a free port. Every request to anything else is aborted and recorded:
a page that needs a CDN (MathJax, widget scripts, fonts) fails. For the landing page and each
notebook's page: the page exists; MathJax has typeset every formula (no `$...$`, `$$`, `\\frac`,
`\\(`, `\\begin{` left in text outside code and MathJax's own containers, and every Sphinx maths
span holds an `mjx-container`); every image has loaded (naturalWidth > 0); the console shows no
error. Also: the sidebar lists the notebooks in course order and each page's "next" link goes to
the next notebook; the README's links to notebooks/NN_name.ipynb go to the notebook pages; the
search page finds a word. Uses Debian's /usr/bin/chromium, never a browser downloaded by
Playwright; skipped, with the reason, where that browser, playwright or Sphinx is missing.
"""
import functools
import http.server
import importlib.util
import re
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
PAGES = ["index"] + [f"notebooks/{name}" for name in NOTEBOOKS]

# Text left untypeset: MathJax's delimiters or TeX commands outside code and MathJax's output.
UNTYPESET = r"""() => {
  const skip = "pre, code, script, style, textarea, mjx-container, mjx-assistive-mml, .highlight, .MathJax";
  const pattern = /\$\$|\$[^$\s][^$\n]*\$|\\frac|\\\(|\\\[|\\begin\{|\\mathbf|\\sum_/;
  const found = [];
  const walker = document.createTreeWalker(document.querySelector("main") || document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement && !node.parentElement.closest(skip) && pattern.test(node.textContent)) {
      found.push(node.textContent.trim().slice(0, 120));
    }
  }
  const spans = [...document.querySelectorAll("span.math, div.math")];
  const bare = spans.filter(s => !s.querySelector("mjx-container")).map(s => s.textContent.trim().slice(0, 120));
  return {found, bare, typeset: document.querySelectorAll("mjx-container").length};
}"""

IMAGES = r"""async () => {
  const images = [...document.images];
  images.forEach(i => { i.loading = "eager"; });
  await Promise.all(images.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  return images.map(i => ({src: i.getAttribute("src").slice(0, 80), width: i.naturalWidth}));
}"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    """(server, base URL): `directory` over HTTP on 127.0.0.1, a free port, in a thread."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(base URL, browser, requests blocked so far) for a freshly built site."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent (install Debian's chromium: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    pytest.importorskip("sphinx", reason="Sphinx is not installed (pip install -r requirements.txt)")
    spec = importlib.util.spec_from_file_location("site_build", ROOT / "docs" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    out = tmp_path_factory.mktemp("site") / "site"
    result = build.build(out)
    print(f"site built in {result['seconds']:.1f} s, {len(result['pages'])} HTML pages")
    assert result["notebooks"] == NOTEBOOKS
    server, base = serve(out)
    allowed, blocked = [base], []
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
            context = browser.new_context()

            def route(r):
                if any(r.request.url.startswith(a) for a in allowed) or r.request.url.startswith("data:"):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            try:
                yield dict(base=base, context=context, blocked=blocked, allowed=allowed, out=out, warnings=result["warnings"])
            finally:
                context.close()
                browser.close()
    finally:
        server.shutdown()
        server.server_close()


def open_page(site, path):
    """(page, console errors) with MathJax finished, if the page loads it."""
    page = site["context"].new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(site["base"] + path, wait_until="load", timeout=120_000)
    assert response is not None and response.ok, f"{path}: {response and response.status}"
    page.wait_for_function("() => !window.MathJax || (window.MathJax.startup && window.MathJax.startup.promise)",
                           timeout=60_000)
    page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
    return page, errors


def test_the_build_gives_no_warnings(site):
    assert not site["warnings"], site["warnings"]


def test_every_notebook_has_a_page(site):
    missing = [name for name in NOTEBOOKS if not (site["out"] / "notebooks" / f"{name}.html").is_file()]
    assert not missing and (site["out"] / "index.html").is_file(), missing


@pytest.mark.parametrize("path", PAGES)
def test_page_typeset_with_its_images_and_no_errors(site, path):
    page, errors = open_page(site, f"{path}.html")
    try:
        maths = page.evaluate(UNTYPESET)
        images = page.evaluate(IMAGES)
        page.wait_for_timeout(200)   # late console messages
    finally:
        page.close()
    assert not maths["found"], f"{path}: untypeset maths in text: {maths['found'][:5]}"
    assert not maths["bare"], f"{path}: maths spans MathJax did not typeset: {maths['bare'][:5]}"
    broken = [i["src"] for i in images if i["width"] == 0]
    assert not broken, f"{path}: images that did not load: {broken}"
    assert not errors, f"{path}: console errors: {errors}"
    assert not site["blocked"], f"requests outside the site: {sorted(set(site['blocked']))[:10]}"
    if path.startswith("notebooks/"):
        assert images, f"{path}: no image at all (every notebook draws plots)"


def test_navigation_in_course_order(site):
    page, errors = open_page(site, "index.html")
    try:
        sidebar = page.eval_on_selector_all(
            ".bd-sidebar-primary nav a.reference.internal", "links => links.map(a => a.getAttribute('href'))")
        body = page.eval_on_selector_all("main a.reference.internal", "links => links.map(a => a.getAttribute('href'))")
    finally:
        page.close()
    listed = [re.sub(r"\.html.*$", "", h) for h in sidebar if h.startswith("notebooks/")]
    assert listed == [f"notebooks/{name}" for name in NOTEBOOKS]
    # the README's table links to notebooks/NN_name.ipynb become links to the pages
    table = [h for h in body if h.startswith("notebooks/")]
    assert [re.sub(r"\.html.*$", "", h) for h in table][:len(NOTEBOOKS)] == [f"notebooks/{n}" for n in NOTEBOOKS]
    for name, following in zip(NOTEBOOKS, NOTEBOOKS[1:]):
        html = (site["out"] / "notebooks" / f"{name}.html").read_text(encoding="utf-8")
        nxt = re.search(r'<a class="right-next"\s+href="([^"]+)"', html)
        assert nxt and nxt.group(1).startswith(f"{following}.html"), f"{name}: next link {nxt and nxt.group(1)}"
    assert not errors


def test_search_finds_a_word(site):
    page, errors = open_page(site, "search.html?q=gradient")
    try:
        # results appear one by one; the summary says when the search is finished
        page.wait_for_function("""() => {
            const summary = document.querySelector("#search-results p.search-summary");
            return summary && summary.innerText.startsWith("Search finished");
        }""", timeout=60_000)
        count = page.locator("#search-results ul.search li").count()
        linked = page.eval_on_selector_all("#search-results ul.search li a", "links => links.map(a => a.getAttribute('href'))")
    finally:
        page.close()
    assert count >= 10, count
    assert any("notebooks/" in h for h in linked)
    assert not errors, errors


def test_colab_badge_is_served_from_the_site_and_links_to_colab(site, tmp_path):
    """On stamped notebooks (a stamped copy of two, until the course's own are stamped): the badge
    image comes from the site's _static/, its link goes to Colab, and the install cell is not shown."""
    import shutil
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    import colab

    spec = importlib.util.spec_from_file_location("site_build", ROOT / "docs" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in NOTEBOOKS[:2]:
        shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", folder)
    colab.stamp(folder)
    out = tmp_path / "site"
    build.build(out, notebooks=folder)
    server, base = serve(out)
    site["allowed"].append(base)
    page = site["context"].new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{base}notebooks/{NOTEBOOKS[1]}.html", wait_until="load")
        page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
        badges = page.evaluate("""() => [...document.images].filter(i => i.alt === "Open In Colab")
            .map(i => ({src: i.getAttribute("src"), width: i.naturalWidth, href: i.closest("a") && i.closest("a").href}))""")
        text = page.locator("main").inner_text()
    finally:
        page.close()
        site["allowed"].remove(base)
        server.shutdown()
        server.server_close()
    assert badges == [{"src": "../_static/colab-badge.svg", "width": 117,
                       "href": colab.colab_link(colab.repository_url(), f"{NOTEBOOKS[1]}.ipynb")}], badges
    assert "google.colab" not in text and "<URL" not in text
    assert not errors, errors
    assert not site["blocked"], sorted(set(site["blocked"]))[:10]
