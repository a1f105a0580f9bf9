"""The HTML player: one self-contained file that steps through backprop in a browser.

The file holds the steps of `autograd.backprop_steps` and the graph's groups (`autograd.groups`:
layers, neurons, time steps, parameter tensors) as JSON, and the script and styles, all
inline: it makes no network
request (a Content-Security-Policy in the page forbids any), so it can be mailed, opened
offline, or shown in a notebook. It needs no Graphviz: the script lays the graph out itself,
because the learner opens and closes groups as they go.

What the page does (player.js): Prev/Next, arrow keys, a slider and play at a chosen speed;
the graph at a level of detail (every op, by neuron, by time step, by layer; it starts at the
finest level whose whole drawing fits with text of at least 9 CSS px), where a click opens or
closes a group and the steps follow what is shown (a closed group's steps are one step, its
numbers in a small table: each neuron's, for a layer); pan by dragging, zoom with the buttons,
+ / - or ctrl + wheel; the view follows the current node; the current node and the grads it
sends are highlighted, and a legend says what each colour means. Steps appended after the
backward pass (`Steps.then`: an optimizer's update of each parameter) are shown the same way,
a closed group's updates as one step with a table of each parameter before and after. A page
shown in a frame (the training timeline's) reads its start from the frame's name.

Other self-contained pages (nn's training timeline) are built from the same parts, public for
them: `asset` (a shipped script or stylesheet), `page_script` (a page's script after the
DOM helpers the pages share, dom.js), `policy` (the Content-Security-Policy for some
inline scripts), `page_head` (a page's start, up to <body>), `json_for_script` and
`save_page` (write a page, whole or not at all).

Labels are user text. The JSON is embedded with `<`, `>` and `&` written as `\\u003c`-style
escapes so it cannot close its `<script>` element, and the script puts every piece of text
into the page with `textContent`, never as markup.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import warnings
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from ..draw import NAN_COLOR, NEGATIVE, NOT_COMPUTED, POSITIVE
from ..files import write_atomically
from ..graph import topological_order
from ..groups import Tree, describe_kinds, group_tree
from ..steps import Steps, fmt, wrt
from ..value import Value
from . import as_steps

LEVELS = ("op", "neuron", "step", "layer")  # "op": every node; the others: groups of a kind


class Player:
    """A self-contained HTML page for the steps of one graph: `.save(path)`, `.html()`,
    and inline display in Jupyter."""

    def __init__(self, walk: Steps, title: str | None = None, level: str | None = None,
                 params: Iterable[Value] | None = None) -> None:
        self.steps = walk
        self.title = title if title is not None else _default_title(walk)
        if not isinstance(self.title, str):
            raise TypeError(f"player(title=...) needs a string, got {type(self.title).__name__}")
        order = topological_order(walk.root)
        if params is None:  # the steps' own: the leaves they call parameters
            params = [order[n.index] for n in walk.nodes if n.kind == "param"]
        self.tree = group_tree(order, params)
        self.level = _checked_level(level, self.tree)

    def html(self) -> str:
        """The whole page as text."""
        script = page_script(__package__, "player.js")
        return _PAGE.format(
            head=page_head(self.title, policy(script), asset(__package__, "player.css")),
            title=html.escape(self.title),
            legend=_legend(),
            data=json_for_script(self._data()),
            script=script,
        )

    def save(self, path: str | Path) -> Path:
        """Write the page to `path` (UTF-8) and return the path."""
        return save_page(self.html, path)

    def _repr_html_(self) -> str:
        """Jupyter: the page in a sandboxed iframe, and a static view where scripts cannot run
        (`autograd.notebook.player_html`)."""
        from ..notebook import player_html
        return player_html(self)

    def __repr__(self) -> str:
        return f"<Player: {len(self.steps)} steps; .save('backprop.html') writes the page>"

    def _data(self) -> dict:
        walk, tree = self.steps, self.tree
        nodes = []
        for n in walk.nodes:
            nodes.append({
                "id": n.id, "name": n.name,
                "kind": "param" if n.index in tree.parameters else n.kind,
                "op": n.symbol, "expression": n.expression, "requiresGrad": n.requires_grad,
                "parents": list(n.parents), "group": tree.group_of[n.index],
                "data": _number(n.data),
            })
        return {
            "title": self.title,
            "level": self.level,
            "output": wrt(walk.nodes[-1].name),  # how ∂output/∂x names it
            "gradFills": {"notComputed": NOT_COMPUTED, "positive": _tint(POSITIVE),
                          "negative": _tint(NEGATIVE), "zero": "#ffffff", "nan": NAN_COLOR},
            "nodes": nodes,
            "groups": [{"id": g.id, "path": g.path, "name": g.name, "kind": g.kind,
                        "parent": g.parent, "children": list(g.children),
                        "shape": list(g.shape), "shared": g.shared} for g in tree.groups],
            "initial": {"data": [_number(x) for x in walk.initial.data],
                        "grad": [_number(x) for x in walk.initial.grad]},
            "steps": [{
                "kind": s.kind, "phase": s.phase, "node": s.node, "title": s.title,
                "lines": list(s.lines),
                "terms": [t.parent for t in s.terms if t.contribution is not None],
                "changes": [[c.node, c.field, _number(c.after)] for c in s.changes],
            } for s in walk],
        }


def save_page(html: Callable[[], str], path: str | Path) -> Path:
    """Write the page `html()` makes to `path` (UTF-8, ending in .html), whole or not at all
    (`autograd.files.write_atomically`: an old page stays if writing fails), and return the
    path; a path that is not one is refused before the page is made."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"save() needs a file path, got {type(path).__name__}")
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"save() writes an HTML page: give a path ending in .html, "
                         f"got {str(path)!r}")
    return write_atomically(path, html())


