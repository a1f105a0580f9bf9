"""The op table: every operation the engine knows, each derivative written once.

An `Op` record holds everything about one operation: its name and symbol, how it is written and
called (its `notation`), its float forward, its local partial derivatives, a vectorised numpy
form, a short formula for explanations, and where it is defined and smooth. Everything else
reads from here, never from an op's name: `Value`'s operators and methods, `autograd.<name>`,
`backward()` (on floats) and `backward(create_graph=True)` (on Values), the gradient checker,
the Hypothesis strategies, the drawings, the step-through players and the command line's
grammar. Adding an op means adding one record to `OPS` (or `register`ing it at run time).

How an op is written, six kinds (see `Notation`):

- `Infix("__add__")`: a binary Python operator, `a + b`, with its reflected form (`2 + a`);
- `Prefix("__neg__")`: a unary Python operator, `-a`;
- `Power(constant_exponent=...)`: `a ** b`; two records share `**`: `pow` for a constant
  exponent (no gradient, named `n`), `powv` for an exponent that takes a gradient;
- `Call(arity)`: a function of `arity` inputs, `tanh(a)`, `atan2(a, b)`: `autograd.<name>(...)`
  and the method `a.<name>(...)` (`Call(1, dunder="__abs__")`: Python's `abs(x)` too);
- `Variadic(ordered=...)`: one or more inputs that play one part, `autograd.max(values)`;
- `WeightedSum()`: `w0·x0 + ... + wn·xn + b` as one node, `autograd.dot(weights, inputs, bias)`.

The partials contract. `partials(out, *inputs)` returns d out / d input, one entry per input
that can carry a gradient (`pow`'s constant exponent has none), where `out` is the op's own
result (`exp` reuses it: `(out,)`). It is written once and must give the same numbers on four
kinds of number:

- Python floats (the backward pass), and numpy float64 (the IEEE fallback below);
- 1-D numpy arrays, elementwise (compiled programs; through `array_grads`, so an op whose
  partials decide with a Python `if` also gives `numpy_partials`, the same rule with `np.where`);
- Values (`backward(create_graph=True)`), where every entry that depends on an input must be a
  Value built from that input, so that it can be differentiated again.

So partials use arithmetic operators and the helpers below (`log`, `exp`, `sin`, `cos`,
`sigmoid`, `power`), which pick `math` for floats, numpy for float64 and arrays, and the Value
method for Values. Never `math.exp(a)` on an input: on a Value it quietly goes through
`Value.__float__` and returns a float, so first derivatives stay right and second derivatives
come out wrong. `autograd.testing.check_partials` checks the contract at a point, and
`tests/test_ops.py` runs it, with `gradgradcheck`, for every record of `OPS`. A record whose
partials are all ones (sum) or pick the first input equal to the result (max) says so in
`partials_are`, and compiled programs run a block of its nodes without calling them per input.

IEEE 754, not Python exceptions: Python's float maths raises on `1/0`, `log(0)`, `exp(1000)` or
`(-8) ** (1/3)`. `Op.evaluate` and `Op.local_grads` first try plain floats (fast), and where
Python raises they evaluate the same formula on numpy float64, which gives -inf, nan or inf as
IEEE and PyTorch do.

This module is the ground floor: it imports nothing of the package.
"""
from __future__ import annotations

import heapq
import keyword
import math
import operator
import pickle
from contextlib import contextmanager
from dataclasses import dataclass
from functools import reduce
from itertools import chain
from typing import Any, Callable, ClassVar, Iterator, Sequence

import numpy as np


