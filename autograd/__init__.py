"""glassgrad's engine: a scalar autograd you can watch.

    >>> from autograd import Value
    >>> x = Value(2.0, label="x"); w = Value(-3.0, label="w")
    >>> y = (x * w).tanh()
    >>> y.backward()
    >>> x.grad == -3.0 * (1 - y.data ** 2)
    True

`autograd.tanh(x)`, `autograd.exp(x)`, ... take a Value (and build a node) or a plain number
(and return a float with IEEE results: `autograd.log(0.0)` is `-inf`), so one function can be
run on floats and on Values. They, `autograd.sum`, `autograd.max` and `autograd.dot` come from
the op table (`autograd/ops.py`): one function per record whose notation is a call, and a record
registered later (`autograd.ops.register`) gets its function here too.
"""
from __future__ import annotations

import _glassgrad_guard  # first: marks this engine as glassgrad's (see that module)
_glassgrad_guard.note_glassgrad_autograd(__file__)
from . import ops
from .check import GradcheckError, gradcheck, gradgradcheck
from .compiler import Program, compile
from .draw import Drawing, GraphvizNotFound, draw, node_ids
from .functional import grad, gradients, value_and_grad
from .graph import topological_order
from .modes import (Scope, current_scope, detect_anomaly, is_grad_enabled, no_grad, paused_gc,
                    scope)
from .ops import OPS, Op
from .players.html import Player, player
from .players.terminal import step
from .steps import Afterwards, Steps, backprop_steps
from .tracing import TracingError, is_tracing
from .value import Value, backward, function_for, zero_grad

__all__ = [
    "Value", "Op", "OPS", "backward", "zero_grad", "topological_order",
    "grad", "gradients", "value_and_grad", "no_grad", "is_grad_enabled", "detect_anomaly",
    "scope", "Scope", "current_scope", "paused_gc", "gradcheck", "gradgradcheck", "GradcheckError", "backprop_steps", "Steps", "Afterwards",
    "step", "player", "Player",
    "draw", "node_ids", "Drawing", "GraphvizNotFound",
    "compile", "Program", "TracingError", "is_tracing",
]  # and one function per op called by name (autograd.tanh, autograd.sum, ...), added below

_published: dict[str, object] = {}


def _publish(op: Op) -> None:
    """`autograd.<name>` for an op that is called by name, and its entry in `__all__`."""
    function = function_for(op)
    if function is None:
        return
    if op.name in globals():
        raise ValueError(f"op {op.name!r} cannot become autograd.{op.name}: the name is taken")
    globals()[op.name] = _published[op.name] = function
    __all__.append(op.name)


def _withdraw(op: Op) -> None:
    if _published.pop(op.name, None) is not None:
        del globals()[op.name]
        __all__.remove(op.name)


ops.follow(_publish, _withdraw)
