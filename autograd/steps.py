"""The forward and backward pass of a graph as a list of explained steps.

`backward()` applies the chain rule in a tight loop; a learner wants to watch it one node at a
time. `backprop_steps(root)` records the same pass as plain records: first the forward pass
(each node computed from its parents, so that "not computed yet" is visible), then the seed,
then one backward step per node, naming its op, its local derivative as a formula (from the op
table) and as a number, the upstream gradient, and what it adds to each parent's grad, before
and after. How a node reads (`x * w`, `-x`, `atan2(y, x)`, `w0·x0 + w1·x1 + b`) and what its
inputs are called (`a`, `b`, `w0`, `x0`) is its op record's notation (`Op.expression`,
`Op.input_names`); nothing here asks an op's name. Explanations write the real operands in the
op's formulas, never its `a` and `b` (which would clash with a learner's own `a` and `b`), and
then the numbers: `σ(z)·(1 - σ(z)) = 0.999089·(1 - 0.999089) = 0.000910`. Inside a module, names
are written after the module's path (`in layers.1.neurons.3: out = relu(z)`).

One pass, from the start. The steps explain one backward pass: every gradient is "not
computed" until its first contribution arrives, and each ∂out/∂x written is that pass's
derivative. A learner who ran `backward()` and then looks (micrograd's habit) sees the same
derivative `backward()` computed, not `.grad`, which adds every pass to what the leaves held:
seed 001's Alice network shows ∂L/∂w1 = 0.0215 whatever earlier passes left in `w1.grad` (the
start step says which leaves hold a grad, and that the steps leave it alone).

Both players (the terminal stepper and the HTML player) only show these records; they compute
nothing themselves. The records are built from what `backward()` itself uses: the op table's
`local_grads` and `topological_order(root, gradient_only=True)`, reversed. Each contribution is
`upstream * local` and each new grad is `before + contribution`, in backward()'s order, so
replaying the steps gives the grads `backward()` gives, bit for bit. Nothing here changes the
graph: `.grad` is left as it was.

What comes after the backward pass (an optimizer's update of each parameter, with its own
numbers) is explained by whoever does it and appended as `Afterwards` records:
`walk.then([...])` (nn's training timeline does this; see nn/updates.py).

Such explainers write numbers and names as the steps do, with the helpers here, which are
public for them (nn.updates, nn.recording, nn.timeline use them): `fmt` (a number as shown),
`operand` (a number as a factor: `(-3)`), `wrt` (a name after ∂), `short_name` (a name
inside its module), `count` (`3 steps`) and `few` (a list, cut short).
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from .graph import topological_order
from .groups import is_parameter
from .value import Value, _as_float

_ELIDE = 6  # n-ary nodes with more inputs than this are written with "…" in expressions
_LISTED = 12  # the done step lists this many derivatives; the table has every one


@dataclass(frozen=True)
class Node:
    """One Value of the graph, as the players show it."""

    index: int  # position in `topological_order(root)`: parents before children
    id: str  # "v{index}": the same id the drawing gives the node
    name: str  # the label, else the number for an unnamed constant, else the id
    label: str
    kind: str  # "input", "param" (a leaf with a scope: nn's parameters), "constant" or "op"
    op: str | None  # the op's name ("mul"), None for leaves
    symbol: str  # the op's symbol ("*"), "" for leaves
    expression: str  # how it is computed, in its parents' names: "x * w"; "" for leaves
    parents: tuple[int, ...]
    data: float
    requires_grad: bool
    module: str = ""  # the path of the scope it was made in ("layers.0.neurons.3"), "" if none


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
    before: float | None  # the parent's grad so far (None: this is its first contribution)
    after: float | None


@dataclass(frozen=True)
class BackpropStep:
    """One step of the walk-through, with its explanation in words and numbers."""

    index: int
    kind: str  # "start", "forward", "seed", "backward", "done"; afterwards: "update", ...
    phase: str  # "forward", "backward" or "update"
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

    def then(self, more: Iterable[Afterwards]) -> Steps:
        """These steps, followed by `more`: what happens after the backward pass (an optimizer
        moving the parameters, the rest of a batch adding its share to their grads), explained
        by whoever did it. Each change's "before" is the number the steps so far end with."""
        index = {id(v): i for i, v in enumerate(topological_order(self.root))}
        state = self.state(len(self._steps) - 1)
        data, grad = list(state.data), list(state.grad)
        steps = list(self._steps)
        for extra in more:
            if not isinstance(extra, Afterwards):
                raise TypeError(f"then() takes autograd.Afterwards records, got "
                                f"{type(extra).__name__}")
            changes = []
            for value, field, after in extra.sets:
                i = _node_of(value, index, "then()")
                now = data if field == "data" else grad
                changes.append(Change(i, field, now[i], float(after)))
                now[i] = float(after)
            node = None if extra.node is None else _node_of(extra.node, index, "then()")
            steps.append(BackpropStep(index=len(steps), kind=extra.kind, phase=extra.phase,
                                      node=node, title=extra.title, lines=extra.lines,
                                      changes=tuple(changes)))
        return Steps(self.root, self.nodes, tuple(steps), self.initial)

    def __repr__(self) -> str:
        return f"<Steps: {len(self.nodes)} nodes, {len(self._steps)} steps>"


