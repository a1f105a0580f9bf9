"""Gradients as functions: `grad(f)`, `value_and_grad(f)` and `gradients(root, wrt)`.

`grad(f)` returns a new function that computes f's derivative. Given plain numbers it returns
plain numbers; given Values it returns Values built with `create_graph=True`, so the result can
be differentiated again: `grad(grad(f))` is the second derivative.

`gradients` runs the same chain rule as `Value.backward()` into a dict of its own: it never
reads or writes a `.grad`, which is what lets these functions nest, and lets a thread call it
while another runs `backward()` on the same leaves.
"""
from __future__ import annotations

from typing import Callable, Sequence

from .graph import topological_order
from .modes import paused_gc
from .value import Value, _as_float, _show, chain_rule


def gradients(
    root: Value, wrt: Sequence[Value], *, grad: float = 1.0, create_graph: bool = False
) -> list:
    """d root / d w for each w in `wrt`, without reading or writing any `.grad` (so it may run
    while other threads run `backward()` on the same graph).

    A w that `root` does not depend on gets 0.0. With `create_graph=True` the results are
    Values that can be differentiated again.
    """
    if not isinstance(root, Value):
        raise TypeError(f"gradients() needs a Value to differentiate, got {_show(root)}")
    for w in wrt:
        if not isinstance(w, Value):
            raise TypeError(f"gradients(wrt=...) needs Values, got {_show(w)}")
    if not root.requires_grad:
        return [0.0 for _ in wrt]
    seed = _as_float(grad, "gradients(grad=...)")
    with paused_gc():  # see modes.paused_gc: the walk and the chain rule make no cycles
        order = topological_order(root, gradient_only=True)
        grads = chain_rule(order, root, Value(seed, requires_grad=False) if create_graph else seed,
                           create_graph)
    return [grads.get(w, 0.0) for w in wrt]


def value_and_grad(f: Callable[..., Value], argnums: int | Sequence[int] = 0) -> Callable:
    """A function returning `(f(*args), derivative of f with respect to args[argnums])`.

    With a tuple `argnums` the derivative is a tuple, one entry per argument.
    """
    if not callable(f):
        raise TypeError(f"value_and_grad() needs a function, got {_show(f)}")
    positions = _positions(argnums)

    def value_and_derivative(*args):
        for i in positions:
            if i >= len(args):
                raise TypeError(
                    f"argnums={argnums!r} asks for argument {i}, but the function got "
                    f"{len(args)} argument(s)"
                )
        # Any Value argument may carry a graph to differentiate again (grad of grad).
        again = any(isinstance(a, Value) for a in args)
        args = list(args)
        for i in positions:
            if not isinstance(args[i], Value):
                args[i] = Value(_as_float(args[i], f"argument {i}"), label=f"arg{i}")
        out = f(*args)
        if isinstance(out, Value):
            derivative = gradients(out, [args[i] for i in positions], create_graph=again)
        elif isinstance(out, (int, float)):
            derivative = [0.0 for _ in positions]  # a constant function
        else:
            raise TypeError(f"grad(f) needs f to return one Value, but it returned {_show(out)}")
        value = out if again or not isinstance(out, Value) else out.data
        return value, derivative[0] if isinstance(argnums, int) else tuple(derivative)

    value_and_derivative.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return value_and_derivative


def grad(f: Callable[..., Value], argnums: int | Sequence[int] = 0) -> Callable:
    """The derivative of `f` with respect to `args[argnums]`, as a function. Composes."""
    value_and_derivative = value_and_grad(f, argnums)

    def derivative(*args):
        return value_and_derivative(*args)[1]

    derivative.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return derivative


def _positions(argnums) -> tuple[int, ...]:
    if isinstance(argnums, bool) or not isinstance(argnums, (int, tuple, list)):
        raise TypeError(f"argnums needs an int or a tuple of ints, got {argnums!r}")
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not positions or any(not isinstance(i, int) or i < 0 for i in positions):
        raise ValueError(f"argnums needs non-negative argument positions, got {argnums!r}")
    return positions
