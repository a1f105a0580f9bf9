"""`Value`: one scalar node of a computation graph, and the backward pass over it.

A Value holds its number (`data`), its gradient once a backward pass has reached it (`grad`,
`None` before: "not computed yet"), the Values it was computed from (`parents`, in order), the
`op` record that made it (see `ops.py`), a `label` for people, and the naming `scope` it was
made in. Operators and methods build new nodes; the derivatives live in the op table, not here.

Memory: a node keeps references to its parents and to an op record, never to a closure that
refers back to the node itself. A graph has no reference cycles, so dropping the last reference
to its output frees it at once through reference counting, with no work for the cyclic garbage
collector.
"""
from __future__ import annotations

import copy
import copyreg
import inspect
import math
import numbers
import sys
import threading
import weakref
from typing import Callable, Iterable, Sequence

import numpy as np

from . import ops
from .graph import topological_order
from .modes import _state, paused_gc
from .ops import Call, Infix, Op, Power, Prefix, Variadic, WeightedSum


class Value:
    """A scalar that remembers how it was computed, so that gradients can flow back to it."""

    __slots__ = ("data", "grad", "parents", "op", "label", "requires_grad", "scope")

    # numpy: let `np.float64(2) * value` reach Value.__rmul__ instead of making an object array.
    __array_ufunc__ = None

    def __init__(self, data: float, label: str = "", requires_grad: bool = True) -> None:
        self.data = number = _as_float(data, "Value()")
        self.grad: float | Value | None = None
        self.parents: tuple[Value, ...] = ()
        self.op: Op | None = None
        if not isinstance(label, str):
            raise TypeError(f"Value(label=...) needs a string, got {_show(label)}")
        self.label = label
        self.requires_grad = bool(requires_grad)
        self.scope = _state.scope
        if _state.anomaly and not math.isfinite(number):
            raise FloatingPointError(f"detect_anomaly: Value({number}) was created{_named(self)}")

    # ---- arithmetic: each builds one node whose op comes from the table --------------------
    # (`__add__`, `__mul__`, ..., `__neg__`, `__abs__` and `tanh`, `exp`, ... are made from the
    # table below; `**` picks between the table's two powers.)
    def __pos__(self): return self

    def __pow__(self, exponent, modulo=None):
        if modulo is not None:
            raise TypeError("Value ** exponent does not take a modulo")
        return _power(self, exponent)

    def __rpow__(self, base):
        return _power(base, self)

    # ---- comparisons read .data and return a bool --------------------------------------------
    # Against anything but a Value or a real number they return NotImplemented, so Python's
    # TypeError names both types ("'<' not supported between instances of 'Value' and 'str'").
    def __lt__(self, other):
        other = _data_of(other)
        return NotImplemented if other is NotImplemented else self.data < other

    def __le__(self, other):
        other = _data_of(other)
        return NotImplemented if other is NotImplemented else self.data <= other

    def __gt__(self, other):
        other = _data_of(other)
        return NotImplemented if other is NotImplemented else self.data > other

    def __ge__(self, other):
        other = _data_of(other)
        return NotImplemented if other is NotImplemented else self.data >= other

    def __eq__(self, other):
        # Against a number: compare the numbers. Two Values are equal only if they are the
        # same node, so that `in`, `list.index` and dicts of Values mean what they say.
        if isinstance(other, Value):
            return self is other
        if isinstance(other, numbers.Real):
            return self.data == other
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = object.__hash__

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:  # printing is not deciding: the slot, also while tracing
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={_slot_data(self)!r}, grad={self.grad!r}{label})"

    # ---- copy and pickle (see `_taken_apart`) ---------------------------------------------------
    def __reduce_ex__(self, protocol: int):
        return copyreg.__newobj__, (type(self),), _taken_apart(self)

    def __setstate__(self, state: tuple) -> None:
        (_, self.data, self.grad, self.parents, self.op, self.label, self.requires_grad,
         self.scope, later) = state
        for node, grad in later:
            node.grad = grad

    def __copy__(self) -> Value:
        """A new node with this one's number, grad, parents, op, label and scope."""
        node = _new(type(self))
        for name in Value.__slots__:
            setattr(node, name, getattr(self, name))
        return node

    def __deepcopy__(self, memo: dict) -> Value:
        """A copy of the whole graph behind this Value, leaves included, independent of it:
        made parents first, without recursion. Nodes this deepcopy has copied already (a
        model's parameters copied with it) are reused, so what is shared stays shared."""
        later = []
        for node in topological_order(self, placed=_Copied(memo)):
            twin = _new(type(node))
            twin.data, twin.grad, twin.op = node.data, node.grad, node.op
            twin.parents = tuple([memo[id(parent)] for parent in node.parents])
            twin.label, twin.requires_grad, twin.scope = node.label, node.requires_grad, node.scope
            memo[id(node)] = twin
            if isinstance(node.grad, Value):  # create_graph: built from nodes copied later
                later.append((twin, node.grad))
        for twin, grad in later:
            twin.grad = copy.deepcopy(grad, memo)
        return memo[id(self)]

    # ---- graph --------------------------------------------------------------------------------
    @property
    def is_leaf(self) -> bool:
        """True for Values made directly (inputs, parameters, constants), not by an op."""
        return self.op is None

    def detach(self) -> Value:
        """The same number as a new constant: gradients do not flow through it."""
        return Value(self.data, self.label, requires_grad=False)

    def backward(self, grad: float | Value = 1.0, create_graph: bool = False) -> None:
        """Fill in `.grad` of every node this Value depends on, by the chain rule.

        The walk follows `topological_order` (iterative, deterministic). Conventions, as in
        PyTorch: the grads of intermediate nodes are reset first; leaves *add* what they
        receive, so calling `backward()` twice doubles their grads (clear them with
        `zero_grad`); a node used twice receives the sum over both paths.

        Threads: backward passes run one at a time (a process-wide lock), so passes that
        threads start at once over graphs sharing nodes are each whole and correct. A leaf
        receives every pass's contributions, none lost; an intermediate node's `.grad` is what
        the last pass that went through it gave it, never a mix of two passes. Read grads once
        the passes that write them have returned (join the threads): a pass still running may
        be part-way. `autograd.gradients` takes no lock and touches no `.grad`.

        With `create_graph=True` every `.grad` becomes a Value built from the same partials, so
        that gradients can be differentiated again. Such a grad refers back to the graph that
        holds it (a reference cycle, as in PyTorch); `autograd.grad` and `autograd.gradients`
        return the grads instead of storing them, and leave no cycle.
        """
        if not self.requires_grad:
            raise RuntimeError(
                f"backward() on a Value that needs no gradient{_named(self)}: it is a constant, "
                "a detach()ed value, or was made under no_grad(), so no graph leads to it"
            )
        if isinstance(grad, Value):
            if not create_graph:
                grad = grad.data
        else:
            grad = _as_float(grad, "backward(grad=...)")
            if create_graph:
                grad = Value(grad, requires_grad=False)
        with paused_gc():
            order = topological_order(self, gradient_only=True)
            with _passes:
                _one_pass(order, self, grad, create_graph)