# ---- how an op is written and called --------------------------------------------------------
class Notation:
    """How an op is written and called: the base of the six kinds below.

    Readers ask this, never an op's name: `arity`, `constants` (trailing inputs that take no
    gradient), `input_names` (what formulas call each input), `expression` (how explanations
    read), `python` (how the public API writes it), `labelled` (whether drawings name each
    incoming edge) and `formulas`."""

    arity: int | None  # number of inputs; None for one or more (each kind sets it)
    constants = 0  # trailing inputs that are constants without a partial (pow's exponent n)
    labelled = False  # drawings name each incoming edge: where the inputs' order matters

    def input_names(self, count: int) -> list[str]:
        """`a`, `b`, `c`, ... for an op of fixed arity."""
        return [chr(ord("a") + i) for i in range(count)]

    def expression(self, symbol: str, names: Sequence[str], elide: int | None = None) -> str:
        """How the op reads with its inputs named (or numbered): `tanh(a)`, `a * b`. N-ary
        ops with more than `elide` inputs write the middle ones as `…`."""
        return f"{symbol}({', '.join(names)})"

    def python(self, name: str, symbol: str, names: Sequence[str]) -> str:
        """The op as Python, written with the public API: `tanh(x)`, `x * y`, `sum([x, y])`."""
        return f"{name}({', '.join(names)})"

    def formulas(self, formula: Sequence[str], names: Sequence[str]) -> list[str]:
        """The op's formula for each of its inputs (`""` for a constant without a partial)."""
        return list(formula) + [""] * (len(names) - len(formula))

    def formula_summary(self, formula: Sequence[str], wrts: Sequence[str]) -> list[tuple[str, str]]:
        """The formulas once each, as (input, formula): for a node with too many inputs to list."""
        return list(zip(wrts, formula))


def _wrapped(names: Sequence[str]) -> list[str]:
    """Operands of an operator, negative ones in parentheses: `x - (-1)`, `-(-2)`."""
    return [f"({n})" if n.startswith("-") else n for n in names]


def _elided(items: Sequence[str], elide: int | None) -> list[str]:
    if elide is None or len(items) <= elide:
        return list(items)
    return [*items[:3], "…", *items[-2:]]


class _BetweenTwo(Notation):
    """Written between its two inputs, with its symbol: `a + b`, `a ** b`."""

    arity = 2

    def expression(self, symbol, names, elide=None) -> str:
        a, b = _wrapped(names)
        return f"{a} {symbol} {b}"

    def python(self, name, symbol, names) -> str:
        return f"{names[0]} {symbol} {names[1]}"


@dataclass(frozen=True)
class Infix(_BetweenTwo):
    """`a + b`: a binary Python operator. `Value` gets `dunder` and its reflected form
    (`__radd__`), so a number works on either side. The op's symbol is the operator as written."""

    dunder: str  # "__add__", "__truediv__": also the name of the function in `operator`
    ordered: bool = True  # a - b is not b - a: drawings then name the edges a and b

    @property
    def reflected(self) -> str:
        return "__r" + self.dunder[2:]

    @property
    def labelled(self) -> bool:  # type: ignore[override]
        return self.ordered


@dataclass(frozen=True)
class Prefix(Notation):
    """`-a`: a unary Python operator (`dunder`, such as `__neg__`)."""

    dunder: str
    arity: ClassVar[int] = 1

    def expression(self, symbol, names, elide=None) -> str:
        return f"{symbol}{_wrapped(names)[0]}"

    def python(self, name, symbol, names) -> str:
        return f"{symbol}{names[0]}"


@dataclass(frozen=True)
class Power(_BetweenTwo):
    """`a ** b`. Two records share the operator: with `constant_exponent` the exponent is a
    number (or a Value that takes no gradient), named `n`, without a partial (`pow`); without
    it, the exponent takes a gradient too (`powv`). `x ** y` picks the record by whether `y`
    takes a gradient."""

    constant_exponent: bool
    dunder: ClassVar[str] = "__pow__"
    labelled: ClassVar[bool] = True

    @property
    def constants(self) -> int:  # type: ignore[override]
        return 1 if self.constant_exponent else 0

    def input_names(self, count: int) -> list[str]:
        return ["a", "n" if self.constant_exponent else "b"][:count]


@dataclass(frozen=True)
class Call(Notation):
    """`name(a, ...)`: a function of `arity` inputs. It is `autograd.<name>(...)` (Values in: a
    new node; numbers in: a float) and the method `a.<name>(...)`; `dunder` is a Python builtin
    that reaches it too (`"__abs__"`: `abs(x)`)."""

    arity: int
    dunder: str | None = None

    @property
    def labelled(self) -> bool:  # type: ignore[override]
        return self.arity > 1  # atan2(a, b): which edge is a


@dataclass(frozen=True)
class Variadic(Notation):
    """`name(a1, ..., an)`: one or more inputs that play one part, as one node:
    `autograd.<name>(values)`. `ordered`: whether their order matters (max: the first of equals
    takes the gradient); drawings then number the edges a1, a2, ..."""

    ordered: bool = False
    arity: ClassVar[None] = None

    @property
    def labelled(self) -> bool:  # type: ignore[override]
        return self.ordered

    def input_names(self, count: int) -> list[str]:
        return [f"a{i + 1}" for i in range(count)]

    def expression(self, symbol, names, elide=None) -> str:
        return f"{symbol}({', '.join(_elided(names, elide))})"

    def python(self, name, symbol, names) -> str:
        return f"{name}([{', '.join(names)}])"

    def formulas(self, formula, names) -> list[str]:
        return [formula[0]] * len(names)

    def formula_summary(self, formula, wrts) -> list[tuple[str, str]]:
        return [("each input", formula[0])]


