"""Adding an op is adding one record: `atan2` (two inputs) and `softplus` (one input), each
written once, reach every part of glassgrad with nothing else changed.

The records are registered only inside `autograd.ops.registered(...)` (the `new_ops` fixture),
so the real table is the same before and after; the last tests check that every reader lets go
of them on the way out and follows a record that replaces one. The README's "Adding an op" tells
this file in prose. Reference numbers are written here from calculus, independently of the
records' partials.
"""
import io
import math
import re

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings

import autograd
import autograd.testing
from autograd import OPS, Value
from autograd.__main__ import main
from autograd.expr import ExpressionError, build, parse
from autograd.ops import Call, Infix, Op, registered


def _softplus(a: float) -> float:
    return max(a, 0.0) + math.log1p(math.exp(-abs(a)))  # log(1 + e^a), never overflowing


def _distance_to_the_cut(y: float, x: float) -> float:
    # atan2 jumps from π to -π across the negative x axis (y = 0, x <= 0): its branch cut.
    return abs(y) if x <= 0 else math.hypot(x, y)


SOFTPLUS = Op(
    "softplus", "softplus", Call(1), _softplus,
    lambda out, a: (autograd.ops.sigmoid(a),),  # the helper works on all four kinds of number
    lambda a: np.logaddexp(0.0, a), ("σ(a)",),
)
ATAN2 = Op(
    "atan2", "atan2", Call(2), math.atan2,
    lambda out, y, x: (x / (x * x + y * y), -y / (x * x + y * y)),
    np.arctan2, ("b / (a² + b²)", "-a / (a² + b²)"),
    kink_distance=_distance_to_the_cut, domain_text="off the cut a = 0, b ≤ 0",
)


def atan2_slopes(y, x):  # d/dy, d/dx of atan2(y, x)
    return x / (x * x + y * y), -y / (x * x + y * y)


def softplus_slope(a):
    return 1 / (1 + math.exp(-a))


@pytest.fixture
def new_ops():
    with registered(ATAN2, SOFTPLUS):
        yield
    assert "atan2" not in OPS and "softplus" not in OPS


def test_each_op_is_reachable_as_functions_do(new_ops):
    y, x = Value(1.0, "y"), Value(-2.0, "x")
    angle = autograd.atan2(y, x)
    assert angle.op is ATAN2 and angle.parents == (y, x)
    assert angle.data == math.atan2(1.0, -2.0)
    assert y.atan2(x).data == angle.data  # the method: self is the first input
    assert autograd.atan2(1.0, -2.0) == math.atan2(1.0, -2.0)  # numbers in, a float out
    assert autograd.atan2(y, -2.0).parents[1].requires_grad is False  # a number: a constant
    soft = x.softplus()
    assert soft.op is SOFTPLUS and soft.data == pytest.approx(math.log(1 + math.exp(-2.0)), rel=1e-15)
    assert autograd.softplus(x).data == soft.data and autograd.softplus(-2.0) == soft.data
    assert autograd.softplus(1000.0) == 1000.0  # no overflow
    assert {"atan2", "softplus"} <= set(autograd.__all__)
    (angle + soft).backward()
    dy, dx = atan2_slopes(1.0, -2.0)
    assert y.grad == pytest.approx(dy, rel=1e-15)
    assert x.grad == pytest.approx(dx + softplus_slope(-2.0), rel=1e-15)


def test_misuse_of_the_new_functions_gets_clear_errors(new_ops):
    with pytest.raises(TypeError, match=re.escape("autograd.atan2() takes 2 inputs (a, b), got 1")):
        autograd.atan2(1.0)
    with pytest.raises(TypeError, match=re.escape("autograd.atan2() needs Values or real numbers, got 'a'")):
        autograd.atan2(Value(1.0), "a")
    with pytest.raises(TypeError, match=re.escape("autograd.softplus() needs a real number, got 'a'")):
        autograd.softplus("a")
    with pytest.raises(TypeError, match=re.escape("Value.atan2() takes 1 more input(s)")):
        Value(1.0).atan2()


def test_each_op_passes_gradcheck_and_gradgradcheck(new_ops):
    for point in ([1.0, -2.0], [-0.3, 0.8], [2.5, 0.1]):
        assert autograd.gradcheck(autograd.atan2, point)
        assert autograd.gradgradcheck(autograd.atan2, point)
    for a in (-3.0, 0.0, 0.7, 20.0):
        assert autograd.gradcheck(autograd.softplus, [a])
        assert autograd.gradgradcheck(autograd.softplus, [a])
    # Near the branch cut gradcheck sees the jump, as the record's kink_distance says.
    with pytest.raises(autograd.GradcheckError, match="kink"):
        autograd.gradcheck(autograd.atan2, [0.0, -1.0])


