"""The forward and backward pass of a graph as a list of explained steps.

`backward()` applies the chain rule in a tight loop; a learner wants to watch it one node at a
time. `backprop_steps(root)` records the same pass as plain records: first the forward pass
(each node computed from its parents, so that "not computed yet" is visible), then the seed,
then one backward step per node, naming its op, its local derivative as a formula (from the op
table) and as a number, the upstream gradient, and what it adds to each parent's grad, before
and after. How a node reads (`x * w`, `-x`, `atan2(y, x)`, `w1·x1 + w2·x2 + b`) and what its
inputs are called (`a`, `b`, `w1`, `x1`) is its op record's notation (`Op.expression`,
`Op.input_names`); nothing here asks an op's name.

Both players (the terminal stepper and the HTML player) only show these records; they compute
nothing themselves. The records are built from what `backward()` itself uses: the op table's
`local_grads` and `topological_order(root, gradient_only=True)`, reversed. Each contribution is
`upstream * local` and each new grad is `before + contribution`, in backward()'s order, so
replaying the steps gives the grads `backward()` gives, bit for bit. Nothing here changes the
graph: `.grad` is left as it was.
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from typing import Iterator, Sequence

from .graph import topological_order
from .value import Value, _as_float

_ELIDE = 6  # n-ary nodes with more inputs than this are written with "…" in expressions


@dataclass(frozen=True)
class Node:
    """One Value of the graph, as the players show it."""

    index: int  # position in `topological_order(root)`: parents before children
    id: str  # "v{index}": the same id the drawing gives the node
    name: str  # the label, else the number for an unnamed constant, else the id
    label: str
    kind: str  # "input", "constant" or "op"
    op: str | None  # the op's name ("mul"), None for leaves
    symbol: str  # the op's symbol ("*"), "" for leaves
    expression: str  # how it is computed, in its parents' names: "x * w"; "" for leaves
    parents: tuple[int, ...]
    data: float
    requires_grad: bool


@dataclass(frozen=True)
class Change:
    """One field of one node that a step sets: `data` (computed) or `grad`."""

    node: int
    field: str  # "data" or "grad"
    before: float | None  # None: not computed yet
    after: float


@dataclass(frozen=True)
class Term:
    """The chain rule for one parent of the node a backward step goes through."""

    parent: int
    wrt: str  # the op's name for this input: "a", "b", "w2", "x1"
    formula: str  # the local derivative as the op table writes it: "1 - tanh(a)²"
    local: float | None  # its value here; None where the input takes no gradient
    contribution: float | None  # upstream * local; None where the parent takes no gradient
    before: float | None  # the parent's grad before this step adds the contribution
    after: float | None


@dataclass(frozen=True)
class BackpropStep:
    """One step of the walk-through, with its explanation in words and numbers."""

    index: int
    kind: str  # "start", "forward", "seed", "backward" or "done"
    phase: str  # "forward" or "backward"
    node: int | None  # the node this step is about
    title: str  # one line: "backward through v4 = x * w"
    lines: tuple[str, ...]  # the explanation: the chain rule, written out with numbers
    upstream: float | None = None  # ∂root/∂node (backward steps)
    terms: tuple[Term, ...] = ()  # one per parent (backward steps)
    changes: tuple[Change, ...] = ()  # what the step sets, in order


@dataclass(frozen=True)
class State:
    """Every node's data and grad after some step; None means "not computed yet"."""

    data: tuple[float | None, ...]
    grad: tuple[float | None, ...]