# ---- the operators, methods and functions, made from the op table ----------------------------
# One small function per op (not per node): it keeps the op's forward at hand, so that building
# a node costs one call to the forward and one to `_node`. They are made once, when a record
# joins the table (`ops.follow` below), from what its notation says.
def _unary_method(op: Op):
    forward = op.forward

    def method(self: Value) -> Value:
        try:
            data = forward(self.data)
        except (ArithmeticError, ValueError):
            data = op.evaluate(self.data)
        except _Unreadable as guard:  # a traced function's input: see _around
            return _around(guard, op, (self,))
        return _node(op, (self,), data, self.requires_grad)

    method.__name__ = op.name
    method.__doc__ = f"{op.symbol}(self), with d/dself = {op.formula[0]}."
    return method


def _binary_method(op: Op, reflected: bool):
    """`self <op> other`, or `other <op> self` when `reflected`; numbers become constants."""
    forward = op.forward

    def method(self: Value, other) -> Value:
        if not isinstance(other, Value):
            other = _constant(other)
            if other is None:
                return NotImplemented
        a, b = (other, self) if reflected else (self, other)
        try:
            data = forward(a.data, b.data)
        except (ArithmeticError, ValueError):
            data = op.evaluate(a.data, b.data)
        except _Unreadable as guard:  # a traced function's input: see _around
            return _around(guard, op, (a, b))
        return _node(op, (a, b), data, a.requires_grad or b.requires_grad)

    return method


