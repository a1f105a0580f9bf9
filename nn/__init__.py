"""glassgrad's neural-network library, built from `autograd.Value`s.

    >>> import nn
    >>> model = nn.MLP(2, [4, 1], activation="tanh", seed=0)
    >>> X, y = nn.make_moons(40, noise=0.1, seed=0)
    >>> history = nn.fit(model, X, 2 * y - 1, nn.hinge, nn.SGD(model.parameters(), lr=0.1),
    ...                  epochs=3, progress=False)
    >>> len(history["loss"])
    3

Modules: `module` (Module: names, state, save/load), `layers` (Neuron, Layer, MLP), `init`
(seeded initializers), `losses` (the losses, each a `Loss`), `optim` (SGD, Adam), `data`
(datasets, IDX, batches), `train` (fit, evaluate, predict, accuracy), `updates` (an optimizer's
update explained with its own numbers), `recording` (Recorder: a run for the timeline page,
`fit(..., record=...)`), `timeline` (the page), `conv` (Conv2d,
MaxPool2d, Flatten, Unflatten), `recurrent` (RNN), `containers` (Sequential), `activations`
(ReLU, Tanh, Sigmoid as modules), `shapes` (nested lists of Values as small tensors),
`progress` (fit's progress bar, in a terminal or a notebook), `blueprint` (a model read as
PyTorch layers), `torch_bridge` (to_torch, from_torch, torch_code, torch_names), `torch_layers`
(the PyTorch module an RNN becomes), `onnx_export` (to_onnx).
"""
import _glassgrad_guard  # first: a clear error if 'autograd' is not glassgrad's (HIPS autograd?)
_glassgrad_guard.require_glassgrad_autograd(__file__)
from . import init
from .activations import ReLU, Sigmoid, Tanh
from .containers import Sequential
from .conv import Conv2d, Flatten, MaxPool2d, Unflatten
from .data import batches, digits, emily_frank, letters, make_moons, mnist, noisy, people, read_idx
from .layers import MLP, Layer, Neuron
from .losses import (Loss, binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     hinge, l2, log_softmax, logsumexp, mse, softmax)
from .module import Module
from .onnx_export import to_onnx
from .optim import SGD, Adam, Optimizer
from .recording import Recorder
from .recurrent import RNN
from .torch_bridge import from_torch, to_torch, torch_code, torch_names
from .train import accuracy, evaluate, fit, predict

__all__ = [
    "Module", "Neuron", "Layer", "MLP", "init",
    "Sequential", "Conv2d", "MaxPool2d", "Flatten", "Unflatten", "RNN", "ReLU", "Tanh", "Sigmoid",
    "Loss", "mse", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "hinge",
    "l2", "softmax", "log_softmax", "logsumexp",
    "Optimizer", "SGD", "Adam",
    "people", "emily_frank", "letters", "noisy", "make_moons", "digits", "read_idx", "mnist", "batches",
    "fit", "evaluate", "predict", "accuracy", "Recorder",
    "to_torch", "from_torch", "torch_code", "torch_names", "to_onnx",
]
