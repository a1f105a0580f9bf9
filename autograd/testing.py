"""Hypothesis strategies for testing gradients: the ones glassgrad's own tests use.

Why: a handful of hand-picked points rarely finds the input where a derivative is wrong;
Hypothesis draws hundreds and, when one fails, shrinks it to the smallest failing case. These
strategies draw what gradient tests need:

- `finite_floats` / `values`: numbers (or Values) in a range, kept `margin` away from points to
  avoid, such as a kink or a pole.
- `expressions`: random expression DAGs over a few inputs, built step by step. Each step applies
  an op from the op table to earlier nodes (any earlier node, so shared sub-expressions are
  common), and only where the op table says the op is defined and smooth (`Op.domain`,
  `Op.kinks`, `Op.kink_distance`, `Op.defined_at`), `margin` away from the edge (for `max`: the
  largest operand leads the others by at least `margin`), with values and local slopes within
  `bound`. So `gradcheck(expr, expr.inputs)` must pass, and a failure means a wrong gradient.
  An `Expression` runs on floats and on Values, and prints as let-bindings.
- `mlp_cases`: small tanh networks (parameters, one input sample) for checking whole models.
- `swapped_partials`: a deliberately wrong derivative inside a `with` block, to see that your
  gradient tests catch it.

This module imports Hypothesis; `import autograd` does not import it.
"""
from __future__ import annotations

import math
import numbers
import operator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import product
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import autograd

from . import value as _value
from .ops import OPS, Op, split_dot
from .value import Value, _show

MARGIN = 0.05  # how far from a kink or the edge of a domain an op is applied
BOUND = 100.0  # largest |value| and |local slope| an expression keeps
EXPONENTS = (2.0, 3.0, -1.0, -2.0, 0.5, 1.5, 0.0)  # the constant exponents `pow` is drawn with

# How each op is written with Values (functions such as tanh are `autograd.<name>`).
_WRITTEN: dict[str, Callable] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "neg": operator.neg, "pow": operator.pow, "powv": operator.pow,
    "sum": lambda *xs: _value.sum(xs),
    "max": lambda *xs: _value.max(xs),
    "dot": lambda *xs: _dot(xs),
}


def _dot(args: Sequence) -> Value:
    weights, inputs, bias = split_dot(args)
    return _value.dot(weights, inputs, bias[0] if bias else None)


# ---- numbers --------------------------------------------------------------------------------
def finite_floats(
    min_value: float = -3.0,
    max_value: float = 3.0,
    *,
    avoid: Iterable[float] = (),
    margin: float = MARGIN,
) -> st.SearchStrategy[float]:
    """Finite floats in [min_value, max_value], at least `margin` away from each point in
    `avoid` (for example an op's kinks: `avoid=autograd.OPS["relu"].kinks`)."""
    lo, hi = _real(min_value, "min_value"), _real(max_value, "max_value")
    if lo >= hi:
        raise ValueError(f"finite_floats() needs min_value < max_value, got {lo} and {hi}")
    margin = _real(margin, "margin")
    if margin < 0:
        raise ValueError(f"finite_floats(margin=...) needs a number >= 0, got {margin}")
    avoid = tuple(_real(a, "each point to avoid") for a in avoid)
    if any(a - margin <= lo and hi <= a + margin for a in avoid):
        raise ValueError(
            f"finite_floats(): [{lo}, {hi}] lies within margin={margin} of a point to avoid "
            f"({avoid}), so no number is left to draw"
        )
    floats = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if not avoid:
        return floats
    return floats.filter(lambda x: all(abs(x - a) >= margin for a in avoid))


def values(
    min_value: float = -3.0,
    max_value: float = 3.0,
    *,
    avoid: Iterable[float] = (),
    margin: float = MARGIN,
    label: str = "",
    requires_grad: bool = True,
) -> st.SearchStrategy[Value]:
    """Fresh leaf `Value`s whose numbers come from `finite_floats(...)`."""
    if not isinstance(label, str):
        raise TypeError(f"values(label=...) needs a string, got {_show(label)}")
    return finite_floats(min_value, max_value, avoid=avoid, margin=margin).map(
        lambda x: Value(x, label, requires_grad)
    )