def _method(op: Op):
    """`self.name(other, ...)` for a function of several inputs: self is the first input."""
    where = f"Value.{op.name}()"

    def method(self: Value, *others) -> Value:
        if len(others) != op.arity - 1:
            raise TypeError(f"{where} takes {op.arity - 1} more input(s) after the Value, got "
                            f"{len(others)}")
        return _apply(op, (self, *(_as_value(x, where) for x in others)))

    method.__name__ = op.name
    method.__doc__ = f"{op.expression(*op.input_names(op.arity))}, with self as {op.input_names(1)[0]}."
    return method


def _value_attributes(op: Op) -> dict:
    """What `op`'s notation puts on Value, by attribute name: an operator's special methods
    (`__add__` and `__radd__`, `__neg__`), a function's method (`tanh`, and `__abs__` for abs).
    Powers share `__pow__` (see `_power`); n-ary ops are functions only (`autograd.sum`)."""
    notation = op.notation
    if isinstance(notation, Infix):
        return {notation.dunder: _binary_method(op, reflected=False),
                notation.reflected: _binary_method(op, reflected=True)}
    if isinstance(notation, Prefix):
        return {notation.dunder: _unary_method(op)}
    if isinstance(notation, Call):
        method = _unary_method(op) if notation.arity == 1 else _method(op)
        return {op.name: method} | ({notation.dunder: method} if notation.dunder else {})
    return {}


_POWERS: dict[bool, Op] = {}  # the Power records, by whether the exponent is a constant
_BOUND: dict[str, tuple[str, ...]] = {}  # op name -> the Value attributes it was given


def _bind(op: Op) -> None:
    """Give Value what `op`'s notation says it has, refusing names Value has already."""
    attributes = _value_attributes(op)
    taken = [name for name in attributes if hasattr(Value, name)]
    if taken:
        raise ValueError(f"op {op.name!r} cannot become Value.{taken[0]}: Value has it already")
    if isinstance(op.notation, Power):
        constant = op.notation.constant_exponent
        if constant in _POWERS:
            raise ValueError(f"op {op.name!r}: ** with {'a constant' if constant else 'a Value'} "
                             f"exponent is op {_POWERS[constant].name!r} already")
        _POWERS[constant] = op
    for name, attribute in attributes.items():
        if not attribute.__qualname__.startswith("Value."):  # abs and __abs__ share a method
            attribute.__qualname__ = f"Value.{name}"  # where pickle finds it (nn keeps Value.tanh)
        setattr(Value, name, attribute)
    _BOUND[op.name] = tuple(attributes)


def _unbind(op: Op) -> None:
    for name in _BOUND.pop(op.name, ()):
        delattr(Value, name)
    if isinstance(op.notation, Power):
        _POWERS.pop(op.notation.constant_exponent, None)


def function_for(op: Op) -> Callable | None:
    """`autograd.<name>` for `op`, called as its notation says; None for an operator."""
    notation = op.notation
    if isinstance(notation, Call):
        function = _call(op)
    elif isinstance(notation, Variadic):
        function = _variadic(op)
    elif isinstance(notation, WeightedSum):
        function = _weighted_sum(op)
    else:
        return None
    function.__name__ = function.__qualname__ = op.name
    function.__module__ = "autograd"  # where it is published, and where pickle finds it
    return function


