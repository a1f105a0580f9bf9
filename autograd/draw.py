"""Drawings of computation graphs, for files, notebooks and the terminal.

`draw(root)` lays the graph out left to right with Graphviz: one box per Value showing
`label | data | grad`, and a small oval per op between a Value and its parents. It returns a
`Drawing`: `.source` is the DOT text (no program needed), `.render("g.svg")` and `.pipe("png")`
run Graphviz's `dot`, Jupyter displays it inline, and `.text()` is a table for the terminal
(`table(root)` makes that table without drawing, so with no size limit).

What the drawing shows (the legend under the title says the same):

- the grad cell's colour is the gradient: blue for > 0, red for < 0, white for 0, deeper the
  larger |grad| is relative to the largest in the graph; gold for nan. A grad that no backward
  pass has reached yet (`grad is None`) is grey and reads "not computed", unlike 0.0.
- a leaf whose `.grad` is not what one backward pass from the output gives (`backward()` adds
  into leaves, so a second pass doubles them while the computed nodes show one pass) says so
  under its grad: "accumulated; one pass: ..." (or "zeroed; ..."), so the chain rule still reads
  true between a leaf and its children.
- the label cell says what the node is: green for an input, orange for a parameter (a leaf in
  `params`, or by default a leaf with a scope: nn gives its parameters their module's),
  plain for an op's result (its id, `v5`, when it has no label); constants are small dashed grey
  boxes with just their number; the output has a thick border.
- edges into an op whose inputs' order matters (its notation says so: `Notation.labelled`) say
  which input is which, in the op table's names (`Op.input_names`), as in its formulas: `a` and
  `b` into `-`, `/`, `**` (`n` for a constant exponent) and functions of two inputs such as
  `atan2`; the weights `w_i`, the inputs `x_i` and the bias `b` into a `dot` node; `a1`, `a2`,
  ... into a `max` node (on ties the first one gets the gradient).

Ids are stable so other tools can find nodes: Value i of `topological_order(root)` is `v{i}`,
the op that made it `op{i}` (see `node_ids`); they are the DOT node names, the SVG `id`s, and
the SVG `class` says what the node is (`value input`, `value param`, `value const`,
`value computed`, `value output`, `op op-mul`, `group neuron`, ...). Inside a value's SVG group the `<text>`
elements come in the order label, data, grad.

Large graphs: `collapse="neuron"`, `"step"` or `"layer"` draws every node made in one `nn`
neuron (RNN time step, or layer), found through `node.scope.enclosing(kind)`, as one box `g{i}`
(i: its first node). Past `max_nodes` boxes the drawing collapses by itself when that is
enough, and otherwise raises `GraphTooLarge` saying how to make the graph drawable (`table(root)`
has no limit).

Labels are user text: each is shown as text, never read as markup. They go into Graphviz
HTML-like labels with `<`, `>`, `&` and quotes escaped, backslashes doubled (Graphviz would
read `\\N` as the node's name), control characters (newlines too) shown as escapes, and long
labels shortened.
"""
from __future__ import annotations

import html
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import graphviz

from .files import write_atomically
from .functional import gradients
from .graph import topological_order
from .groups import TENSOR, Tree, describe_kinds, is_parameter, natural, tree_of
from .modes import Scope
from .value import Value

COLLAPSE_KINDS = ("neuron", "step", "layer")  # finest first: how draw() collapses by itself
FORMATS = ("svg", "png", "pdf")
SHOW_FIELDS = ("data", "grad")
MAX_LABEL = 32  # characters of a label shown before it is shortened with "…"
MAX_NODES = 500  # draw()'s default limit on boxes: Graphviz gets slow and the picture unreadable

INSTALL_HINT = (
    "Graphviz's 'dot' program is needed to render drawings and was not found on PATH. "
    "Install Graphviz: 'sudo apt-get install graphviz' (Debian, Ubuntu), 'brew install "
    "graphviz' (macOS), 'conda install graphviz', or see https://graphviz.org/download/. "
    "Without it, .source still gives the DOT text and .text() a table."
)

# Colours (also in the legend).
POSITIVE = (33, 102, 172)  # blue: grad > 0
NEGATIVE = (178, 24, 43)  # red: grad < 0
NAN_COLOR = "#f4c430"
NOT_COMPUTED = "#e8e8e8"
INPUT_COLOR = "#d9f0d3"
PARAM_COLOR = "#fde0c5"
CONSTANT_COLOR = "#888888"
OP_COLOR = "#f2f2f2"
FONT = "Helvetica"


