"""The published site, checked the way a reader meets it: in a real browser.

Headless Chromium (the system's browser, driven by Playwright for Python) opens the built
book in ``_build/html``, served over HTTP on 127.0.0.1 under ``/<repository name>/``,
exactly as GitHub Pages serves a project site, and checks, on the front page and on every
page listed in ``_toc.yml``:

- every local resource (CSS, JS, images, fonts, search index) answers 200; failures of
  external resources (CDNs, Binder) are printed but do not fail, as the machine may be
  offline;
- the site's title, logo, favicon and search field; one page title, numbered once;
- every figure the chapter's notebook produced is on the page, loaded and drawn with a
  non-zero size;
- the equations are MathJax input, and MathJax renders all of them without an error or
  an unknown macro, with no TeX left over outside them (a ``$...$`` that Markdown broke
  apart); MathJax is served from a local copy when ``NN_MATHJAX_DIR`` is set, see below;
- the Binder and Colab launch links open this chapter's notebook in the repository set in
  ``_config.yml``; repository, issue, download (.ipynb) and copy buttons are there;
- the page does not scroll sideways on a phone-sized screen;
- reading it (test_reading, at 1280 px and at 390 px): no code cell scrolls sideways at
  1280 px; no code cell a reader can see only glues or asserts, or glues; no code comment
  cites an internal equation label; no display equation is wider than its box at 1280 px
  or cut beside its number at 390 px; no inline formula runs past the text column out of
  reach at 390 px; every figure has alt text and, at 390 px, labels of at least 8 CSS px
  (measured from the SVG's glyph sizes and the width it is shown at); no number in
  computer format (1.65e+00) in the prose; glued values in the weight of the text around
  them (not myst-nb's bold); no table wider than the column at 1280 px;
  no error in the browser's console;
- following "next" from the front page visits every page in TOC order; the search page
  finds a chapter; every internal link and anchor resolves.

Screenshots of the front page (desktop and phone), of the MNIST chapter, and of every page
at both widths (``<page>-1280.png``, ``<page>-390.png``) are saved in ``_build/screenshots/``.

Run alone with ``pytest -m browser tests/test_site.py``; ``.ci/run`` builds the book first,
so this test never builds it twice. Environment:

``NN_BROWSER``          the browser executable (default: the first of /usr/bin/chromium,
                        chromium, chromium-browser, google-chrome, google-chrome-stable)
``NN_REQUIRE_BROWSER``  ``1``: fail, instead of skipping, when no browser can be started
                        (and when MathJax does not load); ``.ci/run`` and the workflow set it
``NN_MATHJAX_DIR``      a local MathJax 3 package (the folder that holds ``es5/``, e.g. from
                        ``npm install mathjax@3``); requests for MathJax from its CDN are
                        answered from there, so equations render offline
``NN_SITE_DIR``         the built HTML to test (default ``_build/html``, built by this test
                        with ``jupyter-book build .`` if it is missing)
``NN_TOC``              the table of contents whose pages must be there (default ``_toc.yml``)
"""
from __future__ import annotations

import ast
import functools
import json
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from test_book import MIN_LABEL_PX, SVG_GLYPH_SCALE, SVG_WIDTH, is_plumbing, statements

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
SITE_DIR = Path(os.environ.get("NN_SITE_DIR") or ROOT / "_build" / "html").resolve()
TOC_FILE = Path(os.environ.get("NN_TOC") or ROOT / "_toc.yml").resolve()
SCREENSHOT_DIR = SITE_DIR.parent / "screenshots"
REQUIRE_BROWSER = os.environ.get("NN_REQUIRE_BROWSER", "") not in ("", "0")
MATHJAX_DIR = os.environ.get("NN_MATHJAX_DIR", "")
BROWSER_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome",
                      "google-chrome-stable")
# A word of chapter 1 that the search page must find, and the page it must find it on.
SEARCH_WORD, SEARCH_PAGE = "perceptron", "book/01_neuron"

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
IMAGE_MIME_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
GLUE_IMAGE_PREFIX = "application/papermill.record/image/"


# --- What the book should contain: the TOC, the repository, the notebooks -------------

def toc_pages(toc_file=TOC_FILE):
    """The docnames of the book in reading order (the order of Sphinx's next/previous)."""
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(str(Path(entry["file"]).with_suffix("")))
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    return pages


