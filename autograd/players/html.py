"""The HTML player: one self-contained file that steps through backprop in a browser.

The file holds the Graphviz drawing of the graph (inline SVG from `autograd.draw`), the steps
of `autograd.backprop_steps` as JSON, and the script and styles, all inline: it makes no network
request (a Content-Security-Policy in the page forbids any), so it can be mailed, opened
offline, or shown in a notebook. The script only replays the recorded steps: Prev/Next, arrow
keys, a slider and play at a chosen speed; it highlights the current node in the drawing and
updates the data and grad shown in it.

Labels are user text. The drawing escapes them; the JSON is embedded with `<`, `>` and `&`
written as `\\u003c`-style escapes so it cannot close its `<script>` element; and the script
puts every piece of text into the page with `textContent`, never as markup.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
from importlib import resources
from pathlib import Path

from ..draw import NAN_COLOR, NEGATIVE, NOT_COMPUTED, POSITIVE, GraphvizNotFound, draw
from ..steps import Steps, fmt
from ..value import Value
from . import as_steps


class Player:
    """A self-contained HTML page for the steps of one graph: `.save(path)`, `.html()`,
    and inline display in Jupyter."""

    def __init__(self, walk: Steps, title: str | None = None) -> None:
        self.steps = walk
        self.title = title if title is not None else _default_title(walk)
        if not isinstance(self.title, str):
            raise TypeError(f"player(title=...) needs a string, got {type(self.title).__name__}")
        try:
            drawing = draw(walk.root, show="data+grad", color=None, legend=False)
            self.svg: str | None = _inline_svg(drawing.pipe("svg").decode("utf-8"))
            self.boxes = drawing.ids
            self.problem = ""
        except GraphvizNotFound as error:
            self.svg, self.boxes, self.problem = None, {}, str(error)
        except ValueError as error:  # too large to draw: the table and the steps still work
            self.svg, self.boxes, self.problem = None, {}, str(error)

    def html(self) -> str:
        """The whole page as text."""
        script = _asset("player.js")
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        graph = self.svg if self.svg is not None else (
            f'<p class="problem">No drawing: {html.escape(self.problem)}</p>')
        return _PAGE.format(
            csp=f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'",
            title=html.escape(self.title),
            style=_asset("player.css"),
            graph=graph,
            data=_json_for_script(self._data()),
            script=script,
        )

    def save(self, path: str | Path) -> Path:
        """Write the page to `path` (UTF-8) and return the path."""
        if not isinstance(path, (str, Path)):
            raise TypeError(f"save() needs a file path, got {type(path).__name__}")
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"save() writes an HTML page: give a path ending in .html, "
                             f"got {str(path)!r}")
        path.write_text(self.html(), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        """Jupyter: the page in a sandboxed iframe, and a static view where scripts cannot run
        (`autograd.notebook.player_html`)."""
        from ..notebook import player_html
        return player_html(self)

    def __repr__(self) -> str:
        return f"<Player: {len(self.steps)} steps; .save('backprop.html') writes the page>"

    def _data(self) -> dict:
        walk = self.steps
        nodes = []
        for n in walk.nodes:
            op_id = f"op{n.index}" if n.op else None
            nodes.append({
                "id": n.id, "name": n.name, "kind": n.kind, "expression": n.expression,
                "requiresGrad": n.requires_grad, "parents": list(n.parents),
                "box": self.boxes.get(n.id), "opBox": self.boxes.get(op_id) if op_id else None,
            })
        return {
            "title": self.title,
            "gradFills": {"notComputed": NOT_COMPUTED, "positive": _tint(POSITIVE),
                          "negative": _tint(NEGATIVE), "zero": "#ffffff", "nan": NAN_COLOR},
            "nodes": nodes,
            "initial": {"data": [_number(x) for x in walk.initial.data],
                        "grad": [_number(x) for x in walk.initial.grad]},
            "steps": [{
                "kind": s.kind, "phase": s.phase, "node": s.node, "title": s.title,
                "lines": list(s.lines),
                "terms": [t.parent for t in s.terms if t.contribution is not None],
                "changes": [[c.node, c.field, _number(c.after)] for c in s.changes],
            } for s in walk],
        }


def player(root: Value | Steps, title: str | None = None) -> Player:
    """A self-contained HTML player for the forward and backward pass of `root`.

        autograd.player(loss).save("backprop.html")   # then open the file in a browser

    In Jupyter, `autograd.player(loss)` as the last line of a cell shows it inline.
    """
    return Player(as_steps(root, "player()"), title)


def _number(x: float | None) -> list[str] | None:
    """A number for the page: [as shown, exactly] (the repr round-trips); None: not computed."""
    return None if x is None else [fmt(x), repr(x)]


def _tint(color: tuple[int, int, int], strength: float = 0.25) -> str:
    """A light shade of one of the drawing's grad colours, under which black text reads."""
    return "#" + "".join(f"{round(255 + (c - 255) * strength):02x}" for c in color)


def _default_title(walk: Steps) -> str:
    out = walk.nodes[-1]
    return f"Backprop step by step: {out.name}" + (f" = {out.expression}" if out.expression
                                                    else "")


def _inline_svg(svg: str) -> str:
    """Graphviz's SVG file without its XML prolog and DOCTYPE, ready to sit inside HTML."""
    start = svg.find("<svg")
    if start < 0:
        raise RuntimeError("Graphviz gave no <svg> element")
    return svg[start:]


def _json_for_script(data: dict) -> str:
    """JSON that can sit inside <script>: no `<`, `>` or `&` (so no `</script>` or `<!--`),
    and no U+2028/U+2029 line separators."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header id="player-bar">
  <h1 id="player-title">{title}</h1>
  <div id="player-controls">
    <button id="player-start" type="button" title="first step (Home)">« Start</button>
    <button id="player-prev" type="button" title="previous step (←)">◀ Prev</button>
    <button id="player-play" type="button" title="play / pause (space)">▶ Play</button>
    <button id="player-next" type="button" title="next step (→)">Next ▶</button>
    <button id="player-end" type="button" title="last step (End)">End »</button>
    <input id="player-slider" type="range" min="0" value="0" aria-label="step">
    <span id="player-counter" aria-live="polite"></span>
    <label>speed <select id="player-speed">
      <option value="0.5">0.5 steps/s</option>
      <option value="1" selected>1 step/s</option>
      <option value="2">2 steps/s</option>
      <option value="4">4 steps/s</option>
    </select></label>
    <label><input id="player-fit" type="checkbox" checked> fit drawing</label>
  </div>
</header>
<main>
  <section id="player-graph" class="fit" aria-label="the computation graph">{graph}</section>
  <div id="player-lower">
    <section id="player-explain" aria-label="what this step does">
      <div id="player-phase"></div>
      <h2 id="player-step-title"></h2>
      <div id="player-lines"></div>
      <p class="keys">← → step · Home / End · space: play / pause · drag the slider</p>
    </section>
    <section id="player-nodes" aria-label="every node's data and grad">
      <table><thead><tr><th>id</th><th>node</th><th>computed as</th><th>data</th>
      <th>grad</th></tr></thead><tbody id="player-rows"></tbody></table>
    </section>
  </div>
</main>
<script type="application/json" id="player-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""
