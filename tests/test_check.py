"""gradcheck and gradgradcheck: what they accept, what they catch, and how they say it.

Every expected number is a closed form written here (tanh' = 1 - tanh², the slopes of relu),
not a number read back from the checker.
"""
import itertools
import math
import re

import pytest

import autograd
from autograd import GradcheckError, OPS, Value, gradcheck, gradgradcheck
from autograd.testing import swapped_partials

LINE = re.compile(
    r"output (\d+) wrt input (\d+) \(x=(\S+)\): analytical=(\S+) numerical=(\S+) "
    r"\|diff\|=(\S+) > allowed=(\S+)$"
)


@pytest.fixture
def wrong_tanh():
    """tanh' = 1 - out instead of 1 - out², restored after the test even if it fails."""
    with swapped_partials("tanh", lambda out, a: (1 - out,)):
        yield


def test_correct_gradients_pass():
    assert gradcheck(lambda x, y: (x * y).tanh() + x.exp() / y, [0.5, -1.5])
    assert gradcheck(lambda x: [x.sin(), x * x, x.sigmoid()], [0.3])  # one row per output
    assert gradcheck(lambda x, y: x ** y, [1.7, 0.4])


def test_a_wrong_derivative_fails_with_a_readable_report(wrong_tanh):
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x, y: x.tanh() * y, [0.5, 2.0])
    header, *lines = str(caught.value).splitlines()
    assert header.startswith("gradcheck failed for 1 of 2 gradients (eps=1e-06, atol=1e-05, rtol=0.001")
    (line,) = lines
    output, wrt, x, analytical, numerical, diff, allowed = LINE.match(line).groups()
    t = math.tanh(0.5)
    assert (output, wrt, float(x)) == ("0", "0", 0.5)
    assert float(analytical) == pytest.approx(2 * (1 - t), rel=1e-5)  # what the wrong rule says
    assert float(numerical) == pytest.approx(2 * (1 - t * t), rel=1e-5)  # the truth
    assert float(diff) == pytest.approx(2 * (t - t * t), rel=0.05)
    assert float(allowed) == pytest.approx(1e-5 + 1e-3 * 2 * (1 - t * t), rel=0.05)
    (failure,) = caught.value.report.failures
    assert (failure.kind, failure.output, failure.input, failure.x) == ("mismatch", 0, 0, 0.5)
    assert failure.analytical == 2.0 * (1 - t)
    assert failure.numerical == pytest.approx(2 * (1 - t * t), abs=1e-8)
    assert isinstance(caught.value, AssertionError)  # so a bare `assert gradcheck(...)` reads well


def test_the_op_table_is_restored_after_a_swap():
    with pytest.raises(ZeroDivisionError), swapped_partials("tanh", lambda out, a: (1 / 0,)):
        Value(0.5).tanh().backward()
    assert gradcheck(autograd.tanh, [0.5])


def test_raise_exception_false_returns_false(wrong_tanh):
    assert gradcheck(autograd.tanh, [0.5], raise_exception=False) is False
    assert gradcheck(autograd.exp, [0.5], raise_exception=False) is True


def test_the_pass_rule_is_atol_plus_rtol_times_numerical(wrong_tanh):
    t = math.tanh(0.8)
    gap = t - t * t  # |(1 - t) - (1 - t²)|, the error of the wrong rule; finite differences add < 1e-9
    assert gradcheck(autograd.tanh, [0.8], atol=gap + 1e-7, rtol=0.0)
    assert not gradcheck(autograd.tanh, [0.8], atol=gap - 1e-7, rtol=0.0, raise_exception=False)
    assert gradcheck(autograd.tanh, [0.8], atol=0.0, rtol=gap / (1 - t * t) + 1e-7)
    assert not gradcheck(autograd.tanh, [0.8], atol=0.0, rtol=gap / (1 - t * t) - 1e-7,
                         raise_exception=False)


def test_relu_at_zero_is_a_kink_not_a_mismatch():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(autograd.relu, [0.0])
    (failure,) = caught.value.report.failures
    assert failure.kind == "kink"
    assert "kink" in failure.line and "slope jumps from 0 (left) to 1 (right)" in failure.line
    assert "|diff|" not in failure.line
    assert gradcheck(autograd.relu, [0.5]) and gradcheck(autograd.relu, [-0.5])


def test_a_kink_within_the_step_is_a_kink_too():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: (x - 3e-7).relu(), [0.0])  # the kink is 0.3 eps to the right
    assert caught.value.report.failures[0].kind == "kink"


def test_abs_at_zero_passes_because_central_differences_see_the_subgradient():
    # (|h| - |-h|) / 2h = 0 = abs'(0) by PyTorch's convention: nothing failed, nothing to explain.
    assert gradcheck(abs, [0.0])


