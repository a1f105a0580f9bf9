"""The HTML player in a real headless Chromium (Debian's chromium, driven by Playwright).

Every page is opened with all requests watched: anything but the file itself fails the test, as
does any console error or uncaught exception. Locally the browser tests are skipped when
Chromium or Playwright is missing; with CI set they fail instead.

Set UPDATE_DOCS=1 to also write the README's screenshot, docs/backprop-player.png.
"""
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import autograd
from autograd import Value
from autograd.draw import NOT_COMPUTED, GraphvizNotFound
from autograd.notebook import with_height_report
from demos.neuron import network_221

CHROMIUM = "/usr/bin/chromium"  # Debian's package; else whichever `chromium` is on PATH
WAIT_MS = 60_000  # for anything that waits on the browser: generous for a loaded 2-core CI
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
HOSTILE = "<img src=x onerror=alert(1)>"
DOCS = Path(__file__).resolve().parent.parent / "docs"


def short(x: float) -> str:
    """6 significant digits, and zero as "0" whatever its sign, as the players show numbers."""
    return "0" if x == 0 else f"{x:.6g}"


def find_chromium() -> str | None:
    """The Chromium to launch: Debian's, else the one on PATH; None when there is none."""
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


def test_the_chromium_on_path_is_the_one_launched(monkeypatch):
    monkeypatch.setattr(os.path, "exists", lambda path: False)
    monkeypatch.setattr(shutil, "which", lambda name: f"/opt/{name}/bin/{name}")
    assert find_chromium() == "/opt/chromium/bin/chromium"
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert find_chromium() is None


@pytest.fixture(scope="module")
def browser():
    problem = None
    executable = find_chromium()
    if executable is None:
        problem = (f"Chromium is not installed (neither {CHROMIUM} nor `chromium` on PATH): "
                   "sudo apt-get install chromium")
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            problem = "Playwright is not installed: pip install 'glassgrad[test]'"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the browser tests, but: {problem}")
        pytest.skip(problem)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=ARGS,
                                              timeout=WAIT_MS)
        yield chromium
        chromium.close()


class Page:
    """A page of the player with every request, console error and page error recorded."""

    def __init__(self, browser, path: Path, width: int = 1280, height: int = 900,
                 fragment: str = ""):
        self.url = path.resolve().as_uri()
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.context.set_default_timeout(WAIT_MS)  # clicks, waits and page loads
        self.requests, self.errors, self.dialogs = [], [], []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(self.url + fragment)

    def _route(self, route):
        if route.request.url.split("#")[0] == self.url:
            route.continue_()
        else:
            route.abort()

    def counter(self) -> str:
        return self.page.inner_text("#player-counter")

    def table(self) -> list[tuple[str, str, str, str]]:
        """(data shown, data exact, grad shown, grad exact) for every row."""
        return self.page.eval_on_selector_all(
            "#player-rows tr",
            "rows => rows.map(r => [r.querySelector('.data').textContent,"
            " r.querySelector('.data').dataset.exact, r.querySelector('.grad').textContent,"
            " r.querySelector('.grad').dataset.exact])")

    def steps(self) -> int:
        """The number of the last step shown ("k / N": N)."""
        return int(self.counter().split(" / ")[1])

    def go(self, k: int) -> None:
        self.page.eval_on_selector(
            "#player-slider", "(s, k) => { s.value = k; s.dispatchEvent(new Event('input')); }",
            k)

    def level(self, level: str) -> None:
        self.page.select_option("#player-level", level)

    def close(self):
        self.context.close()
        assert [u.split("#")[0] for u in self.requests] == [self.url], \
            "the page made requests of its own"
        assert self.errors == [], "the page logged errors"
        assert self.dialogs == [], "a script ran that should not have"


@pytest.fixture
def open_page(browser):
    pages = []

    def open_(path: Path, **options) -> Page:
        pages.append(Page(browser, path, **options))
        return pages[-1]

    yield open_
    for page in pages:
        page.close()


def expected_table(walk, k):
    """What the table must show after step k, from the recorded state (None: not computed)."""
    state = walk.state(k)
    rows = []
    for node, data, grad in zip(walk.nodes, state.data, state.grad):
        shown = (lambda x: "—" if x is None else short(x))
        exact = (lambda x: "" if x is None else repr(x))
        grad_shown = "no grad" if not node.requires_grad else shown(grad)
        rows.append([shown(data), exact(data), grad_shown, exact(grad)])
    return rows