@dataclass(frozen=True)
class WeightedSum(Notation):
    """`w0·x0 + ... + wn·xn + b` as one node (a neuron's pre-activation):
    `autograd.<name>(weights, inputs, bias=None)`. The inputs are laid out w_1..w_n, x_1..x_n,
    then the bias if any (`split_dot`); the op's formulas are those of a w_i, an x_i and b."""

    arity: ClassVar[None] = None
    labelled: ClassVar[bool] = True

    def input_names(self, count: int) -> list[str]:
        # counted from 0, as nn names a neuron's weights (w.0, w.1, ...) and Python its lists
        w, x, bias = split_dot(range(count))
        return [f"w{i}" for i in w] + [f"x{i - len(w)}" for i in x] + ["b"] * len(bias)

    def expression(self, symbol, names, elide=None) -> str:
        weights, inputs, bias = split_dot(names)
        terms = [f"{w}{symbol}{x}" for w, x in zip(weights, inputs)] + list(bias)
        return " + ".join(_elided(terms, elide))

    def python(self, name, symbol, names) -> str:
        weights, inputs, bias = split_dot(names)
        tail = "".join(", " + b for b in bias)
        return f"{name}([{', '.join(weights)}], [{', '.join(inputs)}]{tail})"

    def formulas(self, formula, names) -> list[str]:
        # ∂/∂w_i = x_i and ∂/∂x_i = w_i, named after the actual inputs; ∂/∂b = 1
        weights, inputs, bias = split_dot(names)
        return [*inputs, *weights, *[formula[2]] * len(bias)]

    def formula_summary(self, formula, wrts) -> list[tuple[str, str]]:
        pairs = [("w_i", formula[0]), ("x_i", formula[1])]
        return pairs + ([("b", formula[2])] if split_dot(wrts)[2] else [])


def split_dot(args: Sequence) -> tuple[Sequence, Sequence, Sequence]:
    """A weighted sum's inputs are w_1..w_n, x_1..x_n and, with a bias, b (an odd count):
    `(weights, inputs, bias)`, the bias part empty or of length one."""
    n = len(args) // 2
    return args[:n], args[n : 2 * n], args[2 * n :]


