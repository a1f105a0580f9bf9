"""Optimizers: how parameters move once `backward()` has filled in their gradients.

`SGD` (with optional momentum, as in PyTorch: v = μ·v + g; p -= lr·v) and `Adam` (Kingma & Ba,
with bias correction). The learning rate is a number or a schedule: a callable that takes the
step number (0, 1, 2, ...) and returns the rate, e.g. micrograd's
`lambda k: 1.0 - 0.9 * k / 100`.

Updates change `p.data` (plain floats), so they build no graph; parameters that no backward
pass reached (`grad is None`) are left alone, as in PyTorch. A grad that is a Value (after
`backward(create_graph=True)`) is used by its number.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable, Iterable

import autograd
from autograd import Value

from .module import Module

Schedule = Callable[[int], float]


class Optimizer:
    """Holds the parameters and the learning rate (or schedule); `step()` counts steps."""

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
            return _rate(self.lr(self.steps), f"the learning-rate schedule at step {self.steps}")
        return self.lr

    def zero_grad(self) -> None:
        """Clear the gradients before the next backward pass adds into them."""
        autograd.zero_grad(self.params)

    def step(self) -> None:
        """Move every parameter once, using its current `.grad` (under no_grad: no graph)."""
        with autograd.no_grad():
            self._update(self.rate())
        self.steps += 1

    def _update(self, lr: float) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: p -= lr·g, or with momentum μ: v = μ·v + g; p -= lr·v."""

    def __init__(self, params: Iterable[Value], lr: float | Schedule, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        if not 0.0 <= _real(momentum, "SGD momentum should be a number in [0, 1)") < 1.0:
            raise ValueError(f"SGD momentum should be a number in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.velocity = [0.0] * len(self.params)

    def _update(self, lr: float) -> None:
        mu, velocity = self.momentum, self.velocity
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            g = g.data if isinstance(g, Value) else g
            if mu:
                g = velocity[i] = mu * velocity[i] + g
            p.data -= lr * g


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
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.counts = [0] * len(self.params)

    def _update(self, lr: float) -> None:
        b1, b2 = self.betas
        m, v, counts, eps = self.m, self.v, self.counts, self.eps
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            g = g.data if isinstance(g, Value) else g
            counts[i] += 1
            t = counts[i]
            m[i] = b1 * m[i] + (1.0 - b1) * g
            v[i] = b2 * v[i] + (1.0 - b2) * g * g
            p.data -= lr * (m[i] / (1.0 - b1**t)) / (math.sqrt(v[i] / (1.0 - b2**t)) + eps)


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
