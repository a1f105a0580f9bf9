"""`Conv2d`, `MaxPool2d`, `Flatten` and `Unflatten`: seed 003's CNN, one Value at a time.

An image is a nested list `channels x height x width` of Values. A convolution slides a
`kernel_size` window over it (after `padding` rings of zeros, moving `stride` pixels at a time);
each output pixel of output channel o is ONE `autograd.dot` node: the kernel's weights
`weight[o]` (in_channels x kh x kw, flattened), the window under it (the same order) and the
bias `bias[o]`. So a drawing shows every output pixel as one node with its weights, its window
and its bias, and backward gives each weight the sum of `window · upstream grad` over every
place the kernel visited: weight sharing is a node used many times.

Max pooling takes the largest value of each window: one `autograd.max` node per window, the
exact maximum. The graph is the same whatever the numbers are, so `autograd.compile` can trace
it, and the gradient goes to the largest input (the first one on ties, as in PyTorch).

Parameters are named like PyTorch's: `weight.3.0.1.2` is output channel 3, input channel 0,
kernel row 1, column 2; inside `nn.Sequential(conv1=...)` it is `conv1.weight.3.0.1.2`. The
output pixels are named the same way: `conv1.out.3.4.5` is channel 3, row 4, column 5 (and
`pool1.out.3.1.2` a max-pooling window's).
"""
from __future__ import annotations

import math
import numbers
from typing import Sequence

import numpy as np

import autograd
from autograd import Value

from . import init as initializers
from .module import Module, name_outputs
from .shapes import Nested, as_values, flat, positive_int, reshaped, shape_of

IMAGE_AXES = ("channels", "height", "width")


