"""Losses against numpy formulas written here, their gradients, stability, errors, gradcheck."""
import math

import numpy as np
import pytest

import autograd
import nn
from autograd import Value


def values(xs):
    return [Value(float(x)) for x in xs]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_mse_is_the_seeds_mean_of_squares():
    assert nn.mse([Value(0.0)] * 4, [1, 0, 0, 1]).data == 0.5  # seed 001's example
    p, y = np.array([[0.2, 0.9], [0.4, 0.1]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    out = [values(row) for row in p]
    loss = nn.mse(out, y.tolist())
    assert loss.data == pytest.approx(np.mean((y - p) ** 2), rel=1e-15)
    loss.backward()
    np.testing.assert_allclose([[v.grad for v in row] for row in out], 2 * (p - y) / p.size, rtol=1e-14)


def test_binary_cross_entropy_on_probabilities():
    p, y = np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 0.3])
    out = values(p)
    loss = nn.binary_cross_entropy(out, y)
    assert loss.data == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rel=1e-14)
    loss.backward()
    np.testing.assert_allclose([v.grad for v in out], (p - y) / (p * (1 - p)) / 3, rtol=1e-13)
    # a certain wrong answer is clamped like PyTorch's BCELoss: log(0) counts as -100
    assert nn.binary_cross_entropy([Value(0.0)], [1]).data == 100.0


@pytest.mark.parametrize("z", [-30.0, -2.0, -1e-9, 0.0, 1e-9, 0.7, 25.0])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.25])
def test_bce_with_logits_matches_sigmoid_then_bce_and_its_gradient_is_sigmoid_minus_y(z, y):
    v = Value(z)
    loss = nn.binary_cross_entropy_with_logits([v], [y])
    s = 1 / (1 + math.exp(-z))
    expected = -(y * math.log(s) + (1 - y) * math.log1p(-s)) if abs(z) < 20 else \
        max(z, 0) - y * z + math.log1p(math.exp(-abs(z)))
    assert loss.data == pytest.approx(expected, rel=1e-12, abs=1e-15)
    loss.backward()
    assert v.grad == pytest.approx(s - y, rel=1e-12, abs=1e-15)


def test_bce_with_logits_never_overflows():
    big = nn.binary_cross_entropy_with_logits(values([1000.0, -1000.0]), [0, 1])
    assert big.data == 1000.0


def test_softmax_and_log_softmax():
    z = np.array([1.0, -0.5, 3.0, 0.0])
    ref = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose([p.data for p in nn.softmax(values(z))], ref, rtol=1e-14)
    np.testing.assert_allclose([p.data for p in nn.log_softmax(values(z))], np.log(ref), rtol=1e-14)
    assert sum(p.data for p in nn.softmax(values([1000.0, 999.0]))) == pytest.approx(1.0)


def test_cross_entropy_value_and_gradient_softmax_minus_one_hot():
    Z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
    labels = [0, 2]
    out = [values(row) for row in Z]
    loss = nn.cross_entropy(out, labels)
    logp = Z - Z.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    assert loss.data == pytest.approx(-np.mean(logp[[0, 1], labels]), rel=1e-14)
    loss.backward()
    expected = (np.exp(logp) - np.eye(3)[labels]) / 2
    np.testing.assert_allclose([[v.grad for v in row] for row in out], expected, rtol=1e-13, atol=1e-16)
    one = nn.cross_entropy(values(Z[0]), 0)  # a single sample
    assert one.data == pytest.approx(-logp[0, 0], rel=1e-14)