def player(root: Value | Steps, title: str | None = None, *, level: str | None = None,
           params: Iterable[Value] | None = None) -> Player:
    """A self-contained HTML player for the forward and backward pass of `root`.

        autograd.player(loss).save("backprop.html")   # then open the file in a browser

    `level` is where the page starts: "op" (every node), "neuron", "step" or "layer" (each
    group of that kind as one box); by default the finest level whose whole drawing fits with
    readable text. A level the graph has no groups for is a warning naming the groups it has.
    `params`: the leaves to show as parameters (default: those the steps call parameters,
    `backprop_steps(params=...)`: leaves with a scope, as nn's, unless it was given).
    In Jupyter, `autograd.player(loss)` as the last line of a cell shows it inline.
    """
    return Player(as_steps(root, "player()"), title, level, params)


def _checked_level(level: str | None, tree: Tree) -> str | None:
    """`level` if the page can start there; None (the default) with a warning when the graph
    has no groups of that kind."""
    if level is None or level == "op":
        return level
    if level not in LEVELS:
        raise ValueError(f"player(level=...) must be None, 'op', 'neuron', 'step' or 'layer', "
                         f"got {level!r}")
    if level not in tree.kinds():
        warnings.warn(f"player(level={level!r}) does not apply: the graph has no {level} "
                      f"groups; it has {describe_kinds(tree)}. Starting at the default level.",
                      stacklevel=3)
        return None
    return level


def _legend() -> str:
    """What each colour and outline in the drawing means."""
    items = [
        ("swatch current", "current node"), ("swatch receiving", "receives gradient"),
        ("line flow", "gradient flows back"), ("line forward", "computed from"),
        ("swatch positive", "grad > 0"), ("swatch negative", "grad < 0"),
        ("swatch zero", "grad 0"), ("swatch pending", "not computed yet"),
        ("swatch input", "input"), ("swatch param", "parameter"),
        ("swatch constant", "constant"), ("swatch output", "output"),
        ("swatch group", "group (click: open / close)"),
    ]
    return "".join(f'<span class="key"><span class="{cls}"></span>{html.escape(text)}</span>'
                   for cls, text in items)


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


def json_for_script(data: dict) -> str:
    """JSON that can sit inside <script>: no `<`, `>` or `&` (so no `</script>` or `<!--`),
    and no U+2028/U+2029 line separators."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def asset(package: str, name: str) -> str:
    """A file shipped with `package` (a page's script or styles), as text."""
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


def page_script(package: str, name: str) -> str:
    """A page's inline script: the DOM helpers the pages share (`dom.js`), then its own,
    `name` shipped with `package`."""
    return asset(__package__, "dom.js") + "\n" + asset(package, name)


def policy(*scripts: str) -> str:
    """The Content-Security-Policy of a page that may run these inline scripts, use inline
    styles, and nothing else: no request of any kind."""
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest())
                      .decode("ascii") + "'" for s in scripts)
    return f"default-src 'none'; style-src 'unsafe-inline'; script-src {hashes}"


def page_head(title: str, csp: str, style: str) -> str:
    """A self-contained page's start, up to its <body>: the policy (from `policy`), the title
    (user text, escaped), the styles."""
    return _HEAD.format(csp=csp, title=html.escape(title), style=style)


_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>"""

_PAGE = """{head}
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
  </div>
</header>
<main>
  <div id="player-left">
    <div id="player-tools">
      <label>show <select id="player-level"
        title="level of detail (click a group in the drawing to open or close it)"></select></label>
      <button id="player-zoom-out" type="button" title="zoom out (-)">−</button>
      <button id="player-zoom-in" type="button" title="zoom in (+)">+</button>
      <button id="player-fit" type="button" title="the whole drawing in the box">Fit</button>
      <label><input id="player-follow" type="checkbox" checked> follow the current node</label>
      <span class="hint">drag: pan · ctrl + wheel: zoom · click a group: open / close</span>
    </div>
    <section id="player-graph" aria-label="the computation graph"></section>
    <div id="player-legend" aria-label="legend">{legend}</div>
  </div>
  <div id="player-right">
    <section id="player-explain" aria-label="what this step does">
      <div id="player-phase"></div>
      <h2 id="player-step-title"></h2>
      <div id="player-lines"></div>
      <p class="keys">← → step · Home / End · space: play / pause · drag the slider</p>
    </section>
    <section id="player-nodes" aria-label="every node's data and grad">
      <table><colgroup><col class="c-name"><col class="c-how"><col class="c-data"><col
        class="c-grad"></colgroup>
      <thead><tr><th>node</th><th>computed as</th><th>data</th><th>grad</th></tr></thead>
      <tbody id="player-rows"></tbody></table>
    </section>
  </div>
</main>
<script type="application/json" id="player-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""