class GraphvizNotFound(RuntimeError):
    """Rendering needs Graphviz's `dot` program, which is not installed (the message says how)."""


class GraphTooLarge(ValueError):
    """More boxes than `max_nodes`, even collapsed; the message says how to draw it anyway.

    `values` is the graph's size, `max_nodes` the limit, and `boxes` the number of boxes
    collapsed by each kind (`{"neuron": ..., "step": ..., "layer": ...}`), or None when the graph
    has no scopes to collapse by. The command line words its own advice from these.
    """

    def __init__(self, values: int, max_nodes: int, boxes: dict[str, int] | None) -> None:
        self.values, self.max_nodes, self.boxes = values, max_nodes, boxes
        if boxes is None:
            how = (
                "It has no neuron, step or layer scopes to collapse by: make it under "
                "autograd.scope(name, kind='layer') (nn models do), draw a smaller part of it, "
                f"or pass max_nodes={values} (Graphviz may take minutes). For a table instead "
                "(no Graphviz, no limit): from autograd.draw import table; print(table(root))"
            )
        else:
            how = (
                f"Collapsed by neuron it has {boxes['neuron']} boxes, by step {boxes['step']}, "
                f"by layer {boxes['layer']}: pass collapse='neuron', 'step' or 'layer' with a "
                "larger max_nodes, or draw a smaller part"
            )
        super().__init__(f"the graph has {values} values, more than max_nodes={max_nodes}. {how}.")


def node_ids(root: Value) -> list[tuple[Value, str, str | None]]:
    """`(value, "v{i}", "op{i}" or None for a leaf)` for each Value of `topological_order(root)`.

    These are the names of the nodes in every drawing of `root`'s graph (DOT names and SVG ids).
    """
    return [
        (v, f"v{i}", None if v.op is None else f"op{i}")
        for i, v in enumerate(topological_order(root))
    ]


@dataclass
class Drawing:
    """A drawn graph: `.source` (DOT), `.pipe(format)`, `.render(path)`, `.text()`, Jupyter display.

    `ids` maps the id of every Value and op (`v3`, `op3`) to the id of the box that shows it:
    itself, or its group `g{i}` when the drawing is collapsed. `collapsed` is the kind collapsed
    by (None when every node is drawn).
    """

    source: str
    ids: dict[str, str]
    collapsed: str | None
    nodes: list[Value] = field(repr=False)
    params: set[int] | None = field(default=None, repr=False)  # ids of the `params=` leaves

    def pipe(self, format: str = "svg") -> bytes:
        """The drawing rendered by Graphviz's `dot` as bytes (`format`: svg, png or pdf)."""
        if format not in FORMATS:
            raise ValueError(f"pipe() format must be one of {', '.join(FORMATS)}, got {format!r}")
        try:
            return graphviz.pipe("dot", format, self.source.encode("utf-8"), quiet=True)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFound(INSTALL_HINT) from None
        except graphviz.CalledProcessError as error:
            raise RuntimeError(f"Graphviz's dot failed: {error.stderr!r}") from None

    def render(self, path: str | Path, format: str | None = None) -> Path:
        """Write the drawing to `path`, whole or not at all (`autograd.files.write_atomically`);
        the format comes from its suffix (.svg .png .pdf, or .dot and .gv for the DOT text)
        unless `format` is given. Returns the path."""
        path = Path(path)
        if format is None:
            format = path.suffix.lower().lstrip(".")
            if format not in FORMATS + ("dot", "gv"):
                raise ValueError(
                    f"cannot tell the format from the file name {str(path)!r}: end it with .svg, "
                    ".png, .pdf, .dot or .gv, or pass format="
                )
        content = self.source if format in ("dot", "gv") else self.pipe(format)
        return write_atomically(path, content)

    def text(self) -> str:
        """The graph's `table` for the terminal, whatever the drawing collapsed."""
        return _table(self.nodes, self.params)

    def _repr_mimebundle_(self, include=None, exclude=None) -> tuple[dict, dict]:
        """Jupyter: a PNG, or without Graphviz the table and a hint (`autograd.notebook`)."""
        from .notebook import drawing_bundle
        return drawing_bundle(self)

    def __repr__(self) -> str:
        how = f", collapsed by {self.collapsed}" if self.collapsed else ""
        return f"<Drawing of {len(self.nodes)} values{how}: .source, .render(path), .text()>"


