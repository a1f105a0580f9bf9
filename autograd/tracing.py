"""Tracing: run a per-sample function once on placeholders and keep the graph it records.

`autograd.compile` needs the graph of a function such as `loss(x, y)` without knowing which
numbers will flow through it. Tracing calls the function once with *placeholders*, Values that
stand for one sample's inputs, and keeps what the engine records. As with `torch.jit.trace`,
only the operations are recorded: Python decisions taken on numbers while tracing (an `if` on
`.data`, `max` over Values, a label used as a list index) are baked in, and the recorded graph is
run for every sample. Two guards catch what they can:

- reading a placeholder's number (`x.data`, `float(x)`, `x > 0`, `logits[y]`) while tracing
  raises `TracingError`, since whatever is decided from it would be frozen;
- the check (on by default, like `torch.jit.trace(check_trace=True)`) traces the function a
  second time with other inputs and raises `TracingError` if the graphs differ: another op, other
  wiring, or a constant that changed because it was computed from the inputs' numbers. It then
  traces once more with the parameters nudged: a constant computed from a parameter's number
  (`w.detach()`, `Value(w.data)`, a result made under `no_grad()`) would be copied into the
  program once and stop following the parameter as it trains, so it is refused too.

A decision on an intermediate result (`if h.data > 0` with h computed from x) cannot be seen as
it happens; the check finds it when the other inputs take the other branch.

How the engine still computes with a placeholder's number. A placeholder's `.data` refuses every
reader while tracing: it does not ask who is calling. The engine reads a node's number where it
computes a new node from its parents (an op with one input, with two, or with many), and in
those three places it catches what `.data` raised (`value._Unreadable`, which `TracingError`'s
refusal of `.data` also is) and reads the number from the Value's slot instead. So the guard
sits on the input (what is guarded), and the engine reads around it only while making a node
(how the engine reads numbers while tracing). Eager code never meets a placeholder and pays
nothing: CPython's try blocks cost nothing until something is raised, and the two smallest ops
already had one (for IEEE results). The Placeholder's own `float()`, comparisons, `==` and
`__index__` refuse too; the engine never uses them on a Value.

Library code asks `is_tracing()` before a check on numbers (`nn.binary_cross_entropy` checks
that its outputs are probabilities, except a traced input's, which has no number yet).
"""
from __future__ import annotations

import inspect
import math
import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .graph import topological_order
from .value import Value, _show, _Unreadable

_DATA = Value.data  # the slot that holds a Value's number, under the property below


class TracingError(RuntimeError):
    """A traced function depends on its inputs' numbers in a way the graph cannot record."""


class _InputRead(TracingError, _Unreadable):
    """`.data` of a placeholder while tracing: the engine catches it (see the module's docstring)."""


class _Tracing(threading.local):
    active: bool = False


_tracing = _Tracing()


def is_tracing() -> bool:
    """True while `autograd.compile` traces a function in this thread.

    For library code that checks numbers: while tracing, the traced function's inputs are
    placeholders (leaves) whose `.data` raises `TracingError`, and every other number is one
    example's, so a check on it holds for that example only. Nothing the graph is built from
    may depend on such numbers (the compile check would refuse it), but a check that raises on
    a bad number may look at the numbers it can read:

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


class Placeholder(Value):
    """A traced function's input: a Value holding one sample's number (`arg`, `index` say where
    it sits in the arguments). While tracing, nothing may read its number but the engine, which
    reads around the guard (see the module's docstring)."""

    __slots__ = ("arg", "index")

    @property
    def data(self) -> float:
        if _tracing.active:
            raise _InputRead(_refusal(self, ".data"))
        return _DATA.__get__(self, Placeholder)

    @data.setter
    def data(self, number: float) -> None:
        _DATA.__set__(self, number)

    def _number(self, how: str) -> float:
        if _tracing.active:
            _refuse(self, how)
        return _DATA.__get__(self, Placeholder)

    def __float__(self) -> float: return self._number("float()")
    def __index__(self) -> int: return _refuse(self, "an index (a list index or int())")
    def __lt__(self, other): return self._number("<") < _number_of(other)
    def __le__(self, other): return self._number("<=") <= _number_of(other)
    def __gt__(self, other): return self._number(">") > _number_of(other)
    def __ge__(self, other): return self._number(">=") >= _number_of(other)

    def __eq__(self, other):
        if isinstance(other, Value):
            return self is other
        return self._number("==") == other

    __hash__ = Value.__hash__

    def __repr__(self) -> str:  # printing is not deciding: shown as any Value, while tracing too
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={_DATA.__get__(self, Placeholder)!r}, grad={self.grad!r}{label})"


