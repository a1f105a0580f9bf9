"""Tracing: run a per-sample function once on placeholders and keep the graph it records.

`autograd.compile` needs the graph of a function such as `loss(x, y)` without knowing which
numbers will flow through it. Tracing calls the function once with *placeholders*, Values that
stand for one sample's inputs, and keeps what the engine records. As with `torch.jit.trace`,
only the operations are recorded: a Python decision taken on a number while tracing (an `if` on
`.data`, Python's `max` over Values, a label used as a list index) would be baked in, and a
constant made from a parameter's number (`w.detach()`, `Value(w.data)`, a result made under
`no_grad()`) would be copied into the program once and stop following the parameter as it
trains. So while tracing, a number is read only if it cannot vary:

- a placeholder's number (`x.data`, `float(x)`, `x > 0`, `x == 1`, `logits[y]`) is refused
  with `TracingError`, always;
- with `check_trace` (the default, as `torch.jit.trace(check_trace=True)`) so are a parameter's
  (a leaf that needs a gradient) and that of every node computed from an input or a parameter,
  however it is read (`.data`, `float()`, comparisons, `==`, `max()`, `sorted()`, numpy,
  `detach()`); an op on them under `no_grad()` is refused too. Constants, and nodes computed
  from constants alone, can be read. The error names the node and the inputs and parameters it
  was computed from. `check_trace` also traces again with other inputs and refuses a graph
  that differs (something else decided: random numbers, a count of calls, `is_tracing()`).
  With `check_trace=False` only placeholders are guarded, as the caller chose.

How the engine still computes with guarded numbers. A guarded `.data` refuses every reader: it
does not ask who is calling. The engine reads a node's number where it computes a new node from
its parents (an op with one input, with two, or with many), and in those three places it
catches what `.data` raised (`value._Unreadable`, which the refusal also is), reads the numbers
from the slots and hands the new node to the refusal (`_Refused.derive`), which makes it a
`_Computed` node: guarded in turn. After tracing the trace's nodes are plain Values again.
Eager code pays nothing: CPython's try blocks cost nothing until something is raised, and the
two smallest ops already had one (for IEEE results).

Where the guard on parameters sits. A parameter is a plain Value, made by the user, and
`Value.data` is a slot: guarding it on every Value would cost eager code a property call per
number read. So while some thread traces with `check_trace`, `Value.data` itself is swapped
for a property (`_read_while_tracing`) that refuses a parameter's number in the tracing thread
and reads the slot for everyone else; the slot comes back when the last such trace ends. Other
threads keep their numbers, a little slower for the length of a trace.

Library code asks `is_tracing()` before a check on numbers (`nn.binary_cross_entropy` checks
that its outputs are probabilities only when not tracing, and `nn.logsumexp` always shifts).
"""
from __future__ import annotations

import inspect
import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .graph import topological_order
from .value import Value, _show, _Unreadable

_DATA = Value.data  # the slot that holds a Value's number, under the property below


class TracingError(RuntimeError):
    """A traced function depends on its inputs' numbers in a way the graph cannot record."""


class _Tracing(threading.local):
    active: bool = False
    strict: bool = False  # parameters and computed nodes are guarded too (check_trace)


_tracing = _Tracing()


def is_tracing() -> bool:
    """True while `autograd.compile` traces a function in this thread.

    For library code that checks numbers: while tracing, the traced function's inputs are
    placeholders whose `.data` raises `TracingError`, and so (with `check_trace`, the default)
    do the parameters and every node computed from an input or a parameter: only constants'
    numbers can be read. A check that raises on a bad number skips what it cannot read:

        >>> import autograd
        >>> autograd.is_tracing()
        False
        >>> w = autograd.Value(2.0)
        >>> seen = []
        >>> program = autograd.compile(lambda x: seen.append(autograd.is_tracing()) or w * x, 1.0)
        >>> seen[0]
        True
    """
    return _tracing.active


