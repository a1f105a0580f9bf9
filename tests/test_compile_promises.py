"""What `autograd.compile` promises, held to it (issue 16, item 2).

- A parameter's number read while tracing (`w.detach()`, `Value(w.data)`, a result made under
  `no_grad()`), even when the parameter is used only that way, is refused with a TracingError
  naming it: by `compile` and by `nn.fit(compiled=True)`, before any weight moves.
- A Python decision on an intermediate number is refused as it happens, whatever branch the
  example and the check inputs take: every form of reading a number (.data, float(), a
  comparison, an index, Python's max and sorted, numpy) raises.
- Compiled sums and dot products round after each addition where eager ones round once
  (math.fsum): each compiled node is within the README's bound of its op applied, correctly
  rounded, to its compiled inputs; outputs and gradients against eager within the bound that
  follows, on random programs (`autograd.testing.expressions`).
"""
import math
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import TracingError, Value
from autograd.ops import Variadic, WeightedSum, split_dot
from autograd.testing import expressions

from tests.compile_cases import with_parameters


def _under_no_grad(make):
    with autograd.no_grad():
        return make()


FROZEN = {  # a parameter's number copied into a constant, three ways
    "detach": lambda w: w.detach(),
    "Value(w.data)": lambda w: Value(w.data, "copy", requires_grad=False),
    "no_grad": lambda w: _under_no_grad(lambda: w * 2.0),
}
REFUSAL = {
    "detach": r"parameter 'w' through \.data",
    "Value(w.data)": r"parameter 'w' through \.data",
    "no_grad": r"mul of the parameter 'w' under no_grad\(\)",
}


# ---- a parameter's number -------------------------------------------------------------------
@pytest.mark.parametrize("also_used_directly", [False, True])
@pytest.mark.parametrize("form", sorted(FROZEN))
def test_compile_refuses_a_parameter_frozen_into_a_constant(form, also_used_directly):
    w, b = Value(2.0, "w"), Value(0.5, "b")

    def f(x):
        out = FROZEN[form](w) * x + b * x
        return out + w * x if also_used_directly else out

    with pytest.raises(TracingError, match=REFUSAL[form]):
        autograd.compile(f, 1.0)
    assert (w.data, b.data) == (2.0, 0.5)
    # the documented escape: check_trace=False keeps the compile-time number
    frozen = autograd.compile(f, 1.0, check_trace=False)
    w.data = 5.0
    copied = 4.0 if form == "no_grad" else 2.0
    np.testing.assert_allclose(frozen(np.array([1.0])),
                               [copied + 0.5 + (5.0 if also_used_directly else 0.0)])


@pytest.mark.parametrize("form", sorted(FROZEN))
def test_fit_compiled_refuses_a_parameter_frozen_into_a_constant_before_any_step(form):
    w, b = Value(2.0, "w"), Value(0.5, "b")

    def model(x):
        return FROZEN[form](w) * x[0] + b * x[1]

    X = np.random.default_rng(0).normal(size=(12, 2))
    y = X[:, 0] - X[:, 1]
    optimizer = nn.SGD([w, b], lr=0.1)
    with pytest.raises(TracingError, match=REFUSAL[form]):
        nn.fit(model, X, y, nn.mse, optimizer, epochs=2, batch_size=4, progress=False,
               compiled=True)
    assert (w.data, b.data) == (2.0, 0.5) and optimizer.steps == 0
    # eager training recomputes the constant every step: the model trains b (w gets no grad)
    nn.fit(model, X, y, nn.mse, nn.SGD([w, b], lr=0.1), epochs=2, batch_size=4, progress=False)
    assert w.data == 2.0 and b.data != 0.5


def test_a_decision_on_a_parameter_number_is_refused_whatever_the_branch():
    w = Value(2.0, "w")
    for threshold in (1.0, 3.0):  # either branch at compile time
        with pytest.raises(TracingError, match=r"parameter 'w' through \.data"):
            autograd.compile(lambda x: (w * x).exp() if w.data <= threshold else (w * x).tanh(), 1.0)
    with pytest.raises(TracingError, match=r"a mul node, computed from the parameter 'w'"):
        autograd.compile(lambda x: x if (w * 2.0).data > 0 else -x, 1.0)


# ---- decisions on intermediate numbers -----------------------------------------------------
DECISIONS = {  # h = w·x (w = 1, x = 1 at compile time), g = x - 3: each reads a number
    ".data": lambda h, g: h if h.data > 0 else h * 0,
    "float()": lambda h, g: h.tanh() if float(h) > 0 else h.exp(),
    "comparison": lambda h, g: h if h > 0 else -h,
    "reflected comparison": lambda h, g: h if 0 < h else -h,
    "==": lambda h, g: h * 2 if h == 1.0 else h,
    "bool of the number": lambda h, g: h if h.data else g,
    "an index from a number": lambda h, g: [h, g][int(h.data > 0)],
    "round()": lambda h, g: [h, g, h * g][round(h.data) % 3],
    "Python max()": lambda h, g: max(h, g),
    "Python max() against a number": lambda h, g: max(h, 0.0),
    "sorted()": lambda h, g: sorted([h, g])[0],
    "math.exp": lambda h, g: h * math.exp(h),
    "numpy argmax": lambda h, g: [h, g][int(np.argmax([h, g]))],
    "numpy array": lambda h, g: h * float(np.asarray([h, g], dtype=float).sum()),
    "a format": lambda h, g: h if f"{h.data:.1f}" != "0.0" else g,
}


