"""autograd.backprop_steps: the explained walk-through must be the backward pass, bit for bit.

Two property tests: one over `autograd.testing.expressions` (every op of the table), one over a
small strategy of this file that adds what that one does not draw: constants mixed in, nodes
shared many times, and leaves that already hold a grad from an earlier backward().
"""
import math
import re
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Value
from autograd.testing import expressions as table_expressions
from autograd.steps import backprop_steps as steps, fmt


def same_bits(a, b) -> bool:
    """The same float to the last bit; any nan equals any nan, whatever its sign (IEEE leaves a
    nan's sign and payload unspecified; on x86, which nan an operation passes on depends on
    the order of its operands)."""
    if math.isnan(a) and math.isnan(b):
        return True
    return struct.pack("<d", a) == struct.pack("<d", b)


def neuron():
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8813735870195432, "b")
    return (x * w + b).tanh(), (x, w, b)


def test_the_tanh_neuron_step_by_step():
    out, (x, w, b) = neuron()
    walk = steps(out)
    assert [s.kind for s in walk] == ["start", "forward", "forward", "forward", "seed",
                                      "backward", "backward", "backward", "done"]
    t = math.tanh(2.0 * -3.0 + 6.8813735870195432)  # ≈ 1/√2
    slope = 1 - t * t  # tanh' at the pre-activation, ≈ 0.5
    tanh_step = walk[5]
    assert walk.nodes[tanh_step.node].op == "tanh"
    assert tanh_step.upstream == 1.0
    (term,) = tanh_step.terms
    assert term.formula == autograd.OPS["tanh"].formula[0]  # read from the op table
    assert term.local == pytest.approx(slope, rel=1e-15)
    assert (term.before, term.after) == (None, term.contribution)  # its first contribution
    mul_step = walk[7]
    assert [walk.nodes[t.parent].name for t in mul_step.terms] == ["x", "w"]
    assert [t.formula for t in mul_step.terms] == ["b", "a"]  # d(a*b)/da = b, d/db = a
    assert mul_step.terms[0].local == -3.0 and mul_step.terms[1].local == 2.0
    assert mul_step.terms[0].after == pytest.approx(-3.0 * slope, rel=1e-14)
    assert mul_step.terms[1].after == pytest.approx(2.0 * slope, rel=1e-14)
    # The chain-rule line, in words and numbers.
    # The real operands, never the op's a and b, then the numbers.
    assert "∂v5/∂x += ∂v5/∂v2 · ∂v2/∂x = 0.5 · w = 0.5 · (-3) = -1.5" in mul_step.lines[2]
    assert "(so far: not computed → -1.5)" in mul_step.lines[2]
    assert mul_step.lines[0] == "v2 = x * w    (op mul)"
    tanh_line = tanh_step.lines[2]  # its result by its number: 1 - tanh(v4)² = 1 - 0.707107²
    assert "= 1 · (1 - tanh(v4)²) = 1 · (1 - 0.707107²) = 1 · 0.5 = 0.5" in tanh_line
    assert walk[-1].lines == ("∂v5/∂x = -1.5", "∂v5/∂w = 1", "∂v5/∂b = 0.5")


def test_not_computed_yet_is_visible_and_steps_change_nothing():
    out, leaves = neuron()
    walk = steps(out)
    start = walk.state(0)
    assert start.data[:2] == (2.0, -3.0) and start.data[2] is None  # x*w not computed yet
    assert set(start.grad) == {None}
    forward_done = walk.state(walk.first_backward - 1)
    assert None not in forward_done.data and set(forward_done.grad) == {None}
    seeded = walk.state(walk.first_backward)  # only the output's grad: 1
    assert seeded.grad[-1] == 1.0 and set(seeded.grad[:-1]) == {None}
    assert out.grad is None and all(v.grad is None for v in leaves)  # steps() touched nothing
    for k, step in enumerate(walk):
        assert step.index == k


