"""Losses: one number that says how wrong a batch of outputs is, built from Values.

Each loss takes a batch of model outputs and their targets and returns one Value (the mean over
the batch), ready for `backward()`. An output is what a model returns for one sample: a Value
(one output) or a list of Values. A single sample works too.

Numerically careful where it matters: `softmax`, `log_softmax` and `cross_entropy` subtract the
largest score before `exp` (log-sum-exp), `binary_cross_entropy_with_logits` uses a softplus
that never overflows, and `binary_cross_entropy` clamps log(0) at -100 as PyTorch does. Each is
written with ops (the shift is an `autograd.max` node, the clamp a max with e^-100), not with
Python decisions on the numbers, so the graph is the same whatever the numbers are and
`autograd.compile` can trace it.

Targets are numbers, or Values (a traced function's placeholders: `nn.fit(compiled=True)`
traces the model and the loss of one sample together). Targets that are numbers are checked
(labels ±1, probabilities in [0, 1]); Values cannot be read while tracing, so `fit` checks the
targets before it traces.

Each loss is a `Loss`: the function, and as fields what training needs to know about it: how
its outputs turn into class predictions (`threshold`), and whether int labels may be given as
one-hot rows (`one_hot`). `nn.accuracy` and `nn.fit` read the fields; any plain function of
(outputs, targets) is a loss too (with no threshold and no rows), and `Loss(f, threshold=0.0)`
declares a function's fields.

Names. Each of nn's losses (and the `l2` penalty) builds its nodes inside
`autograd.scope(<its name>, kind="loss")` and names them by their role, per sample (or per
output) k: hinge's `margin.k` (y·score), `shortfall.k` (1 - margin) and `term.k`
(relu(shortfall)), then `sum` and the mean, `loss`; mse's `error.k` and `term.k`. So a player
or drawing reads `in hinge: term.3 = relu(shortfall.3)` instead of `v408 = relu(v407)`, and
shows the loss as one box that opens. The ops and their order are the same as without names.
"""
from __future__ import annotations

import functools
import math
import numbers
import sys
from typing import Any, Callable, Iterable, Sequence

import numpy as np

import autograd
from autograd import Value

from .module import Module, name_outputs


class Loss:
    """A loss function of (outputs, targets) returning one Value, with what training reads.

    - `threshold`: with one output per sample, an output above it means the positive class
      (0.0 for scores, 0.5 for probabilities); `nn.accuracy` and `nn.fit` use it. None: read
      it from the targets (labels -1/+1 mean scores, anything else probabilities).
    - `one_hot`: int class labels and their one-hot rows (as wide as the outputs) give the same
      loss. `nn.fit(compiled=True)` then traces rows: a traced loss cannot pick `scores[label]`.

    A `Loss` is called like its function and carries its name and docstring:

        >>> import nn
        >>> nn.hinge.threshold, nn.cross_entropy.one_hot
        (0.0, True)
        >>> def squared(outputs, targets):
        ...     return nn.mse(outputs, targets) * 2
        >>> nn.Loss(squared, threshold=0.5)
        nn.Loss(squared, threshold=0.5)
    """

    def __init__(self, function: Callable[[Any, Any], Value], *, threshold: float | None = None,
                 one_hot: bool = False) -> None:
        if isinstance(function, Loss):  # nn.Loss(nn.mse, threshold=0.0): other fields
            function = function.function
        if not callable(function):
            raise TypeError(f"Loss() needs a function of (outputs, targets), got {function!r}")
        if threshold is not None and (isinstance(threshold, bool)
                                      or not isinstance(threshold, numbers.Real)):
            raise TypeError(f"Loss(threshold=...) should be a number or None, got {threshold!r}")
        if not isinstance(one_hot, bool):
            raise TypeError(f"Loss(one_hot=...) should be True or False, got {one_hot!r}")
        self.function = function
        self.threshold = None if threshold is None else float(threshold)
        self.one_hot = one_hot
        functools.update_wrapper(self, function, updated=())  # name, docstring, signature

    def __call__(self, outputs, targets) -> Value:
        return self.function(outputs, targets)

    def __reduce_ex__(self, protocol: int):
        # nn.hinge is a Loss made by decorating a function named hinge, so pickle would look
        # for the function at nn.losses.hinge and find this Loss: such a Loss goes by name.
        if getattr(sys.modules.get(self.__module__), self.__qualname__, None) is self:
            return self.__qualname__
        return super().__reduce_ex__(protocol)

    def __repr__(self) -> str:
        fields = [f"threshold={self.threshold!r}"] if self.threshold is not None else []
        fields += ["one_hot=True"] if self.one_hot else []
        name = getattr(self.function, "__name__", repr(self.function))
        return f"nn.Loss({', '.join([name, *fields])})"

    @classmethod
    def of(cls, loss: Callable, where: str = "loss") -> Loss:
        """`loss` as a Loss: itself, or a plain function with no threshold and no rows.

        A function carrying `threshold` or `one_hot` attributes (how losses used to declare
        them) is refused rather than silently read as having none."""
        if isinstance(loss, Loss):
            return loss
        if not callable(loss):
            raise TypeError(f"{where} should be a function of (outputs, targets) such as nn.mse, "
                            f"got {loss!r}")
        hung = [name for name in ("threshold", "one_hot") if hasattr(loss, name)]
        if hung:
            raise TypeError(
                f"{where}: nn no longer reads attributes set on a loss function "
                f"({', '.join(hung)}); declare them with nn.Loss(f, "
                + ", ".join(f"{name}={getattr(loss, name)!r}" for name in hung) + ")")
        return cls(loss)


