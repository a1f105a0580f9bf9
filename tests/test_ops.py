"""Every op's local derivatives against numbers computed independently of the engine, and the
partials contract for every record of the table.

Smooth ops are checked against the complex-step derivative Im f(x + ih) / h of a reference
written here with `cmath` (exact to rounding); relu, abs and max against their closed forms. The
engine is reached only through its public API, and each case asserts which op it built, so an
op added to the table without a reference here fails `test_every_op_has_a_reference`. The
contract test runs over `sorted(OPS)`, so a new record is covered without a line here.
"""
import cmath
import math
import re

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import autograd
from autograd import OPS, Value
from autograd.ops import Call, Op
from autograd.testing import PartialsError, check_partials, op_inputs, swapped_partials

H = 1e-30  # complex step


def sigmoid(z):
    return 1 / (1 + cmath.exp(-z))


# name: (build on Values, reference on complex numbers, input ranges)
POS = (0.2, 5.0)
ANY = (-4.0, 4.0)
CASES = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [ANY, ANY]),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, [ANY, ANY]),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, [ANY, ANY]),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [ANY, POS]),
    "neg": (lambda a: -a, lambda a: -a, [ANY]),
    "pow": (lambda a: a ** 2.5, lambda a: cmath.exp(2.5 * cmath.log(a)), [POS]),
    "powv": (lambda a, b: a ** b, lambda a, b: cmath.exp(b * cmath.log(a)), [POS, ANY]),
    "exp": (lambda a: a.exp(), cmath.exp, [ANY]),
    "log": (lambda a: a.log(), cmath.log, [POS]),
    "tanh": (lambda a: a.tanh(), cmath.tanh, [ANY]),
    "sigmoid": (lambda a: a.sigmoid(), sigmoid, [ANY]),
    "sqrt": (lambda a: a.sqrt(), cmath.sqrt, [POS]),
    "sin": (lambda a: a.sin(), cmath.sin, [ANY]),
    "cos": (lambda a: a.cos(), cmath.cos, [ANY]),
    "sum": (lambda *xs: autograd.sum(xs), lambda *xs: sum(xs), [ANY] * 4),
    "dot": (
        lambda w1, w2, x1, x2, b: autograd.dot([w1, w2], [x1, x2], b),
        lambda w1, w2, x1, x2, b: w1 * x1 + w2 * x2 + b,
        [ANY] * 5,
    ),
}
# Not analytic at their kink: closed forms (PyTorch's subgradient 0 at the kink).
KINKED = {
    "relu": (lambda a: a.relu(), lambda a: max(a, 0.0), lambda a: 1.0 if a > 0 else 0.0),
    "abs": (abs, abs, lambda a: 1.0 if a > 0 else -1.0 if a < 0 else 0.0),
}


NARY_KINKED = {"max"}  # tested below against Python's max and list.index


def test_every_op_has_a_reference():
    assert set(CASES) | set(KINKED) | NARY_KINKED == set(OPS)


def points(ranges):
    return st.tuples(*[st.floats(lo, hi) for lo, hi in ranges])


