"""From glassgrad to PyTorch and back: the same network, its weights, and its code.

A learner who outgrows a scalar engine (bigger data, a GPU, many machines with
DistributedDataParallel) keeps the model they built: `to_torch(model)` is a `torch.nn.Module`
with the same layers and the same numbers, computing the same outputs and the same gradients
(float64 by default, as glassgrad computes). `from_torch(module)` brings a PyTorch model of
the same layer types back, weights and names kept, to be drawn and stepped through.
`torch_code(model)` writes the PyTorch code that builds the network, as seed 003's snippet
would for it. `torch_names(model)` says which PyTorch tensor entry each glassgrad parameter
is.

Which PyTorch layer each glassgrad module is, and where each weight goes, is decided once, in
`nn.blueprint`; this module only makes and reads torch objects. PyTorch is imported when one of
these functions is called (and never by `import nn`); without it they raise an ImportError
saying what to install.

Batches come first, as `nn.fit` takes samples: a converted MLP takes (batch, features), a CNN
(batch, channels, height, width) or whatever its first layer takes (a flat row for a model
that starts with `nn.Unflatten`), an RNN (batch, steps, features) and returns every hidden
state, (batch, steps, hidden). PyTorch's RNN has two biases and uses only their sum; glassgrad
has one, so `to_torch` puts it in `bias_ih_l0` with `bias_hh_l0` at 0, and `from_torch` adds
the two.
"""
from __future__ import annotations

import ast
import importlib.util
import keyword
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .blueprint import LAYERS, Part, build, correspondence, describe, numbers, where
from .containers import Sequential
from .module import Module

if TYPE_CHECKING:  # pragma: no cover
    import torch

INSTALL = 'pip install "glassgrad[torch]"'


def _torch(who: str):
    """The torch package, or an ImportError naming `who` and what to install."""
    try:
        import torch
    except ImportError as error:
        raise ImportError(f"{who} needs PyTorch, which is not installed: {INSTALL} "
                          "(torch 2.13.0, a CPU wheel)") from error
    return torch


# ---- glassgrad -> PyTorch ---------------------------------------------------------------------
def _module(part: Part, torch) -> "torch.nn.Module":
    if part.kind == "Sequential":
        return torch.nn.Sequential(OrderedDict((name, _module(child, torch))
                                               for name, child in part.children))
    if part.kind == "RNN":
        from .torch_layers import RNNStates
        return RNNStates(*part.args, **part.kwargs)
    return getattr(torch.nn, part.kind)(*part.args, **part.kwargs)


def to_torch(model: Module, dtype: "torch.dtype | None" = None) -> "torch.nn.Module":
    """`model` as a `torch.nn.Module` with the same layers and weights (float64 unless `dtype`).

    An MLP becomes `Sequential(fc1=Linear, relu1=ReLU, fc2=Linear, ...)`, a Sequential keeps its
    children's names, an RNN becomes `nn.torch_layers.RNNStates` (an `nn.RNN` that returns
    every hidden state); `torch_names(model)` maps every parameter. A layer type or option
    PyTorch's layers cannot express, a custom Module and shared weights raise an error naming
    where they are.
    """
    torch = _torch("nn.to_torch")
    dtype = torch.float64 if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"nn.to_torch(dtype=) should be a floating torch dtype such as "
                        f"torch.float32, got {dtype!r}")
    part = describe(model)
    module = _module(part, torch).to(dtype)
    with torch.no_grad():
        for name, array in part.named_tensors():
            module.get_parameter(name).copy_(torch.from_numpy(numbers(array)))
    return module


def torch_names(model: Module) -> dict[str, str]:
    """{glassgrad parameter name: its PyTorch tensor entry} in `to_torch(model)`:
    `{"layers.0.neurons.3.w.2": "fc1.weight[3, 2]", ...}` (needs no torch)."""
    return {name: f"{tensor}[{', '.join(map(str, index))}]"
            for name, (tensor, index) in correspondence(model).items()}


# ---- PyTorch -> glassgrad ---------------------------------------------------------------------
def _array(tensor, torch) -> np.ndarray:
    return tensor.detach().to(device="cpu", dtype=torch.float64).numpy().copy()


def _pair(n: int | tuple[int, ...]) -> tuple[int, int]:
    return (n, n) if isinstance(n, int) else tuple(n)