def _declared(*, threshold: float | None = None, one_hot: bool = False):
    """The decorator that makes nn's own functions `Loss`es, each building its nodes inside its
    own scope (see "Names" above)."""
    def declare(function: Callable) -> Loss:
        return Loss(_scoped(function), threshold=threshold, one_hot=one_hot)
    return declare


def _scoped(function: Callable) -> Callable:
    """`function`, run inside `autograd.scope(<its name>, kind="loss")`."""
    @functools.wraps(function)
    def scoped(*args, **kwargs):
        with autograd.scope(function.__name__, kind="loss"):
            return function(*args, **kwargs)
    return scoped


def _named(node, role: str, k: int | str | None = None):
    """`node` labelled by its role in the loss (`hinge.margin.3`); returns it."""
    return name_outputs(node, role if k is None else f"{role}.{k}")


def _flat(items, what: str) -> list:
    if isinstance(items, np.ndarray):
        items = items.tolist()
    if isinstance(items, Value) or not isinstance(items, (list, tuple)):
        return [items]
    out = []
    for item in items:
        out.extend(_flat(item, what))
    return out


def _pairs(outputs, targets, name: str) -> list[tuple[Value, float | Value]]:
    outs, wants = _flat(outputs, "outputs"), _flat(targets, "targets")
    if len(outs) != len(wants):
        raise ValueError(f"{name}() got {len(outs)} outputs but {len(wants)} targets; they must match one to one")
    for out in outs:
        if not isinstance(out, Value):
            raise TypeError(f"{name}() needs Values as outputs (what the model returns), got {out!r}")
    for want in wants:
        if not isinstance(want, (numbers.Real, Value)):
            raise TypeError(f"{name}() needs numbers as targets, got {want!r}")
    return [(out, want if isinstance(want, Value) else float(want)) for out, want in zip(outs, wants)]


def _mean(terms: list[Value]) -> Value:
    """Σ terms / n as two nodes (`sum`, then the mean, labelled loss: the name drawings and
    players show it by). The mean of one term is that term (no Σ or ÷ 1 node: the graph of one
    sample's loss, which `nn.fit(compiled=True)` traces, stays short)."""
    loss = terms[0] if len(terms) == 1 else _named(autograd.sum(terms), "sum") / len(terms)
    loss.label = "loss"
    return loss


@_declared(threshold=0.5)
def mse(outputs, targets) -> Value:
    """Mean squared error, mean((target - output)²) over every output: the seeds' formula."""
    return _mean([_named(_named(out - want, "error", k) ** 2, "term", k)
                  for k, (out, want) in enumerate(_pairs(outputs, targets, "mse"))])



def _softplus(z: Value, k: int) -> Value:
    """log(1 + e^z), never overflowing: m + log(1 + e^(z - 2m)) with m = max(z, 0), which is
    z + log(1 + e^-z) for z >= 0 and log(1 + e^z) below, number for number. (At z = 0 the
    max sends the gradient to z, and the total is sigmoid(0) = 0.5, as it should be.)"""
    m = _named(autograd.max([z, 0.0]), "m", k)
    shifted = _named(z - _named(2 * m, "two_m", k), "z_minus_2m", k)
    tail = _named(_named(1 + _named(shifted.exp(), "exp", k), "one_plus_exp", k).log(),
                  "log_one_plus_exp", k)
    return _named(m + tail, "softplus", k)


_FLOOR = math.exp(-100)  # log(_FLOOR) == -100.0 exactly


def _log(p: Value, name: str, k: int) -> Value:
    """log(p), clamped at -100 as PyTorch's BCELoss does: log(max(e^-100, p)); below the clamp
    (and at it) the gradient goes to the constant, so none reaches p. Named `log_{name}.k`."""
    return _named(_named(autograd.max([_FLOOR, p]), f"clamped_{name}", k).log(), f"log_{name}", k)


