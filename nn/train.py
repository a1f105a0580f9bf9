"""Training and evaluation: `fit`, `evaluate`, `predict` and `accuracy`.

`fit` is the loop every seed writes by hand — forward, loss, zero_grad, backward, step — over
seeded mini-batches, with a progress bar showing loss and accuracy (in a terminal or a Jupyter
kernel, unless `progress=` says otherwise: `nn.progress`). It returns the history as lists per
epoch, so curves can be drawn afterwards. Evaluation runs under `autograd.no_grad()`: no graph
is built.

How one step runs is a strategy, chosen once per call; `fit` itself only loops over epochs and
batches and keeps the history:

- `_OnValues`: the model's outputs as Values, the loss (and the penalty) on them, one backward
  pass, the optimizer's step. The model runs eagerly (`compiled=False`), or compiled
  (`Program.as_values`: its outputs become leaf Values whose gradients the program pulls back
  into the parameters) when a loss cannot be traced.
- `_Compiled` (`compiled=True`): the model, the loss and the penalty of one sample traced
  together (the target becomes a placeholder too; a loss with `one_hot` gets int labels as
  one-hot rows) and run forward and backward for each batch with numpy (`autograd.compile`),
  on the parameters as one vector, and the optimizer steps that vector (`step_vector`: the
  same rule and state as on Values). No Value is touched per step: the parameters' Values
  (their `.data`, and `.grad` as eager training leaves it) are brought up to date before
  `on_epoch` runs, and when `fit` returns or stops on an error. A penalty that cannot be
  traced runs on Values (and so does the optimizer, on the batch's mean gradient added into
  `.grad`); a loss that cannot be traced (a Python decision on a target's number) falls
  back, with a warning, to `_OnValues` with the model compiled.
"""
from __future__ import annotations

import math
import numbers
import time
import warnings
from typing import Callable, Sequence

import numpy as np

import autograd
from autograd import Value

from .data import batches
from .init import generator
from .losses import Loss
from .module import Module
from .optim import Optimizer
from .progress import progress_bar
from .recording import Recorder
from .shapes import positive_int



def _number(x) -> float:
    return x.data if isinstance(x, Value) else float(x)


def _row(x) -> list | None:
    """One sample's output or target as a list when it is a row (list, tuple, array), else None."""
    if isinstance(x, np.ndarray):
        return x.tolist() if x.ndim else None
    return list(x) if isinstance(x, (list, tuple)) else None


def _threshold(threshold: float | None, loss: Callable | None, targets: list) -> float:
    """Where one output per sample turns positive: `threshold` if given, else the loss's
    (`Loss.threshold`), else read from the targets: labels -1/+1 mean scores (0.0), anything
    else probabilities (0.5)."""
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
            raise TypeError(f"threshold should be a number, got {threshold!r}")
        return float(threshold)
    if loss is not None and Loss.of(loss).threshold is not None:
        return Loss.of(loss).threshold
    singles = []
    for want in targets:
        row = _row(want)
        singles.append(row[0] if row is not None and len(row) == 1 else want)
    labels = {_number(want) for want in singles if not isinstance(want, (list, tuple))}
    return 0.0 if -1.0 in labels and labels <= {-1.0, 1.0} else 0.5


def _label(want, classes: int) -> int:
    """A class label checked against the number of classes: an int (or a whole float) in range."""
    if isinstance(want, bool) or not isinstance(want, numbers.Real) or not float(want).is_integer():
        raise TypeError(f"accuracy() needs int class labels, got {want!r}")
    if not 0 <= want < classes:
        raise ValueError(f"accuracy() needs labels in 0..{classes - 1} for {classes} outputs per "
                         f"sample, got {int(want)}")
    return int(want)