class Steps(Sequence[BackpropStep]):
    """The forward and backward pass of one graph, step by step (a sequence of `BackpropStep`)."""

    def __init__(self, root: Value, nodes: tuple[Node, ...], steps: tuple[BackpropStep, ...],
                 initial: State) -> None:
        self.root = root
        self.nodes = nodes
        self._steps = steps
        self.initial = initial

    def __len__(self) -> int:
        return len(self._steps)

    def __getitem__(self, k):  # type: ignore[override]
        return self._steps[k]

    def __iter__(self) -> Iterator[BackpropStep]:
        return iter(self._steps)

    def state(self, k: int) -> State:
        """Every node's data and grad once steps 0..k have been applied."""
        if not isinstance(k, int) or isinstance(k, bool):
            raise TypeError(f"state() needs a step number (int), got {type(k).__name__}")
        if not 0 <= k < len(self._steps):
            raise IndexError(f"state({k}): the steps are numbered 0 to {len(self._steps) - 1}")
        data, grad = list(self.initial.data), list(self.initial.grad)
        for step in self._steps[: k + 1]:
            for change in step.changes:
                (data if change.field == "data" else grad)[change.node] = change.after
        return State(tuple(data), tuple(grad))

    @property
    def first_backward(self) -> int:
        """The number of the seed step, where the backward pass starts."""
        return next(s.index for s in self._steps if s.phase == "backward")

    def __repr__(self) -> str:
        return f"<Steps: {len(self.nodes)} nodes, {len(self._steps)} steps>"


def backprop_steps(root: Value, grad: float = 1.0) -> Steps:
    """The forward and backward pass of the graph behind `root`, as explained steps.

    The backward steps do what `root.backward(grad)` would do now, in the same order and with
    the same floats (leaves start from the grad they already hold, as backward() adds to it),
    but nothing is changed: read the results from the steps, or call `backward()` yourself.

        >>> import autograd
        >>> x = autograd.Value(2.0, "x"); w = autograd.Value(-3.0, "w")
        >>> walk = autograd.backprop_steps(x * w)
        >>> [s.kind for s in walk]
        ['start', 'forward', 'seed', 'backward', 'done']
        >>> print(walk[3].lines[2])
        ∂v2/∂x += ∂v2/∂v2 · ∂v2/∂x = 1 · b = 1 · (-3) = -3    (x.grad: 0 → -3)
    """
    seed = _checked(root, grad)
    order = topological_order(root)
    index = {id(v): i for i, v in enumerate(order)}
    nodes = _describe_nodes(order, index)
    initial = _initial_state(order, nodes)
    gradient_order = topological_order(root, gradient_only=True)
    out = _d(nodes[-1].name)
    grads, seed_step = _seed_step(root, order, gradient_order, index, nodes, initial, seed, out)
    fields = [_start_step(nodes), *_forward_steps(order, nodes), seed_step]
    fields += [_backward_step(v, nodes[index[id(v)]], nodes, grads, out)
               for v in reversed(gradient_order) if v.op is not None]
    fields.append(_done_step(nodes, grads, out, index[id(root)]))
    steps = tuple(BackpropStep(index=k, **step) for k, step in enumerate(fields))
    return Steps(root, nodes, steps, initial)


def _checked(root: Value, grad: float) -> float:
    """The seed, once `root` is known to be a Value with a backward pass to show."""
    if not isinstance(root, Value):
        raise TypeError(f"backprop_steps() needs a Value (the output of a computation), got "
                        f"{type(root).__name__}")
    if not root.requires_grad:
        raise ValueError(
            "backprop_steps() needs a Value that takes a gradient; this one is a constant, "
            "detach()ed or made under no_grad(), so there is no backward pass to show"
        )
    return _as_float(grad, "backprop_steps(grad=...)")


def _initial_state(order: list[Value], nodes: tuple[Node, ...]) -> State:
    """Before the first step: the leaves' numbers, and the grads leaves hold already."""
    return State(
        tuple(v.data if v.op is None else None for v in order),
        tuple(_held_grad(v, nodes[i].name) if v.op is None and v.requires_grad else None
              for i, v in enumerate(order)),
    )


def _start_step(nodes: tuple[Node, ...]) -> dict:
    inputs = [n.name for n in nodes if n.kind == "input"]
    computed = sum(n.kind == "op" for n in nodes)
    return dict(kind="start", phase="forward", node=None,
                title="start: the inputs are known, nothing else is computed yet",
                lines=(f"inputs: {_names(inputs) or 'none'}",
                       f"the forward pass computes {_count(computed, 'node')}, parents first; "
                       "then the backward pass sends gradients back"))