PAGES = toc_pages()
NOTEBOOK_PAGES = [page for page in PAGES if (ROOT / f"{page}.ipynb").exists()]
# The chapter shown in the second screenshot: the MNIST chapter (the last chapter if the
# TOC has none, as in a partial build).
SCREENSHOT_CHAPTER = next((p for p in PAGES if "mnist" in p),
                          NOTEBOOK_PAGES[-1] if NOTEBOOK_PAGES else PAGES[-1])


def repository_parts():
    """(url, org, name, branch, book path) from `repository:` in _config.yml."""
    repository = CONFIG["repository"]
    url = repository["url"].rstrip("/")
    org, name = urlsplit(url).path.strip("/").split("/")[:2]
    book_path = str(repository.get("path_to_book") or "").strip("/")
    return url, org, name, repository.get("branch", "main"), book_path


def expected_launch_links(page):
    """The Binder and Colab links sphinx-book-theme must build for this notebook."""
    _, org, name, branch, book_path = repository_parts()
    launch = CONFIG["launch_buttons"]
    notebook = "/".join(part for part in (book_path, f"{page}.ipynb") if part)
    ui = {"classic": "tree", "jupyterlab": "lab/tree"}[launch.get("notebook_interface", "classic")]
    binder = launch["binderhub_url"].rstrip("/")
    colab = launch["colab_url"].rstrip("/")
    return {
        "binder": f"{binder}/v2/gh/{org}/{name}/{branch}?urlpath={ui}/{notebook}",
        "colab": f"{colab}/github/{org}/{name}/blob/{branch}/{notebook}",
    }, notebook


def _cell_removes_output(cell):
    tags = cell.get("metadata", {}).get("tags", [])
    mystnb = cell.get("metadata", {}).get("mystnb", {}) or {}
    return (bool({"remove-output", "remove_output", "remove-cell", "remove_cell"} & set(tags))
            or bool(mystnb.get("remove_code_outputs")))


def notebook_figures(path):
    """(images shown where their cell is, names of glued images) in one .ipynb file.

    A figure shown by its cell (plt.show(), or a cell with `mystnb: figure:` metadata)
    has an image/* output. A figure stored with `glue(name, fig, display=False)` has an
    `application/papermill.record/image/png` output instead, and appears on the page
    wherever a `{glue:figure}` (or `{glue:}`) directive shows it, at least once.
    """
    notebook = json.loads(path.read_text(encoding="utf-8"))
    shown, glued = 0, set()
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code" or _cell_removes_output(cell):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if any(mime in data for mime in IMAGE_MIME_TYPES):
                shown += 1
            if any(mime.startswith(GLUE_IMAGE_PREFIX) for mime in data):
                scrapbook = output.get("metadata", {}).get("scrapbook", {})
                glued.add(scrapbook.get("name") or f"unnamed-{len(glued)}")
    return shown, glued


def expected_figures(page):
    """The least number of notebook figures the page must show: the stored notebook's
    count, or the executed copy's (_build/jupyter_execute) if it has more."""
    counts = []
    for path in (ROOT / f"{page}.ipynb", SITE_DIR.parent / "jupyter_execute" / f"{page}.ipynb"):
        if path.exists():
            shown, glued = notebook_figures(path)
            counts.append(shown + len(glued))
    return max(counts, default=0)


def static_math(page):
    """The number of equations in the page's HTML as Sphinx wrote it: elements of class
    "math" holding TeX between \\( \\), \\[ \\] or $$ (MathJax's input)."""
    html = (SITE_DIR / f"{page}.html").read_text(encoding="utf-8")
    return sum(
        1 for match in re.finditer(r'<(span|div) class="math[^"]*"[^>]*>(.*?)</\1>', html, re.S)
        if re.search(r"\\\(|\\\[|\$\$", match.group(2))
    )


# --- Serving the site and starting the browser -----------------------------------------

def build_site_if_missing():
    if (SITE_DIR / "index.html").exists():
        return
    if os.environ.get("NN_SITE_DIR"):
        pytest.fail(f"NN_SITE_DIR={SITE_DIR} holds no built site (no index.html)")
    executable = Path(sys.executable).with_name("jupyter-book")
    command = [str(executable) if executable.exists() else "jupyter-book", "build", str(ROOT)]
    print("building the book:", " ".join(command))
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0 or not (SITE_DIR / "index.html").exists():
        pytest.fail("jupyter-book build failed:\n" + (result.stdout + result.stderr)[-4000:])


