"""Recording a training run: `nn.fit(..., record=nn.Recorder())`, then a timeline page.

    recorder = nn.Recorder(full=10)              # every 10th step and the last in full
    nn.fit(model, X, y, nn.hinge, optimizer, epochs=100, record=recorder)
    recorder.save("timeline.html")               # one offline page: curves, boundary, weights

Every step keeps a summary: its batch's loss and accuracy, the learning rate, the gradient's
size, and (within a size budget) the parameters and, for 2-D inputs, the decision boundary on
a grid, as they were when the step's forward pass ran. The steps the user chooses are recorded
in full: the forward and backward pass as `autograd.backprop_steps` explains them, and the
optimizer's update of every parameter (`nn.updates`), so the page opens them in the player.

A full step draws `samples` samples of its batch through the network (default: 1). The other
samples of the batch enter the loss as their outputs, numbers from the step itself
(`hinge.output.17`, made in the loss's scope: one box with it), so the loss, and every
gradient the backward pass writes, are the step's own. The parameters also get gradient
through the samples not drawn; a step after the backward pass adds that share (the gradient
the optimizer used, minus what the drawn samples sent), then the update explains each
parameter's new number from the gradient the optimizer used.

The training itself is the same, bit for bit, for pure code: recording calls your code more
often than training does. Every step reads the learning rate (a schedule `lr(step)`) once more,
and a full step calls it again (`nn.updates.watch`), and calls the model on the samples it
draws, the loss, and `penalty()`, to build the graph it explains; a model that cannot be
compiled is also called on the boundary's grid. A model, loss, penalty and schedule that are
functions of their inputs train identically (tested); code with state or side effects does
not: a schedule that counts its calls, a model that draws random numbers (dropout without its
own seed), a penalty that changes something. Record such a run with `full=()` (no full step;
the schedule is still read once more per step), or make its randomness a function of the step.

Size is bounded: only the full steps hold explanations; the summaries hold numbers. The
parameters and the boundary are kept at every step while they fit a budget (`SNAPSHOT_BYTES`),
else at every k-th step; the page says which step it shows.
"""
from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

import autograd
from autograd import Value
from autograd.steps import count, few, fmt, operand, short_name, wrt

from . import updates as explained
from .optim import Optimizer

SNAPSHOT_BYTES = 3_000_000  # the parameters (8 bytes each) and the boundary (1 byte a cell)
FULL_BY_DEFAULT = 10  # about this many steps in full when `full` is not given
GRID_EAGER = 16  # the boundary's grid when the model cannot be compiled (computed on Values)


@dataclass(frozen=True)
class StepRecord:
    """What every step keeps: where it is in the run and how it went."""

    step: int
    epoch: int
    batch: int  # its number within the epoch
    size: int  # samples in its batch
    loss: float  # the batch's loss (with the penalty, if any), as fit reports it
    accuracy: float  # the batch's accuracy
    rate: float  # the learning rate the update used
    grad_norm: float  # the length of the gradient vector the update used
    scored: bool = True  # False: Ctrl-C came after its update, before fit scored it (loss nan)


@dataclass(frozen=True)
class FullStep:
    """A step recorded in full: its forward, backward and update, explained."""

    step: int
    walk: autograd.Steps  # forward, backward, and the update after them
    updates: tuple[explained.ParameterUpdate, ...]
    drawn: int  # samples drawn through the network
    size: int  # samples in the batch