@dataclass(frozen=True)
class Afterwards:
    """A step that follows the backward pass: what it sets, and why in words and numbers.

    `sets` holds (node, field, number) triples: `(w1, "data", 0.997853)` for an update, or
    `(w1, "grad", 0.0323)` for a grad completed outside the graph shown. `kind` "update" is one
    parameter's update (the HTML player makes a closed group's updates one step); `phase` is
    how the players label it ("update", or "backward" for more gradient)."""

    title: str
    lines: tuple[str, ...]
    sets: tuple[tuple[Value, str, float], ...] = ()
    node: Value | None = None  # the node the step is about (highlighted), if one
    kind: str = "update"
    phase: str = "update"

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not all(isinstance(x, str) for x in self.lines):
            raise TypeError("Afterwards needs a title and lines that are strings")
        if self.phase not in ("backward", "update"):
            raise ValueError(f"Afterwards(phase=...) is 'backward' or 'update', got "
                             f"{self.phase!r}")
        for entry in self.sets:
            if (not isinstance(entry, tuple) or len(entry) != 3 or entry[1] not in ("data", "grad")
                    or isinstance(entry[2], bool) or not isinstance(entry[2], numbers.Real)):
                raise ValueError(f"Afterwards(sets=...) holds (node, 'data' or 'grad', number) "
                                 f"triples, got {entry!r}")


def _node_of(value: Value, index: dict[int, int], where: str) -> int:
    if id(value) not in index:
        name = value.label if isinstance(value, Value) and value.label else repr(value)
        raise ValueError(f"{where}: {name} is not a node of this graph")
    return index[id(value)]


def backprop_steps(root: Value, grad: float = 1.0, *,
                   params: Iterable[Value] | None = None) -> Steps:
    """The forward and backward pass of the graph behind `root`, as explained steps.

    `params`: the leaves that are parameters (default: leaves with a scope, as nn's); the
    other leaves that take a gradient are inputs, wherever they were made.

    The backward steps do what one `root.backward(grad)` does from fresh grads, in the same
    order and with the same floats, so their numbers are the derivatives (whatever `.grad`
    holds from earlier passes); nothing is changed: read the results from the steps, or call
    `backward()` yourself.

        >>> import autograd
        >>> x = autograd.Value(2.0, "x"); w = autograd.Value(-3.0, "w")
        >>> walk = autograd.backprop_steps(x * w)
        >>> [s.kind for s in walk]
        ['start', 'forward', 'seed', 'backward', 'done']
        >>> print(walk[3].lines[2])
        ∂v2/∂x += ∂v2/∂v2 · ∂v2/∂x = 1 · w = 1 · (-3) = -3    (so far: not computed → -3)
    """
    seed = _checked(root, grad)
    order = topological_order(root)
    index = {id(v): i for i, v in enumerate(order)}
    nodes = _describe_nodes(order, index, None if params is None else {id(p) for p in params})
    initial = State(tuple(v.data if v.op is None else None for v in order),
                    (None,) * len(order))
    held = _held(order, nodes)
    gradient_order = topological_order(root, gradient_only=True)
    out = wrt(nodes[-1].name)
    grads, seed_step = _seed_step(index[id(root)], seed, out)
    fields = [_start_step(nodes, held, out), *_forward_steps(order, nodes), seed_step]
    fields += [_backward_step(v, nodes[index[id(v)]], nodes, grads, out)
               for v in reversed(gradient_order) if v.op is not None]
    fields.append(_done_step(nodes, grads, out, index[id(root)], held))
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


