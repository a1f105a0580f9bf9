"""`to_onnx(model, path)`: a glassgrad model as an ONNX file, for onnxruntime, Netron and the rest.

The file is built straight from `nn.blueprint`'s reading of the model with onnx's helpers, so it
needs no PyTorch. Each layer is one ONNX node named by its path (`conv1`, `fc1`): `Linear` is
`Gemm`, `Conv2d` `Conv`, `MaxPool2d` `MaxPool`, `Flatten` `Flatten`, `Unflatten` a `Reshape`
that keeps the batch axis, the activations `Relu`, `Tanh`, `Sigmoid`, and an `RNN` ONNX's
`RNN` node between two `Transpose`s (ONNX's RNN runs steps-first, and onnxruntime takes no
other layout) and a `Squeeze` of its one direction. Weights are initializers named as PyTorch
names them (`conv1.weight`, `rnn.weight_ih_l0`). The graph's input is `input` and its output
`output`, with a dynamic batch axis `batch` (and `steps` for a sequence); ONNX's shape
inference then annotates every edge, which Netron shows, and rejects sizes that do not fit.

Numbers are float32: onnxruntime's CPU kernels for Conv and RNN take nothing else, and float32
is what ONNX deployments run. So the file's outputs equal glassgrad's to float32 precision
(about 1e-6 relative), not to float64's. Opset 17 and IR version 8 (onnx 1.12, onnxruntime 1.13
and later read it).

The file is written as `Module.save` writes, by `autograd.files.write_atomically`: a failure
never leaves a half-written model, an existing file keeps its mode and symbolic links, and a
folder that does not exist, or a path that is a folder, is an error naming the path.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from autograd.files import write_atomically

from .blueprint import Part, describe, numbers
from .module import Module
from .shapes import positive_int

OPSET = 17
IR_VERSION = 8
INSTALL = 'pip install "glassgrad[onnx]"'


def _onnx():
    try:
        import onnx
    except ImportError as error:
        raise ImportError(f"nn.to_onnx needs the onnx package, which is not installed: {INSTALL} "
                          "(onnx, and onnxruntime to run the files)") from error
    return onnx


def _input_shape(part: Part, sample_shape: Sequence[int] | None) -> list[int | str]:
    """The input's dimensions: `batch`, then one sample's, from `sample_shape` or else from the
    first layer that fixes them."""
    if sample_shape is not None:
        if isinstance(sample_shape, (str, bytes)) or not isinstance(sample_shape, Sequence):
            raise TypeError(f"to_onnx(sample_shape=) should be a tuple of sizes, got {sample_shape!r}")
        return ["batch", *(positive_int(n, "each to_onnx sample_shape size") for n in sample_shape)]
    for _, leaf in part.leaves():
        if leaf.kind == "Linear":
            return ["batch", leaf.args[0]]
        if leaf.kind == "Unflatten":
            return ["batch", math.prod(leaf.args[1])]
        if leaf.kind == "Conv2d":
            return ["batch", leaf.args[0], "height", "width"]
        if leaf.kind == "MaxPool2d":
            return ["batch", "channels", "height", "width"]
        if leaf.kind == "RNN":
            return ["batch", "steps", leaf.args[0]]
        if leaf.kind == "Flatten":
            break
    raise ValueError("to_onnx cannot tell the shape of the model's input from its first layers "
                     "(it starts with Flatten or with activations only): give one sample's shape, "
                     "to_onnx(model, path, sample_shape=(1, 8, 8))")


def _nodes(path: str, part: Part, x: str, y: str, helper, constant) -> list:
    """The ONNX node(s) computing layer `part` (named `path`) from tensor `x` into tensor `y`;
    `constant(name, array)` adds an initializer and returns its name."""
    make = helper.make_node
    if part.kind == "Linear":
        return [make("Gemm", [x, constant(f"{path}.weight", part.tensors["weight"]),
                              constant(f"{path}.bias", part.tensors["bias"])], [y], name=path, transB=1)]
    if part.kind == "Conv2d":
        (ph, pw) = part.kwargs.get("padding", (0, 0))
        return [make("Conv", [x, constant(f"{path}.weight", part.tensors["weight"]),
                              constant(f"{path}.bias", part.tensors["bias"])], [y], name=path,
                     kernel_shape=list(part.kwargs["kernel_size"]),
                     strides=list(part.kwargs.get("stride", (1, 1))), pads=[ph, pw, ph, pw])]
    if part.kind == "MaxPool2d":
        kernel = part.kwargs["kernel_size"]
        return [make("MaxPool", [x], [y], name=path, kernel_shape=list(kernel),
                     strides=list(part.kwargs.get("stride", kernel)))]
    if part.kind == "Flatten":
        return [make("Flatten", [x], [y], name=path, axis=1)]
    if part.kind == "Unflatten":  # 0: keep the batch axis as it is
        shape = constant(f"{path}.shape", np.array([0, *part.args[1]], dtype=np.int64))
        return [make("Reshape", [x, shape], [y], name=path)]
    if part.kind == "RNN":
        t = part.tensors
        weights = [constant(f"{path}.weight_ih_l0", t["weight_ih_l0"][None]),
                   constant(f"{path}.weight_hh_l0", t["weight_hh_l0"][None]),
                   constant(f"{path}.bias_ih_l0+bias_hh_l0",
                            np.concatenate([numbers(t["bias_ih_l0"]), numbers(t["bias_hh_l0"])])[None])]
        axis = constant(f"{path}.direction_axis", np.array([1], dtype=np.int64))
        return [make("Transpose", [x], [f"{path}.steps_first"], name=f"{path}.steps_first", perm=[1, 0, 2]),
                make("RNN", [f"{path}.steps_first", *weights], [f"{path}.states"], name=path,
                     hidden_size=part.args[1]),
                make("Squeeze", [f"{path}.states", axis], [f"{path}.one_direction"],
                     name=f"{path}.one_direction"),
                make("Transpose", [f"{path}.one_direction"], [y], name=f"{path}.batch_first",
                     perm=[1, 0, 2])]
    return [make({"ReLU": "Relu", "Tanh": "Tanh", "Sigmoid": "Sigmoid"}[part.kind], [x], [y], name=path)]


def onnx_model(model: Module, sample_shape: Sequence[int] | None = None):
    """The ONNX ModelProto for `model`, checked (`onnx.checker`) and with every edge's shape."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    part = describe(model)
    initializers = []

    def constant(name: str, array: np.ndarray) -> str:
        array = numbers(array).astype(np.float32) if array.dtype != np.int64 else array
        initializers.append(numpy_helper.from_array(array, name))
        return name

    leaves = list(part.leaves())
    nodes, x = [], "input"
    for i, (path, leaf) in enumerate(leaves):
        y = "output" if i == len(leaves) - 1 else (path or leaf.kind.lower())
        nodes += _nodes(path or leaf.kind.lower(), leaf, x, y, helper, constant)
        x = y
    graph = helper.make_graph(
        nodes, type(model).__name__,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, _input_shape(part, sample_shape))],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)], initializers,
        doc_string=repr(model))
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              ir_version=IR_VERSION, producer_name="glassgrad",
                              doc_string=f"glassgrad {type(model).__name__}, exported by nn.to_onnx")
    try:
        proto = onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    except onnx.shape_inference.InferenceError as error:
        raise ValueError(f"to_onnx: the model's layers do not fit together for an input of shape "
                         f"{_input_shape(part, sample_shape)}: {error}") from None
    onnx.checker.check_model(proto, full_check=True)
    return proto


def to_onnx(model: Module, path: str | os.PathLike, sample_shape: Sequence[int] | None = None) -> Path:
    """Write `model` to `path` as an ONNX file (float32, dynamic batch axis); returns the path.

    Takes the models `nn.to_torch` takes. `sample_shape` (one sample's shape, e.g. (1, 8, 8))
    is needed only when the first layers do not fix the input's shape (a model that starts
    with Flatten)."""
    data = onnx_model(model, sample_shape).SerializeToString()
    return write_atomically(path, data)