def _check_targets(targets: list, outputs: int) -> None:
    """Each target fits `outputs` outputs per sample: with several, an int label in range or a
    row as wide; with one, a number (or a row of one)."""
    for want in targets:
        wants = _row(want)
        if outputs > 1:
            if wants is None:
                _label(want, outputs)
            elif len(wants) != outputs:
                raise ValueError(f"accuracy() needs one-hot target rows of {outputs} (one per "
                                 f"output), got a row of {len(wants)}: {want!r}")
        elif wants is not None and len(wants) != 1:
            raise ValueError(f"accuracy() got one output per sample but targets in rows; it needs "
                             f"one target per output, got a row of {len(wants)}: {want!r}")


def _scores(outputs: list) -> np.ndarray:
    """The outputs' numbers as (samples, outputs per sample)."""
    rows = [_row(out) for out in outputs]
    if all(row is None for row in rows):
        return np.array([[_number(out)] for out in outputs])
    if any(row is None or len(row) != len(rows[0]) for row in rows):
        raise ValueError("accuracy() needs the same number of outputs for every sample")
    return np.array([[_number(o) for o in row] for row in rows])


def _hits(scores: np.ndarray, targets: np.ndarray, threshold: float) -> np.ndarray:
    """Whether each sample's output picks its target's class (targets already checked).

    Several outputs: the largest is the class (the first of equals, or the first nan, as
    np.argmax), against an int label or the largest entry of a row. One output: "positive"
    means above the threshold, for the output and the target alike."""
    if scores.shape[1] > 1:
        wanted = targets.argmax(axis=1) if targets.ndim == 2 else targets.astype(int)
        return scores.argmax(axis=1) == wanted
    return (scores[:, 0] > threshold) == (targets.reshape(len(targets)) > threshold)


def accuracy(outputs: Sequence, targets: Sequence, threshold: float | None = None, *,
             loss: Callable | None = None) -> float:
    """The fraction of samples whose output picks the target's class.

    Several outputs per sample: the largest one is the class; the target is an int label in
    0..outputs-1 or a one-hot row as wide as the outputs (anything else is a ValueError).
    One output per sample: "positive" means above a threshold, for outputs and targets alike.
    The threshold is `threshold` if given, else the one `loss` says its outputs need
    (`nn.hinge` and `nn.binary_cross_entropy_with_logits`: 0.0, for scores; `nn.mse` and
    `nn.binary_cross_entropy`: 0.5, for probabilities), else it is read from the targets:
    labels -1/+1 mean scores (0.0), labels 0/1 probabilities (0.5). So for logits against
    labels 0/1 pass `loss=nn.binary_cross_entropy_with_logits` (or `threshold=0.0`).

        >>> accuracy([Value(0.3), Value(-0.3)], [1, -1])
        1.0
    """
    outputs, targets = list(outputs), list(np.asarray(targets).tolist())
    if len(outputs) != len(targets):
        raise ValueError(f"accuracy() got {len(outputs)} outputs but {len(targets)} targets")
    if not outputs:
        raise ValueError("accuracy() needs at least one sample")
    threshold = _threshold(threshold, loss, targets)
    scores = _scores(outputs)
    _check_targets(targets, scores.shape[1])
    return int(_hits(scores, np.asarray(targets, dtype=float), threshold).sum()) / len(outputs)


def predict(model: Callable, X) -> np.ndarray:
    """The model's outputs as numbers (no graph): shape (samples,) or (samples, outputs)."""
    with autograd.no_grad():
        outs = [model(x) for x in np.asarray(X, dtype=float)]
    return np.array([[o.data for o in out] if isinstance(out, list) else out.data for out in outs])


def evaluate(model: Callable, X, y, loss: Callable, threshold: float | None = None) -> dict[str, float]:
    """{"loss": ..., "accuracy": ...} on (X, y), without building a graph."""
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"evaluate() got {len(X)} samples but {len(y)} targets")
    threshold = _threshold(threshold, loss, y.tolist())
    with autograd.no_grad():
        outs = [model(x) for x in X]
        return {"loss": loss(outs, y.tolist()).data, "accuracy": accuracy(outs, y, threshold)}