# ---- expressions --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One let-binding: `op` applied to earlier nodes (indices; inputs come first)."""

    op: Op
    operands: tuple[int, ...]
    exponent: float | None = None  # pow's constant exponent

    def apply(self, args: Sequence):
        """The op on floats (the op table's IEEE-safe forward) or on Values (the public API)."""
        if not any(isinstance(a, Value) for a in args):
            floats = [float(a) for a in args]
            if self.exponent is not None:
                floats.append(self.exponent)
            return self.op.evaluate(*floats)
        if self.exponent is not None:
            return args[0] ** self.exponent
        return _writer(self.op)(*args)

    def text(self, names: Sequence[str]) -> str:
        """The right-hand side as Python: `t2 * x0`, `tanh(t3)`, `dot([t2], [x1], x0)`."""
        args = [names[i] for i in self.operands]
        name = self.op.name
        if self.exponent is not None:
            return f"{args[0]} ** {self.exponent:g}"
        if name in ("sum", "max"):
            return f"{name}([{', '.join(args)}])"
        if name == "dot":
            weights, inputs, bias = split_dot(args)
            return f"dot([{', '.join(weights)}], [{', '.join(inputs)}]{''.join(', ' + b for b in bias)})"
        if self.op.function:
            return f"{name}({args[0]})"
        return self.op.expression(*args)


@dataclass(frozen=True)
class Expression:
    """A random expression: `inputs` (the point it was drawn at) and its let-binding `steps`.

    Call it with one float or Value per input; the last step is the output. `str()` gives the
    program, one binding per line; `repr()` the same on one line.
    """

    inputs: tuple[float, ...]
    steps: tuple[Step, ...]

    def __call__(self, *args):
        if len(args) != len(self.inputs):
            raise TypeError(
                f"this expression takes {len(self.inputs)} inputs (x0..x{len(self.inputs) - 1}), "
                f"got {len(args)}"
            )
        nodes = list(args)
        for step in self.steps:
            nodes.append(step.apply([nodes[i] for i in step.operands]))
        return nodes[-1]

    @property
    def op_names(self) -> tuple[str, ...]:
        """The ops of the steps, in order."""
        return tuple(step.op.name for step in self.steps)

    def bindings(self) -> list[str]:
        """`x0 = 0.5`, ..., `t2 = tanh(x0)`, ..., `out = t3 + x0`."""
        names = [f"x{i}" for i in range(len(self.inputs))]
        lines = [f"{name} = {x!r}" for name, x in zip(names, self.inputs)]
        for k, step in enumerate(self.steps):
            name = "out" if k == len(self.steps) - 1 else f"t{len(names)}"
            lines.append(f"{name} = {step.text(names)}")
            names.append(name)
        return lines

    def __str__(self) -> str:
        return "\n".join(self.bindings())

    def __repr__(self) -> str:
        return f"Expression({'; '.join(self.bindings())})"


def expressions(
    n_inputs: int = 2,
    max_ops: int = 6,
    ops: Iterable[str | Op] | None = None,
    *,
    min_value: float = -3.0,
    max_value: float = 3.0,
    margin: float = MARGIN,
    bound: float = BOUND,
) -> st.SearchStrategy[Expression]:
    """Random `Expression`s over `n_inputs` inputs drawn from [min_value, max_value], with 1 to
    `max_ops` steps using the ops named in `ops` (default: every op in `autograd.OPS`)."""
    n_inputs = _count(n_inputs, "n_inputs")
    max_ops = _count(max_ops, "max_ops")
    chosen = _ops(ops)
    margin, bound = _real(margin, "margin"), _real(bound, "bound")
    if margin < 0 or bound <= 0:
        raise ValueError(f"expressions() needs margin >= 0 and bound > 0, got {margin}, {bound}")
    inputs = finite_floats(min_value, max_value)

    # Each step is drawn as (op, a few numbers that pick its operands), independently of the
    # values, so Hypothesis can delete any step while shrinking and the rest still make sense.
    plans = st.lists(
        st.tuples(st.sampled_from(chosen), st.lists(st.integers(0, 255), min_size=1, max_size=7)),
        min_size=1, max_size=max_ops,
    )

    @st.composite
    def draw_expression(draw) -> Expression:
        point = tuple(draw(inputs) for _ in range(n_inputs))
        nodes = list(point)
        steps = []
        for op, picks in draw(plans):
            step = _step(op, picks, nodes, margin, bound)
            if step is not None:
                nodes.append(step.apply([nodes[i] for i in step.operands]))
                steps.append(step)
        assume(steps)
        return Expression(point, tuple(steps))

    return draw_expression()


