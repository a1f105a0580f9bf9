"""The optimizer's update, explained with the optimizer's own numbers.

A training step is a forward pass, a backward pass and an update. `autograd.backprop_steps`
explains the first two; this module explains the third, one parameter at a time, with the
numbers substituted, as the seeds write it by hand:

    w1 ← w1 - η·∂L/∂w1 = 1 - 0.1 · 0.0214695 = 0.997853

and for momentum and Adam their state: the velocity v, the moments m and v, the bias correction
by the parameter's count of updates t, and the step taken.

    pending = nn.updates.watch(optimizer)   # before the step: what it will read
    optimizer.step()
    updates = pending.explain(out="L")      # after it: one ParameterUpdate per parameter

`watch` notes what the step reads (each parameter's number and grad, the learning rate, the
optimizer's state); `explain` reads what the step wrote. Each explanation repeats the rule's
arithmetic on those numbers in the optimizer's order (`ParameterUpdate.replay()`), and it is
checked against what the optimizer wrote, bit for bit: an explanation that does not match
raises instead of showing a number the optimizer did not use. An optimizer whose rule is not
one of nn's (a subclass with a step of its own) is shown as what it did: the number before,
after, and the change.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

from autograd import Value
from autograd.steps import fmt, operand, wrt

from .optim import SGD, Adam, Optimizer


@dataclass(frozen=True)
class ParameterUpdate:
    """One parameter's update: the numbers the rule read and wrote, and the explanation."""

    parameter: Value
    name: str  # the parameter's name as the explanation writes it (its label, unless given)
    rule: str  # "sgd", "momentum", "adam", or "other" (a rule nn does not know)
    before: float
    grad: float | None  # None: no backward pass reached it, so the optimizer left it alone
    rate: float  # η for this step
    after: float  # the number the optimizer wrote
    hyper: dict[str, float] = field(default_factory=dict)  # momentum; beta1, beta2, eps
    state: dict[str, float] = field(default_factory=dict)  # before: velocity; m, v, t
    values: dict[str, float] = field(default_factory=dict)  # made by the rule: velocity; ...
    lines: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """One line for the player's step: `update w1: 1 → 0.997853` (by the parameter's
        label, else its name here), or that it had no gradient and stayed."""
        name = self.parameter.label or self.name
        if self.grad is None:
            return f"update {name}: no gradient, left at {fmt(self.before)}"
        return f"update {name}: {fmt(self.before)} → {fmt(self.after)}"

    def replay(self) -> float:
        """The rule's arithmetic again, on the recorded numbers: the new number."""
        if self.grad is None or self.rule == "other":
            return self.after
        return _RULES[self.rule](self.before, self.grad, self.rate, self.hyper, self.state)[1]


