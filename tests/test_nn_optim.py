"""SGD, momentum, Adam and schedules against the update formulas written out here."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Value


def params_with_grads(data, grads):
    ps = [Value(d) for d in data]
    for p, g in zip(ps, grads):
        p.grad = g
    return ps


def test_sgd_step_is_p_minus_lr_g():
    ps = params_with_grads([1.0, -2.0], [0.5, -4.0])
    nn.SGD(ps, lr=0.1).step()
    assert [p.data for p in ps] == [1.0 - 0.1 * 0.5, -2.0 - 0.1 * -4.0]


def test_sgd_momentum_two_steps():
    ps = params_with_grads([1.0], [2.0])
    opt = nn.SGD(ps, lr=0.1, momentum=0.9)
    opt.step()
    ps[0].grad = 3.0
    opt.step()
    v1 = 2.0
    v2 = 0.9 * v1 + 3.0
    assert ps[0].data == pytest.approx(1.0 - 0.1 * v1 - 0.1 * v2, rel=1e-15)


def test_adam_three_steps_against_the_paper():
    grads = [0.5, -1.0, 0.25]
    p = params_with_grads([1.0], [grads[0]])[0]
    opt = nn.Adam([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    x, m, v = 1.0, 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        p.grad = g
        opt.step()
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g * g
        x -= 0.01 * (m / (1 - 0.8**t)) / (math.sqrt(v / (1 - 0.99**t)) + 1e-6)
        assert p.data == pytest.approx(x, rel=1e-14)


def test_schedule_gets_the_step_number():
    seen = []
    ps = params_with_grads([0.0], [1.0])

    def schedule(k):
        seen.append(k)
        return 1.0 / (k + 1)

    opt = nn.SGD(ps, lr=schedule)
    for _ in range(3):
        opt.step()
    assert seen == [0, 1, 2]
    assert ps[0].data == pytest.approx(-(1 + 1 / 2 + 1 / 3))


def test_parameters_without_grad_are_left_alone_and_zero_grad_clears():
    ps = params_with_grads([1.0, 2.0], [None, 1.0])
    opt = nn.Adam(ps, lr=0.1)
    opt.step()
    assert ps[0].data == 1.0 and ps[1].data != 2.0
    opt.zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]


@pytest.mark.parametrize("make", [lambda ps: nn.SGD(ps, lr=0.1),
                                  lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: nn.Adam(ps, lr=0.1)])
def test_a_step_with_no_grad_at_all_moves_nothing_and_the_next_moves_as_a_first(make):
    ps = params_with_grads([1.0, 2.0], [None, None])  # before any backward pass
    opt = make(ps)
    opt.step()
    assert [p.data for p in ps] == [1.0, 2.0]
    ps[0].grad, ps[1].grad = 0.5, -0.5
    fresh = params_with_grads([1.0, 2.0], [0.5, -0.5])
    make(fresh).step()  # a first step with grads moves as if the empty one had not happened
    opt.step()
    assert [p.data for p in ps] == [p.data for p in fresh]


def test_clear_errors():
    with pytest.raises(ValueError, match="at least one parameter"):
        nn.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="take Values"):
        nn.SGD([1.0], lr=0.1)
    with pytest.raises(ValueError, match="is a constant"):
        nn.SGD([Value(1.0, requires_grad=False)], lr=0.1)
    with pytest.raises(ValueError, match="lr should be a finite number"):
        nn.SGD([Value(1.0)], lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        nn.SGD([Value(1.0)], lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="betas"):
        nn.Adam([Value(1.0)], betas=(0.9,))
    with pytest.raises(ValueError, match="schedule at step 0"):
        nn.SGD(params_with_grads([1.0], [1.0]), lr=lambda k: float("nan")).step()


def test_duplicate_parameters_and_modules_are_refused():
    p = Value(1.0, label="w")
    with pytest.raises(ValueError, match=r"parameter 'w' is listed twice \(at positions 0 and 2\)"):
        nn.SGD([p, Value(2.0), p], lr=0.1)
    model = nn.MLP(2, [2, 1], seed=0)
    with pytest.raises(TypeError, match=r"pass model.parameters\(\)"):
        nn.Adam(model, lr=0.1)
    with pytest.raises(TypeError, match=r"pass model.parameters\(\)"):
        nn.SGD(nn.Sequential(nn.Layer(1, 1, seed=0)), lr=0.1)


@pytest.mark.parametrize("make, error, message", [
    (lambda p: nn.SGD(p, lr="0.1"), TypeError, r"lr should be a finite number >= 0, got '0.1' \(str\)"),
    (lambda p: nn.SGD(p, lr=float("nan")), ValueError, "lr should be a finite number"),
    (lambda p: nn.SGD(p, lr=0.1, momentum="0.9"), TypeError, "momentum should be a number"),
    (lambda p: nn.SGD(p, lr=0.1, momentum=1.0), ValueError, r"momentum should be a number in \[0, 1\)"),
    (lambda p: nn.Adam(p, betas=0.9), TypeError, "betas should be two numbers"),
    (lambda p: nn.Adam(p, betas=(0.9, 1.5)), ValueError, r"betas should be two numbers in \[0, 1\)"),
    (lambda p: nn.Adam(p, eps="1e-8"), TypeError, "eps should be a positive number"),
    (lambda p: nn.Adam(p, eps=0.0), ValueError, "eps should be a positive number"),
])
def test_wrong_types_are_type_errors_and_wrong_values_value_errors(make, error, message):
    with pytest.raises(error, match=message):
        make([Value(1.0)])


def test_a_schedule_returning_a_string_is_a_type_error():
    opt = nn.SGD([Value(1.0)], lr=lambda k: "fast")
    with pytest.raises(TypeError, match="schedule at step 0 should be a finite number"):
        opt.step()


def test_adam_counts_steps_per_parameter_as_pytorch_does():
    # p has a grad on every step; q only from the third step on (grad None before).
    p, q = Value(1.0), Value(1.0)
    opt = nn.Adam([p, q], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    q_ref, m, v, t = 1.0, 0.0, 0.0, 0
    for step, g in enumerate([0.5, -1.0, 0.25, 2.0]):
        p.grad = g
        q.grad = None if step < 2 else g
        opt.step()
        if q.grad is not None:
            t += 1  # q's own count: its first update is bias-corrected with t = 1
            m = 0.8 * m + 0.2 * g
            v = 0.99 * v + 0.01 * g * g
            q_ref -= 0.01 * (m / (1 - 0.8**t)) / (math.sqrt(v / (1 - 0.99**t)) + 1e-6)
        assert q.data == pytest.approx(q_ref, rel=1e-14)
    assert opt.counts == [4, 2]


# ---- one rule, two ways: on Values (step) and on a vector (step_vector) --------------------------
def scalar_reference(kind, data, grads_per_step, lr, mu=0.0, betas=(0.9, 0.999), eps=1e-8):
    """Each rule written per parameter with Python floats (the formulas of PyTorch's docs)."""
    x = list(data)
    v = [0.0] * len(x)
    m, s, t = [0.0] * len(x), [0.0] * len(x), [0] * len(x)
    for k, grads in enumerate(grads_per_step):
        rate = lr(k) if callable(lr) else lr
        for i, g in enumerate(grads):
            if g is None:
                continue
            if kind == "sgd":
                if mu:
                    g = v[i] = mu * v[i] + g
                x[i] -= rate * g
            else:
                b1, b2 = betas
                t[i] += 1
                m[i] = b1 * m[i] + (1.0 - b1) * g
                s[i] = b2 * s[i] + (1.0 - b2) * g * g
                x[i] -= rate * (m[i] / (1.0 - b1 ** t[i])) / (math.sqrt(s[i] / (1.0 - b2 ** t[i])) + eps)
    return x


OPTIMIZERS = {
    "sgd": (lambda ps: nn.SGD(ps, lr=0.1), dict(kind="sgd", lr=0.1)),
    "momentum": (lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9), dict(kind="sgd", lr=0.05, mu=0.9)),
    "schedule": (lambda ps: nn.SGD(ps, lr=lambda k: 1.0 - 0.09 * k), dict(kind="sgd", lr=lambda k: 1.0 - 0.09 * k)),
    "adam": (lambda ps: nn.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6),
             dict(kind="adam", lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    "adam schedule": (lambda ps: nn.Adam(ps, lr=lambda k: 0.01 / (k + 1)),
                      dict(kind="adam", lr=lambda k: 0.01 / (k + 1))),
}


@settings(deadline=None, max_examples=25)
@given(st.sampled_from(sorted(OPTIMIZERS)), st.integers(1, 6), st.integers(1, 8),
       st.integers(0, 2**32 - 1))
def test_step_vector_and_step_give_the_per_parameter_rule(name, size, steps, seed):
    """The same numbers (to 1e-12) from the Values, from the vector, and from the rule written
    per parameter; the vector leaves the Values alone."""
    make, reference = OPTIMIZERS[name]
    rng = np.random.default_rng(seed)
    data = rng.normal(size=size).tolist()
    grads_per_step = rng.normal(size=(steps, size)).tolist()
    values = [Value(x) for x in data]
    on_values, on_vector = make(values), make([Value(x) for x in data])
    vector = np.array(data)
    for grads in grads_per_step:
        for p, g in zip(values, grads):
            p.grad = g
        on_values.step()
        vector = on_vector.step_vector(vector, np.array(grads))
    want = scalar_reference(data=data, grads_per_step=grads_per_step, **reference)
    np.testing.assert_allclose([p.data for p in values], want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vector, want, rtol=1e-12, atol=1e-12)
    assert [p.data for p in on_vector.params] == data and on_vector.steps == steps


def test_step_vector_continues_per_parameter_adam_counts():
    """Steps on Values where one parameter had no grad, then steps on the vector: each
    parameter keeps its own count (bias correction), as the rule per parameter does."""
    grads = [[0.5, None], [-1.0, None], [0.25, 0.3], [2.0, -0.7], [0.1, 0.2]]
    p, q = Value(1.0), Value(-1.0)
    opt = nn.Adam([p, q], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    for g in grads[:2]:
        p.grad, q.grad = g
        opt.step()
    vector = np.array([p.data, q.data])
    for g in grads[2:]:
        vector = opt.step_vector(vector, np.array(g))
    assert opt.counts == [5, 3]
    want = scalar_reference("adam", [1.0, -1.0], grads, lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    np.testing.assert_allclose(vector, want, rtol=1e-14)


def test_step_vector_checks_its_vectors():
    opt = nn.SGD([Value(1.0), Value(2.0)], lr=0.1)
    with pytest.raises(ValueError, match=r"numbers and the grads of the 2 parameters .* got \(3,\) and \(2,\)"):
        opt.step_vector(np.zeros(3), np.zeros(2))
    assert opt.steps == 0