def _call(op: Op) -> Callable:
    """A function of `op.arity` inputs: a node when any input is a Value (numbers among them
    become constants), a float (IEEE results) when all are numbers."""
    where = f"autograd.{op.name}()"
    names = op.input_names(op.arity)
    if op.arity == 1:
        def function(x):
            if isinstance(x, Value):
                return _apply(op, (x,))
            return op.evaluate(_as_float(x, where))

        function.__doc__ = (f"{op.symbol}(x) for a Value (a new node) or a number (a float). "
                            f"d/dx = {op.formula[0]}. {op.doc}").rstrip()
        return function

    def function(*inputs):
        if len(inputs) != op.arity:
            raise TypeError(f"{where} takes {op.arity} inputs ({', '.join(names)}), got {len(inputs)}")
        if any(isinstance(x, Value) for x in inputs):
            return _apply(op, tuple(_as_value(x, where) for x in inputs))
        return op.evaluate(*(_as_float(x, where) for x in inputs))

    function.__signature__ = inspect.Signature(
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_ONLY) for name in names])
    slopes = ", ".join(f"d/d{n} = {f}" for n, f in zip(names, op.formula))
    function.__doc__ = (f"{op.expression(*names)} for Values (a new node; numbers among them "
                        f"become constants) or numbers (a float). {slopes}. {op.doc}").rstrip()
    return function


def _variadic(op: Op) -> Callable:
    where = f"{op.name}()"

    def function(values: Iterable[Value | float]) -> Value:
        terms = tuple(_as_value(v, where) for v in values)
        if not terms:
            raise ValueError(f"{where} needs at least one value, got an empty sequence")
        return _apply(op, terms)

    function.__doc__ = f"{op.doc} Numbers become constants.".lstrip()
    return function


def _weighted_sum(op: Op) -> Callable:
    where = f"{op.name}()"
    in_weights, in_inputs, in_bias = f"{where} weights", f"{where} inputs", f"{where} bias"

    def function(weights: Sequence[Value | float], inputs: Sequence[Value | float],
                 bias: Value | float | None = None) -> Value:
        weights, inputs = _items(weights, in_weights), _items(inputs, in_inputs)
        if len(weights) != len(inputs):
            raise ValueError(
                f"{where} needs as many weights as inputs, got {len(weights)} weights and "
                f"{len(inputs)} inputs"
            )
        if not weights:
            raise ValueError(f"{where} needs at least one weight and one input")
        parents = [_as_value(w, in_weights) for w in weights]
        parents += [_as_value(x, in_inputs) for x in inputs]
        if bias is not None:
            parents.append(_as_value(bias, in_bias))
        return _apply(op, tuple(parents))

    function.__doc__ = f"{op.doc} Numbers become constants.".lstrip()
    return function


# ---- making nodes ---------------------------------------------------------------------------
_new = object.__new__


def _node(op: Op | None, parents: tuple[Value, ...], data: float, requires_grad: bool) -> Value:
    """A new node. The hot path: no validation, slots set directly."""
    node = _new(Value)
    node.data = data
    node.grad = None
    node.parents = parents
    node.op = op
    node.label = ""
    node.requires_grad = requires_grad
    node.scope = _state.scope
    if _state.special:
        _careful(node)
    return node


def _careful(node: Value) -> None:
    """The path under no_grad() and detect_anomaly()."""
    if not _state.grad_enabled:
        node.parents = ()
        node.op = None
        node.requires_grad = False
    elif _state.anomaly and not math.isfinite(node.data):
        inputs = ", ".join(f"{_describe(p)}={_slot_data(p)!r}" for p in node.parents)
        raise FloatingPointError(
            f"detect_anomaly: {node.op.name} gave {node.data} from {inputs}"
        )


class _Unreadable(Exception):
    """Raised by `.data` of a Value whose number no code may read: while a function is traced,
    its inputs, and the parameters and nodes computed from them (tracing.py). The engine itself
    needs the number to make a node from it, so where it reads its parents' numbers it catches
    this and reads the slots (`_around`). A try costs nothing until something is raised: eager
    code pays nothing."""

    def derive(self, node: Value, op: Op, parents: tuple[Value, ...]) -> Value:
        """What a node made from the guarded Value becomes: here, an ordinary node."""
        return node


_slot_data = Value.data.__get__  # the number in a Value's slot, under any subclass's property


