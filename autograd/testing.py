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
  A `RandomExpression` runs on floats and on Values, and prints as let-bindings.
- `op_inputs` / `check_partials`: points where one op of the table is defined and smooth, and
  the check that its partials keep the op table's contract there (the same numbers on floats,
  numpy float64, arrays and Values; on Values, differentiable again; gradgradcheck passes).
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

from .check import GradcheckError, gradgradcheck
from .graph import topological_order
from .ops import OPS, Infix, Op, Power, Prefix, Variadic, WeightedSum, split_dot
from .value import Value, _apply, _show

MARGIN = 0.05  # how far from a kink or the edge of a domain an op is applied
BOUND = 100.0  # largest |value| and |local slope| an expression keeps
EXPONENTS = (2.0, 3.0, -1.0, -2.0, 0.5, 1.5, 0.0)  # the constant exponents `pow` is drawn with


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
class Binding:
    """One let-binding of a `RandomExpression`: `op` applied to earlier nodes (indices; inputs
    come first)."""

    op: Op
    operands: tuple[int, ...]
    exponent: float | None = None  # pow's constant exponent

    def apply(self, args: Sequence):
        """The op on floats (the op table's IEEE-safe forward) or on Values (the public API)."""
        constants = () if self.exponent is None else (self.exponent,)
        if not any(isinstance(a, Value) for a in args):
            return self.op.evaluate(*[float(a) for a in args], *constants)
        return _writer(self.op)(*args, *constants)

    def text(self, names: Sequence[str]) -> str:
        """The right-hand side as Python: `t2 * x0`, `tanh(t3)`, `dot([t2], [x1], x0)`."""
        args = [names[i] for i in self.operands]
        constants = () if self.exponent is None else (f"{self.exponent:g}",)
        return self.op.python(*args, *constants)


@dataclass(frozen=True)
class RandomExpression:
    """A random expression: `inputs` (the point it was drawn at) and its let-binding `steps`.

    Call it with one float or Value per input; the last step is the output. `str()` gives the
    program, one binding per line; `repr()` the same on one line.
    """

    inputs: tuple[float, ...]
    steps: tuple[Binding, ...]

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
        return f"RandomExpression({'; '.join(self.bindings())})"


def expressions(
    n_inputs: int = 2,
    max_ops: int = 6,
    ops: Iterable[str | Op] | None = None,
    *,
    min_value: float = -3.0,
    max_value: float = 3.0,
    margin: float = MARGIN,
    bound: float = BOUND,
) -> st.SearchStrategy[RandomExpression]:
    """Random expressions (`RandomExpression`) over `n_inputs` inputs drawn from [min_value,
    max_value], with 1 to `max_ops` steps using the ops named in `ops` (default: every op in
    `autograd.OPS` when the strategy is made, ops registered later too)."""
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
    def draw_expression(draw) -> RandomExpression:
        point = tuple(draw(inputs) for _ in range(n_inputs))
        nodes = list(point)
        steps = []
        for op, picks in draw(plans):
            step = _binding(op, picks, nodes, margin, bound)
            if step is not None:
                nodes.append(step.apply([nodes[i] for i in step.operands]))
                steps.append(step)
        assume(steps)
        return RandomExpression(point, tuple(steps))

    return draw_expression()