@settings(deadline=None, max_examples=25, database=None)
@given(point=autograd.testing.op_inputs(ATAN2))
def test_atan2_keeps_the_partials_contract(point):
    with registered(ATAN2):
        assert autograd.testing.check_partials(ATAN2, point)


@settings(deadline=None, max_examples=25, database=None)
@given(point=autograd.testing.op_inputs(SOFTPLUS))
def test_softplus_keeps_the_partials_contract(point):
    with registered(SOFTPLUS):
        assert autograd.testing.check_partials(SOFTPLUS, point)


def test_the_stepper_reads_atan2_a_b(new_ops):
    y, x = Value(1.0, "y"), Value(-2.0, "x")
    walk = autograd.backprop_steps(autograd.atan2(y, x).softplus())
    forward = [s for s in walk if s.kind == "forward"]
    assert [s.title for s in forward] == ["forward: v2 = atan2(y, x)", "forward: v3 = softplus(v2)"]
    assert forward[0].lines[1] == f"   = atan2(1, -2) = {math.atan2(1.0, -2.0):.6g}"
    through_atan2 = [s for s in walk if s.kind == "backward"][1]
    assert through_atan2.lines[0] == "v2 = atan2(y, x)    (op atan2)"
    # the formula with the real operands, then their numbers: never the record's a and b
    assert "∂v2/∂y = 0.935713 · (x / (y² + x²)) = 0.935713 · ((-2) / (1² + (-2)²))" in \
        through_atan2.lines[2].replace("∂v3/∂v2 · ∂v2/∂y", "∂v2/∂y")
    assert [(t.wrt, t.formula) for t in through_atan2.terms] == [
        ("a", "b / (a² + b²)"), ("b", "-a / (a² + b²)")]
    upstream = softplus_slope(math.atan2(1.0, -2.0))
    dy, dx = atan2_slopes(1.0, -2.0)
    assert [t.after for t in through_atan2.terms] == pytest.approx([upstream * dy, upstream * dx], rel=1e-14)
    printed = io.StringIO()
    autograd.step(walk, stdin=io.StringIO(), stdout=printed)  # not a terminal: every step
    assert "v2 = atan2(y, x)    (op atan2)" in printed.getvalue()
    assert "v3 = softplus(v2)    (op softplus)" in printed.getvalue()
    assert "· σ(v2) = 1 · σ(2.67795) =" in printed.getvalue()


def test_atan2_is_drawn_with_labelled_edges_and_softplus_as_a_function(new_ops):
    y, x = Value(1.0, "y"), Value(-2.0, "x")
    source = autograd.draw(autograd.atan2(y, x).softplus()).source
    assert re.findall(r"(v\d+) -> op2 \[label=(\w+)", source) == [("v0", "a"), ("v1", "b")]
    assert 'label=<atan2>' in source and 'class="op op-atan2"' in source
    assert 'label=<softplus>' in source and re.search(r"v2 -> op3 \[id", source)  # one input: no label
    from autograd.draw import table

    assert "atan2(y, x)" in table(autograd.atan2(y, x))


def test_the_strategies_draw_the_new_ops(new_ops):
    expr = find(autograd.testing.expressions(n_inputs=2, max_ops=3, ops=["atan2"]),
                lambda e: len(e.steps) >= 2, settings=settings(database=None, derandomize=True))
    assert set(expr.op_names) == {"atan2"} and "atan2(" in str(expr)
    assert autograd.gradcheck(expr, expr.inputs) and autograd.gradgradcheck(expr, expr.inputs)
    # The printed program runs as Python with the public functions.
    namespace = {"atan2": autograd.atan2}
    exec(str(expr), namespace)
    assert namespace["out"] == expr(*expr.inputs)
    # With no ops named, expressions draw from the whole table: the new ops too.
    for name in ("atan2", "softplus"):
        mixed = find(autograd.testing.expressions(n_inputs=2, max_ops=6),
                     lambda e: name in e.op_names and len(set(e.op_names)) > 1,
                     settings=settings(database=None, derandomize=True, max_examples=1000,
                                       phases=[Phase.generate]))  # the first found: no shrinking
        assert autograd.gradcheck(mixed, mixed.inputs)


def test_the_new_ops_compile(new_ops):
    w, c = Value(0.7, "w"), Value(1.5, "c")

    def per_sample(x, z):
        return autograd.atan2(w * x, z + c).softplus()

    program = autograd.compile(per_sample, 0.5, 0.2)
    X, Z = np.array([-1.5, -0.2, 0.4, 2.0]), np.array([0.3, 1.0, -0.5, 0.8])
    got = program.backward(X, Z)
    compiled = [p.grad for p in program.parameters]
    want, grads = [], {id(w): 0.0, id(c): 0.0}
    for x, z in zip(X, Z):  # by hand: softplus(atan2(w x, z + c)) and the chain rule
        angle = math.atan2(0.7 * x, z + 1.5)
        want.append(math.log1p(math.exp(angle)))
        dy, dx = atan2_slopes(0.7 * x, z + 1.5)
        grads[id(w)] += softplus_slope(angle) * dy * x
        grads[id(c)] += softplus_slope(angle) * dx
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(compiled, [grads[id(p)] for p in program.parameters], rtol=1e-12)