class Recorder:
    """Records what `nn.fit` does, step by step, for a timeline page (see the module docs).

    `full`: which steps are recorded in full (forward, backward and update, for the player):
    an int k for every k-th step (0, k, 2k, ...) and the last; a collection of step numbers;
    `()` for none; by default about 10 steps, evenly spread, and the last. `samples`: how many
    samples of a full step's batch are drawn through the network (None: all of them). `grid`:
    the decision boundary's resolution, for models with 2 inputs.

    Recording leaves the run bit for bit as it was for pure code only: it calls the learning-
    rate schedule again at every step, and the model, the loss and `penalty()` again for each
    full step (see the module docs), so a model with randomness or a schedule with side effects
    would train differently.
    """

    def __init__(self, full: int | Iterable[int] | None = None, *, samples: int | None = 1,
                 grid: int = 40) -> None:
        self._full_choice = _checked_full(full)
        if samples is not None:
            _whole(samples, 1, None, "Recorder(samples=...) should be a number of samples >= 1, "
                                     "or None for the whole batch")
        _whole(grid, 4, 200, "Recorder(grid=...) should be a whole number from 4 to 200")
        self.samples, self.grid = samples, grid
        self.steps: list[StepRecord] = []
        self.full: dict[int, FullStep] = {}
        self.history: dict[str, list[float]] = {}
        self._run: _Run | None = None

    # ---- what the page and users read ---------------------------------------------------------
    @property
    def full_steps(self) -> list[int]:
        """The numbers of the steps recorded in full."""
        return sorted(self.full)

    def player(self, step: int, level: str | None = None) -> autograd.Player:
        """The player for a step recorded in full: its forward, backward and update."""
        return autograd.player(self._full_step(step).walk, title=self._player_title(step),
                               level=level)

    def parameters(self, step: int) -> dict[str, float]:
        """{name: number} of the parameters when `step`'s forward pass ran (`len(steps)`: after
        the last update), for a step whose parameters were kept (see `snapshot_steps`)."""
        run = self._finished()
        if step not in run.snapshot_index:
            raise ValueError(f"the parameters were kept at steps {few(run.snapshot_steps)}; "
                             f"not at {step!r}")
        return dict(zip(run.names, run.snapshots[run.snapshot_index[step]].tolist()))

    @property
    def snapshot_steps(self) -> list[int]:
        """The steps whose parameters (and boundary) were kept, the end (len(steps)) last."""
        return list(self._finished().snapshot_steps)

    def timeline(self, title: str | None = None):
        """The timeline page (`.save(path)`, `.html()`)."""
        from .timeline import Timeline
        return Timeline(self, title)

    def save(self, path: str | Path, title: str | None = None) -> Path:
        """Write the timeline page to `path` (.html) and return the path."""
        return self.timeline(title).save(path)

    def __repr__(self) -> str:
        if self._run is None:
            return "<Recorder: nothing recorded yet; pass it to nn.fit(..., record=...)>"
        return (f"<Recorder: {len(self.steps)} steps, {len(self.full)} in full; "
                f".save('timeline.html') writes the page>")

    # ---- what fit calls ----------------------------------------------------------------------
    def begin(self, model: Callable, X: np.ndarray, y: np.ndarray, loss: Callable,
              optimizer: Optimizer, penalty: Callable[[], Value] | None, threshold: float,
              epochs: int, batches: int) -> None:
        """Called by fit before its first step: what is trained, on what, for how long."""
        if self._run is not None:
            raise ValueError("this Recorder has recorded a run already: make a new "
                             "nn.Recorder() for each call of fit")
        total = epochs * batches
        self._run = _Run(self, model, X, y, loss, optimizer, penalty, threshold, epochs,
                         batches, _full_steps(self._full_choice, total))

    def update(self, Xb: np.ndarray, targets: list, outputs: list, step: Callable[[], None]) -> None:
        """Called by fit in place of `optimizer.step()`, once the batch's backward pass has
        filled the grads: records the step around `step()`."""
        self._recording().update(Xb, targets, outputs, step)

    def scored(self, loss: float, accuracy: float) -> None:
        """Called by fit after each step with the batch's loss and accuracy."""
        self._recording().scored(loss, accuracy)

    def finish(self, history: dict[str, list[float]]) -> None:
        """Called by fit at the end: the per-epoch history, and the trained parameters."""
        self._recording().finish(history)

    # ---- helpers -----------------------------------------------------------------------------
    def _recording(self) -> _Run:
        if self._run is None:
            raise RuntimeError("the Recorder is not recording: pass it to nn.fit(..., record=...)")
        return self._run

    def _finished(self) -> _Run:
        run = self._recording()
        if not run.done:
            raise RuntimeError("the run is not finished: the Recorder has its numbers once "
                               "nn.fit returns (a run that fit stopped on an error is not kept)")
        return run

    def _full_step(self, step: int) -> FullStep:
        if step not in self.full:
            shown = few(self.full_steps) if self.full else "none"
            raise ValueError(f"step {step!r} was not recorded in full (these were: {shown}); "
                             "choose them with nn.Recorder(full=...)")
        return self.full[step]

    def _player_title(self, step: int) -> str:
        full, record = self.full[step], self.steps[step]
        drawn = ("its batch is one sample" if full.size == 1 else
                 f"all {full.size} samples of its batch" if full.drawn == full.size else
                 f"{count(full.drawn, 'sample')} of its batch of {full.size} drawn")
        return (f"Step {step} of {len(self.steps)} (epoch {record.epoch + 1}, batch "
                f"{record.batch + 1}): forward, backward and update; {drawn}")