def _step(op: Op, picks: list[int], nodes: list[float], margin: float, bound: float) -> Step | None:
    """`op` applied to earlier nodes chosen by `picks`, where it is defined and smooth, or None."""
    n = len(nodes)
    if op.arity is None:  # n-ary (sum, max, dot): the picks are the operands
        if op.name == "dot":
            pairs = max(1, min(3, len(picks) // 2))
            operands = [picks[i % len(picks)] % n for i in range(2 * pairs)]
            operands += [p % n for p in picks[2 * pairs : 2 * pairs + 1]]  # the bias, if any
        else:
            operands = [p % n for p in picks[:4]]
        step = Step(op, tuple(operands))
        return step if _smooth(step, nodes, margin, bound) else None
    exponents = EXPONENTS if op is OPS["pow"] else (None,)
    candidates = [
        Step(op, operands, exponent)
        for operands in product(range(n), repeat=op.arity - (op is OPS["pow"]))
        for exponent in exponents
    ]
    candidates = [step for step in candidates if _smooth(step, nodes, margin, bound)]
    return candidates[picks[0] % len(candidates)] if candidates else None


def _smooth(step: Step, nodes: list[float], margin: float, bound: float) -> bool:
    """Whether the op table says `step` is defined and smooth at these nodes, `margin` away
    from its kinks and the edges of its domain, with its value and local slopes in `bound`."""
    op = step.op
    args = [nodes[i] for i in step.operands]
    if step.exponent is not None:
        args.append(step.exponent)
    if not op.defined_at(*args) or any(abs(args[0] - k) < margin for k in op.kinks):
        return False
    if op.kink_distance is not None and not op.kink_distance(*args) >= margin:
        return False  # max: the largest input must lead the others by the margin
    movable = 1 if step.exponent is not None else len(args)  # the exponent is a constant
    for i in range(movable):
        for shift in (-margin, margin):
            moved = list(args)
            moved[i] += shift
            if op.domain is not None and not op.domain(*moved):
                return False
    out = op.evaluate(*args)
    slopes = op.local_grads(out, *args)
    return all(math.isfinite(v) and abs(v) <= bound for v in (out, *slopes))


def _writer(op: Op) -> Callable:
    # Functions such as autograd.tanh take floats and Values alike.
    return getattr(autograd, op.name) if op.function else _WRITTEN[op.name]


def _ops(ops) -> list[Op]:
    if ops is None:
        chosen = list(OPS.values())
    elif isinstance(ops, (str, Op)):
        raise TypeError(f"expressions(ops=...) needs a list of op names, got {ops!r}: write [{ops!r}]")
    else:
        chosen = []
        for op in ops:
            name = op.name if isinstance(op, Op) else op
            if name not in OPS:
                raise ValueError(f"unknown op {name!r}; known ops: {sorted(OPS)}")
            chosen.append(OPS[name])
    if not chosen:
        raise ValueError("expressions(ops=...) needs at least one op")
    unwritten = [op.name for op in chosen if not op.function and op.name not in _WRITTEN]
    if unwritten:
        raise ValueError(
            f"autograd.testing does not know how to write the op(s) {unwritten} in an expression: "
            "add them to autograd/testing.py's _WRITTEN"
        )
    return chosen


# ---- networks -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MLPCase:
    """A small network: `sizes` (inputs, hidden..., outputs), its `parameters` (per neuron, the
    weights then the bias, layer by layer) and one input sample `x`.

    `case(*parameters)` runs the network on `x` and returns its outputs (one Value per output
    neuron): tanh hidden layers and a linear last layer, each neuron one `autograd.dot` node.
    So `gradcheck(case, case.parameters, fast_mode=True)` checks every parameter's gradient.
    """

    sizes: tuple[int, ...]
    parameters: tuple[float, ...]
    x: tuple[float, ...]

    def __call__(self, *parameters) -> list:
        if len(parameters) != len(self.parameters):
            raise TypeError(f"this network has {len(self.parameters)} parameters, got {len(parameters)}")
        signals, k = list(self.x), 0
        for layer, (n_in, n_out) in enumerate(zip(self.sizes, self.sizes[1:])):
            outputs = []
            for _ in range(n_out):
                w, b = parameters[k : k + n_in], parameters[k + n_in]
                k += n_in + 1
                z = _value.dot(w, signals, b)
                outputs.append(z if layer == len(self.sizes) - 2 else autograd.tanh(z))
            signals = outputs
        return signals


def mlp_cases(
    max_inputs: int = 3, max_width: int = 4, max_layers: int = 2, max_outputs: int = 2
) -> st.SearchStrategy[MLPCase]:
    """Networks with 1..max_inputs inputs, 1..max_layers hidden layers of 1..max_width neurons
    and 1..max_outputs outputs, weights in [-1, 1] and an input sample in [-2, 2]."""
    limits = [_count(n, name) for n, name in ((max_inputs, "max_inputs"), (max_width, "max_width"),
                                               (max_layers, "max_layers"), (max_outputs, "max_outputs"))]
    max_inputs, max_width, max_layers, max_outputs = limits

    @st.composite
    def draw_case(draw) -> MLPCase:
        hidden = draw(st.lists(st.integers(1, max_width), min_size=1, max_size=max_layers))
        sizes = (draw(st.integers(1, max_inputs)), *hidden, draw(st.integers(1, max_outputs)))
        n = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
        weights = draw(st.lists(finite_floats(-1.0, 1.0), min_size=n, max_size=n))
        x = draw(st.lists(finite_floats(-2.0, 2.0), min_size=sizes[0], max_size=sizes[0]))
        return MLPCase(sizes, tuple(weights), tuple(x))

    return draw_case()


# ---- testing the tests ----------------------------------------------------------------------------
@contextmanager
def swapped_partials(op: str | Op, partials: Callable[..., tuple]) -> Iterator[Op]:
    """Give op `op` (a name in `autograd.OPS` or the record) other partials inside the block,
    restored on the way out even when the block raises: a wrong derivative your gradient
    tests should catch. It changes the one op table, so every graph in this process sees it,
    compiled programs too: their array form (`numpy_partials`) is swapped for `partials`
    applied to the arrays, or element by element where `partials` takes a Python decision
    (an `if`) that arrays cannot.

        >>> import autograd
        >>> with swapped_partials("tanh", lambda out, a: (1 - out,)):  # not 1 - out**2
        ...     autograd.gradcheck(autograd.tanh, [0.5], raise_exception=False)
        False
    """
    record = _ops([op])[0]
    if not callable(partials):
        raise TypeError(f"swapped_partials() needs a function (out, *inputs) -> tuple, got {_show(partials)}")
    originals = record.partials, record.numpy_partials
    # Op is frozen: bypass, then restore
    object.__setattr__(record, "partials", partials)
    object.__setattr__(record, "numpy_partials", _on_arrays(partials))
    try:
        yield record
    finally:
        object.__setattr__(record, "partials", originals[0])
        object.__setattr__(record, "numpy_partials", originals[1])


def _on_arrays(partials: Callable[..., tuple]) -> Callable[..., tuple]:
    """`partials` on numpy arrays: directly where it can, else one element at a time."""

    def numpy_partials(out, *inputs) -> tuple:
        try:
            return partials(out, *inputs)
        except (TypeError, ValueError):  # `if a > 0` on an array, math.cos(array), ...
            arrays = np.broadcast_arrays(out, *inputs)
            rows = [partials(*items) for items in zip(*(a.ravel().tolist() for a in arrays))]
            return tuple(np.reshape(column, arrays[0].shape) for column in zip(*rows))

    return numpy_partials


# ---- argument checks ----------------------------------------------------------------------------
def _real(x, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} needs a real number, got {_show(x)}")
    if not math.isfinite(x):
        raise ValueError(f"{what} needs a finite number, got {x}")
    return float(x)


def _count(n, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{what} needs a positive int, got {n!r} ({type(n).__name__})")
    if n < 1:
        raise ValueError(f"{what} needs a positive int, got {n!r}")
    return int(n)