class _SiteHandler(SimpleHTTPRequestHandler):
    """Serves SITE_DIR under /<prefix>/ only, like GitHub Pages serves a project site."""

    prefix = "/"

    def translate_path(self, path):
        path = urlsplit(path).path
        if not path.startswith(self.prefix):
            return str(SITE_DIR / "__outside_the_site__")
        return super().translate_path("/" + path[len(self.prefix):])

    def log_message(self, format, *args):  # keep the test output for the test
        pass


@pytest.fixture(scope="module")
def site():
    """The base URL of the built site, served on 127.0.0.1 by a thread of this process."""
    build_site_if_missing()
    _, _, name, _, _ = repository_parts()
    mimetypes.add_type("font/woff2", ".woff2")
    mimetypes.add_type("application/json", ".ipynb")
    handler = type("Handler", (_SiteHandler,), {"prefix": f"/{name}/"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(SITE_DIR)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{name}/"
    server.shutdown()
    server.server_close()


def _unavailable(reason):
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (NN_REQUIRE_BROWSER=1)")
    pytest.skip(f"{reason}: install Chromium (Debian: apt-get install chromium) or set NN_BROWSER")


def find_browser():
    candidates = [os.environ["NN_BROWSER"]] if os.environ.get("NN_BROWSER") else BROWSER_CANDIDATES
    for candidate in candidates:
        path = shutil.which(candidate)
        if path:
            return path
    return None


def _check_mathjax_dir():
    if MATHJAX_DIR and not Path(MATHJAX_DIR, "es5", "tex-mml-chtml.js").is_file():
        pytest.fail(f"NN_MATHJAX_DIR={MATHJAX_DIR} is not a MathJax 3 package (no es5/tex-mml-chtml.js)")


@pytest.fixture(scope="module")
def browser():
    _check_mathjax_dir()
    executable = find_browser()
    if executable is None:
        _unavailable("no browser found (tried " + ", ".join(
            [os.environ["NN_BROWSER"]] if os.environ.get("NN_BROWSER") else BROWSER_CANDIDATES) + ")")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -r requirements.txt)")
    with sync_playwright() as playwright:
        try:
            # Playwright's own flags already turn off background networking, sync, first-run
            # and component updates, which a machine without internet would keep retrying.
            instance = playwright.chromium.launch(
                executable_path=executable, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage"],
            )
        except Exception as error:  # a stub (Ubuntu's snap wrapper) or a broken install
            _unavailable(f"{executable} does not start: {str(error).splitlines()[0]}")
        _report(f"browser: {executable} {instance.version}; MathJax from "
                + (f"NN_MATHJAX_DIR={MATHJAX_DIR}" if MATHJAX_DIR else "its CDN"))
        yield instance
        instance.close()


def _serve_mathjax(route):
    """Answer a request for MathJax from its CDN with the same file of NN_MATHJAX_DIR."""
    match = re.search(r"/es5/([^?#]*)", route.request.url)
    path = Path(MATHJAX_DIR, "es5", unquote(match.group(1))) if match else None
    if path is None or not path.is_file():
        route.fulfill(status=404, body="not in NN_MATHJAX_DIR")
        return
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    route.fulfill(path=str(path), content_type=content_type,
                  headers={"Access-Control-Allow-Origin": "*"})


EXTERNAL_FAILURES = {}  # url -> reason, across the whole module, each reported once
REPORT = []  # lines printed after the tests of this module, even when output is captured


def _report(line):
    REPORT.append(line)
    print(line)


@pytest.fixture(scope="module", autouse=True)
def site_report(request):
    """Print what the browser saw (figures, equations, screenshots, external failures)."""
    yield
    if not REPORT:
        return
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():  # past pytest's capture, like its own summary
        reporter.write_line("")
        reporter.write_sep("-", "published site: what the browser saw")
        for line in REPORT:
            reporter.write_line(line)
        reporter.write_line(f"external resources that failed (not counted: the machine may be "
                            f"offline): {len(EXTERNAL_FAILURES) or 'none'}")
        for url, reason in sorted(EXTERNAL_FAILURES.items()):
            reporter.write_line(f"  {reason}: {url}")


class Visit:
    """A browser tab that records every failed request while it shows the site."""

    def __init__(self, browser, site, viewport=DESKTOP):
        self.site = site
        self.context = browser.new_context(viewport=viewport)
        self.context.set_default_timeout(30_000)
        if MATHJAX_DIR:
            self.context.route(re.compile(r"^https?://[^/]+/.*mathjax@?3[^/]*/es5/"), _serve_mathjax)
        self.page = self.context.new_page()
        self.local_failures = []
        self.console_errors = []
        self.page.on("response", self._on_response)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))

    def _record(self, url, reason):
        if url.startswith(self.site) or urlsplit(url).hostname in ("127.0.0.1", "localhost"):
            # A request cancelled because the tab moved on is not a missing file (that
            # answers 404); only real failures count.
            if "ERR_ABORTED" not in reason:
                self.local_failures.append(f"{reason}: {url}")
        elif url not in EXTERNAL_FAILURES:
            EXTERNAL_FAILURES[url] = reason

    def _on_response(self, response):
        if response.status >= 400:
            self._record(response.url, f"HTTP {response.status}")

    def _on_request_failed(self, request):
        self._record(request.url, request.failure or "failed")

    def _on_console(self, message):
        # A resource that failed to load is recorded (and judged) by _record already.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(message.text[:200])

    def open(self, url):
        response = self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return response

    def typeset(self):
        """Wait for MathJax to finish; return its version, or None if it did not load."""
        return self.page.evaluate("""async () => {
            if (!window.MathJax || !window.MathJax.startup || !window.MathJax.startup.promise) return null;
            await Promise.race([window.MathJax.startup.promise, new Promise((_, reject) =>
                setTimeout(() => reject(new Error('MathJax did not finish within 60 s')), 60000))]);
            return window.MathJax.version;
        }""")

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, site):
    visits = []

    def open_visit(viewport=DESKTOP):
        visits.append(Visit(browser, site, viewport))
        return visits[-1]

    yield open_visit
    for item in visits:
        item.close()