class _Run:
    """One recording in progress: fit's setting, the summaries, the full steps."""

    def __init__(self, recorder: Recorder, model, X, y, loss, optimizer: Optimizer, penalty,
                 threshold: float, epochs: int, batches: int, full: set[int]) -> None:
        self.recorder, self.model, self.loss, self.optimizer = recorder, model, loss, optimizer
        self.penalty, self.threshold = penalty, threshold
        self.loss_scope = getattr(loss, "__name__", "loss")  # where the samples not drawn go
        self.epochs, self.batches, self.total, self.full = epochs, batches, epochs * batches, full
        self.X, self.y = X, y
        self.params = optimizer.params
        self.names = [p.label or f"p{i}" for i, p in enumerate(self.params)]
        self.boundary = Boundary.of(model, X, y, threshold, recorder.grid)
        per_snapshot = 8 * len(self.params) + (self.boundary.cells if self.boundary else 0)
        self.every = max(1, math.ceil(per_snapshot * (self.total + 1) / SNAPSHOT_BYTES))
        self.snapshot_steps: list[int] = []
        self.snapshot_index: dict[int, int] = {}
        self.snapshots: list[np.ndarray] = []
        self.pending: dict | None = None
        self.done = False
        self.stopped: int | None = None  # the steps taken when fit stopped on Ctrl-C

    def snapshot(self, step: int) -> None:
        """Keep the parameters and the boundary as they are now, as `step`'s."""
        self.snapshot_index[step] = len(self.snapshots)
        self.snapshot_steps.append(step)
        self.snapshots.append(np.array([p.data for p in self.params]))
        if self.boundary is not None:
            self.boundary.keep()

    def update(self, Xb: np.ndarray, targets: list, outputs: list, step: Callable[[], None]) -> None:
        k = len(self.recorder.steps)
        if self.pending is not None or k >= self.total:
            raise RuntimeError("Recorder.update() is called once per step, by fit")
        if k % self.every == 0:
            self.snapshot(k)
        grads = [explained.as_number(p.grad) for p in self.params]
        norm = math.sqrt(math.fsum(g * g for g in grads if g is not None))
        self.pending = dict(step=k, size=len(Xb), rate=self.optimizer.rate(), norm=norm,
                            stepped=False)
        if k not in self.full:
            step()
            self.pending["stepped"] = True
            return
        walk, drawn, out = self.full_step(Xb, targets, outputs)
        watch = explained.watch(self.optimizer)
        step()
        self.pending["stepped"] = True
        self.recorder.full[k] = self.finish_full(k, walk, drawn, len(Xb), watch, out)

    def scored(self, loss: float, accuracy: float, scored: bool = True) -> None:
        if self.pending is None:
            raise RuntimeError("Recorder.scored() follows Recorder.update(), once per step")
        p, self.pending = self.pending, None
        k = p["step"]
        self.recorder.steps.append(StepRecord(k, k // self.batches, k % self.batches, p["size"],
                                              float(loss), float(accuracy), p["rate"],
                                              p["norm"], scored))

    def finish(self, history: dict[str, list[float]]) -> None:
        """The end: the parameters now, after the last step's update. fit calls it at the end
        of the run, or when Ctrl-C stopped it (after its last complete step: a step whose
        update it interrupted was undone, and is not recorded; one it interrupted after the
        update, before its loss was scored, is recorded unscored)."""
        if self.pending is not None:
            if self.pending["stepped"]:
                self.scored(math.nan, math.nan, scored=False)
            else:  # its update was interrupted and undone: the step did not happen
                self.recorder.full.pop(self.pending["step"], None)
                self.pending = None
        taken = len(self.recorder.steps)
        if taken != self.total:
            self.stopped = taken
        if not self.snapshot_steps or self.snapshot_steps[-1] != taken:
            self.snapshot(taken)  # (a step undone had kept the same numbers as its own)
        self.recorder.history = {key: list(values) for key, values in history.items()}
        self.done = True

    # ---- a step in full ------------------------------------------------------------------------
    def full_step(self, Xb: np.ndarray, targets: list, outputs: list):
        """The step's forward and backward pass, on the parameters before its update: the
        graph of its loss with `samples` samples drawn through the model, the others as their
        outputs. Returns (the walk, how many were drawn, the output's name)."""
        size = len(Xb)
        drawn = size if self.recorder.samples is None else min(self.recorder.samples, size)
        outs = []
        for i in range(drawn):
            outs.append(self.model(Xb[i]))
            if drawn > 1:
                _suffix(outs[-1], i)
        # the others' outputs are made where the loss makes its nodes: one box with it
        with autograd.scope(self.loss_scope, kind="loss"):
            outs += [_as_leaves(outputs[i], f"output.{i}") for i in range(drawn, size)]
        value = self.loss(outs, targets)
        if self.penalty is not None:
            value = value + self.penalty()
            value.label = "total"
        # the steps explain this pass alone: fit's grads, already in .grad, are set aside
        held = [p.grad for p in self.params]
        try:
            for p in self.params:
                p.grad = None
            walk = autograd.backprop_steps(value, params=self.params)
        finally:
            for p, grad in zip(self.params, held):
                p.grad = grad
        return walk, drawn, walk.nodes[-1].name

    def finish_full(self, k: int, walk: autograd.Steps, drawn: int, size: int,
                    watch: explained.Pending, out: str) -> FullStep:
        """The walk, followed by the rest of the batch's share of the gradient (if any) and
        the optimizer's update of each parameter."""
        index = {id(v): i for i, v in enumerate(autograd.topological_order(walk.root))}
        # each parameter by its name in the walk (its label, else the node's id: v3), and
        # inside its module as the walk writes it there (w.1 in layers.0.neurons.3)
        names = {id(p): walk.nodes[index[id(p)]].name if id(p) in index else p.label or f"p{i}"
                 for i, p in enumerate(self.params)}
        updates = watch.explain(out=wrt(out), names=[short_name(names[id(p)], _module(p))
                                                      for p in self.params])
        final = walk.state(len(walk) - 1).grad
        in_graph = [u for u in updates if id(u.parameter) in index]
        more = []
        rest = [u for u in in_graph if u.grad is not None and
                not explained.same_float(final[index[id(u.parameter)]] or 0.0, u.grad)]
        if rest:
            more.append(_rest_of_batch(rest, final, index, names, drawn, size, wrt(out),
                                       f"{self.loss_scope}.output"))
        title, lines = watch.describe(out=wrt(out))
        missing = [names[id(u.parameter)] for u in updates if id(u.parameter) not in index]
        if missing:
            lines += (f"not in the graph drawn (no path from the sample drawn to them), so not "
                      f"shown: {few(missing)}",)
        lines += ("the forward values above stay this step's: the next step's forward pass "
                  "uses the new numbers",)
        more.append(autograd.Afterwards(title, lines, kind="optimizer"))
        for u in in_graph:
            more.append(autograd.Afterwards(
                u.title, _where(u.parameter, u.name) + u.lines,
                sets=((u.parameter, "data", u.after),), node=u.parameter))
        return FullStep(k, walk.then(more), tuple(updates), drawn, size)