class _Refused(TracingError, _Unreadable):
    """A guarded number was read while tracing. The engine catches it where it makes a node
    (`value._around`) and hands the new node to `derive`; anyone else sees a TracingError
    whose message (made only when shown: the engine raises one per node it makes) names what
    was read, and how."""

    def __init__(self, value: Value, how: str) -> None:
        super().__init__()
        self.value, self.how = value, how

    def __str__(self) -> str:
        return _refusal(self.value, self.how)

    def derive(self, node: Value, op, parents) -> Value:
        if not _tracing.strict:  # check_trace=False: only the inputs themselves are guarded
            return node
        if node.op is None:  # made under no_grad(): a constant, copied into the program once
            raise TracingError(
                f"the traced function computed {op.name} of {_sources(parents)} under "
                "no_grad(): the result is a constant, which a compiled program copies once, "
                "at compile time, so it would not follow the parameters as an optimizer "
                "changes them, nor the inputs from sample to sample (eager code would "
                "recompute it). " + _ADVICE
            )
        node.__class__ = _Computed
        return node


class _Guarded(Value):
    """A Value whose number nothing but the engine may read while tracing: its `.data`,
    `float()`, comparisons, `==` with a number and use as an index raise `_Refused`."""

    __slots__ = ()

    def _guarding(self) -> bool:
        raise NotImplementedError

    @property
    def data(self) -> float:
        if self._guarding():
            raise _Refused(self, ".data")
        return _DATA.__get__(self, Value)

    @data.setter
    def data(self, number: float) -> None:
        _DATA.__set__(self, number)

    def _number(self, how: str) -> float:
        if self._guarding():
            raise _Refused(self, how)
        return _DATA.__get__(self, Value)

    def __float__(self) -> float: return self._number("float()")
    def __index__(self) -> int: raise _Refused(self, "an index (a list index or int())")
    def __lt__(self, other): return self._number("<") < _number_of(other)
    def __le__(self, other): return self._number("<=") <= _number_of(other)
    def __gt__(self, other): return self._number(">") > _number_of(other)
    def __ge__(self, other): return self._number(">=") >= _number_of(other)

    def __eq__(self, other):
        if isinstance(other, Value):
            return self is other
        return self._number("==") == other

    __hash__ = Value.__hash__


class Placeholder(_Guarded):
    """A traced function's input: a Value holding one sample's number (`arg`, `index` say where
    it sits in the arguments). While tracing, nothing may read its number but the engine, which
    reads around the guard (see the module's docstring)."""

    __slots__ = ("arg", "index")

    def _guarding(self) -> bool:
        return _tracing.active


class _Computed(_Guarded):
    """A node computed, while tracing with `check_trace`, from an input or a parameter: its
    number is one example's, so reading it is deciding on the example. After tracing, the
    nodes of the trace are plain Values again."""

    __slots__ = ()

    def _guarding(self) -> bool:
        return _tracing.strict


def _read_while_tracing(node: Value) -> float:
    """`Value.data` while some thread traces with `check_trace`: a parameter's number is
    refused in that thread (see the module's docstring), any other number is the slot's."""
    if node.op is None and node.requires_grad and _tracing.strict:
        raise _Refused(node, ".data")
    return _DATA.__get__(node, Value)


_GUARDED_DATA = property(_read_while_tracing, _DATA.__set__)
_strict_traces = [0]  # how many threads trace with check_trace now: Value.data is guarded
_strict_lock = threading.Lock()


@contextmanager
def _tracing_mode(strict: bool):
    """This thread traces (strictly: parameters guarded too) inside the block."""
    previous = _tracing.active, _tracing.strict
    if strict:
        with _strict_lock:
            _strict_traces[0] += 1
            Value.data = _GUARDED_DATA
    _tracing.active, _tracing.strict = True, strict
    try:
        yield
    finally:
        _tracing.active, _tracing.strict = previous
        if strict:
            with _strict_lock:
                _strict_traces[0] -= 1
                if not _strict_traces[0]:
                    Value.data = _DATA


def _number_of(x) -> Any:
    return x.data if isinstance(x, Value) else x  # refused too if guarded


def _sources(nodes: Sequence[Value]) -> str:
    """The inputs and parameters that nodes were computed from, by name (the first few)."""
    names: list[str] = []
    for node in nodes:
        for leaf in topological_order(node):
            if leaf.op is None and (leaf.requires_grad or isinstance(leaf, Placeholder)):
                name = ("the input " if isinstance(leaf, Placeholder) else "the parameter ") \
                    + (repr(leaf.label) if leaf.label else "(unlabelled)")
                if name not in names:
                    names.append(name)
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return shown or "constants"