def _save_screenshot(page, name, full_page=True):
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / name
    page.screenshot(path=str(path), full_page=full_page)
    _report(f"screenshot: {path}")
    return path


# In-page helpers (JavaScript) ------------------------------------------------------------

REVEAL_HIDDEN = """() => {
    // Open what a reader can open: hidden cell inputs/outputs (<details>) and the
    // dropdowns of sphinx-togglebutton (exercise solutions), so that every figure is drawn.
    document.querySelectorAll('article details').forEach(d => { d.open = true; });
    document.querySelectorAll('article .toggle-hidden').forEach(item => {
        const title = item.querySelector(':scope > .admonition-title');
        if (title) title.click(); else item.classList.remove('toggle-hidden');
    });
}"""

MEASURE_FIGURES = """async () => {
    const images = [...document.querySelectorAll('article.bd-article img')]
        .filter(img => new URL(img.src).pathname.includes('/_images/'));
    const result = [];
    for (const img of images) {
        img.scrollIntoView({block: 'center'});
        if (!img.complete) await new Promise(done => {
            img.onload = img.onerror = done;
            setTimeout(done, 15000);
        });
        try { await img.decode(); } catch (error) {}
        const box = img.getBoundingClientRect();
        result.push({src: new URL(img.src).pathname.split('/').pop(), naturalWidth: img.naturalWidth,
                     width: box.width, height: box.height});
    }
    return result;
}"""

MATH_STATE = """() => {
    const article = document.querySelector('article.bd-article');
    // TeX that reached the page as plain text: a `$` or a \\command{ outside any equation,
    // code or notebook output, left behind when Markdown broke an equation apart (e.g. a
    // line of a multi-line $...$ that starts with "+ " and so became a list item).
    const strays = [];
    const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {acceptNode: node =>
        node.parentElement.closest('.math, mjx-container, pre, code, script, style, .cell_output, .output')
            ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const match = /\\$|\\\\[a-zA-Z]+\\s*[{_^]/.exec(node.textContent);
        if (match) strays.push(node.textContent.slice(Math.max(0, match.index - 30), match.index + 50).trim());
    }
    return {
        containers: article.querySelectorAll('mjx-container').length,
        // TeX errors (MathJax draws an merror) and unknown macros (drawn in red as text).
        errors: [...MathJax.startup.document.math]
            .filter(item => /<merror|<mtext mathcolor="red">\\\\/.test(MathJax.startup.toMML(item.root)))
            .map(item => item.math.slice(0, 120))
            .concat([...article.querySelectorAll('mjx-merror, [data-mjx-error]')]
                .map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120))),
        unrendered: [...article.querySelectorAll('.math')]
            .filter(e => !e.querySelector('mjx-container') && /\\\\\\(|\\\\\\[|\\$\\$/.test(e.textContent))
            .map(e => e.textContent.slice(0, 80)),
        strays,
    };
}"""