def _held(order: list[Value], nodes: tuple[Node, ...]) -> list[str]:
    """The leaves that hold a grad from an earlier backward() (which the steps leave alone)."""
    held = []
    for v, node in zip(order, nodes):
        if v.op is None and v.requires_grad and v.grad is not None:
            if not isinstance(v.grad, (numbers.Real, Value)):
                raise TypeError(f"{node.name}.grad holds a {type(v.grad).__name__} "
                                f"({v.grad!r}); backprop_steps() expects None, a number or a "
                                "Value there")
            held.append(node.name)
    return held


def _start_step(nodes: tuple[Node, ...], held: list[str], out: str) -> dict:
    inputs = [n.name for n in nodes if n.kind == "input"]
    params = [n.name for n in nodes if n.kind == "param"]
    computed = sum(n.kind == "op" for n in nodes)
    lines = [f"inputs: {few(inputs) or 'none'}"]
    if params:
        lines.append(f"parameters: {few(params)}")
    lines.append(f"the forward pass computes {count(computed, 'node')}, parents first; then "
                 "the backward pass sends gradients back")
    if held:
        lines.append(f"{few(held)} already hold{'s' * (len(held) == 1)} a grad from an "
                     f"earlier backward(): these steps show one backward pass of their own, from "
                     f"the start, so each ∂{out}/∂ below is the derivative (.grad is left as it "
                     "is; backward() would add to it)")
    return dict(kind="start", phase="forward", node=None,
                title="start: the inputs are known, nothing else is computed yet",
                lines=tuple(lines))


def _forward_steps(order: list[Value], nodes: tuple[Node, ...]) -> Iterator[dict]:
    """One step per computed node, parents first: its expression, then in numbers."""
    for node in nodes:
        if node.kind != "op":
            continue
        op = order[node.index].op
        short = _shortener(node.module)
        me = short(node.name)
        expression = op.expression(*[short(nodes[p].name) for p in node.parents], elide=_ELIDE)
        numbers = op.expression(*[fmt(order[p].data) for p in node.parents], elide=_ELIDE)
        indent = " " * len(_where(node.module) + me)
        result = f"{indent} = {numbers} = {fmt(node.data)}" if numbers != fmt(node.data) \
            else f"{indent} = {numbers}"
        yield dict(kind="forward", phase="forward", node=node.index,
                   title=(f"forward {_where(node.module)}" if node.module else "forward: ")
                   + f"{me} = {expression}",
                   lines=(f"{_where(node.module)}{me} = {expression}", result),
                   changes=(Change(node.index, "data", None, node.data),))


def _seed_step(root: int, seed: float, out: str) -> tuple[dict[int, float], dict]:
    """What backward() does before its loop (see value._backpropagate), from fresh grads: the
    root's grad is 0 + the seed; every other grad is not computed until its first contribution
    arrives. Returns the grads so far (only the root's) and the step."""
    grads = {root: 0.0 + seed}  # as backward(): the root's grad starts at 0, then adds the seed
    lines = (f"∂{out}/∂{out} = {fmt(seed)}: the output's gradient with respect to itself",
             "every other gradient is not computed yet: it arrives from the nodes that use it, "
             "one contribution per use, children first")
    step = dict(kind="seed", phase="backward", node=root,
                title=f"seed: ∂{out}/∂{out} = {fmt(grads[root])}", lines=lines,
                upstream=grads[root], changes=(Change(root, "grad", None, grads[root]),))
    return grads, step


