"""The optimizer's update explained (nn.updates): replaying an explanation gives the optimizer's
new number bit for bit, for SGD, momentum, Adam and a schedule; the words carry the numbers."""
import math
import struct

import pytest
from hypothesis import given, strategies as st

import autograd
import nn
from autograd import Value
from nn import updates


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


OPTIMIZERS = {
    "sgd": lambda ps: nn.SGD(ps, lr=0.1),
    "momentum": lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9),
    "adam": lambda ps: nn.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    "schedule": lambda ps: nn.SGD(ps, lr=lambda k: 1.0 - 0.9 * k / 10),
    "adam with a schedule": lambda ps: nn.Adam(ps, lr=lambda k: 0.1 / (k + 1)),
}


def alice():
    """Seed 001's network for Alice (weights 1, biases 0, x = (-2, -1), y = 1) and its loss."""
    w = [Value(1.0, f"w{i + 1}") for i in range(6)]
    b = [Value(0.0, f"b{i + 1}") for i in range(3)]
    return w + b, lambda: _alice_loss(w, b)


def _alice_loss(w, b):
    x = [-2.0, -1.0]
    h1 = autograd.dot(w[0:2], x, b[0]).sigmoid()
    h2 = autograd.dot(w[2:4], x, b[1]).sigmoid()
    o1 = autograd.dot(w[4:6], [h1, h2], b[2]).sigmoid()
    return (1.0 - o1) ** 2


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_replaying_the_explained_update_gives_the_optimizers_numbers_bit_for_bit(name):
    params, loss = alice()
    optimizer = OPTIMIZERS[name](params)
    for _ in range(5):  # the state (velocity, moments, counts, the schedule) moves on
        optimizer.zero_grad()
        loss().backward()
        pending = updates.watch(optimizer)
        optimizer.step()
        explained = pending.explain(out="L")
        assert [u.parameter for u in explained] == params
        for u in explained:
            assert bits(u.replay()) == bits(u.after) == bits(u.parameter.data), u.name
            assert u.rule == ("sgd" if name == "schedule" else name.split()[0])


@given(numbers=st.lists(st.floats(-10, 10), min_size=1, max_size=6),
       grads=st.lists(st.one_of(st.none(), st.floats(-1e3, 1e3)), min_size=6, max_size=6),
       steps=st.integers(1, 4), kind=st.sampled_from(sorted(OPTIMIZERS)))
def test_any_numbers_replay_bit_for_bit(numbers, grads, steps, kind):
    params = [Value(x) for x in numbers]
    optimizer = OPTIMIZERS[kind](params)
    for step in range(steps):
        for i, p in enumerate(params):  # some parameters get no grad on some steps
            p.grad = grads[(i + step) % len(grads)]
        pending = updates.watch(optimizer)
        optimizer.step()
        for u in pending.explain():
            assert bits(u.replay()) == bits(u.parameter.data)
            if u.grad is None:
                assert u.after == u.before and "leaves it at" in u.lines[0]


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_a_step_where_no_parameter_has_a_grad_moves_nothing(kind):
    params = [Value(0.5), Value(-2.0)]
    optimizer = OPTIMIZERS[kind](params)
    pending = updates.watch(optimizer)
    optimizer.step()  # every grad None: the step is counted, nothing moves
    assert [p.data for p in params] == [0.5, -2.0] and optimizer.steps == 1
    assert all(u.grad is None and u.after == u.before for u in pending.explain())


def test_alices_sgd_update_reads_as_the_article_writes_it():
    params, loss = alice()
    loss().backward()
    sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    h, o = sigmoid(-3.0), sigmoid(2 * sigmoid(-3.0))
    grad = -2 * (1 - o) * o * (1 - o) * h * (1 - h) * -2.0  # the article's chain rule
    pending = updates.watch(nn.SGD(params, lr=0.1))
    pending.optimizer.step()
    w1 = pending.explain(out="L")[0]
    assert w1.grad == pytest.approx(grad, rel=1e-12) and f"{w1.grad:.6g}" == "0.0214695"
    assert w1.after == pytest.approx(1 - 0.1 * grad, rel=1e-15)
    assert w1.lines == ("w1 ← w1 - η·∂L/∂w1 = 1 - 0.1 · 0.0214695 = 0.997853",)
    assert w1.title == "update w1: 1 → 0.997853"


