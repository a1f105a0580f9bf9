"""autograd.testing: the strategies themselves, their printing and misuse, and the README's
"Test your own gradients" section, whose code blocks run here so they cannot rot."""
import contextlib
import doctest
import io
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import autograd.check
import autograd.testing
from autograd import OPS, Value
from autograd.testing import Binding, RandomExpression, expressions, finite_floats, mlp_cases, values

_ORIGINAL_NUMPY_PARTIALS = {name: op.numpy_partials for name, op in OPS.items()}

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def test_printing_reads_as_let_bindings_and_runs_as_python():
    expr = RandomExpression((0.5, -1.25), (
        Binding(OPS["tanh"], (0,)), Binding(OPS["mul"], (2, 2)), Binding(OPS["add"], (3, 0)),
    ))
    assert str(expr) == "x0 = 0.5\nx1 = -1.25\nt2 = tanh(x0)\nt3 = t2 * t2\nout = t3 + x0"
    assert repr(expr) == "RandomExpression(x0 = 0.5; x1 = -1.25; t2 = tanh(x0); t3 = t2 * t2; out = t3 + x0)"
    t = math.tanh(0.5)
    assert expr(0.5, -1.25) == t * t + 0.5


def test_every_kind_of_step_prints_as_python():
    steps = (Binding(OPS["pow"], (0,), 2.0), Binding(OPS["sum"], (0, 1, 2)),
             Binding(OPS["dot"], (0, 1, 2, 3, 1)), Binding(OPS["neg"], (4,)), Binding(OPS["max"], (5, 0)),
             Binding(OPS["sigmoid"], (6,)))
    expr = RandomExpression((0.5, 2.0), steps)
    assert expr.bindings()[2:] == [
        "t2 = x0 ** 2", "t3 = sum([x0, x1, t2])", "t4 = dot([x0, x1], [t2, t3], x1)",
        "t5 = -t4", "t6 = max([t5, x0])", "out = sigmoid(t6)",
    ]
    t4 = 0.5 * 0.25 + 2.0 * 2.75 + 2.0
    assert expr(0.5, 2.0) == pytest.approx(1 / (1 + math.exp(-max(-t4, 0.5))), rel=1e-15)


@given(expressions(n_inputs=3, max_ops=8))
def test_the_printed_program_computes_the_same_number(expr):
    namespace = {op.name: getattr(autograd, op.name) for op in OPS.values()
                 if isinstance(op.notation, autograd.ops.Call)}
    namespace.update(sum=lambda xs: math.fsum(xs), dot=_float_dot)
    exec(str(expr), namespace)
    assert namespace["out"] == pytest.approx(expr(*expr.inputs), rel=1e-12, abs=1e-12)


def _float_dot(w, x, b=0.0):
    return math.fsum([*(wi * xi for wi, xi in zip(w, x)), b])


@given(expressions(n_inputs=2, max_ops=6))
def test_expressions_stay_where_ops_are_defined_smooth_and_bounded(expr):
    nodes = list(expr.inputs)
    for step in expr.steps:
        args = [nodes[i] for i in step.operands] + ([step.exponent] if step.exponent is not None else [])
        assert step.op.defined_at(*args)
        assert all(abs(args[0] - k) >= autograd.testing.MARGIN for k in step.op.kinks)
        if step.op.name == "max" and len(args) > 1:  # the largest leads the rest by the margin
            top, runner_up = sorted(args)[-2:][::-1]
            assert top - runner_up >= autograd.testing.MARGIN
        nodes.append(step.apply([nodes[i] for i in step.operands]))
        assert abs(nodes[-1]) <= autograd.testing.BOUND


def test_expressions_share_sub_expressions():
    # Fan-out: some drawn expression uses one node as an operand of two later steps.
    def shares(expr):
        uses = [i for step in expr.steps for i in set(step.operands) if i >= len(expr.inputs)]
        return len(uses) > len(set(uses))

    from hypothesis import find
    assert shares(find(expressions(n_inputs=2, max_ops=6), shares,
                       settings=settings(database=None, derandomize=True)))


@given(finite_floats(-1.0, 1.0, avoid=(0.0, 0.5), margin=0.1))
def test_finite_floats_keep_the_margin(x):
    assert -1.0 <= x <= 1.0 and abs(x) >= 0.1 and abs(x - 0.5) >= 0.1


@given(values(0.2, 3.0, label="w"))
def test_values_are_fresh_leaves(v):
    assert isinstance(v, Value) and v.label == "w" and v.grad is None and 0.2 <= v.data <= 3.0


@given(mlp_cases(max_inputs=2, max_width=3, max_layers=2, max_outputs=2))
def test_mlp_cases_match_a_network_written_out_here(case):
    n_in, *hidden, n_out = case.sizes
    signals, k, weights = list(case.x), 0, case.parameters
    for layer, (a, b) in enumerate(zip(case.sizes, case.sizes[1:])):
        out = []
        for _ in range(b):
            z = sum(w * s for w, s in zip(weights[k:k + a], signals)) + weights[k + a]
            k += a + 1
            out.append(z if layer == len(case.sizes) - 2 else math.tanh(z))
        signals = out
    assert k == len(weights)
    got = case(*[Value(w) for w in weights])
    assert [v.data for v in got] == pytest.approx(signals, rel=1e-12, abs=1e-12)
    assert len(got) == n_out