@pytest.mark.parametrize("form", sorted(DECISIONS))
def test_a_python_decision_on_an_intermediate_number_is_refused_as_it_happens(form):
    w = Value(1.0, "w")

    def f(x):
        return DECISIONS[form](w * x, x - 3.0)

    # the example and the check's inputs may take the same branch: refused all the same
    for check in (None, [(1.0,)], [(2.0,), (0.5,)]):
        with pytest.raises(TracingError, match=r"computed from .*the input 'x'"):
            autograd.compile(f, 1.0, check_inputs=check)
    with pytest.raises(TracingError):
        nn.fit(lambda x: f(x[0]), np.ones((4, 1)), np.ones(4), nn.mse, nn.SGD([w], lr=0.1),
               progress=False, compiled=True)
    assert w.data == 1.0


def test_the_refusal_names_the_node_and_what_it_was_computed_from():
    w = Value(1.0, "w")
    with pytest.raises(TracingError) as caught:
        autograd.compile(lambda x: (lambda h: h if h.data > 0 else h * 0)((w * x[1]).tanh()),
                         [1.0, 2.0])
    message = str(caught.value)
    assert "a tanh node, computed from the parameter 'w', the input 'x[1]', through .data" in message
    assert "x[0]" not in message


def test_check_trace_false_still_bakes_a_decision_in_and_printing_is_allowed():
    w, shown = Value(1.0, "w"), []

    def branchy(x):
        h = w * x
        shown.append((repr(h), repr(w), str(h)))  # printing is not deciding
        return h.exp() if h.data > 0 else h.tanh()

    with pytest.raises(TracingError):
        autograd.compile(branchy, 1.0)
    program = autograd.compile(branchy, 1.0, check_trace=False)  # the user's call: baked in
    np.testing.assert_allclose(program(np.array([-1.0])), [np.exp(-1.0)])
    assert shown[0][:2] == ("Value(data=1.0, grad=None)", "Value(data=1.0, grad=None, label='w')")
    assert type(program.graph) is Value  # the trace's nodes are plain Values afterwards
    assert program.graph.data == math.exp(1.0)


def test_constants_and_nodes_of_constants_can_be_read_while_tracing():
    w = Value(2.0, "w")
    c = Value(3.0, requires_grad=False)

    def f(x):
        scale = (c * 2.0).exp()
        return w * x * (scale.data if c.data > 0 else 1.0)  # no input, no parameter: allowed

    np.testing.assert_allclose(autograd.compile(f, 1.0)(np.array([1.0])), [2.0 * math.exp(6.0)])


def test_another_thread_reads_parameters_freely_while_one_traces():
    w = Value(2.0, "w")
    inside, release, seen = threading.Event(), threading.Event(), []

    def slow(x):
        inside.set()
        release.wait(10)
        return w * x

    tracer = threading.Thread(target=lambda: seen.append(autograd.compile(slow, 1.0, check_inputs=[])))
    tracer.start()
    assert inside.wait(10)
    try:
        loss = (w * 3.0).tanh()  # another thread: eager code, reading numbers, backward
        loss.backward()
        assert w.data == 2.0 and float(w) == 2.0 and w > 1.0
        assert w.grad == pytest.approx(3.0 * (1.0 - math.tanh(6.0) ** 2))
    finally:
        release.set()
        tracer.join(10)
    assert seen and type(Value.__dict__["data"]).__name__ == "member_descriptor"  # unguarded


# ---- sums and dot products: compiled against eager ------------------------------------------
U = 2.0 ** -53  # the unit roundoff of float64


def gamma(n: int) -> float:
    """γ_n = n·u/(1 - n·u): the bound on the relative error of n - 1 additions (Higham)."""
    return n * U / (1 - n * U)


def test_the_readme_example_of_cancellation():
    program = autograd.compile(lambda x: autograd.sum([x * 1e16, x, -(x * 1e16)]), 1.0)
    x = Value(1.0)
    assert autograd.sum([x * 1e16, x, -(x * 1e16)]).data == 1.0  # eager: math.fsum, exact
    got = program(np.array([1.0]))[0]
    assert got == 0.0  # compiled: rounded after each addition
    assert abs(got - 1.0) <= gamma(3) * (1e16 + 1 + 1e16)  # within the bound