def test_a_curved_smooth_function_with_a_wrong_derivative_is_a_mismatch(wrong_tanh):
    # Strong curvature makes the one-sided slopes differ, but not like a kink.
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: (x * 300.0).tanh(), [0.002])
    assert {f.kind for f in caught.value.report.failures} == {"mismatch"}


@pytest.mark.parametrize("f, x, shown", [
    (autograd.log, 0.0, "f=-inf"),
    (autograd.sqrt, 0.0, "analytical=inf"),
    (lambda x: (x - 1.0).log(), 0.5, "f=nan"),
])
def test_non_finite_values_are_reported_not_compared(f, x, shown):
    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, [x])
    (failure,) = caught.value.report.failures
    assert failure.kind == "non-finite"
    assert "non-finite values, not compared" in failure.line and shown in failure.line


def test_a_function_that_differs_between_builds_is_reported():
    calls = itertools.count()

    def drifting(x):
        return x * (1.0 + 1e-12 * next(calls))

    with pytest.raises(GradcheckError) as caught:
        gradcheck(drifting, [0.5])
    kinds = [f.kind for f in caught.value.report.failures]
    assert kinds[0] == "nondeterministic"
    assert "not deterministic" in caught.value.report.failures[0].line


def test_the_callers_values_and_grads_are_untouched():
    x, y = Value(0.5, "x"), Value(-1.5)
    x.grad = 3.0
    assert gradcheck(lambda a, b: a * b, [x, y])
    assert (x.data, x.grad, y.data, y.grad) == (0.5, 3.0, -1.5, None)
    assert (x.parents, x.op) == ((), None)


def test_values_the_function_closes_over_keep_their_grads():
    w = Value(2.0)
    assert gradcheck(lambda x: w * x.tanh(), [0.3])
    assert w.grad is None


def test_evaluation_counts_full_and_fast_mode():
    calls = []

    def f(*xs):
        calls.append(1)
        return autograd.sum([x.tanh() for x in xs])

    n = 30
    gradcheck(f, [0.01 * i for i in range(n)])
    assert len(calls) == 2 + 2 * n  # two builds for the gradients, two evaluations per input
    calls.clear()
    gradcheck(f, [0.01 * i for i in range(n)], fast_mode=True)
    assert len(calls) == 2 + 2  # two builds, two evaluations along one direction


def test_fast_mode_catches_a_wrong_derivative_and_is_reproducible(wrong_tanh):
    def f(x, y, z):
        return (x * y + z).tanh()

    reports = []
    for seed in (0, 0, 1):
        with pytest.raises(GradcheckError) as caught:
            gradcheck(f, [0.3, -0.7, 0.2], fast_mode=True, seed=seed)
        (failure,) = caught.value.report.failures
        assert failure.input is None and "along a random direction (seed=" in failure.line
        reports.append((failure.analytical, failure.numerical))
    assert reports[0] == reports[1] != reports[2]


def _set_parameter(model, name: str, value: Value) -> None:
    """model.<name> = value for a dotted parameter name such as layers.0.neurons.3.w.2."""
    *path, last = name.split(".")
    owner = model
    for part in path:
        owner = owner[int(part)] if part.isdigit() else getattr(owner, part)
    if last.isdigit():
        owner[int(last)] = value
    else:
        setattr(owner, last, value)