def draw(
    root: Value,
    *,
    rankdir: str = "LR",
    show: str = "data+grad",
    color: str | None = "grad",
    collapse: str | None = None,
    max_nodes: int = MAX_NODES,
    title: str | None = None,
    params: Iterable[Value] | None = None,
    legend: bool = True,
) -> Drawing:
    """Draw the graph that `root` was computed from (see the module docstring for what it shows).

    rankdir: "LR" (inputs left, output right), "RL", "TB" or "BT".
    show: which numbers each Value shows: "data+grad", "data" or "grad".
    color: "grad" colours the grad cells by sign and size; None leaves them white.
    collapse: None, "neuron", "step" or "layer": draw each nn neuron / RNN time step / layer
        as one box.
    max_nodes: more boxes than this and the drawing collapses by itself (by neuron, then by
        step, then by layer) or, when that is not enough, raises `GraphTooLarge` (a ValueError)
        saying how to draw it. `table(root)` has no limit.
    title: text above the drawing. params: the leaves to mark as parameters (default: leaves
        with a scope, as nn's parameters have). legend: show the colour key under the title.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw() needs a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw(rankdir=...) must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if not isinstance(show, str) or not show or any(
        part not in SHOW_FIELDS for part in show.split("+")
    ):
        raise ValueError(f"draw(show=...) must be 'data+grad', 'data' or 'grad', got {show!r}")
    if color not in ("grad", None):
        raise ValueError(f"draw(color=...) must be 'grad' or None, got {color!r}")
    if collapse not in (None,) + COLLAPSE_KINDS:
        raise ValueError(
            f"draw(collapse=...) must be None, 'neuron', 'step' or 'layer', got {collapse!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw(max_nodes=...) must be a positive integer, got {max_nodes!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"draw(title=...) must be a string or None, got {type(title).__name__}")

    marked = None if params is None else {id(p) for p in params}
    nodes = topological_order(root)
    tree = tree_of(nodes, marked)
    if collapse is not None and collapse not in tree.kinds():
        warnings.warn(f"collapse={collapse!r} does not apply: the graph has no {collapse} "
                      f"groups; it has {describe_kinds(tree)}. Drawing it without collapsing "
                      f"by {collapse}.", stacklevel=2)
        collapse = None
    if collapse is None and len(nodes) > max_nodes:
        collapse = _collapse_to_fit(nodes, max_nodes, marked)
    groups = _groups(nodes, collapse, marked) if collapse else [None] * len(nodes)
    if collapse and _box_count(nodes, collapse, marked) > max_nodes:
        raise _too_large(nodes, max_nodes, marked)
    style = _Style(show.split("+"), color, _largest_grad(nodes), _one_pass(nodes))
    return _build(nodes, groups, tree, collapse, style, marked, rankdir, title, legend)


def table(root: Value, *, params: Iterable[Value] | None = None) -> str:
    """A table of the graph's nodes for the terminal: id, label, how it was computed, data,
    grad, in topological order (parents first). It runs no Graphviz, so it has no `max_nodes`:
    it is how to look at a graph too large to draw. `params` as in `draw`."""
    if not isinstance(root, Value):
        raise TypeError(f"table() needs a Value, got {type(root).__name__}")
    return _table(topological_order(root), None if params is None else {id(p) for p in params})


def _table(nodes: list[Value], marked: set[int] | None) -> str:
    index = {id(v): i for i, v in enumerate(nodes)}
    one_pass = _one_pass(nodes)
    rows = [("id", "label", "computed as", "data", "grad")]
    for i, v in enumerate(nodes):
        if v.op is None:
            how = _kind(v, nodes[-1], marked)
        else:
            how = v.op.expression(*[p.label or f"v{index[id(p)]}" for p in v.parents])
        grad = _grad_text(v)
        if id(v) in one_pass:
            grad += f" ({_held_word(v)}; one pass: {_number(one_pass[id(v)])})"
        rows.append((f"v{i}", _plain(v.label), _shorten(_plain(how), 40), _number(v.data), grad))
    widths = [max(len(row[c]) for row in rows) for c in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


# ---- laying out -------------------------------------------------------------------------------
@dataclass
class _Style:
    fields: list[str]
    color: str | None
    largest: float  # the largest finite |grad| in the graph, for the colour scale
    one_pass: dict[int, float]  # leaves whose .grad is not one pass's, by id (see _one_pass)


def _build(nodes, groups, tree, collapse, style, marked, rankdir, title, legend) -> Drawing:
    """The DOT text: a box per Value (or per collapsed group, or per shared parameter tensor),
    an oval per op, and a dashed frame (a Graphviz cluster) per scope around what it made."""
    root = nodes[-1]
    dot = graphviz.Digraph(
        name="computation_graph",
        graph_attr={"rankdir": rankdir, "fontname": FONT, "nodesep": "0.2", "ranksep": "0.35",
                    "labelloc": "t"},
        node_attr={"fontname": FONT, "fontsize": "11", "shape": "plain"},
        edge_attr={"fontname": FONT, "fontsize": "9", "color": "#555555",
                   "arrowsize": "0.6"},
    )
    if title is not None or legend:
        dot.attr(label=_caption(title, legend))

    # A shared parameter tensor (an RNN's weights, a kernel) is one box, not a fan of edges
    # per element; it stands in for the elements not already inside a collapsed box.
    groups = list(groups)
    for t in tree.groups:
        if t.kind == TENSOR and t.shared:
            for i in t.members:
                if groups[i] is None:
                    groups[i] = t

    ids: dict[str, str] = {}
    group_ids: dict[object, str] = {}
    members: dict[str, list[int]] = {}
    drawn_as: list[str] = []  # the box each Value ends up in
    for i, (v, group) in enumerate(zip(nodes, groups)):
        if group is None:
            box = f"v{i}"
        else:
            box = group_ids.setdefault(group, f"g{i}")
            members.setdefault(box, []).append(i)
        drawn_as.append(box)
        ids[f"v{i}"] = box
        if v.op is not None:
            ids[f"op{i}"] = box if group is not None else f"op{i}"

    # The frame (scope) each box is drawn in: its own scope's; a collapsed group's parent's.
    frame_of: dict[str, int | None] = {}
    for i, box in enumerate(drawn_as):
        if box in frame_of:
            continue
        group, scope = groups[i], _scope_group(tree, tree.group_of[i])
        if isinstance(group, Scope):
            scope = next((tree.groups[a].parent for a in tree.ancestors(scope)
                          if tree.groups[a].path == group.path), None)
        elif group is not None:  # a tensor
            scope = group.parent
        frame_of[box] = scope
    frames = _Frames(dot, tree, frame_of)

    index = {id(v): i for i, v in enumerate(nodes)}
    for i, v in enumerate(nodes):
        if groups[i] is not None:
            continue
        kind = _kind(v, root, marked)
        frames.graph(f"v{i}").node(
            f"v{i}", _value_label(v, i, kind, style, frames.path(f"v{i}")), id=f"v{i}",
            tooltip=_tooltip(v, kind, style.one_pass), _attributes={"class": f"value {kind}"})
        if v.op is not None:
            frames.graph(f"v{i}").node(
                f"op{i}", _op_label(v), id=f"op{i}", shape="ellipse", style="filled",
                fillcolor=OP_COLOR, color="#999999", fontsize="10", margin="0.02,0.01",
                height="0.3", ordering="in",  # its inputs in order: w0 above w1, a above b
                _attributes={"class": f"op op-{v.op.name}"})
            dot.edge(f"op{i}", f"v{i}", id=f"op{i}-out")

    # A group box shows the values used outside it: one pass over the edges finds them.
    used_outside = {index[id(p)] for i, v in enumerate(nodes) for p in v.parents
                    if drawn_as[index[id(p)]] != drawn_as[i]}
    scopes = {}  # collapsed box -> its scope's path
    for box, indices in members.items():
        group = groups[indices[0]]
        if isinstance(group, Scope):
            scopes[box] = group.path
            _group_node(frames.graph(box), box, indices, nodes, group, used_outside, collapse,
                        style, frames.path(box))
        else:
            _tensor_node(frames.graph(box), box, indices, nodes, group, style, frames.path(box))
    feeds: dict[str, set[str]] = {}  # the boxes each box reads from
    for i, v in enumerate(nodes):
        for parent in v.parents:
            if drawn_as[index[id(parent)]] != drawn_as[i]:
                feeds.setdefault(drawn_as[i], set()).add(drawn_as[index[id(parent)]])
    frames.order_siblings(scopes, feeds)

    seen: set[tuple[str, str]] = set()
    for i, v in enumerate(nodes):
        roles = _roles(v)
        target = f"op{i}" if groups[i] is None else drawn_as[i]
        for k, parent in enumerate(v.parents):
            source = drawn_as[index[id(parent)]]
            if groups[i] is None and groups[index[id(parent)]] is None:
                dot.edge(source, target, id=f"op{i}-in{k}", label=roles[k] if roles else None)
            elif source != target and (source, target) not in seen:
                seen.add((source, target))
                dot.edge(source, target, id=f"op{i}-in{k}" if groups[i] is None else None)
    frames.close()
    return Drawing(dot.source, ids, collapse, nodes, marked)


class _Frames:
    """The scopes as nested Graphviz clusters (dashed frames named after their scope), made as
    boxes are put into them: `graph(box)` is where a box's node statement goes."""

    def __init__(self, dot, tree: Tree, frame_of: dict[str, int | None]) -> None:
        self.dot, self.tree, self.frame_of = dot, tree, frame_of
        self.subgraphs: dict[int, graphviz.Digraph] = {}

    def graph(self, box: str):
        return self._open(self.frame_of[box])

    def path(self, box: str) -> str:
        """The scope path of the frame a box is in ("" at the top): names inside are relative."""
        frame = self.frame_of[box]
        return "" if frame is None else self.tree.groups[frame].path

    def _open(self, frame: int | None):
        if frame is None:
            return self.dot
        if frame not in self.subgraphs:
            group = self.tree.groups[frame]
            sub = graphviz.Digraph(name=f"cluster_{frame}")
            sub.attr(label=f"<{_escape(group.name, 48)}>", style="rounded,dashed",
                     color="#9999bb", fontcolor="#555577", fontsize="10", labeljust="l",
                     margin="6", _attributes={"class": f"scope {group.kind}"})
            self.subgraphs[frame] = sub
            self._open(group.parent)  # its parent frame exists too
        return self.subgraphs[frame]

    def order_siblings(self, boxes: dict[str, str], feeds: dict[str, set[str]]) -> None:
        """Keep side by side boxes in the order they were made (a layer's neurons 0, 1, ...):
        Graphviz orders a rank to cross fewer edges, which shuffles them. Side by side: in
        the same frame, reading the same boxes."""
        alike: dict[tuple, list[str]] = {}
        for box in boxes:
            key = (self.frame_of[box], frozenset(feeds.get(box, ())))
            alike.setdefault(key, []).append(box)
        for n, ((frame, _), siblings) in enumerate(alike.items()):
            if len(siblings) < 2:
                continue
            siblings.sort(key=lambda b: natural(boxes[b]))
            rank = graphviz.Digraph(name=f"siblings_{n}")
            rank.attr(rank="same")
            for a, b in zip(siblings, siblings[1:]):
                rank.edge(b, a, style="invis")  # in LR, a flat edge puts its head above
            self._open(frame).subgraph(rank)
            # Graphviz's second pass over clusters would rotate the chain; keep the first.
            self.dot.attr(remincross="false")

    def close(self) -> None:
        """Put every frame into its parent, innermost first."""
        for frame in sorted(self.subgraphs, key=lambda f: -len(self.tree.ancestors(f))):
            parent = self.tree.groups[frame].parent
            (self.dot if parent is None else self.subgraphs[parent]).subgraph(
                self.subgraphs[frame])