def replay(walk, order):
    """Apply the recorded numbers the way the chain rule does: grad += upstream * local, every
    grad starting from nothing (not computed) and taking 0 + its first contribution."""
    assert set(walk.initial.grad) <= {None}  # one pass of its own, from the start
    grads = {}
    for step in walk:
        if step.kind == "seed":
            assert [(c.node, c.before) for c in step.changes] == [(step.node, None)]
            grads.update({c.node: c.after for c in step.changes})
        elif step.kind == "backward":
            assert same_bits(step.upstream, grads[step.node])
            for term in step.terms:
                if term.contribution is None:
                    assert not order[term.parent].requires_grad or term.local is None
                    continue
                assert same_bits(term.contribution, step.upstream * term.local)
                so_far = grads.get(term.parent)
                assert term.before is so_far or same_bits(term.before, so_far)
                grads[term.parent] = (0.0 if so_far is None else so_far) + \
                    step.upstream * term.local
                assert same_bits(term.after, grads[term.parent])
    return grads


def fresh_backward(root, order):
    """The grads of one backward() from fresh grads, whatever the leaves held before."""
    held = [v.grad for v in order]
    for v in order:
        v.grad = None
    root.backward()
    grads = [v.grad for v in order]
    for v, grad in zip(order, held):
        v.grad = grad
    return grads


@st.composite
def expressions(draw):
    """A random expression DAG: leaves and constants, ops picking any earlier node (sharing)."""
    numbers = st.floats(-3, 3, allow_nan=False).filter(lambda x: abs(x) > 1e-3 or x == 0)
    pool = [Value(draw(numbers), f"x{i}") for i in range(draw(st.integers(1, 4)))]
    pick = st.sampled_from
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(pick(["binary", "const", "unary", "pow", "sum", "dot"]))
        a = draw(pick(pool))
        if kind == "binary":
            node = draw(pick(["__add__", "__sub__", "__mul__", "__truediv__"]))
            node = getattr(a, node)(draw(pick(pool)))
        elif kind == "const":
            node = draw(pick([a * 2.5, 1.5 - a, a / 0.5, -a]))
        elif kind == "unary":
            node = getattr(a, draw(pick(["tanh", "sigmoid", "relu", "abs", "sin", "exp", "log",
                                          "sqrt", "cos"])))()
        elif kind == "pow":
            node = a ** draw(pick([2, 3, 0.5, -1, 2.0]))
        elif kind == "sum":
            node = autograd.sum(draw(st.lists(pick(pool), min_size=1, max_size=8)) + [1.0])
        else:
            n = draw(st.integers(1, 5))
            ws = draw(st.lists(pick(pool), min_size=n, max_size=n))
            xs = draw(st.lists(pick(pool + [Value(0.5, requires_grad=False)]), min_size=n,
                               max_size=n))
            node = autograd.dot(ws, xs, draw(pick([None, a, 1.0])))
        pool.append(node)
    return autograd.sum(draw(st.lists(pick(pool), min_size=1, max_size=3)) + [pool[-1]])


@given(expressions(), st.sampled_from([None, "float", "value"]))
def test_replaying_the_steps_gives_backwards_grads_bit_for_bit(root, earlier):
    if earlier:  # leaves then hold a grad (a float, or a Value): the steps leave it aside
        root.backward(create_graph=earlier == "value")
    walk = steps(root)
    order = autograd.topological_order(root)
    held = [v.grad for v in order]
    replayed = replay(walk, order)
    final = walk.state(len(walk) - 1)
    fresh = fresh_backward(root, order)
    assert [v.grad for v in order] == held  # the steps changed nothing
    for i, v in enumerate(order):
        if v.requires_grad:
            grad = fresh[i]
            assert same_bits(replayed[i], grad), (i, replayed[i], grad)
            assert same_bits(final.grad[i], grad)
            assert final.data[i] == v.data or (math.isnan(v.data) and math.isnan(final.data[i]))
        else:
            assert final.grad[i] is None  # constants never receive a gradient
    # The backward steps follow backward()'s own order: reversed, gradient nodes only.
    gradient_order = [i for i, v in enumerate(order) if v.requires_grad and v.op is not None]
    visited = [s.node for s in walk if s.kind == "backward"]
    expected = [order.index(v) for v in reversed(autograd.topological_order(
        root, gradient_only=True)) if v.op is not None]
    assert visited == expected and sorted(visited) == gradient_order