def _pair(n, what: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints (rows, columns), each >= minimum: a TypeError for anything but
    ints (bools and floats are not), a ValueError for a pair of the wrong length or a small value."""
    pair = tuple(n) if isinstance(n, (tuple, list)) else (n, n)
    if any(isinstance(k, bool) or not isinstance(k, numbers.Integral) for k in pair):
        raise TypeError(f"{what} should be an int >= {minimum} or a pair of them, got {n!r}")
    if len(pair) != 2 or any(k < minimum for k in pair):
        raise ValueError(f"{what} should be an int >= {minimum} or a pair of them, got {n!r}")
    return int(pair[0]), int(pair[1])


def _out_size(size: int, kernel: int, stride: int, what: str, who: str) -> int:
    if size < kernel:
        raise ValueError(f"{who}: the input's {what} ({size}, with padding) is smaller than the "
                         f"kernel ({kernel})")
    return (size - kernel) // stride + 1


class Conv2d(Module):
    """A 2-D convolution over `in_channels x height x width` images (as PyTorch's, with
    `dilation=1, groups=1`): `out[o][i][j] = bias[o] + Σ weight[o][c][di][dj] ·
    x[c][i·stride + di][j·stride + dj]` over the zero-padded input.

    Weights start from `init` (a name in `nn.init.INITIALIZERS` or a function of fan-in,
    fan-out and a Generator; fan-in = in_channels · kh · kw) with `seed`; biases start at 0.
    """

    kind = "layer"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        *,
        init: str | initializers.Initializer = "he",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.in_channels = positive_int(in_channels, "Conv2d(in_channels)")
        self.out_channels = positive_int(out_channels, "Conv2d(out_channels)")
        self.kernel_size = _pair(kernel_size, "Conv2d(kernel_size)")
        self.stride = _pair(stride, "Conv2d(stride)")
        self.padding = _pair(padding, "Conv2d(padding)", minimum=0)
        kh, kw = self.kernel_size
        fan_in = self.in_channels * kh * kw
        weights = np.asarray(initializers.resolve(init)(fan_in, self.out_channels,
                                                        initializers.generator(seed)), dtype=float)
        if weights.shape != (self.out_channels, fan_in):
            raise ValueError(f"init gave weights of shape {weights.shape}, expected "
                             f"({self.out_channels}, {fan_in})")
        shape = (self.in_channels, kh, kw)
        self.weight = [reshaped([Value(w) for w in row], shape) for row in weights.tolist()]
        self.bias = [Value(0.0) for _ in range(self.out_channels)]

    def output_shape(self, height: int, width: int) -> tuple[int, int, int]:
        """(out_channels, height, width) of the output for an input of this height and width."""
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        return (self.out_channels,
                _out_size(height + 2 * ph, kh, sh, "height", repr(self)),
                _out_size(width + 2 * pw, kw, sw, "width", repr(self)))

    def __call__(self, x) -> list[list[list[Value]]]:
        """The output image, `out_channels x height' x width'` nested lists of Values."""
        x = as_values(x, (self.in_channels, None, None), IMAGE_AXES, repr(self))
        _, height, width = shape_of(x)
        _, out_h, out_w = self.output_shape(height, width)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        if ph or pw:
            zero = Value(0.0, requires_grad=False)
            row = [zero] * (width + 2 * pw)
            x = [[row] * ph + [[zero] * pw + line + [zero] * pw for line in channel] + [row] * ph
                 for channel in x]
        kernels = [flat(kernel) for kernel in self.weight]
        out = [[[None] * out_w for _ in range(out_h)] for _ in range(self.out_channels)]
        for i in range(out_h):
            for j in range(out_w):
                top, left = i * sh, j * sw
                window = [v for channel in x for line in channel[top:top + kh]
                          for v in line[left:left + kw]]
                for o, kernel in enumerate(kernels):
                    out[o][i][j] = autograd.dot(kernel, window, self.bias[o])
        return name_outputs(out, "out")

    def __repr__(self) -> str:
        extra = "".join(f", {name}={value}" for name, value, default in (
            ("stride", self.stride, (1, 1)), ("padding", self.padding, (0, 0))) if value != default)
        return (f"Conv2d({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size}{extra})")


class MaxPool2d(Module):
    """The largest value of each `kernel_size` window of each channel, moving `stride` pixels
    (default: `kernel_size`, windows that do not overlap); rows and columns left over at the
    bottom and right are dropped, as in PyTorch."""

    kind = "layer"

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None) -> None:
        self.kernel_size = _pair(kernel_size, "MaxPool2d(kernel_size)")
        self.stride = self.kernel_size if stride is None else _pair(stride, "MaxPool2d(stride)")

    def __call__(self, x) -> list[list[list[Value]]]:
        x = as_values(x, (None, None, None), IMAGE_AXES, repr(self))
        _, height, width = shape_of(x)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        out_h = _out_size(height, kh, sh, "height", repr(self))
        out_w = _out_size(width, kw, sw, "width", repr(self))
        return name_outputs([[[autograd.max([v for line in channel[i * sh:i * sh + kh]
                                        for v in line[j * sw:j * sw + kw]])
                               for j in range(out_w)] for i in range(out_h)] for channel in x],
                            "out")

    def __repr__(self) -> str:
        stride = "" if self.stride == self.kernel_size else f", stride={self.stride}"
        return f"MaxPool2d(kernel_size={self.kernel_size}{stride})"


class Flatten(Module):
    """Nested lists (an image, for instance) as one flat list, row-major: what a fully
    connected layer after the convolutions takes (PyTorch's `x.view(-1, 64 * 7 * 7)`)."""

    def __call__(self, x) -> list[Value]:
        return flat(as_values(x, None, (), repr(self)))

    def __repr__(self) -> str:
        return "Flatten()"


class Unflatten(Module):
    """A flat list of `prod(shape)` inputs laid out as nested lists of `shape`, row-major:
    `Unflatten((1, 8, 8))` turns a row of 64 pixels into a one-channel 8x8 image, so a model
    trained with `nn.fit` (which feeds flat rows) can start with a convolution."""

    def __init__(self, shape: Sequence[int]) -> None:
        if isinstance(shape, str) or not isinstance(shape, Sequence):
            raise TypeError(f"Unflatten(shape) needs a non-empty tuple of sizes, got {shape!r}")
        if not shape:
            raise ValueError(f"Unflatten(shape) needs a non-empty tuple of sizes, got {shape!r}")
        self.shape = tuple(positive_int(n, "each Unflatten size") for n in shape)

    def __call__(self, x) -> Nested:
        size = math.prod(self.shape)
        x = as_values(x, (size,), ("inputs",), repr(self))
        return reshaped(x, self.shape)

    def __repr__(self) -> str:
        return f"Unflatten({self.shape})"
