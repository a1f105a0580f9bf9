"""Compiled training against the limit of the machine: one task, every way to run it.

Run: `python -m benchmarks.compiled` (add `--quick` for a short run). A `Task` describes one
training run (an MLP with ReLU hidden layers, its loss, optimizer, batches and data) and each
engine runs it from the same starting weights (an `nn.MLP`'s):

- `numpy`: the network written by hand with numpy arrays, forward and backward: the practical
  limit of this machine for the task, which every other time is compared with;
- `compiled`: glassgrad's compiled program (`Program.value_and_grad` on the parameter vector,
  the update written with numpy on that vector, as for numpy and torch);
- `compiled-fit`: `nn.fit(compiled=True)` with `nn.SGD` / `nn.Adam`: what users run;
- `torch-tensors`: PyTorch on batched float64 tensors, one thread (only when installed);
- `eager`: `nn.fit` on Values, one node per operation.

Times are of training only: the compiled program's one-off tracing and compiling (and fit's)
is not in them; each engine runs `--repeats` times in turns and the fastest run counts (eager
runs once). Every engine prints its last epoch's mean loss: the same number, since all take
the same steps. Tables here:

- moons: micrograd's demo, MLP(2, [16, 16, 1]), hinge loss + L2 (1e-4), 100 full-batch SGD
  steps with the rate 1 - 0.9 k/100;
- digits: one epoch of seed 002's network, MLP(64, [128, 10]), softmax cross-entropy, Adam
  (lr 0.005), batches of 32, on scikit-learn's 8x8 digits;

then digits trained once with `nn.fit(compiled=True)` (the demo's settings), the test accuracy
printed after each epoch, until it reaches 97% (at most 30 epochs; 3 with `--quick`).

`python -m benchmarks` runs the same engines on its moons and digits workloads (`cell`), one
fresh process per measurement, beside the scalar engines.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

import autograd
import nn

from .engines import CELL_RUNS, VECTOR_ENGINES

try:
    import torch
except ImportError:  # optional: pip install torch==2.13.0
    torch = None

ENGINES = VECTOR_ENGINES + ("eager",)
"""Every way to run a task; `python -m benchmarks` runs all but eager (it has `glassgrad`)."""


@dataclass(frozen=True)
class Task:
    """One training run, written once for every engine.

    `loss` is "hinge" (one output, labels ±1; plus `l2` Σ p² when given) or "cross_entropy"
    (int labels, softmax over the outputs); `optimizer` "sgd" or "adam" with `lr(step)`;
    `batch_size` None for the whole set; with `shuffle` each epoch's batches are drawn as
    `nn.fit` draws them, else they come in order."""

    sizes: tuple[int, ...]
    X: np.ndarray
    y: np.ndarray
    loss: str
    optimizer: str
    lr: Callable[[int], float]
    epochs: int = 1
    batch_size: int | None = None
    shuffle: bool = False
    l2: float = 0.0
    init: str = "he"
    seed: int = 0

    def model(self) -> nn.MLP:
        return nn.MLP(self.sizes[0], list(self.sizes[1:]), activation="relu", init=self.init,
                      seed=self.seed)

    def targets(self) -> np.ndarray:
        """The targets as arrays take them: ±1 as floats, or labels as one-hot rows."""
        return self.y.astype(float) if self.loss == "hinge" else np.eye(self.sizes[-1])[self.y]

    def epochs_of_batches(self, Y: np.ndarray):
        """Each epoch's (X, Y) batches, drawn as `nn.fit` draws them (seed 0) when shuffled."""
        size, order = self.batch_size or len(self.X), np.random.default_rng(0)
        for _ in range(self.epochs):
            if self.shuffle:
                yield nn.batches(self.X, Y, size, seed=order)
            else:
                yield [(self.X[i : i + size], Y[i : i + size]) for i in range(0, len(self.X), size)]


@dataclass
class Result:
    seconds: float  # of training
    loss: float  # the mean over the last epoch's batches, weighted by their sizes (as nn.fit's)


def _train(task: Task, Y: np.ndarray, step: Callable[[np.ndarray, np.ndarray, float], float]) -> Result:
    """The loop the array engines share: `step(X_batch, Y_batch, lr)` trains on one batch and
    returns its loss. The seconds of training and the last epoch's mean loss."""
    seconds, count = 0.0, 0
    for batches in task.epochs_of_batches(Y):
        start, total, seen = time.perf_counter(), 0.0, 0
        for Xb, Yb in batches:
            total += float(step(Xb, Yb, task.lr(count))) * len(Xb)
            seen += len(Xb)
            count += 1
        seconds += time.perf_counter() - start
    return Result(seconds, total / seen)


