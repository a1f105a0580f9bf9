"""`ReLU`, `Tanh` and `Sigmoid` as modules: an activation applied to every Value of a nested
list (a vector, an image, a sequence), so `nn.Sequential` can put one between two layers as
seed 003's CNN does (`self.pool(self.relu(self.conv1(x)))`). They hold no parameters; each
result is named after its module and place (`relu1.out.3.4.5`).
"""
from __future__ import annotations

from autograd import Value

from .module import Module, name_outputs
from .shapes import Nested, as_values, mapped


class Activation(Module):
    """Applies `function` (a Value method such as `Value.relu`) to every element."""

    kind = "layer"
    function = staticmethod(Value.relu)

    def __call__(self, x) -> Nested:
        return name_outputs(mapped(self.function, as_values(x, None, (), repr(self))), "out")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(Activation):
    """max(0, x) for every element."""

    function = staticmethod(Value.relu)


class Tanh(Activation):
    """tanh(x) for every element."""

    function = staticmethod(Value.tanh)


class Sigmoid(Activation):
    """σ(x) = 1 / (1 + e^-x) for every element."""

    function = staticmethod(Value.sigmoid)
