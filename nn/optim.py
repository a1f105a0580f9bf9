"""Optimizers: how parameters move once `backward()` has filled in their gradients.

`SGD` (with optional momentum, as in PyTorch: v = μ·v + g; p -= lr·v) and `Adam` (Kingma & Ba,
with bias correction). The learning rate is a number or a schedule: a callable that takes the
step number (0, 1, 2, ...) and returns the rate, e.g. micrograd's
`lambda k: 1.0 - 0.9 * k / 100`.

Each rule is written once, on arrays (`_rule`), and runs two ways with the same state:
`step()` on the parameters' Values (their numbers and grads gathered into arrays, the new
numbers written back into `p.data`), and `step_vector(numbers, grads)` on a vector of their
numbers, which is how `nn.fit(compiled=True)` trains without touching a Value per step. Both
give the same numbers as the rule written per parameter with Python floats: numpy's float64
arithmetic and square root round exactly as Python's do.

Updates build no graph; parameters that no backward pass reached (`grad is None`) are left
alone, as in PyTorch. A grad that is a Value (after `backward(create_graph=True)`) is used by
its number.
"""
from __future__ import annotations

import math
import numbers
import sys
from typing import Callable, Iterable

import numpy as np

import autograd
from autograd import Value

from .module import Module

Schedule = Callable[[int], float]
_LARGEST = sys.float_info.max