def test_stepping_to_the_end_with_keys_and_buttons_shows_the_engines_grads(open_page, tmp_path):
    out, leaves = network_221()
    walk = autograd.backprop_steps(out)
    path = autograd.player(walk).save(tmp_path / "network.html")
    out.backward()  # the engine's own grads, to compare with what the page shows
    order = autograd.topological_order(out)
    last = len(walk) - 1

    page = open_page(path)
    assert page.counter() == f"0 / {last}"
    start = page.table()
    assert all(row[2] == "—" for row in start)  # no grad computed yet
    assert [row[0] == "—" for row in start] == [v.op is not None for v in order]

    for _ in range(last + 3):  # more presses than steps: the end stays the end
        page.page.keyboard.press("ArrowRight")
    assert page.counter() == f"{last} / {last}"
    final = page.table()
    for v, (data, data_exact, grad, grad_exact) in zip(order, final):
        assert float(data_exact) == v.data and data == short(v.data)
        assert float(grad_exact) == v.grad and grad == short(v.grad)  # bit for bit
    shown_in_drawing = page.page.eval_on_selector_all(
        "svg g.item.value", "gs => gs.map(g => [g.id, g.querySelector('.grad')?.textContent])")
    assert len(shown_in_drawing) == len(order)  # every op is open: each value has a box
    for node_id, text in shown_in_drawing:
        v = order[int(node_id[1:])]
        if v.requires_grad:
            assert text == f"grad {float(f'{v.grad:.4g}'):.4g}"  # 4 digits in the drawing
    assert page.page.is_disabled("#player-next") and page.page.is_disabled("#player-end")
    page.page.screenshot(path=str(tmp_path / "player-end.png"), full_page=True)

    page.page.keyboard.press("Home")
    assert page.counter() == f"0 / {last}" and page.table() == start
    for _ in range(last):
        page.page.click("#player-next")
    assert page.counter() == f"{last} / {last}" and page.table() == final
    # By hand: every neuron has w = [0, 1], b = 0, so h = σ(3) and o = σ(h2); only x2 matters.
    sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    slope = lambda z: sigmoid(z) * (1 - sigmoid(z))  # noqa: E731
    x2 = next(i for i, v in enumerate(order) if v.label == "x2")
    assert float(final[x2][3]) == pytest.approx(slope(sigmoid(3.0)) * slope(3.0), rel=1e-14)


def test_back_forward_and_slider_agree_with_the_recorded_steps(open_page, tmp_path):
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8813735870195432, "b")
    out = (x * w + b).tanh() * x  # x used twice: its grad collects two contributions
    walk = autograd.backprop_steps(out)
    page = open_page(autograd.player(walk).save(tmp_path / "p.html"))
    last = len(walk) - 1
    by_next = [page.table()]
    for k in range(1, last + 1):
        page.page.click("#player-next")
        by_next.append(page.table())
    by_prev = {last: page.table()}
    for k in range(last - 1, -1, -1):
        page.page.keyboard.press("ArrowLeft")
        assert page.counter() == f"{k} / {last}"
        by_prev[k] = page.table()
    for k in range(last + 1):
        slide_to(page, k)
        assert page.counter() == f"{k} / {last}"
        assert page.table() == by_next[k] == by_prev[k] == expected_table(walk, k)
        title = page.page.inner_text("#player-step-title")
        assert title == walk[k].title
        lines = page.page.eval_on_selector_all("#player-lines .line",
                                               "ls => ls.map(l => l.textContent)")
        assert lines == list(walk[k].lines)
    # The chain-rule line at the multiplication by x, in numbers: upstream · local.
    t = math.tanh(2.0 * -3.0 + 6.8813735870195432)
    mul = next(s for s in walk if s.kind == "backward")
    assert mul.terms[0].local == 2.0 and mul.terms[1].local == t  # d(u*x)/du = x, d/dx = u
    assert f"(so far: not computed → {short(t)})" in mul.lines[3]