# ---- the record ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Op:
    """One operation: how to compute it, differentiate it, write it and explain it."""

    name: str  # "mul", "tanh": how code and the tables refer to it; a Call's function name
    symbol: str  # how drawings and explanations show it: "*", "tanh", "Σ"
    notation: Notation  # how it is written and called: Infix("__mul__"), Call(1), ...
    forward: Callable[..., float]  # floats in, float out
    partials: Callable[..., tuple]  # (out, *inputs) -> d out / d input: see the contract above
    numpy: Callable[..., Any]  # the forward on numpy arrays, elementwise over a batch
    formula: tuple[str, ...]  # d out / d input as text, one per input ("b", "a" for a*b)
    domain: Callable[..., bool] | None = None  # True where defined and differentiable
    domain_text: str = ""  # the same, for people: "a > 0"
    kinks: tuple[float, ...] = ()  # values of the first input where the slope jumps
    numpy_partials: Callable[..., tuple] | None = None  # `partials` on arrays, where it branches
    # For kinks that depend on several inputs (max's ties): how far the inputs are from one
    # (max: the largest input minus the runner-up). Not smooth where it is 0 (or nan).
    kink_distance: Callable[..., float] | None = None
    # What every partial is, where it is one of two simple patterns (readers on arrays then need
    # not call `partials` per input): "ones" (each is 1: the op adds its inputs, as sum),
    # "first equal" (1 for the first input equal to the result, or the first nan when it is
    # nan, 0 for the others: the op picks one input, as max); "" when it says nothing.
    partials_are: str = ""
    doc: str = ""  # what help() says of autograd.<name>, after what the notation says

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"an op's name must be a Python name (letters, digits, _), got {name!r}")
        if not isinstance(self.notation, Notation):
            raise TypeError(f"op {self.name!r}: notation must be one of Infix, Prefix, Power, Call, "
                            f"Variadic, WeightedSum, got {self.notation!r}")
        formula = self.formula
        if not isinstance(formula, tuple) or not formula or not all(isinstance(f, str) for f in formula):
            raise ValueError(f"op {self.name!r}: formula must be a tuple of strings, one per input")

    @property
    def arity(self) -> int | None:
        """The number of inputs; None for n-ary ops."""
        return self.notation.arity

    def array_grads(self, out: Any, *inputs: Any) -> tuple:
        """The partials on numpy arrays, elementwise over a batch (IEEE results, no warnings).

        `partials` itself is used unless it decides with a Python `if`, which arrays cannot do;
        those ops carry the same rule written with `np.where` as `numpy_partials`.
        """
        with np.errstate(all="ignore"):
            return (self.numpy_partials or self.partials)(out, *inputs)

    def evaluate(self, *inputs: float) -> float:
        """The forward on floats, with IEEE results (inf, -inf, nan) where Python would raise."""
        try:
            return self.forward(*inputs)
        except (ArithmeticError, ValueError):
            with np.errstate(all="ignore"):
                return float(self.numpy(*map(np.float64, inputs)))

    def local_grads(self, out: float, *inputs: float) -> tuple[float, ...]:
        """The partials at a point, as floats, with IEEE results where Python would raise."""
        try:
            return self.partials(out, *inputs)
        except (ArithmeticError, ValueError):
            with np.errstate(all="ignore"):
                grads = self.partials(np.float64(out), *map(np.float64, inputs))
            return tuple(map(float, grads))

    def input_names(self, count: int) -> list[str]:
        """What the formulas call each of `count` inputs: `a`, `b` (`n` for pow's constant
        exponent), `a1..an` for n-ary ops, `w0..wn-1, x0..xn-1, b` for a weighted sum."""
        return self.notation.input_names(count)

    def expression(self, *names: str, elide: int | None = None) -> str:
        """How the op reads with its inputs named: `a * b`, `tanh(a)`, `Σ(a, b, c)`,
        `w0·x0 + w1·x1 + b`; past `elide` inputs, n-ary ops write the middle ones as `…`."""
        return self.notation.expression(self.symbol, names, elide)

    def python(self, *names: str) -> str:
        """The op applied to `names` as Python, with the public API: `tanh(x)`, `x ** 2`,
        `sum([x, y])`, `dot([w1, w2], [x1, x2], b)`."""
        return self.notation.python(self.name, self.symbol, names)

    def formulas(self, *names: str) -> list[str]:
        """The local derivative for each input as text, `formula` laid out over the inputs."""
        return self.notation.formulas(self.formula, names)

    def defined_at(self, *inputs: float) -> bool:
        """True where the op is defined and smooth (off its kinks)."""
        if self.domain is not None and not self.domain(*inputs):
            return False
        if self.kink_distance is not None and not self.kink_distance(*inputs) > 0:
            return False
        return not inputs or inputs[0] not in self.kinks

    def __repr__(self) -> str:
        return f"<op {self.name} '{self.symbol}'>"

    # A record is one of a kind: copies are the record itself, and pickle writes its name (its
    # functions may be lambdas), which `_op_named` looks up in the receiving process's table.
    def __reduce__(self):
        if OPS.get(self.name) is not self:
            raise pickle.PicklingError(
                f"op {self.name!r} is not in the op table (unregistered or replaced), so a graph "
                "using it cannot be pickled: ops are pickled by name"
            )
        return _op_named, (self.name,)

    def __copy__(self) -> Op:
        return self

    def __deepcopy__(self, memo: dict) -> Op:
        return self


def _op_named(name: str) -> Op:
    """The record of the table named `name`, for pickle (see `Op.__reduce__`)."""
    if name not in OPS:
        raise pickle.UnpicklingError(
            f"the pickled graph uses op {name!r}, which this process's op table does not have: "
            f"register the same record first (autograd.ops.register)"
        )
    return OPS[name]


# ---- helpers for partials: each works on floats, numpy float64, arrays and Values ------------
def _on_any_number(math_fn: Callable, numpy_fn: Callable, method: str) -> Callable:
    def apply(x):
        if isinstance(x, (np.float64, np.ndarray)):
            return numpy_fn(x)
        if isinstance(x, (int, float)):
            return math_fn(x)
        return getattr(x, method)()  # a Value: a node, so it can be differentiated again

    apply.__name__ = method
    apply.__doc__ = f"{method}(x) on a float, a numpy float64 or array, or a Value (a node)."
    return apply