class Pending:
    """What an optimizer's next step will read (from `watch`); `explain()` once it has run."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"watch() needs an nn optimizer (SGD, Adam), got {optimizer!r}")
        self.optimizer = optimizer
        self.rule, self.hyper = _rule_of(optimizer)
        self.steps = optimizer.steps
        self.rate = optimizer.rate()
        self.numbers = [p.data for p in optimizer.params]
        self.grads = [as_number(p.grad) for p in optimizer.params]
        self.state = _state(optimizer, self.rule)

    def explain(self, out: str = "L", names: Sequence[str] | None = None) -> list[ParameterUpdate]:
        """One `ParameterUpdate` per parameter, once the optimizer's step has run. `out` names
        what is differentiated (∂out/∂w); `names` the parameters (default: their labels)."""
        optimizer = self.optimizer
        if optimizer.steps != self.steps + 1:
            raise RuntimeError(f"explain() comes once after one optimizer.step(): the optimizer "
                               f"has taken {optimizer.steps - self.steps} steps since watch()")
        after_state = _state(optimizer, self.rule)
        names = [p.label or f"p{i}" for i, p in enumerate(optimizer.params)] if names is None \
            else list(names)
        updates = []
        for i, p in enumerate(optimizer.params):
            before, grad, after = self.numbers[i], self.grads[i], p.data
            state = {key: column[i] for key, column in self.state.items()}
            if grad is None or self.rule == "other":
                update = ParameterUpdate(p, names[i], self.rule, before, grad, self.rate,
                                         after)
                updates.append(dataclasses.replace(update, lines=tuple(_lines(update, out))))
                continue
            values, new = _RULES[self.rule](before, grad, self.rate, self.hyper, state)
            wrote = {key: column[i] for key, column in after_state.items()}
            expected = {key: values[key] for key in wrote}
            if not same_float(new, after) or any(not same_float(expected[k], wrote[k]) for k in wrote):
                raise RuntimeError(
                    f"the {type(optimizer).__name__} update of {names[i]} does not match its "
                    f"explanation: it wrote {after!r} and {wrote}, the rule gives {new!r} and "
                    f"{expected}. Was the optimizer's state or learning rate changed between "
                    "watch() and explain() (a schedule that is not a function of the step)?")
            update = ParameterUpdate(p, names[i], self.rule, before, grad, self.rate, after,
                                     dict(self.hyper), state, values)
            updates.append(dataclasses.replace(update, lines=tuple(_lines(update, out))))
        return updates

    def describe(self, out: str = "L") -> tuple[str, tuple[str, ...]]:
        """The rule in one title and a few lines, for the step before the updates."""
        opt, eta = self.optimizer, _rate_words(self.optimizer, self.steps, self.rate)
        name = type(opt).__name__
        if self.rule == "sgd":
            return (f"update: {name} moves each parameter against its gradient",
                    (f"for each parameter p: p ← p - η·∂{out}/∂p", eta))
        if self.rule == "momentum":
            return (f"update: {name} with momentum moves each parameter by its velocity",
                    (f"for each parameter p: v ← μ·v + ∂{out}/∂p, then p ← p - η·v",
                     f"μ = {fmt(self.hyper['momentum'])}; v (the velocity) is kept from step to "
                     "step, so past gradients keep pushing", eta))
        if self.rule == "adam":
            return (f"update: {name} moves each parameter by its gradient's running averages",
                    (f"for each parameter p, with g = ∂{out}/∂p and t its count of updates:",
                     "m ← β1·m + (1 - β1)·g    (the gradient's running average)",
                     "v ← β2·v + (1 - β2)·g²   (its square's)",
                     "m̂ = m / (1 - β1^t), v̂ = v / (1 - β2^t)    (the bias correction: m and v "
                     "start at 0)",
                     "p ← p - η·m̂ / (√v̂ + ε)",
                     f"β1 = {fmt(self.hyper['beta1'])}, β2 = {fmt(self.hyper['beta2'])}, "
                     f"ε = {fmt(self.hyper['eps'])}", eta))
        return (f"update: {name} moves each parameter (by a rule of its own)",
                (f"{name} is not one of nn's optimizers, so each update shows the number "
                 "before and after, not the rule", eta))


def watch(optimizer: Optimizer) -> Pending:
    """What `optimizer.step()` is about to read; call `.explain()` on the result after it."""
    return Pending(optimizer)


# ---- the rules, as the optimizers compute them -----------------------------------------------
# Each takes (number, grad, rate, hyper, state) and returns (the values it makes, the new
# number), with the optimizer's own operations in its own order, so the floats are the same.
def _sgd(p, g, lr, hyper, state):
    return {}, p - lr * g


def _momentum(p, g, lr, hyper, state):
    velocity = hyper["momentum"] * state["velocity"] + g
    return {"velocity": velocity}, p - lr * velocity


def _adam(p, g, lr, hyper, state):
    b1, b2, eps = hyper["beta1"], hyper["beta2"], hyper["eps"]
    t = state["t"] + 1
    m = b1 * state["m"] + (1.0 - b1) * g
    v = b2 * state["v"] + (1.0 - b2) * g * g
    c1, c2 = 1.0 - b1**t, 1.0 - b2**t
    m_hat, v_hat = m / c1, v / c2
    root = math.sqrt(v_hat)
    step = lr * m_hat / (root + eps)
    return {"m": m, "v": v, "t": t, "c1": c1, "c2": c2, "m_hat": m_hat, "v_hat": v_hat,
            "root": root, "step": step}, p - step


_RULES: dict[str, Callable] = {"sgd": _sgd, "momentum": _momentum, "adam": _adam}


def _rule_of(optimizer: Optimizer) -> tuple[str, dict[str, float]]:
    """Which rule the optimizer's step runs, and its settings: nn's SGD and Adam (or a subclass
    that keeps their step), else "other"."""
    def keeps(cls) -> bool:
        return all(getattr(type(optimizer), name, None) is getattr(cls, name, None)
                   for name in ("step", "_update", "_rule", "_step"))
    if isinstance(optimizer, SGD) and keeps(SGD):
        if optimizer.momentum:
            return "momentum", {"momentum": optimizer.momentum}
        return "sgd", {}
    if isinstance(optimizer, Adam) and keeps(Adam):
        b1, b2 = optimizer.betas
        return "adam", {"beta1": b1, "beta2": b2, "eps": optimizer.eps}
    return "other", {}


def _state(optimizer: Optimizer, rule: str) -> dict[str, list]:
    """The optimizer's per-parameter state that the rule reads and writes, as lists."""
    if rule == "momentum":
        return {"velocity": [float(x) for x in optimizer.velocity]}
    if rule == "adam":
        return {"m": [float(x) for x in optimizer.m], "v": [float(x) for x in optimizer.v],
                "t": [int(x) for x in optimizer.counts]}
    return {}