class Optimizer:
    """Holds the parameters and the learning rate (or schedule); counts steps. A subclass
    writes its rule on arrays: `_rule(numbers, grads, lr, where)` returns the new numbers of
    the parameters at `where` (a slice or an index array into its per-parameter state)."""

    def __init__(self, params: Iterable[Value], lr: float | Schedule) -> None:
        if isinstance(params, Module):
            raise TypeError(f"optimizers take a list of Values, got the module {params!r}: "
                            "pass model.parameters()")
        self.params = list(params)
        if not self.params:
            raise ValueError("an optimizer needs at least one parameter, got none")
        first: dict[int, int] = {}
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"optimizers take Values (model.parameters()), got {p!r}")
            if not p.requires_grad:
                raise ValueError(f"parameter {p.label or p!r} is a constant (requires_grad=False)")
            if id(p) in first:
                raise ValueError(f"parameter {p.label or p!r} is listed twice (at positions "
                                 f"{first[id(p)]} and {i}); each step would move it twice")
            first[id(p)] = i
        if not callable(lr):
            _rate(lr, "lr")
        self.lr = lr
        self.steps = 0

    def rate(self) -> float:
        """The learning rate for the next step."""
        if callable(self.lr):
            lr = self.lr(self.steps)
            if lr.__class__ is float and 0.0 <= lr <= _LARGEST:  # the usual case, checked quickly
                return lr
            return _rate(lr, f"the learning-rate schedule at step {self.steps}")
        return self.lr

    def zero_grad(self) -> None:
        """Clear the gradients before the next backward pass adds into them."""
        autograd.zero_grad(self.params)

    def step(self) -> None:
        """Move every parameter that has a `.grad` once, writing the new numbers into `.data`.

        All or nothing: if anything interrupts it (Ctrl-C's KeyboardInterrupt, any exception),
        the numbers already written and the state (step count, moments) are put back first."""
        grads = [p.grad for p in self.params]
        if None in grads:
            where = np.flatnonzero([g is not None for g in grads])
            params = [self.params[i] for i in where.tolist()]
            grads = [grads[i] for i in where.tolist()]
        else:
            where, params = slice(None), self.params
        numbers = np.fromiter((p.data for p in params), np.float64, len(params))
        gradient = np.fromiter((g.data if isinstance(g, Value) else g for g in grads),
                               np.float64, len(grads))
        state = self.checkpoint()
        try:
            for p, number in zip(params, self._step(numbers, gradient, where).tolist()):
                p.data = number
        except BaseException:
            self._undo(params, numbers, state)
            raise

    def _undo(self, params: list[Value], numbers: np.ndarray, state: dict) -> None:
        """Put back the numbers and the state a step started from. A second Ctrl-C (people
        press it twice) would leave a half-undone step, so it starts the undoing again: it
        writes the same numbers."""
        while True:
            try:
                for p, number in zip(params, numbers.tolist()):
                    p.data = number
                self.restore(state)
                return
            except KeyboardInterrupt:
                continue

    def step_vector(self, numbers: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """One step on the parameters' numbers as a vector (in the order of `params`) with
        their gradients: the new numbers. The state (step count, moments) moves on as with
        `step()` when every parameter has a grad; the Values are not touched."""
        shape = (len(self.params),)
        if np.shape(numbers) != shape or np.shape(grads) != shape:
            raise ValueError(f"step_vector() needs the numbers and the grads of the "
                             f"{len(self.params)} parameters as vectors of shape {shape}, got "
                             f"{np.shape(numbers)} and {np.shape(grads)}")
        state = self.checkpoint()
        try:
            return self._step(np.asarray(numbers, np.float64), np.asarray(grads, np.float64),
                              slice(None))
        except BaseException:
            self.restore(state)
            raise

    def checkpoint(self) -> dict:
        """The state (step count and the rule's arrays, which a step replaces and never
        changes in place), to `restore` if what follows a step is interrupted: a caller that
        keeps the numbers elsewhere (`nn.fit(compiled=True)`: a vector) puts both back."""
        return {name: getattr(self, name) for name in ("steps", *self._state)}

    def restore(self, state: dict) -> None:
        """Put back a `checkpoint`."""
        for name, value in state.items():
            setattr(self, name, value)

    _state: tuple[str, ...] = ()  # the attributes that hold a rule's state

    def _step(self, numbers: np.ndarray, grads: np.ndarray, where) -> np.ndarray:
        new = self._rule(numbers, grads, self.rate(), where)
        self.steps += 1
        return new

    def _rule(self, numbers: np.ndarray, grads: np.ndarray, lr: float, where) -> np.ndarray:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: p -= lr·g, or with momentum μ: v = μ·v + g; p -= lr·v."""

    def __init__(self, params: Iterable[Value], lr: float | Schedule, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        if not 0.0 <= _real(momentum, "SGD momentum should be a number in [0, 1)") < 1.0:
            raise ValueError(f"SGD momentum should be a number in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.velocity = np.zeros(len(self.params))

    _state = ("velocity",)

    def _rule(self, numbers, grads, lr, where):
        if self.momentum:
            grads = self.momentum * self.velocity[where] + grads
            _store(self, "velocity", where, grads)
        return numbers - lr * grads


class Adam(Optimizer):
    """Adam: moving averages of the gradient (m) and its square (v), bias-corrected.

    p -= lr · m̂ / (sqrt(v̂) + eps), m̂ = m / (1 - β1^t), v̂ = v / (1 - β2^t), where t counts
    the updates of that parameter (`counts`), as PyTorch does: a parameter that no backward pass
    reached on some steps (grad None) is corrected by its own number of updates.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float | Schedule = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        what = "Adam betas should be two numbers in [0, 1)"
        if not isinstance(betas, (tuple, list)):
            raise TypeError(f"{what}, got {betas!r} ({type(betas).__name__})")
        if len(betas) != 2 or not all(0.0 <= _real(b, what) < 1.0 for b in betas):
            raise ValueError(f"{what}, got {betas!r}")
        if not _real(eps, "Adam eps should be a positive number") > 0:
            raise ValueError(f"Adam eps should be a positive number, got {eps!r}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.m = np.zeros(len(self.params))
        self.v = np.zeros(len(self.params))
        # each parameter's count of updates is _counts + _full: steps where every parameter
        # had a grad (all of them, on vectors) only add to _full, so a step costs no pass
        # over the counts while they are all the same (_even)
        self._counts = np.zeros(len(self.params), dtype=np.int64)
        self._full, self._even = 0, True

    _state = ("m", "v", "_counts", "_full", "_even")

    @property
    def counts(self) -> list[int]:
        """How many updates each parameter has had (its t)."""
        return (self._counts + self._full).tolist()

    def _rule(self, numbers, grads, lr, where):
        b1, b2 = self.betas
        if isinstance(where, slice):  # every parameter
            self._full += 1
            counts = int(self._counts[0]) + self._full if self._even else self._counts + self._full
        else:  # a new array (a checkpoint keeps the old one)
            self._counts = self._counts + self._full
            self._full = 0
            self._counts[where] += 1
            self._even = bool((self._counts == self._counts[0]).all())
            counts = self._counts[where]
        m = b1 * self.m[where] + (1.0 - b1) * grads
        v = b2 * self.v[where] + (1.0 - b2) * grads * grads
        _store(self, "m", where, m)
        _store(self, "v", where, v)
        return numbers - lr * (m / _corrections(b1, counts)) / (
            np.sqrt(v / _corrections(b2, counts)) + self.eps)


def _store(optimizer: Optimizer, name: str, where, value: np.ndarray) -> None:
    """Put the new state of the parameters at `where` (all of them: the new array itself), in
    a new array: a checkpoint keeps the old one."""
    if not isinstance(where, slice):
        whole = getattr(optimizer, name).copy()
        whole[where] = value
        value = whole
    setattr(optimizer, name, value)


def _corrections(beta: float, counts: int | np.ndarray) -> float | np.ndarray:
    """1 - beta**t for each parameter's count t, each power taken by Python (as the rule
    written per parameter does; numpy's own power may round differently): one number when
    every count is the same, as in training where every parameter has a grad."""
    if isinstance(counts, int):
        return 1.0 - beta**counts
    if not counts.size:  # no parameter had a grad: nothing to correct
        return 1.0
    low, high = int(counts.min()), int(counts.max())
    if low == high:
        return 1.0 - beta**low
    table = np.array([1.0 - beta**t for t in range(low, high + 1)])
    return table[counts - low]


def _real(x, what: str) -> float:
    """`x` as a float, or a TypeError saying `what` was expected (bools are not numbers)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what}, got {x!r} ({type(x).__name__})")
    return float(x)


def _rate(lr, what: str) -> float:
    what = f"{what} should be a finite number >= 0"
    if not (math.isfinite(_real(lr, what)) and lr >= 0):
        raise ValueError(f"{what}, got {lr!r}")
    return float(lr)