_ADVICE = ("Write it with ops instead (relu, abs, sigmoid, autograd.max, a one-hot label times "
           "the outputs instead of outputs[label]), run the function eagerly, or pass "
           "check_trace=False to accept the traced numbers as they are.")


def _refusal(value: Value, how: str) -> str:
    if isinstance(value, Placeholder):
        return (
            f"the traced function used the number of its input {value.label!r} through {how}: "
            "a compiled program runs the graph recorded while tracing for every sample, so any "
            "Python decision taken on that number would be the same for all of them. Write it "
            "with ops instead (relu, abs, sigmoid, a one-hot label times the outputs instead of "
            "outputs[label])"
        )
    if isinstance(value, _Computed):
        what = f"a {value.op.name} node{_where(value)}, computed from {_sources([value])}"
        return (
            f"the traced function used the number of {what}, through {how}: while tracing it "
            "is one example's number, so a Python decision taken on it (an if, max(), an index) "
            "or a constant made from it would be frozen into the compiled program for every "
            "sample and every parameter value. " + _ADVICE
        )
    return (
        f"the traced function used the number of the parameter{_where(value)} through {how} "
        "(w.data, w.detach(), Value(w.data), float(w), a comparison): a compiled program copies "
        "what is computed from it once, at compile time, so it would not follow the parameter "
        "as an optimizer changes it (eager code would), and a decision on it would stay as "
        "it was taken while tracing. " + _ADVICE
    )