def complex_step_gradient(reference, xs):
    grads = []
    for i in range(len(xs)):
        shifted = [complex(x) for x in xs]
        shifted[i] += 1j * H
        grads.append(reference(*shifted).imag / H)
    return grads


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_partials_match_complex_step(name, data):
    build, reference, ranges = CASES[name]
    xs = data.draw(points(ranges))
    leaves = [Value(x) for x in xs]
    out = build(*leaves)
    assert out.op.name == name
    assert out.data == pytest.approx(reference(*xs).real, rel=1e-12, abs=1e-12)
    out.backward()
    expected = complex_step_gradient(reference, xs)
    for leaf, want in zip(leaves, expected):
        assert leaf.grad == pytest.approx(want, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", sorted(KINKED))
@given(a=st.floats(-5, 5) | st.just(0.0))
def test_kinked_ops_match_closed_form(name, a):
    build, forward, slope = KINKED[name]
    x = Value(a)
    out = build(x)
    assert out.op.name == name
    assert out.data == forward(a)
    out.backward()
    assert x.grad == slope(a)


# Few distinct numbers, so that ties (where the first largest input takes the gradient) are common.
TIED = st.lists(st.sampled_from([-1.5, 0.0, 0.25, 2.0]) | st.floats(-5, 5), min_size=1, max_size=6)


@given(TIED)
def test_max_matches_closed_form_and_gives_the_first_largest_the_gradient(xs):
    leaves = [Value(x) for x in xs]
    out = autograd.max(leaves)
    assert out.op.name == "max"
    assert out.data == max(xs)
    (out * 3.0).backward()
    first = xs.index(max(xs))  # list.index: the first position holding the largest number
    assert [leaf.grad for leaf in leaves] == [3.0 if i == first else 0.0 for i in range(len(xs))]
    again = [Value(x) for x in xs]
    (autograd.max(again) * 3.0).backward(create_graph=True)
    assert [v.grad.data for v in again] == [leaf.grad for leaf in leaves]


def test_max_of_numbers_and_nan_and_misuse():
    x = Value(-1.0)
    out = autograd.max([x, 0.5, -2])  # numbers become constants
    assert out.data == 0.5 and out.parents[1].requires_grad is False
    out.backward()
    assert x.grad == 0.0
    nan = autograd.max([Value(1.0), Value(float("nan")), Value(2.0)])
    assert math.isnan(nan.data)  # nan propagates, as np.maximum and torch.max
    with pytest.raises(ValueError, match="at least one value"):
        autograd.max([])
    with pytest.raises(TypeError, match="max\\(\\) needs Values or real numbers"):
        autograd.max([Value(1.0), "2"])


def test_gradcheck_names_a_tie_of_max_as_a_kink():
    assert autograd.gradcheck(lambda a, b: autograd.max([a, b]), [1.0, 1.5])
    with pytest.raises(autograd.GradcheckError, match="kink"):
        autograd.gradcheck(lambda a, b: autograd.max([a, b]), [1.0, 1.0])


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_grads_as_values_equal_grads_as_floats(name, data):
    """create_graph=True evaluates the same partials on Values: the numbers agree exactly."""
    build, _, ranges = CASES[name]
    xs = data.draw(points(ranges))
    floats = [Value(x) for x in xs]
    build(*floats).backward()
    values = [Value(x) for x in xs]
    build(*values).backward(create_graph=True)
    for f, v in zip(floats, values):
        grad = v.grad.data if isinstance(v.grad, Value) else v.grad
        assert grad == f.grad


SECOND = {  # second derivatives in closed form
    "exp": (lambda a: a.exp(), math.exp),
    "log": (lambda a: a.log(), lambda a: -1 / a**2),
    "tanh": (lambda a: a.tanh(), lambda a: -2 * math.tanh(a) * (1 - math.tanh(a) ** 2)),
    "sigmoid": (
        lambda a: a.sigmoid(),
        lambda a: (s := 1 / (1 + math.exp(-a))) * (1 - s) * (1 - 2 * s),
    ),
    "sqrt": (lambda a: a.sqrt(), lambda a: -0.25 * a**-1.5),
    "sin": (lambda a: a.sin(), lambda a: -math.sin(a)),
    "cos": (lambda a: a.cos(), lambda a: -math.cos(a)),
    "pow": (lambda a: a ** 3, lambda a: 6 * a),
    "powv": (lambda a: a ** Value(2.5), lambda a: 2.5 * 1.5 * a**0.5),
    "div": (lambda a: 1 / a, lambda a: 2 / a**3),
}


@pytest.mark.parametrize("name", sorted(SECOND))
@given(a=st.floats(0.3, 3.0))
def test_second_derivatives(name, a):
    build, second = SECOND[name]
    assert autograd.grad(autograd.grad(build))(a) == pytest.approx(second(a), rel=1e-9)


@given(a=st.floats(0.3, 3.0))
def test_the_mixed_second_derivative_of_a_power_at_exponent_zero(a):
    # d/db (d(a**b)/da) = a**(b-1)·(1 + b·ln a): 1/a at b = 0, where d/da itself is 0.
    x, y = Value(a), Value(0.0)
    (da,) = autograd.gradients(x ** y, [x], create_graph=True)
    assert autograd.gradients(da, [y]) == [pytest.approx(1 / a, rel=1e-12)]


def test_domains_and_kinks_are_declared():
    assert not OPS["log"].defined_at(0.0) and OPS["log"].defined_at(1.0)
    assert not OPS["relu"].defined_at(0.0) and OPS["relu"].defined_at(0.5)
    assert not OPS["div"].defined_at(1.0, 0.0)
    assert OPS["pow"].defined_at(-2.0, 3.0) and not OPS["pow"].defined_at(-2.0, 0.5)
    assert OPS["max"].defined_at(1.0, 2.0, -3.0) and OPS["max"].defined_at(4.0)
    assert not OPS["max"].defined_at(2.0, 1.0, 2.0)  # a tie for the largest: a kink
    assert not OPS["max"].defined_at(1.0, float("nan"))
    assert OPS["max"].kink_distance(1.0, 2.5, -3.0) == 1.5
    for op in OPS.values():
        assert op.formula and op.symbol and op.name
        assert op.expression(*"abcde"[: op.arity or 3])


def test_input_names_and_the_dot_layout():
    """One place says what each input is called and how dot's inputs are laid out."""
    assert OPS["dot"].input_names(5) == ["w0", "w1", "x0", "x1", "b"]  # from 0, as nn's w.0
    assert OPS["dot"].input_names(4) == ["w0", "w1", "x0", "x1"]
    assert OPS["pow"].input_names(2) == ["a", "n"] and OPS["div"].input_names(2) == ["a", "b"]
    assert OPS["sum"].input_names(3) == ["a1", "a2", "a3"] and OPS["exp"].input_names(1) == ["a"]
    from autograd.ops import split_dot

    assert split_dot((1, 2, 3, 4, 5)) == ((1, 2), (3, 4), (5,))
    assert split_dot([1, 2, 3, 4]) == ([1, 2], [3, 4], [])


# ---- the partials contract (autograd/ops.py), for every record ------------------------------------
def keeps_the_contract(name, point):
    """The contract test's check: floats, numpy float64, 1-D arrays and Values give the same
    partials; on Values each partial that moves with an input is built from it; gradgradcheck."""
    assert check_partials(name, point)


@pytest.mark.parametrize("name", sorted(OPS))
@settings(deadline=None)
@given(data=st.data())
def test_every_op_keeps_the_partials_contract(name, data):
    keeps_the_contract(name, data.draw(op_inputs(name), label="point"))


# Partials with the right numbers that make a float of a Value (math.* or float() on an input):
# first derivatives stay right, second derivatives are lost.
FLOAT_OF_A_VALUE = [
    ("exp", lambda out, a: (math.exp(a),)),
    ("sin", lambda out, a: (math.cos(a),)),
    ("log", lambda out, a: (1 / float(a),)),
    ("tanh", lambda out, a: (1 - math.tanh(a) ** 2,)),
    ("mul", lambda out, a, b: (float(b), a)),
]


@pytest.mark.parametrize("name, planted", FLOAT_OF_A_VALUE, ids=[n for n, _ in FLOAT_OF_A_VALUE])
@settings(deadline=None)
@given(data=st.data())
def test_a_partial_that_makes_a_float_of_a_value_fails_the_contract_every_time(name, planted, data):
    point = data.draw(op_inputs(name), label="point")
    with swapped_partials(name, planted):
        with pytest.raises(PartialsError, match="is a float"):
            keeps_the_contract(name, point)


def test_the_contract_catches_what_gradgradcheck_cannot_see():
    # At 0, sin's second derivative is -sin(0) = 0, which a constant partial also gives:
    # gradgradcheck passes, and the contract still finds the float.
    with swapped_partials("sin", lambda out, a: (math.cos(a),)):
        assert autograd.gradgradcheck(autograd.sin, [0.0])
        with pytest.raises(PartialsError) as info:
            check_partials("sin", [0.0])
    assert info.value.problems == [info.value.problems[0]] and "is a float" in info.value.problems[0]


def test_a_new_record_with_a_math_partial_fails_on_arrays_and_on_values():
    planted = Op("exp2", "exp2", Call(1), math.exp, lambda out, a: (math.exp(a),), np.exp, ("exp(a)",))
    with pytest.raises(PartialsError) as info:
        check_partials(planted, [0.5])
    problems = " ".join(info.value.problems)
    assert "on 1-D arrays, the partials raise TypeError" in problems and "is a float" in problems


@pytest.mark.parametrize("call, error, words", [
    (lambda: check_partials("log", [-1.0]), ValueError, "not defined and smooth at [-1.0] (a > 0)"),
    (lambda: check_partials("relu", [0.0]), ValueError, "not defined and smooth"),
    (lambda: check_partials("mul", [1.0]), ValueError, "takes 2 inputs, got 1"),
    (lambda: check_partials("exp", 0.5), TypeError, "needs a sequence of numbers"),
    (lambda: check_partials("exp", [math.nan]), ValueError, "needs a finite number"),
    (lambda: check_partials("tan", [0.5]), ValueError, "unknown op 'tan'"),
])
def test_check_partials_misuse(call, error, words):
    with pytest.raises(error, match=re.escape(words)):
        call()


# ---- edge conventions: PyTorch's, in numbers IEEE 754 fixes (written here) ---------------------
NAN, INF = math.nan, math.inf
EDGES = (NAN, -0.0, 0.0, INF, -INF, -4.0, 4.0, 2.0, 1e-300)


def same_bits(a: float, b: float) -> bool:
    """The same float, the sign of a zero included; a nan is a nan."""
    return (a != a and b != b) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))