@given(table_expressions(n_inputs=3, max_ops=8))
def test_replay_matches_backward_on_the_op_tables_random_expressions(expression):
    inputs = [Value(x, f"x{i}") for i, x in enumerate(expression.inputs)]
    root = expression(*inputs)
    if not root.requires_grad:
        return
    walk = steps(root)
    order = autograd.topological_order(root)
    replayed = replay(walk, order)
    fresh = fresh_backward(root, order)
    for i, v in enumerate(order):
        if v.requires_grad:
            assert same_bits(replayed[i], fresh[i]), (str(expression), i)


def test_after_backward_the_steps_show_the_derivative_and_say_what_grad_holds():
    x = Value(3.0, "x")
    y = x * x
    y.backward()  # x.grad = 6 (micrograd's habit: backward, then look)
    y.backward()  # and once more: x.grad = 12, the sum of two passes
    walk = steps(y)
    assert walk.state(0).grad[0] is None  # not computed yet, whatever .grad holds
    start = " ".join(walk[0].lines)
    assert "x already holds a grad from an earlier backward()" in start
    assert "each ∂v1/∂ below is the derivative (.grad is left as it is" in start
    assert walk.state(len(walk) - 1).grad[0] == 6.0  # dy/dx = 2x, not the 12 .grad holds
    assert "∂v1/∂x = 6" in walk[-1].lines
    assert not any("12" in line for s in walk for line in s.lines if "∂" in line)
    assert x.grad == 12.0  # left alone


def test_alice_after_backward_shows_the_articles_derivative_never_the_sum():
    """Seed 001: all weights 1, biases 0, x = (-2, -1), y = 1, L = (y - o)²; the article
    computes ∂L/∂w1 = 0.0214 by hand. After L.backward() w1.grad holds it; after a second
    backward() it holds twice it (0.0429), and the steps must still say 0.0215."""
    def sigmoid(z):
        return 1 / (1 + math.exp(-z))

    x1, x2 = -2.0, -1.0
    h = sigmoid(x1 + x2)  # h1 = h2 = σ(-3)
    o = sigmoid(2 * h)
    expected = -2 * (1 - o) * o * (1 - o) * 1 * h * (1 - h) * x1  # the article's chain rule
    assert expected == pytest.approx(0.0214695, abs=1e-7)
    w = [Value(1.0, f"w{i}") for i in range(1, 7)]
    b = [Value(0.0, f"b{i}") for i in range(1, 4)]
    h1 = (w[0] * x1 + w[1] * x2 + b[0]).sigmoid()
    h2 = (w[2] * x1 + w[3] * x2 + b[1]).sigmoid()
    L = (1.0 - (w[4] * h1 + w[5] * h2 + b[2]).sigmoid()) ** 2
    L.label = "L"
    L.backward()
    L.backward()
    assert w[0].grad == pytest.approx(2 * expected)  # .grad adds: 0.0429
    walk = steps(L)
    i = next(n.index for n in walk.nodes if n.label == "w1")
    final = walk.state(len(walk) - 1).grad[i]
    assert final == pytest.approx(expected, rel=1e-12)
    text = "\n".join(line for s in walk for line in s.lines)
    assert f"∂L/∂w1 = {fmt(final)}" in text and "0.0429" not in text