def _scope_group(tree: Tree, g: int | None) -> int | None:
    """A node's innermost scope group (for a parameter in a tensor, the tensor's scope)."""
    if g is not None and tree.groups[g].kind == TENSOR:
        return tree.groups[g].parent
    return g


def _group_node(where, box, indices, nodes, group, used_outside, collapse, style, within
                ) -> None:
    """One box for all the Values of a neuron, step or layer: its name, its size, and its
    output (a value used outside the box, or the root)."""
    root = len(nodes) - 1
    outputs = [i for i in indices if i in used_outside or i == root]
    leaves = sum(1 for i in indices if nodes[i].op is None and nodes[i].requires_grad)
    size = f"{collapse}: {_count(len(indices), 'value')}" + (
        f", {_count(leaves, 'parameter')}" if leaves else "")
    rows = [
        f'<TR><TD COLSPAN="2"><B>{_escape(_relative(group.path, within), 48)}</B></TD></TR>',
        f'<TR><TD COLSPAN="2"><FONT COLOR="#666666">{size}</FONT></TD></TR>',
    ]
    if len(outputs) == 1:
        out = nodes[outputs[0]]
        rows.append(f"<TR>{_cells(out, style)}</TR>")
    else:
        rows.append(f'<TR><TD COLSPAN="2">{len(outputs)} outputs</TD></TR>')
    border = "3" if root in indices else "1"
    table = (
        f'<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
        f'STYLE="rounded" BGCOLOR="#f7f7ff">{"".join(rows)}</TABLE>'
    )
    where.node(box, f"<{table}>", id=box, _attributes={"class": f"group {collapse}"})