def test_the_current_node_is_highlighted_in_the_drawing(open_page, tmp_path):
    x, w = Value(2.0, "x"), Value(-3.0, "w")
    walk = autograd.backprop_steps((x * w).tanh())
    page = open_page(autograd.player(walk).save(tmp_path / "p.html"))
    k = next(s.index for s in walk if s.kind == "backward" and walk.nodes[s.node].op == "mul")
    for _ in range(k):
        page.page.keyboard.press("ArrowRight")
    node = walk[k].node
    current = page.page.eval_on_selector_all("svg .current", "es => es.map(e => e.id)")
    assert current == [f"v{node}"]
    receiving = page.page.eval_on_selector_all("svg .receiving", "es => es.map(e => e.id)")
    assert sorted(receiving) == ["v0", "v1"]  # x and w receive gradient
    flow = page.page.eval_on_selector_all("svg .edge.flow", "es => es.map(e => e.id)")
    assert sorted(flow) == [f"e-v0-v{node}", f"e-v1-v{node}"]
    assert page.page.inner_text("#player-rows tr.current .name") == walk.nodes[node].name
    page.page.keyboard.press("Home")  # forward: the edges it is computed from, in green
    page.go(next(s.index for s in walk if s.kind == "forward" and s.node == node))
    forward = page.page.eval_on_selector_all("svg .edge.forward", "es => es.map(e => e.id)")
    assert sorted(forward) == [f"e-v0-v{node}", f"e-v1-v{node}"]


def fills(page) -> dict[str, str]:
    """The fill of each drawn Value's grad cell."""
    return dict(page.page.eval_on_selector_all(
        "svg g.item.value", "gs => gs.map(g => { var c = g.querySelector('.grad-cell');"
        " return [g.id, c && c.getAttribute('fill')]; })"))


def hue(fill: str) -> str:
    """"blue", "red", "white" or "grey" for a #rrggbb fill."""
    r, g, b = (int(fill[k:k + 2], 16) for k in (1, 3, 5))
    if r == g == b:
        return "white" if r == 255 else "grey"
    return "blue" if b > r else "red"


def test_grad_cells_are_coloured_by_sign_as_the_steps_fill_them(open_page, tmp_path):
    x, w, z = Value(2.0, "x"), Value(-3.0, "w"), Value(-1.0, "z")
    a = x * w
    t = a.tanh()
    u = z * 2.0
    a.label, t.label, u.label = "a", "t", "u"
    out = -t + u.relu()  # ∂/∂t = -1, ∂/∂a = -tanh'(a) < 0, ∂/∂u = relu'(-2) = 0
    out.backward()  # looked at after backward(): the leaves hold grads, which the steps set aside
    walk = autograd.backprop_steps(out)
    page = open_page(autograd.player(walk).save(tmp_path / "p.html"))
    ids = {v.label: f"v{i}" for i, v in enumerate(autograd.topological_order(out)) if v.label}
    inner = ["a", "t", "u"]
    start = fills(page)
    assert [start[ids[n]] for n in inner + ["x", "w"]] == [NOT_COMPUTED] * 5  # not computed
    assert w.grad < 0 < x.grad  # -tanh'(a)·w and -tanh'(a)·x, by the engine
    slide_to(page, walk.first_backward)  # the seed: only the output's grad, 1
    assert [fills(page)[ids[n]] for n in inner] == [NOT_COMPUTED] * 3
    page.page.click("#player-end")
    end = fills(page)
    assert a.grad < 0 and t.grad == -1 and u.grad == 0  # (the signs, by the engine)
    assert [hue(end[ids[n]]) for n in inner + ["x", "w"]] == ["red", "red", "white", "blue",
                                                              "red"]
    page.page.keyboard.press("Home")
    assert fills(page) == start


def slide_to(page, k: int) -> None:
    page.page.eval_on_selector(
        "#player-slider", "(s, k) => { s.value = k; s.dispatchEvent(new Event('input')); }", k)


def test_play_runs_to_the_end_at_the_chosen_speed(open_page, tmp_path):
    walk = autograd.backprop_steps(Value(0.5, "x").exp().sin())
    page = open_page(autograd.player(walk).save(tmp_path / "p.html"))
    last = len(walk) - 1
    page.page.select_option("#player-speed", "4")
    page.page.click("#player-play")
    assert page.page.inner_text("#player-play") == "⏸ Pause"
    page.page.wait_for_function(
        f"() => document.getElementById('player-counter').textContent === '{last} / {last}'",
        timeout=WAIT_MS)
    page.page.wait_for_function(
        "() => document.getElementById('player-play').textContent === '▶ Play'", timeout=WAIT_MS)


