"""Property tests: random expressions through gradcheck, a state machine against forward-mode
dual numbers, and the conventions gradients follow at awkward points.

The dual numbers below carry (value, derivative) through each op with derivatives written
here from calculus, so the state machine compares the engine's reverse mode with an
independent forward mode. Nothing here reads `Op.partials`.
"""
import math

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, multiple, precondition, rule

import autograd
from autograd import OPS, Value, gradcheck, gradgradcheck
from autograd.testing import expressions, finite_floats, mlp_cases, swapped_partials, values

slow = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
# One test per op: a third of the profile's examples each (the mixed test gets them all).
per_op = settings(slow, max_examples=max(10, settings.default.max_examples // 3))


# ---- every op of the table, through random expressions ---------------------------------------------
@pytest.mark.parametrize("name", sorted(OPS))
@per_op
@given(data=st.data())
def test_every_op_passes_gradcheck_in_random_expressions(name, data):
    expr = data.draw(expressions(n_inputs=2, max_ops=4, ops=[name]), label="expression")
    assert set(expr.op_names) == {name}  # the op under test really is in the expression
    assert gradcheck(expr, expr.inputs)


@slow
@given(expressions(n_inputs=3, max_ops=8))
def test_mixed_expressions_pass_gradcheck(expr):
    assert gradcheck(expr, expr.inputs)


@slow
@given(expressions(n_inputs=2, max_ops=4))
def test_mixed_expressions_pass_gradgradcheck(expr):
    assert gradgradcheck(expr, expr.inputs)


@given(expressions(n_inputs=3, max_ops=8))
def test_an_expression_gives_the_same_bits_on_floats_and_on_values(expr):
    on_floats = expr(*expr.inputs)
    on_values = expr(*[Value(x) for x in expr.inputs])
    assert isinstance(on_floats, float) and isinstance(on_values, Value)
    assert on_values.data.hex() == on_floats.hex()


@given(expressions(n_inputs=3, max_ops=8))
def test_backward_and_gradients_give_the_same_bits_for_every_node(expr):
    """backward()'s loop (grads in the nodes) and gradients()'s (grads in a dict of its own) are
    spelled out twice for speed (autograd/value.py): they must agree bit for bit."""
    inputs = [Value(x) for x in expr.inputs]
    root = expr(*inputs)
    order = autograd.topological_order(root)
    pure = autograd.gradients(root, order)
    assert all(v.grad is None for v in order)  # gradients() wrote no .grad
    root.backward()
    assert [v.grad.hex() if v.requires_grad else None for v in order] == \
           [g.hex() if v.requires_grad else None for v, g in zip(order, pure)]


@slow
@given(mlp_cases())
def test_fast_mode_checks_random_networks(case):
    assert gradcheck(case, case.parameters, fast_mode=True)


# ---- a wrong derivative is caught, and shrunk to one op ----------------------------------------------
def test_a_wrong_derivative_shrinks_to_a_one_op_expression():
    def fails(expr):
        return not gradcheck(expr, expr.inputs, raise_exception=False)

    with swapped_partials("tanh", lambda out, a: (1 - out,)):  # the truth is 1 - out²
        smallest = find(expressions(n_inputs=2, max_ops=6), fails,
                        settings=settings(max_examples=2000, database=None, derandomize=True))
        report = None
        try:
            gradcheck(smallest, smallest.inputs)
        except autograd.GradcheckError as error:
            report = str(error)
    assert smallest.op_names == ("tanh",)
    (j,) = smallest.steps[0].operands  # tanh of an input (which one depends on the search)
    assert str(smallest).splitlines()[-1] == f"out = tanh(x{j})"
    x = smallest.inputs[j]
    assert report.splitlines()[1].startswith(f"output 0 wrt input {j} (x={x:.6g}): analytical=")
    t = math.tanh(x)
    assert abs(t - t * t) > 1e-5  # where the wrong rule 1 - t and the right 1 - t² differ


# ---- the state machine: reverse mode against forward-mode dual numbers ------------------------------
def _sigmoid(a):
    return 1 / (1 + math.exp(-a)) if a > -700 else math.exp(a)


# name: (value, derivative) of the op at a, written from calculus
UNARY = {
    "neg": lambda a: (-a, -1.0),
    "exp": lambda a: (math.exp(a), math.exp(a)),
    "log": lambda a: (math.log(a), 1 / a),
    "tanh": lambda a: (math.tanh(a), 1 / math.cosh(a) ** 2),
    "sigmoid": lambda a: (_sigmoid(a), _sigmoid(a) * _sigmoid(-a)),
    "relu": lambda a: (max(a, 0.0), 1.0 if a > 0 else 0.0),  # PyTorch: relu'(0) = 0
    "abs": lambda a: (abs(a), 1.0 if a > 0 else -1.0 if a < 0 else 0.0),  # abs'(0) = 0
    "sqrt": lambda a: (math.sqrt(a), 0.5 / math.sqrt(a)),
    "sin": lambda a: (math.sin(a), math.cos(a)),
    "cos": lambda a: (math.cos(a), -math.sin(a)),
}
# name: (value, d/da, d/db)
BINARY = {
    "add": lambda a, b: (a + b, 1.0, 1.0),
    "sub": lambda a, b: (a - b, 1.0, -1.0),
    "mul": lambda a, b: (a * b, b, a),
    "div": lambda a, b: (a / b, 1 / b, -a / (b * b)),
    "powv": lambda a, b: (a ** b, b * a ** (b - 1), a ** b * math.log(a)),
}
BUILD = {
    "neg": lambda a: -a, "add": lambda a, b: a + b, "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b, "div": lambda a, b: a / b, "powv": lambda a, b: a ** b,
}


class Node:
    """A Value, the value the reference computed, and its derivatives: leaf index -> d/dleaf."""

    def __init__(self, value, reference, tangent):
        self.value, self.reference, self.tangent = value, reference, tangent


def _combine(pairs):
    """Σ slope · tangent over (slope, tangent) pairs: the chain rule in forward mode."""
    tangent = {}
    for slope, t in pairs:
        for leaf, d in t.items():
            tangent[leaf] = tangent.get(leaf, 0.0) + slope * d
    return tangent


def _calculus(rule, *args):
    """The reference's (value, slopes...), or None where Python's float maths raises."""
    try:
        return rule(*args)
    except (ArithmeticError, ValueError):
        return None


def _usable(reference, tangent, slopes):
    # Huge local slopes (x/x at x = 1e-52) cancel to different roundings in either mode.
    return math.isfinite(reference) and abs(reference) < 1e4 and all(
        math.isfinite(d) and abs(d) < 1e6 for d in (*tangent.values(), *slopes))


def _in_domain(name, *args):
    domain = OPS[name].domain
    return domain is None or domain(*args)


def _node(build, reference, parts):
    """A new node for the bundle from (local slope, operand tangent) `parts`, or nothing where
    the numbers leave the comfortable range."""
    tangent = _combine(parts)
    slopes = [slope for slope, _ in parts]
    return Node(build(), reference, tangent) if _usable(reference, tangent, slopes) else multiple()


class GraphMachine(RuleBasedStateMachine):
    """Builds a random graph, with fan-out, and checks every leaf's gradient of any node."""

    nodes = Bundle("nodes")

    def __init__(self):
        super().__init__()
        self.leaves = []

    @rule(target=nodes, x=finite_floats(-2.0, 2.0, margin=0.0))
    def leaf(self, x):
        value = Value(x, f"x{len(self.leaves)}")
        self.leaves.append(value)
        return Node(value, x, {len(self.leaves) - 1: 1.0})

    @rule(target=nodes, name=st.sampled_from(sorted(UNARY)), a=nodes)
    def unary(self, name, a):
        calculus = _calculus(UNARY[name], a.reference)
        if not _in_domain(name, a.reference) or not calculus:
            return multiple()  # kinks are fine here: no finite differences involved
        reference, slope = calculus
        build = BUILD.get(name) or getattr(autograd, name)
        return _node(lambda: build(a.value), reference, [(slope, a.tangent)])

    @rule(target=nodes, name=st.sampled_from(sorted(BINARY)), a=nodes, b=nodes)
    def binary(self, name, a, b):
        calculus = _calculus(BINARY[name], a.reference, b.reference)
        if not _in_domain(name, a.reference, b.reference) or not calculus:
            return multiple()
        reference, da, db = calculus
        parts = [(da, a.tangent), (db, b.tangent)]
        return _node(lambda: BUILD[name](a.value, b.value), reference, parts)

    @rule(target=nodes, a=nodes, n=st.sampled_from([2.0, 3.0, -1.0, 0.5, 0.0]))
    def power(self, a, n):
        calculus = _calculus(lambda a: (
            a * a if n == 2 else a ** n,
            n * a ** (n - 1) if n != 0 else 0.0,  # d(a**0)/da = 0, as PyTorch
        ), a.reference)
        if not _in_domain("pow", a.reference, n) or not calculus:
            return multiple()
        reference, slope = calculus
        return _node(lambda: a.value ** n, reference, [(slope, a.tangent)])

    @rule(target=nodes, terms=st.lists(nodes, min_size=1, max_size=4))
    def total(self, terms):
        reference = math.fsum(t.reference for t in terms)
        parts = [(1.0, t.tangent) for t in terms]
        return _node(lambda: autograd.sum([t.value for t in terms]), reference, parts)

    @rule(target=nodes, pairs=st.lists(st.tuples(nodes, nodes), min_size=1, max_size=3),
          bias=st.one_of(st.none(), nodes))
    def neuron(self, pairs, bias):
        w, x = [p[0].value for p in pairs], [p[1].value for p in pairs]
        parts = [(xi.reference, wi.tangent) for wi, xi in pairs]
        parts += [(wi.reference, xi.tangent) for wi, xi in pairs]
        terms = [wi.reference * xi.reference for wi, xi in pairs]
        if bias is not None:
            parts.append((1.0, bias.tangent))
            terms.append(bias.reference)
        b = None if bias is None else bias.value
        return _node(lambda: autograd.dot(w, x, b), math.fsum(terms), parts)

    @precondition(lambda self: self.leaves)
    @rule(root=nodes)
    def gradients_match_forward_mode(self, root):
        assert math.isclose(root.value.data, root.reference, rel_tol=1e-12, abs_tol=1e-12)
        for leaf in self.leaves:
            leaf.grad = None
        root.value.backward()
        on_values = autograd.gradients(root.value, self.leaves, create_graph=True)
        for k, leaf in enumerate(self.leaves):
            expected = root.tangent.get(k, 0.0)
            got = 0.0 if leaf.grad is None else leaf.grad
            assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9), (k, got, expected)
            second = on_values[k].data if isinstance(on_values[k], Value) else on_values[k]
            assert math.isclose(second, expected, rel_tol=1e-9, abs_tol=1e-9), (k, second, expected)


GraphMachine.TestCase.settings = settings(deadline=None, stateful_step_count=30)
test_the_engine_agrees_with_forward_mode = GraphMachine.TestCase


# ---- conventions, pinned --------------------------------------------------------------------------
def test_relu_at_zero_takes_the_subgradient_zero_and_gradcheck_names_the_kink():
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0
    with pytest.raises(autograd.GradcheckError, match="kink"):
        gradcheck(autograd.relu, [0.0])


@given(values(-2.0, 2.0))
def test_backward_twice_adds_the_checked_gradient_again(x):
    def f(v):
        return (v.sin() * 3.0).tanh()  # one path to v, so one contribution per pass

    assert gradcheck(f, [x])
    out = f(x)
    out.backward()
    once = x.grad
    assert once == pytest.approx(3 * math.cos(x.data) * (1 - math.tanh(3 * math.sin(x.data)) ** 2))
    out.backward()
    assert x.grad == 2 * once  # leaves accumulate: the same contribution again, exactly


@given(finite_floats(-2.0, 2.0))
def test_fan_out_sums_every_path(a):
    x = Value(a)
    shared = x.tanh()  # used three times
    out = shared * shared + shared
    out.backward()
    t = math.tanh(a)
    assert x.grad == pytest.approx((2 * t + 1) * (1 - t * t), rel=1e-12, abs=1e-15)
    assert gradcheck(lambda v: v.tanh() * v.tanh() + v.tanh(), [a])


def test_zero_to_the_zero_is_one_with_zero_gradients():
    x = Value(0.0)
    y = x ** 0
    y.backward()
    assert (y.data, x.grad) == (1.0, 0.0)
    a, b = Value(0.0), Value(0.0)
    z = a ** b  # both carry gradients: PyTorch gives 0 for each at 0**0
    z.backward()
    assert (z.data, a.grad, b.grad) == (1.0, 0.0, 0.0)


@pytest.mark.parametrize("build, x", [
    (autograd.tanh, 30.0), (autograd.tanh, -30.0),
    (autograd.sigmoid, 800.0), (autograd.sigmoid, -800.0),
])
def test_saturated_ops_give_zero_gradients_not_nan(build, x):
    v = Value(x)
    build(v).backward()
    assert v.grad == 0.0
    assert gradcheck(build, [x])  # finite differences agree: the curve is flat to the last bit