def _around(guard: _Unreadable, op: Op, parents: tuple[Value, ...]) -> Value:
    """A node made from a parent whose number is guarded: the numbers read from the slots, the
    node made as any other, then handed to the guard, which may guard it in turn (a node
    computed from a traced input is as unreadable as the input) or refuse it."""
    node = _node(op, parents, op.evaluate(*[_slot_data(p) for p in parents]),
                 any(p.requires_grad for p in parents))
    return guard.derive(node, op, parents)


def _apply(op: Op, parents: tuple[Value, ...]) -> Value:
    try:
        numbers = [p.data for p in parents]
    except _Unreadable as guard:
        return _around(guard, op, parents)
    data = op.evaluate(*numbers)
    requires_grad = False
    for p in parents:
        if p.requires_grad:
            requires_grad = True
            break
    return _node(op, parents, data, requires_grad)


def _power(base, exponent):
    """base ** exponent, by the table's Power record for a constant exponent (`pow`) or for
    one that takes a gradient (`powv`)."""
    base = base if isinstance(base, Value) else _constant(base)
    exponent = exponent if isinstance(exponent, Value) else _constant(exponent)
    if base is None or exponent is None:
        return NotImplemented
    constant = not exponent.requires_grad
    op = _POWERS.get(constant)
    if op is None:
        kind = "a constant exponent" if constant else "an exponent that takes a gradient"
        raise TypeError(f"the op table has no ** for {kind}")
    return _apply(op, (base, exponent))


def _constant(x) -> Value | None:
    """A Python or numpy real number as a constant node; None for anything else."""
    if (x.__class__ is float or x.__class__ is int) and not _state.special:
        try:
            return _node(None, (), float(x), False)  # the common case, without Value()'s checks
        except OverflowError:
            raise _too_large(x, "a number used as a constant") from None
    if isinstance(x, numbers.Real) and not isinstance(x, np.ndarray):
        return Value(_to_float(x, "a number used as a constant"), requires_grad=False)
    return None


# ---- the backward pass ------------------------------------------------------------------------
# Why one pass at a time, and the grads in the nodes. A pass writes `.grad` of every node it
# visits: intermediate nodes are reset, then collect one contribution per use; leaves add. Two
# passes at once through a shared node would reset and add into each other's sums (a thread
# switch between two nodes of a pass is enough), and a leaf's `grad += c` is a read and a
# write that free-threaded Python may interleave with another. Two ways out: a lock around the
# pass, or each pass summing into a dict of its own and storing the sums at the end. Measured
# on this machine (2 shared CPUs, Python 3.11), best of 9 backward passes, same graphs:
#                                  moons step (MLP 2-16-16-1, 100 samples)   chain of 10^5 tanh
#   grads in the nodes, in a lock        16.4 ms                               57.2 ms
#   a dict per pass, stored at the end   20.2 ms  (+23%)                       72.6 ms (+27%)
# The lock costs one acquire per pass: best of 15 against main, moons 16.24 -> 16.28 ms, the
# chain 59.7 -> 60.1 ms, a 5-node graph 7.8 -> 8.3 microseconds. Under the GIL two
# threads never run Python code at once, so serialising passes costs no throughput; the dict
# would cost every single-threaded user a quarter. So `backward()` holds `_passes` for its
# whole pass, and `gradients()`, which must never write a `.grad` (it used to save, reset and
# restore them, wiping what other threads' passes added meanwhile), is the one user of the
# dict (`chain_rule`), with no lock: it runs alongside passes, and inside them.
_passes = threading.RLock()  # re-entrant: a pass begun inside a pass in the same thread (an
# op's partials or a signal handler calling backward()) gets in, is refused by `_one_pass`,
# and does not wait for itself for ever
_passing = False  # a pass is running; only the thread holding `_passes` reads or writes it


def _one_pass(order: list[Value], root: Value, seed, create_graph: bool) -> None:
    """One backward pass, its grads stored in the nodes; the caller holds `_passes`."""
    global _passing
    if _passing:
        raise RuntimeError(
            "backward() was called during a backward pass in the same thread (from an op's "
            "partials or a signal handler): use autograd.gradients() there"
        )
    _passing = True
    try:
        if create_graph:
            _store(order, chain_rule(order, root, seed, create_graph=True))
        else:
            _backpropagate(order, root, seed)
    finally:
        _passing = False