def _read(module, path: str, torch) -> Part:
    """The Part for a torch module, after checking that glassgrad can compute what it computes."""
    from .torch_layers import RNNStates
    layers = torch.nn
    kind = type(module)
    origin = f"{where(path)} ({kind.__name__})"

    def refuse(option: str, value: Any, why: str) -> None:
        raise ValueError(f"nn.from_torch cannot convert {origin}: {option}={value!r} is not "
                         f"supported ({why})")

    if kind is layers.Sequential:
        return Part("Sequential", origin=origin, children=[
            (name, _read(child, f"{path}.{name}" if path else name, torch))
            for name, child in module.named_children()])
    if kind is layers.Linear:
        if module.bias is None:
            refuse("bias", False, "glassgrad's neurons always have a bias")
        return Part("Linear", (module.in_features, module.out_features), origin=origin,
                    tensors={"weight": _array(module.weight, torch), "bias": _array(module.bias, torch)})
    if kind is layers.Conv2d:
        kernel, stride, padding = _pair(module.kernel_size), _pair(module.stride), module.padding
        for option, value, plain in (("dilation", _pair(module.dilation), (1, 1)),
                                     ("groups", module.groups, 1),
                                     ("padding_mode", module.padding_mode, "zeros")):
            if value != plain:
                refuse(option, value, f"glassgrad's Conv2d has {option}={plain!r}")
        if module.bias is None:
            refuse("bias", False, "glassgrad's Conv2d always has a bias")
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if any(k % 2 == 0 for k in kernel):
                refuse("padding", "same", "an even kernel pads one side more than the other")
            padding = (kernel[0] // 2, kernel[1] // 2)
        kwargs = {"kernel_size": kernel}
        if stride != (1, 1):
            kwargs["stride"] = stride
        if _pair(padding) != (0, 0):
            kwargs["padding"] = _pair(padding)
        return Part("Conv2d", (module.in_channels, module.out_channels), kwargs, origin=origin,
                    tensors={"weight": _array(module.weight, torch), "bias": _array(module.bias, torch)})
    if kind is layers.MaxPool2d:
        for option, value, plain in (("padding", _pair(module.padding), (0, 0)),
                                     ("dilation", _pair(module.dilation), (1, 1)),
                                     ("ceil_mode", module.ceil_mode, False),
                                     ("return_indices", module.return_indices, False)):
            if value != plain:
                refuse(option, value, f"glassgrad's MaxPool2d has {option}={plain!r}")
        kernel, stride = _pair(module.kernel_size), _pair(module.stride)
        return Part("MaxPool2d", (), {"kernel_size": kernel} | ({} if stride == kernel else {"stride": stride}),
                    origin=origin)
    if kind is layers.Flatten:
        for option, value, plain in (("start_dim", module.start_dim, 1), ("end_dim", module.end_dim, -1)):
            if value != plain:
                refuse(option, value, "glassgrad's Flatten flattens each sample whole: "
                       "start_dim=1, end_dim=-1")
        return Part("Flatten", origin=origin)
    if kind is layers.Unflatten:
        if module.dim != 1:
            refuse("dim", module.dim, "glassgrad's Unflatten lays out each sample's flat row: dim=1")
        shape = module.unflattened_size
        if not all(isinstance(n, int) and n >= 1 for n in shape):
            refuse("unflattened_size", shape, "glassgrad's Unflatten needs positive sizes")
        return Part("Unflatten", (1, tuple(shape)), origin=origin)
    if kind in (layers.RNN, RNNStates):
        for option, value, plain in (("num_layers", module.num_layers, 1),
                                     ("nonlinearity", module.nonlinearity, "tanh"),
                                     ("bidirectional", module.bidirectional, False),
                                     ("bias", module.bias, True)):
            if value != plain:
                refuse(option, value, f"glassgrad's RNN has {option}={plain!r}")
        return Part("RNN", (module.input_size, module.hidden_size), {"batch_first": True},
                    origin=origin, tensors={name: _array(getattr(module, name), torch) for name in
                                            ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")})
    if kind in (layers.ReLU, layers.Tanh, layers.Sigmoid):
        return Part(kind.__name__, origin=origin)
    known = (layers.Sequential, layers.Linear, layers.Conv2d, layers.MaxPool2d, layers.Flatten,
             layers.Unflatten, layers.RNN, layers.ReLU, layers.Tanh, layers.Sigmoid)
    if isinstance(module, known):
        why = "a subclass of a PyTorch layer, whose forward may compute something else"
    elif kind.__module__.startswith("torch."):
        why = "glassgrad has no such layer"
    elif isinstance(module, layers.Module):
        return _chain(module, path, origin, torch)
    else:
        raise TypeError(f"nn.from_torch takes a torch.nn.Module, got {module!r} ({kind.__name__})")
    raise TypeError(f"nn.from_torch cannot convert {origin}: {why}; it converts "
                    f"{', '.join(LAYERS)} (build the model as a torch.nn.Sequential of them)")


def _step(node, torch) -> tuple[str, int | None] | None:
    """What a function or method call in a forward is, if it is a layer glassgrad has:
    (kind, None), or ("Flatten", n) for `x.view(-1, n)` (a Flatten only before a Linear of n
    inputs); None otherwise."""
    functional = torch.nn.functional
    activations = {torch.relu: "ReLU", functional.relu: "ReLU", torch.tanh: "Tanh",
                   functional.tanh: "Tanh", torch.sigmoid: "Sigmoid", functional.sigmoid: "Sigmoid"}
    rest, kwargs = node.args[1:], dict(node.kwargs)
    if node.op == "call_function" and node.target in activations and not rest and kwargs in ({}, {"inplace": False}):
        return activations[node.target], None
    if node.op == "call_method" and node.target in ("relu", "tanh", "sigmoid") and not rest and not kwargs:
        return {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}[node.target], None
    flatten = (node.op == "call_function" and node.target is torch.flatten) or (
        node.op == "call_method" and node.target == "flatten")
    if flatten and (rest, kwargs) in (((1,), {}), ((), {"start_dim": 1}), ((1, -1), {})):
        return "Flatten", None
    if (node.op == "call_method" and node.target in ("view", "reshape") and not kwargs
            and len(rest) == 2 and rest[0] == -1 and isinstance(rest[1], int)):
        return "Flatten", rest[1]
    return None


def _chain(module, path: str, origin: str, torch) -> Part:
    """A custom module whose forward calls its layers one after another, as seed 003's classes
    do (`x = self.pool(self.relu(self.conv1(x)))`, `x.view(-1, n)`, `x, _ = self.rnn(x)`,
    `torch.relu(...)`): traced with torch.fx, each call becomes a child of a Sequential named as
    fx names it (`conv1`; `relu_1` for a second call of `self.relu`)."""
    import operator

    import torch.fx

    def refuse(node, why: str) -> None:
        raise TypeError(f"nn.from_torch cannot convert {origin}: its forward {why}, at "
                        f"`{node.format_node()}`; from_torch reads a forward that calls layers "
                        "glassgrad has one after another (or a torch.nn.Sequential of them)")

    try:
        nodes = list(torch.fx.symbolic_trace(module).graph.nodes)
    except Exception as error:  # whatever the forward's Python raised while being traced
        raise TypeError(f"nn.from_torch cannot convert {origin}: a custom Module whose forward "
                        f"torch.fx cannot trace ({type(error).__name__}: {error})") from None
    inputs = [node for node in nodes if node.op == "placeholder"]
    if len(inputs) != 1:
        refuse(inputs[-1] if inputs else nodes[-1], "does not take exactly one input")
    current, children, called, rnn_pair, view = inputs[0], [], set(), False, None
    for node in nodes:
        if node.op == "placeholder" or (node.op != "output" and not node.users):
            continue  # a value never used, such as the `_` of `x, _ = self.rnn(x)`
        if node.op == "output":
            if node.args[0] is not current:
                refuse(node, "returns something other than its last layer's output")
            break
        if node.all_input_nodes != [current]:
            refuse(node, "is not a chain of layers (a step reads something besides the one before)")
        if rnn_pair:  # nn.RNN returns (output, h_n): only output[0] may go on
            if node.target is not operator.getitem or node.args[1:] != (0,):
                refuse(node, "uses an nn.RNN's (output, h_n) pair other than as output")
            current, rnn_pair = node, False
            continue
        if node.op == "call_module":
            child = module.get_submodule(node.target)
            if node.target in called and any(True for _ in child.parameters()):
                refuse(node, f"calls {node.target!r} twice: glassgrad would train two copies")
            called.add(node.target)
            part = _read(child, f"{path}.{node.target}" if path else node.target, torch)
            rnn_pair = type(child) is torch.nn.RNN
        else:
            step = _step(node, torch)
            if step is None:
                refuse(node, "computes something that is not a layer glassgrad has")
            part = Part(step[0], origin=f"{where(path)} ({node.format_node()})")
        if view is not None and (part.kind != "Linear" or part.args[0] != view):
            refuse(node, f"reshapes with view(-1, {view}), read as Flatten only before a Linear "
                   f"of {view} inputs")
        view = step[1] if node.op != "call_module" else None
        children.append((node.name, part))
        current = node
    if not children:
        refuse(nodes[-1], "calls no layer")
    return Part("Sequential", children=children, origin=origin)


TAKES = {"Linear": 1, "Unflatten": 1, "Conv2d": 3, "MaxPool2d": 3, "RNN": 2}  # axes of one sample
GIVES = {"Linear": 1, "Flatten": 1, "Conv2d": 3, "MaxPool2d": 3, "RNN": 2}


def _check_axes(part: Part) -> None:
    """Each glassgrad layer gets samples with the number of axes it takes. (PyTorch applies a
    Linear to the last axis of anything; glassgrad's Layer takes one flat row.)"""
    axes = None
    for _, leaf in part.leaves():
        takes = TAKES.get(leaf.kind)
        if takes is not None and axes is not None and axes != takes:
            raise ValueError(f"nn.from_torch cannot convert {leaf.origin}: it gets samples with "
                             f"{axes} axes and glassgrad's layer takes {takes}"
                             + (" (PyTorch applies a Linear to every row, such as every RNN "
                                "step; glassgrad's Layer takes one flat row: Flatten first, or "
                                "take the last step in PyTorch)" if leaf.kind == "Linear" else ""))
        axes = len(leaf.args[1]) if leaf.kind == "Unflatten" else GIVES.get(leaf.kind, axes)


def from_torch(module: "torch.nn.Module") -> Module:
    """A glassgrad model computing what `module` computes, with its weights and names.

    `torch.nn.Sequential` becomes `nn.Sequential` (children keep their names: `fc1.weight[3, 2]`
    becomes `fc1.neurons.3.w.2`), `Linear` a linear `nn.Layer`, `Conv2d`, `MaxPool2d`,
    `Flatten`, `Unflatten`, `ReLU`, `Tanh`, `Sigmoid` their namesakes, and `RNN` (one layer,
    tanh, with biases) `nn.RNN`, whose bias is `bias_ih_l0 + bias_hh_l0`. A module of your own
    whose forward calls such layers one after another (seed 003's classes, the class
    `torch_code` writes) is traced with torch.fx and becomes a Sequential of its calls, named
    as fx names them (`conv1`, `relu_1`); `x.view(-1, n)` before a Linear of n inputs is a
    Flatten. The glassgrad model takes one sample at a time. Any other layer or forward, any
    option glassgrad cannot compute (`dilation=2`, `bidirectional=True`, `bias=False`, ...),
    and a Linear applied to every step of a sequence raise an error naming the layer's path and
    type, and the option.
    """
    torch = _torch("nn.from_torch")
    part = _read(module, "", torch)
    _check_axes(part)
    _check_finite(part)
    return build(part)


def _check_finite(part: Part) -> None:
    """Refuse a nan or infinite weight, as `Module.load_state_dict` does: a model built from it
    would compute nan everywhere without saying where it came from."""
    for name, array in part.named_tensors():
        bad = np.argwhere(~np.isfinite(array))
        if len(bad):
            index = ", ".join(str(int(i)) for i in bad[0])
            raise ValueError(f"nn.from_torch cannot convert {name}[{index}] = "
                             f"{float(array[tuple(bad[0])])!r}: glassgrad's parameters hold finite numbers")


# ---- the code ---------------------------------------------------------------------------------
def _text(value: Any) -> str:
    """A constructor argument as people write it: a square pair (3, 3) as 3."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1]:
        return repr(value[0])
    return repr(value)


def _attribute(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _rnn_states_source() -> str:
    """The source of `nn.torch_layers.RNNStates`, read from its file (without importing torch)."""
    path = Path(importlib.util.find_spec("nn.torch_layers").origin)
    text = path.read_text(encoding="utf-8")
    node = next(n for n in ast.parse(text).body if isinstance(n, ast.ClassDef) and n.name == "RNNStates")
    return ast.get_source_segment(text, node)


class _Writer:
    """Writes parts as PyTorch expressions, noting what the code will need besides torch.nn."""

    def __init__(self) -> None:
        self.needs: set[str] = set()

    def call(self, part: Part, rnn: str = "RNNStates") -> str:
        """`nn.Conv2d(1, 8, kernel_size=3, padding=1)`; an RNN as `rnn(...)`."""
        arguments = [repr(a) for a in part.args] + [f"{k}={_text(v)}" for k, v in part.kwargs.items()]
        if part.kind == "RNN":
            self.needs.add(rnn)
        return f"{rnn if part.kind == 'RNN' else 'nn.' + part.kind}({', '.join(arguments)})"

    def expression(self, part: Part, indent: str) -> str:
        """A part as one expression; a Sequential over several lines, indented from `indent`."""
        if part.kind != "Sequential":
            return self.call(part)
        inner = indent + "    "
        if [name for name, _ in part.children] == [str(i) for i in range(len(part.children))]:
            lines = [f"{inner}{self.expression(child, inner)}," for _, child in part.children]
            return "nn.Sequential(\n" + "\n".join(lines) + f"\n{indent})"
        self.needs.add("OrderedDict")
        lines = [f'{inner}("{name}", {self.expression(child, inner)}),' for name, child in part.children]
        return "nn.Sequential(OrderedDict([\n" + "\n".join(lines) + f"\n{indent}]))"

    def module_class(self, part: Part, name: str) -> str:
        """A Sequential as a class in seed 003's style: its layers as attributes, a forward
        that calls them in order (an nn.RNN's output is every hidden state)."""
        init, forward = [], []
        for child, layer in part.children:
            if layer.kind == "RNN":
                init.append(f"        self.{child} = {self.call(layer, rnn='nn.RNN')}")
                forward.append(f"        x, _ = self.{child}(x)  # every hidden state: (batch, steps, hidden)")
            else:
                init.append(f"        self.{child} = {self.expression(layer, '        ')}")
                forward.append(f"        x = self.{child}(x)")
        return "\n".join([f"class {name}(nn.Module):", "    def __init__(self):",
                          "        super().__init__()", *init, "", "    def forward(self, x):",
                          *forward, "        return x", "", "", f"model = {name}()"])


def torch_code(model: Module, class_name: str | None = None) -> str:
    """PyTorch code (a string that runs as it is) building the same network as `model`.

    A Sequential with named children, or an MLP, becomes a class in seed 003's style, one
    attribute per layer and a `forward` calling them in order (named `class_name`, default the
    model's type, `Net` for a Sequential); anything else one `model = ...` expression. The
    state-dict names are those of `to_torch(model)`, so its weights load into the code's model:
    `model.load_state_dict(nn.to_torch(glassgrad_model).state_dict())`. Needs no torch.
    """
    part = describe(model)
    if class_name is None:
        class_name = "Net" if type(model) is Sequential else type(model).__name__
    if not isinstance(class_name, str) or not _attribute(class_name):
        raise ValueError(f"torch_code(class_name=) should be a Python name, got {class_name!r}")
    writer = _Writer()
    if part.kind == "Sequential" and all(_attribute(child) for child, _ in part.children):
        body = writer.module_class(part, class_name)
    else:
        body = f"model = {writer.expression(part, '')}"
    blocks = ["import torch\nimport torch.nn as nn"]
    if "OrderedDict" in writer.needs:
        blocks[0] = "from collections import OrderedDict\n\n" + blocks[0]
    if "RNNStates" in writer.needs:
        blocks.append(_rnn_states_source())
    blocks.append(body + "\n# glassgrad's weights: model.load_state_dict(state), with state saved by\n"
                  "# torch.save(nn.to_torch(glassgrad_model).state_dict(), path) and read by torch.load(path)")
    return "\n\n\n".join(blocks) + "\n"