def forward_and_slope(build, a: float, upstream: float = 1.0) -> tuple[float, float]:
    x = Value(a)
    y = build(x)
    y.backward(upstream)
    return y.data, x.grad


@pytest.mark.parametrize("a, slope", [(NAN, 1.0), (INF, 1.0), (2.0, 1.0), (0.0, 0.0), (-0.0, 0.0),
                                      (-1.0, 0.0), (-INF, 0.0)])
def test_relu_slope_is_the_slope_of_the_branch_it_takes(a, slope):
    # relu(a) is 0 where a <= 0 and a elsewhere, nan included (nan <= 0 is false): its slope is
    # 0 or 1 accordingly, so relu'(nan) = 1 and the upstream gradient passes, as in PyTorch.
    out, grad = forward_and_slope(lambda x: x.relu(), a, upstream=3.0)
    assert same_bits(out, a if a == a and a > 0 else (NAN if a != a else 0.0))
    assert grad == 3.0 * slope
    x = Value(a)  # the same slope as a Value (create_graph) ...
    x.relu().backward(create_graph=True)
    assert x.grad.data == slope
    (on_arrays,) = OPS["relu"].array_grads(OPS["relu"].numpy(np.array([a])), np.array([a]))
    assert on_arrays.tolist() == [slope]  # ... and on arrays (compiled programs)