def _tensor_node(where, box, indices, nodes, tensor, style, within) -> None:
    """One box for a shared parameter tensor: its name and shape, and its grads' range."""
    grads = [_grad_of(nodes[i]) for i in indices]
    shape = "×".join(map(str, tensor.shape))
    rows = [
        f'<TR><TD BGCOLOR="{PARAM_COLOR}"><B>{_escape(_relative(tensor.path, within), 48)}'
        "</B></TD></TR>",
        f'<TR><TD><FONT COLOR="#666666">{len(indices)} parameters ({shape}), shared'
        "</FONT></TD></TR>",
    ]
    if "grad" in style.fields:
        if any(g is None for g in grads):
            rows.append(f'<TR><TD BGCOLOR="{NOT_COMPUTED}"><FONT COLOR="#777777"><I>grad not '
                        "computed</I></FONT></TD></TR>")
        else:
            largest = max(grads, key=lambda g: abs(g) if math.isfinite(g) else math.inf)
            fill, ink = _grad_colors(largest, style)
            rows.append(f'<TR><TD BGCOLOR="{fill}"><FONT COLOR="{ink}">grad {_number(min(grads))}'
                        f" … {_number(max(grads))}</FONT></TD></TR>")
    table = (f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
             f'STYLE="rounded">{"".join(rows)}</TABLE>')
    where.node(box, f"<{table}>", id=box, _attributes={"class": "group tensor param"})