def _rest_of_batch(rest: list, final: tuple, index: dict, names: dict, drawn: int, size: int,
                   out: str, outputs: str) -> autograd.Afterwards:
    """The step that completes each parameter's gradient with what the graph drawn leaves
    out: the samples not drawn, or (everything drawn) the rounding of another engine. Each
    parameter by its name in the walk (`names`: by id), as the done step lists them."""
    sets, lines = [], []
    if drawn < size:
        others = (f"{outputs}.{drawn}" if size - drawn == 1
                  else f"{outputs}.{drawn} to {outputs}.{size - 1}")
        lines.append(f"the parameters get gradient through the {count(size - drawn, 'sample')} "
                     f"not drawn too ({others}): their share is the gradient the optimizer "
                     "used minus what the backward pass above sent")
    else:
        lines.append("the gradient the optimizer used was computed by another engine (the "
                     "compiled program), whose sums round differently: it is used as it came")
    for u in rest:
        here = final[index[id(u.parameter)]]
        sets.append((u.parameter, "grad", u.grad))
        if len(lines) <= 12:
            sent = "not computed" if here is None else fmt(here)
            share = u.grad - (here or 0.0)
            lines.append(f"∂{out}/∂{wrt(names[id(u.parameter)])} = {sent} + {operand(share)} = "
                         f"{fmt(u.grad)}")
    if len(rest) > 12:
        lines.append(f"… and {len(rest) - 12} more: the table has every one")
    title = (f"the other {count(size - drawn, 'sample')} of the batch add their share of each "
             "gradient" if drawn < size else "the gradient the optimizer used")
    return autograd.Afterwards(title, tuple(lines), sets=tuple(sets), kind="batch",
                               phase="backward")