def power(a, b):
    """a ** b on floats (real results only: math.pow raises where ** would go complex), numpy
    float64 and arrays, or Values (a node)."""
    if isinstance(a, np.float64) or isinstance(b, np.float64):
        return np.power(np.float64(a), np.float64(b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.pow(a, b)
    return a**b


def _pow_const(a: float, n: float) -> float:
    # a*a is exactly rounded; libm's pow need not be, and x*x, x**2, x**2.0 must agree. And
    # a**0.5 is sqrt(a), as in PyTorch, so that x**0.5 and sqrt(x) agree bit for bit: pow and
    # sqrt part at -0.0 (pow gives +0.0, IEEE 754's sqrt keeps the sign: -0.0) and at -inf
    # (pow gives inf, sqrt nan, as for any negative number).
    if n == 2:
        return a * a
    return math.sqrt(a) if n == 0.5 else math.pow(a, n)


def _np_pow_const(a, n):
    if np.ndim(n) == 0:  # one exponent for the whole batch, as usual: one numpy call
        return np.sqrt(a) if n == 0.5 else np.power(a, n)
    return np.where(n == 0.5, np.sqrt(a), np.power(a, n))


def _pow_const_partials(out, a, n) -> tuple:
    # sqrt's own slope where the forward is sqrt: 0.5/out is 1/(2·sqrt(a)), and at -0.0 it is
    # 0.5/-0.0 = -inf, as PyTorch's. d(a**0)/da = 0, as PyTorch's.
    if n == 0.5:
        return (0.5 / out,)
    return (n * power(a, n - 1) if n != 0 else 0.0,)


def _sigmoid(a: float) -> float:
    # Two branches so that exp never overflows: exp(-a) for a >= 0, exp(a) otherwise.
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _np_sigmoid(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


log = _on_any_number(math.log, np.log, "log")
exp = _on_any_number(math.exp, np.exp, "exp")
sin = _on_any_number(math.sin, np.sin, "sin")
cos = _on_any_number(math.cos, np.cos, "cos")
sigmoid = _on_any_number(_sigmoid, _np_sigmoid, "sigmoid")


def _relu(a: float) -> float:
    return 0.0 if a <= 0 else a  # written so that relu(nan) is nan, as in PyTorch


def _sign(a) -> float:
    return 1.0 if a > 0 else -1.0 if a < 0 else 0.0  # abs'(0) = 0, PyTorch's subgradient


def _fsum(*terms: float) -> float:
    return math.fsum(terms)


def _dot(*args: float) -> float:
    w, x, bias = split_dot(args)
    return math.fsum(chain(map(operator.mul, w, x), bias))


def _np_dot(*args):
    w, x, bias = split_dot(args)
    return reduce(np.add, chain(map(np.multiply, w, x), bias))


def _dot_partials(out, *args) -> tuple:
    # d/dw_i = x_i, d/dx_i = w_i, d/db = 1
    w, x, bias = split_dot(args)
    return x + w + (1.0,) * len(bias)


def _max(*xs: float) -> float:
    # nan if any input is nan (as np.maximum and PyTorch), else the largest.
    top = max(xs)
    return math.nan if any(x != x for x in xs) else top


def _np_max(*xs):
    return reduce(np.maximum, xs)


def _first_max(out, xs) -> int:
    """The position of the first input equal to `out` (the first nan when `out` is nan)."""
    top = float(out)
    for i, x in enumerate(xs):
        x = float(x)
        if x == top or (x != x and top != top):
            return i
    return 0


def _max_partials(out, *xs) -> tuple:
    # 1 for the first largest input, 0 for the others: the gradient goes to one input, the
    # first on ties, as torch.max(x, dim) and max pooling do.
    first = _first_max(out, xs)
    return tuple(1.0 if i == first else 0.0 for i in range(len(xs)))


def _np_max_partials(out, *xs) -> tuple:
    taken = np.zeros(np.shape(out), dtype=bool)
    grads = []
    for x in xs:
        hit = ((x == out) | ((x != x) & (out != out))) & ~taken
        taken |= hit
        grads.append(np.where(hit, 1.0, 0.0))
    return tuple(grads)


def _max_gap(*xs: float) -> float:
    """How far the largest input is above the runner-up (inf for one input, nan with a nan)."""
    if len(xs) < 2:
        return math.inf
    top, runner_up = heapq.nlargest(2, xs)
    return math.nan if any(x != x for x in xs) else top - runner_up


def _is_integer(n: float) -> bool:
    return float(n).is_integer()


# ---- the table ---------------------------------------------------------------------------------
ADD = Op(
    "add", "+", Infix("__add__", ordered=False), operator.add, lambda out, a, b: (1.0, 1.0),
    np.add, ("1", "1"),
)
SUB = Op(
    "sub", "-", Infix("__sub__"), operator.sub, lambda out, a, b: (1.0, -1.0), np.subtract,
    ("1", "-1"),
)
MUL = Op(
    "mul", "*", Infix("__mul__", ordered=False), operator.mul, lambda out, a, b: (b, a),
    np.multiply, ("b", "a"),
)
DIV = Op(
    "div", "/", Infix("__truediv__"), operator.truediv,
    lambda out, a, b: (1 / b, -out / b),  # -out/b = -a/b²
    np.divide, ("1/b", "-a/b²"),
    domain=lambda a, b: b != 0, domain_text="b ≠ 0",
)
NEG = Op("neg", "-", Prefix("__neg__"), operator.neg, lambda out, a: (-1.0,), np.negative, ("-1",))
POW = Op(  # a ** n with a constant exponent n (a number, or a Value that needs no gradient)
    "pow", "**", Power(constant_exponent=True), _pow_const, _pow_const_partials,
    _np_pow_const, ("n·a^(n-1)",),
    numpy_partials=lambda out, a, n: (
        np.where(n == 0.5, 0.5 / out, np.where(n != 0, n * np.power(a, n - 1), 0.0)),),
    domain=lambda a, n: a > 0 or (_is_integer(n) and (a != 0 or n >= 1 or n == 0)),
    domain_text="a > 0, or n an integer (and a ≠ 0 when n is negative)",
)
POWV = Op(  # a ** b where the exponent b carries a gradient too
    "powv", "**", Power(constant_exponent=False), math.pow,
    lambda out, a, b: (
        # PyTorch: 0 at a = b = 0 (where 0·0^-1 is nan). Not a plain 0 wherever b = 0: d/da
        # is 0 there but changes with b, and a float would lose that second derivative.
        b * power(a, b - 1) if b != 0 or a != 0 else 0.0,
        out * log(a) if not (a == 0 and b >= 0) else 0.0,  # PyTorch: 0 where a = 0, b >= 0
    ),
    np.power, ("b·a^(b-1)", "a^b·ln(a)"),
    numpy_partials=lambda out, a, b: (
        np.where((b != 0) | (a != 0), b * np.power(a, b - 1), 0.0),
        np.where((a == 0) & (b >= 0), 0.0, out * np.log(a)),
    ),
    domain=lambda a, b: a > 0, domain_text="a > 0",
)
EXP = Op("exp", "exp", Call(1), math.exp, lambda out, a: (out,), np.exp, ("exp(a)",))
LOG = Op(
    "log", "log", Call(1), math.log, lambda out, a: (1 / a,), np.log, ("1/a",),
    domain=lambda a: a > 0, domain_text="a > 0",
)
TANH = Op(
    "tanh", "tanh", Call(1), math.tanh, lambda out, a: (1 - out * out,), np.tanh,
    ("1 - tanh(a)²",),
)
SIGMOID = Op(
    "sigmoid", "σ", Call(1), _sigmoid, lambda out, a: (out * (1 - out),), _np_sigmoid,
    ("σ(a)·(1 - σ(a))",),
)
RELU = Op(  # the slope of the branch the forward takes: relu(nan) is a's, so relu'(nan) = 1
    "relu", "relu", Call(1), _relu, lambda out, a: (0.0 if a <= 0 else 1.0,),  # as PyTorch's
    lambda a: np.where(a <= 0, 0.0, a), ("0 if a ≤ 0 else 1",), kinks=(0.0,),
    numpy_partials=lambda out, a: (np.where(a <= 0, 0.0, 1.0),),
)
ABS = Op(
    "abs", "abs", Call(1, dunder="__abs__"), abs, lambda out, a: (_sign(a),), np.abs,
    ("sign(a)",), kinks=(0.0,),
    numpy_partials=lambda out, a: (np.where(a > 0, 1.0, np.where(a < 0, -1.0, 0.0)),),
)
SQRT = Op(
    "sqrt", "sqrt", Call(1), math.sqrt, lambda out, a: (0.5 / out,), np.sqrt,
    ("1 / (2·sqrt(a))",), domain=lambda a: a > 0, domain_text="a > 0",
)
SIN = Op("sin", "sin", Call(1), math.sin, lambda out, a: (cos(a),), np.sin, ("cos(a)",))
COS = Op("cos", "cos", Call(1), math.cos, lambda out, a: (-sin(a),), np.cos, ("-sin(a)",))
SUM = Op(
    "sum", "Σ", Variadic(), _fsum, lambda out, *xs: (1.0,) * len(xs),
    lambda *xs: reduce(np.add, xs), ("1",), partials_are="ones",
    doc="Σ values as one node (not a chain of additions).",
)
MAX = Op(  # the largest input; its gradient goes to the first largest one
    "max", "max", Variadic(ordered=True), _max, _max_partials, _np_max,
    ("1 for the first largest input, else 0",),
    numpy_partials=_np_max_partials, kink_distance=_max_gap, partials_are="first equal",
    doc="The largest of `values` as one node. Its gradient goes to the largest input; on ties "
    "to the first of them (as `torch.max(x, dim)` and max pooling: one input gets it all). A "
    "nan input makes it nan.",
)
DOT = Op(  # w·x + b as one node: a neuron's pre-activation
    "dot", "·", WeightedSum(), _dot, _dot_partials, _np_dot, ("x_i", "w_i", "1"),
    doc="w·x (+ b) as one node: a neuron's pre-activation. `weights` and `inputs` may be any "
    "iterables (lists, generators, 1-D numpy arrays).",
)

OPS: dict[str, Op] = {
    op.name: op
    for op in (ADD, SUB, MUL, DIV, NEG, POW, POWV, EXP, LOG, TANH, SIGMOID, RELU, ABS, SQRT,
               SIN, COS, SUM, MAX, DOT)
}
"""Every op, by name. The one table everything else reads; change it with `register` and
`unregister`, so that the readers that turn records into Python names follow."""


# ---- changing the table -------------------------------------------------------------------------
_followers: list[tuple[Callable[[Op], None], Callable[[Op], None]]] = []


def follow(added: Callable[[Op], None], removed: Callable[[Op], None]) -> None:
    """Keep a reader in step with the table: `added(op)` now for every op in it and later for
    each op registered, `removed(op)` for each op unregistered. This is how the modules that
    turn records into Python names (Value's operators and methods, `autograd.<name>`) stay
    current; everything else reads `OPS`, or a node's own record, when it runs. `added` may
    refuse an op by raising (a name that is taken): the registration is then undone."""
    for op in list(OPS.values()):
        added(op)
    _followers.append((added, removed))


def register(op: Op) -> Op:
    """Add `op` to the table, and so to everything that reads it: `Value`'s operators and
    methods, `autograd.<name>`, the drawings and players, the command line's grammar and the
    strategies of `autograd.testing`. A name already in use (in the table, on Value, in
    `autograd`) is a ValueError, and nothing is changed."""
    if not isinstance(op, Op):
        raise TypeError(f"register() needs an Op record, got {type(op).__name__}")
    if op.name in OPS:
        raise ValueError(f"the op table has an op named {op.name!r} already")
    OPS[op.name] = op
    done: list[Callable[[Op], None]] = []
    try:
        for added, removed in _followers:
            added(op)
            done.append(removed)
    except BaseException:
        for removed in reversed(done):
            removed(op)
        del OPS[op.name]
        raise
    return op


def unregister(op: Op | str) -> Op:
    """Take `op` (a record, or its name) out of the table and out of everything that reads it."""
    name = op.name if isinstance(op, Op) else op
    if not isinstance(name, str) or name not in OPS or (isinstance(op, Op) and OPS[name] is not op):
        raise ValueError(f"{op!r} is not in the op table")
    record = OPS[name]
    for _, removed in reversed(_followers):
        removed(record)
    del OPS[name]
    return record


@contextmanager
def registered(*ops: Op) -> Iterator[tuple[Op, ...]]:
    """`register` the records for the length of a `with` block, and `unregister` them on the
    way out, even when the block raises: a temporary op, for a test or an experiment."""
    done: list[Op] = []
    try:
        for op in ops:
            done.append(register(op))
        yield tuple(ops)
    finally:
        for op in reversed(done):
            unregister(op)