def test_logsumexp_is_the_shifted_formula_number_for_number_with_max_as_a_node():
    rng = np.random.default_rng(4)
    for z in [rng.normal(size=5) * 30, np.array([700.0, 710.0, -3.0]), np.array([2.5])]:
        scores = values(z)
        got = nn.logsumexp(scores)
        top = max(z.tolist())
        assert got.data == math.log(math.fsum(math.exp(s - top) for s in z.tolist())) + top
        assert "max" in {v.op.name for v in autograd.topological_order(got) if v.op}
        got.backward()
        p = np.exp(z - top) / np.exp(z - top).sum()
        np.testing.assert_allclose([v.grad for v in scores], p, rtol=1e-12, atol=1e-15)
    assert nn.logsumexp(values([float("inf"), 1.0])).data == math.inf  # IEEE, as before
    assert nn.logsumexp(values([-math.inf, -math.inf])).data == -math.inf


def test_cross_entropy_takes_one_hot_rows_with_the_same_numbers_as_int_labels():
    Z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [30.0, -4.0, 29.5]])
    labels = [0, 2, 1]
    by_int, by_row = [values(row) for row in Z], [values(row) for row in Z]
    a = nn.cross_entropy(by_int, labels)
    b = nn.cross_entropy(by_row, np.eye(3)[labels])
    assert a.data == b.data
    a.backward()
    b.backward()
    np.testing.assert_allclose([[v.grad for v in r] for r in by_row],
                               [[v.grad for v in r] for r in by_int], rtol=1e-12, atol=1e-16)
    soft = nn.cross_entropy([values(Z[0])], [[0.25, 0.75, 0.0]])  # class probabilities
    logp = Z[0] - Z[0].max() - np.log(np.exp(Z[0] - Z[0].max()).sum())
    assert soft.data == pytest.approx(-(0.25 * logp[0] + 0.75 * logp[1]), rel=1e-14)
    with pytest.raises(ValueError, match="summing to 1"):
        nn.cross_entropy([values(Z[0])], [[0.5, 0.0, 0.0]])
    with pytest.raises(ValueError, match="rows of 3 class probabilities"):
        nn.cross_entropy([values(Z[0])], [[1.0, 0.0]])


