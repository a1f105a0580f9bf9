"""How drawings and players show in notebooks, wherever a notebook is opened.

A notebook is met in many places, and each shows a different part of an output's MIME bundle:

- a live kernel in JupyterLab, Notebook 7 or VS Code: the output as made, scripts allowed;
- a notebook Jupyter does not trust (downloaded, cloned, run by nbclient or CI): only "safe"
  types (images, text, and HTML after a sanitizer has removed scripts, iframes and inline SVG);
  SVG, JavaScript and scripts inside HTML are not shown;
- nbconvert's HTML: the richest type of each output, pasted into a static page;
- GitHub-style viewers: sanitized HTML and images.

So a drawing (`drawing_bundle`) is a PNG, which every view shows, scaled down to the output
area's width (never up), and sharp on high-density screens. Without Graphviz it is the readable
table of `autograd.draw.table`, with the hint on installing it.

The player (`player_html`) is one piece of HTML holding two things: a static view (the graph
as a PNG, the gradient of the output with respect to every input and parameter once the
backward pass is done, and a line on how to make it interactive), and the page of
`Player.html()` in a sandboxed iframe with a short script. Where scripts run, the script hides
the static view, shows the iframe and sets its height to the page's (the page reports its height
with `postMessage`, since a sandboxed frame shares nothing else with the notebook). Where they do
not, the sanitizer has removed the iframe and the script, and the static view is what is left.

Labels are user text: everything here is escaped (`html.escape`), and the page goes into the
iframe as an escaped `srcdoc` attribute.
"""
from __future__ import annotations

import base64
import hashlib
import html
import re
import struct
from dataclasses import replace
from typing import TYPE_CHECKING

from .draw import INSTALL_HINT, Drawing, GraphvizNotFound, draw
from .steps import fmt

if TYPE_CHECKING:
    from .players.html import Player

CSS_DPI = 96  # CSS pixels per inch; Graphviz measures in points, 72 per inch
PNG_DPI = 192  # PNGs are drawn at twice the CSS size, sharp on high-density screens...
PNG_MAX = (2600, 5200)  # ...and scaled down to at most this many pixels (width, height)
FALLBACK_ROWS = 12  # the static view lists this many inputs and parameters; the rest fold
FALLBACK_BOXES = 40  # its picture collapses by neuron, step or layer to at most this many boxes
FRAME_HEIGHT = 640  # the iframe's height (CSS px) until the page reports its own
FRAME_MAX_HEIGHT = 6000  # a page reporting more is cut here (and scrolls inside the iframe)

HOW_TO_STEP = (
    "This is the player's static view: scripts do not run here (the notebook is not trusted, "
    "or this page shows no scripts). To step through backprop, trust the notebook (JupyterLab: "
    "the command palette's \u201cTrust Notebook\u201d, or jupyter trust NAME.ipynb) or run the "
    "cell again; or save the page with .save(\"backprop.html\") and open it in a browser."
)


# ---- drawings -----------------------------------------------------------------------------------
def drawing_bundle(drawing: Drawing) -> tuple[dict[str, str], dict[str, dict]]:
    """A drawing's MIME bundle and its metadata: a PNG that fits the output area, or, without
    Graphviz, the table and the install hint as text and HTML.

    Why a PNG and no SVG: every view shows a PNG (an untrusted notebook shows no SVG), scaled
    down to the output's width (`max-width: 100%` in JupyterLab, Notebook 7 and nbconvert's
    pages); drawn at twice its CSS size it stays sharp on high-density screens. JupyterLab 4
    shows an SVG output as an <img> with no width limit, so a drawing wider than the output
    area ran past it (a 2-2-1 network: 1628 CSS px in an 848 px area), and SVG is preferred
    to PNG where both are given. `drawing.pipe("svg")` and `.render("g.svg")` give the SVG.
    """
    try:
        png, width, height = picture(drawing)
    except GraphvizNotFound:
        listing = drawing.text()
        return {
            "text/plain": f"{INSTALL_HINT}\n\n{listing}",
            "text/html": f"<p>{html.escape(INSTALL_HINT)}</p>\n<pre>{html.escape(listing)}</pre>",
        }, {}
    data = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": repr(drawing)}
    return data, {"image/png": {"width": width, "height": height}}


def picture(drawing: Drawing) -> tuple[bytes, int, int]:
    """The drawing as PNG bytes and the CSS size (width, height) to show it at: the size of its
    SVG, at `PNG_DPI`; a drawing larger than `PNG_MAX` pixels is scaled down to fit (Graphviz's
    `size`), which keeps a huge graph's PNG to a few hundred kilobytes."""
    png = replace(drawing, source=_with_size(drawing.source)).pipe("png")
    width, height = _png_size(png)
    return png, round(width * CSS_DPI / PNG_DPI), round(height * CSS_DPI / PNG_DPI)


def _with_size(source: str) -> str:
    """DOT text drawn at `PNG_DPI` and at most `PNG_MAX` pixels: graph attributes right after
    the graph's opening brace."""
    inches = ",".join(f"{pixels / PNG_DPI:.4g}" for pixels in PNG_MAX)
    brace = source.index("{")
    return f'{source[:brace + 1]}\n\tdpi={PNG_DPI} size="{inches}"{source[brace + 1:]}'


def _png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels, from the PNG's header chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise RuntimeError("Graphviz gave no PNG image")
    return struct.unpack(">II", png[16:24])


