"""Executed notebooks as learners meet them, in headless Chromium: in a real JupyterLab (a
notebook it does not trust, and the same notebook trusted), and as nbconvert's HTML page
(scripts run) and its sanitized page (as GitHub-style viewers show it), at 1280x800 and at
970 px wide.

Every drawing must show (its image loaded) inside its output area, and every player must show:
where scripts cannot run, its static view (the graph loaded, the final gradients, how to make
it interactive), and where they can, the player itself, as tall as its page (no scroll box in
a scroll box), stepping when its Next button is pressed. No page may request anything from
outside (the JupyterLab server is on 127.0.0.1 and is started offline).

Screenshots of every page are saved in the test's tmp_path (pytest --basetemp=DIR keeps them).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.jupyterlab_server import running_jupyterlab, sign
from tests.notebook_cases import execute, require_kernel
from tests.test_player_html import WAIT_MS, browser  # noqa: F401  (the Chromium fixture)

WIDTHS = (1280, 970)
FIT_TRIES = 100  # times 0.1 s: how long a player in view may take to fit its page
SHOWN = ("01_neuron", "03_gender")  # drawings, players, a collapsed drawing, fit's bar

# What one output shows, measured in the page (after scrolling it into view).
MEASURE = """o => {
  const box = e => { const r = e.getBoundingClientRect();
                     return {left: r.left, right: r.right, width: r.width, height: r.height}; };
  const shown = e => { const r = e.getBoundingClientRect(), s = getComputedStyle(e);
                       return r.width > 0 && r.height > 0 && s.display !== 'none'
                              && s.visibility !== 'hidden'; };
  const player = o.querySelector('.glassgrad-player');
  const still = o.querySelector('.glassgrad-static');
  const frame = o.querySelector('iframe');
  return {
    area: box(o), scrolls: o.scrollWidth > o.clientWidth + 1,
    kind: player ? 'player' : o.querySelector('img') ? 'image' : 'other',
    images: [...o.querySelectorAll('img')].filter(shown).map(
      i => Object.assign(box(i), {loaded: i.complete && i.naturalWidth > 0,
                                  src: i.getAttribute('src') || '', alt: i.alt})),
    frame: frame === null ? null : Object.assign(box(frame), {shown: shown(frame)}),
    still: still !== null && shown(still),
    text: o.innerText,
  };
}"""


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    """The executed notebooks, as files: NAME.ipynb (not trusted) and NAME-trusted.ipynb."""
    require_kernel()
    import nbformat

    folder = tmp_path_factory.mktemp("executed")
    for name in SHOWN:
        notebook = execute(name, folder)
        nbformat.write(notebook, folder / f"{name}-trusted.ipynb")
        # signatures are of the content: the untrusted copy must differ from the trusted one
        notebook.metadata["glassgrad_test"] = "not trusted"
        nbformat.write(notebook, folder / f"{name}.ipynb")
    return folder


@pytest.fixture(scope="module")
def lab(notebooks, tmp_path_factory):
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        pytest.skip("JupyterLab is not installed: pip install -e '.[notebook]'")
    home = tmp_path_factory.mktemp("jupyter-home")
    for name in SHOWN:
        sign(notebooks / f"{name}-trusted.ipynb", home / "data")
    with running_jupyterlab(notebooks, home) as server:
        yield server


class Browsing:
    """A browser context at one width that lets requests reach only `allowed` (everything else
    is aborted and recorded) and records the page's errors."""

    def __init__(self, browser, width: int, allowed: tuple[str, ...], server: str = "-"):
        self.server = server
        self.context = browser.new_context(viewport={"width": width, "height": 800})
        self.context.set_default_timeout(WAIT_MS)
        self.outside, self.errors = [], []
        self.allowed = allowed + ("data:", "blob:", "about:")
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", self._error)

    def _error(self, error) -> None:
        """An uncaught error, unless JupyterLab's own code (its bundles and its extensions'
        scripts) threw it: with no kernel, which the tests do not start, the widget manager
        reads `session.kernel` of null. Scripts in outputs run from the page itself."""
        frames = (error.stack or "").splitlines()[1:]
        if frames and any(f"{self.server}{code}" in frames[0]
                          for code in ("/static/lab/", "/lab/extensions/")):
            return
        self.errors.append(f"{error.message}\n{error.stack}")

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.allowed):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def outputs(self, selector: str) -> list[dict]:
        """MEASURE for every output, each scrolled into view first (JupyterLab lays out only
        what is near the view)."""
        found = []
        for k in range(self.page.locator(selector).count()):
            output = self.page.locator(selector).nth(k)
            output.scroll_into_view_if_needed()
            self.page.wait_for_timeout(150)
            found.append(output.evaluate(MEASURE))
        return found

    def close(self) -> None:
        self.context.close()