def _binding(op: Op, picks: list[int], nodes: list[float], margin: float,
             bound: float) -> Binding | None:
    """`op` applied to earlier nodes chosen by `picks`, where it is defined and smooth, or None."""
    n = len(nodes)
    notation = op.notation
    if notation.arity is None:  # n-ary (sum, max, dot): the picks are the operands
        if isinstance(notation, WeightedSum):
            pairs = max(1, min(3, len(picks) // 2))
            operands = [picks[i % len(picks)] % n for i in range(2 * pairs)]
            operands += [p % n for p in picks[2 * pairs : 2 * pairs + 1]]  # the bias, if any
        else:
            operands = [p % n for p in picks[:4]]
        binding = Binding(op, tuple(operands))
        return binding if _smooth(op, [nodes[i] for i in operands], 0, margin, bound) else None
    # pow's constant exponent is drawn from EXPONENTS; the other inputs are earlier nodes
    exponents = EXPONENTS if notation.constants else (None,)
    candidates = [
        Binding(op, operands, exponent)
        for operands in product(range(n), repeat=notation.arity - notation.constants)
        for exponent in exponents
    ]
    candidates = [b for b in candidates if _smooth(op, _arguments(b, nodes), notation.constants,
                                                   margin, bound)]
    return candidates[picks[0] % len(candidates)] if candidates else None


def _arguments(binding: Binding, nodes: list[float]) -> list[float]:
    args = [nodes[i] for i in binding.operands]
    return args if binding.exponent is None else [*args, binding.exponent]


def _smooth(op: Op, args: Sequence[float], constants: int, margin: float, bound: float) -> bool:
    """Whether the op table says `op` is defined and smooth at `args`, `margin` away from its
    kinks and the edges of its domain (moving any input but the last `constants`), with its
    value and local slopes in `bound`."""
    if not op.defined_at(*args) or any(abs(args[0] - k) < margin for k in op.kinks):
        return False
    if op.kink_distance is not None and not op.kink_distance(*args) >= margin:
        return False  # max: the largest input must lead the others by the margin
    for i in range(len(args) - constants):
        for shift in (-margin, margin):
            moved = list(args)
            moved[i] += shift
            if op.domain is not None and not op.domain(*moved):
                return False
    out = op.evaluate(*args)
    slopes = op.local_grads(out, *args)
    return all(math.isfinite(v) and abs(v) <= bound for v in (out, *slopes))


def _writer(op: Op) -> Callable:
    """How the public API applies `op` to its inputs in order: an operator (`operator.add`,
    `operator.pow`), or `autograd.<name>`, which takes floats and Values alike."""
    notation = op.notation
    if isinstance(notation, (Infix, Prefix, Power)):
        return getattr(operator, notation.dunder)
    function = getattr(autograd, op.name)
    if isinstance(notation, Variadic):
        return lambda *xs: function(xs)
    if isinstance(notation, WeightedSum):
        def weighted_sum(*xs):
            weights, inputs, bias = split_dot(xs)
            return function(weights, inputs, bias[0] if bias else None)

        return weighted_sum
    return function


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
    return chosen


# ---- one op: its points, and its partials contract ------------------------------------------
def op_inputs(
    op: str | Op,
    *,
    min_value: float = -3.0,
    max_value: float = 3.0,
    margin: float = MARGIN,
    bound: float = BOUND,
) -> st.SearchStrategy[tuple[float, ...]]:
    """Points where `op` (a name in `autograd.OPS`, or a record, in the table or not yet) is
    defined and smooth: its inputs in [min_value, max_value] (pow's constant exponent, from
    `EXPONENTS`, last), kept as `expressions` keeps each step: `margin` away from kinks and the
    edges of the domain, with the value and local slopes within `bound`. N-ary ops get 1 to 4
    inputs (a weighted sum 1 to 3 pairs, with or without a bias)."""
    record = _record(op)
    margin, bound = _real(margin, "margin"), _real(bound, "bound")
    notation = record.notation
    if isinstance(notation, WeightedSum):
        counts = st.tuples(st.integers(1, 3), st.integers(0, 1)).map(lambda pb: 2 * pb[0] + pb[1])
    elif notation.arity is None:
        counts = st.integers(1, 4)
    else:
        counts = st.just(notation.arity - notation.constants)
    numbers = finite_floats(min_value, max_value)
    constants = st.tuples(*[st.sampled_from(EXPONENTS)] * notation.constants)

    @st.composite
    def draw_point(draw) -> tuple[float, ...]:
        count = draw(counts)
        point = (*draw(st.lists(numbers, min_size=count, max_size=count)), *draw(constants))
        assume(_smooth(record, point, notation.constants, margin, bound))
        return point

    return draw_point()


class PartialsError(AssertionError):
    """`check_partials` found an op's partials breaking the contract; `.problems` lists how."""

    def __init__(self, op: Op, point: Sequence[float], problems: list[str]) -> None:
        self.op, self.point, self.problems = op, tuple(point), problems
        inputs = ", ".join(f"{n}={x!r}" for n, x in zip(op.input_names(len(point)), point))
        super().__init__(f"op {op.name!r} breaks the partials contract at {inputs}:\n"
                         + "\n".join(f"- {p}" for p in problems))


def check_partials(
    op: str | Op, inputs: Sequence[float], *, step: float = 1e-3, raise_exception: bool = True
) -> bool:
    """Check that the partials of `op` (a name in `autograd.OPS`, or a record, in the table or
    not yet) keep the op table's contract (see `autograd/ops.py`) at
    `inputs`, a point where it is defined and smooth (`op_inputs(op)` draws such points; pow's
    constant exponent comes last):

    - they give the same numbers on Python floats, numpy float64, 1-D numpy arrays and Values
      (to rounding: 1e-12 relative);
    - on Values, each partial that changes when an input moves (by `step`) is a Value whose
      graph reaches that input, so that it can be differentiated again: not a float, which is
      what `math.exp(a)` quietly makes of a Value (through `Value.__float__`);
    - `gradgradcheck` passes for the op at the point.

    Returns True; otherwise raises `PartialsError` (an AssertionError) listing each broken
    rule, or returns False with `raise_exception=False`.

        >>> import math
        >>> check_partials("exp", [0.5])
        True
        >>> with swapped_partials("exp", lambda out, a: (math.exp(a),)):  # a float on Values
        ...     check_partials("exp", [0.5], raise_exception=False)
        False
    """
    record = _record(op)
    point = [_real(x, "check_partials() inputs") for x in _point(inputs)]
    step = _real(step, "step")
    problems = _partials_problems(record, point, step)
    if problems and raise_exception:
        raise PartialsError(record, point, problems)
    return not problems


def _record(op: str | Op) -> Op:
    """A record as given (in the table or not yet), or the table's record of that name."""
    return op if isinstance(op, Op) else _ops([op])[0]


def _point(inputs) -> list:
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(f"check_partials() needs a sequence of numbers, got {_show(inputs)}")
    return list(inputs)


def _partials_problems(op: Op, point: list[float], step: float) -> list[str]:
    notation = op.notation
    count = len(point)
    if (notation.arity is not None and count != notation.arity) or count == 0:
        raise ValueError(f"check_partials(): op {op.name!r} takes {notation.arity or 'one or more'}"
                         f" inputs, got {count}")
    if not op.defined_at(*point):
        raise ValueError(f"check_partials(): op {op.name!r} is not defined and smooth at {point}"
                         f"{f' ({op.domain_text})' if op.domain_text else ''}; op_inputs(op) draws "
                         "points where it is")
    free = count - notation.constants  # the inputs that take a gradient
    names = op.input_names(count)
    rows = [point] + [_moved(op, point, j, step) for j in range(free)]
    try:
        on_floats = [tuple(op.partials(op.evaluate(*row), *row)) for row in rows]
    except Exception as error:  # noqa: BLE001 - a contract check reports what the partials do
        return [f"on floats, the partials raise {type(error).__name__}: {error}"]
    if len(on_floats[0]) != free:
        return [f"the partials give {len(on_floats[0])} entries for {free} inputs that take a "
                "gradient"]
    problems = _compare_on_float64(op, point, on_floats[0], names)
    problems += _compare_on_arrays(op, rows, on_floats, names)
    problems += _compare_on_values(op, point, free, on_floats, names)
    try:
        gradgradcheck(lambda *xs: _apply(op, (*xs, *map(_constant, point[free:]))), point[:free])
    except GradcheckError as error:
        problems.append("gradgradcheck fails: " + str(error).replace("\n", "; "))
    return problems


def _moved(op: Op, point: list[float], j: int, step: float) -> list[float]:
    """`point` with input j moved by `step` (or back by it), staying where the op is smooth."""
    for shift in (step, -step):
        moved = list(point)
        moved[j] += shift
        if op.defined_at(*moved):
            return moved
    raise ValueError(f"check_partials(): op {op.name!r} is not smooth within {step} of {point}")


def _same(a, b) -> bool:
    a, b = float(a), float(b)
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15) or (a != a and b != b)


def _compare_on_float64(op: Op, point, expected, names) -> list[str]:
    try:
        with np.errstate(all="ignore"):
            got = op.partials(np.float64(op.evaluate(*point)), *map(np.float64, point))
    except Exception as error:  # noqa: BLE001
        return [f"on numpy float64, the partials raise {type(error).__name__}: {error}"]
    return [f"on numpy float64, d/d{names[i]} is {float(g)!r}, on floats {e!r}"
            for i, (g, e) in enumerate(zip(got, expected)) if not _same(g, e)]


def _compare_on_arrays(op: Op, rows, on_floats, names) -> list[str]:
    columns = [np.array(column, dtype=float) for column in zip(*rows)]
    outs = np.array([op.evaluate(*row) for row in rows])
    try:
        got = op.array_grads(outs, *columns)
        got = [np.broadcast_to(np.asarray(g, dtype=float), outs.shape) for g in got]
    except Exception as error:  # noqa: BLE001
        return [f"on 1-D arrays, the partials raise {type(error).__name__}: {error} (a Python "
                "`if` or math.* on an input? give numpy_partials, or use the helpers in ops.py)"]
    return [f"on 1-D arrays, d/d{names[i]} at {list(row)} is {float(g[r])!r}, on floats "
            f"{on_floats[r][i]!r}"
            for i, g in enumerate(got) for r, row in enumerate(rows)
            if not _same(g[r], on_floats[r][i])]


def _compare_on_values(op: Op, point, free, on_floats, names) -> list[str]:
    leaves = [Value(x, names[j]) for j, x in enumerate(point[:free])]
    parents = (*leaves, *map(_constant, point[free:]))
    node = _apply(op, parents)
    try:
        got = op.partials(node, *parents)
    except Exception as error:  # noqa: BLE001
        return [f"on Values, the partials raise {type(error).__name__}: {error}"]
    problems = []
    for i, partial in enumerate(got):
        number = partial.data if isinstance(partial, Value) else partial
        if not _same(number, on_floats[0][i]):
            problems.append(f"on Values, d/d{names[i]} is {float(number)!r}, on floats "
                            f"{on_floats[0][i]!r}")
        reached = {id(v) for v in topological_order(partial)} if isinstance(partial, Value) else set()
        for j, leaf in enumerate(leaves):
            if on_floats[1 + j][i] != on_floats[0][i] and id(leaf) not in reached:
                problems.append(
                    f"on Values, d/d{names[i]} changes with {names[j]} but is "
                    + (f"a Value not built from {names[j]}" if isinstance(partial, Value)
                       else f"a {type(partial).__name__}")
                    + ", so its derivative is lost: compute it from the inputs with the helpers "
                    "of autograd/ops.py (ops.exp, ops.log, ...), not with math.* or float()")
    return problems


def _constant(x: float) -> Value:
    return Value(x, requires_grad=False)


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
                z = autograd.dot(w, signals, b)
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