def test_fast_mode_checks_every_parameter_of_an_nn_mlp():
    nn = pytest.importorskip("nn")
    model = nn.MLP(3, [8, 8, 2], activation="tanh", seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert len(names) == 4 * 8 + 9 * 8 + 9 * 2

    def network(*parameters):
        for name, p in zip(names, parameters):
            _set_parameter(model, name, p)
        return model([0.5, -1.0, 2.0])

    assert gradcheck(network, model.parameters(), fast_mode=True)
    with swapped_partials("tanh", lambda out, a: (1 - out,)):
        assert not gradcheck(network, model.parameters(), fast_mode=True, raise_exception=False)


def test_gradgradcheck_passes_on_correct_second_derivatives():
    assert gradgradcheck(lambda x, y: (x * y).tanh() * x, [0.3, 0.7])
    assert gradgradcheck(lambda x: [x.sin() * x, x.sigmoid()], [0.4])
    assert gradgradcheck(lambda x, y: x ** y, [1.3, 0.6])


def test_gradgradcheck_catches_what_gradcheck_cannot():
    # Right on floats, but on Values the partial is a constant: second derivatives are lost.
    def detached(out, a):
        if isinstance(out, Value):
            return (1 - out.detach() * out.detach(),)
        return (1 - out * out,)

    with swapped_partials("tanh", detached):
        assert gradcheck(autograd.tanh, [0.6])
        with pytest.raises(GradcheckError) as caught:
            gradgradcheck(autograd.tanh, [0.6])
    (failure,) = caught.value.report.failures
    t = math.tanh(0.6)
    assert failure.line.startswith("d(output 0)/d(input 0) wrt input 0 (x=0.6): analytical=0 ")
    assert failure.numerical == pytest.approx(-2 * t * (1 - t * t), rel=1e-6)  # tanh''
    assert str(caught.value).startswith("gradgradcheck failed for 1 of 1 gradients")


@pytest.mark.parametrize("call, error, words", [
    (lambda: gradcheck("tanh", [0.5]), TypeError, "needs a function"),
    (lambda: gradcheck(autograd.tanh, []), ValueError, "at least one input"),
    (lambda: gradcheck(autograd.tanh, ["0.5"]), TypeError, "input 0 is '0.5' (str)"),
    (lambda: gradcheck(autograd.tanh, [math.nan]), ValueError, "finite inputs; input 0 is nan"),
    (lambda: gradcheck(autograd.tanh, [0.5], eps=0), ValueError, "eps=...) needs a positive"),
    (lambda: gradcheck(autograd.tanh, [0.5], atol=-1), ValueError, "atol=...) needs a non-negative"),
    (lambda: gradcheck(autograd.tanh, [0.5], seed=1.5), TypeError, "seed=...) needs an int"),
    (lambda: gradcheck(lambda x: 3.0, [0.5]), TypeError, "return a Value"),
    (lambda: gradcheck(lambda x: [], [0.5]), TypeError, "non-empty list of Values"),
    (lambda: gradgradcheck(None, [0.5]), TypeError, "needs a function"),
])
def test_misuse_gets_a_clear_error(call, error, words):
    with pytest.raises(error, match=re.escape(words)):
        call()


def test_a_single_number_or_value_is_one_input():
    assert gradcheck(autograd.exp, 0.5) and gradcheck(autograd.exp, Value(0.5))


def test_op_table_is_the_one_being_checked():
    # gradcheck goes through the public API, which reads OPS: a swap is seen everywhere.
    with swapped_partials(OPS["exp"], lambda out, a: (2 * out,)):
        assert not gradcheck(autograd.exp, [0.1], raise_exception=False)
    assert gradcheck(autograd.exp, [0.1])


def test_a_1d_numpy_array_is_a_list_of_inputs():
    import numpy as np

    assert gradcheck(lambda x, y: (x * y).tanh(), np.array([0.5, -1.5]))
    assert gradcheck(autograd.exp, np.array(0.5))  # a 0-d array is one number
    with swapped_partials("mul", lambda out, a, b: (b, 2 * a)):  # d/dy wrong: 2x, not x
        with pytest.raises(GradcheckError) as caught:
            gradcheck(lambda x, y: x * y, np.array([0.5, -1.5]))
    [failure] = caught.value.report.failures
    assert (failure.input, failure.x, failure.analytical) == (1, -1.5, 2 * 0.5)


def test_a_2d_numpy_array_is_refused_clearly():
    import numpy as np

    with pytest.raises(ValueError, match=re.escape(
            "gradcheck needs a 1-D array of inputs (one number per input), got a numpy "
            "array of shape (2, 2)")):
        gradcheck(lambda *xs: autograd.sum(xs), np.ones((2, 2)))


def test_any_integral_seed_is_accepted():
    import numpy as np

    f = lambda x, y: x * y  # noqa: E731
    with swapped_partials("mul", lambda out, a, b: (b, 2 * a)):
        reports = []
        for seed in (3, np.int64(3)):
            with pytest.raises(GradcheckError) as caught:
                gradcheck(f, [0.5, -1.5], fast_mode=True, seed=seed)
            reports.append(caught.value.report)
    assert reports[0] == reports[1] and reports[1].seed == 3 and type(reports[1].seed) is int


def test_a_large_input_is_reported_as_lost_precision_not_a_mismatch():
    # f = x², f' = 2x. At x = 1e8, f(x±1e-6) ≈ 1e16 differ by 400 while a double near 1e16 is
    # only good to ±2: the central difference is off by ~0.5%, from rounding alone.
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: x * x, [1e8])
    [failure] = caught.value.report.failures
    assert failure.kind == "precision" and failure.analytical == 2e8
    assert "numerical derivative lost precision: |x|=1e+08 with eps=1e-06" in failure.line
    suggested = float(re.search(r"try eps=(\S+?)[;)\s]", failure.line).group(1))
    assert gradcheck(lambda x: x * x, [1e8], eps=suggested)  # the advice works
    # fast mode names the largest input
    with pytest.raises(GradcheckError, match=r"lost precision: \|x\|=1e\+08"):
        gradcheck(lambda x, y: x * y, [1e8, 1e8], fast_mode=True)


def test_a_wrong_gradient_at_a_large_input_is_still_a_mismatch():
    # 10% off is far beyond what rounding explains, so it is not excused as lost precision
    with swapped_partials("mul", lambda out, a, b: (1.1 * b, 1.1 * a)):
        with pytest.raises(GradcheckError) as caught:
            gradcheck(lambda x: x * x, [1e8])
    assert [f.kind for f in caught.value.report.failures] == ["mismatch"]