@pytest.mark.parametrize("a, value, slope", [
    (-0.0, -0.0, -INF),  # sqrt(-0) = -0 (IEEE 754 keeps the sign), and 0.5 / -0 = -inf
    (0.0, 0.0, INF),
    (4.0, 2.0, 0.25),
    (INF, INF, 0.0),
    (-INF, NAN, NAN),  # the square root of a negative number (pow(-inf, 0.5) would be +inf)
    (-4.0, NAN, NAN),
    (NAN, NAN, NAN),
])
def test_x_to_the_half_is_sqrt_as_in_pytorch(a, value, slope):
    for build in (lambda x: x**0.5, lambda x: x.sqrt(), lambda x: autograd.sqrt(x)):
        out, grad = forward_and_slope(build, a)
        assert same_bits(out, value) and same_bits(grad, slope)
    with np.errstate(invalid="ignore"):  # compiled programs: the arrays' form
        out = OPS["pow"].numpy(np.array([a]), 0.5)
    (grad,) = OPS["pow"].array_grads(out, np.array([a]), 0.5)
    assert same_bits(out[0], value) and same_bits(grad[0], slope)


@given(st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(EDGES))
def test_x_to_the_half_and_sqrt_agree_bit_for_bit(a):
    # As x*x, x**2 and x**2.0 do: the same function written two ways gives the same bits, and
    # so does its second derivative.
    half, root = forward_and_slope(lambda x: x**0.5, a), forward_and_slope(autograd.sqrt, a)
    assert same_bits(half[0], root[0]) and same_bits(half[1], root[1])
    if 0.01 < a < 1e300:
        second = autograd.grad(autograd.grad(lambda x: x**0.5))(a)
        assert second == autograd.grad(autograd.grad(autograd.sqrt))(a)
        assert second == pytest.approx(-0.25 * a**-1.5, rel=1e-12)


def test_the_edge_conventions_are_pytorchs():
    torch = pytest.importorskip("torch")

    def theirs(function, a):
        t = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        y = function(t)
        y.backward()
        return y.item(), t.grad.item()

    for a in EDGES:
        ours, pytorch = forward_and_slope(lambda x: x**0.5, a), theirs(lambda t: t**0.5, a)
        assert same_bits(ours[0], pytorch[0]) and same_bits(ours[1], pytorch[1]), a
        ours, pytorch = forward_and_slope(lambda x: x.relu(), a), theirs(torch.relu, a)
        assert ours[0] == pytorch[0] or ours[0] != ours[0] and pytorch[0] != pytorch[0], a
        assert same_bits(ours[1], pytorch[1]), a  # relu(-0.0) is 0.0 here, -0.0 in PyTorch
