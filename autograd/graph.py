"""The one graph walk: a deterministic topological order, built without recursion.

`backward()`, the gradient checker, the drawings and the step-through player all take their
order from `topological_order`, so they agree node for node. It is an iterative depth-first
search that visits parents in their recorded order, so the same graph always gives the same
order, and a chain of a million nodes needs no deeper Python stack than a chain of three.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .value import Value


def topological_order(
    root: Value, *, gradient_only: bool = False, placed: set | None = None
) -> list[Value]:
    """Every node `root` depends on, each after all of its parents, `root` last.

    With `gradient_only=True`, nodes that need no gradient (constants, detached values) and
    everything behind them are left out: that is the part of the graph `backward()` visits.
    `placed` (a set, or anything with `in` and `add`) holds nodes to treat as listed already:
    they and what lies behind them only through them are left out; the walk adds what it lists.
    """
    # Depth-first, parents in their recorded order, as the recursive walk
    #     visit(node): for p in node.parents: if p not seen: visit(p); then place node
    # would do, with the recursion kept in two lists: `path` (the nodes being explored) and
    # `todo` (for each of them, an iterator over the parents not yet looked at). A leaf is
    # placed as soon as it is seen: it has nothing to explore. Nodes hash by identity.
    order: list[Value] = []
    seen = set() if placed is None else placed
    seen.add(root)
    path = [root]
    todo = [iter(root.parents)]
    while todo:
        for parent in todo[-1]:
            if parent in seen or (gradient_only and not parent.requires_grad):
                continue
            seen.add(parent)
            if parent.parents:
                path.append(parent)
                todo.append(iter(parent.parents))
                break
            order.append(parent)
        else:  # every parent of path[-1] is placed: place it
            todo.pop()
            order.append(path.pop())
    return order