def _forward_steps(order: list[Value], nodes: tuple[Node, ...]) -> Iterator[dict]:
    """One step per computed node, parents first: its expression, then in numbers."""
    for node in nodes:
        if node.kind != "op":
            continue
        numbers = order[node.index].op.expression(
            *[fmt(order[p].data) for p in node.parents], elide=_ELIDE)
        indent = " " * len(node.name)
        result = f"{indent} = {numbers} = {fmt(node.data)}" if numbers != fmt(node.data) \
            else f"{indent} = {numbers}"
        yield dict(kind="forward", phase="forward", node=node.index,
                   title=f"forward: {node.name} = {node.expression}",
                   lines=(f"{node.name} = {node.expression}", result),
                   changes=(Change(node.index, "data", None, node.data),))


def _seed_step(root: Value, order: list[Value], gradient_order: list[Value],
               index: dict[int, int], nodes: tuple[Node, ...], initial: State, seed: float,
               out: str) -> tuple[dict[int, float], dict]:
    """What backward() does before its loop (see value._backpropagate): every gradient node's
    grad starts at 0 (leaves keep theirs) and the root's adds the seed. Returns the grads the
    backward steps go on from, and the step."""
    grads: dict[int, float] = {}
    changes = []
    for v in gradient_order:
        i = index[id(v)]
        if v.op is not None or initial.grad[i] is None:
            grads[i] = 0.0
            changes.append(Change(i, "grad", None, 0.0))
        else:
            grads[i] = initial.grad[i]
    r = index[id(root)]
    before = grads[r]
    grads[r] = before + seed  # as backward(): the root was reset to 0 (or is a leaf, and adds)
    changes.append(Change(r, "grad", before, grads[r]))
    kept = [nodes[i].name for i, v in enumerate(order)
            if v.op is None and initial.grad[i] is not None]
    lines = [f"∂{out}/∂{out} = {fmt(seed)}: the output's gradient with respect to itself",
             "every other gradient starts at 0 and collects one contribution per use"]
    if kept:
        lines.append(f"leaves add to the grad they hold from an earlier backward(): "
                     f"{_names(kept)}")
    for i, v in enumerate(order):
        if v.op is None and isinstance(v.grad, Value) and initial.grad[i] is not None:
            lines.append(f"{nodes[i].name} holds a Value as its grad (from backward("
                         f"create_graph=True)): its number, {fmt(initial.grad[i])}, is used")
    step = dict(kind="seed", phase="backward", node=r, title=f"seed: ∂{out}/∂{out} = {fmt(grads[r])}",
                lines=tuple(lines), upstream=grads[r], changes=tuple(changes))
    return grads, step


def _backward_step(v: Value, node: Node, nodes: tuple[Node, ...], grads: dict[int, float],
                   out: str) -> dict:
    """The chain rule through one node, applied to `grads` exactly as backward() does."""
    op = v.op
    upstream = grads[node.index]
    parents = v.parents
    locals_ = op.local_grads(v.data, *[p.data for p in parents])
    wrts = op.input_names(len(parents))
    names = [nodes[p].name for p in node.parents]
    formulas = op.formulas(*names)
    terms, changes = [], []
    where = "" if op.arity is None else (
        f": {op.expression(*wrts)} with " + ", ".join(f"{w} = {n}" for w, n in zip(wrts, names)))
    me = _d(node.name)
    lines = [f"{node.name} = {node.expression}    (op {op.name}{where})",
             f"upstream: ∂{out}/∂{me} = {fmt(upstream)}"]
    if len(parents) > _ELIDE:
        lines.append("local derivatives: " + ", ".join(
            f"∂/∂{w} = {f}" for w, f in op.notation.formula_summary(op.formula, wrts)))
    for k, parent in enumerate(parents):
        p = node.parents[k]
        name = names[k]
        local = locals_[k] if k < len(locals_) else None
        if local is None or not parent.requires_grad:
            terms.append(Term(p, wrts[k], formulas[k], local, None, None, None))
            lines.append(f"{name} is a constant: no gradient flows to it")
            continue
        contribution = upstream * local  # the very operations backward() performs
        before = grads[p]
        grads[p] = after = before + contribution
        terms.append(Term(p, wrts[k], formulas[k], local, contribution, before, after))
        changes.append(Change(p, "grad", before, after))
        lines.append(_chain_rule_line(out, me, name, upstream, formulas[k], local, contribution,
                                      before, after))
    return dict(kind="backward", phase="backward", node=node.index,
                title=f"backward through {node.name} = {node.expression}",
                lines=tuple(lines), upstream=upstream, terms=tuple(terms),
                changes=tuple(changes))


