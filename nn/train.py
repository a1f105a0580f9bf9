"""Training and evaluation: `fit`, `evaluate`, `predict` and `accuracy`.

`fit` is the loop every seed writes by hand — forward, loss, zero_grad, backward, step — over
seeded mini-batches, with a tqdm progress bar showing loss and accuracy (shown only when
stderr is a terminal, unless `progress=` says otherwise). It returns the history as lists per
epoch, so curves can be drawn afterwards. Evaluation runs under `autograd.no_grad()`: no graph
is built.
"""
from __future__ import annotations

import math
import sys
import time
from typing import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

import autograd
from autograd import Value

from .data import batches
from .init import generator
from .optim import Optimizer

Loss = Callable[..., Value]


def _number(x) -> float:
    return x.data if isinstance(x, Value) else float(x)


def _class_of(output, threshold: float):
    if isinstance(output, (list, tuple, np.ndarray)) and len(output) > 1:
        numbers = [_number(o) for o in output]
        return int(np.argmax(numbers))
    if isinstance(output, (list, tuple, np.ndarray)):
        output = output[0]
    return _number(output) > threshold


def accuracy(outputs: Sequence, targets: Sequence, threshold: float = 0.5) -> float:
    """The fraction of samples whose output picks the target's class.

    Several outputs per sample: the largest one is the class (the target is an int label or a
    one-hot row). One output per sample: "positive" means above `threshold` (0.5 for
    probabilities, 0.0 for scores and for labels -1/+1), for outputs and targets alike.
    """
    outputs, targets = list(outputs), list(np.asarray(targets).tolist())
    if len(outputs) != len(targets):
        raise ValueError(f"accuracy() got {len(outputs)} outputs but {len(targets)} targets")
    if not outputs:
        raise ValueError("accuracy() needs at least one sample")
    right = 0
    for out, want in zip(outputs, targets):
        got = _class_of(out, threshold)
        if isinstance(got, bool):
            right += got == (_number(want[0] if isinstance(want, list) else want) > threshold)
        else:
            right += got == (int(np.argmax(want)) if isinstance(want, list) else int(want))
    return right / len(outputs)


def predict(model: Callable, X) -> np.ndarray:
    """The model's outputs as numbers (no graph): shape (samples,) or (samples, outputs)."""
    with autograd.no_grad():
        outs = [model(x) for x in np.asarray(X, dtype=float)]
    return np.array([[o.data for o in out] if isinstance(out, list) else out.data for out in outs])


def evaluate(model: Callable, X, y, loss: Loss, threshold: float | None = None) -> dict[str, float]:
    """{"loss": ..., "accuracy": ...} on (X, y), without building a graph."""
    threshold = getattr(loss, "threshold", 0.5) if threshold is None else threshold
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"evaluate() got {len(X)} samples but {len(y)} targets")
    with autograd.no_grad():
        outs = [model(x) for x in X]
        return {"loss": loss(outs, y.tolist()).data, "accuracy": accuracy(outs, y, threshold)}


def fit(
    model: Callable,
    X,
    y,
    loss: Loss,
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
) -> dict[str, list[float]]:
    """Train `model` on (X, y) and return the history.

    Each step: outputs for a batch, `loss(outputs, targets)` (+ `penalty()`, e.g.
    `lambda: nn.l2(model.parameters(), 1e-4)`), zero_grad, backward, `optimizer.step()`.
    `batch_size=None` uses the whole set per step; batches are shuffled with `seed`.
    The history has, per epoch, "loss" and "accuracy" (averaged over the epoch's batches, as
    they were during training), "seconds", and with `validation=(X_val, y_val)` also
    "val_loss" and "val_accuracy". `on_epoch(epoch, history)` runs after each epoch.
    With `compiled=True` the model runs as `autograd.compile(model, X[0])`: its traced graph,
    batch by batch with numpy; the loss and penalty still run on Values. Same results, faster.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"fit() needs X of shape (samples, features) and one target per sample, "
                         f"got X of shape {X.shape} and {len(y)} targets")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit() needs an nn optimizer (SGD, Adam), got {optimizer!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs should be a positive int, got {epochs!r}")
    batch_size = len(X) if batch_size is None else batch_size
    threshold = getattr(loss, "threshold", 0.5) if threshold is None else threshold
    rng = generator(seed)
    steps = epochs * math.ceil(len(X) / max(1, min(batch_size, len(X))))
    show = sys.stderr.isatty() if progress is None else bool(progress)
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "seconds": []}
    program = autograd.compile(model, X[0]) if compiled else None
    with tqdm(total=steps, disable=not show, unit="step", leave=False) as bar:
        for epoch in range(epochs):
            start, total, right, seen = time.perf_counter(), 0.0, 0.0, 0
            for Xb, yb in batches(X, y, batch_size, shuffle=shuffle, seed=rng):
                if program is None:
                    outs = [model(x) for x in Xb]
                else:
                    outs, pull_back = program.as_values(Xb)
                targets = yb.tolist()
                value = loss(outs, targets)
                if penalty is not None:
                    value = value + penalty()
                optimizer.zero_grad()
                value.backward()
                if program is not None:
                    pull_back()  # the model's share of the gradient, into its parameters
                optimizer.step()
                total += value.data * len(Xb)
                right += accuracy(outs, targets, threshold) * len(Xb)
                seen += len(Xb)
                bar.update()
                bar.set_postfix(epoch=epoch + 1, loss=f"{total / seen:.4f}", acc=f"{right / seen:.3f}")
            history["loss"].append(total / seen)
            history["accuracy"].append(right / seen)
            history["seconds"].append(time.perf_counter() - start)
            if validation is not None:
                scores = evaluate(model, *validation, loss, threshold)
                history.setdefault("val_loss", []).append(scores["loss"])
                history.setdefault("val_accuracy", []).append(scores["accuracy"])
            if on_epoch is not None:
                on_epoch(epoch, history)
    return history