def _unit(y, name: str) -> None:
    if not isinstance(y, Value) and not 0.0 <= y <= 1.0:
        raise ValueError(f"{name}() needs targets in [0, 1], got {y}")


@_declared(threshold=0.5)
def binary_cross_entropy(outputs, targets) -> Value:
    """-mean(y·log p + (1 - y)·log(1 - p)) for probabilities p (after a sigmoid), y in [0, 1].

    A p outside [0, 1] (a raw score) is a ValueError: its loss would be meaningless, even
    negative. (Not checked while `autograd.compile` traces: the outputs' numbers are then
    one example's, and cannot be read.)
    """
    traced = autograd.is_tracing()
    terms = []
    for k, (p, y) in enumerate(_pairs(outputs, targets, "binary_cross_entropy")):
        _unit(y, "binary_cross_entropy")
        if not traced and not 0.0 <= p.data <= 1.0:
            raise ValueError(f"binary_cross_entropy() needs probabilities in [0, 1] (apply "
                             f"sigmoid, or use binary_cross_entropy_with_logits), got {p.data!r}")
        # both logs clamped: never 0·inf; q = 1 - p
        likelihood = _named(_named(y * _log(p, "p", k), "y_log_p", k)
                            + _named((1.0 - y) * _log(_named(1 - p, "q", k), "q", k),
                                     "rest_log_q", k), "log_likelihood", k)
        terms.append(_named(-likelihood, "term", k))
    return _mean(terms)



@_declared(threshold=0.0)
def binary_cross_entropy_with_logits(outputs, targets) -> Value:
    """binary_cross_entropy(sigmoid(z), y) computed stably from scores z: softplus(z) - y·z.

    Its gradient is exactly sigmoid(z) - y.
    """
    terms = []
    for k, (z, y) in enumerate(_pairs(outputs, targets, "binary_cross_entropy_with_logits")):
        _unit(y, "binary_cross_entropy_with_logits")
        terms.append(_named(_softplus(z, k) - _named(y * z, "yz", k), "term", k))
    return _mean(terms)



@_declared(threshold=0.0)
def hinge(outputs, targets) -> Value:
    """Max-margin loss mean(relu(1 - y·score)) for labels y in {-1, +1} (micrograd's moons)."""
    terms = []
    for k, (score, y) in enumerate(_pairs(outputs, targets, "hinge")):
        if not isinstance(y, Value) and y not in (-1.0, 1.0):
            raise ValueError(f"hinge() needs labels -1 or +1, got {y}")
        shortfall = _named(1 - _named(y * score, "margin", k), "shortfall", k)
        terms.append(_named(shortfall.relu(), "term", k))
    return _mean(terms)



def _scores(scores, who: str) -> list[Value]:
    if isinstance(scores, Value) or not isinstance(scores, (list, tuple)) or not scores:
        raise TypeError(f"{who} needs a non-empty list of Values (one score per class), got {scores!r}")
    for s in scores:
        if not isinstance(s, Value):
            raise TypeError(f"{who} needs Values as scores, got {s!r}")
    return list(scores)


def logsumexp(scores: Sequence[Value]) -> Value:
    """log(Σ e^s), shifted by the largest score so that no exp overflows: m + log(Σ e^(s - m))
    with m = autograd.max(scores), a node of the graph (so it traces). Its gradient is the
    softmax: what reaches m through the shift and through `+ m` cancels (to a rounding).
    Inf or nan scores are not shifted (IEEE results: inf, nan); a traced logsumexp, whose
    numbers cannot be read, is always shifted, so compiled it gives nan where a score is +inf."""
    return _logsumexp(_scores(scores, "logsumexp()"), None)


def _logsumexp(scores: list[Value], k: int | None) -> Value:
    """`logsumexp`; with a sample number k (inside a loss) its nodes are named by their role:
    `max.k`, `shifted.k.c` (s_c - max), `exp.k.c`, `sum_exp.k`, `log_sum_exp.k`,
    `logsumexp.k`."""
    def named(node, role, c=None):
        return node if k is None else _named(node, role, k if c is None else f"{k}.{c}")
    top = named(autograd.max(scores), "max")
    if not autograd.is_tracing() and not math.isfinite(top.data):  # no shift: IEEE results
        exps = [named(s.exp(), "exp", c) for c, s in enumerate(scores)]
        return named(named(autograd.sum(exps), "sum_exp").log(), "logsumexp")
    exps = [named(named(s - top, "shifted", c).exp(), "exp", c) for c, s in enumerate(scores)]
    return named(named(named(autograd.sum(exps), "sum_exp").log(), "log_sum_exp") + top,
                 "logsumexp")


