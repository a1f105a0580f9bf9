"""A closed group's steps, summed up: what the player shows for a layer it draws as one box.

When the player shows a layer as one box, its steps follow: the forward steps of every node
inside the layer become one step ("layers.1 computes its 16 outputs", with a small table of
each neuron's numbers), and so do its backward steps ("backward through layers.1", with each
neuron's gradients in a table, and what the layer sends back to its inputs). Opening the layer
brings back each neuron's own steps, with the chain rule written out.

`group_runs(walk, tree)` makes one `Run` for each stretch of consecutive steps that stay inside
one group (a group whose steps are interleaved with others' has several runs). It reads only
the recorded steps and their states: every number in a summary is one the steps computed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .groups import TENSOR, Tree
from .steps import Steps, fmt

BY_STEPS = 4  # a run of at most this many steps, in a group without child groups, is shown
#               as its steps' own explanations, one after the other
ROLE_COLUMNS = 4  # more roles than this and a table lists nodes, not children
VALUES_IN_CELL = 4  # more numbers than this in one cell and the rest is counted, not shown


@dataclass(frozen=True)
class Table:
    """A small table of numbers in a summary."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Run:
    """The steps `first`..`last` (inclusive), all about nodes inside `group`, as one step."""

    group: int
    first: int
    last: int
    phase: str  # "forward" or "backward"
    title: str
    lines: tuple[str, ...]
    tables: tuple[Table, ...]
    by_steps: bool  # show the steps' own explanations instead of `lines` and `tables`


def group_runs(walk: Steps, tree: Tree) -> list[Run]:
    """A `Run` for each stretch of consecutive forward or backward steps inside one group, for
    every group (so a layer and each of its neurons have runs of their own)."""
    spans: dict[int, list[list[int]]] = {}  # group -> [[first, last], ...]
    for step in walk:
        if step.kind not in ("forward", "backward"):
            continue
        for g in tree.ancestors(tree.group_of[step.node]):
            runs = spans.setdefault(g, [])
            if runs and runs[-1][1] == step.index - 1:
                runs[-1][1] = step.index
            else:
                runs.append([step.index, step.index])
    return [_summary(walk, tree, g, first, last)
            for g, runs in sorted(spans.items()) for first, last in runs]


def _summary(walk: Steps, tree: Tree, g: int, first: int, last: int) -> Run:
    group = tree.groups[g]
    phase = walk[first].phase
    inside = set(tree.nodes_in(g))
    nodes = [walk[k].node for k in range(first, last + 1)]
    has_children = any(tree.groups[c].kind != TENSOR for c in group.children)
    what = f"{group.kind} {group.path}"
    if not has_children and len(nodes) <= BY_STEPS:
        title = (f"forward: {what}" if phase == "forward" else f"backward through {what}")
        return Run(g, first, last, phase, title, (), (), by_steps=True)
    after = walk.state(last)
    rows = _children_table(walk, tree, g, nodes, after, phase)
    out = _d(walk.nodes[-1].name)
    if phase == "forward":
        sources = _outside_parents(walk, nodes, inside)
        lines = [f"{what} computes {_count(len(nodes), 'value')}"
                 + (f" from {_names([walk.nodes[p].name for p in sources])}" if sources else ""),
                 f"open {group.path} to see each of them computed"]
        return Run(g, first, last, phase, f"forward: {what} ({_count(len(nodes), 'value')})",
                   tuple(lines), (Table("what it computes", *rows),), by_steps=False)
    before = walk.state(first - 1)
    sent = [i for i in sorted({c.node for k in range(first, last + 1) for c in walk[k].changes})
            if i not in inside]
    parameters = [i for i in inside if i in tree.parameters]
    lines = [f"upstream: ∂{out}/∂ of the values {group.path} hands on, received from outside",
             f"each of its nodes sends the gradient on by the chain rule, children first "
             f"({_count(len(nodes), 'step')}): open {group.path} to see each one"]
    if parameters:
        lines.append(f"its {_count(len(parameters), 'parameter')} get their gradients "
                     f"(∂{out}/∂w = upstream · local derivative)")
    tables = [Table(f"∂{out}/∂ each of its values", *rows)]
    if sent:
        tables.append(Table(f"what it sends back to its inputs (their ∂{out}/∂)",
                            ("input", "before", "after"),
                            tuple((walk.nodes[i].name, fmt(before.grad[i]), fmt(after.grad[i]))
                                  for i in sent)))
    return Run(g, first, last, phase, f"backward through {what} "
                                      f"({_count(len(nodes), 'step')})",
               tuple(lines), tuple(tables), by_steps=False)


