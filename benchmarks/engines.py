"""The engines measured side by side, each behind the same small set of functions.

Every workload in `workloads.py` is written once against an `Engine`: make a parameter or an
input, a weighted sum, the four nonlinearities, backward, read a gradient, take an SGD step.
Each engine then does those things its own natural way:

- `glassgrad`: our engine the way users write it: `autograd.dot` (one node per neuron
  pre-activation), `autograd.sum`, and `nn.MLP` with `nn`'s losses for the training workloads.
- `glassgrad-mg`: our `Value` building exactly micrograd's graph: one multiply and one add per
  weight, Python's `sum` for the losses.
- `micrograd`: the PyPI package, its own `nn.MLP`. It has no `tanh`, `exp` or `log`; they are
  added below the way micrograd writes its own ops (a closure per node), as its README invites.
  Its backward sorts the graph with a recursive function, so with Python's default recursion
  limit (1,000) it raises RecursionError on any graph about 1,000 nodes deep.
- `micrograd-deep`: the same package in a process whose recursion limit is raised to
  `DEEP_LIMIT`, so that it finishes deep graphs and can be timed. On CPython 3.11 a call from
  Python code to Python code does not use the C stack, so the main thread's stack is enough:
  it finishes a 10^6-deep chain (measured).
- `torch`: PyTorch on 0-d float64 tensors, building micrograd's graph (only when installed).
"""
from __future__ import annotations

import math
import random
import sys
from typing import Any, Callable, Sequence


class Engine:
    """One engine's way of doing what the workloads need. Subclasses fill in the operations."""

    name = ""

    def param(self, x: float) -> Any:
        """A leaf that needs a gradient."""
        raise NotImplementedError

    # Every engine's values have these methods (micrograd's after `_micrograd_value` adds
    # tanh, exp and log; torch tensors natively).
    def relu(self, v):
        return v.relu()

    def tanh(self, v):
        return v.tanh()

    def exp(self, v):
        return v.exp()

    def log(self, v):
        return v.log()

    def weighted_sum(self, weights: Sequence, inputs: Sequence, bias=None) -> Any:
        """Σ w_i x_i (+ b): micrograd's way, one multiply and one add per term."""
        terms = (w * x for w, x in zip(weights, inputs))
        return sum(terms, bias) if bias is not None else sum(terms)

    def total(self, values: Sequence) -> Any:
        """Σ values (micrograd's demo uses Python's `sum`, a chain of additions)."""
        return sum(values)

    def data(self, v) -> float:
        return v.data

    def grad(self, p) -> float:
        return p.grad

    def backward(self, root) -> None:
        root.backward()

    def zero_grad(self, params: Sequence) -> None:
        for p in params:
            p.grad = 0.0

    def sgd(self, params: Sequence, lr: float) -> None:
        for p in params:
            p.data -= lr * p.grad

    def mlp(self, nin: int, nouts: list[int]):
        """A model with micrograd's shape: relu on hidden layers, a linear last layer."""
        return _MLP(self, nin, nouts)

    def moons_loss(self, scores: Sequence, labels: Sequence[float], params: Sequence) -> Any:
        """micrograd's demo: mean(relu(1 - y·score)) + 1e-4 Σ p², with Python's sums."""
        losses = [self.relu(1 + -y * s) for s, y in zip(scores, labels)]
        data_loss = self.total(losses) * (1.0 / len(losses))
        return data_loss + 1e-4 * self.total([p * p for p in params])

    def digits_loss(self, outputs: Sequence, labels: Sequence[int]) -> Any:
        """mean(-log softmax(logits)[label]), each shifted by its largest logit (a constant)."""
        losses = []
        for logits, label in zip(outputs, labels):
            m = max(self.data(z) for z in logits)
            shifted = [z - m for z in logits]
            losses.append(self.log(self.total([self.exp(z) for z in shifted])) - shifted[label])
        return self.total(losses) * (1.0 / len(losses))


