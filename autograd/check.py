"""Gradient checking: the engine's gradients against finite differences.

Why: a derivative written by hand (in the op table, or in a user's own function) can be wrong
in a way no example catches. `gradcheck` compares what the backward pass says with what the
function itself says when nudged: the central difference (f(x+h) - f(x-h)) / 2h. A gradient
passes when |analytical - numerical| <= atol + rtol * |numerical|.

Finite differences can only judge smooth points, so before blaming the engine a failing
gradient is looked at twice more: where values are nan or infinite it says so instead of
comparing them, and where the slope from the left and the slope from the right disagree (the
jump between them does not shrink with the step, as it would for a smooth curve) it says the
input sits on a kink, where any subgradient is a convention, not an error.

`eps` is an absolute step, as in `torch.autograd.gradcheck`: it means the same at every input,
so a kink or the edge of a domain is never stepped over silently. At large inputs (x = 1e8
with eps = 1e-6) f moves by so little that rounding f swamps the difference. The checker does
not rescale the step behind the caller's back; when the gap is within what rounding can
explain, the failure is of kind "precision", and its line says so and suggests an eps for
that input (about 6e-6·|x|, the usual central-difference step).

`fast_mode` compares along one seeded random unit direction u instead of along every input:
two evaluations of f instead of 2n, so the parameters of a whole network can be checked. The
analytical side is then the directional derivative, the dot product of the gradient with u.
"""
from __future__ import annotations

import math
import numbers
import random
import sys
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from .functional import gradients
from .value import Value, _show

KINDS = ("mismatch", "kink", "precision", "non-finite", "nondeterministic")


@dataclass(frozen=True)
class GradcheckFailure:
    """One gradient that did not check out, and why (`kind`, one of `KINDS`)."""

    kind: str
    output: int  # which output row (for gradgradcheck: which first derivative)
    input: int | None  # which input, or None for the random direction of fast_mode
    x: float | None  # that input's value (None along a direction)
    analytical: float
    numerical: float
    allowed: float  # atol + rtol * |numerical|
    line: str  # the sentence a person reads

    def __str__(self) -> str:
        return self.line