def fit(
    model: Callable,
    X,
    y,
    loss: Callable,
    optimizer: Optimizer,
    epochs: int = 1,
    batch_size: int | None = None,
    *,
    penalty: Callable[[], Value] | None = None,
    validation: tuple | None = None,
    shuffle: bool = True,
    seed: int | None = 0,
    threshold: float | None = None,
    progress: bool | None = None,
    on_epoch: Callable[[int, dict], None] | None = None,
    compiled: bool = False,
    record: Recorder | None = None,
) -> dict[str, list[float]]:
    """Train `model` on (X, y) and return the history.

    Each step: outputs for a batch, `loss(outputs, targets)` (+ `penalty()`, e.g.
    `lambda: nn.l2(model.parameters(), 1e-4)`), zero_grad, backward, `optimizer.step()`.
    `loss` is an `nn.Loss` (every nn loss is one) or any function of (outputs, targets).
    `batch_size=None` uses the whole set per step; batches are shuffled with `seed`.
    X holds the samples along its first axis: rows of features for an MLP, or any nested
    sample the model takes (a `steps x features` sequence for an `nn.RNN`, an image).
    The history has, per epoch, "loss" and "accuracy" (averaged over the epoch's batches, as
    they were during training), "seconds", and with `validation=(X_val, y_val)` also
    "val_loss" and "val_accuracy". `on_epoch(epoch, history)` runs after each epoch.
    With `compiled=True` the model, the loss and the penalty of one sample are traced once
    and run batch by batch with numpy (validation too), and the optimizer steps the
    parameters as one vector; the parameters' Values are brought up to date before each
    `on_epoch` and at the end. Same results as eager training (to rounding), much faster.

    Before the first step every sample must be finite and every target (and the validation
    set's) pass the loss's own checks (labels ±1 for hinge, classes in range for
    cross_entropy, ...): a bad one late in the data is refused, naming its sample, before any
    weight moves. Ctrl-C (KeyboardInterrupt, also raised by `on_epoch`) stops training
    gracefully: a step it interrupts is undone (optimizer steps are all or nothing), the model
    keeps the parameters of the last complete step, and fit returns the history so far (the
    epoch cut short included, over the batches it finished) with a warning. Any other
    exception propagates, with the model likewise after its last complete step.
    `record=nn.Recorder(...)` records the run for a timeline page (`record.save(path)`):
    every step's loss and accuracy, and the steps it chooses explained in full; the training
    itself is the same, bit for bit, for a model, loss, penalty and schedule without state of
    their own (recording calls them again: see `nn.Recorder`). A Recorder records one run.
    """
    if record is not None and not isinstance(record, Recorder):
        raise TypeError(f"fit(record=...) takes an nn.Recorder() (or None), got {record!r}")
    X, y = _training_set(X, y)
    loss = Loss.of(loss, "fit(): loss")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit() needs an nn optimizer (SGD, Adam), got {optimizer!r}")
    if isinstance(model, Module):
        _check_optimizer_trains(model, optimizer)
    epochs = positive_int(epochs, "epochs")
    batch_size = len(X) if batch_size is None else positive_int(batch_size, "batch_size")
    first = _first_output(model, X)
    _validate_targets(loss, y, first, "fit()")
    if validation is not None:
        validation = _validation_set(validation, X)
        _validate_targets(loss, validation[1], first, "fit(): validation")
    threshold = _threshold(threshold, loss, y.tolist())
    run = _strategy(model, loss, threshold, optimizer, penalty, X, y, compiled)
    rng = generator(seed)
    steps = epochs * math.ceil(len(X) / min(batch_size, len(X)))
    if record is not None:
        record.begin(model, X, y, loss, optimizer, penalty, threshold, epochs, steps // epochs)
        run.record = record
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "seconds": []}
    # Each finished step's (loss, accuracy, samples) is appended in one call, so an interrupt
    # finds a step either counted or not; `_stop` counts one the optimizer finished but the
    # loop did not (optimizer.steps moves with the step, all or nothing).
    epoch, start, scored, first_step = 0, time.perf_counter(), [], optimizer.steps
    with progress_bar(steps, progress) as bar:
        try:
            for epoch in range(epochs):
                start, scored, shown = time.perf_counter(), [], _Means()
                for Xb, yb in batches(X, run.targets, batch_size, shuffle=shuffle, seed=rng):
                    scored.append((*run.step(Xb, yb), len(Xb)))
                    if record is not None:
                        record.scored(*scored[-1][:2])
                    if not bar.disable:
                        shown.update(scored[-1])
                        bar.update()
                        bar.set_postfix(epoch=epoch + 1, loss=f"{shown.loss:.4f}",
                                        acc=f"{shown.accuracy:.3f}")
                _close_epoch(history, scored, start)
                if validation is not None:
                    scores = run.evaluate(*validation)
                    history.setdefault("val_loss", []).append(scores["loss"])
                    history.setdefault("val_accuracy", []).append(scores["accuracy"])
                if on_epoch is not None:
                    run.sync()  # the user may read the parameters
                    on_epoch(epoch, history)
        except KeyboardInterrupt:
            missed = optimizer.steps - first_step - epoch * (steps // epochs) - len(scored)
            if missed == 1 and run.last is not None:  # finished, interrupted before it was counted
                scored.append(run.last)
                if record is not None:
                    record.scored(*run.last[:2])
            _stop(history, epoch, epochs, scored, start)
        finally:
            _sync(run)
    if record is not None:
        record.finish(history)
    return history


class _Means:
    """The loss and accuracy of an epoch's steps so far, each weighted by its batch's samples,
    kept as running sums (the progress bar reads them after every step)."""

    def __init__(self) -> None:
        self.total = self.right = 0.0
        self.seen = 0

    def update(self, step: tuple[float, float, int]) -> None:
        number, correct, samples = step
        self.total += number * samples
        self.right += correct * samples
        self.seen += samples

    @property
    def loss(self) -> float:
        return self.total / self.seen

    @property
    def accuracy(self) -> float:
        return self.right / self.seen


def _close_epoch(history: dict, scored: list[tuple[float, float, int]], start: float) -> None:
    means = _Means()
    for step in scored:
        means.update(step)
    history["loss"].append(means.loss)
    history["accuracy"].append(means.accuracy)
    history["seconds"].append(time.perf_counter() - start)


def _stop(history: dict, epoch: int, epochs: int, scored: list, start: float) -> None:
    """Ctrl-C during fit: training stops after the last complete step (a step interrupted is
    undone: the optimizers' steps are all or nothing), the epoch cut short joins the history
    (over the batches it finished, without validation), and a warning says so."""
    if len(history["loss"]) == epoch and scored:
        _close_epoch(history, scored, start)
    seen = sum(samples for _, _, samples in scored)
    warnings.warn(f"fit(): interrupted (KeyboardInterrupt) in epoch {epoch + 1} of {epochs}, "
                  f"after {seen} of its samples: the model holds the parameters of the last "
                  f"complete step, and the history returned ends there", stacklevel=3)


def _sync(run) -> None:
    """`run.sync()`, run again if an interrupt cuts it short (it writes the same numbers)."""
    while True:
        try:
            return run.sync()
        except KeyboardInterrupt:
            continue


def _training_set(X, y) -> tuple[np.ndarray, np.ndarray]:
    """X and y as arrays, checked: samples along X's first axis, one target per sample."""
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim < 2 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"fit() needs X with the samples along the first axis, such as (samples, "
                         f"features) or (samples, steps, features), and one target per sample, "
                         f"got X of shape {X.shape} and {len(y) if y.ndim else 'no'} targets")
    if not len(X):
        raise ValueError(f"fit() needs at least one sample, got X of shape {X.shape}")
    _check_finite(X, "fit(): sample")
    return X, y