def expected_outputs(path: Path) -> dict[str, int]:
    """How many drawings and players the saved notebook holds."""
    outputs = [o for cell in json.loads(path.read_text())["cells"] for o in cell.get("outputs", [])]
    return {
        "image": sum("image/png" in o.get("data", {}) for o in outputs),
        "player": sum('class="glassgrad-player"' in "".join(o.get("data", {}).get("text/html", ""))
                      for o in outputs),
    }


def check_fits(output: dict, where: str) -> None:
    area = output["area"]
    assert not output["scrolls"], f"{where}: the output scrolls sideways"
    for image in output["images"]:
        assert image["loaded"], f"{where}: an image did not load"
        assert image["width"] <= area["width"] + 0.5 and image["height"] > 20, (where, image, area)
        assert image["left"] >= area["left"] - 0.5 and image["right"] <= area["right"] + 0.5


def check_frames(browsing: Browsing, players: list[dict], where: str) -> None:
    """Each player's frame is as tall as its page (nothing scrolls inside), and it steps."""
    frames = browsing.page.frame_locator("iframe.glassgrad-frame")
    for k, output in enumerate(players):
        browsing.page.locator("iframe.glassgrad-frame").nth(k).scroll_into_view_if_needed()
        frame = frames.nth(k)
        for _ in range(FIT_TRIES):  # the frame reports its height once it is in view
            content, scroll_height, frame_height = frame.locator("body").evaluate(
                "b => [b.getBoundingClientRect().height, document.documentElement.scrollHeight,"
                " innerHeight]")
            if abs(content - frame_height) <= 2:
                break
            browsing.page.wait_for_timeout(100)
        assert abs(content - frame_height) <= 2 and scroll_height <= frame_height + 1, \
            f"{where}: player {k} is {frame_height} px tall around {content} px of page"
        counter = frame.locator("#player-counter")
        now, last = map(int, counter.inner_text().split(" / "))
        assert now < last
        frame.locator("#player-next").click()
        assert counter.inner_text() == f"{now + 1} / {last}", f"{where}: player {k} did not step"


@pytest.mark.parametrize("name, trusted", [("01_neuron", False), ("01_neuron", True),
                                           ("03_gender", False)],
                         ids=["neuron-untrusted", "neuron-trusted", "gender-untrusted"])
def test_in_jupyterlab_every_drawing_and_player_shows_and_fits(browser, lab, notebooks, name,
                                                                trusted, tmp_path):
    file = f"{name}-trusted.ipynb" if trusted else f"{name}.ipynb"
    want = expected_outputs(notebooks / file)
    selector = ".jp-Notebook .jp-Cell-outputArea .jp-OutputArea-output"
    browsing = Browsing(browser, WIDTHS[0], (lab.base + "/",), server=lab.base)
    try:
        browsing.page.goto(lab.url(file))
        browsing.page.wait_for_function(
            "([s, n]) => document.querySelectorAll(s + ' .glassgrad-player').length === n",
            arg=[selector, want["player"]])
        for width in WIDTHS:  # the same page, its window narrowed: JupyterLab lays it out again
            browsing.page.set_viewport_size({"width": width, "height": 800})
            where = f"{file} at {width} px"
            outputs = browsing.outputs(selector)
            images = [o for o in outputs if o["kind"] == "image"]
            players = [o for o in outputs if o["kind"] == "player"]
            assert (len(images), len(players)) == (want["image"], want["player"]), where
            for output in outputs:
                check_fits(output, where)
            for output in images:
                assert len(output["images"]) == 1
            for output in players:
                if trusted:  # the script ran: the player, not its static view
                    assert output["frame"]["shown"] and not output["still"], where
                    assert output["frame"]["width"] <= output["area"]["width"] + 0.5
                else:  # the sanitizer took the iframe and the script: the static view
                    assert output["frame"] is None and output["still"], where
                    assert len(output["images"]) == 1  # the graph
                    assert "static view" in output["text"] and "Trust Notebook" in output["text"]
                    assert "the gradient of" in output["text"]
            if name == "03_gender":  # fit's bar stayed, at its end
                bar, = [o for o in outputs if "4000/4000" in o["text"]]
                assert bar["text"].startswith("100%") and "loss=" in bar["text"]
            if trusted:
                check_frames(browsing, players, where)
            browsing.page.screenshot(path=str(tmp_path / f"{file}-{width}.png"))
        assert browsing.outside == [] and browsing.errors == []
    finally:
        browsing.close()