SIDEWAYS_OVERFLOW = """() => {
    // The page must not scroll sideways; name the elements that stick out of the screen
    // (not those inside a box that scrolls or clips, nor off-canvas drawers).
    const width = document.documentElement.clientWidth;
    const contained = e => {
        for (let a = e; a; a = a.parentElement) {
            const style = getComputedStyle(a);
            if (style.position === 'fixed') return true;
            if (a !== e && style.overflowX !== 'visible') return true;
        }
        return false;
    };
    const culprits = [];
    if (document.documentElement.scrollWidth > width + 1) {
        for (const e of document.querySelectorAll('body *')) {
            const box = e.getBoundingClientRect();
            if (box.width > 0 && box.right > width + 1 && !contained(e))
                culprits.push(`<${e.tagName.toLowerCase()} class="${e.className}"> to ${Math.round(box.right)}px: `
                              + e.textContent.trim().slice(0, 60));
            if (culprits.length >= 5) break;
        }
    }
    return {scrollWidth: document.documentElement.scrollWidth, width, culprits};
}"""


READING = """() => {
    // What a reader meets in the text: call after MathJax has typeset and REVEAL_HIDDEN.
    const article = document.querySelector('article.bd-article');
    const shown = e => e.getClientRects().length > 0;
    const snippet = e => e.textContent.replace(/\\s+/g, ' ').trim().slice(0, 70);
    const scrolls = e => e.scrollWidth > e.clientWidth + 1;
    const column = article.getBoundingClientRect();
    const inScroller = e => {
        for (let a = e.parentElement; a && a !== article; a = a.parentElement) {
            const overflow = getComputedStyle(a).overflowX;
            if ((overflow === 'auto' || overflow === 'scroll') && a.clientWidth <= column.width + 1) return true;
        }
        return false;
    };
    const codeCells = [...article.querySelectorAll('div.cell div.cell_input pre')].filter(shown)
        .map(e => ({text: e.textContent, scrolls: scrolls(e),
                    longest: Math.max(...e.textContent.split('\\n').map(line => line.length))}));
    const displays = [], cut = [];
    for (const c of article.querySelectorAll('div.math mjx-container[display="true"]')) {
        if (!shown(c)) continue;
        const math = c.querySelector('mjx-math').getBoundingClientRect();
        if (math.width <= c.clientWidth + 1) continue;
        const number = c.closest('div.math').querySelector(':scope > .eqno');
        const label = number ? number.textContent.replace('#', '').trim() : '';
        displays.push(`${label || '(unnumbered)'} ${Math.round(math.width)} px in ${c.clientWidth} px`);
        if (number) {
            const n = number.getBoundingClientRect(), box = c.getBoundingClientRect();
            if (n.bottom > box.top + 1 && n.top < box.bottom - 1) cut.push(label);
        }
    }
    const inline = [...article.querySelectorAll('mjx-container:not([display="true"])')]
        .filter(c => shown(c) && !c.closest('table, .cell_output'))
        .filter(c => c.getBoundingClientRect().right > column.right + 1 && !inScroller(c))
        .map(c => `${snippet(c.closest('p, li, dd') || c)}`);
    const figures = [...article.querySelectorAll('img')]
        .filter(img => new URL(img.src).pathname.includes('/_images/'))
        .map(img => ({src: img.src, alt: img.getAttribute('alt') || '',
                      width: img.getBoundingClientRect().width}));
    const numbers = [];
    const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {acceptNode: node =>
        // (API entries, dl.py, state Python defaults such as epsilon=1e-07 as Python writes them.)
        node.parentElement.closest('pre, code, .math, mjx-container, script, style, .cell_output, .highlight, dl.py')
            ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const m of node.textContent.matchAll(/(?<![\\w.])-?\\d+(?:\\.\\d+)?e[+-]?\\d+\\b/g)) numbers.push(m[0]);
    }
    const tables = [...article.querySelectorAll('table')].filter(shown)
        .filter(t => t.getBoundingClientRect().width > column.width + 1)
        .map(t => `${Math.round(t.getBoundingClientRect().width)} px: ${snippet(t).slice(0, 40)}`);
    // Glued values are set like the text around them: myst-nb's default makes them bold.
    const boldGlue = [...article.querySelectorAll('span.pasted-text')].filter(shown)
        .filter(e => getComputedStyle(e).fontWeight !== getComputedStyle(e.parentElement).fontWeight)
        .map(e => `${e.textContent.trim()} in "${snippet(e.parentElement).slice(0, 50)}"`);
    return {codeCells, displays, cut, inline, figures, numbers, tables, boldGlue,
            columnWidth: Math.round(column.width)};
}"""

# --- The tests ----------------------------------------------------------------------------

