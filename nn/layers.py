"""`Neuron`, `Layer` and `MLP`: the fully connected network of the seeds, one Value at a time.

A neuron computes `activation(w·x + b)`. Its pre-activation is ONE `autograd.dot` node (not a
chain of 2n additions and multiplications), which keeps graphs small, drawings readable and
backward passes fast. A layer turns plain-number inputs into constants once and feeds the same
Values to all of its neurons.

Every call runs in `autograd.scope`: an MLP runs layer i in `scope("layers.i", kind="layer")`
and a layer runs neuron j in `scope("neurons.j", kind="neuron")`, so a node made by neuron 3 of
layer 0 has `scope.path == "layers.0.neurons.3"`, the same prefix as that neuron's parameters
(`layers.0.neurons.3.w.2`), and `node.scope.enclosing("neuron")` finds it. The neuron names
what it makes after that path: its pre-activation `layers.0.neurons.3.z` (w·x + b) and its
output `layers.0.neurons.3.out` (a linear neuron's output is its pre-activation: `out`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

import autograd
from autograd import Value

from . import init as initializers
from .module import Module, name_outputs
from .shapes import positive_int

ACTIVATIONS = {"tanh": Value.tanh, "relu": Value.relu, "sigmoid": Value.sigmoid, "linear": None}


def _activation(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"activation should be a name, one of {list(ACTIVATIONS)}, got {name!r}")
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {list(ACTIVATIONS)}")
    return name


def as_inputs(x, nin: int, who: str) -> list[Value]:
    """`x` (numbers, Values, or a 1-D numpy array) as a list of `nin` Values; numbers become
    constants here, once."""
    if isinstance(x, np.ndarray):
        if x.ndim != 1:
            raise ValueError(f"{who} takes one sample (a 1-D array of {nin}), got an array of shape {x.shape}")
        x = x.tolist()
    elif isinstance(x, Value) or not isinstance(x, Sequence) or isinstance(x, str):
        raise TypeError(f"{who} takes a list of {nin} inputs, got {x!r}")
    if len(x) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(x)}")
    return [v if isinstance(v, Value) else Value(v, requires_grad=False) for v in x]


class Neuron(Module):
    """activation(w·x + b) with `nin` weights `w` and a bias `b`.

    `weights` and `bias` set the starting numbers; otherwise the weights come from `init`
    (a name in `nn.init.INITIALIZERS` or a function) with `seed`, and the bias is 0.
    """

    kind = "neuron"

    def __init__(
        self,
        nin: int,
        activation: str = "tanh",
        *,
        weights: Sequence[float] | None = None,
        bias: float = 0.0,
        init: str | initializers.Initializer = "uniform",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.nin = positive_int(nin, "Neuron(nin)")
        self.activation = _activation(activation)
        if weights is None:
            weights = initializers.resolve(init)(self.nin, 1, initializers.generator(seed))[0]
        if len(weights) != self.nin:
            raise ValueError(f"Neuron({self.nin}) needs {self.nin} weights, got {len(weights)}")
        self.w = [Value(float(wi)) for wi in weights]
        self.b = Value(float(bias))
        self._act = ACTIVATIONS[self.activation]

    def __call__(self, x) -> Value:
        return self.forward(as_inputs(x, self.nin, repr(self)))

    def forward(self, x: list[Value]) -> Value:
        """The output for inputs that are already Values."""
        z = autograd.dot(self.w, x, self.b)
        if self._act is None:
            return name_outputs(z, "out")
        name_outputs(z, "z")
        return name_outputs(self._act(z), "out")

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """`nout` neurons that all read the same `nin` inputs; calling it always returns a list."""

    kind = "layer"

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "tanh",
        *,
        init: str | initializers.Initializer = "uniform",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        nin, nout = positive_int(nin, "Layer(nin)"), positive_int(nout, "Layer(nout)")
        weights = initializers.resolve(init)(nin, nout, initializers.generator(seed))
        if np.shape(weights) != (nout, nin):
            raise ValueError(f"init gave weights of shape {np.shape(weights)}, expected ({nout}, {nin})")
        self.nin, self.nout = nin, nout
        self.neurons = [Neuron(nin, activation, weights=row) for row in weights]
        self._names = [f"neurons.{i}" for i in range(nout)]

    def __call__(self, x) -> list[Value]:
        return self.forward(as_inputs(x, self.nin, repr(self)))

    def forward(self, x: list[Value]) -> list[Value]:
        """The outputs for inputs that are already Values."""
        outs = []
        for name, neuron in zip(self._names, self.neurons):
            with autograd.scope(name, kind="neuron"):
                outs.append(neuron.forward(x))
        return outs

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.neurons[0].activation!r})"


class MLP(Module):
    """A multi-layer perceptron: `MLP(2, [16, 16, 1])` has two hidden layers of 16.

    Hidden layers use `activation`, the last layer `output_activation` ("linear" by default:
    raw scores for `cross_entropy`, `hinge` or `binary_cross_entropy_with_logits`). Calling it
    returns a list of Values, or one Value when the last layer has one neuron.
    """

    def __init__(
        self,
        nin: int,
        sizes: Sequence[int],
        activation: str = "tanh",
        output_activation: str = "linear",
        *,
        init: str | initializers.Initializer = "uniform",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.nin = positive_int(nin, "MLP(nin)")
        if isinstance(sizes, str) or not isinstance(sizes, Sequence):
            raise TypeError(f"MLP(nin, sizes) needs a list of layer sizes, got {sizes!r}")
        if not sizes:
            raise ValueError("MLP(nin, sizes) needs at least one layer size, got []")
        self.sizes = [positive_int(n, "each MLP layer size") for n in sizes]
        self.activation, self.output_activation = _activation(activation), _activation(output_activation)
        rng = initializers.generator(seed)
        fans = [self.nin] + self.sizes
        self.layers = [
            Layer(fans[i], fans[i + 1],
                  self.output_activation if i == len(self.sizes) - 1 else self.activation,
                  init=init, seed=rng)
            for i in range(len(self.sizes))
        ]
        self._names = [f"layers.{i}" for i in range(len(self.layers))]

    def __call__(self, x) -> Value | list[Value]:
        x = as_inputs(x, self.nin, repr(self))
        for name, layer in zip(self._names, self.layers):
            with autograd.scope(name, kind="layer"):
                x = layer.forward(x)
        return x[0] if len(x) == 1 else x

    def __repr__(self) -> str:
        return (f"MLP({self.nin}, {self.sizes}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r})")
