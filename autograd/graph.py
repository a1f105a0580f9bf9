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


def topological_order(root: Value, *, gradient_only: bool = False) -> list[Value]:
    """Every node `root` depends on, each after all of its parents, `root` last.

    With `gradient_only=True`, nodes that need no gradient (constants, detached values) and
    everything behind them are left out: that is the part of the graph `backward()` visits.
    """
    order: list[Value] = []
    entered: set[int] = set()  # ids of nodes whose parents have been pushed
    placed: set[int] = set()  # ids of nodes already in `order`
    stack = [root]
    while stack:
        node = stack[-1]
        key = id(node)
        if key in entered:
            # Second visit: every parent has been placed, so the node can be.
            stack.pop()
            if key not in placed:
                placed.add(key)
                order.append(node)
            continue
        entered.add(key)
        # Reversed, so that the first parent is popped (and placed) first.
        for parent in reversed(node.parents):
            if id(parent) not in entered and (parent.requires_grad or not gradient_only):
                stack.append(parent)
    return order