@pytest.mark.parametrize("make, error, words", [
    (lambda: finite_floats(1.0, 0.0), ValueError, "min_value < max_value"),
    (lambda: finite_floats(-1.0, 1.0, avoid=(0.0,), margin=2.0), ValueError, "no number is left"),
    (lambda: finite_floats(-1.0, 1.0, margin=-0.1), ValueError, "margin"),
    (lambda: finite_floats("a", 1.0), TypeError, "min_value needs a real number"),
    (lambda: values(label=3), TypeError, "label"),
    (lambda: expressions(ops=["tan"]), ValueError, "unknown op 'tan'"),
    (lambda: expressions(ops="tanh"), TypeError, "write ['tanh']"),
    (lambda: expressions(ops=[]), ValueError, "at least one op"),
    (lambda: expressions(n_inputs=0), ValueError, "n_inputs needs a positive int, got 0"),
    (lambda: expressions(n_inputs=2.0), TypeError, "n_inputs needs a positive int, got 2.0"),
    (lambda: expressions(max_ops="3"), TypeError, "max_ops needs a positive int, got '3'"),
    (lambda: mlp_cases(max_layers=True), TypeError, "max_layers needs a positive int, got True"),
    (lambda: mlp_cases(max_width=0), ValueError, "max_width needs a positive int"),
    (lambda: autograd.testing.swapped_partials("tanh", 3).__enter__(), TypeError, "needs a function"),
])
def test_misuse_gets_a_clear_error(make, error, words):
    with pytest.raises(error, match=re.escape(words)):
        make()


def test_an_expression_called_with_the_wrong_number_of_inputs():
    expr = RandomExpression((0.5,), (Binding(OPS["exp"], (0,)),))
    with pytest.raises(TypeError, match="takes 1 inputs"):
        expr(0.5, 1.0)


def test_importing_autograd_does_not_import_hypothesis():
    code = "import sys, autograd; print('hypothesis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("module", [autograd.check, autograd.testing])
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module)
    assert tried > 0 and failures == 0


# ---- the README section ---------------------------------------------------------------------------
def _section_blocks():
    text = README.read_text(encoding="utf-8")
    start = text.index("## Test your own gradients")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```(\w+)\n(.*?)```", text[start:end if end > 0 else None], re.S)


def test_the_readme_section_runs_and_prints_what_it_shows():
    blocks = _section_blocks()
    assert [kind for kind, _ in blocks].count("python") >= 3
    namespace, printed = {"__name__": "readme"}, None
    for kind, code in blocks:
        if kind == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                # Not the file's own name: Hypothesis would read the README's lines as source.
                exec(compile(code, "<README.md: Test your own gradients>", "exec"), namespace)
            printed = out.getvalue()
        elif kind == "text":
            assert printed == code  # the output shown is the output the block prints
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    assert len(tests) == 2
    for test in tests:
        test()  # the property tests of the README, run by Hypothesis here


@given(expressions(n_inputs=3, max_ops=4, ops=["max"], margin=0.5))
def test_max_steps_keep_the_margin_between_the_largest_and_the_rest(expr):
    nodes = list(expr.inputs)
    for step in expr.steps:
        args = sorted(nodes[i] for i in step.operands)
        assert len(args) == 1 or args[-1] - args[-2] >= 0.5
        nodes.append(step.apply([nodes[i] for i in step.operands]))



# A planted derivative reaches compiled programs too. Each planted rule is wrong on purpose
# and written both ways: with a Python `if` (floats only) and with numpy (arrays too).
_PLANTED = [
    ("relu", lambda out, a: (2.0 if a > 0 else 0.5,), lambda x: np.where(x > 0, 2.0, 0.5)),
    ("relu", lambda out, a: (np.where(a > 0, 2.0, 0.5),), lambda x: np.where(x > 0, 2.0, 0.5)),
    ("abs", lambda out, a: (3.0 if a > 0 else 1.0,), lambda x: np.where(x > 0, 3.0, 1.0)),
    ("pow", lambda out, a, n: (n * a * a,), lambda x: 2.0 * x * x),  # (w x)**2: not 2·(w x)
    ("tanh", lambda out, a: (1 - out,), lambda x: 1 - np.tanh(x)),
]


@pytest.mark.parametrize("name, planted, rule", _PLANTED)
def test_swapped_partials_reach_compiled_programs(name, planted, rule):
    w = Value(0.7, "w")
    apply = {"relu": lambda z: z.relu(), "abs": abs, "pow": lambda z: z ** 2,
             "tanh": lambda z: z.tanh()}[name]
    X = np.array([-1.5, -0.2, 0.4, 2.0])
    with autograd.testing.swapped_partials(name, planted):
        program = autograd.compile(lambda x: apply(w * x), 1.0)
        program.backward(X)
        compiled = w.grad
        w.grad = None
        for x in X:  # eager, under the same planted rule
            apply(w * float(x)).backward()
        eager = w.grad
    want = float(np.sum(rule(0.7 * X) * X))  # d/dw Σ g(w x) with the planted g' = rule
    assert compiled == pytest.approx(want, rel=1e-12)
    assert eager == pytest.approx(want, rel=1e-12)
    assert OPS[name].numpy_partials is _ORIGINAL_NUMPY_PARTIALS[name]  # restored on the way out