@pytest.mark.parametrize("loss, outputs, targets", [
    (nn.mse, [[0.2, 0.9], [0.4, 0.1]], [[0.0, 1.0], [1.0, 0.0]]),
    (nn.hinge, [0.3, -2.0, 1.5], [1.0, -1.0, -1.0]),
    (nn.binary_cross_entropy, [0.9, 0.0, 1.0, 0.6], [1.0, 0.0, 0.0, 0.3]),  # 0.0 and 1.0: clamped
    (nn.binary_cross_entropy_with_logits, [0.0, -3.0, 40.0], [1.0, 0.0, 0.25]),
    (nn.cross_entropy, [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
])
def test_targets_may_be_values_with_the_same_numbers_and_gradients(loss, outputs, targets):
    """What nn.fit(compiled=True) traces: targets as Values (placeholders), no reads of them."""
    def run(as_values):
        outs = [values(o) if isinstance(o, list) else Value(o) for o in outputs]
        wants = [[Value(t, requires_grad=False) for t in row] if isinstance(row, list)
                 else Value(row, requires_grad=False) for row in targets] if as_values else targets
        value = loss(outs, wants)
        value.backward()
        return value.data, [[v.grad for v in o] if isinstance(o, list) else o.grad for o in outs]

    numbers, grads = run(False)
    assert run(True) == (numbers, grads)
    assert math.isfinite(numbers)


def test_clamped_binary_cross_entropy_sends_no_gradient_below_the_clamp():
    p = Value(0.0)
    loss = nn.binary_cross_entropy([p], [1.0])
    loss.backward()
    assert (loss.data, p.grad) == (100.0, 0.0)  # log clamped at -100 (as PyTorch), then flat: no nan


def test_cross_entropy_is_stable_for_huge_scores():
    loss = nn.cross_entropy([values([1000.0, 0.0, -1000.0])], [1])
    assert loss.data == pytest.approx(1000.0)


def test_hinge_and_l2():
    s, y = np.array([0.3, -2.0, 1.5, -0.2]), np.array([1, -1, -1, 1])
    out = values(s)
    loss = nn.hinge(out, y)
    assert loss.data == pytest.approx(np.mean(np.maximum(0, 1 - y * s)), rel=1e-15)
    p = values([0.5, -1.0, 2.0])
    penalty = nn.l2(p, 1e-2)
    assert penalty.data == pytest.approx(1e-2 * (0.25 + 1 + 4), rel=1e-15)
    penalty.backward()
    assert [v.grad for v in p] == pytest.approx([2e-2 * 0.5, -2e-2, 4e-2], rel=1e-15)


def test_clear_errors():
    with pytest.raises(ValueError, match="3 outputs but 2 targets"):
        nn.mse(values([1, 2, 3]), [1, 2])
    with pytest.raises(TypeError, match="numbers as targets"):
        nn.mse(values([1]), ["a"])
    with pytest.raises(TypeError, match="Values as outputs"):
        nn.mse([1.0], [1.0])
    with pytest.raises(ValueError, match="labels -1 or \\+1"):
        nn.hinge(values([0.5]), [0])
    with pytest.raises(ValueError, match="targets in \\[0, 1\\]"):
        nn.binary_cross_entropy(values([0.5]), [2])
    with pytest.raises(ValueError, match="int labels in 0..2"):
        nn.cross_entropy([values([1, 2, 3])], [3])
    with pytest.raises(TypeError, match=r"int labels, or rows of 3 class probabilities, got 0.5 \(float\)"):
        nn.cross_entropy([values([1, 2, 3])], [0.5])
    with pytest.raises(ValueError, match="at least one parameter"):
        nn.l2([], 0.1)


# ---- gradcheck: every loss on an MLP's parameters ------------------------------------------
def with_parameters(model, params, build):
    """Run build() with the model's parameters replaced by `params` (fresh leaves), then restore."""
    saved = model.parameters()
    neurons = [n for layer in model.layers for n in layer.neurons]
    it = iter(params)
    for n in neurons:
        n.w = [next(it) for _ in n.w]
        n.b = next(it)
    try:
        return build()
    finally:
        it = iter(saved)
        for n in neurons:
            n.w = [next(it) for _ in n.w]
            n.b = next(it)


CASES = {
    "mse": (1, "sigmoid", lambda outs: nn.mse(outs, [1.0, 0.0, 1.0])),
    "binary_cross_entropy": (1, "sigmoid", lambda outs: nn.binary_cross_entropy(outs, [1, 0, 1])),
    "binary_cross_entropy_with_logits": (1, "linear", lambda outs: nn.binary_cross_entropy_with_logits(outs, [1, 0, 1])),
    "cross_entropy": (3, "linear", lambda outs: nn.cross_entropy(outs, [2, 0, 1])),
    "hinge": (1, "linear", lambda outs: nn.hinge(outs, [1, -1, 1])),
    "hinge + l2": (1, "linear", None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradcheck_passes_on_mlp_parameters_for_each_loss(name):
    nout, out_act, loss = CASES[name]
    model = nn.MLP(2, [4, nout], activation="tanh", output_activation=out_act, init="xavier", seed=2)
    X = [[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8]]

    def f(*params):
        def build():
            outs = [model(x) for x in X]
            if loss is None:
                return nn.hinge(outs, [1, -1, 1]) + nn.l2(params, 1e-2)
            return loss(outs)
        return with_parameters(model, params, build)

    assert autograd.gradcheck(f, model.parameters(), fast_mode=True)
    assert autograd.gradcheck(f, model.parameters(), fast_mode=True, seed=1)


def test_binary_cross_entropy_refuses_outputs_that_are_not_probabilities():
    for p in (1.5, -0.2, math.nan):
        with pytest.raises(ValueError, match=r"needs probabilities in \[0, 1\] \(apply sigmoid, or "
                                             r"use binary_cross_entropy_with_logits\), got"):
            nn.binary_cross_entropy([Value(0.5), Value(p)], [1, 1])
    # the ends are probabilities (clamped logs); a traced placeholder is not read
    assert nn.binary_cross_entropy([Value(1.0), Value(0.0)], [1, 0]).data == 0.0
    program = autograd.compile(lambda p, y: nn.binary_cross_entropy([p], [y]), 0.25, 1.0)
    assert program([0.25], [1.0]).tolist() == pytest.approx([-math.log(0.25)], rel=1e-15)


def test_l2_and_cross_entropy_refuse_misuse_clearly():
    model = nn.MLP(2, [2, 1], seed=0)
    with pytest.raises(TypeError, match=r"pass model.parameters\(\)"):
        nn.l2(model, 1e-4)
    with pytest.raises(TypeError, match="alpha should be a number, got 'a'"):
        nn.l2(model.parameters(), "a")
    with pytest.raises(TypeError, match="alpha should be a number, got True"):
        nn.l2(model.parameters(), True)
    with pytest.raises(TypeError, match="l2\\(\\) needs Values .* got 0.5"):
        nn.l2([0.5, Value(1.0)], 0.1)
    with pytest.raises(TypeError, match=r"int labels, or rows of 3 class probabilities, got True \(bool\)"):
        nn.cross_entropy([values([1, 2, 3])], [True])
    with pytest.raises(TypeError, match=r"got False \(bool\)"):
        nn.cross_entropy([values([1, 2])], np.array([False]))


# ---- the Loss type: a function and what training reads about it --------------------------------
def test_every_nn_loss_is_a_loss_that_says_how_its_outputs_read():
    expected = {"mse": (0.5, False), "binary_cross_entropy": (0.5, False),
                "binary_cross_entropy_with_logits": (0.0, False), "hinge": (0.0, False),
                "cross_entropy": (None, True)}
    for name, (threshold, one_hot) in expected.items():
        loss = getattr(nn, name)
        assert isinstance(loss, nn.Loss)
        assert (loss.threshold, loss.one_hot) == (threshold, one_hot), name
        assert loss.__name__ == name and loss.__doc__.strip()
    # called like the function it holds
    outs = values([0.5, -0.25])
    assert nn.hinge(outs, [1, -1]).data == nn.hinge.function(outs, [1, -1]).data == 0.625


def test_a_plain_function_is_a_loss_with_nothing_declared():
    def halved(outputs, targets):
        return nn.mse(outputs, targets) * 0.5

    loss = nn.Loss.of(halved)
    assert (loss.threshold, loss.one_hot, loss.function) == (None, False, halved)
    assert nn.Loss.of(nn.hinge) is nn.hinge
    declared = nn.Loss(halved, threshold=0.0)
    assert repr(declared) == "nn.Loss(halved, threshold=0.0)"
    assert nn.Loss(nn.mse, threshold=0.0).function is nn.mse.function  # other fields, same function
    scores = values([0.3, -0.3])
    assert nn.accuracy(scores, [1, 0], loss=declared) == 1.0  # above 0 is positive
    assert nn.accuracy(scores, [1, 0], loss=halved) == 0.5  # read from 0/1 targets: above 0.5


def test_loss_refuses_misuse_and_attributes_hung_on_functions():
    def old_style(outputs, targets):
        return nn.hinge(outputs, targets)

    old_style.threshold = 0.0  # how losses used to talk to training: refused, not ignored
    with pytest.raises(TypeError, match=r"no longer reads attributes .*\(threshold\).*"
                                        r"nn\.Loss\(f, threshold=0\.0\)"):
        nn.Loss.of(old_style)
    with pytest.raises(TypeError, match="needs a function of"):
        nn.Loss("mse")
    with pytest.raises(TypeError, match="threshold=...\\) should be a number or None, got '0'"):
        nn.Loss(old_style, threshold="0")
    with pytest.raises(TypeError, match="one_hot=...\\) should be True or False, got 1"):
        nn.Loss(old_style, one_hot=1)
