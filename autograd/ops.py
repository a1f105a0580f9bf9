"""The op table: every operation the engine knows, each derivative written once.

An `Op` record holds everything about one operation: its name and symbol, its float forward,
its local partial derivatives, a vectorised numpy form, a short formula for explanations, and
where it is defined and smooth. Everything else reads from here: `Value`'s operators and
methods, `backward()` (on floats) and `backward(create_graph=True)` (on Values), the gradient
checker, the Hypothesis strategies, the drawings and the step-through player. Adding an op means
adding one record to `OPS`.

Partials are written once and work on floats *and* on Values: `mul` is `(b, a)`, `tanh` is
`(1 - out*out,)`. `out` is the op's own result, so `exp` can reuse it (`(out,)`). A partials
function returns one entry per input that can carry a gradient; the constant exponent of `pow`
has none.

IEEE 754, not Python exceptions: Python's float maths raises on `1/0`, `log(0)`, `exp(1000)` or
`(-8) ** (1/3)`. `Op.evaluate` and `Op.local_grads` first try plain floats (fast), and where
Python raises they evaluate the same formula on numpy float64, which gives -inf, nan or inf as
IEEE and PyTorch do.
"""
from __future__ import annotations

import heapq
import math
import operator
from dataclasses import dataclass
from functools import reduce
from itertools import chain
from typing import Any, Callable, Sequence

import numpy as np