def _local_bound(op, parents: list[float], want: float) -> float:
    """How far a compiled node may be from `op` applied, correctly rounded, to its compiled
    inputs: sums and dot products γ_n·Σ|terms| (rounded per addition; a dot's products once
    each), any other op 4 ulps (numpy's elementwise forms against Python's math)."""
    if isinstance(op.notation, Variadic) and op.partials_are == "ones":
        return gamma(len(parents)) * math.fsum(abs(t) for t in parents) + 2 * math.ulp(want)
    if isinstance(op.notation, WeightedSum):
        w, x, bias = split_dot(parents)
        terms = [a * b for a, b in zip(w, x)] + list(bias)
        return gamma(len(terms) + 1) * math.fsum(abs(t) for t in terms) + 2 * math.ulp(want)
    return 4 * math.ulp(want)


@settings(deadline=None)
@given(expressions(n_inputs=3, max_ops=10, ops=None), st.integers(0, 2**32 - 1))
def test_each_compiled_node_is_its_op_within_the_readme_bound(expr, seed):
    """Every node of a random program, compiled on a batch around its point, against its op
    applied (eagerly, correctly rounded) to the compiled numbers of its inputs."""
    w = Value(0.75, "w")  # a parameter in the graph, so that shared slots are exercised too

    def every_node(*inputs):
        root = expr(*inputs) * w
        return list(autograd.topological_order(root))

    program = autograd.compile(every_node, *expr.inputs, check_trace=False)
    nodes = list(program.graph)
    index = {id(node): i for i, node in enumerate(nodes)}
    jitter = np.random.default_rng(seed).uniform(-0.01, 0.01, (4, len(expr.inputs)))
    batch = np.vstack([expr.inputs, expr.inputs + jitter])
    got = program(*batch.T)
    for row in got:
        for i, node in enumerate(nodes):
            if node.op is None:
                continue
            parents = [row[index[id(p)]] for p in node.parents]
            want = node.op.evaluate(*parents)
            if math.isnan(want) or math.isinf(want):
                assert row[i] == want or (math.isnan(want) and math.isnan(row[i])), node.op.name
                continue
            assert abs(row[i] - want) <= _local_bound(node.op, parents, want), (
                node.op.name, parents, row[i], want)


def _error_bounds(root: Value) -> tuple[dict[int, float], dict[int, float]]:
    """First-order running error bounds of a graph evaluated eagerly: for each node, how far a
    compiled number may drift (its local bound, plus its inputs' drifts times its partials),
    and for each node, Σ over paths of |∂root/∂node| taken as |partials| (what the gradient is
    a sum of, so what its rounding is relative to)."""
    order = autograd.topological_order(root)
    drift: dict[int, float] = {}
    for node in order:
        if node.op is None:
            drift[id(node)] = 0.0
            continue
        parents = [p.data for p in node.parents]
        partials = node.op.partials(node.data, *parents)
        bound = _local_bound(node.op, parents, node.data) + math.fsum(
            abs(g) * drift[id(p)] for g, p in zip(partials, node.parents))
        drift[id(node)] = bound if math.isfinite(bound) else math.inf  # a kink: no bound
    size = {id(root): 1.0}
    for node in reversed(order):
        if node.op is None:
            continue
        partials = node.op.partials(node.data, *[p.data for p in node.parents])
        for g, p in zip(partials, node.parents):
            size[id(p)] = size.get(id(p), 0.0) + abs(g) * size.get(id(node), 0.0)
    return drift, size


@settings(deadline=None)
@given(expressions(n_inputs=3, max_ops=8), st.lists(st.booleans(), min_size=3, max_size=3))
def test_compiled_outputs_and_gradients_agree_with_eager_within_the_bound(expr, is_param):
    """End to end, on random programs with sums and dot products that may cancel: the output
    within twice its first-order drift bound (plus 1e-12 relative), each parameter's gradient
    within 1e-9 of the sum of the magnitudes it is made of, when the forward numbers stay
    within 1e-9 relative of eager (else the gradient is taken at other numbers)."""
    fn, params, point = with_parameters(expr, is_param)

    program = autograd.compile(fn, *point)
    batch = [np.array([x]) for x in point]
    root = fn(*[Value(x, requires_grad=False) for x in point])
    if root.requires_grad:
        root.backward()
    want_grads = [0.0 if p.grad is None else p.grad for p in params]
    drift, size = _error_bounds(root)
    for p in params:
        p.grad = None
    got = program.backward(*batch)[0]
    if not math.isfinite(root.data):
        return
    allowed = 2 * drift[id(root)] + 1e-12 * abs(root.data)
    assert abs(got - root.data) <= allowed, (str(expr), got, root.data, allowed)
    if drift[id(root)] > 1e-9 * max(1.0, abs(root.data)):
        return  # the forward numbers themselves may drift: gradients are taken elsewhere
    by_node = {id(p): p.grad for p in program.parameters}
    for p, want in zip(params, want_grads):
        got_grad = by_node.get(id(p), 0.0) or 0.0
        assert abs(got_grad - want) <= 1e-9 * max(1.0, size.get(id(p), 0.0)), (
            str(expr), p.label, got_grad, want)