def test_every_toc_page_was_built():
    build_site_if_missing()
    missing = [page for page in PAGES if not (SITE_DIR / f"{page}.html").exists()]
    assert not missing, f"pages in {TOC_FILE.name} missing from {SITE_DIR}: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_page(page, visit, site):
    """One page of the book, read on a desktop screen and then on a phone."""
    tab = visit()
    response = tab.open(site + f"{page}.html")
    assert response is not None and response.status == 200, f"{page}.html: {response and response.status}"
    is_notebook = page in NOTEBOOK_PAGES
    problems = []

    # The site's chrome: the title, the logo, the favicon, the search field.
    chrome = tab.page.evaluate("""() => {
        const logo = [...document.querySelectorAll('img.logo__image')].find(i => i.offsetParent !== null);
        const icon = document.querySelector('link[rel="icon"]');
        return {logo: logo ? logo.naturalWidth : 0, title: document.querySelector('.logo__title')?.textContent.trim(),
                icon: icon ? icon.href : null, search: !!document.querySelector('.search-button-field, .search-button')};
    }""")
    if chrome["logo"] <= 0:
        problems.append("the logo is not shown")
    if chrome["title"] != CONFIG["title"]:
        problems.append(f"sidebar title {chrome['title']!r}, expected {CONFIG['title']!r}")
    if not chrome["search"]:
        problems.append("no search field")
    # One title per page, numbered once (the numbered TOC adds "7. " to "# MNIST").
    titles = tab.page.evaluate("""() => [...document.querySelectorAll('article.bd-article h1')].map(h =>
        [...h.childNodes].filter(n => !(n.classList && n.classList.contains('headerlink')))
            .map(n => n.textContent).join('').trim())""")
    if len(titles) != 1:
        problems.append(f"{len(titles)} titles (h1) on the page: {titles}")
    elif re.match(r"\d+(\.\d+)*\.?\s+\d+(\.\d+)*\.\s", titles[0]):
        problems.append(f"the title is numbered twice: {titles[0]!r} (write '# Title': the TOC numbers it)")
    if chrome["icon"] is None:
        problems.append("no favicon link")
    elif tab.page.request.get(chrome["icon"]).status != 200:
        problems.append(f"favicon {chrome['icon']} does not load")

    # Equations: MathJax input in the HTML, every one rendered, none with an error, and no
    # TeX left over in the text around them.
    equations = static_math(page)
    if is_notebook and not equations:
        problems.append("no equations (elements of class math holding \\( or \\[) in the HTML")
    version = tab.typeset() if equations else None
    if not equations:
        math_line = "no equations"
    elif version is None:
        reason = "MathJax did not load (offline? set NN_MATHJAX_DIR to a local MathJax 3)"
        if REQUIRE_BROWSER or MATHJAX_DIR:
            problems.append(reason)
        math_line = f"{equations} equations, not rendered: {reason}"
    else:
        math = tab.page.evaluate(MATH_STATE)
        if math["errors"]:
            problems.append(f"MathJax errors: {math['errors'][:5]}")
        if math["unrendered"]:
            problems.append(f"equations left as TeX: {math['unrendered'][:5]}")
        if math["containers"] < equations:
            problems.append(f"{math['containers']} equations rendered of the {equations} in the HTML")
        if math["strays"]:
            shown = " | ".join(" ".join(stray.split()) for stray in math["strays"][:3])
            problems.append(f"{len(math['strays'])} pieces of TeX outside any equation "
                            f"(a $...$ that Markdown broke apart?): {shown}")
        math_line = f"{equations} equations, {math['containers']} rendered by MathJax {version}"

    if page == PAGES[0]:
        _save_screenshot(tab.page, "front-page.png")
    if page == SCREENSHOT_CHAPTER:
        _save_screenshot(tab.page, f"{Path(page).name}.png")

    # Figures: every one the notebook produced, loaded and drawn.
    tab.page.evaluate(REVEAL_HIDDEN)
    figures = tab.page.evaluate(MEASURE_FIGURES)
    expected = expected_figures(page) if is_notebook else 0
    blank = [f for f in figures if f["naturalWidth"] <= 0 or f["width"] <= 0 or f["height"] <= 0]
    if blank:
        problems.append(f"figures not drawn: {blank}")
    if len(figures) < expected:
        problems.append(f"{len(figures)} figures on the page, the notebook has {expected}")
    _report(f"{page}: {len(figures)} figures shown ({expected} in the notebook); {math_line}")

    # Buttons: launch (notebooks), repository, issues, download, copy.
    links = tab.page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    repository_url = repository_parts()[0]
    if repository_url not in links:
        problems.append(f"no repository link {repository_url}")
    if not any(link.startswith(repository_url + "/issues/new") for link in links):
        problems.append("no 'open an issue' link")
    if is_notebook:
        expected_links, notebook = expected_launch_links(page)
        assert (ROOT / notebook).exists(), f"launch links would open {notebook}, not in the repository"
        launch = CONFIG["launch_buttons"]
        prefixes = {"binder": launch["binderhub_url"].rstrip("/") + "/v2/",
                    "colab": launch["colab_url"].rstrip("/") + "/github/"}
        for service, url in expected_links.items():
            found = sorted({link for link in links if link.startswith(prefixes[service])})
            if found != [url]:
                problems.append(f"{service} launch link {found}, expected [{url}]")
        download = tab.page.locator(f'a[href$="_sources/{page}.ipynb"]')
        if download.count() != 1:
            problems.append("no 'download .ipynb' link")
        else:
            source = tab.page.request.get(download.first.evaluate("a => a.href"))
            if source.status != 200 or "cells" not in json.loads(source.body()):
                problems.append(f"the .ipynb download answers {source.status}")
        if tab.page.locator("button.copybtn").count() == 0:
            problems.append("no copy button on the code cells")

    # A phone-sized screen: the same page must not scroll sideways.
    tab.page.set_viewport_size(PHONE)
    tab.page.wait_for_timeout(200)
    overflow = tab.page.evaluate(SIDEWAYS_OVERFLOW)
    if overflow["scrollWidth"] > overflow["width"] + 1:
        problems.append(f"on a {PHONE['width']} px screen the page is {overflow['scrollWidth']} px wide: "
                        f"{overflow['culprits']}")
    if page == PAGES[0]:
        tab.page.evaluate("() => window.scrollTo(0, 0)")
        _save_screenshot(tab.page, "front-page-phone.png", full_page=False)

    # Everything local the page asked for (also while scrolling and opening) was there.
    tab.page.wait_for_load_state("networkidle")
    problems += [f"local resource failed: {failure}" for failure in tab.local_failures]
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