@dataclass
class Trace:
    """What tracing recorded: the inputs (one flat list of placeholders per argument, with the
    argument's shape), the outputs, and every node in one topological order."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    inputs: tuple[tuple[Placeholder, ...], ...]
    outputs: tuple[Value, ...]
    single: bool  # the function returned one Value (not a sequence of them)
    order: list[Value]

    def replay(self, sample: Sequence[Any]) -> None:
        """Put one sample's numbers into the placeholders and recompute every node from them.

        Gradients of the non-leaf nodes go back to "not computed yet", so the graph reads as
        freshly built for this sample and can be drawn or stepped through.
        """
        for name, shape, holders, arg in zip(self.names, self.shapes, self.inputs, sample):
            numbers = _as_array(arg, name, f"one sample's {name!r}")
            if numbers.shape != shape:
                raise ValueError(
                    f"trace_for(): {name!r} should have the shape {shape} of the example it was "
                    f"traced with, got {numbers.shape}"
                )
            for holder, number in zip(holders, numbers.ravel().tolist()):
                holder.data = number
        for node in self.order:
            if node.op is not None:
                node.data = node.op.evaluate(*[_DATA.__get__(p, Value) for p in node.parents])
                node.grad = None


def trace(fn: Callable[..., Any], example_args: Sequence[Any], strict: bool = True) -> Trace:
    """Call `fn` once with placeholders shaped like `example_args` and keep the graph.

    `strict` guards the parameters' numbers and the computed nodes' too, not only the inputs';
    the nodes of the trace are plain Values again afterwards."""
    if not callable(fn):
        raise TypeError(f"compile() needs a function to trace, got {_show(fn)}")
    if not example_args:
        raise ValueError(
            "compile() needs example arguments to trace with, e.g. compile(loss, x0, y0) for "
            "loss(x, y): one sample's numbers for each argument"
        )
    names = _argument_names(fn, len(example_args))
    shapes, inputs, call_args = [], [], []
    for position, (name, example) in enumerate(zip(names, example_args)):
        numbers = _as_array(example, name, "an example argument")
        holders = []
        for index, number in zip(np.ndindex(numbers.shape), numbers.ravel().tolist()):
            holder = Placeholder(number, name + "".join(f"[{i}]" for i in index), requires_grad=False)
            holder.arg, holder.index = position, index
            holders.append(holder)
        shapes.append(numbers.shape)
        inputs.append(tuple(holders))
        structured = np.empty(len(holders), dtype=object)
        structured[:] = holders
        # nested lists shaped like the example, or the placeholder itself for a number
        call_args.append(structured.reshape(numbers.shape).tolist())
    with _tracing_mode(strict):
        result = fn(*call_args)
    single = isinstance(result, Value)
    outputs = (result,) if single else _as_outputs(result)
    order: list[Value] = []
    placed: set[int] = set()
    for output in outputs:  # the one walk per output, merged: still parents before children
        for node in topological_order(output):
            if id(node) not in placed:
                placed.add(id(node))
                order.append(node)
                if node.__class__ is _Computed:
                    node.__class__ = Value
    return Trace(tuple(names), tuple(shapes), tuple(inputs), outputs, single, order)


def check_same_graph(first: Trace, second: Trace) -> None:
    """Raise `TracingError` unless two traces of one function, on other inputs, recorded the
    same graph: the same ops, wiring, parameters and constants."""
    if len(first.order) != len(second.order):
        raise TracingError(
            f"tracing with other inputs recorded {len(second.order)} nodes instead of "
            f"{len(first.order)}, a different graph: {_DIFFERENT}"
        )
    position_1 = {id(node): i for i, node in enumerate(first.order)}
    position_2 = {id(node): i for i, node in enumerate(second.order)}
    for i, (a, b) in enumerate(zip(first.order, second.order)):
        same = (
            a.op is b.op
            and [position_1[id(p)] for p in a.parents] == [position_2[id(p)] for p in b.parents]
            and type(a) is type(b)
            and a.requires_grad == b.requires_grad
        )
        if same and a.op is None and not isinstance(a, Placeholder):
            if a.requires_grad:  # a parameter: the very same Value in both traces
                same = a is b
            else:  # a constant: the same number
                x, y = _DATA.__get__(a, Value), _DATA.__get__(b, Value)
                if not (x == y or (math.isnan(x) and math.isnan(y))):
                    raise TracingError(
                        f"a constant of the traced function{_where(a)} was {x!r} with the "
                        f"example inputs and {y!r} with others, so a compiled program would "
                        f"use the example's number for every sample: {_DIFFERENT}"
                    )
        if not same and a.op is None and a.requires_grad and b.requires_grad \
                and not isinstance(a, Placeholder):
            raise TracingError(
                f"the traced function makes a new parameter{_where(a)} each time it is called "
                "(a Value that needs a gradient, made inside it): a compiled program would "
                "send its gradient to the Value made while compiling, which nothing trains. "
                "Make parameters once, outside the function (or requires_grad=False for a "
                "constant)."
            )
        if not same:
            raise TracingError(
                f"tracing with other inputs recorded a different graph at node {i}: "
                f"{_describe(a)} the first time, {_describe(b)} the second: {_DIFFERENT}"
            )


_DIFFERENT = (
    "the function does not record the same graph on every call. Its numbers cannot be read "
    "while tracing, so something else decided: random numbers drawn inside it, a branch on "
    "is_tracing() or on a count of calls, a number read around the guard. A compiled program "
    "would run the first graph for every sample. Make the graph the same on every call, or "
    "pass check_trace=False to accept the first one."
)


def _describe(node: Value) -> str:
    if isinstance(node, Placeholder):
        return f"the input {node.label!r}"
    if node.op is None:
        return f"a {'parameter' if node.requires_grad else 'constant'}{_where(node)}"
    return f"{node.op.name} of {len(node.parents)} inputs{_where(node)}"


def _where(node: Value) -> str:
    label = f" {node.label!r}" if node.label else ""
    return label + (f" in {node.scope.path}" if node.scope is not None else "")


def _argument_names(fn: Callable, count: int) -> list[str]:
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = [
        p.name for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) >= count:
        return positional[:count]
    return [f"arg{i}" for i in range(count)]


def _as_array(arg: Any, name: str, what: str) -> np.ndarray:
    """A number, a (nested) list of numbers or an array, as a float64 array."""
    if isinstance(arg, Value):
        raise TypeError(
            f"{what} {name!r} should be plain numbers (a number, a list of numbers or an array), "
            "got a Value: pass its .data"
        )
    try:
        numbers = np.asarray(arg, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{what} {name!r} should be a number, a (nested) list of numbers or an array, got "
            f"{_show(arg)} ({error})"
        ) from None
    return numbers


def _as_outputs(result: Any) -> tuple[Value, ...]:
    if isinstance(result, (list, tuple)) and result and all(isinstance(v, Value) for v in result):
        return tuple(result)
    raise TypeError(
        "a traced function should return a Value (e.g. a loss) or a non-empty list of Values "
        f"(e.g. a model's outputs), got {_show(result)}"
    )