def _number_of(x) -> Any:
    return _DATA.__get__(x, Value) if isinstance(x, Value) else x


def _refusal(placeholder: Placeholder, how: str) -> str:
    return (
        f"the traced function used the number of its input {placeholder.label!r} through {how}: "
        "a compiled program runs the graph recorded while tracing for every sample, so any "
        "Python decision taken on that number would be the same for all of them. Write it with "
        "ops instead (relu, abs, sigmoid, a one-hot label times the outputs instead of "
        "outputs[label])"
    )


def _refuse(placeholder: Placeholder, how: str):
    raise TracingError(_refusal(placeholder, how))


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


def trace(fn: Callable[..., Any], example_args: Sequence[Any]) -> Trace:
    """Call `fn` once with placeholders shaped like `example_args` and keep the graph."""
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
    previous, _tracing.active = _tracing.active, True
    try:
        result = fn(*call_args)
    finally:
        _tracing.active = previous
    single = isinstance(result, Value)
    outputs = (result,) if single else _as_outputs(result)
    order: list[Value] = []
    placed: set[int] = set()
    for output in outputs:  # the one walk per output, merged: still parents before children
        for node in topological_order(output):
            if id(node) not in placed:
                placed.add(id(node))
                order.append(node)
    return Trace(tuple(names), tuple(shapes), tuple(inputs), outputs, single, order)


def check_same_graph(first: Trace, second: Trace) -> None:
    """Raise `TracingError` unless two traces of one function, on other inputs, recorded the
    same graph."""
    _compare(first, second, _INPUTS)


def check_parameters_not_read(fn: Callable[..., Any], first: Trace, example_args: Sequence[Any]) -> None:
    """Raise `TracingError` if the graph depends on the parameters' numbers, not only on them.

    A leaf that needs no gradient is a constant: a compiled program copies its number once.
    When it was computed from a parameter (`w.detach()`, `Value(w.data)`, a result made under
    `no_grad()`), eager code would recompute it after every optimizer step and the program would
    not. So `fn` is traced again with every parameter nudged (and put back afterwards, also when
    `fn` raises): a constant that moves, or a graph that changes, depended on their numbers.
    """
    params = [n for n in first.order if n.op is None and n.requires_grad and not isinstance(n, Placeholder)]
    if not params:
        return
    numbers = [_DATA.__get__(p, Value) for p in params]
    nudges = np.random.default_rng(0).uniform(1e-3, 2e-3, len(params))
    try:
        for param, number, nudge in zip(params, numbers, nudges.tolist()):
            param.data = number + nudge * (1.0 + abs(number))
        second = trace(fn, example_args)
    finally:
        for param, number in zip(params, numbers):
            param.data = number
    _compare(first, second, _PARAMETERS)


_INPUTS = dict(
    trial="tracing with other inputs",
    decision="the function takes a Python decision on its inputs' numbers (an if, a loop or "
    "max over .data), which a compiled program would freeze. ",
    constant="with the example inputs and {y!r} with others: it was computed from the inputs' "
    "numbers (.data), so a compiled program would use the example's number for every sample. ",
    advice="Write the decision with ops (relu, abs, sigmoid, a one-hot mask), or pass "
    "check_trace=False if it truly does not depend on the inputs.",
)
_PARAMETERS = dict(
    trial="tracing with the parameters nudged",
    decision="the function takes a Python decision on a parameter's number (.data), which a "
    "compiled program would freeze at the compile-time number. ",
    constant="and {y!r} with the parameters nudged: it was computed from a parameter's number "
    "(w.detach(), Value(w.data), or made under no_grad()), and a compiled program copies it "
    "once, at compile time, so it would not follow the parameter when an optimizer changes it "
    "(eager code would). ",
    advice="Compute it from the parameter with ops, run the function eagerly, or pass "
    "check_trace=False to accept the compile-time number.",
)


def _compare(first: Trace, second: Trace, words: dict[str, str]) -> None:
    if len(first.order) != len(second.order):
        raise TracingError(
            f"{words['trial']} recorded {len(second.order)} nodes instead of "
            f"{len(first.order)}, a different graph: {words['decision']}" + words["advice"]
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
                        f"a constant of the traced function{_where(a)} was {x!r} "
                        + words["constant"].format(y=y) + words["advice"]
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
                f"{words['trial']} recorded a different graph at node {i}: "
                f"{_describe(a)} the first time, {_describe(b)} the second. "
                + words["decision"][0].upper() + words["decision"][1:] + words["advice"]
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