def _check_finite(X: np.ndarray, what: str) -> None:
    """Refuse a nan or an infinity among the samples, naming the first such sample."""
    bad = ~np.isfinite(X.reshape(len(X), -1)).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{what} {row} holds {X[row].ravel()[~np.isfinite(X[row].ravel())][0]}: "
                         f"samples must be finite numbers ({int(bad.sum())} of {len(X)} are not)")


def _first_output(model: Callable, X: np.ndarray) -> Value | list[Value]:
    """The model's output for the first sample (no graph), what the targets are checked with:
    a loss may check its outputs too (probabilities in (0, 1), say), and these are real ones.
    Where it is not Values (a model fit will refuse, or one a trace will), zeros of its shape."""
    with autograd.no_grad():
        first = model(X[0])
    zero = Value(0.0, requires_grad=False)
    if isinstance(first, list):
        return [out if isinstance(out, Value) else zero for out in first]
    return first if isinstance(first, Value) else zero


def _validate_targets(loss: Loss, y, first: Value | list[Value], where: str) -> None:
    """Check every target before the first step: finite, and accepted by the loss's own checks
    (labels ±1 for hinge, classes in range for cross_entropy, ...) and by accuracy's, run with
    the model's output for the first sample in every place (a traced loss cannot read its
    targets' numbers, and eager training would otherwise find a bad target only when its
    batch comes, after steps that changed every weight). Each distinct target is checked
    once, so a large set of class labels costs a few checks. An error names the first
    refused sample."""
    targets = np.asarray(y)
    numeric = targets.dtype.kind in "biuf" and targets.ndim > 0
    if numeric and not np.isfinite(targets).all():
        row = int(np.flatnonzero(~np.isfinite(targets.reshape(len(targets), -1)).all(axis=1))[0])
        raise ValueError(f"{where}: the target of sample {row} ({targets[row].tolist()!r}) is "
                         "refused, before any step: targets must be finite numbers")
    if numeric:  # each distinct target, in the order they first come
        _, firsts = np.unique(targets, axis=0, return_index=True)
        distinct = targets[np.sort(firsts)].tolist()
    else:
        distinct = targets.tolist()
    try:
        _check_some_targets(loss, distinct, first)
    except (TypeError, ValueError):
        for target in distinct:
            try:
                _check_some_targets(loss, [target], first)
            except (TypeError, ValueError) as error:
                row = next(i for i, t in enumerate(targets.tolist()) if t == target)
                raise type(error)(f"{where}: the target of sample {row} ({target!r}) is refused, "
                                  f"before any step: {error}") from None
        raise