def test_momentum_and_adam_show_their_state_and_the_step_taken():
    p = Value(1.0, "w")
    sgd = nn.SGD([p], lr=0.1, momentum=0.9)
    for g in (2.0, 3.0):
        p.grad = g
        pending = updates.watch(sgd)
        sgd.step()
    (u,) = pending.explain()
    assert u.state == {"velocity": 2.0} and u.values["velocity"] == 0.9 * 2.0 + 3.0
    assert u.lines[0] == "velocity: v ← μ·v + ∂L/∂w = 0.9 · 2 + 3 = 4.8"
    assert u.lines[1] == f"w ← w - η·v = 0.8 - 0.1 · 4.8 = {p.data:.6g}"

    q = Value(1.0, "q")
    adam = nn.Adam([q], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    for g in (0.5, -1.0):
        q.grad = g
        pending = updates.watch(adam)
        adam.step()
    (u,) = pending.explain()
    m = 0.8 * (0.2 * 0.5) + 0.2 * -1.0
    v = 0.99 * (0.01 * 0.5 * 0.5) + 0.01 * -1.0 * -1.0
    assert u.values["t"] == 2 and u.values["m"] == pytest.approx(m) and u.values["v"] == pytest.approx(v)
    text = "\n".join(u.lines)
    assert "t = 2" in text and "1 - β1^2" in text and "1 - β2^2" in text
    assert f"{m:.6g}" in text and f"{m / (1 - 0.8 ** 2):.6g}" in text  # m and m̂
    assert "step = η·m̂ / (√v̂ + ε) = 0.01 ·" in text
    assert text.endswith(f"= {q.data:.6g}")
    title, lines = pending.describe(out="L")
    assert "Adam" in title and any("bias correction" in line for line in lines)


def test_a_schedule_says_which_step_it_was_read_at():
    p = Value(0.0, "w")
    optimizer = nn.SGD([p], lr=lambda k: 1.0 / (k + 1))
    for _ in range(3):
        p.grad = 1.0
        pending = updates.watch(optimizer)
        optimizer.step()
    assert pending.rate == 1 / 3
    assert "η = 0.333333: the learning-rate schedule at step 2" in pending.describe()[1]


def test_a_rule_nn_does_not_know_is_shown_as_what_it_did():
    class Clipped(nn.SGD):
        def step(self):
            for p in self.params:
                p.grad = max(-1.0, min(1.0, p.grad))
            super().step()

    p = Value(1.0, "w")
    p.grad = 5.0
    pending = updates.watch(Clipped([p], lr=0.1))
    pending.optimizer.step()
    (u,) = pending.explain()
    assert u.rule == "other" and u.after == 0.9 and u.replay() == 0.9
    assert u.lines == ("w: 1 → 0.9 (changed by -0.1); the optimizer's own rule made this number",)
    assert "rule of its own" in pending.describe()[0]


def test_misuse_is_a_clear_error():
    with pytest.raises(TypeError, match="optimizer"):
        updates.watch([Value(1.0)])
    p = Value(1.0, "w")
    p.grad = 1.0
    optimizer = nn.SGD([p], lr=0.1)
    pending = updates.watch(optimizer)
    with pytest.raises(RuntimeError, match="after one optimizer.step"):
        pending.explain()  # no step yet
    optimizer.step()
    optimizer.step()
    with pytest.raises(RuntimeError, match="2 steps"):
        pending.explain()


def test_an_explanation_that_would_not_match_raises_instead_of_showing_it():
    p = Value(1.0, "w")
    p.grad = 1.0
    optimizer = nn.SGD([p], lr=0.1, momentum=0.9)
    pending = updates.watch(optimizer)
    optimizer.velocity[0] = 5.0  # changed behind the explanation's back
    optimizer.step()
    with pytest.raises(RuntimeError, match="does not match its explanation"):
        pending.explain()