def _relative(path: str, within: str) -> str:
    """`path` inside the frame `within`: "layers.0.neurons.3" in "layers.0" is "neurons.3"."""
    if within and path.startswith(within + ".") and len(path) > len(within) + 1:
        return path[len(within) + 1:]
    return path


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _value_label(v: Value, i: int, kind: str, style: _Style, within: str) -> str:
    """A Value's box: its name (inside a frame, after the frame's path: `z` in
    `layers.0.neurons.3`), then its data and grad cells."""
    if kind == "const" and v.op is None:
        return (
            f'<<TABLE BORDER="1" STYLE="dashed" CELLBORDER="0" CELLPADDING="2" '
            f'COLOR="{CONSTANT_COLOR}"><TR><TD><FONT COLOR="{CONSTANT_COLOR}">'
            f"{_number(v.data)}</FONT></TD></TR></TABLE>>"
        )
    if v.label:
        name = _escape(_relative(v.label, within), MAX_LABEL)
    else:
        name = f'<FONT COLOR="#888888">v{i}</FONT>'
    fill = {"input": INPUT_COLOR, "param": PARAM_COLOR}.get(kind)
    bg = f' BGCOLOR="{fill}"' if fill else ""
    if kind == "output":
        name = f"<B>{name}</B>"
    border = "3" if kind == "output" else "1"
    dashed = ' STYLE="dashed"' if kind == "const" else ' STYLE="rounded"'
    return (
        f'<<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4"{dashed}>'
        f"<TR><TD{bg}>{name}</TD>{_cells(v, style)}</TR></TABLE>>"
    )