def _check_some_targets(loss: Loss, targets: list, first: Value | list[Value]) -> None:
    with autograd.no_grad():
        loss([first] * len(targets), targets)
    _check_targets(targets, len(first) if isinstance(first, list) else 1)


def _check_optimizer_trains(model: Module, optimizer: Optimizer) -> None:
    """Refuse an optimizer whose parameters are not the model's (built for another model, or
    for a copy): training would step Values that the model never reads, silently."""
    own = {id(p) for p in model.parameters()}
    strangers = [p for p in optimizer.params if id(p) not in own]
    if strangers:
        raise ValueError(
            f"fit(): {len(strangers)} of the optimizer's {len(optimizer.params)} parameters are not "
            f"model.parameters() (the first: {strangers[0].label or strangers[0]!r}); build the "
            f"optimizer from this model, e.g. nn.Adam(model.parameters(), lr=...)")


def _validation_set(validation, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`validation` checked against the training samples X: (X_val, y_val) as arrays."""
    if not isinstance(validation, (tuple, list)) or len(validation) != 2:
        raise TypeError(f"fit(): validation should be a pair (X_val, y_val), got {validation!r}")
    X_val, y_val = np.asarray(validation[0], dtype=float), np.asarray(validation[1])
    if X_val.ndim == 0 or y_val.ndim == 0 or len(X_val) != len(y_val):
        raise ValueError(f"fit(): validation got {len(X_val) if X_val.ndim else 'no'} samples but "
                         f"{len(y_val) if y_val.ndim else 'no'} targets; it needs one target per sample")
    if not len(X_val):
        raise ValueError("fit(): validation needs at least one sample")
    if X_val.shape[1:] != X.shape[1:]:
        raise ValueError(f"fit(): validation samples of shape {X_val.shape[1:]} do not match the "
                         f"training samples of shape {X.shape[1:]}")
    _check_finite(X_val, "fit(): validation sample")
    return X_val, y_val


# ---- how one step runs -----------------------------------------------------------------------
def _strategy(model: Callable, loss: Loss, threshold: float, optimizer: Optimizer,
              penalty: Callable[[], Value] | None, X: np.ndarray, y: np.ndarray,
              compiled: bool) -> _OnValues | _Compiled:
    """The strategy for this call of `fit`: on Values, or compiled (the penalty on Values when
    it cannot be traced; the loss too, with only the model compiled, after a warning, when the
    loss cannot be traced)."""
    if not compiled:
        return _OnValues(model, loss, threshold, optimizer, penalty, y)
    try:
        return _Compiled(model, loss, threshold, optimizer, penalty, X, y, traced_penalty=True)
    except autograd.TracingError as error:
        problem = error
    if penalty is not None:
        try:
            return _Compiled(model, loss, threshold, optimizer, penalty, X, y, traced_penalty=False)
        except autograd.TracingError as error:
            problem = error
    program = autograd.compile(model, X[0])  # a model that cannot be traced: its TracingError
    warnings.warn(f"fit(compiled=True): the loss cannot be compiled, so it runs on Values "
                  f"(only the model is compiled): {problem}", stacklevel=3)
    return _OnValues(model, loss, threshold, optimizer, penalty, y, program=program)


class _OnValues:
    """A step on Values: the outputs, `loss` (+ `penalty()`), one backward pass, the optimizer's
    step. The model runs eagerly, or as `program` (`Program.as_values`): its outputs are then
    fresh leaf Values, whose gradients the program pulls back into the parameters."""

    record: Recorder | None = None
    """Set by `fit`: the optimizer's step then runs inside `record.update`."""

    def __init__(self, model: Callable, loss: Loss, threshold: float, optimizer: Optimizer,
                 penalty: Callable[[], Value] | None, y: np.ndarray,
                 program: autograd.Program | None = None) -> None:
        self.model, self.loss, self.threshold = model, loss, threshold
        self.optimizer, self.penalty, self.program = optimizer, penalty, program
        self.targets = y
        """The targets as batches hand them to `step`."""
        self.last: tuple[float, float, int] | None = None
        """The last step's (loss, accuracy, samples), known before its optimizer step."""

    def step(self, Xb: np.ndarray, yb: np.ndarray) -> tuple[float, float]:
        """Train on one batch: (its loss, its accuracy)."""
        targets = yb.tolist()
        self.optimizer.zero_grad()
        if self.program is None:
            outs, pull_back = [self.model(x) for x in Xb], None
        else:
            outs, pull_back = self.program.as_values(Xb)
        value = self.loss(outs, targets)
        if self.penalty is not None:
            value = value + self.penalty()
        value.backward()
        if pull_back is not None:
            pull_back()  # the model's share of the gradient, into its parameters
        self.last = value.data, accuracy(outs, targets, self.threshold), len(Xb)
        if self.record is None:
            self.optimizer.step()
        else:
            self.record.update(Xb, targets, outs, self.optimizer.step)
        return self.last[:2]

    def evaluate(self, X, y) -> dict[str, float]:
        """{"loss": ..., "accuracy": ...} on (X, y), without building a graph."""
        return evaluate(self.model, X, y, self.loss, self.threshold)

    def sync(self) -> None:
        """The Values are always up to date here."""


def _check_loss_is_a_mean(model: Callable, loss: Loss, X: np.ndarray, y: np.ndarray) -> None:
    """A compiled step traces one sample's loss and averages it over the batch, which is right
    for a loss that is the mean of its samples' losses (every nn loss) and silently wrong for
    one of your own that is not (a sum, a max over the batch). Checked on the first few
    samples; a loss that fails is refused as untraceable, so `fit` runs it on Values."""
    k = min(len(X), 4)
    if k < 2:  # every batch is one sample: its loss is its mean
        return
    with autograd.no_grad():
        outs = [model(x) for x in X[:k]]
        targets = np.asarray(y[:k]).tolist()
        whole = loss(outs, targets).data
        mean = math.fsum(loss([out], [target]).data for out, target in zip(outs, targets)) / k
    if not (math.isclose(whole, mean, rel_tol=1e-9, abs_tol=1e-12)
            or (math.isnan(whole) and math.isnan(mean))):
        raise autograd.TracingError(
            f"the loss of the first {k} samples together is {whole!r}, not the mean of their "
            f"losses one by one ({mean!r}): a compiled step computes each sample's loss and "
            "takes their mean, so it would train on another loss (a sum, or a value of the "
            "whole batch such as its max, is not a mean)")


class _Compiled:
    """A step compiled whole: one sample's `[loss (+ penalty), (loss,) *outputs]`, traced once
    with the optimizer's parameters first in the parameter vector, gives each batch's losses,
    outputs and mean gradient as arrays. With `vectors` (the penalty traced, and an optimizer
    whose step is its rule on arrays) the optimizer steps the vector and no Value is touched until
    `sync`; otherwise the gradient is added into the parameters' `.grad`, the penalty runs on
    Values and the optimizer steps them. Raises `TracingError` when the function cannot be
    traced."""

    record: Recorder | None = None
    """Set by `fit`: each step's update then runs inside `record.update`, on Values kept up to
    date with the vector (`_recorded_step`)."""

    def __init__(self, model: Callable, loss: Loss, threshold: float, optimizer: Optimizer,
                 penalty: Callable[[], Value] | None, X: np.ndarray, y: np.ndarray,
                 traced_penalty: bool) -> None:
        self.loss, self.threshold, self.optimizer = loss, threshold, optimizer
        with autograd.no_grad():
            first = model(X[0])
        self.outputs = len(first) if isinstance(first, list) else 1
        self.one_hot = loss.one_hot and np.asarray(y).ndim == 1
        self.targets = self.as_traced(y)
        """The targets as batches hand them to `step`: as the traced loss takes them."""
        folded = penalty if traced_penalty else None
        self.penalty = None if traced_penalty else penalty  # run on Values, each step
        self.skip = 1 if folded is not None else 0  # the plain loss rides along with a penalty

        def sample(x, target):
            out = model(x)
            outs = out if isinstance(out, list) else [out]
            value = loss([out], [target])
            return [value, *outs] if folded is None else [value + folded(), value, *outs]

        sample.__name__ = f"{getattr(loss, '__name__', 'loss')} of {type(model).__name__}"
        self.program = autograd.compile(sample, X[0], self.targets[0],
                                        parameters=optimizer.params)
        _check_loss_is_a_mean(model, loss, X, y)  # the trace takes one sample's loss
        kind = type(optimizer)  # on vectors only if its step() is the rule on arrays
        self.vectors = self.penalty is None and kind._rule is not Optimizer._rule \
            and kind.step is Optimizer.step
        self.trained = len(optimizer.params)  # the vector's first entries; the rest stay put
        self.theta = self.program.parameter_vector()
        self.grad: np.ndarray | None = None  # the last batch's gradient, for sync
        untrained = self.program.parameters[self.trained:]
        self.untrained_grads = np.zeros(len(untrained))  # summed, as leaves do, onto their
        self.untrained_start = [p.grad for p in untrained]  # grads before fit
        self.last: tuple[float, float, int] | None = None
        """The last step's (loss, accuracy, samples), known before its optimizer step."""

    def as_traced(self, y) -> np.ndarray:
        """The targets as the traced loss takes them: int labels as one-hot rows if it wants."""
        y = np.asarray(y)
        if self.one_hot:
            return np.eye(self.outputs)[y.astype(int)]
        return y.astype(float)

    def step(self, Xb: np.ndarray, yb: np.ndarray) -> tuple[float, float]:
        """Train on one batch: (its loss, its accuracy)."""
        if not self.vectors:
            self.optimizer.zero_grad()
            self.theta = self.program.parameter_vector()
        (objective, aux), grad = self.program.value_and_grad(
            Xb, yb, params=self.theta, reduction="mean", has_aux=True)
        number = math.fsum(objective.tolist()) / len(Xb)
        correct = int(_hits(aux[:, self.skip:], yb, self.threshold).sum()) / len(Xb)
        if self.vectors:
            self.last = number, correct, len(Xb)
            if self.record is None:
                self.step_vector(grad)
            else:
                self.record.update(Xb, yb.tolist(), self._outputs(aux), self._recorded_step(grad))
        else:
            self.program.accumulate(grad)
            if self.penalty is not None:
                extra = self.penalty()
                extra.backward()
                number += extra.data
            self.last = number, correct, len(Xb)
            if self.record is None:
                self.optimizer.step()
            else:
                self.record.update(Xb, yb.tolist(), self._outputs(aux), self.optimizer.step)
        return number, correct

    def step_vector(self, grad: np.ndarray) -> None:
        """The optimizer's step on the vector, all or nothing: if anything interrupts it, the
        vector, the optimizer's state and what `sync` reads are put back together."""
        before = self.theta, self.grad, self.untrained_grads, self.optimizer.checkpoint()
        try:
            trained = self.trained
            theta = self.optimizer.step_vector(self.theta[:trained], grad[:trained])
            if trained < len(grad):
                theta = np.concatenate([theta, self.theta[trained:]])
                self.untrained_grads = self.untrained_grads + grad[trained:]
            self.theta, self.grad = theta, grad
        except BaseException:
            self.theta, self.grad, self.untrained_grads = before[:3]
            self.optimizer.restore(before[3])
            raise

    def _outputs(self, aux: np.ndarray) -> list:
        """The batch's outputs from the program's aux columns: a number per sample, or a row."""
        outs = aux[:, self.skip:]
        return (outs[:, 0] if self.outputs == 1 else outs).tolist()

    def _recorded_step(self, grad: np.ndarray) -> Callable[[], None]:
        """For a recorder, which reads and explains the step on Values: the parameters' Values
        brought up to date with the vector (numbers, and the batch's gradient as the trained
        ones' `.grad`), and the vector's step, which writes its new numbers into them too."""
        self.program.set_parameters(self.theta)
        for p, g in zip(self.optimizer.params, grad[:self.trained].tolist()):
            p.grad = g

        def step() -> None:
            self.step_vector(grad)
            self.program.set_parameters(self.theta)
        return step

    def evaluate(self, X, y) -> dict[str, float]:
        """{"loss": ..., "accuracy": ...} on (X, y), run compiled (as `evaluate` does eagerly);
        fit checked the validation set before the first step."""
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        params = self.theta if self.vectors else None
        outputs = self.program(X, self.as_traced(y), params=params)
        losses, scores = outputs[:, self.skip], outputs[:, self.skip + 1:]
        return {"loss": math.fsum(losses.tolist()) / len(X),
                "accuracy": accuracy(scores, y, self.threshold)}

    def sync(self) -> None:
        """Bring the parameters' Values up to date with the vector: `.data`, and `.grad` as
        eager training leaves it (the last batch's gradient for the optimizer's parameters,
        every batch's summed onto their grads before fit for the others). It writes the same
        numbers when run again, so an interrupted sync is simply run again."""
        if not self.vectors or self.grad is None:
            return
        self.program.set_parameters(self.theta)
        params, trained = self.program.parameters, self.trained
        for p, g in zip(params[:trained], self.grad[:trained].tolist()):
            p.grad = g
        for p, start, g in zip(params[trained:], self.untrained_start, self.untrained_grads.tolist()):
            p.grad = g if start is None else start + g