@dataclass(frozen=True, eq=False)
class Op:
    """One operation: how to compute it, how to differentiate it, how to explain it."""

    name: str  # "mul": also the method name for functions such as `tanh`
    symbol: str  # how drawings and explanations show it: "*", "tanh", "Σ"
    arity: int | None  # number of inputs, None for n-ary ops
    forward: Callable[..., float]  # floats in, float out
    partials: Callable[..., tuple]  # (out, *inputs) -> d out / d input, floats or Values
    numpy: Callable[..., Any]  # the forward on numpy arrays, elementwise over a batch
    formula: tuple[str, ...]  # d out / d input as text, one per input ("b", "a" for a*b)
    domain: Callable[..., bool] | None = None  # True where defined and differentiable
    domain_text: str = ""  # the same, for people: "a > 0"
    kinks: tuple[float, ...] = ()  # values of the first input where the slope jumps
    function: bool = False  # also available as `Value.name()` and `autograd.name(x)`
    numpy_partials: Callable[..., tuple] | None = None  # `partials` on arrays, where it branches
    # For kinks that depend on several inputs (max's ties): how far the inputs are from one
    # (max: the largest input minus the runner-up). Not smooth where it is 0 (or nan).
    kink_distance: Callable[..., float] | None = None

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
        exponent), `a1..an` for n-ary ops, `w1..wn, x1..xn, b` for dot."""
        if self.name == "dot":
            w, x, bias = split_dot(range(1, count + 1))
            return [f"w{i}" for i in w] + [f"x{i - len(w)}" for i in x] + ["b"] * len(bias)
        if self.arity is None:
            return [f"a{i + 1}" for i in range(count)]
        return ["a", "n" if self.name == "pow" else "b"][:count]

    def expression(self, *names: str) -> str:
        """How the op reads with its inputs named: `a * b`, `tanh(a)`, `Σ(a, b, c)`."""
        if self.arity == 2:
            return f"{names[0]} {self.symbol} {names[1]}"
        if self.name == "neg":
            return f"-{names[0]}"
        return f"{self.symbol}({', '.join(names)})"

    def defined_at(self, *inputs: float) -> bool:
        """True where the op is defined and smooth (off its kinks)."""
        if self.domain is not None and not self.domain(*inputs):
            return False
        if self.kink_distance is not None and not self.kink_distance(*inputs) > 0:
            return False
        return not inputs or inputs[0] not in self.kinks

    def __repr__(self) -> str:
        return f"<op {self.name} '{self.symbol}'>"


# Helpers the partials call: they work on floats (IEEE on numpy float64) and on Values.
def _unary(math_fn: Callable, numpy_fn: Callable, method: str) -> Callable:
    def apply(x):
        if isinstance(x, (np.float64, np.ndarray)):
            return numpy_fn(x)
        if isinstance(x, (int, float)):
            return math_fn(x)
        return getattr(x, method)()

    return apply


_log = _unary(math.log, np.log, "log")
_sin = _unary(math.sin, np.sin, "sin")
_cos = _unary(math.cos, np.cos, "cos")


def _power(a, b):
    """a ** b on floats (real results only: math.pow raises where ** would go complex)."""
    if isinstance(a, np.float64) or isinstance(b, np.float64):
        return np.power(np.float64(a), np.float64(b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.pow(a, b)
    return a**b


def _pow_const(a: float, n: float) -> float:
    # a*a is exactly rounded; libm's pow need not be, and x*x, x**2, x**2.0 must agree.
    return a * a if n == 2 else math.pow(a, n)


def _sigmoid(a: float) -> float:
    # Two branches so that exp never overflows: exp(-a) for a >= 0, exp(a) otherwise.
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _np_sigmoid(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _relu(a: float) -> float:
    return 0.0 if a <= 0 else a  # written so that relu(nan) is nan, as in PyTorch


def _sign(a) -> float:
    return 1.0 if a > 0 else -1.0 if a < 0 else 0.0  # abs'(0) = 0, PyTorch's subgradient


def _fsum(*terms: float) -> float:
    return math.fsum(terms)


def split_dot(args: Sequence) -> tuple[Sequence, Sequence, Sequence]:
    """A dot node's inputs are w_1..w_n, x_1..x_n and, with a bias, b (an odd count):
    `(weights, inputs, bias)`, the bias part empty or of length one."""
    n = len(args) // 2
    return args[:n], args[n : 2 * n], args[2 * n :]


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


ADD = Op("add", "+", 2, operator.add, lambda out, a, b: (1.0, 1.0), np.add, ("1", "1"))
SUB = Op("sub", "-", 2, operator.sub, lambda out, a, b: (1.0, -1.0), np.subtract, ("1", "-1"))
MUL = Op("mul", "*", 2, operator.mul, lambda out, a, b: (b, a), np.multiply, ("b", "a"))
DIV = Op(
    "div", "/", 2, operator.truediv,
    lambda out, a, b: (1 / b, -out / b),  # -out/b = -a/b²
    np.divide, ("1/b", "-a/b²"),
    domain=lambda a, b: b != 0, domain_text="b ≠ 0",
)
NEG = Op("neg", "-", 1, operator.neg, lambda out, a: (-1.0,), np.negative, ("-1",))
POW = Op(  # a ** n with a constant exponent n (a number, or a Value that needs no gradient)
    "pow", "**", 2, _pow_const,
    lambda out, a, n: (n * _power(a, n - 1) if n != 0 else 0.0,),  # d(a**0)/da = 0, as PyTorch
    np.power, ("n·a^(n-1)",),
    numpy_partials=lambda out, a, n: (np.where(n != 0, n * np.power(a, n - 1), 0.0),),
    domain=lambda a, n: a > 0 or (_is_integer(n) and (a != 0 or n >= 1 or n == 0)),
    domain_text="a > 0, or n an integer (and a ≠ 0 when n is negative)",
)
POWV = Op(  # a ** b where the exponent b carries a gradient too
    "powv", "**", 2, math.pow,
    lambda out, a, b: (
        b * _power(a, b - 1) if b != 0 else 0.0,
        out * _log(a) if not (a == 0 and b >= 0) else 0.0,  # PyTorch: 0 where a = 0, b >= 0
    ),
    np.power, ("b·a^(b-1)", "a^b·ln(a)"),
    numpy_partials=lambda out, a, b: (
        np.where(b != 0, b * np.power(a, b - 1), 0.0),
        np.where((a == 0) & (b >= 0), 0.0, out * np.log(a)),
    ),
    domain=lambda a, b: a > 0, domain_text="a > 0",
)
EXP = Op("exp", "exp", 1, math.exp, lambda out, a: (out,), np.exp, ("exp(a)",), function=True)
LOG = Op(
    "log", "log", 1, math.log, lambda out, a: (1 / a,), np.log, ("1/a",),
    domain=lambda a: a > 0, domain_text="a > 0", function=True,
)
TANH = Op(
    "tanh", "tanh", 1, math.tanh, lambda out, a: (1 - out * out,), np.tanh, ("1 - tanh(a)²",),
    function=True,
)
SIGMOID = Op(
    "sigmoid", "σ", 1, _sigmoid, lambda out, a: (out * (1 - out),), _np_sigmoid,
    ("σ(a)·(1 - σ(a))",), function=True,
)
RELU = Op(
    "relu", "relu", 1, _relu, lambda out, a: (1.0 if a > 0 else 0.0,),
    lambda a: np.where(a <= 0, 0.0, a), ("1 if a > 0 else 0",), kinks=(0.0,), function=True,
    numpy_partials=lambda out, a: (np.where(a > 0, 1.0, 0.0),),
)
ABS = Op(
    "abs", "abs", 1, abs, lambda out, a: (_sign(a),), np.abs, ("sign(a)",),
    kinks=(0.0,), function=True,
    numpy_partials=lambda out, a: (np.where(a > 0, 1.0, np.where(a < 0, -1.0, 0.0)),),
)
SQRT = Op(
    "sqrt", "sqrt", 1, math.sqrt, lambda out, a: (0.5 / out,), np.sqrt, ("1 / (2·sqrt(a))",),
    domain=lambda a: a > 0, domain_text="a > 0", function=True,
)
SIN = Op("sin", "sin", 1, math.sin, lambda out, a: (_cos(a),), np.sin, ("cos(a)",), function=True)
COS = Op(
    "cos", "cos", 1, math.cos, lambda out, a: (-_sin(a),), np.cos, ("-sin(a)",), function=True
)
SUM = Op(
    "sum", "Σ", None, _fsum, lambda out, *xs: (1.0,) * len(xs),
    lambda *xs: reduce(np.add, xs), ("1",),
)
MAX = Op(  # the largest input; its gradient goes to the first largest one
    "max", "max", None, _max, _max_partials, _np_max,
    ("1 for the first largest input, else 0",),
    numpy_partials=_np_max_partials, kink_distance=_max_gap,
)
DOT = Op(  # w·x + b as one node: a neuron's pre-activation
    "dot", "·", None, _dot, _dot_partials, _np_dot, ("x_i", "w_i", "1"),
)

OPS: dict[str, Op] = {
    op.name: op
    for op in (ADD, SUB, MUL, DIV, NEG, POW, POWV, EXP, LOG, TANH, SIGMOID, RELU, ABS, SQRT,
               SIN, COS, SUM, MAX, DOT)
}
"""Every op, by name. The one table everything else reads."""
