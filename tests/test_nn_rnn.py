"""RNN: against a numpy Elman cell written here, by finite differences through time, by name,
by time-step scope (drawings collapse by step), compiled, and on bad input."""
import numpy as np
import pytest

import autograd
import nn
from autograd import Value
from nn.shapes import flat, reshaped


def elman_reference(xs, w_ih, w_hh, b, h0):
    """h_t = tanh(W_ih x_t + W_hh h_{t-1} + b), the states stacked."""
    h, states = h0, []
    for x in xs:
        h = np.tanh(w_ih @ x + w_hh @ h + b)
        states.append(h)
    return np.array(states)


def data(nested):
    return np.array([[v.data for v in row] for row in nested]) if isinstance(nested[0], list) \
        else np.array([v.data for v in nested])


def randomize_bias(rnn, seed):
    for b, number in zip(rnn.bias, np.random.default_rng(seed).normal(size=len(rnn.bias))):
        b.data = float(number)


@pytest.mark.parametrize("steps, n_in, n_hidden, with_h0", [(1, 1, 1, False), (4, 3, 5, False),
                                                             (6, 10, 5, True)])
def test_rnn_equals_a_numpy_elman_cell(steps, n_in, n_hidden, with_h0):
    rng = np.random.default_rng(steps)
    rnn = nn.RNN(n_in, n_hidden, seed=1)
    randomize_bias(rnn, 2)
    xs = rng.normal(size=(steps, n_in))
    h0 = rng.normal(size=n_hidden) if with_h0 else None
    got = data(rnn(xs, h0=h0))
    want = elman_reference(xs, data(rnn.weight_ih), data(rnn.weight_hh), data(rnn.bias),
                           np.zeros(n_hidden) if h0 is None else h0)
    assert got.shape == (steps, n_hidden)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)


def test_each_unit_at_each_step_is_one_dot_then_tanh():
    rnn = nn.RNN(2, 3, seed=0)
    xs = [[Value(1.0, "a0"), Value(2.0, "b0")], [Value(3.0, "a1"), Value(4.0, "b1")]]
    states = rnn(xs)
    unit = states[1][2]
    assert unit.op.name == "tanh"
    pre = unit.parents[0]
    assert pre.op.name == "dot"
    assert list(pre.parents) == (rnn.weight_ih[2] + rnn.weight_hh[2] + xs[1] + states[0]
                                 + [rnn.bias[2]])


def test_parameters_are_named_like_pytorch_and_labelled():
    rnn = nn.RNN(10, 5, seed=0)
    names = [name for name, _ in rnn.named_parameters()]
    assert len(names) == 5 * 10 + 5 * 5 + 5
    assert names[:2] == ["weight_ih.0.0", "weight_ih.0.1"] and names[-1] == "bias.4"
    assert rnn.weight_hh[3][1].label == "weight_hh.3.1"
    model = nn.Sequential(rnn=nn.RNN(2, 2, seed=0))
    assert model.rnn.weight_ih[1][0].label == "rnn.weight_ih.1.0"
    assert model.rnn.bias[0].scope.path == "rnn" and model.rnn.bias[0].scope.kind == "layer"


def test_each_time_step_is_a_scope_and_draw_collapses_by_step():
    model = nn.Sequential(rnn=nn.RNN(2, 3, seed=0))
    states = model(np.ones((3, 2)))
    loss = autograd.sum(states[-1])
    made = [v for v in autograd.topological_order(loss) if v.op is not None and v is not loss]
    assert {v.scope.path for v in made} == {"rnn.step.0", "rnn.step.1", "rnn.step.2"}
    assert all(v.scope.enclosing("layer").path == "rnn" for v in made)
    drawing = autograd.draw(loss, collapse="step")
    assert drawing.collapsed == "step"
    # a box per step, and one per shared weight tensor (W_ih, W_hh, b), not one per weight
    assert len({box for box in drawing.ids.values() if box.startswith("g")}) == 3 + 3
    assert drawing.source.count('class="group step"') == 3
    assert drawing.source.count('class="group tensor param"') == 3


def test_backprop_through_time_sums_the_recurrent_weight_over_steps():
    # One unit, h_t = tanh(w·x_t + u·h_{t-1}) with w = 1, u = 0.5, b = 0: d h_2 / d u by the
    # chain rule through time, written out by hand: dh_t/du = (1 - h_t²)·(h_{t-1} + u·dh_{t-1}/du).
    rnn = nn.RNN(1, 1, init=lambda fan_in, fan_out, rng: np.array([[1.0, 0.5]]))
    xs = [[0.3], [-0.2], [0.7]]
    states = rnn(xs)
    states[-1][0].backward()
    u, w = 0.5, 1.0
    h, dh_du = 0.0, 0.0
    for (x,) in xs:
        new = np.tanh(w * x + u * h)
        dh_du = (1 - new ** 2) * (h + u * dh_du)
        h = new
    assert rnn.weight_hh[0][0].grad == pytest.approx(dh_du, rel=1e-13)


def test_gradcheck_rnn_parameters_and_inputs_through_time():
    rnn = nn.RNN(2, 3, seed=4)
    randomize_bias(rnn, 5)
    xs = np.random.default_rng(6).normal(size=(4, 2))

    def f(*leaves):
        rnn.weight_ih = reshaped(list(leaves[:6]), (3, 2))
        rnn.weight_hh = reshaped(list(leaves[6:15]), (3, 3))
        rnn.bias = list(leaves[15:18])
        return flat(rnn(reshaped(list(leaves[18:]), (4, 2))))

    point = [v.data for v in rnn.parameters()] + xs.ravel().tolist()
    assert autograd.gradcheck(f, point, fast_mode=True)


def test_rnn_compiles_and_agrees_with_eager():
    rnn = nn.RNN(3, 4, seed=7)
    randomize_bias(rnn, 8)
    X = np.random.default_rng(9).normal(size=(6, 5, 3))

    def last(xs):
        return rnn(xs)[-1]

    program = autograd.compile(last, X[0])
    eager = np.array([[v.data for v in last(x)] for x in X])
    np.testing.assert_allclose(program(X), eager, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("xs, h0, message", [
    (np.zeros((4, 2)), None, r"expects input of shape \(any steps, 3 features\), got shape \(4, 2\)"),
    (np.zeros(3), None, r"got shape \(3,\)"),
    (np.zeros((0, 3)), None, r"got shape \(0,\)"),
    ([[1.0, 2.0, 3.0], [1.0]], None, "ragged nested list"),
    (np.zeros((2, 3)), np.zeros(4), r"\(h0\) expects input of shape \(2 hidden units\), got shape \(4,\)"),
])
def test_wrong_shapes_are_named(xs, h0, message):
    with pytest.raises(ValueError, match=message):
        nn.RNN(3, 2)(xs, h0=h0)


@pytest.mark.parametrize("args, error, message", [
    ((0, 5), ValueError, r"RNN\(input_size\) should be a positive int"),
    ((10, True), TypeError, r"RNN\(hidden_size\) should be a positive int, got True \(bool\)"),
    ((10.0, 5), TypeError, r"RNN\(input_size\) should be a positive int, got 10.0 \(float\)"),
])
def test_bad_sizes_are_named(args, error, message):
    with pytest.raises(error, match=message):
        nn.RNN(*args)