def _cells(v: Value, style: _Style) -> str:
    """The data and grad cells of a Value, as chosen by `show`."""
    cells = []
    if "data" in style.fields:
        cells.append(f"<TD>{_number(v.data)}</TD>")
    if "grad" in style.fields:
        grad = _grad_of(v)
        if not v.requires_grad:
            cells.append(f'<TD><FONT COLOR="{CONSTANT_COLOR}"><I>no grad</I></FONT></TD>')
        elif grad is None:
            cells.append(
                f'<TD BGCOLOR="{NOT_COMPUTED}"><FONT COLOR="#777777"><I>grad not computed</I>'
                "</FONT></TD>"
            )
        else:
            fill, ink = _grad_colors(grad, style)
            note = ""
            if id(v) in style.one_pass:
                note = (f'<BR/><FONT POINT-SIZE="9">{_held_word(v)}; one pass: '
                        f"{_number(style.one_pass[id(v)])}</FONT>")
            cells.append(
                f'<TD BGCOLOR="{fill}"><FONT COLOR="{ink}">grad {_number(grad)}{note}</FONT></TD>'
            )
    return "".join(cells)


def _op_label(v: Value) -> str:
    return f"<{html.escape(v.op.symbol)}>"


def _roles(v: Value) -> list[str] | None:
    """Edge labels naming each parent's place, as the op table's formulas name it: for ops whose
    notation says the order of the inputs matters (a - b, w·x + b, atan2(a, b); max gives the
    gradient to the first of equals). Sums and products need no names."""
    if v.op is None or not v.op.notation.labelled:
        return None
    return v.op.input_names(len(v.parents))


def _caption(title: str | None, legend: bool) -> str:
    rows = []
    if title is not None:
        rows.append(f'<TR><TD COLSPAN="8"><FONT POINT-SIZE="14">{_escape(title, 120)}</FONT></TD></TR>')
    if legend:
        swatch = '<TD BGCOLOR="{}"><FONT POINT-SIZE="9" COLOR="{}">{}</FONT></TD>'
        rows.append(
            "<TR>"
            + swatch.format(_rgb(POSITIVE), "white", "grad &gt; 0")
            + swatch.format(_rgb(NEGATIVE), "white", "grad &lt; 0")
            + swatch.format("white", "black", "grad 0")
            + swatch.format(NOT_COMPUTED, "#777777", "not computed")
            + swatch.format(INPUT_COLOR, "black", "input")
            + swatch.format(PARAM_COLOR, "black", "parameter")
            + swatch.format("white", CONSTANT_COLOR, "constant (dashed)")
            + swatch.format("white", "black", "<B>output</B> (thick)")
            + "</TR>"
        )
    return f'<<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="2">{"".join(rows)}</TABLE>>'


# ---- what a node is, and its colours ----------------------------------------------------------
def _kind(v: Value, root: Value, marked: set[int] | None) -> str:
    """output, input, param or const for leaves and the root; "computed" for the rest.

    A leaf that needs a gradient is a parameter when it is in `params` (`marked`), or, without
    `params`, when it has a scope: nn gives each parameter its module's, and a leaf made inside
    `autograd.scope(...)` belongs to that part of the model. Labels decide nothing ("x.1" or
    "1.5" is an input like any other)."""
    if v is root:
        return "output"
    if not v.requires_grad:
        return "const"
    if v.op is not None:
        return "computed"
    return "param" if is_parameter(v, marked) else "input"


def _grad_of(v: Value) -> float | None:
    return v.grad.data if isinstance(v.grad, Value) else v.grad


def _one_pass(nodes: list[Value]) -> dict[int, float]:
    """The leaves whose `.grad` is not what one backward pass from the output gives, with what
    it gives, by id. `backward()` resets the grads of computed nodes but adds into leaves, so
    after a second pass (or a pass from another output) a leaf's grad no longer follows from its
    children's by the chain rule, and the drawing must say so. Asked only when the pass started
    at the output (its grad is 1): for a part of a larger graph, one pass cannot be told apart."""
    root = nodes[-1]
    if _grad_of(root) != 1.0:
        return {}
    leaves = [v for v in nodes if v.op is None and v.requires_grad and v.grad is not None]
    fresh = gradients(root, leaves) if leaves else []
    return {id(v): g for v, g in zip(leaves, fresh) if not _same_number(_grad_of(v), g)}