def test_a_hostile_label_stays_text(open_page, tmp_path):
    evil = Value(-3.0, HOSTILE)
    script = Value(2.0, "</script><script>alert(2)</script>")
    out = (evil * script).tanh()
    walk = autograd.backprop_steps(out)
    path = autograd.player(walk, title=HOSTILE).save(tmp_path / "hostile.html")
    page = open_page(path)
    page.page.keyboard.press("End")
    assert page.page.eval_on_selector_all("img", "is => is.length") == 0
    assert page.page.title() == HOSTILE
    names = page.page.eval_on_selector_all("#player-rows .name", "ns => ns.map(n => n.textContent)")
    assert names[:2] == [HOSTILE, "</script><script>alert(2)</script>"]
    svg_text = page.page.eval_on_selector("svg", "s => s.textContent")
    assert HOSTILE in svg_text
    page.page.screenshot(path=str(tmp_path / "hostile.png"))
    text = path.read_text(encoding="utf-8")
    assert text.count("</script>") == 2  # the page's own two script elements, nothing more


def test_in_jupyter_the_player_is_an_escaped_iframe_that_works(open_page, tmp_path):
    x = Value(1.0, "x")
    player = autograd.player(x.sigmoid())
    markup = player._repr_html_()

    class Srcdoc(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "iframe":
                self.tag, self.attrs = tag, dict(attrs)

    parsed = Srcdoc()
    parsed.feed(markup)
    assert parsed.tag == "iframe" and parsed.attrs["srcdoc"] == with_height_report(player.html())
    assert parsed.attrs["sandbox"] == "allow-scripts"
    path = tmp_path / "notebook.html"
    path.write_text(f"<!DOCTYPE html><html><body>{markup}</body></html>", encoding="utf-8")
    page = open_page(path)
    frame = page.page.frame_locator("iframe")
    last = len(player.steps) - 1
    assert frame.locator("#player-counter").inner_text() == f"0 / {last}"
    frame.locator("#player-end").click()
    assert frame.locator("#player-counter").inner_text() == f"{last} / {last}"
    page.requests = [u for u in page.requests if u != "about:srcdoc"]


def test_the_readme_screenshots(open_page, tmp_path):
    """The README's pictures of the player: seed 001's network half-way through its backward
    pass, and micrograd's MLP(2, [16, 16, 1]) by layer and by neuron. Written to docs/ only
    when UPDATE_DOCS=1 (so that test runs leave the tree alone)."""
    shots = []
    out, _ = network_221()
    walk = autograd.backprop_steps(out)
    page = open_page(autograd.player(walk, title="Seed 001's 2-2-1 network").save(
        tmp_path / "seed001.html"), height=760)
    k = next(s.index for s in walk if s.kind == "backward" and walk.nodes[s.node].name == "h2")
    slide_to(page, k)
    shots.append(tmp_path / "backprop-player.png")
    page.page.screenshot(path=str(shots[-1]))

    loss = moons_loss()
    path = autograd.player(loss, title="micrograd's MLP(2, [16, 16, 1]) on one moons sample, "
                                       "hinge loss").save(tmp_path / "moons.html")
    for level, title in (("layer", "backward through layer layers.1"),
                         ("neuron", "backward through neuron layers.1.neurons.3")):
        page = open_page(path, fragment=f"#level={level}")
        for k in range(page.steps() + 1):
            page.go(k)
            if page.page.inner_text("#player-step-title").startswith(title):
                break
        else:
            raise AssertionError(f"no step {title!r}")
        shots.append(tmp_path / f"player-mlp-{level}s.png")
        page.page.screenshot(path=str(shots[-1]))
    for shot in shots:
        assert shot.stat().st_size > 10_000
        if os.environ.get("UPDATE_DOCS") and DOCS.is_dir():
            shutil.copy(shot, DOCS / shot.name)


# ---- without a browser ---------------------------------------------------------------------
def embedded_data(text: str) -> dict:
    match = re.search(r'<script type="application/json" id="player-data">(.*?)</script>', text,
                      re.S)
    return json.loads(match.group(1))


def test_the_page_is_self_contained_and_its_data_safely_embedded(tmp_path):
    label = "a</script><!--&\u2028"
    out = (Value(2.0, label) * 3.0).exp()
    text = autograd.player(out).html()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';" in text
    data = embedded_data(text)
    assert data["nodes"][0]["name"] == label  # the escapes decode back to the label
    json_text = re.search(r'id="player-data">(.*?)</script>', text, re.S).group(1)
    assert not set("<>&\u2028") & set(json_text)


def test_the_page_needs_no_graphviz(tmp_path, monkeypatch):
    def missing(self, format="svg"):
        raise GraphvizNotFound("Graphviz's 'dot' program is needed")

    monkeypatch.setattr(autograd.Drawing, "pipe", missing)
    text = autograd.player(Value(1.0, "x").tanh()).html()
    assert "<svg" not in text  # the page draws the graph itself
    assert len(embedded_data(text)["steps"]) == 5


def test_misuse_is_a_clear_error(tmp_path):
    with pytest.raises(TypeError, match=r"player\(\) needs a Value.*got int"):
        autograd.player(3)
    with pytest.raises(TypeError, match="title"):
        autograd.player(Value(1.0) * 2, title=3)
    with pytest.raises(ValueError, match="ending in .html"):
        autograd.player(Value(1.0) * 2).save(tmp_path / "page.txt")
    with pytest.raises(ValueError, match="constant"):
        autograd.player(Value(1.0, requires_grad=False) * 2)


def test_the_command_line_writes_the_page(tmp_path):
    target = tmp_path / "backprop.html"
    run = subprocess.run(
        [sys.executable, "-m", "autograd", "html", "tanh(x*w + b)", "x=2", "w=-3",
         "b=6.8813735870195432", "-o", str(target)],
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert f"wrote {target}" in run.stderr
    text = target.read_text(encoding="utf-8")
    assert html.escape("Backprop step by step: tanh(x*w + b)") in text
    assert len(embedded_data(text)["steps"]) == 9
    bad = subprocess.run([sys.executable, "-m", "autograd", "html", "tanh(x)", "x=1", "-o",
                          str(tmp_path / "page.png")], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "ending in .html" in bad.stderr


def test_the_demo_writes_both_pages_and_the_mlp_page_ends_at_backwards_grads(open_page, tmp_path,
                                                                            capsys):
    from demos import players

    seed001, mlp = players.main(["--out", str(tmp_path)])
    assert seed001.name == "backprop_seed001.html" and mlp.name == "backprop_mlp_step.html"
    assert str(mlp) in capsys.readouterr().out
    model, loss, _, _ = players.mlp_step()  # the same seed: the same parameters
    loss.backward()
    order = autograd.topological_order(loss)
    page = open_page(mlp)
    page.page.click("#player-end")
    for v, (_, _, grad, exact) in zip(order, page.table()):
        if v.requires_grad:
            assert float(exact) == v.grad and grad == short(v.grad)
        else:
            assert grad == "no grad"


# ---- at real size: micrograd's MLP(2, [16, 16, 1]) on one moons sample ----------------------
SIZES = [(1280, 800), (968, 800)]  # a laptop, and a notebook's output area


def moons_loss():
    nn = pytest.importorskip("nn")
    X, y = nn.make_moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=0)
    return nn.hinge(model(X[0]), 2 * y[0] - 1)


@pytest.fixture(scope="module")
def moons_page(tmp_path_factory):
    loss = moons_loss()
    return autograd.player(loss).save(tmp_path_factory.mktemp("moons") / "moons.html"), loss


SMALLEST_TEXT = """() => {
  // The smallest text on the screen, in CSS px: HTML text at its computed size, the drawing's
  // text at its size times the zoom; only what is in view (the drawing's box clips the rest).
  var graph = document.getElementById('player-graph').getBoundingClientRect();
  var smallest = Infinity, where = '';
  document.querySelectorAll('body *').forEach(function (e) {
    if (e.closest('select')) return;
    var own = Array.from(e.childNodes).some(function (n) {
      return n.nodeType === 3 && n.textContent.trim(); });
    if (!own) return;
    var r = e.getBoundingClientRect();
    if (!r.width || !r.height) return;
    var size = parseFloat(getComputedStyle(e).fontSize);
    if (e instanceof SVGElement) {
      if (r.right < graph.left || r.left > graph.right || r.bottom < graph.top ||
          r.top > graph.bottom) return;
      size *= e.getScreenCTM().a;
    }
    if (size < smallest) { smallest = size; where = e.tagName + ' ' + e.textContent; }
  });
  return [smallest, where];
}"""

SIDEWAYS = """() => {
  // Anything that scrolls sideways: the page, or an element wider inside than it shows.
  var found = [];
  var page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth + 1) found.push('page ' + page.scrollWidth);
  document.querySelectorAll('body *').forEach(function (e) {
    var style = getComputedStyle(e);
    if ((style.overflowX === 'auto' || style.overflowX === 'scroll') &&
        e.scrollWidth > e.clientWidth + 1) found.push(e.id || e.tagName);
  });
  return found;
}"""

CURRENT_IN_VIEW = """() => {
  var current = document.querySelector('#player-svg .current');
  if (!current) return null;
  var r = current.getBoundingClientRect();
  var box = document.getElementById('player-graph').getBoundingClientRect();
  return r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 &&
    r.bottom <= box.bottom + 1;
}"""


@pytest.mark.parametrize("width,height", SIZES)
def test_the_mlp_is_readable_without_sideways_scrolling_and_the_view_follows(
        open_page, moons_page, width, height):
    path, _ = moons_page
    page = open_page(path, width=width, height=height)
    assert page.page.eval_on_selector("#player-level", "s => s.value") == "layer"
    for k in range(page.steps() + 1):
        page.go(k)
        smallest, where = page.page.evaluate(SMALLEST_TEXT)
        assert smallest >= 9, (k, where, smallest)
        assert page.page.evaluate(SIDEWAYS) == [], k
        assert page.page.evaluate(CURRENT_IN_VIEW) in (True, None), k
    # by neuron, the drawing is taller than its box: the view follows the current neuron
    page.level("neuron")
    for k in range(0, page.steps() + 1, 3):
        page.go(k)
        assert page.page.evaluate(CURRENT_IN_VIEW) in (True, None), k
        assert page.page.evaluate(SIDEWAYS) == [], k
    assert page.page.evaluate(SMALLEST_TEXT)[0] >= 9


TEXT_OVERFLOW = """() => {
  // Text sticking out of its box in the drawing: each text of an item against the item's box.
  var out = [];
  document.querySelectorAll('#player-svg .item').forEach(function (item) {
    var box = item.querySelector('rect.box').getBoundingClientRect();
    item.querySelectorAll('text').forEach(function (t) {
      var r = t.getBoundingClientRect();
      if (r.right > box.right + 0.5 || r.left < box.left - 0.5) out.push(item.id + ' ' + t.textContent);
    });
  });
  return out;
}"""


def test_text_never_overflows_its_box_at_any_level(open_page, moons_page):
    path, _ = moons_page
    page = open_page(path)
    for level in ("layer", "neuron", "op"):
        page.level(level)
        for k in (0, page.steps() // 2, page.steps()):
            page.go(k)  # "not computed" and the longest grads both fit
            assert page.page.evaluate(TEXT_OVERFLOW) == [], (level, k)


def test_steps_follow_the_level_and_a_click_opens_a_group(open_page, moons_page):
    path, loss = moons_page
    walk = autograd.backprop_steps(loss)
    page = open_page(path)
    counts = {}
    for level in ("op", "neuron", "layer"):
        page.level(level)
        counts[level] = page.steps()
    assert counts["op"] == len(walk) - 1
    assert counts["layer"] < counts["neuron"] < counts["op"]
    # At layer level each step shows the state after the last of the steps it stands for.
    page.level("layer")
    page.page.click("#player-end")
    assert page.table() == expected_table(walk, len(walk) - 1)
    # A layer's backward step sums up its neurons' gradients in a small table.
    for k in range(page.steps() + 1):
        page.go(k)
        if page.page.inner_text("#player-step-title").startswith("backward through layer "
                                                                  "layers.1"):
            break
    rows = page.page.eval_on_selector_all(
        "#player-lines table.summary", "ts => ts.map(t => t.querySelectorAll('tbody tr').length)")
    assert rows[0] == 16 and rows[1] == 16  # each neuron; each of layers.0's outputs
    # Clicking the layer opens it: its neurons' steps come back, the others stay summed up.
    before = page.steps()
    box = page.page.locator("#player-svg g.group.closed", has_text="layers.1")
    box.click()
    assert page.page.eval_on_selector("#player-level", "s => s.value") == "custom"
    assert page.steps() > before
    assert page.page.locator("#player-svg g.frame", has_text="layers.1").count() == 1
    assert page.page.locator("#player-svg g.group.closed.neuron").count() == 16
    page.page.locator("#player-svg g.frame .frame-bar").first.click()  # and closes it again
    assert page.steps() == before


def test_pan_zoom_and_fit_use_both_dimensions(open_page, moons_page):
    path, _ = moons_page
    page = open_page(path)
    page.level("neuron")
    view = lambda: page.page.eval_on_selector("#player-view", "g => g.getAttribute('transform')")  # noqa: E731
    page.page.click("#player-fit")
    inside = page.page.evaluate("""() => {
      var r = document.getElementById('player-view').getBoundingClientRect();
      var box = document.getElementById('player-graph').getBoundingClientRect();
      return [r.left >= box.left, r.right <= box.right, r.top >= box.top,
              r.bottom <= box.bottom];
    }""")
    assert inside == [True, True, True, True]  # the whole drawing, tall as it is
    fitted = view()
    page.page.click("#player-zoom-in")
    assert view() != fitted
    box = page.page.locator("#player-graph").bounding_box()
    before = view()
    page.page.mouse.move(box["x"] + 50, box["y"] + 50)
    page.page.mouse.down()
    page.page.mouse.move(box["x"] + 150, box["y"] + 120, steps=5)
    page.page.mouse.up()
    assert view() != before


def test_the_legend_names_every_highlight(open_page, moons_page):
    path, _ = moons_page
    page = open_page(path)
    legend = page.page.inner_text("#player-legend")
    for words in ("current node", "receives gradient", "gradient flows back", "grad > 0",
                  "grad < 0", "not computed yet", "parameter", "input", "constant", "output"):
        assert words in legend


def test_a_bare_rnns_weights_are_drawn_as_parameters(open_page, tmp_path):
    nn = pytest.importorskip("nn")
    import numpy as np

    rnn = nn.RNN(2, 3, seed=0)
    loss = autograd.sum(rnn(np.ones((3, 2)))[-1])
    walk = autograd.backprop_steps(loss)
    page = open_page(autograd.player(walk).save(tmp_path / "rnn.html"))
    page.level("step")
    tensors = page.page.eval_on_selector_all("#player-svg g.group.tensor",
                                             "gs => gs.map(g => g.textContent)")
    assert len(tensors) == 3 and all("shared" in t for t in tensors)
    for name in ("weight_ih", "weight_hh", "bias"):  # open each: its elements are parameters
        page.page.click("#player-fit")  # (each one opened pushes the others aside)
        page.page.locator("#player-svg g.group.tensor", has_text=name).click()
    weights = {v.label for v in rnn.parameters()}
    drawn = dict(page.page.eval_on_selector_all(
        "#player-svg g.item.value", "gs => gs.map(g => [g.id, g.getAttribute('class')])"))
    params = [i for i, n in enumerate(walk.nodes) if n.label in weights]
    assert len(params) == 6 + 9 + 3
    assert all("param" in drawn[f"v{i}"].split() for i in params)
    # time steps are shown by step, each a box with its values
    assert page.page.locator("#player-svg g.group.closed.step").count() == 3


def test_the_page_opens_at_a_level_and_step_from_its_address(open_page, moons_page):
    path, _ = moons_page
    page = open_page(path, fragment="#level=neuron&step=5")
    assert page.page.eval_on_selector("#player-level", "s => s.value") == "neuron"
    assert page.counter().startswith("5 / ")


def test_a_level_the_graph_has_no_groups_for_warns_naming_those_it_has():
    nn = pytest.importorskip("nn")
    import numpy as np

    loss = autograd.sum(nn.RNN(2, 3, seed=0)(np.ones((2, 2)))[-1])
    with pytest.warns(UserWarning, match=r"level='neuron'\) does not apply.*layer groups "
                                         r"\(rnn\) and step groups"):
        page = autograd.player(loss, level="neuron")
    assert embedded_data(page.html())["level"] is None
    with pytest.raises(ValueError, match="level"):
        autograd.player(loss, level="neurons")


def test_the_page_size_and_build_time_stay_small(moons_page):
    """MLP(2, [16, 16, 1]) on one sample: the page was 1.2 to 1.6 MB with Graphviz's drawing
    inline; now the page draws the graph itself (the size is what is asserted, not the time)."""
    _, loss = moons_page
    text = autograd.player(loss).html()
    assert len(text.encode("utf-8")) < 700_000


# ---- honest numbers ------------------------------------------------------------------------
def alice_loss():
    """Seed 001's network for Alice: all weights 1, biases 0, x = (-2, -1), y = 1, MSE."""
    x = [-2.0, -1.0]
    w, b, out = [], [], []
    for n, (name, inputs) in enumerate([("h1", x), ("h2", x), ("o1", None)]):
        with autograd.scope(name, kind="neuron"):  # as nn builds a neuron
            w += [Value(1.0, f"w{2 * n + 1}"), Value(1.0, f"w{2 * n + 2}")]
            b.append(Value(0.0, f"b{n + 1}"))
            out.append(autograd.dot(w[-2:], inputs or out[:2], b[-1]).sigmoid())
    loss = (1.0 - out[-1]) ** 2
    loss.label = "L"
    return loss, w[0]


PAGE_TEXT = """() => [document.getElementById('player-lines').innerText,
  document.getElementById('player-rows').innerText,
  document.getElementById('player-svg').textContent].join('\\n')"""


@pytest.mark.parametrize("level", ["op", "neuron"])
def test_alice_after_backward_never_shows_the_doubled_derivative(open_page, tmp_path, level):
    loss, w1 = alice_loss()
    loss.backward()  # backward, then look: micrograd's habit
    loss.backward()  # twice, even: w1.grad holds 0.0429 now
    sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    h, o = sigmoid(-3.0), sigmoid(2 * sigmoid(-3.0))
    expected = -2 * (1 - o) * o * (1 - o) * h * (1 - h) * -2.0  # the article's chain rule
    assert w1.grad == pytest.approx(2 * expected) and short(2 * expected) == "0.0429391"
    walk = autograd.backprop_steps(loss)
    page = open_page(autograd.player(walk).save(tmp_path / "alice.html"),
                     fragment=f"#level={level}")
    seen = set()
    for k in range(page.steps() + 1):
        page.go(k)
        text = page.page.evaluate(PAGE_TEXT)
        assert "0.0429" not in text, k
        seen.update(t for t in ("0.0214695", "0.02147") if t in text)
    assert seen  # ∂L/∂w1 = 0.0214695 is shown: in the table and the steps, 0.02147 drawn
    row = dict((n, g) for n, (_, _, g, _) in zip([n.name for n in walk.nodes], page.table()))
    assert row["w1"] == short(expected) == "0.0214695"


def test_a_node_the_pass_has_not_reached_never_reads_grad_0(open_page, tmp_path):
    x, w, b = Value(0.5, "x"), Value(-1.5, "w"), Value(0.3, "b")
    out = ((x * w + b).tanh() * x).exp()  # every true gradient is non-zero
    out.backward()
    order = autograd.topological_order(out)
    assert all(v.grad != 0 for v in order)
    walk = autograd.backprop_steps(out)
    page = open_page(autograd.player(walk).save(tmp_path / "p.html"))
    for k in range(page.steps() + 1):
        page.go(k)
        state = walk.state(k)
        drawn = dict(page.page.eval_on_selector_all(
            "svg g.item.value", "gs => gs.map(g => [g.id, g.querySelector('.grad')?.textContent])"))
        for i, v in enumerate(order):
            if not v.requires_grad:
                continue
            if state.grad[i] is None:
                assert drawn[f"v{i}"] == "not computed", (k, v.label)
                assert page.table()[i][2] == "—", (k, v.label)
            assert drawn[f"v{i}"] != "grad 0", (k, v.label)