def _children_table(walk: Steps, tree: Tree, g: int, nodes: list[int], after, phase: str
                    ) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """(columns, rows): one row per child group with a column per role its nodes play ("z",
    "out": the label after the child's path, indices dropped), or one row per node when the
    roles are too many or the group has no children."""
    group = tree.groups[g]
    shown = "data" if phase == "forward" else "grad"
    value = (lambda i: after.data[i]) if phase == "forward" else (lambda i: after.grad[i])
    rows: dict[object, dict[str, list[int]]] = {}  # child (group index, or node) -> roles
    for i in nodes:
        child = _child_of(tree, g, tree.group_of[i])
        if child is None:
            rows.setdefault(("node", i), {}).setdefault("", []).append(i)
            continue
        base = tree.groups[child].path
        rows.setdefault(child, {}).setdefault(_role(walk.nodes[i].label, base, walk, i),
                                              []).append(i)
    roles = list(dict.fromkeys(role for r in rows.values() for role in r))
    if all(isinstance(k, int) for k in rows) and len(roles) <= ROLE_COLUMNS:
        columns = (_child_kind(tree, rows),) + tuple(f"{shown} {r}" for r in roles)
        return columns, tuple(
            (tree.groups[child].name,)
            + tuple(_cell([value(i) for i in r.get(role, [])]) for role in roles)
            for child, r in rows.items())
    prefix = group.path + "."
    return ("value", shown), tuple(
        (_relative(walk.nodes[i].name, prefix), fmt(value(i))) for i in nodes)


def _child_of(tree: Tree, g: int, inner: int | None) -> int | None:
    """The child group of `g` that holds group `inner` (None: directly in `g`)."""
    for a in tree.ancestors(inner):
        if tree.groups[a].parent == g:
            return a
    return None


def _child_kind(tree: Tree, rows: dict) -> str:
    kinds = {tree.groups[c].kind for c in rows}
    return kinds.pop() if len(kinds) == 1 else "part"


def _role(label: str, base: str, walk: Steps, i: int) -> str:
    """A node's role in its child group: its label after the group's path, indices dropped
    ("layers.1.neurons.3.z" in "layers.1.neurons.3" is "z"; "rnn.step.2.h.1" is "h"); an
    unlabelled node's op."""
    if label.startswith(base + "."):
        return re.sub(r"(\.\d+)+$", "", label[len(base) + 1:])
    return walk.nodes[i].op or walk.nodes[i].kind


def _relative(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) and len(name) > len(prefix) else name


def _cell(values: list[float | None]) -> str:
    shown = [fmt(v) for v in values[:VALUES_IN_CELL]]
    if len(values) > VALUES_IN_CELL:
        shown.append(f"… ({len(values)} in all)")
    return ", ".join(shown)


def _outside_parents(walk: Steps, nodes: list[int], inside: set[int]) -> list[int]:
    seen = dict.fromkeys(p for i in nodes for p in walk.nodes[i].parents
                         if p not in inside and walk.nodes[p].kind != "constant")
    return list(seen)


def _names(names: list[str], few: int = 3) -> str:
    if len(names) <= few + 1:
        return ", ".join(names)
    return ", ".join(names[:few]) + f" and {len(names) - few} more"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _d(name: str) -> str:
    return name if re.fullmatch(r"[\w.]+", name) else f"({name})"