def _backward_step(v: Value, node: Node, nodes: tuple[Node, ...], grads: dict[int, float],
                   out: str) -> dict:
    """The chain rule through one node, applied to `grads` exactly as backward() does."""
    op = v.op
    upstream = grads[node.index]
    parents = v.parents
    locals_ = op.local_grads(v.data, *[p.data for p in parents])
    wrts = op.input_names(len(parents))
    short = _shortener(node.module)
    names = [short(nodes[p].name) for p in node.parents]
    formulas = op.formulas(*names)
    written = _written(op, wrts, formulas, names, v.data, [p.data for p in parents])
    terms, changes = [], []
    me = wrt(short(node.name))
    lines = [_where(node.module) + f"{short(node.name)} = {op.expression(*names, elide=_ELIDE)}"
             f"    (op {op.name})",
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
        before = grads.get(p)
        # backward() starts every grad at 0 and adds; "not computed" until this first one
        grads[p] = after = (0.0 if before is None else before) + contribution
        terms.append(Term(p, wrts[k], formulas[k], local, contribution, before, after))
        changes.append(Change(p, "grad", before, after))
        lines.append(_chain_rule_line(out, me, name, upstream, written[k], local, contribution,
                                      before, after))
    return dict(kind="backward", phase="backward", node=node.index,
                title=f"backward through {node.module + ': ' if node.module else ''}"
                      f"{short(node.name)} = {op.expression(*names, elide=_ELIDE)}",
                lines=tuple(lines), upstream=upstream, terms=tuple(terms),
                changes=tuple(changes))


def _written(op, wrts: list[str], formulas: list[str], names: list[str], out: float,
             inputs: list[float]) -> list[list[str]]:
    """Each input's local derivative as written: its formula with the real operands in it,
    then with their numbers (the op's own result, `tanh(z)` in `1 - tanh(z)²`, by its number
    too): `["σ(z)·(1 - σ(z))", "0.999089·(1 - 0.999089)"]`. Everything shared by the inputs is
    made once, so a node of n inputs (an l2 penalty's dot of every parameter) costs O(n)."""
    values = [operand(x) for x in inputs]
    templates = op.formulas(*values)
    result = op.expression(*wrts)
    symbolic_names, numeric_names = dict(zip(wrts, names)), dict(zip(wrts, values))
    written = []
    for formula, template in zip(formulas, templates):
        symbolic = _substitute(formula, symbolic_names)
        if result in template and not _is_atom(result):
            template = template.replace(result, operand(out))
        numeric = _substitute(template, numeric_names)
        written.append([symbolic] + ([numeric] if numeric != symbolic else []))
    return written


_TOKEN = re.compile(r"(?<![A-Za-z0-9_.])[A-Za-z0-9_]+(?![A-Za-z0-9_.])")


def _substitute(text: str, names: dict[str, str]) -> str:
    """`text` with each whole-word placeholder (`a`, `b`, `x1`) replaced at once. Words end at
    ASCII edges: "a²" is a then a superscript (which \\w would count as a digit), and "0.5" is
    one number, not the words 0 and 5."""
    if not names:
        return text
    return _TOKEN.sub(lambda m: names.get(m.group(0), m.group(0)), text)


def _chain_rule_line(out: str, me: str, name: str, upstream: float, written: list[str],
                     local: float, contribution: float, before: float | None,
                     after: float) -> str:
    """`∂out/∂x += ∂out/∂v · ∂v/∂x = 0.5 · w = 0.5 · (-3) = -1.5    (so far: 0.2 → -1.3)`."""
    shown = [_factor(f) for f in written]
    steps = [f"{fmt(upstream)} · {f}" for f in shown]
    if written[-1] != fmt(local) and f"{fmt(upstream)} · {operand(local)}" not in steps:
        steps.append(f"{fmt(upstream)} · {operand(local)}")
    so_far = "not computed" if before is None else fmt(before)
    return (f"∂{out}/∂{wrt(name)} += ∂{out}/∂{me} · ∂{me}/∂{wrt(name)} = {' = '.join(steps)} = "
            f"{fmt(contribution)}    (so far: {so_far} → {fmt(after)})")


def _done_step(nodes: tuple[Node, ...], grads: dict[int, float], out: str, root: int,
               held: list[str]) -> dict:
    leaves = [n for n in nodes if n.kind in ("input", "param")]
    lines = [f"∂{out}/∂{wrt(n.name)} = {fmt(grads.get(n.index))}" for n in leaves[:_LISTED]]
    if len(leaves) > _LISTED:
        lines.append(f"… and {len(leaves) - _LISTED} more: the table lists every one")
    if held:
        lines.append(f".grad is left as it was: {few(held)} still hold{'s' * (len(held) == 1)} "
                     "what earlier backward() calls left (backward() would add these to it)")
    return dict(kind="done", phase="backward", node=root,
                title="done: every gradient is computed",
                lines=tuple(lines) or ("the output has no inputs that take a gradient",))


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


def _factor(text: str) -> str:
    """A formula as a factor: in parentheses unless it is one word, one number or one call
    (`w`, `(-3)`, `0.5`, `σ(z)`)."""
    if _is_atom(text) or re.fullmatch(r"\(-[\w.+-]+\)|-?[\d.]+(e[+-]?\d+)?|[^\W\d]\w*\([^()]*\)",
                                      text):
        return text
    return f"({text})"


def operand(x: float) -> str:
    """A number as a factor: negative numbers in parentheses (`0.1 · (-2.43)`)."""
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def count(n: int, noun: str) -> str:
    """`1 step`, `3 steps`: a number and its noun (plural by an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _name_of(v: Value, i: int) -> str:
    if v.label:
        return v.label
    if v.op is None and not v.requires_grad:
        return fmt(v.data)
    return f"v{i}"


def _is_atom(text: str) -> bool:
    return re.fullmatch(r"[\w.]+", text) is not None


def wrt(name: str) -> str:
    """A name as written after ∂: in parentheses unless it is one word (`∂x`, `∂w.1`,
    `∂(h1.w·x+b)`)."""
    return name if _is_atom(name) else f"({name})"


def few(names: Sequence, shown: int = 6) -> str:
    """`a, b, c`; past `shown` names, the first ones and how many there are in all (names may
    be numbers: step numbers)."""
    names = [str(x) for x in names]
    if len(names) <= shown + 1:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f", … ({len(names)} in all)"


def _where(module: str) -> str:
    """`in layers.1.neurons.3: ` before what a step says, for a node made in a module."""
    return f"in {module}: " if module else ""


def short_name(name: str, module: str) -> str:
    """`name` as written inside `module`: a name made there after the module's path (`w.0`
    for `layers.0.neurons.3.w.0` inside `layers.0.neurons.3`), any other name in full."""
    prefix = module + "."
    return name[len(prefix):] if module and name.startswith(prefix) and \
        len(name) > len(prefix) else name


def _shortener(module: str):
    """`short_name` inside `module`, as a function of the name."""
    return lambda name: short_name(name, module)


def _describe_nodes(order: list[Value], index: dict[int, int],
                    marked: set[int] | None) -> tuple[Node, ...]:
    nodes = []
    for i, v in enumerate(order):
        parents = tuple(index[id(p)] for p in v.parents)
        names = [_name_of(order[p], p) for p in parents]
        kind = ("op" if v.op is not None else "constant" if not v.requires_grad
                else "param" if is_parameter(v, marked) else "input")
        nodes.append(Node(
            index=i, id=f"v{i}", name=_name_of(v, i), label=v.label, kind=kind,
            op=v.op.name if v.op else None, symbol=v.op.symbol if v.op else "",
            expression=v.op.expression(*names, elide=_ELIDE) if v.op else "",
            parents=parents, data=v.data, requires_grad=v.requires_grad,
            module="" if v.scope is None else v.scope.path,
        ))
    return tuple(nodes)