def test_next_links_walk_the_toc(visit, site):
    """From the front page, "next" leads through every page of the TOC, in order."""
    tab = visit()
    response = tab.open(site)  # index.html redirects to the root page
    assert response.status == 200
    tab.page.wait_for_url(site + f"{PAGES[0]}.html")
    visited = [PAGES[0]]
    for expected_previous, expected in zip(PAGES, PAGES[1:]):
        link = tab.page.locator("a.right-next")
        assert link.count() == 1, f"no 'next' link on {visited[-1]}"
        with tab.page.expect_navigation() as navigation:
            link.click()
        assert navigation.value.status == 200, f"'next' from {visited[-1]}: HTTP {navigation.value.status}"
        here = urlsplit(tab.page.url).path
        assert here == urlsplit(site).path + f"{expected}.html", f"'next' from {visited[-1]} led to {here}"
        previous = tab.page.locator("a.left-prev").evaluate("a => a.href")
        assert urlsplit(previous).path == urlsplit(site).path + f"{expected_previous}.html"
        visited.append(expected)
    assert tab.page.locator("a.right-next").count() == 0, f"the last page {PAGES[-1]} has a 'next' link"
    assert visited == PAGES
    assert not tab.local_failures, tab.local_failures


def test_search_finds_a_chapter(visit, site):
    """The search page loads the local search index and lists the chapter with the word."""
    tab = visit()
    response = tab.open(site + f"search.html?q={SEARCH_WORD}")
    assert response.status == 200
    results = tab.page.locator("#search-results ul.search li a")
    results.first.wait_for(state="attached", timeout=30_000)
    pages = {urlsplit(href).path for href in results.evaluate_all("links => links.map(a => a.href)")}
    assert urlsplit(site).path + f"{SEARCH_PAGE}.html" in pages, f"search for {SEARCH_WORD!r}: {sorted(pages)}"
    assert not tab.local_failures, tab.local_failures


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])


def test_internal_links_resolve():
    """Every link from a book page to the site itself reaches a file, and its anchor exists."""
    build_site_if_missing()
    parsed = {}

    def parse(path):
        if path not in parsed:
            parser = _Links()
            parser.feed(path.read_text(encoding="utf-8"))
            parsed[path] = parser
        return parsed[path]

    broken = []
    for page in PAGES:
        source = SITE_DIR / f"{page}.html"
        if not source.exists():
            continue  # test_every_toc_page_was_built reports it
        for href in parse(source).hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            target = (source.parent / unquote(parts.path)).resolve() if parts.path else source
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file() or SITE_DIR not in target.parents:
                broken.append(f"{page}: {href} (no file)")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parse(target).ids:
                broken.append(f"{page}: {href} (no anchor)")
    assert not broken, "broken internal links:\n  " + "\n  ".join(broken)


