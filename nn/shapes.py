"""Nested lists of Values as small tensors: their shape, checking it, and walking them.

Convolutional and recurrent layers take images (channels x height x width) and sequences
(steps x features) as nested Python lists, so every number stays a `Value` you can draw and
step through. This module holds what they share: `shape_of` (which refuses ragged lists),
`as_values` (checks a shape, names what was expected, turns numbers into constants once),
`flat`, `mapped` and `reshaped`, and `positive_int` (sizes: a TypeError for a wrong type, a
ValueError for a wrong value). `Module` names the Values of a nested parameter by their dotted
index itself (`weight.3.0.1.2`).
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Sequence

import numpy as np

from autograd import Value

Nested = Any  # a Value, or a list of Nested


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of a nested list of Values or numbers: `()` for one, `(3, 8, 8)` for an image.

    Raises ValueError for ragged lists (rows of different lengths) and TypeError for anything
    that is not a number, a Value, a list or a tuple.
    """
    if isinstance(x, Value) or _is_number(x):
        return ()
    if not isinstance(x, (list, tuple)):
        raise TypeError(f"expected numbers or Values in nested lists, got {x!r} ({type(x).__name__})")
    if not x:
        return (0,)
    inner = [shape_of(item) for item in x]
    for i, item in enumerate(inner):
        if item != inner[0]:
            raise ValueError(f"ragged nested list: item {i} has shape {item}, item 0 has shape {inner[0]}")
    return (len(x),) + inner[0]


def positive_int(n: Any, what: str) -> int:
    """`n` as an int >= 1: a TypeError if it is not an int (bools and floats are not), a
    ValueError if it is < 1; `what` names it in the message ("Layer(nout)")."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{what} should be a positive int, got {n!r} ({type(n).__name__})")
    if n < 1:
        raise ValueError(f"{what} should be a positive int, got {n!r}")
    return int(n)


def describe(shape: Sequence[int | None], axes: Sequence[str]) -> str:
    """`(1 channels, any height, any width)`: an expected shape in words for error messages."""
    return "(" + ", ".join(f"{'any' if n is None else n} {axis}" for n, axis in zip(shape, axes)) + ")"


def as_values(x: Any, expected: Sequence[int | None] | None, axes: Sequence[str], who: str) -> Nested:
    """`x` (nested lists of numbers or Values, or a numpy array) checked against `expected`
    (an entry None: any length >= 1; `expected` None: any shape without empty lists) and
    returned as nested lists of Values; numbers become constants here, once."""
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if isinstance(x, Value) or _is_number(x):
        got: tuple[int, ...] = ()
    else:
        try:
            got = shape_of(x)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{who} takes nested lists of numbers or Values: {error}") from None
    if expected is None:
        if 0 in got:
            raise ValueError(f"{who} got an empty list (shape {got}); each list needs an item")
    elif len(got) != len(expected) or any(
        g == 0 or (want is not None and g != want) for g, want in zip(got, expected)
    ):
        raise ValueError(f"{who} expects input of shape {describe(expected, axes)}, got shape {got}")
    return mapped(lambda v: v if isinstance(v, Value) else Value(v, requires_grad=False), x)


def mapped(fn: Callable[[Any], Any], x: Nested) -> Nested:
    """`fn` applied to every element of a nested list; the nesting is kept."""
    if isinstance(x, (list, tuple)):
        return [mapped(fn, item) for item in x]
    return fn(x)


def flat(x: Nested) -> list:
    """The elements of a nested list in row-major order (the last index moves fastest)."""
    if not isinstance(x, (list, tuple)):
        return [x]
    out: list = []
    for item in x:
        out.extend(flat(item))
    return out


def reshaped(items: Sequence, shape: Sequence[int]) -> Nested:
    """A flat sequence laid out as nested lists of `shape` (row-major); sizes must match."""
    if len(items) != math.prod(shape):
        raise ValueError(f"cannot lay out {len(items)} items as shape {tuple(shape)} "
                         f"({math.prod(shape)} items)")
    if not shape:
        return items[0]
    step = len(items) // shape[0]
    return [reshaped(items[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]