def _backpropagate(order: list[Value], root: Value, seed: float) -> None:
    """The chain rule on floats over `order` (parents first), from `root` seeded with `seed`,
    with the grads in the nodes: intermediate nodes restart at 0, leaves keep what they had.

    Each node, taken children-first, sends `grad * local partial` to each of its parents; the
    partials come from the op table.
    """
    for node in order:
        if node.op is not None or node.grad is None:
            node.grad = 0.0
    root.grad = seed if root.grad is None else root.grad + seed
    # Nodes with one or two parents (all but sum and dot) are spelled out: unpacking the
    # parents and indexing the partials costs a third of building a list of parent data and
    # zipping (measured on a 10^5-node graph: ~0.5 against ~1.5 microseconds per node).
    # The partials come from the table; op.local_grads redoes them IEEE-safely where Python raises.
    check = _state.anomaly
    for node in reversed(order):
        op = node.op
        if op is None:
            continue
        g = node.grad
        parents = node.parents
        if len(parents) == 2:
            a, b = parents
            try:
                partials = op.partials(node.data, a.data, b.data)
            except (ArithmeticError, ValueError):
                partials = op.local_grads(node.data, a.data, b.data)
            if a.requires_grad:
                a.grad += g * partials[0]
            if b.requires_grad:  # never for pow's constant exponent, which has no partial
                b.grad += g * partials[1]
        elif len(parents) == 1:
            (a,) = parents
            try:
                partials = op.partials(node.data, a.data)
            except (ArithmeticError, ValueError):
                partials = op.local_grads(node.data, a.data)
            if a.requires_grad:
                a.grad += g * partials[0]
        else:
            datas = [p.data for p in parents]
            try:
                partials = op.partials(node.data, *datas)
            except (ArithmeticError, ValueError):
                partials = op.local_grads(node.data, *datas)
            for parent, partial in zip(parents, partials):
                if parent.requires_grad:
                    parent.grad += g * partial
        if check:
            _check_contributions(node, g, partials)


def chain_rule(order: list[Value], root: Value, seed, create_graph: bool) -> dict[Value, object]:
    """The chain rule over `order` from `root` seeded with `seed`, into a dict of its own:
    {node: d root / d node} for every node of `order`, no `.grad` read or written. Each node
    starts from nothing (0.0; None with `create_graph`, where the grads are Values built from
    the op table's partials on Values, so that they can be differentiated again)."""
    if create_graph:
        grads: dict[Value, object] = dict.fromkeys(order)
        grads[root] = seed
        for node in reversed(order):
            if node.op is not None:
                g = grads[node]
                for parent, partial in zip(node.parents, node.op.partials(node, *node.parents)):
                    if parent.requires_grad:
                        before = grads[parent]
                        grads[parent] = g * partial if before is None else before + g * partial
        return grads
    # On floats: `_backpropagate`'s loop, spelled out the same way for the same reason, with
    # `grads[a]` where it has `a.grad`.
    grads = dict.fromkeys(order, 0.0)
    grads[root] = seed
    check = _state.anomaly
    for node in reversed(order):
        op = node.op
        if op is None:
            continue
        g = grads[node]
        parents = node.parents
        if len(parents) == 2:
            a, b = parents
            try:
                partials = op.partials(node.data, a.data, b.data)
            except (ArithmeticError, ValueError):
                partials = op.local_grads(node.data, a.data, b.data)
            if a.requires_grad:
                grads[a] += g * partials[0]
            if b.requires_grad:
                grads[b] += g * partials[1]
        elif len(parents) == 1:
            (a,) = parents
            try:
                partials = op.partials(node.data, a.data)
            except (ArithmeticError, ValueError):
                partials = op.local_grads(node.data, a.data)
            if a.requires_grad:
                grads[a] += g * partials[0]
        else:
            datas = [p.data for p in parents]
            try:
                partials = op.partials(node.data, *datas)
            except (ArithmeticError, ValueError):
                partials = op.local_grads(node.data, *datas)
            for parent, partial in zip(parents, partials):
                if parent.requires_grad:
                    grads[parent] += g * partial
        if check:
            _check_contributions(node, g, partials)
    return grads


