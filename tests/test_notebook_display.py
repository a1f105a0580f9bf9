"""What notebooks are given to show (`autograd.notebook`) and fit's bar outside a kernel
(`nn.progress`): drawings as PNG, the table without Graphviz, the player's static view
and iframe, hostile labels. What a real JupyterLab and Chromium make of them is in
test_notebook_browser.py; the bar in a real kernel in test_notebooks.py."""
import base64
import hashlib
import io
import math
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

import autograd
import nn
from autograd import Value
from autograd.draw import draw
from autograd.notebook import FALLBACK_ROWS, HOW_TO_STEP, picture, with_height_report
from nn.progress import final_html, final_line, progress_bar

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<img src=x onerror=alert(1)>"


def neuron():
    """tanh(x*w + b), labelled; its leaves."""
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8813735870195432, "b")
    return (x * w + b).tanh(), (x, w, b)


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", png[16:24])


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text outside <script>."""

    def __init__(self, markup: str):
        super().__init__()
        self.tags, self.text, self._in_script = [], [], False
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data):
        if not self._in_script:
            self.text.append(data)

    def all(self, tag):
        return [attrs for name, attrs in self.tags if name == tag]


# ---- drawings -----------------------------------------------------------------------------------
@needs_dot
def test_a_drawing_is_a_png_shown_at_its_svgs_size_and_twice_as_sharp():
    out, _ = neuron()
    out.backward()
    drawing = draw(out)
    data, metadata = drawing._repr_mimebundle_()
    assert set(data) == {"image/png", "text/plain"}  # no SVG: see drawing_bundle
    svg = ET.fromstring(drawing.pipe("svg"))
    points = [float(svg.get(side).removesuffix("pt")) for side in ("width", "height")]
    shown = metadata["image/png"]["width"], metadata["image/png"]["height"]
    for css, pt in zip(shown, points):
        assert abs(css - pt * 96 / 72) <= 2  # the SVG's own size in CSS pixels
    pixels = png_size(base64.b64decode(data["image/png"]))
    assert pixels == pytest.approx((2 * shown[0], 2 * shown[1]), abs=2)
    assert "Drawing of 6 values" in data["text/plain"]


@needs_dot
def test_a_huge_drawing_is_scaled_down_to_a_bounded_png():
    leaves = [Value(float(i), f"x{i}") for i in range(120)]
    out = autograd.sum([leaf * leaf for leaf in leaves])
    drawing = draw(out, rankdir="TB")  # 120 boxes side by side: about 16,000 CSS px wide
    png, width, height = picture(drawing)
    pixels = png_size(png)
    assert pixels[0] <= 2600 and pixels[1] <= 5200
    assert (width, height) == (round(pixels[0] / 2), round(pixels[1] / 2))
    svg = ET.fromstring(drawing.pipe("svg"))
    points = [float(svg.get(side).removesuffix("pt")) for side in ("width", "height")]
    assert pixels[0] / pixels[1] == pytest.approx(points[0] / points[1], rel=0.05)


def test_without_graphviz_a_drawing_is_the_table_and_the_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on it
    leaves = [Value(1.0, HOSTILE), Value(2.0, "</pre><script>alert(2)</script>")]
    out = leaves[0] * leaves[1]
    out.backward()
    drawing = draw(out)
    data, metadata = drawing._repr_mimebundle_()
    assert set(data) == {"text/plain", "text/html"} and metadata == {}
    assert "Install Graphviz" in data["text/plain"]
    assert drawing.text() in data["text/plain"] and "digraph" not in data["text/plain"]
    page = Elements(data["text/html"])
    assert [tag for tag, _ in page.tags] == ["p", "pre"]  # the labels made no elements
    assert drawing.text() in "".join(page.text)  # the very table, as text
    assert "<script>" not in data["text/html"] and HOSTILE not in data["text/html"]


# ---- the player ----------------------------------------------------------------------------------
@needs_dot
def test_the_player_is_a_static_view_and_an_iframe_a_script_switches_to():
    out, (x, w, b) = neuron()
    player = autograd.player(out)
    markup = player._repr_html_()
    page = Elements(markup)
    frame, = page.all("iframe")
    assert frame["srcdoc"] == with_height_report(player.html())  # escaped, read back exactly
    assert frame["sandbox"] == "allow-scripts" and "hidden" in frame
    assert markup.count("<script>") == 1 and markup.count("</script>") == 1
    picture_, = page.all("img")
    assert picture_["src"].startswith("data:image/png;base64,")
    assert picture_["style"] == "max-width: 100%; height: auto"
    text = " ".join("".join(page.text).split())
    assert " ".join(HOW_TO_STEP.split()) in text


@needs_dot
def test_the_static_view_shows_the_gradients_of_one_backward_pass():
    out, (x, w, b) = neuron()
    markup = autograd.player(out)._repr_html_()
    # the reference: d tanh(u)/du = 1 - tanh(u)^2 with u = x*w + b, by hand
    slope = 1 - math.tanh(2.0 * -3.0 + 6.8813735870195432) ** 2
    expected = {"x": slope * -3.0, "w": slope * 2.0, "b": slope}
    rows = re.findall(r"<tr><td>([^<]*)</td><td>[^<]*</td><td>([^<]*)</td></tr>", markup)
    shown = dict(rows)
    for name, grad in expected.items():
        assert float(shown[name]) == pytest.approx(grad, rel=1e-5)  # 6 digits shown
    assert x.grad is None  # the player computed nothing on the graph itself


@needs_dot
def test_a_large_static_view_folds_its_rows_and_collapses_its_picture():
    model = nn.MLP(4, [6, 6, 1], seed=0)
    loss = model([0.1, 0.2, 0.3, 0.4]) ** 2
    markup = autograd.player(loss)._repr_html_()
    static = markup.split("<details>")[0]
    first = re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>[^<]*</td></tr>", static)
    assert len(first) == FALLBACK_ROWS
    assert f"the first {FALLBACK_ROWS} here" in static
    folded = markup.split("<details>")[1]
    assert folded.count("<tr><td>v") == len(autograd.topological_order(loss))
    src = re.search(r'<img src="data:image/png;base64,([^"]+)"', markup).group(1)
    width, height = png_size(base64.b64decode(src))
    assert width <= 2600 and height <= 2600  # collapsed: a few boxes, not 130


def test_without_graphviz_the_static_view_says_why_there_is_no_picture(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    out, _ = neuron()
    markup = autograd.player(out)._repr_html_()
    assert "No drawing: Graphviz" in markup and "<img" not in markup
    assert "<table>" in markup and 'class="glassgrad-frame"' in markup


@needs_dot
def test_hostile_labels_make_no_markup_in_the_static_view():
    a, b = Value(1.0, HOSTILE), Value(2.0, "</script><script>alert(2)</script>")
    out = a * b
    out.label = '"><svg onload=alert(3)>'
    markup = autograd.player(out, title="<b>title</b>")._repr_html_()
    page = Elements(markup)
    assert {tag for tag, _ in page.tags} == {  # the view's own elements, no label's
        "div", "p", "b", "img", "table", "thead", "tr", "th", "tbody", "td", "details",
        "summary", "iframe", "script"}
    assert [tag for tag, _ in page.tags].count("b") == 1  # around the title only
    assert markup.count("<script>") == 1
    text = "".join(page.text)
    assert HOSTILE in text and "<b>title</b>" in text  # shown as text


def test_the_height_report_is_allowed_by_the_pages_policy():
    page = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            'script-src \'sha256-abc\'">\n<body><script>x</script></body>')
    reported = with_height_report(page)
    script = re.findall(r"<script>(.*?)</script>", reported, re.S)[-1]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-abc' 'sha256-{digest}'\"" in reported
    assert reported.endswith("</script>\n</body>")
    with pytest.raises(RuntimeError, match="no script-src"):
        with_height_report("<body></body>")


# ---- fit's bar outside a kernel ---------------------------------------------------------------------
def test_outside_a_kernel_the_bar_shows_only_on_a_terminal_or_when_asked(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    assert progress_bar(5).disable  # not a terminal, not a kernel
    assert progress_bar(5, False).disable
    with progress_bar(5, True) as bar:
        for _ in range(5):
            bar.update()
            bar.set_postfix(loss="0.5000", acc="0.900")
    assert "5/5" in stream.getvalue() and "loss=0.5000" in stream.getvalue()
    monkeypatch.setattr(stream, "isatty", lambda: True, raising=False)
    assert not progress_bar(5).disable


def test_the_final_line_says_how_far_it_got_and_escapes_its_text():
    bar = progress_bar(4, True)
    bar.update(4)
    bar.set_postfix(loss="<b>", acc="1.000")
    assert final_line(bar).startswith("100%|") and "loss=<b>" in final_line(bar)
    markup = final_html(bar)
    assert '<progress value="4" max="4"' in markup and "loss=&lt;b&gt;" in markup
    assert "#1a7f37" in markup and "stopped" not in markup
    bar.close()
    stopped = progress_bar(4, True)
    stopped.update(1)
    assert final_line(stopped).endswith("(stopped)") and "#b32424" in final_html(stopped)
    stopped.close()


def test_importing_nn_loads_no_notebook_bar():
    """tqdm.auto warns on import in a kernel without ipywidgets; nn never imports it."""
    code = ("import sys, nn; print(sorted(m for m in sys.modules if m.startswith('tqdm.') "
            "and m.split('.')[1] in ('auto', 'autonotebook', 'notebook')))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]" and run.stderr == ""


def test_nothing_in_the_players_page_is_sized_by_the_frames_height():
    """In a notebook the frame is as tall as its page: a box sized in vh would grow with it."""
    from importlib import resources

    for asset in ("player.css", "player.js"):
        text = resources.files("autograd.players").joinpath(asset).read_text(encoding="utf-8")
        assert not re.search(r"\d(vh|vmin|vmax)\b|innerHeight", text), asset