# ---- the engines -------------------------------------------------------------------------------
def weights(model: nn.MLP) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each layer's (W, b) as arrays: W[j] is neuron j's weights."""
    return [(np.array([[w.data for w in n.w] for n in layer.neurons]),
             np.array([n.b.data for n in layer.neurons])) for layer in model.layers]


def numpy_forward_backward(layers, X, Y, loss: str):
    """The MLP's forward and backward by hand: (mean loss, grads per layer)."""
    activations = [X]
    for i, (W, b) in enumerate(layers):
        z = activations[-1] @ W.T + b
        activations.append(np.maximum(z, 0.0) if i < len(layers) - 1 else z)
    out = activations[-1]
    if loss == "hinge":
        margin = 1 - Y[:, None] * out
        value = np.maximum(margin, 0).mean()
        g = np.where(margin > 0, -Y[:, None], 0.0) / len(X)
    else:
        shifted = out - out.max(axis=1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        value = -(np.log(p) * Y).sum(axis=1).mean()
        g = (p - Y) / len(X)
    grads = []
    for i in range(len(layers) - 1, -1, -1):
        W, _ = layers[i]
        grads.append((g.T @ activations[i], g.sum(axis=0)))
        if i:
            g = (g @ W) * (activations[i] > 0)
    return value, grads[::-1]


class VectorAdam:
    """Adam on arrays for the engines that keep parameters as arrays (compiled, torch, numpy).

    It repeats `nn.Adam`'s rule (bias-corrected moments, the same betas and eps) on whole
    arrays, written here by hand as a reference: every engine takes the very same steps as
    `nn.Adam` on Values. The caller counts the steps in `t` (one per batch, shared by all)."""

    def __init__(self, betas=(0.9, 0.999), eps=1e-8) -> None:
        self.betas, self.eps, self.t, self.state = betas, eps, 0, {}

    def step(self, key, param: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
        """The array `param` after one Adam step on `grad`; `key` names its moments."""
        b1, b2 = self.betas
        m, v = self.state.get(key, (0.0, 0.0))
        m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
        self.state[key] = (m, v)
        return param - lr * (m / (1 - b1**self.t)) / (np.sqrt(v / (1 - b2**self.t)) + self.eps)


def run_numpy(task: Task) -> Result:
    """The task by hand: the limit."""
    layers, adam = weights(task.model()), VectorAdam()

    def step(Xb, Yb, lr):
        nonlocal layers
        loss, grads = numpy_forward_backward(layers, Xb, Yb, task.loss)
        if task.l2:
            loss += task.l2 * sum((p * p).sum() for pair in layers for p in pair)
            grads = [(gW + 2 * task.l2 * W, gb + 2 * task.l2 * b)
                     for (W, b), (gW, gb) in zip(layers, grads)]
        if task.optimizer == "sgd":
            layers = [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(layers, grads)]
        else:
            adam.t += 1
            layers = [(adam.step((k, 0), W, gW, lr), adam.step((k, 1), b, gb, lr))
                      for k, ((W, b), (gW, gb)) in enumerate(zip(layers, grads))]
        return loss

    return _train(task, task.targets(), step)


def per_sample_loss(model: nn.MLP, loss: str):
    """The loss of one sample written with ops only (so it traces): hinge, or softmax
    cross-entropy against a one-hot label as log Σ exp(s) - y·s."""
    if loss == "hinge":
        return lambda x, y: (1 - y * model(x)).relu()

    def cross_entropy(x, y):
        scores = model(x)
        return autograd.sum([s.exp() for s in scores]).log() - autograd.dot(y, scores)

    return cross_entropy


def run_compiled(task: Task) -> Result:
    """The compiled program on the parameter vector; the update by hand."""
    Y, adam = task.targets(), VectorAdam()
    program = autograd.compile(per_sample_loss(task.model(), task.loss), task.X[0], Y[0])
    theta = program.parameter_vector()

    def step(Xb, Yb, lr):
        nonlocal theta
        losses, grad = program.value_and_grad(Xb, Yb, params=theta, reduction="mean")
        loss = losses.mean()
        if task.l2:
            loss += task.l2 * (theta @ theta)
            grad = grad + 2 * task.l2 * theta
        if task.optimizer == "sgd":
            theta = theta - lr * grad
        else:
            adam.t += 1
            theta = adam.step(0, theta, grad, lr)
        return loss

    return _train(task, Y, step)


def run_fit(task: Task, compiled: bool = True) -> Result:
    """`nn.fit` (compiled, or on Values) with nn's loss, penalty and optimizer."""
    model = task.model()
    params = model.parameters()
    optimizer = nn.SGD(params, lr=task.lr) if task.optimizer == "sgd" else nn.Adam(params, lr=task.lr)
    loss = nn.hinge if task.loss == "hinge" else nn.cross_entropy
    penalty = (lambda: nn.l2(params, task.l2)) if task.l2 else None
    history = nn.fit(model, task.X, task.y, loss, optimizer, epochs=task.epochs,
                     batch_size=task.batch_size, shuffle=task.shuffle, penalty=penalty,
                     progress=False, compiled=compiled)
    return Result(sum(history["seconds"]), history["loss"][-1])


def run_torch(task: Task) -> Result:
    """PyTorch tensors, float64, one thread; the update by hand as for numpy."""
    torch.set_num_threads(1)
    tensors = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
               for W, b in weights(task.model())]
    adam = VectorAdam()

    def step(Xb, Yb, lr):
        h = torch.from_numpy(Xb)
        for i, (W, b) in enumerate(tensors):
            h = h @ W.T + b
            h = torch.relu(h) if i < len(tensors) - 1 else h
        if task.loss == "hinge":
            value = torch.relu(1 - torch.from_numpy(Yb)[:, None] * h).mean()
        else:
            value = torch.nn.functional.cross_entropy(h, torch.from_numpy(Yb.argmax(axis=1)))
        if task.l2:
            value = value + task.l2 * sum((p * p).sum() for pair in tensors for p in pair)
        for pair in tensors:
            for p in pair:
                p.grad = None
        value.backward()
        adam.t += 1
        with torch.no_grad():
            for k, pair in enumerate(tensors):
                for j, p in enumerate(pair):
                    if task.optimizer == "sgd":
                        p -= lr * p.grad
                    else:
                        p.copy_(torch.from_numpy(adam.step((k, j), p.numpy(), p.grad.numpy(), lr)))
        return value.item()

    return _train(task, task.targets(), step)


def run(engine: str, task: Task) -> Result:
    """Run `task` on `engine` (one of `ENGINES`)."""
    if engine == "numpy":
        return run_numpy(task)
    if engine == "compiled":
        return run_compiled(task)
    if engine == "compiled-fit":
        return run_fit(task, compiled=True)
    if engine == "torch-tensors":
        return run_torch(task)
    if engine == "eager":
        return run_fit(task, compiled=False)
    raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")


# ---- the tasks -----------------------------------------------------------------------------------
def moons_task(steps: int, X: np.ndarray, y: np.ndarray) -> Task:
    """micrograd's demo on (X, y) (labels ±1): MLP(2, [16, 16, 1]), hinge + 1e-4 L2, `steps`
    full-batch SGD steps with the rate 1 - 0.9 k/100."""
    return Task((2, 16, 16, 1), X, y, "hinge", "sgd", lambda k: 1.0 - 0.9 * k / 100,
                epochs=steps, l2=1e-4, init="uniform", seed=1)


def digits_task(X: np.ndarray, y: np.ndarray, hidden: int = 128, optimizer: str = "adam",
                lr: float = 0.005, epochs: int = 1, shuffle: bool = True) -> Task:
    """Softmax cross-entropy on the digits with MLP(64, [hidden, 10]), batches of 32."""
    return Task((64, hidden, 10), X, y, "cross_entropy", optimizer, lambda k: lr,
                epochs=epochs, batch_size=32, shuffle=shuffle)


def cell(engine: str, workload: str, size: int, data: dict, runs: int = CELL_RUNS) -> dict:
    """One cell of `python -m benchmarks` on a vector engine: {"total": seconds of training},
    the fastest of `runs` trainings (each from the start: a new model and program). The
    workloads as `benchmarks.workloads` defines them for the scalar engines: moons, `size`
    full-batch steps; digits (MLP(64, [32, 10])) and digits-wide (MLP(64, [128, 10])), one
    epoch of SGD (lr 0.1) in batches of 32, in order, over the first `size` images.

    Why the fastest of several: an epoch of digits takes a few milliseconds, about one time
    slice of the scheduler, so on a shared machine one run measures mostly whether another
    process was scheduled meanwhile (single runs spread by 30-80%); the fastest is the run
    that other processes disturbed least, the same estimate `timeit` makes."""
    X, y = np.asarray(data["X"]), np.asarray(data["y"])
    if workload == "moons":
        task = moons_task(size, X, y)
    else:
        hidden = 128 if workload == "digits-wide" else 32
        task = digits_task(X[:size], y[:size], hidden, "sgd", 0.1, shuffle=False)
    return {"total": min(run(engine, task).seconds for _ in range(runs))}


# ---- python -m benchmarks.compiled ---------------------------------------------------------------
def table(name: str, task: Task, engines: list[str], repeats: int) -> dict[str, float]:
    """Run `task` on each engine, `repeats` times in turns (eager once), and print one row
    each: the fastest time, its ratio to the limit (numpy), and the loss; then fit's ratio to
    the compiled program."""
    print(f"\n{name}")
    best: dict[str, Result] = {}
    for turn in range(repeats):
        for engine in engines:
            if turn and engine == "eager":
                continue
            result = run(engine, task)
            if engine not in best or result.seconds < best[engine].seconds:
                best[engine] = result
    rows = {engine: best[engine].seconds for engine in engines}
    for engine in engines:
        limit = f"{rows[engine] / rows['numpy']:6.2f}x the limit" if "numpy" in rows else ""
        print(f"  {engine:13s} {rows[engine] * 1000:9.1f} ms  {limit}   loss {best[engine].loss:.6f}")
    if "compiled" in rows and "compiled-fit" in rows:
        print(f"  compiled-fit / compiled: {rows['compiled-fit'] / rows['compiled']:.2f}x")
    return rows


def main(argv: list[str] | None = None) -> None:
    """The command line: the two tables, then digits to 97% with `nn.fit(compiled=True)`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer steps, one run each, no eager digits epoch, at most 3 epochs "
                             "towards 97%%")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per engine, in turns; the fastest counts (default 3)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    repeats = 1 if args.quick else args.repeats
    engines = ["numpy", "compiled", "compiled-fit"] + (["torch-tensors"] if torch else []) + ["eager"]
    if torch is None:
        print("PyTorch is not installed: its rows are left out (pip install torch==2.13.0)")
    X, y = nn.make_moons(100, noise=0.1, seed=0)
    steps = 20 if args.quick else 100
    table(f"moons: MLP(2, [16, 16, 1]), {steps} SGD steps on 100 points",
          moons_task(steps, X, 2 * y - 1), engines, repeats)
    X_train, X_test, y_train, y_test = nn.digits(test_size=0.2, seed=0)
    table("digits: one epoch of MLP(64, [128, 10]), Adam, batches of 32",
          digits_task(X_train, y_train), [e for e in engines if not (args.quick and e == "eager")],
          repeats)
    epochs = 3 if args.quick else 30
    print(f"\ndigits to 97% test accuracy with nn.fit(compiled=True) (the demo's settings: Adam "
          f"0.01 falling to 0 over 12 epochs, batches of 32; at most {epochs} epochs)")
    to_accuracy(X_train, X_test, y_train, y_test, epochs)


def to_accuracy(X_train, X_test, y_train, y_test, epochs: int, goal: float = 0.97) -> list[float]:
    """Train seed 002's network as `python -m demos.digits` does, printing the seconds of
    training so far and the test accuracy after each epoch, until `goal`: the accuracies."""
    model = nn.MLP(64, [128, 10], activation="relu", init="he", seed=0)
    steps = 12 * -(-len(X_train) // 32)
    optimizer = nn.Adam(model.parameters(), lr=lambda k: 0.01 * max(0.0, 1 - k / steps))
    reached: list[float] = []

    def report(epoch: int, history: dict) -> None:
        reached.append(history["val_accuracy"][-1])
        print(f"  {epoch + 1:2d} epochs: {sum(history['seconds']):5.2f} s of training, "
              f"test accuracy {100 * reached[-1]:.1f}%")
        if reached[-1] >= goal:
            raise _Reached

    try:
        nn.fit(model, X_train, y_train, nn.cross_entropy, optimizer, epochs=epochs, batch_size=32,
               validation=(X_test, y_test), on_epoch=report, progress=False, compiled=True)
    except _Reached:
        pass
    return reached


class _Reached(Exception):
    """Stops `to_accuracy`'s training at its goal (nn.fit has no early stopping)."""


if __name__ == "__main__":
    main()