def log_softmax(scores: Sequence[Value]) -> list[Value]:
    """log(softmax(scores)), each s - logsumexp(scores)."""
    total = logsumexp(scores)
    return [s - total for s in scores]


def softmax(scores: Sequence[Value]) -> list[Value]:
    """e^s / Σ e^s for each score: probabilities that sum to 1."""
    scores = _scores(scores, "softmax()")
    top = autograd.max(scores)
    exps = [(s - top).exp() for s in scores]
    total = autograd.sum(exps)
    return [e / total for e in exps]


@_declared(one_hot=True)
def cross_entropy(outputs, labels) -> Value:
    """Softmax cross-entropy: mean(logsumexp(s) - s[label]) over the samples.

    `outputs` is one list of scores per sample (raw scores, no softmax: it is built in),
    `labels` one int per sample, or one row of class probabilities per sample (a one-hot row,
    as PyTorch's `cross_entropy` takes): then the term is Σ_i y_i·(logsumexp(s) - s_i), which
    for a one-hot row is the same number. Rows may hold Values (a traced function's
    placeholders): that is how `nn.fit(compiled=True)` traces it. A single sample (a list of
    Values and an int) works too.
    """
    if isinstance(labels, np.ndarray):
        labels = labels.tolist()
    if isinstance(labels, numbers.Integral):
        outputs, labels = [outputs], [labels]
    if not isinstance(outputs, (list, tuple)) or not outputs or isinstance(outputs[0], Value):
        raise TypeError("cross_entropy() needs a list of score lists (one per sample) and a list of int labels")
    if len(outputs) != len(labels):
        raise ValueError(f"cross_entropy() got {len(outputs)} outputs but {len(labels)} labels")
    terms = []
    for k, (scores, label) in enumerate(zip(outputs, labels)):
        scores = _scores(scores, "cross_entropy()")
        if isinstance(label, (list, tuple)):
            total = _logsumexp(scores, k)
            surprises = [_named(total - s, f"surprise.{k}", c) for c, s in enumerate(scores)]
            terms.append(_named(autograd.dot(_probabilities(label, len(scores)), surprises),
                                "term", k))
            continue
        if isinstance(label, bool) or not isinstance(label, numbers.Integral):
            raise TypeError(f"cross_entropy() needs int labels, or rows of {len(scores)} class "
                            f"probabilities, got {label!r} ({type(label).__name__})")
        if not 0 <= label < len(scores):
            raise ValueError(f"cross_entropy() needs int labels in 0..{len(scores) - 1} or rows of "
                             f"{len(scores)} class probabilities, got {label!r}")
        terms.append(_named(_logsumexp(scores, k) - scores[int(label)], "term", k))
    return _mean(terms)


def _probabilities(row: Sequence, classes: int) -> list:
    """A target row for cross_entropy: `classes` numbers >= 0 summing to 1, or Values."""
    if len(row) != classes or not all(isinstance(y, (numbers.Real, Value)) for y in row):
        raise ValueError(f"cross_entropy() needs target rows of {classes} class probabilities "
                         f"(one per score), got {row!r}")
    numbers_ = [y for y in row if not isinstance(y, Value)]
    if len(numbers_) == classes and (min(numbers_) < 0 or abs(math.fsum(numbers_) - 1) > 1e-9):
        raise ValueError(f"cross_entropy() needs target rows of probabilities (>= 0, summing "
                         f"to 1, e.g. one-hot), got {row!r}")
    return list(row)



def l2(parameters: Iterable[Value], alpha: float) -> Value:
    """alpha · Σ p² (weight decay as a loss term), as one dot node: Σ p·p.

    `parameters` is a list of Values (`model.parameters()`), `alpha` a number.
    """
    if isinstance(parameters, Module):
        raise TypeError(f"l2() needs a list of Values, got the module {parameters!r}: "
                        "pass model.parameters()")
    if isinstance(parameters, (Value, str)) or not isinstance(parameters, Iterable):
        raise TypeError(f"l2() needs a list of Values (model.parameters()), got {parameters!r}")
    parameters = list(parameters)
    if not parameters:
        raise ValueError("l2() needs at least one parameter")
    for p in parameters:
        if not isinstance(p, Value):
            raise TypeError(f"l2() needs Values (model.parameters()), got {p!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"l2(): alpha should be a number, got {alpha!r}")
    with autograd.scope("l2", kind="loss"):
        penalty = alpha * _named(autograd.dot(parameters, parameters), "sum_of_squares")
    penalty.label = "l2"
    return penalty