# GitHub-style sanitizing, for the test below: the elements GitHub's HTML sanitizer keeps
# (its allowlist, as published), applied by nbconvert's own SanitizeHTML (bleach), which also
# drops data: URLs from <img> and every output type that could run code. `class` is kept only
# so the test can find the players.
GITHUB_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "br", "b", "i", "strong", "em", "a", "pre",
               "code", "img", "tt", "div", "ins", "del", "sup", "sub", "p", "ol", "ul", "table",
               "thead", "tbody", "tfoot", "blockquote", "dl", "dt", "dd", "kbd", "q", "samp",
               "var", "hr", "li", "tr", "td", "th", "s", "strike", "summary", "details",
               "caption", "figure", "figcaption", "abbr", "bdo", "cite", "dfn", "mark", "small",
               "span", "time", "wbr"]
GITHUB_ATTRIBUTES = {"a": ["href"], "img": ["src", "alt", "width", "height"],
                     "*": ["class", "align", "colspan", "rowspan", "title", "open"]}


@pytest.mark.parametrize("sanitized", [False, True], ids=["nbconvert", "sanitized"])
def test_as_nbconvert_html_every_drawing_and_player_shows_and_fits(browser, notebooks, sanitized,
                                                                   tmp_path):
    """nbconvert's page runs scripts: the player works there. Sanitized as GitHub-style
    viewers do it, the player's static view shows (its text and table; its picture went with
    the data: URL)."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    notebook = nbformat.read(notebooks / "01_neuron-trusted.ipynb", as_version=4)
    if sanitized:
        notebook, _ = SanitizeHTML(tags=GITHUB_TAGS, attributes=GITHUB_ATTRIBUTES,
                                   strip=True).preprocess(notebook, {})
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    path = tmp_path / "01_neuron.html"
    path.write_text(body, encoding="utf-8")
    # the page's MathJax and RequireJS come from a CDN: offline, they are refused (and needed
    # by nothing here)
    browsing = Browsing(browser, WIDTHS[0], (path.as_uri(),))
    try:
        browsing.page.goto(path.as_uri())
        for width in WIDTHS:
            browsing.page.set_viewport_size({"width": width, "height": 800})
            outputs = browsing.outputs(".jp-OutputArea-output")
            where = f"nbconvert{' sanitized' if sanitized else ''} at {width} px"
            images = [o for o in outputs if o["kind"] == "image"]
            players = [o for o in outputs if o["kind"] == "player"]
            assert (len(images), len(players)) == (3, 2), where
            for output in players:
                if sanitized:  # its picture lost its data: URL; its description shows
                    picture, = output["images"]
                    assert picture["src"] == "" and picture["alt"].endswith("(the computation graph)")
                    output["images"] = []
            for output in outputs:
                check_fits(output, where)
            for output in players:
                if sanitized:
                    assert output["frame"] is None and output["still"], where
                    assert "static view" in output["text"] and "the gradient of" in output["text"]
                    assert "<" not in output["text"]  # no markup shown as text
                else:
                    assert output["frame"]["shown"] and not output["still"], where
            if not sanitized:
                check_frames(browsing, players, where)
            browsing.page.screenshot(path=str(tmp_path / f"nbconvert-{width}.png"), full_page=True)
        assert all("cdnjs.cloudflare.com" in url for url in browsing.outside)
        assert browsing.errors == []
    finally:
        browsing.close()
