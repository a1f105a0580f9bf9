"""The groups of a graph, as a tree: where each node was made, and the parameter tensors.

A learner looks at a network at several levels of detail: the whole network by layer, a layer
by neuron, a neuron by op, an RNN by time step. Those levels are already in the graph: every
node carries the `Scope` it was made in (`nn` runs layer i in `layers.i`, its neuron j in
`layers.i.neurons.j`, an RNN's step t in `rnn.step.t`), and each scope sits inside its parent.
`group_tree(order)` turns them into a tree of `Group`s that drawings and the player open and
close:

- one group per scope path (`kind` is the scope's kind: "layer", "neuron", "step", or "module"
  for a scope without one), nested as the scopes are;
- one group per parameter tensor: parameters in one scope whose labels differ only in their
  trailing indices (`weight_hh.0.1`, `weight_hh.2.0`, ... make `rnn.weight_hh`, of shape 3x3).
  A tensor is `shared` when its elements feed more than one node each: an RNN's weights (every
  time step reads them) or a convolution's kernel (every window does). Drawn as one box with
  one edge per reader, a shared tensor replaces a fan of edges per element.

Nodes made outside every scope (the inputs, the loss) belong to no group. Which leaves are
parameters: the ones in `params` when it is given, else the leaves that take a gradient and
carry a scope (nn gives each parameter its module's). Labels decide nothing about that.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from .value import Value

TENSOR = "tensor"  # the kind of a parameter tensor's group
MODULE = "module"  # the kind of a group whose scope has no kind of its own
_INDICES = re.compile(r"^(.+?)((?:\.\d+)+)$")  # "layers.0.neurons.3.w.2" -> ("...w", ".2")


@dataclass(frozen=True)
class Group:
    """A scope, or a parameter tensor, of a graph: a box that can be opened and closed."""

    index: int
    id: str  # "g{index}": the id of the group's box in the player
    path: str  # "layers.1", "layers.1.neurons.3", "rnn.weight_hh"
    name: str  # the path after its parent's: "neurons.3", "weight_hh"
    kind: str  # "layer", "neuron", "step", "module" (a scope without a kind), or "tensor"
    parent: int | None
    children: tuple[int, ...]  # child groups, in the order their first node appears
    members: tuple[int, ...]  # the nodes directly inside (not in a child), topological order
    shape: tuple[int, ...] = ()  # a tensor's shape, read from its elements' indices
    shared: bool = False  # a tensor whose elements each feed more than one node


@dataclass(frozen=True)
class Tree:
    """Every group of a graph, and for each node (by topological index) its innermost group."""

    groups: tuple[Group, ...]
    group_of: tuple[int | None, ...]
    parameters: frozenset[int]  # the topological indices of the parameters

    def ancestors(self, group: int | None) -> list[int]:
        """`group` and the groups around it, innermost first."""
        chain = []
        while group is not None:
            chain.append(group)
            group = self.groups[group].parent
        return chain

    def kinds(self) -> dict[str, list[str]]:
        """{kind: [path, ...]} for the scope groups (not tensors), paths in natural order."""
        found: dict[str, list[str]] = {}
        for g in self.groups:
            if g.kind != TENSOR:
                found.setdefault(g.kind, []).append(g.path)
        return {kind: sorted(paths, key=natural) for kind, paths in found.items()}


def natural(path: str) -> list:
    """A sort key for dotted paths that puts `neurons.2` before `neurons.10`."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in path.split(".")]


def is_parameter(v: Value, marked: set[int] | None) -> bool:
    """A leaf that takes a gradient and is a parameter: in `params` (`marked`, by id) when that
    was given, else carrying a scope (nn gives its parameters their module's)."""
    if v.op is not None or not v.requires_grad:
        return False
    return id(v) in marked if marked is not None else v.scope is not None


def group_tree(order: list[Value], params: Iterable[Value] | None = None) -> Tree:
    """The groups of the graph whose nodes are `order` (a topological order)."""
    return tree_of(order, None if params is None else {id(p) for p in params})


def tree_of(order: list[Value], marked: set[int] | None) -> Tree:
    """`group_tree` with the parameters given by id (`marked`; None: leaves with a scope)."""
    paths: dict[str, int] = {}  # scope path -> group index
    info: list[dict] = []  # the groups being built, by index

    def scope_group(scope) -> int:
        key = scope.path
        if key not in paths:
            parent = None if scope.parent is None else scope_group(scope.parent)
            paths[key] = len(info)
            info.append(dict(path=key, name=scope.name, kind=scope.kind or MODULE,
                             parent=parent, members=[]))
        return paths[key]

    group_of: list[int | None] = []
    parameters = set()
    tensors: dict[tuple[int | None, str], list[int]] = {}  # (scope group, stem) -> params
    for i, v in enumerate(order):
        group = None if v.scope is None else scope_group(v.scope)
        group_of.append(group)
        if is_parameter(v, marked):
            parameters.add(i)
            match = _INDICES.match(v.label)
            if match:
                tensors.setdefault((group, match.group(1)), []).append(i)

    readers = [0] * len(order)
    index = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for p in set(map(id, v.parents)):
            readers[index[p]] += 1
    for (group, stem), elements in tensors.items():
        if len(elements) < 2:
            continue
        prefix = "" if group is None else info[group]["path"] + "."
        name = stem[len(prefix):] if stem.startswith(prefix) else stem
        indices = [_INDICES.match(order[i].label).group(2)[1:].split(".") for i in elements]
        rank = len(indices[0])
        shape = tuple(max(int(ix[d]) for ix in indices) + 1 if all(len(ix) == rank for ix in
                                                                   indices) else 0
                      for d in range(rank))
        info.append(dict(path=prefix + name, name=name, kind=TENSOR, parent=group, members=[],
                         shape=shape if all(shape) else (len(elements),),
                         shared=all(readers[i] > 1 for i in elements)))
        for i in elements:
            group_of[i] = len(info) - 1

    for i, g in enumerate(group_of):
        if g is not None:
            info[g]["members"].append(i)
    first = [min(_all_nodes(info, g), default=len(order)) for g in range(len(info))]
    groups = tuple(
        Group(index=g, id=f"g{g}", path=d["path"], name=d["name"], kind=d["kind"],
              parent=d["parent"],
              children=tuple(sorted((c for c in range(len(info)) if info[c]["parent"] == g),
                                    key=first.__getitem__)),
              members=tuple(d["members"]), shape=d.get("shape", ()),
              shared=d.get("shared", False))
        for g, d in enumerate(info))
    return Tree(groups, tuple(group_of), frozenset(parameters))


def _all_nodes(info: list[dict], g: int) -> list[int]:
    nodes = list(info[g]["members"])
    for c, d in enumerate(info):
        if d["parent"] == g:
            nodes += _all_nodes(info, c)
    return nodes


def describe_kinds(tree: Tree, few: int = 3) -> str:
    """The groups a graph has, for messages: "layer groups (rnn, fc) and step groups (rnn.step.0,
    rnn.step.1, rnn.step.2)"; "no groups" when it has none."""
    parts = []
    for kind, paths in tree.kinds().items():
        shown = ", ".join(paths[:few]) + (f", ... ({len(paths)} in all)" if len(paths) > few
                                           else "")
        parts.append(f"{kind} groups ({shown})")
    if not parts:
        return "no groups (no node was made inside autograd.scope(...); nn modules make them)"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