class Boundary:
    """The model's output on a grid over the inputs' plane, kept at each snapshot (2 inputs)."""

    def __init__(self, score: Callable[[np.ndarray], np.ndarray], X: np.ndarray, y: np.ndarray,
                 threshold: float, grid: int) -> None:
        self.score, self.threshold, self.grid = score, threshold, grid
        pad_x = 0.1 * (X[:, 0].max() - X[:, 0].min()) or 0.5
        pad_y = 0.1 * (X[:, 1].max() - X[:, 1].min()) or 0.5
        self.x = (float(X[:, 0].min() - pad_x), float(X[:, 0].max() + pad_x))
        self.y = (float(X[:, 1].min() - pad_y), float(X[:, 1].max() + pad_y))
        xs, ys = np.linspace(*self.x, grid), np.linspace(*self.y, grid)
        gx, gy = np.meshgrid(xs, ys)
        self.points = np.c_[gx.ravel(), gy.ravel()]
        self.cells = grid * grid
        self.frames: list[np.ndarray] = []

    @classmethod
    def of(cls, model, X: np.ndarray, y: np.ndarray, threshold: float, grid: int) -> Boundary | None:
        """A Boundary for a model of 2 inputs, else None."""
        if X.ndim != 2 or X.shape[1] != 2:
            return None
        try:
            program = autograd.compile(model, X[0])
        except autograd.TracingError as error:
            warnings.warn(f"Recorder: the model cannot be compiled ({error}), so the decision "
                          f"boundary is computed on Values, on a {GRID_EAGER}x{GRID_EAGER} grid",
                          stacklevel=4)
            from .train import predict
            return cls(lambda points: predict(model, points), X, y, threshold, GRID_EAGER)
        return cls(program, X, y, threshold, grid)

    def keep(self) -> None:
        """Compute the model's output at every grid point now, and keep it as the next frame
        (a snapshot's: the parameters as they are when the step's forward pass runs)."""
        self.frames.append(np.asarray(self.score(self.points), dtype=np.float64))


# ---- small helpers ---------------------------------------------------------------------------
def _whole(x, low: int, high: int | None, what: str) -> None:
    """`x` is an int from `low` to `high` (None: no limit), or a TypeError / ValueError."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{what}, got {x!r} ({type(x).__name__})")
    if x < low or (high is not None and x > high):
        raise ValueError(f"{what}, got {x!r}")


def _checked_full(full) -> int | frozenset[int] | None:
    if full is None:
        return None
    if isinstance(full, bool):
        raise TypeError(f"Recorder(full=...) should be a number k (every k-th step), a list of "
                        f"step numbers, () or None, got {full!r}")
    if isinstance(full, numbers.Integral):
        if full < 1:
            raise ValueError(f"Recorder(full={full!r}): every k-th step needs k >= 1 (full=() "
                             "records no step in full)")
        return int(full)
    try:
        steps = list(full)
    except TypeError:
        raise TypeError(f"Recorder(full=...) should be a number k (every k-th step), a list of "
                        f"step numbers, () or None, got {full!r}") from None
    for k in steps:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
            raise ValueError(f"Recorder(full=...) lists step numbers (0, 1, 2, ...), got {k!r}")
    return frozenset(int(k) for k in steps)


def _full_steps(choice, total: int) -> set[int]:
    """The step numbers to record in full, once the run's length is known."""
    if isinstance(choice, frozenset):
        late = sorted(k for k in choice if k >= total)
        if late:
            raise ValueError(f"Recorder(full=...) names step {late[0]}, but this run has "
                             f"{total} steps (0 to {total - 1})")
        return set(choice)
    every = choice if choice is not None else max(1, math.ceil(total / FULL_BY_DEFAULT))
    return set(range(0, total, every)) | {total - 1}


def _as_leaves(output, name: str):
    """A sample's output (a number, a Value, a row) as leaf Values named `name` (`name.c`),
    after the scope they are made in."""
    here = autograd.current_scope()
    name = name if here is None else f"{here.path}.{name}"
    if isinstance(output, (list, tuple, np.ndarray)) and np.ndim(output) > 0:
        return [Value(_float(o), f"{name}.{c}") for c, o in enumerate(output)]
    return Value(_float(output), name)


def _float(x) -> float:
    return float(x.data if isinstance(x, Value) else x)


def _suffix(out, i: int) -> None:
    """Append the sample's number to the names of the nodes the model made for it, so that
    several samples drawn read apart (`layers.0.neurons.3.z.2`)."""
    seen: set[int] = set()
    for root in out if isinstance(out, list) else [out]:
        for v in autograd.topological_order(root):
            if v.op is not None and v.label and id(v) not in seen:
                v.label = f"{v.label}.{i}"
            seen.add(id(v))


def _module(p: Value) -> str:
    """The path of the module that made `p` ("" if none)."""
    return "" if p.scope is None else p.scope.path


def _where(p: Value, short: str) -> tuple[str, ...]:
    """`in layers.0.neurons.3:` before an update that writes the parameter's short name."""
    return (f"in {p.scope.path}:",) if p.scope is not None and short != p.label else ()