def test_a_gradient_is_not_computed_until_its_first_contribution_arrives():
    x = Value(0.5, "x")
    u = x.exp()
    out = u * x + u.sin()  # x and u are each used twice
    walk = steps(out)
    order = autograd.topological_order(out)
    first = {}
    for s in walk:
        for c in s.changes:
            if c.field == "grad":
                first.setdefault(c.node, s.index)
                assert (c.before is None) == (first[c.node] == s.index)
    for i, v in enumerate(order):
        if v.requires_grad:
            assert all(walk.state(k).grad[i] is None for k in range(first[i]))
            assert all(walk.state(k).grad[i] is not None for k in range(first[i], len(walk)))
    assert sum("(so far: not computed →" in line for s in walk for line in s.lines) == \
        sum(v.requires_grad for v in order) - 1  # every grad but the seeded output's


def test_constants_and_pow_exponents_take_no_gradient():
    x = Value(1.5, "x")
    y = (x * 4.0) ** 3
    walk = steps(y)
    pow_step = next(s for s in walk if s.kind == "backward")
    base, exponent = pow_step.terms
    assert base.formula == "n·a^(n-1)" and base.local == 3 * 6.0**2
    assert exponent.local is None and exponent.contribution is None
    assert "3 is a constant: no gradient flows to it" in pow_step.lines
    assert walk.nodes[1].kind == "constant" and walk.nodes[1].name == "4"


def test_dot_partials_are_named_after_the_actual_inputs_and_long_nodes_are_elided():
    w = [Value(float(i), f"w{i}") for i in range(8)]
    x = [Value(1.0 + i, f"x{i}") for i in range(8)]
    b = Value(0.5, "b")
    out = autograd.dot(w, x, b)
    step = next(s for s in steps(out) if s.kind == "backward")
    assert [t.formula for t in step.terms] == [f"x{i}" for i in range(8)] + \
        [f"w{i}" for i in range(8)] + ["1"]
    assert [t.local for t in step.terms] == [1.0 + i for i in range(8)] + \
        [float(i) for i in range(8)] + [1.0]
    assert "…" in step.title  # w0·x0 + w1·x1 + w2·x2 + … + w7·x7 + b
    assert "local derivatives: ∂/∂w_i = x_i, ∂/∂x_i = w_i, ∂/∂b = 1" in step.lines


def test_misuse_gives_clear_errors():
    with pytest.raises(TypeError, match="needs a Value.*got float"):
        steps(2.0)
    with pytest.raises(ValueError, match="constant"):
        steps(Value(2.0, requires_grad=False) * 3)
    with pytest.raises(TypeError, match="real number"):
        steps(Value(1.0) * 2, grad="one")
    walk = steps(Value(1.0) * 2)
    with pytest.raises(IndexError, match="numbered 0 to"):
        walk.state(len(walk))


def test_numbers_are_shown_short_and_not_computed_yet_as_a_dash():
    assert fmt(None) == "—"
    assert fmt(0.9990889488055994) == "0.999089"
    assert fmt(float("nan")) == "nan" and fmt(-math.inf) == "-inf"
    assert fmt(-0.0) == "0" and fmt(0.0) == "0"  # a learner is not shown IEEE's signed zero
    assert fmt(-1e-300) == "-1e-300"  # small is not zero


def test_a_zero_contribution_reads_0_not_minus_0():
    x, w = Value(2.0, "x"), Value(-3.0, "w")
    walk = steps((x * w).relu())  # relu(-6) = 0: no gradient flows back
    mul = walk[-2]
    assert walk.nodes[mul.node].op == "mul"
    assert math.copysign(1, mul.terms[0].contribution) == -1  # 0 * -3 is IEEE's -0.0 ...
    assert "= 0 · w = 0 · (-3) = 0    (so far: not computed → 0)" in mul.lines[2]  # ... shown as 0
    assert not any(re.search(r"-0(?![.\d])", line) for s in walk for line in s.lines)


def test_the_docstring_example_runs():
    import doctest

    import autograd.steps

    failures, tried = doctest.testmod(autograd.steps)
    assert tried > 0 and failures == 0