def _same_number(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _held_word(v: Value) -> str:
    """How a leaf's `.grad` came to differ from one pass: zeroed since, or accumulated."""
    return "zeroed" if _grad_of(v) == 0 else "accumulated"


def _largest_grad(nodes: list[Value]) -> float:
    largest = 0.0
    for v in nodes:
        g = _grad_of(v)
        if g is not None and math.isfinite(g):
            largest = max(largest, abs(g))
    return largest


def _grad_colors(grad: float, style: _Style) -> tuple[str, str]:
    """(fill, text colour) for a grad: blue > 0, red < 0, deeper as |grad| nears the largest."""
    if style.color is None or grad == 0:
        return "white", "black"
    if math.isnan(grad):
        return NAN_COLOR, "black"
    share = 1.0 if math.isinf(grad) or style.largest == 0 else abs(grad) / style.largest
    strength = 0.15 + 0.85 * math.sqrt(min(share, 1.0))  # a small grad still shows its sign
    base = POSITIVE if grad > 0 else NEGATIVE
    mixed = tuple(round(255 + (c - 255) * strength) for c in base)
    return _rgb(mixed), "white" if strength > 0.6 else "black"


def _rgb(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


# ---- collapsing ------------------------------------------------------------------------------
def _groups(nodes: list[Value], kind: str, marked: set[int] | None) -> list:
    """For each Value, the scope of `kind` it belongs to (None: drawn on its own).

    A node belongs to the scope it was made in (nn's parameters carry their module's). A
    parameter (in `params`) or constant without a scope belongs to the group that uses it when
    exactly one group does; inputs stay visible.
    """
    groups = [None if v.scope is None else v.scope.enclosing(kind) for v in nodes]
    index = {id(v): i for i, v in enumerate(nodes)}
    users: dict[int, set] = {}
    for i, v in enumerate(nodes):
        for parent in v.parents:
            j = index[id(parent)]
            if groups[j] is None and parent.op is None:
                users.setdefault(j, set()).add(groups[i])
    root = nodes[-1]
    for j, used_by in users.items():
        if len(used_by) == 1 and None not in used_by and _kind(nodes[j], root, marked) in (
            "param", "const"
        ):
            groups[j] = next(iter(used_by))
    return groups


def _box_count(nodes: list[Value], kind: str, marked: set[int] | None) -> int:
    groups = _groups(nodes, kind, marked)
    return groups.count(None) + len({g for g in groups if g is not None})


def _collapse_to_fit(nodes: list[Value], max_nodes: int, marked: set[int] | None) -> str:
    for kind in COLLAPSE_KINDS:
        if _box_count(nodes, kind, marked) <= max_nodes:
            return kind
    raise _too_large(nodes, max_nodes, marked)


def _too_large(nodes: list[Value], max_nodes: int, marked: set[int] | None) -> GraphTooLarge:
    counts = {kind: _box_count(nodes, kind, marked) for kind in COLLAPSE_KINDS}
    scoped = any(count != len(nodes) for count in counts.values())
    return GraphTooLarge(len(nodes), max_nodes, counts if scoped else None)


# ---- text -----------------------------------------------------------------------------------
def _plain(text: str) -> str:
    """Text with control characters (newlines too) shown as escapes: one visible line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str, limit: int) -> str:
    """User text for an HTML-like label: one line, shortened, markup characters escaped, and
    backslashes doubled (Graphviz expands `\\N`, `\\G`... even inside HTML-like labels)."""
    return html.escape(_shorten(_plain(text), limit), quote=True).replace("\\", "\\\\")


def _number(x: float) -> str:
    return f"{x:.4g}"


def _grad_text(v: Value) -> str:
    if not v.requires_grad:
        return "no grad"
    grad = _grad_of(v)
    return "not computed" if grad is None else _number(grad)


def _tooltip(v: Value, kind: str, one_pass: dict[int, float]) -> str:
    """The text shown on hover. Graphviz reads a tooltip's backslashes twice (`\\N` would
    become the node's name) and passes `&...;` through to the SVG as an entity, so the label is
    escaped as in HTML-like labels and its doubled backslashes are doubled again by
    `graphviz.escape`."""
    label = _escape(v.label, 80) or "(no label)"
    return graphviz.escape(f"{label} ({kind}): data = {v.data!r}, grad = {_grad_text_full(v, one_pass)}")


def _grad_text_full(v: Value, one_pass: dict[int, float]) -> str:
    grad = _grad_of(v)
    if not v.requires_grad:
        return "none needed"
    if grad is None:
        return "not computed"
    if id(v) in one_pass:
        return (f"{grad!r}, {_held_word(v)}: .grad adds up every backward() since it was last "
                f"zeroed; one backward pass from the output gives {one_pass[id(v)]!r}")
    return repr(grad)