def _chain_rule_line(out: str, me: str, name: str, upstream: float, formula: str, local: float,
                     contribution: float, before: float, after: float) -> str:
    """`∂out/∂x += ∂out/∂v · ∂v/∂x = 0.5 · b = 0.5 · (-3) = -1.5    (x.grad: 0 → -1.5)`."""
    shown = formula if _is_atom(formula) else f"({formula})"
    numbers = "" if formula == fmt(local) else f" = {fmt(upstream)} · {_operand(local)}"
    return (f"∂{out}/∂{_d(name)} += ∂{out}/∂{me} · ∂{me}/∂{_d(name)} = {fmt(upstream)} · "
            f"{shown}{numbers} = {fmt(contribution)}    "
            f"({name}.grad: {fmt(before)} → {fmt(after)})")


def _done_step(nodes: tuple[Node, ...], grads: dict[int, float], out: str, root: int) -> dict:
    leaves = [n for n in nodes if n.kind == "input"]
    return dict(kind="done", phase="backward", node=root,
                title="done: every gradient is computed",
                lines=tuple(f"∂{out}/∂{_d(n.name)} = {fmt(grads.get(n.index))}" for n in leaves)
                or ("the output has no inputs that take a gradient",))


# ---- names and expressions ---------------------------------------------------------------------
def fmt(x: float | None) -> str:
    """A number as the players show it: 6 significant digits; "—" for not computed yet.

    Zero is "0" whatever its IEEE sign (0 · (-3) is -0.0 in floats, but "-0" only puzzles a
    learner); the HTML player still keeps the exact value, -0.0, in its tooltip."""
    if x is None:
        return "—"
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return "0" if x == 0 else f"{x:.6g}"


def _operand(x: float) -> str:
    """A number as a factor: negative numbers in parentheses."""
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _held_grad(v: Value, name: str) -> float | None:
    """The grad a leaf holds from an earlier backward(), which backward() adds to: a number
    (an int too), or a Value's number (left by create_graph=True); None when it holds none."""
    grad = v.grad
    if grad is None:
        return None
    if isinstance(grad, Value):
        return grad.data
    if isinstance(grad, numbers.Real):
        return float(grad)
    raise TypeError(f"{name}.grad holds a {type(grad).__name__} ({grad!r}); backprop_steps() "
                    "expects None, a number or a Value there")


def _name_of(v: Value, i: int) -> str:
    if v.label:
        return v.label
    if v.op is None and not v.requires_grad:
        return fmt(v.data)
    return f"v{i}"


def _is_atom(text: str) -> bool:
    return re.fullmatch(r"[\w.]+", text) is not None


def _d(name: str) -> str:
    """A name after ∂: in parentheses unless it is one word (`∂x`, `∂(h1.w·x+b)`)."""
    return name if _is_atom(name) else f"({name})"


def _names(names: list[str]) -> str:
    return ", ".join(names)


def _describe_nodes(order: list[Value], index: dict[int, int]) -> tuple[Node, ...]:
    nodes = []
    for i, v in enumerate(order):
        parents = tuple(index[id(p)] for p in v.parents)
        names = [_name_of(order[p], p) for p in parents]
        kind = "op" if v.op is not None else "input" if v.requires_grad else "constant"
        nodes.append(Node(
            index=i, id=f"v{i}", name=_name_of(v, i), label=v.label, kind=kind,
            op=v.op.name if v.op else None, symbol=v.op.symbol if v.op else "",
            expression=v.op.expression(*names, elide=_ELIDE) if v.op else "",
            parents=parents, data=v.data, requires_grad=v.requires_grad,
        ))
    return tuple(nodes)