def test_a_max_step_says_which_input_takes_the_gradient():
    a, b, c = Value(1.0, "a"), Value(3.0, "b"), Value(3.0, "c")
    out = autograd.max([a, b, c])
    step = next(s for s in steps(out) if s.kind == "backward")
    assert step.title == "backward through v3 = max(a, b, c)"
    assert [t.local for t in step.terms] == [0.0, 1.0, 0.0]  # b: the first of the two 3s
    assert all(t.formula == autograd.OPS["max"].formula[0] for t in step.terms)
    assert "∂v3/∂b += ∂v3/∂v3 · ∂v3/∂b = 1 · (1 for the first largest input, else 0) = 1 · 1 = 1" \
        in step.lines[3]


def test_a_leaf_holding_an_int_or_a_value_grad_is_named_and_left_aside():
    x = Value(2.0, "x")
    x.grad = 1  # an int, as a user may set it
    walk = steps(x * x)
    assert "x already holds a grad" in " ".join(walk[0].lines)
    assert walk.state(len(walk) - 1).grad[0] == 2 * 2.0  # d(x²)/dx = 2x: the held 1 aside
    y = Value(3.0, "y")
    (y * y).backward(create_graph=True)  # y.grad is a Value: 2y = 6
    assert isinstance(y.grad, Value)
    walk = steps(y * y)
    assert "y already holds a grad" in " ".join(walk[0].lines)
    assert walk.state(len(walk) - 1).grad[0] == 6.0


def test_a_leaf_holding_something_else_as_its_grad_is_a_clear_error():
    x = Value(3.0, "x")
    x.grad = "six"
    with pytest.raises(TypeError, match=r"x\.grad holds a str.*None, a number or a Value"):
        steps(x * x)


def test_local_derivatives_show_the_real_operands_then_their_numbers():
    # seed 001's neuron: w = [0, 1], b = 4, x = [2, 3]; σ(7) = 0.999089
    w1, w2, b = Value(0.0, "w1"), Value(1.0, "w2"), Value(4.0, "b")
    z = autograd.dot([w1, w2], [2.0, 3.0], b)
    z.label = "z"
    o = z.sigmoid()
    o.label = "o"
    walk = steps(o)
    line = next(s for s in walk if s.kind == "backward").lines[2]
    slope = o.data * (1 - o.data)
    assert line == (f"∂o/∂z += ∂o/∂o · ∂o/∂z = 1 · (σ(z)·(1 - σ(z))) = "
                    f"1 · ({fmt(o.data)}·(1 - {fmt(o.data)})) = 1 · {fmt(slope)} = "
                    f"{fmt(slope)}    (so far: not computed → {fmt(slope)})")
    assert fmt(o.data) == "0.999089" and fmt(slope) == "0.000910221"
    dot = next(s for s in walk if s.kind == "backward" and walk.nodes[s.node].label == "z")
    assert dot.lines[2].startswith("∂o/∂w1 += ∂o/∂z · ∂z/∂w1 = 0.000910221 · 2 = ")
    assert not any("σ(a)" in line or "with a =" in line for s in walk for line in s.lines)


def test_inside_a_module_names_are_written_after_its_path():
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [2, 1], activation="sigmoid", seed=0)
    loss = nn.mse(model([1.0, 2.0]), 1.0)
    walk = steps(loss)
    titles = [s.title for s in walk]
    assert "backward through layers.0.neurons.1: out = σ(z)" in titles
    assert "forward in layers.0.neurons.1: out = σ(z)" in titles
    step = walk[titles.index("backward through layers.0.neurons.1: out = σ(z)")]
    assert step.lines[0] == "in layers.0.neurons.1: out = σ(z)    (op sigmoid)"
    node = walk.nodes[step.node]
    assert node.module == "layers.0.neurons.1" and node.name == "layers.0.neurons.1.out"
    assert {n.kind for n in walk.nodes if n.label.endswith(".b")} == {"param"}
    start = walk[0].lines
    assert start[0] == "inputs: none" and start[1].startswith("parameters: layers.1.neurons.0.w.0")