# --- Reading: code, equations, figures and text as the reader meets them ------------------

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
ALT_IS_A_PATH = re.compile(r"^[\w./-]*\.(png|svg|jpe?g|gif)$|^[0-9a-f]{16,}", re.I)
LABEL_IN_COMMENT = re.compile(r"#.*\beq-[\w-]+")


def _svg_label_px(svg_text, shown_width):
    """The smallest text of an SVG figure (matplotlib draws glyphs of s pt with
    scale(s/100 -s/100)) in CSS px, when the figure is shown `shown_width` px wide."""
    width = SVG_WIDTH.search(svg_text)
    sizes = [100 * float(scale) for scale in SVG_GLYPH_SCALE.findall(svg_text)]
    if not width or not sizes:
        return None
    return min(sizes) * shown_width / float(width.group(1))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", PAGES)
def test_reading(page, width, visit, site):
    """What the reader sees, at 1280 px and at 390 px: code cells that fit (desktop), no
    plumbing on show, equations that fit their box (desktop) and are never cut beside their
    number (phone), no inline formula out of reach, figures with alt text and labels of at
    least 8 CSS px (phone), typeset numbers, tables that fit (desktop), no console errors.
    Saves a screenshot of the page at this width in _build/screenshots/."""
    tab = visit(WIDTHS[width])
    response = tab.open(site + f"{page}.html")
    assert response is not None and response.status == 200
    if static_math(page) and tab.typeset() is None and (REQUIRE_BROWSER or MATHJAX_DIR):
        pytest.fail("MathJax did not load")
    tab.page.evaluate(REVEAL_HIDDEN)
    tab.page.evaluate(MEASURE_FIGURES)  # scrolls every figure into view: all are loaded
    seen = tab.page.evaluate(READING)
    problems = []

    def problem(what, items):
        if items:
            problems.append(f"{what} ({len(items)}): " + " | ".join(map(str, items[:6])))

    desktop = width == "desktop"
    if desktop:
        problem("code cells that scroll sideways",
                [f"{cell['longest']} characters: {cell['text'][:50]!r}"
                 for cell in seen["codeCells"] if cell["scrolls"]])
        plumbing, comments = [], []
        for cell in seen["codeCells"]:
            body = statements(cell["text"])
            if body and all(is_plumbing(statement) for statement in body):
                plumbing.append(cell["text"][:50])
            elif body and any(is_plumbing(s) and not isinstance(s, ast.Assert) for s in body):
                plumbing.append("glue in " + cell["text"][:50])
            comments += LABEL_IN_COMMENT.findall(cell["text"])
        problem("code cells readers see that only glue or assert, or that glue", plumbing)
        problem("code comments citing an internal label, not the printed number", comments)
        problem("display equations wider than their box", seen["displays"])
        problem("numbers in computer format", seen["numbers"])
        problem("tables wider than the column", seen["tables"])
        problem("glued values set in another weight than their text", seen["boldGlue"])
    else:
        problem("display equations cut beside their number", seen["cut"])
        problem("inline formulas past the text column, out of reach", seen["inline"])
        small = []
        for figure in seen["figures"]:
            if not figure["src"].endswith(".svg"):
                small.append(f"{figure['src'].rsplit('/', 1)[-1]} is not SVG (labels unmeasurable)")
                continue
            label = _svg_label_px(tab.page.request.get(figure["src"]).text(), figure["width"])
            if label is not None and label < MIN_LABEL_PX:
                small.append(f"{figure['src'].rsplit('/', 1)[-1]}: {label:.1f} px")
        problem(f"figures with labels under {MIN_LABEL_PX:g} CSS px", small)
    problem("figures without alt text",
            [f["src"].rsplit("/", 1)[-1] for f in seen["figures"]
             if len(f["alt"].split()) < 3 or ALT_IS_A_PATH.match(f["alt"])])
    problem("console errors", tab.console_errors)
    _save_screenshot(tab.page, f"{Path(page).name}-{WIDTHS[width]['width']}.png")
    assert not problems, f"{page} at {WIDTHS[width]['width']} px:\n  " + "\n  ".join(problems)
