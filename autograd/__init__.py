"""glassgrad's engine: a scalar autograd you can watch.

    >>> from autograd import Value
    >>> x = Value(2.0, label="x"); w = Value(-3.0, label="w")
    >>> y = (x * w).tanh()
    >>> y.backward()
    >>> x.grad == -3.0 * (1 - y.data ** 2)
    True

`autograd.tanh(x)`, `autograd.exp(x)`, ... take a Value (and build a node) or a plain number
(and return a float with IEEE results: `autograd.log(0.0)` is `-inf`), so one function can be
run on floats and on Values.
"""
from __future__ import annotations

import _glassgrad_guard  # first: marks this engine as glassgrad's (see that module)
_glassgrad_guard.note_glassgrad_autograd(__file__)
from .check import GradcheckError, gradcheck, gradgradcheck
from .compiler import Program, compile
from .draw import Drawing, GraphvizNotFound, draw, node_ids
from .functional import grad, gradients, value_and_grad
from .graph import topological_order
from .modes import Scope, detect_anomaly, is_grad_enabled, no_grad, paused_gc, scope
from .ops import OPS, Op
from .players.html import Player, player
from .players.terminal import step
from .steps import Steps, backprop_steps
from .tracing import TracingError
from .value import Value, _apply, _as_float, backward, dot, max, sum, zero_grad


def _function(op: Op):
    def function(x):
        if isinstance(x, Value):
            return _apply(op, (x,))
        return op.evaluate(_as_float(x, f"autograd.{op.name}()"))

    function.__name__ = function.__qualname__ = op.name
    function.__doc__ = (
        f"{op.symbol}(x) for a Value (a new node) or a number (a float). "
        f"d/dx = {op.formula[0]}."
    )
    return function


for _op in OPS.values():
    if _op.function:
        globals()[_op.name] = _function(_op)

__all__ = [
    "Value", "Op", "OPS", "backward", "dot", "max", "sum", "zero_grad", "topological_order",
    "grad", "gradients", "value_and_grad", "no_grad", "is_grad_enabled", "detect_anomaly",
    "scope", "Scope", "paused_gc", "gradcheck", "gradgradcheck", "GradcheckError", "backprop_steps", "Steps",
    "step", "player", "Player",
    "draw", "node_ids", "Drawing", "GraphvizNotFound",
    "compile", "Program", "TracingError",
] + [op.name for op in OPS.values() if op.function]