def as_number(grad) -> float | None:
    """A grad as the optimizers read it: None, a number, or a Value's number."""
    if grad is None:
        return None
    return float(grad.data if isinstance(grad, Value) else grad)


def same_float(a: float, b: float) -> bool:
    """The same float, bit for bit (nan included)."""
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b) or (a != a and b != b)


# ---- the words --------------------------------------------------------------------------------
def _lines(u: ParameterUpdate, out: str) -> list[str]:
    w, g, eta = u.name, f"∂{out}/∂{wrt(u.name)}", operand(u.rate)
    if u.grad is None:
        return [f"no backward pass reached {w} in this step (its grad is not computed), so "
                f"the optimizer leaves it at {fmt(u.before)}"]
    grad = operand(u.grad)
    if u.rule == "sgd":
        return [f"{w} ← {w} - η·{g} = {fmt(u.before)} - {eta} · {grad} = {fmt(u.after)}"]
    if u.rule == "momentum":
        velocity, mu = u.values["velocity"], operand(u.hyper["momentum"])
        return [f"velocity: v ← μ·v + {g} = {mu} · {operand(u.state['velocity'])} + {grad} = "
                f"{fmt(velocity)}",
                f"{w} ← {w} - η·v = {fmt(u.before)} - {eta} · {operand(velocity)} = "
                f"{fmt(u.after)}"]
    if u.rule == "adam":
        x = u.values
        b1, b2 = operand(u.hyper["beta1"]), operand(u.hyper["beta2"])
        one_b1, one_b2 = operand(1.0 - u.hyper["beta1"]), operand(1.0 - u.hyper["beta2"])
        t = x["t"]
        return [f"g = {g} = {fmt(u.grad)}; t = {t} (this is update number {t} of {w})",
                f"m ← β1·m + (1 - β1)·g = {b1} · {operand(u.state['m'])} + {one_b1} · {grad} = "
                f"{fmt(x['m'])}",
                f"v ← β2·v + (1 - β2)·g² = {b2} · {operand(u.state['v'])} + {one_b2} · {grad}² = "
                f"{fmt(x['v'])}",
                f"bias correction: m̂ = m / (1 - β1^{t}) = {operand(x['m'])} / {operand(x['c1'])} = "
                f"{fmt(x['m_hat'])};  v̂ = v / (1 - β2^{t}) = {operand(x['v'])} / "
                f"{operand(x['c2'])} = {fmt(x['v_hat'])}",
                f"step = η·m̂ / (√v̂ + ε) = {eta} · {operand(x['m_hat'])} / ({fmt(x['root'])} + "
                f"{fmt(u.hyper['eps'])}) = {fmt(x['step'])}",
                f"{w} ← {w} - step = {fmt(u.before)} - {operand(x['step'])} = {fmt(u.after)}"]
    return [f"{w}: {fmt(u.before)} → {fmt(u.after)} (changed by {fmt(u.after - u.before)}); "
            f"the optimizer's own rule made this number"]


def _rate_words(optimizer: Optimizer, step: int, rate: float) -> str:
    if callable(optimizer.lr):
        return f"η = {fmt(rate)}: the learning-rate schedule at step {step}"
    return f"η = {fmt(rate)} (the learning rate)"