class _MLP:
    """micrograd's MLP written once over an Engine: weights uniform(-1, 1), biases 0."""

    def __init__(self, engine: Engine, nin: int, nouts: list[int]) -> None:
        sizes = [nin] + nouts
        self.engine = engine
        self.layers = [
            [([engine.param(random.uniform(-1, 1)) for _ in range(a)], engine.param(0.0))
             for _ in range(b)]
            for a, b in zip(sizes, sizes[1:])
        ]

    def __call__(self, x):
        e = self.engine
        for i, layer in enumerate(self.layers):
            last = i == len(self.layers) - 1
            x = [e.weighted_sum(w, x, b) for w, b in layer]
            x = x if last else [e.relu(v) for v in x]
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list:
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]


# ---- our engine ----------------------------------------------------------------------------------
class GlassgradMG(Engine):
    name = "glassgrad-mg"

    def __init__(self) -> None:
        import autograd

        self.ag = autograd

    def param(self, x):
        return self.ag.Value(x)


class Glassgrad(GlassgradMG):
    """The path users take: `nn.MLP` (a `dot` node per neuron) and `nn`'s losses."""

    name = "glassgrad"

    def __init__(self) -> None:
        super().__init__()
        import nn  # only here: the other engines' processes import nothing of ours

        self.nn = nn

    def weighted_sum(self, weights, inputs, bias=None):
        return self.ag.dot(weights, inputs, bias)

    def total(self, values):
        return self.ag.sum(values)

    def mlp(self, nin, nouts):
        return self.nn.MLP(nin, nouts, activation="relu")

    def moons_loss(self, scores, labels, params):
        return self.nn.hinge(scores, labels) + self.nn.l2(params, 1e-4)

    def digits_loss(self, outputs, labels):
        return self.nn.cross_entropy(outputs, labels)

    def zero_grad(self, params):
        self.ag.zero_grad(params)


# ---- micrograd -----------------------------------------------------------------------------------
def _micrograd_value():
    """micrograd's Value with tanh, exp and log added in micrograd's own style."""
    from micrograd.engine import Value

    if hasattr(Value, "tanh"):
        return Value

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += (1 / self.data) * out.grad

        out._backward = _backward
        return out

    Value.tanh, Value.exp, Value.log = tanh, exp, log
    return Value


class Micrograd(Engine):
    name = "micrograd"

    def __init__(self) -> None:
        self.Value = _micrograd_value()

    def param(self, x):
        return self.Value(x)

    def weighted_sum(self, weights, inputs, bias=None):
        # micrograd's Neuron: sum((wi*xi for wi, xi in zip(self.w, x)), self.b)
        return sum((w * x for w, x in zip(weights, inputs)), bias if bias is not None else 0)

    def mlp(self, nin, nouts):
        from micrograd.nn import MLP

        return MLP(nin, nouts)

    def zero_grad(self, params):
        for p in params:
            p.grad = 0


DEEP_LIMIT = 10**7
"""The recursion limit `micrograd-deep` runs with: deeper than any graph measured here."""


class MicrogradDeep(Micrograd):
    name = "micrograd-deep"

    def __init__(self) -> None:
        super().__init__()
        sys.setrecursionlimit(DEEP_LIMIT)  # this process only: every cell is a fresh process


# ---- PyTorch ---------------------------------------------------------------------------------------
class Torch(Engine):
    name = "torch"

    def __init__(self) -> None:
        import torch

        self.torch = torch
        torch.set_num_threads(1)

    def param(self, x):
        return self.torch.tensor(float(x), dtype=self.torch.float64, requires_grad=True)

    def data(self, v):
        return v.item()

    def grad(self, p):
        return p.grad.item()

    def zero_grad(self, params):
        for p in params:
            p.grad = None

    def sgd(self, params, lr):
        with self.torch.no_grad():
            for p in params:
                p -= lr * p.grad


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


VECTOR_ENGINES = ("numpy", "compiled", "compiled-fit", "torch-tensors")
"""The engines that train on arrays (`compiled.py`), for the training workloads only: numpy
written by hand (the limit), glassgrad's compiled program, `nn.fit(compiled=True)`, and PyTorch
on batched tensors."""
CELL_RUNS = 5
"""How many times a vector engine trains in one fresh-process run; the fastest counts
(`compiled.cell`)."""

ENGINES: dict[str, Callable[[], Engine]] = {
    "glassgrad": Glassgrad,
    "glassgrad-mg": GlassgradMG,
    "micrograd": Micrograd,
    "micrograd-deep": MicrogradDeep,
    "torch": Torch,
}