def _store(order: list[Value], grads: dict[Value, object]) -> None:
    """Put one pass's grads in the nodes: intermediate nodes take theirs, leaves add theirs."""
    for node in order:
        grad = grads[node]
        node.grad = grad if node.op is not None or node.grad is None else node.grad + grad


def _check_contributions(node: Value, grad: float, partials: tuple) -> None:
    """detect_anomaly: raise if what `node` (whose grad is `grad`) sends to a parent is not
    finite."""
    for parent, partial in zip(node.parents, partials):
        contribution = grad * partial
        if parent.requires_grad and not math.isfinite(contribution):
            raise FloatingPointError(
                f"detect_anomaly: backward through {node.op.name}{_named(node)} sent "
                f"{contribution} to {_describe(parent)} (data={parent.data!r}, "
                f"upstream grad={grad!r})"
            )


# ---- copy and pickle --------------------------------------------------------------------------
# pickle and copy.deepcopy take objects apart one at a time, recursively: a Value whose state
# held only its parents would have them recurse once per node of depth (RecursionError near a
# depth of 1,000). So the first node of a graph that either reaches (the "owner") puts every
# node behind it, parents first, at the front of its state. They are taken apart in that order,
# each after its parents, so the recursion stays two levels deep however deep the graph. While
# that list is alive (pickle or deepcopy holds it), its nodes are "scheduled" in this thread:
# their own state holds no list, and a grad of theirs that is a Value (create_graph) waits for
# the owner's state, after the list, when every node it is built from is done too. Nodes
# pickled later (another output of the same graph) stop their walk at scheduled ones, so each
# node is written once, and shared ones stay shared. Ops go by name (`Op.__reduce__`): a graph
# moves between processes whose op tables have the same records.
class _Behind(list):
    """The nodes behind an owner, parents first; weakly referable, so that they are
    scheduled exactly as long as pickle or deepcopy holds the list."""

    __slots__ = ("__weakref__",)


_scheduled: dict[tuple[int, int], weakref.ref] = {}  # (thread, id(node)) -> its _Behind


def _is_scheduled(node: Value) -> bool:
    if not _scheduled:
        return False
    behind = _scheduled.get((_thread(), id(node)))
    return behind is not None and behind() is not None


_thread = threading.get_ident


class _Copied(set):
    """`__deepcopy__`'s walk counts what its deepcopy call has copied as listed already."""

    def __init__(self, memo: dict) -> None:
        super().__init__()
        self.memo = memo

    def __contains__(self, node) -> bool:
        return set.__contains__(self, node) or id(node) in self.memo


class _Done(set):
    """An owner's walk counts scheduled nodes as listed already (`topological_order`'s
    `placed`)."""

    def __contains__(self, node) -> bool:
        return set.__contains__(self, node) or _is_scheduled(node)


def _schedule(behind: _Behind) -> None:
    thread = _thread()
    keys = [(thread, id(node)) for node in behind]  # the list keeps the nodes, so their ids

    def forget(ref: weakref.ref) -> None:
        for key in keys:
            if _scheduled.get(key) is ref:
                del _scheduled[key]

    _scheduled.update(dict.fromkeys(keys, weakref.ref(behind, forget)))


def _taken_apart(node: Value) -> tuple:
    """What pickle and deepcopy keep of `node`: (the nodes behind it if it is an owner, data,
    grad, parents, op, label, requires_grad, scope, [(node behind, its Value grad)])."""
    scheduled = _is_scheduled(node)
    if scheduled or not node.parents:
        grad = None if scheduled and isinstance(node.grad, Value) else node.grad
        return (None, node.data, grad, node.parents, node.op, node.label, node.requires_grad,
                node.scope, ())
    behind = _Behind(topological_order(node, placed=_Done() if _scheduled else None))
    behind.pop()  # the node itself
    _schedule(behind)
    later = [(n, n.grad) for n in behind if isinstance(n.grad, Value)]
    return (behind, node.data, node.grad, node.parents, node.op, node.label, node.requires_grad,
            node.scope, later)


