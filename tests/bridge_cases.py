"""Random glassgrad models of every layer type that nn.to_torch and nn.to_onnx cover, for
their tests: Hypothesis draws the sizes and activations; `randomized` draws every parameter."""
import numpy as np
from hypothesis import strategies as st

import nn

ACTIVATIONS = ["tanh", "relu", "sigmoid", "linear"]


def randomized(model, seed):
    """`model` with every parameter (biases too, which start at 0) drawn from N(0, 1)."""
    rng = np.random.default_rng(seed)
    model.load_state_dict({name: rng.normal() for name in model.state_dict()})
    return model


# ---- random glassgrad models of every covered layer -------------------------------------------
@st.composite
def dense_models(draw):
    """An MLP, a Layer or a Neuron of random sizes and activations, and one sample's shape."""
    nin = draw(st.integers(1, 4))
    activation = st.sampled_from(ACTIVATIONS)
    kind = draw(st.sampled_from(["MLP", "Layer", "Neuron"]))
    if kind == "MLP":
        sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
        return nn.MLP(nin, sizes, draw(activation), draw(activation)), (nin,)
    if kind == "Layer":
        return nn.Layer(nin, draw(st.integers(1, 4)), draw(activation)), (nin,)
    return nn.Neuron(nin, draw(activation)), (nin,)


@st.composite
def conv_models(draw):
    """Conv2d (random kernel, stride, padding), an activation, maybe MaxPool2d, Flatten and a
    Layer; maybe starting with Unflatten from a flat row; or a Conv2d alone."""
    channels, out = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    height = draw(st.integers(max(1, kernel[0] - 2 * padding[0]), 6))
    width = draw(st.integers(max(1, kernel[1] - 2 * padding[1]), 6))
    conv = nn.Conv2d(channels, out, kernel, stride=stride, padding=padding)
    if draw(st.booleans()):
        return conv, (channels, height, width)
    layers = {"conv": conv, "act": draw(st.sampled_from([nn.ReLU(), nn.Tanh(), nn.Sigmoid()]))}
    c, h, w = conv.output_shape(height, width)
    pool = (draw(st.integers(1, min(h, w, 3))), draw(st.integers(1, min(h, w, 3))))
    pool_stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if draw(st.booleans()):
        layers["pool"] = nn.MaxPool2d(pool, pool_stride)
        h, w = (h - pool[0]) // pool_stride[0] + 1, (w - pool[1]) // pool_stride[1] + 1
    layers["flatten"] = nn.Flatten()
    layers["fc"] = nn.Layer(c * h * w, draw(st.integers(1, 3)), draw(st.sampled_from(ACTIVATIONS)))
    if draw(st.booleans()):
        return nn.Sequential(image=nn.Unflatten((channels, height, width)), **layers), \
            (channels * height * width,)
    return nn.Sequential(**layers), (channels, height, width)


@st.composite
def rnn_models(draw):
    """An RNN alone, or followed by an activation, or by Flatten and a Layer (positional names)."""
    inputs, hidden, steps = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    rnn = nn.RNN(inputs, hidden)
    tail = draw(st.sampled_from(["alone", "activation", "linear"]))
    if tail == "alone":
        return rnn, (steps, inputs)
    if tail == "activation":
        return nn.Sequential(rnn=rnn, act=nn.Sigmoid()), (steps, inputs)
    return nn.Sequential(rnn, nn.Flatten(), nn.Layer(steps * hidden, 2, "tanh")), (steps, inputs)


def models():
    return st.one_of(dense_models(), conv_models(), rnn_models())
