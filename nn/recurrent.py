"""`RNN`: seed 003's recurrent network, an Elman cell unrolled over a sequence of Values.

At each step t = 0, 1, ... the hidden state is `h_t = tanh(W_ih · x_t + W_hh · h_{t-1} + b)`,
where h_{t-1} at the first step is `h0` (zeros unless given). Unrolling makes one graph over the whole sequence: the same
weights feed every step, so backward sends each weight the sum of its gradient at every step,
which is backpropagation through time. Each unit's pre-activation is ONE `autograd.dot` node
(its weights `W_ih[j] ++ W_hh[j]`, the inputs `x_t ++ h_{t-1}`, its bias), and each step runs
in `autograd.scope(f"step.{t}", kind="step")`, so a drawing can collapse the graph into one
box per time step (`autograd.draw(loss, collapse="step")`) and the player shows the gradient
walking back from the last step to the first.

Parameters: `weight_ih.j.i` (unit j, input i), `weight_hh.j.k` (unit j, previous unit k) and
`bias.j`, as PyTorch's `nn.RNN` names them, except that PyTorch's two biases (b_ih + b_hh,
only ever used as their sum) are one here. The nodes of step t are named after it: unit j's
pre-activation `step.t.z.j` and its state `step.t.h.j` (inside a Sequential's `rnn`:
`rnn.step.2.h.1`; a bare RNN runs in a scope of its own, `rnn`, as its weights do).
"""
from __future__ import annotations

import numpy as np

import autograd
from autograd import Value

from . import init as initializers
from .module import Module, name_outputs
from .shapes import as_values, positive_int

SEQUENCE_AXES = ("steps", "features")


class RNN(Module):
    """An Elman RNN with tanh: `rnn(xs)` takes `steps x input_size` nested lists and returns
    the hidden state after every step (`steps x hidden_size` Values), as PyTorch's `rnn_out`.

    The weights start from `init` (default "xavier", with fan-in input_size + hidden_size) with
    `seed`; the bias at 0.
    """

    kind = "layer"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        init: str | initializers.Initializer = "xavier",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.input_size = positive_int(input_size, "RNN(input_size)")
        self.hidden_size = positive_int(hidden_size, "RNN(hidden_size)")
        fan_in = self.input_size + self.hidden_size
        weights = np.asarray(initializers.resolve(init)(fan_in, self.hidden_size,
                                                        initializers.generator(seed)), dtype=float)
        if weights.shape != (self.hidden_size, fan_in):
            raise ValueError(f"init gave weights of shape {weights.shape}, expected "
                             f"({self.hidden_size}, {fan_in})")
        rows = weights.tolist()
        self.weight_ih = [[Value(w) for w in row[:self.input_size]] for row in rows]
        self.weight_hh = [[Value(w) for w in row[self.input_size:]] for row in rows]
        self.bias = [Value(0.0) for _ in range(self.hidden_size)]

    def __call__(self, xs, h0=None) -> list[list[Value]]:
        """The hidden state after each step, for the inputs x_0, x_1, ... (and h0, default zeros)."""
        xs = as_values(xs, (None, self.input_size), SEQUENCE_AXES, repr(self))
        if h0 is None:
            h = [Value(0.0, requires_grad=False)] * self.hidden_size
        else:
            h = as_values(h0, (self.hidden_size,), ("hidden units",), f"{self!r} (h0)")
        rows = [w_ih + w_hh for w_ih, w_hh in zip(self.weight_ih, self.weight_hh)]
        states = []
        for t, x in enumerate(xs):
            with autograd.scope(f"step.{t}", kind="step"):
                inputs = x + h
                z = name_outputs([autograd.dot(row, inputs, b)
                                  for row, b in zip(rows, self.bias)], "z")
                h = name_outputs([pre.tanh() for pre in z], "h")
            states.append(h)
        return states

    def __repr__(self) -> str:
        return f"RNN({self.input_size}, {self.hidden_size})"