@dataclass(frozen=True)
class GradcheckReport:
    """Everything `gradcheck` compared: the settings and the gradients that failed."""

    check: str  # "gradcheck" or "gradgradcheck"
    eps: float
    atol: float
    rtol: float
    fast_mode: bool
    seed: int
    compared: int  # how many gradients (or directional derivatives) were compared
    failures: tuple[GradcheckFailure, ...]

    @property
    def ok(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        mode = f", fast_mode with seed={self.seed}" if self.fast_mode else ""
        header = (
            f"{self.check} failed for {len(self.failures)} of {self.compared} gradients "
            f"(eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}{mode}; "
            f"pass if |analytical - numerical| <= atol + rtol*|numerical|)"
        )
        return "\n".join([header, *(failure.line for failure in self.failures)])


class GradcheckError(AssertionError):
    """Raised by `gradcheck`/`gradgradcheck`; `.report` is the `GradcheckReport`."""

    def __init__(self, report: GradcheckReport) -> None:
        super().__init__(str(report))
        self.report = report


def gradcheck(
    f: Callable[..., Value | Sequence[Value]],
    inputs: Sequence[float | Value] | float | Value,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check the backward pass of `f` at `inputs` against central differences.

    `f` takes one Value per input and returns a Value, or a list of Values (one row per
    output). `inputs` are numbers or Values (a list, a 1-D numpy array, or just one); only their `.data` is read, and every evaluation
    builds fresh leaves, so the caller's Values and grads are left alone. Also checks that a
    second build gives bit-identical gradients. `eps` is an absolute step: at large inputs a
    failure may be reported as lost precision, with an eps to try. Returns True when every
    gradient passes; otherwise raises `GradcheckError` (or returns False with `raise_exception=False`).

        >>> import autograd
        >>> autograd.gradcheck(lambda x, y: (x * y).tanh(), [0.5, -1.5])
        True
    """
    _check_callable(f, "gradcheck")
    return _run(f, inputs, _Settings("gradcheck", eps, atol, rtol, fast_mode, seed, raise_exception))


def gradgradcheck(
    f: Callable[..., Value | Sequence[Value]],
    inputs: Sequence[float | Value] | float | Value,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: `gradcheck` of f's first derivatives, which the engine builds
    as Values with `create_graph=True`. Row k of the report is d(output k // n)/d(input k % n)
    for n inputs.

        >>> import autograd
        >>> autograd.gradgradcheck(lambda x: x.sin() * x, [0.3])
        True
    """
    _check_callable(f, "gradgradcheck")

    def first_derivatives(*leaves: Value) -> list[Value]:
        rows = []
        for row in _rows(f(*leaves), "gradgradcheck"):
            for g in gradients(row, leaves, create_graph=True):
                rows.append(g if isinstance(g, Value) else Value(g, requires_grad=False))
        return rows

    settings = _Settings("gradgradcheck", eps, atol, rtol, fast_mode, seed, raise_exception)
    return _run(first_derivatives, inputs, settings, _second_order_name)


# ---- the comparison ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Settings:
    """What a check was asked for: its name, the step, the tolerances and the mode."""

    check: str  # "gradcheck" or "gradgradcheck"
    eps: float
    atol: float
    rtol: float
    fast_mode: bool
    seed: int
    raise_exception: bool

    def validated(self) -> _Settings:
        """The same settings as floats and an int, or a clear error for a bad one."""
        eps = _tolerance(self.eps, "eps", self.check, positive=True)
        atol, rtol = _tolerance(self.atol, "atol", self.check), _tolerance(self.rtol, "rtol", self.check)
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral):
            raise TypeError(f"{self.check}(seed=...) needs an int, got {_show(self.seed)}")
        return replace(self, eps=eps, atol=atol, rtol=rtol, seed=int(self.seed))

    def report(self, compared: int, failures: list[GradcheckFailure]) -> GradcheckReport:
        """The report of a check run with these settings."""
        return GradcheckReport(self.check, self.eps, self.atol, self.rtol, self.fast_mode,
                               self.seed, compared, tuple(failures))


class _Function:
    """The checked function at points: fresh leaves each time, so the caller's Values are
    never touched; `evaluate` gives the outputs' numbers, `jacobian` also their gradients."""

    def __init__(self, f: Callable, labels: list[str], check: str) -> None:
        self.f, self.labels, self.check = f, labels, check

    def evaluate(self, at: list[float]) -> list[float]:
        return [row.data for row in _rows(self.f(*_leaves(at, self.labels)), self.check)]

    def jacobian(self, at: list[float]) -> tuple[list[float], list[list[float]]]:
        leaves = _leaves(at, self.labels)
        rows = _rows(self.f(*leaves), self.check)
        return [r.data for r in rows], [list(map(float, gradients(r, leaves))) for r in rows]


def _run(f, inputs, settings: _Settings, name_row: Callable[[int, int], str] | None = None) -> bool:
    """Compare `f`'s gradients at `inputs` with central differences; report or raise."""
    items = _items(inputs, settings.check)
    point = _points(items, settings.check)
    settings = settings.validated()
    labels = [x.label if isinstance(x, Value) and x.label else f"x{j}" for j, x in enumerate(items)]
    function = _Function(f, labels, settings.check)

    def name(i: int) -> str:
        return name_row(i, len(point)) if name_row else f"output {i}"

    f0, jac = function.jacobian(point)
    failures = _determinism(f0, jac, function.jacobian(point), point, name)
    directions = _directions(len(point), settings)
    for j, u in directions:
        failures += _along(function, point, j, u, f0, jac, settings, name)
    report = settings.report(len(directions) * len(jac), failures)
    if report.failures and settings.raise_exception:
        raise GradcheckError(report)
    return report.ok


def _directions(n: int, settings: _Settings) -> list[tuple[int | None, list[float]]]:
    """Along every input (its index, a unit vector), or with fast_mode along one seeded random
    unit direction (index None)."""
    if settings.fast_mode:
        rng = random.Random(settings.seed)
        u = [rng.gauss(0.0, 1.0) for _ in range(n)]
        norm = math.sqrt(math.fsum(c * c for c in u))
        return [(None, [c / norm for c in u])]
    return [(j, [1.0 if k == j else 0.0 for k in range(n)]) for j in range(n)]


def _along(function: _Function, point: list[float], j: int | None, u: list[float],
           f0: list[float], jac: list[list[float]], settings: _Settings,
           name: Callable[[int], str]) -> list[GradcheckFailure]:
    """Every output's gradient along direction `u` (input `j`) against the central
    difference: the failures."""
    eps = settings.eps
    plus, minus = _shifted(point, u, eps), _shifted(point, u, -eps)
    f_plus, f_minus = function.evaluate(plus), function.evaluate(minus)
    span = 2 * eps if j is None else plus[j] - minus[j]  # the step really taken
    x = None if j is None else point[j]
    failures = []
    for i, row in enumerate(jac):
        analytical = row[j] if j is not None else math.fsum(g * c for g, c in zip(row, u))
        numerical = (f_plus[i] - f_minus[i]) / span
        allowed = settings.atol + settings.rtol * abs(numerical)
        where = f"{name(i)} wrt input {j} (x={point[j]:.6g})" if j is not None else \
            f"{name(i)} along a random direction (seed={settings.seed})"

        def failure(kind: str, line: str) -> GradcheckFailure:
            return GradcheckFailure(kind, i, j, x, analytical, numerical, allowed, line)

        values = (f0[i], f_plus[i], f_minus[i], analytical, numerical)
        if not all(map(math.isfinite, values)):
            failures.append(failure(
                "non-finite",
                f"{where}: non-finite values, not compared: f={f0[i]:.6g} "
                f"f(x+h)={f_plus[i]:.6g} f(x-h)={f_minus[i]:.6g} "
                f"analytical={analytical:.6g} numerical={numerical:.6g}",
            ))
            continue
        diff = abs(analytical - numerical)
        if diff <= allowed:
            continue
        rounding = _rounding(f0[i], f_plus[i], f_minus[i], span)
        if diff <= rounding:
            size = abs(point[j]) if j is not None else max(map(abs, point))
            failures.append(failure(
                "precision",
                f"{where}: numerical derivative lost precision: |x|={size:.0e} with "
                f"eps={eps:g} moves f by so little that rounding f alone can shift the "
                f"slope by ~{rounding:.1e} (analytical={analytical:.6g} "
                f"numerical={numerical:.6g} |diff|={diff:.1e}); try eps={_step_for(size):g} "
                "(about 6e-6·|x|)",
            ))
            continue
        slopes = _kink(function.evaluate, point, u, eps, i, f0[i], f_plus[i], f_minus[i],
                       settings.atol, settings.rtol)
        if slopes is not None:
            left, right = slopes
            failures.append(failure(
                "kink",
                f"{where}: kink: the slope jumps from {left:.6g} (left) to {right:.6g} "
                f"(right), so the input sits on (or within 2*eps of) a non-differentiable "
                f"point, where finite differences cannot judge analytical={analytical:.6g}",
            ))
        else:
            failures.append(failure(
                "mismatch",
                f"{where}: analytical={analytical:.6g} numerical={numerical:.6g} "
                f"|diff|={diff:.1e} > allowed={allowed:.1e}",
            ))
    return failures


def _rounding(f0: float, f_plus: float, f_minus: float, span: float) -> float:
    """How far rounding alone can move the central difference: each f value is only known to
    about its last bits (a few machine epsilons of |f|, for a few ops), divided by the step."""
    return 4 * sys.float_info.epsilon * max(abs(f0), abs(f_plus), abs(f_minus)) / span


def _step_for(x: float) -> float:
    """The usual central-difference step at |x|: cbrt(machine epsilon) · max(1, |x|), which
    balances rounding against the curvature error; one significant digit."""
    return float(f"{sys.float_info.epsilon ** (1 / 3) * max(1.0, x):.1g}")


def _kink(evaluate, point, u, eps, i, f0, f_plus, f_minus, atol, rtol):
    """(left slope, right slope) if the slope jumps at the point, else None.

    On a smooth curve the gap between the one-sided slopes is about f''·h, so it doubles when
    the step doubles; at a kink it is the jump itself and does not grow. Two more evaluations,
    only for a gradient that already failed.
    """
    right, left = (f_plus - f0) / eps, (f0 - f_minus) / eps
    f_plus2 = evaluate(_shifted(point, u, 2 * eps))[i]
    f_minus2 = evaluate(_shifted(point, u, -2 * eps))[i]
    if not (math.isfinite(f_plus2) and math.isfinite(f_minus2)):
        return None
    gap, gap2 = right - left, (f_plus2 - f0) / (2 * eps) - (f0 - f_minus2) / (2 * eps)
    tolerance = atol + rtol * max(abs(left), abs(right))
    if abs(gap) > tolerance and abs(gap2 - 2 * gap) > tolerance:
        return left, right
    return None


def _determinism(f0, jac, again, point, name) -> list[GradcheckFailure]:
    """Failures where a second build gave different bits (outputs or gradients)."""
    f0_again, jac_again = again
    failures = []
    if len(f0_again) != len(f0) or [v.hex() for v in f0_again] != [v.hex() for v in f0]:
        failures.append(GradcheckFailure(
            "nondeterministic", 0, None, None, math.nan, math.nan, 0.0,
            f"two builds of f at the same inputs gave different outputs {f0} and {f0_again}: "
            "f (or the engine) is not deterministic",
        ))
        return failures
    for i, (row, row_again) in enumerate(zip(jac, jac_again)):
        for j, (g, g_again) in enumerate(zip(row, row_again)):
            if g.hex() != g_again.hex():
                failures.append(GradcheckFailure(
                    "nondeterministic", i, j, point[j], g, g_again, 0.0,
                    f"{name(i)} wrt input {j} (x={point[j]:.6g}): two builds gave different "
                    f"gradients {g!r} and {g_again!r}: f (or the engine) is not deterministic",
                ))
    return failures


# ---- helpers ------------------------------------------------------------------------------------
def _leaves(point: list[float], labels: list[str]) -> list[Value]:
    return [Value(x, label) for x, label in zip(point, labels)]


def _shifted(point: list[float], u: list[float], step: float) -> list[float]:
    return [x + step * c for x, c in zip(point, u)]


def _second_order_name(k: int, n: int) -> str:
    return f"d(output {k // n})/d(input {k % n})"


def _rows(out, check: str) -> list[Value]:
    rows = list(out) if isinstance(out, (list, tuple)) else [out]
    if not rows or not all(isinstance(r, Value) for r in rows):
        raise TypeError(
            f"{check} needs f to return a Value or a non-empty list of Values, got {_show(out)}"
            + ("" if isinstance(out, (list, tuple)) else
               " (build the result from the Values f is given, e.g. x.tanh() or x * y)")
        )
    return rows


def _items(inputs, check: str) -> list:
    """The inputs as a list: a list or tuple, a 1-D numpy array, or one number or Value."""
    if isinstance(inputs, np.ndarray):
        if inputs.ndim > 1:
            raise ValueError(
                f"{check} needs a 1-D array of inputs (one number per input), got a numpy array "
                f"of shape {inputs.shape}: pass .ravel() and reshape inside f"
            )
        return [inputs.item()] if inputs.ndim == 0 else inputs.tolist()
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


def _points(items: list, check: str) -> list[float]:
    if not items:
        raise ValueError(f"{check} needs at least one input, got an empty sequence")
    point = []
    for j, x in enumerate(items):
        value = x.data if isinstance(x, Value) else x
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{check} needs numbers or Values as inputs; input {j} is {_show(x)}")
        if not math.isfinite(value):
            raise ValueError(f"{check} needs finite inputs; input {j} is {float(value)}")
        point.append(float(value))
    return point


def _tolerance(x, name: str, check: str, positive: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x) \
            or x < 0 or (positive and x == 0):
        need = "a positive" if positive else "a non-negative"
        raise ValueError(f"{check}({name}=...) needs {need} finite number, got {x!r}")
    return float(x)


def _check_callable(f, check: str) -> None:
    if not callable(f):
        raise TypeError(f"{check} needs a function of Values as its first argument, got {_show(f)}")
