"""A glassgrad model read in PyTorch's words: which standard layer each module is.

`nn.to_torch`, `nn.torch_code` and `nn.to_onnx` all need the same reading of a model: a
`Layer` is a `torch.nn.Linear` followed by its activation, neuron j's weights are row j of
that Linear's `weight`, an `RNN`'s one bias is PyTorch's `bias_ih_l0` (with `bias_hh_l0`
fixed at 0: PyTorch only ever uses their sum), and so on. This module does that reading once:
`describe(model)` turns a model into a tree of `Part`s, each one PyTorch layer with its
constructor arguments and, for each of its parameter tensors, the glassgrad Values it is made
of. `build(part)` goes back: a glassgrad module from parts read out of PyTorch (for
`nn.from_torch`). Nothing here imports torch, so code and ONNX files can be written without it.

Names, both ways. A `Sequential`'s children keep their names (`conv1` is `conv1`); an `MLP`'s
layer i becomes `fc{i+1}` and its activation `relu{i+1}`, as in seed 003's snippet; a `Layer`
or `Neuron` named `fc` inside a Sequential becomes `fc` and, unless linear, `fc_relu` (a
lone one: `fc` and `relu`). `correspondence(model)` lists which tensor entry each glassgrad
parameter is: `layers.0.neurons.3.w.2` is `fc1.weight[3, 2]`.

Only glassgrad's own layers are read, by exact type: a subclass may compute something else in
its `__call__`, and a custom Module's `__call__` is Python no reader can follow, so both are
refused with an error naming where they are. So is a model that shares a parameter between
two layers (PyTorch would get two copies, and train them apart).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from autograd import Value

from .activations import ReLU, Sigmoid, Tanh
from .containers import Sequential
from .conv import Conv2d, Flatten, MaxPool2d, Unflatten
from .layers import MLP, Layer, Neuron
from .module import Module
from .recurrent import RNN
from .shapes import flat, shape_of

ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}  # Layer(activation=) name -> layer
ACTIVATION_MODULES = {ReLU: "ReLU", Tanh: "Tanh", Sigmoid: "Sigmoid"}
LAYERS = ("Sequential", "Linear", "Conv2d", "MaxPool2d", "Flatten", "Unflatten", "RNN",
          "ReLU", "Tanh", "Sigmoid")  # every kind of Part
GLASSGRAD_LAYERS = "MLP, Layer, Neuron, Conv2d, MaxPool2d, Flatten, Unflatten, RNN, ReLU, Tanh, Sigmoid, Sequential"


@dataclass
class Part:
    """One PyTorch layer, `torch.nn.<kind>(*args, **kwargs)`, or a `Sequential` of `children`.

    `tensors` maps each of the layer's parameter names (`weight`, `bias_ih_l0`) to an array in
    the tensor's shape: of glassgrad Values (dtype object) when read from a glassgrad model,
    of numbers when read from PyTorch. In a glassgrad reading an array of numbers is a tensor
    glassgrad has no parameter for (the RNN's `bias_hh_l0`, always 0). `kwargs` leave out
    PyTorch's defaults; pairs are (rows, columns). `origin` says where the part came from, for
    error messages.
    """

    kind: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    children: list[tuple[str, Part]] = field(default_factory=list)
    origin: str = ""

    def named_tensors(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """(PyTorch's dotted name, array) for every tensor in this part and below, in order."""
        for name, array in self.tensors.items():
            yield prefix + name, array
        for name, child in self.children:
            yield from child.named_tensors(f"{prefix}{name}.")

    def leaves(self, prefix: str = "") -> Iterator[tuple[str, Part]]:
        """(dotted path, part) for every layer that is not a Sequential, in the order they run."""
        if self.kind != "Sequential":
            yield prefix, self
        for name, child in self.children:
            yield from child.leaves(f"{prefix}.{name}" if prefix else name)


def where(path: str) -> str:
    """A module's path as error messages say it: `'layers.1'`, or `the model` for the root."""
    return f"{path!r}" if path else "the model"


def numbers(array: np.ndarray) -> np.ndarray:
    """An array of Values (or numbers) as float64 numbers, in the same shape."""
    if array.dtype != object:
        return np.asarray(array, dtype=np.float64)
    return np.array([v.data for v in array.flat], dtype=np.float64).reshape(array.shape)


def _values(nested: Any) -> np.ndarray:
    """Nested lists of Values as an object array of the same shape (given the lists, numpy
    would try to read the Values as numbers)."""
    items = flat(nested)
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array.reshape(shape_of(nested))


# ---- glassgrad -> parts -----------------------------------------------------------------------
def _linear(neurons: list[Neuron], path: str, what: str) -> Part:
    return Part("Linear", (neurons[0].nin, len(neurons)),
                tensors={"weight": _values([n.w for n in neurons]),
                         "bias": _values([n.b for n in neurons])},
                origin=f"{where(path)} ({what})")


def _dense(neurons: list[Neuron], path: str, what: str, name: str, act_name: str) -> list[tuple[str, Part]]:
    """A Layer's (or a Neuron's) neurons: a Linear named `name`, then its activation."""
    activations = {n.activation for n in neurons}
    if len(activations) != 1:
        raise ValueError(f"nn.to_torch cannot convert {where(path)} ({what}): its neurons have "
                         f"different activations {sorted(activations)}; a torch layer has one")
    (activation,) = activations
    parts = [(name, _linear(neurons, path, what))]
    if activation != "linear":
        parts.append((act_name.format(act=activation), Part(ACTIVATIONS[activation], origin=where(path))))
    return parts


def _parts(module: Any, path: str, name: str) -> list[tuple[str, Part]]:
    """The part(s) `module` becomes when it is the child `name` of a Sequential."""
    kind = type(module)
    what = kind.__name__
    origin = f"{where(path)} ({what})"
    inner = (lambda child: f"{path}.{child}") if path else (lambda child: child)
    if kind is Sequential:
        children = [pair for child in module._names
                    for pair in _parts(getattr(module, child), inner(child), child)]
        names = [child for child, _ in children]
        clash = sorted({n for n in names if names.count(n) > 1})
        if clash:
            raise ValueError(f"nn.to_torch cannot convert {origin}: the PyTorch name {clash[0]!r} "
                             "would be used twice (a Layer's activation is named <layer>_<activation>)")
        return [(name, Part("Sequential", children=children, origin=origin))]
    if kind is MLP:
        children = [pair for i, layer in enumerate(module.layers)
                    for pair in _dense(layer.neurons, inner(f"layers.{i}"), "Layer",
                                       f"fc{i + 1}", f"{{act}}{i + 1}")]
        return [(name, Part("Sequential", children=children, origin=origin))]
    if kind is Layer:
        return _dense(module.neurons, path, what, name, "{act}" if not path else f"{name}_{{act}}")
    if kind is Neuron:
        return _dense([module], path, what, name, "{act}" if not path else f"{name}_{{act}}")
    if kind is Conv2d:
        kwargs = {"kernel_size": module.kernel_size}
        if module.stride != (1, 1):
            kwargs["stride"] = module.stride
        if module.padding != (0, 0):
            kwargs["padding"] = module.padding
        return [(name, Part("Conv2d", (module.in_channels, module.out_channels), kwargs,
                            {"weight": _values(module.weight), "bias": _values(module.bias)},
                            origin=origin))]
    if kind is MaxPool2d:
        kwargs = {"kernel_size": module.kernel_size}
        if module.stride != module.kernel_size:
            kwargs["stride"] = module.stride
        return [(name, Part("MaxPool2d", (), kwargs, origin=origin))]
    if kind is Flatten:
        return [(name, Part("Flatten", origin=origin))]
    if kind is Unflatten:
        return [(name, Part("Unflatten", (1, module.shape), origin=origin))]
    if kind is RNN:
        return [(name, Part("RNN", (module.input_size, module.hidden_size), {"batch_first": True},
                            {"weight_ih_l0": _values(module.weight_ih),
                             "weight_hh_l0": _values(module.weight_hh),
                             "bias_ih_l0": _values(module.bias),
                             "bias_hh_l0": np.zeros(module.hidden_size)},
                            origin=origin))]
    if kind in ACTIVATION_MODULES:
        return [(name, Part(ACTIVATION_MODULES[kind], origin=origin))]
    if isinstance(module, Module):
        known = isinstance(module, (Sequential, MLP, Layer, Neuron, Conv2d, MaxPool2d, Flatten,
                                    Unflatten, RNN, ReLU, Tanh, Sigmoid))
        reason = ("a subclass of a glassgrad layer, whose __call__ may compute something else"
                  if known else "a custom Module: its __call__ is Python that cannot be read as "
                  "PyTorch layers")
        raise TypeError(f"nn.to_torch cannot convert {origin}: it is {reason}. Convert its layers "
                        f"one by one (nn.to_torch(layer)) and write its forward in PyTorch, or "
                        f"build the model from {GLASSGRAD_LAYERS}")
    raise TypeError(f"nn.to_torch takes a glassgrad nn.Module, got {module!r} ({what}) at {where(path)}")


def describe(model: Module) -> Part:
    """`model` as PyTorch layers: one Part, a Sequential when it becomes several layers."""
    lone = type(model) in (Layer, Neuron)
    parts = _parts(model, "", "fc" if lone else "")
    part = parts[0][1] if len(parts) == 1 else Part("Sequential", children=parts,
                                                   origin=f"the model ({type(model).__name__})")
    _check_every_parameter_once(model, part)
    return part


def _check_every_parameter_once(model: Module, part: Part) -> None:
    names = {id(value): name for name, value in model.named_parameters()}
    placed: dict[int, str] = {}
    for tensor, array in part.named_tensors():
        if array.dtype != object:
            continue
        for value in array.flat:
            if id(value) in placed:
                raise ValueError(f"nn.to_torch cannot convert a model that shares parameters: "
                                 f"{names.get(id(value), value.label)!r} is in both "
                                 f"{placed[id(value)]} and {tensor} (PyTorch would get two "
                                 "copies and train them apart)")
            placed[id(value)] = tensor
    unused = [name for key, name in names.items() if key not in placed]
    if unused:
        raise ValueError(f"nn.to_torch cannot convert {type(model).__name__}: its parameter "
                         f"{unused[0]!r} is not a weight of any layer it knows")


def correspondence(model: Module) -> dict[str, tuple[str, tuple[int, ...]]]:
    """{glassgrad name: (PyTorch tensor name, index)} for every parameter of `model`:
    `"layers.0.neurons.3.w.2": ("fc1.weight", (3, 2))`."""
    names = {id(value): name for name, value in model.named_parameters()}
    pairs = {}
    for tensor, array in describe(model).named_tensors():
        if array.dtype == object:
            for index, value in np.ndenumerate(array):
                pairs[names[id(value)]] = (tensor, tuple(int(i) for i in index))
    return pairs


# ---- parts -> glassgrad -----------------------------------------------------------------------
def _fixed(weights: np.ndarray):
    """An initializer that gives these weights (checked by the layer against its own shape)."""
    return lambda fan_in, fan_out, rng: weights


def _set(values: list[Value], new: np.ndarray) -> None:
    for value, number in zip(values, new.tolist()):
        value.data = number


def build(part: Part, path: str = "") -> Module:
    """The glassgrad module for `part` (whose tensors hold numbers), with those numbers.

    A Sequential's children keep their names. An RNN's bias is `bias_ih_l0 + bias_hh_l0`, the
    only way PyTorch uses them."""
    kind, args, kwargs, t = part.kind, part.args, part.kwargs, part.tensors
    if kind == "Sequential":
        if not part.children:
            raise ValueError(f"nn.from_torch cannot convert {part.origin}: it is an empty Sequential")
        children = {name: build(child, f"{path}.{name}" if path else name) for name, child in part.children}
        try:
            return Sequential(**children)
        except ValueError as error:
            raise ValueError(f"nn.from_torch cannot convert {part.origin}: {error}") from None
    if kind == "Linear":
        layer = Layer(*args, activation="linear", init=_fixed(t["weight"]))
        _set([n.b for n in layer.neurons], t["bias"])
        return layer
    if kind == "Conv2d":
        conv = Conv2d(*args, init=_fixed(t["weight"].reshape(args[1], -1)), **kwargs)
        _set(conv.bias, t["bias"])
        return conv
    if kind == "MaxPool2d":
        return MaxPool2d(**kwargs)
    if kind == "Flatten":
        return Flatten()
    if kind == "Unflatten":
        return Unflatten(args[1])
    if kind == "RNN":
        rnn = RNN(*args, init=_fixed(np.hstack([t["weight_ih_l0"], t["weight_hh_l0"]])))
        _set(rnn.bias, t["bias_ih_l0"] + t["bias_hh_l0"])
        return rnn
    modules = {name: module for module, name in ACTIVATION_MODULES.items()}
    if kind in modules:
        return modules[kind]()
    raise TypeError(f"no glassgrad layer for {part.origin} ({kind})")