def test_the_command_line_accepts_the_new_ops(new_ops, capsys):
    root, inputs = build("atan2(y, x) + softplus(x)", ["y=1", "x=-2"])
    assert root.data == math.atan2(1.0, -2.0) + _softplus(-2.0)
    with pytest.raises(ExpressionError, match="atan2\\(\\).* takes exactly two arguments"):
        parse("atan2(y)")
    with pytest.raises(ExpressionError, match="is a function"):
        parse("softplus + 1")
    assert main(["step", "atan2(y, x)", "y=1", "x=-2"]) == 0
    out = capsys.readouterr().out
    assert "atan2(y, x)" in out and "v2 = atan2(y, x)    (op atan2)" in out
    with pytest.raises(SystemExit):
        main(["step", "--help"])
    assert "atan2(a, b)" in capsys.readouterr().out


def test_on_the_way_out_every_reader_lets_go():
    with registered(ATAN2, SOFTPLUS):
        assert hasattr(Value, "atan2") and hasattr(autograd, "softplus")
    assert "atan2" not in OPS and "softplus" not in OPS
    assert not hasattr(Value, "atan2") and not hasattr(Value, "softplus")
    assert not hasattr(autograd, "atan2") and "softplus" not in autograd.__all__
    with pytest.raises(ExpressionError, match="this call"):
        parse("atan2(y, x)")
    with pytest.raises(ValueError, match="unknown op 'softplus'"):
        autograd.testing.expressions(ops=["softplus"])
    with pytest.raises(RuntimeError, match="boom"), registered(SOFTPLUS):
        raise RuntimeError("boom")  # an error in the block: still unregistered
    assert "softplus" not in OPS and not hasattr(Value, "softplus")


def test_a_record_that_replaces_another_is_what_every_reader_sees():
    with registered(SOFTPLUS):
        pass
    other = Op("softplus", "sp", Call(1), _softplus, SOFTPLUS.partials, SOFTPLUS.numpy, ("σ(a)",))
    with registered(other):
        x = Value(0.5, "x")
        assert x.softplus().op is other and autograd.softplus(x).op is other
        assert build("softplus(x)", ["x=0.5"])[0].op is other
        assert autograd.draw(x.softplus()).source.count("label=<sp>") == 1


@pytest.mark.parametrize("record, words", [
    (Op("tanh", "t", Call(1), math.tanh, lambda out, a: (1 - out * out,), np.tanh, ("1",)),
     "the op table has an op named 'tanh' already"),
    (Op("backward", "b", Call(1), math.tanh, lambda out, a: (1.0,), np.tanh, ("1",)),
     "cannot become Value.backward"),
    (Op("draw", "d", Call(1), math.tanh, lambda out, a: (1.0,), np.tanh, ("1",)),
     "cannot become autograd.draw"),
    (Op("plus", "+", Infix("__add__"), float.__add__, lambda out, a, b: (1.0, 1.0), np.add, ("1", "1")),
     "cannot become Value.__add__"),
])
def test_a_name_that_is_taken_is_refused_and_nothing_changes(record, words):
    before = dict(OPS), sorted(autograd.__all__), sorted(vars(Value))
    with pytest.raises(ValueError, match=re.escape(words)):
        autograd.ops.register(record)
    assert (dict(OPS), sorted(autograd.__all__), sorted(vars(Value))) == before


def test_a_record_must_be_well_formed():
    with pytest.raises(ValueError, match="must be a Python name"):
        Op("soft plus", "sp", Call(1), _softplus, SOFTPLUS.partials, SOFTPLUS.numpy, ("σ(a)",))
    with pytest.raises(ValueError, match="formula must be a tuple of strings"):
        Op("softplus", "sp", Call(1), _softplus, SOFTPLUS.partials, SOFTPLUS.numpy, "σ(a)")
    with pytest.raises(TypeError, match="notation must be one of"):
        Op("softplus", "sp", 1, _softplus, SOFTPLUS.partials, SOFTPLUS.numpy, ("σ(a)",))
    with pytest.raises(TypeError, match="needs an Op record"):
        autograd.ops.register("softplus")
    with pytest.raises(ValueError, match="is not in the op table"):
        autograd.ops.unregister("softplus")
