"""The four workloads, each written once against an `Engine` (see `engines.py`).

Each `run_*` function does the work and fills in `times`, in seconds, as it goes (so that a
run that fails in backward still reports how long its build took):
`build` (making the graph: the forward pass), `backward`, and `total` (everything, including
SGD updates for the training workloads and dropping the graph at the end). In a memory run
(`tracemalloc` tracing, see `cell.py`) they also fill in `peak`: the most traced bytes alive at
once from just before the graph is built until its backward pass is done, above what was alive
before. `UNITS` says what "per unit" means for each one, for time and for memory.
"""
from __future__ import annotations

import random
import tracemalloc
from time import perf_counter
from typing import Callable

from .engines import Engine

# workload -> (unit of time, unit of memory, default sizes, quick sizes)
UNITS = {
    "chain": ("op", "op", [10**3, 10**4, 10**5, 10**6], [20, 2000]),
    "wide": ("term", "term", [10**3, 10**4, 10**5, 10**6], [20]),
    "moons": ("sample-step", "sample", [100], [1]),
    "digits": ("sample", "sample", [1797], [4]),
    "digits-wide": ("sample", "sample", [1797], [4]),
}
"""chain: n tanh ops in a row. wide: Σ w_i x_i over n terms. moons: n full-batch SGD steps on
100 points (memory per sample of one step's graph). digits: one epoch of mini-batch SGD over n
images with MLP(64, [32, 10]) (memory per sample of one batch's graph); digits-wide the same
with MLP(64, [128, 10])."""

TRAINING = ("moons", "digits", "digits-wide")
"""The workloads that train a network: the ones the vector engines (numpy by hand, compiled,
compiled-fit, torch-tensors: `benchmarks.compiled`) run too."""


def _memory_from_here() -> int:
    """In a memory run: forget the peak so far and return the bytes alive now (else 0)."""
    if not tracemalloc.is_tracing():
        return 0
    tracemalloc.reset_peak()
    return tracemalloc.get_traced_memory()[0]


def _peak_since(base: int, times: dict) -> None:
    """In a memory run: record the peak since `_memory_from_here` above its `base`."""
    if tracemalloc.is_tracing():
        times["peak"] = tracemalloc.get_traced_memory()[1] - base


def run_chain(e: Engine, n: int, times: dict, data: None = None) -> None:
    """x -> tanh(x), n times, then backward: depth n."""
    x = e.param(0.5)
    base = _memory_from_here()
    t0 = perf_counter()
    y = x
    for _ in range(n):
        y = e.tanh(y)
    times["build"] = perf_counter() - t0
    _backward(e, y, times)
    _peak_since(base, times)
    e.grad(x)
    del y
    times["total"] = perf_counter() - t0


def run_wide(e: Engine, n: int, times: dict, data: None = None) -> None:
    """Σ w_i x_i over n terms (weights need gradients, inputs are numbers), then backward."""
    rng = random.Random(0)
    ws = [e.param(rng.uniform(-1, 1)) for _ in range(n)]
    xs = [rng.uniform(-1, 1) for _ in range(n)]
    base = _memory_from_here()
    t0 = perf_counter()
    y = e.weighted_sum(ws, xs)
    times["build"] = perf_counter() - t0
    _backward(e, y, times)
    _peak_since(base, times)
    e.grad(ws[-1])
    del y
    times["total"] = perf_counter() - t0


def _backward(e: Engine, root, times: dict) -> None:
    t = perf_counter()
    e.backward(root)
    times["backward"] = perf_counter() - t


def _train(
    e: Engine, params: list, batches: list, steps: int, loss_fn: Callable, lr: Callable,
    times: dict,
) -> None:
    """The loop both training workloads share: forward and loss, zero_grad, backward, SGD."""
    build = backward = 0.0
    base = _memory_from_here()
    t0 = perf_counter()
    for k in range(steps):
        xb, yb = batches[k % len(batches)]
        t1 = perf_counter()
        loss = loss_fn(xb, yb)
        t2 = perf_counter()
        e.zero_grad(params)
        e.backward(loss)
        t3 = perf_counter()
        e.sgd(params, lr(k))
        build += t2 - t1
        backward += t3 - t2
        del loss
    times.update(build=build, backward=backward, total=perf_counter() - t0)
    _peak_since(base, times)


DIGITS_IMAGES = 1797
"""How many images scikit-learn's 8x8 digits has: the most one digits epoch can use."""


def dataset(workload: str) -> dict | None:
    """The data a training workload learns from, as plain lists (JSON-ready), else None.

    Made once by the parent and handed to every cell, so no measured process imports
    scikit-learn (seconds per process) and every engine sees the same numbers.
    """
    if workload == "moons":
        from sklearn.datasets import make_moons

        X, y = make_moons(n_samples=100, noise=0.1, random_state=1)
        return {"X": X.tolist(), "y": (y * 2 - 1).tolist()}
    if workload in ("digits", "digits-wide"):
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return {"X": (X / 16.0).tolist(), "y": y.tolist()}
    return None


def run_moons(e: Engine, steps: int, times: dict, data: dict) -> None:
    """micrograd's demo: MLP(2, [16, 16, 1]) on 100 moons, hinge loss + 1e-4 L2, full batch."""
    X, y = data["X"], data["y"]
    random.seed(1337)
    model = e.mlp(2, [16, 16, 1])
    params = model.parameters()

    def loss_fn(xb, yb):
        return e.moons_loss([model(x) for x in xb], yb, params)

    return _train(e, params, [(X, y)], steps, loss_fn, lambda k: 1.0 - 0.9 * k / 100, times)


def run_digits(e: Engine, n: int, times: dict, data: dict, batch: int = 32, hidden: int = 32) -> None:
    """One epoch of MLP(64, [hidden, 10]) with softmax cross-entropy over the first n digits."""
    if n > len(data["X"]):
        raise ValueError(f"digits has {len(data['X'])} images, asked for {n}")
    X, y = data["X"][:n], data["y"][:n]
    batches = [(X[i : i + batch], y[i : i + batch]) for i in range(0, n, batch)]
    random.seed(1337)
    model = e.mlp(64, [hidden, 10])
    params = model.parameters()

    def loss_fn(xb, yb):
        return e.digits_loss([model(x) for x in xb], yb)

    return _train(e, params, batches, len(batches), loss_fn, lambda k: 0.1, times)


def run_digits_wide(e: Engine, n: int, times: dict, data: dict) -> None:
    """One epoch of MLP(64, [128, 10]) (seed 002's network) over the first n digits."""
    run_digits(e, n, times, data, hidden=128)


WORKLOADS = {"chain": run_chain, "wide": run_wide, "moons": run_moons, "digits": run_digits,
             "digits-wide": run_digits_wide}


def memory_size(workload: str, size: int) -> int:
    """The size a memory run traces: the whole graph, or one step (moons) or batch (digits)."""
    if workload in ("chain", "wide"):
        return size
    return 1 if workload == "moons" else min(32, size)


def memory_units(workload: str, size: int) -> int:
    """How many units of memory one traced graph of this workload holds (the denominator)."""
    if workload in ("chain", "wide"):
        return size
    return 100 if workload == "moons" else min(32, size)


def time_units(workload: str, size: int) -> int:
    """How many units of time a run does (the denominator)."""
    return size * 100 if workload == "moons" else size