# ---- helpers for other modules ---------------------------------------------------------------
def backward(root: Value, grad: float | Value = 1.0, create_graph: bool = False) -> None:
    """`root.backward(...)`, with a clear error when `root` is not one scalar Value."""
    if isinstance(root, (list, tuple)):
        raise TypeError(
            f"backward() needs one scalar Value, got a {type(root).__name__} of {len(root)} "
            "items: reduce them to one first, e.g. autograd.sum(outputs)"
        )
    if not isinstance(root, Value):
        raise TypeError(f"backward() needs a Value, got {_show(root)}")
    root.backward(grad, create_graph)


def zero_grad(values: Iterable[Value]) -> None:
    """Set `.grad` of each Value to 0.0 (before the next backward pass accumulates)."""
    if isinstance(values, Value):
        raise TypeError("zero_grad() needs an iterable of Values, got a Value; use zero_grad([v])")
    try:
        values = iter(values)
    except TypeError:
        raise TypeError(f"zero_grad() needs an iterable of Values, got {_show(values)}") from None
    for v in values:
        if not isinstance(v, Value):
            raise TypeError(f"zero_grad() needs Values, got {_show(v)}")
        v.grad = 0.0


def _as_float(x, where: str) -> float:
    if isinstance(x, Value):
        raise TypeError(
            f"{where} needs a real number, got a Value; use .data for its number or .detach() "
            "for a constant copy"
        )
    if isinstance(x, numbers.Real) and not isinstance(x, np.ndarray):
        return _to_float(x, where)
    raise TypeError(f"{where} needs a real number, got {_show(x)}")


def _to_float(x: numbers.Real, where: str) -> float:
    try:
        return float(x)
    except OverflowError:
        raise _too_large(x, where) from None


def _too_large(x: numbers.Real, where: str) -> OverflowError:
    """Python's own error for float(10**400), with the number and the limit named.

    OverflowError, as `float()` and numpy raise for it: the type is right (a real number),
    its size is what a float cannot hold, and code that catches float()'s error still does."""
    if isinstance(x, int):
        sign = "-" if x < 0 else ""
        shown = f"an int of about {sign}1e+{int(math.log10(abs(x)))}"
    else:
        shown = f"a {type(x).__name__}"
    return OverflowError(
        f"{where}: {shown} is too large for a float (the largest is about "
        f"{sys.float_info.max:.1e}); scale it down first"
    )


def _as_value(x, where: str) -> Value:
    if isinstance(x, Value):
        return x
    constant = _constant(x)
    if constant is None:
        raise TypeError(f"{where} needs Values or real numbers, got {_show(x)}")
    return constant


def _items(xs, where: str) -> list:
    """An iterable of numbers or Values as a list; a numpy array must be 1-D."""
    if isinstance(xs, np.ndarray):
        if xs.ndim != 1:
            raise ValueError(f"{where} needs a 1-D sequence, got a numpy array of shape {xs.shape}")
        return xs.tolist()
    try:
        return list(xs)
    except TypeError:
        raise TypeError(
            f"{where} needs a sequence of Values or numbers, got {_show(xs)}"
        ) from None


def _data_of(x):
    """A Value's or a real number's number; NotImplemented for anything else."""
    if isinstance(x, Value):
        return x.data
    return x if isinstance(x, numbers.Real) else NotImplemented


def _show(x) -> str:
    if isinstance(x, np.ndarray):
        return f"a numpy array of shape {x.shape} (use .item() for one number)"
    if isinstance(x, complex):
        return f"the complex number {x!r} (only real numbers have gradients here)"
    if isinstance(x, (str, list, tuple, dict, set)) or x is None:
        return f"{x!r} ({type(x).__name__})"
    return f"a {type(x).__name__}"


def _describe(v: Value) -> str:
    return repr(v.label) if v.label else (v.op.name if v.op else "a leaf")


def _named(v: Value) -> str:
    return f" (label {v.label!r})" if v.label else ""


ops.follow(_bind, _unbind)