# ---- the player -----------------------------------------------------------------------------------
def player_html(player: Player) -> str:
    """The player for a notebook: the static view, and the page in an iframe that a script
    shows instead where scripts run (see the module docstring)."""
    page = with_height_report(player.html())
    key = hashlib.sha256(page.encode("utf-8")).hexdigest()[:16]
    return (
        f'<div class="glassgrad-player" data-glassgrad-player="{key}">'
        f'<div class="glassgrad-static">{static_view(player)}</div>'
        f'<iframe class="glassgrad-frame" hidden sandbox="allow-scripts" title="'
        f'{html.escape(player.title, quote=True)}" style="width: 100%; height: {FRAME_HEIGHT}px; '
        f'border: 0; display: block" srcdoc="{html.escape(page, quote=True)}"></iframe>'
        f"<script>{_SWITCH.replace('KEY', key)}</script>"
        "</div>"
    )


def static_view(player: Player) -> str:
    """What shows where no script runs: the title, how to make it interactive, the graph (a
    PNG that fits the output area) and, after the backward pass, every input's and
    parameter's gradient (the first `FALLBACK_ROWS`; every node's data and grad fold away)."""
    walk = player.steps
    final = walk.state(len(walk) - 1)
    out = walk.nodes[-1].name
    parts = [
        f"<p><b>{html.escape(player.title)}</b></p>",
        f'<p style="color: #8a5300">{html.escape(HOW_TO_STEP)}</p>',
        _graph_picture(player),
    ]
    leaves = [n for n in walk.nodes if n.kind in ("input", "param")]
    grad_title = f"\u2202{out}/\u2202node"
    if leaves:
        shown = leaves[:FALLBACK_ROWS]
        parts.append(
            f"<p>After the {len(walk)} steps, the gradient of {html.escape(out)} with respect to "
            f"{_count(len(leaves), 'input or parameter', 'inputs and parameters')}"
            + (f" (the first {len(shown)} here)" if len(shown) < len(leaves) else "") + ":</p>"
        )
        parts.append(_table(["node", "data", grad_title],
                            [(n.name, fmt(final.data[n.index]), fmt(final.grad[n.index]))
                             for n in shown]))
    kinds = {"param": "parameter"}
    rows = [(n.id, n.name, n.expression or kinds.get(n.kind, n.kind), fmt(final.data[n.index]),
             fmt(final.grad[n.index])) for n in walk.nodes]
    parts.append(
        f"<details><summary>Every node's data and grad after the last step "
        f"({_count(len(rows), 'node', 'nodes')})</summary>"
        + _table(["id", "node", "computed as", "data", grad_title], rows) + "</details>"
    )
    return "".join(parts)


def _graph_picture(player: Player) -> str:
    """The graph as an <img> (a PNG in a data: URL, which sanitizers keep), or why not. A large
    graph is drawn collapsed (the finest of neuron, step or layer with few enough boxes): a
    picture of hundreds of boxes says nothing when it is shrunk to the output's width."""
    try:
        drawing = draw(player.steps.root, show="data", legend=False, max_nodes=FALLBACK_BOXES)
        png, width, _ = picture(drawing)
    except GraphvizNotFound:
        return f"<p><i>No drawing: {html.escape(INSTALL_HINT)}</i></p>"
    except ValueError as error:  # too large to draw
        return f"<p><i>No drawing: {html.escape(str(error))}</i></p>"
    source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (f'<p><img src="{source}" width="{width}" alt="{html.escape(player.title, quote=True)}'
            f' (the computation graph)" style="max-width: 100%; height: auto"></p>')


def _table(header: list[str], rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


# ---- the iframe's height --------------------------------------------------------------------------
def with_height_report(page: str) -> str:
    """The player's page with a script that reports its height to the page holding it
    (`postMessage`, whenever the height changes); its hash joins the page's
    Content-Security-Policy, which allows only the scripts it names. (The frame becomes as
    tall as its page, so nothing in the page may be sized by the frame's height, `vh`: it would
    grow with it. player.css sizes its boxes in CSS pixels.)"""
    digest = base64.b64encode(hashlib.sha256(_REPORT.encode("utf-8")).digest()).decode("ascii")
    page, count = re.subn(r"(script-src [^\"]*?)(\")", rf"\1 'sha256-{digest}'\2", page, count=1)
    if count != 1:
        raise RuntimeError("the player's page has no script-src policy to add the report to")
    end = page.rindex("</body>")
    return f"{page[:end]}<script>{_REPORT}</script>\n{page[end:]}"


# Runs inside the player's page: the height of everything in it, whenever it changes. (Chromium
# pauses a frame that is out of view: it reports when it is scrolled to.)
_REPORT = """(function () {
  "use strict";
  var last = 0;
  function report() {
    if (window.innerWidth < 200) return;  // not laid out yet (a frame in a hidden cell)
    var body = document.body, style = getComputedStyle(body);
    var height = Math.ceil(body.getBoundingClientRect().height + parseFloat(style.marginTop) +
                           parseFloat(style.marginBottom));
    if (height !== last) {
      last = height;
      window.parent.postMessage({ glassgradHeight: height }, "*");
    }
  }
  new ResizeObserver(report).observe(document.body);
  report();
})();"""

# Runs in the notebook, where scripts are allowed: the player instead of its static view, as
# tall as its page says. KEY is the player's own key, so two players never mix.
_SWITCH = """(function () {
  "use strict";
  var boxes = document.querySelectorAll('[data-glassgrad-player="KEY"]');
  var box = document.currentScript ? document.currentScript.parentNode : boxes[boxes.length - 1];
  if (!box || !box.querySelector) return;
  var frame = box.querySelector("iframe.glassgrad-frame");
  var still = box.querySelector(".glassgrad-static");
  if (!frame || !still) return;
  still.hidden = true;
  still.style.display = "none";
  frame.hidden = false;
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || !event.data) return;
    var height = Number(event.data.glassgradHeight);
    if (height > 0) frame.style.height = Math.min(height, MAX) + "px";
  });
})();""".replace("MAX", str(FRAME_MAX_HEIGHT))
