"""The engine's speed paths keep their promises: the collector is paused only inside our calls
and always restored, and the iterative graph walk is the recursive depth-first walk."""
import gc
import random
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Value


@pytest.fixture
def collector_state():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("enabled", [True, False])
def test_backward_and_gradients_leave_the_collector_as_they_found_it(collector_state, enabled):
    (gc.enable if enabled else gc.disable)()
    x = Value(0.3)
    y = (x * x).tanh()
    y.backward()
    assert gc.isenabled() is enabled
    autograd.gradients(y, [x])
    assert gc.isenabled() is enabled
    with autograd.detect_anomaly(), pytest.raises(FloatingPointError):
        Value(0.0).sqrt().backward()  # the backward raises inside the pause
    assert gc.isenabled() is enabled


def test_the_collector_is_off_during_backward(collector_state):
    gc.enable()
    seen = []

    # Record the collector's state from inside the chain rule, through the op table.
    x = Value(1.0)
    y = x * 2.0
    original = autograd.OPS["mul"].partials

    def watching(out, a, b):
        seen.append(gc.isenabled())
        return original(out, a, b)

    object.__setattr__(autograd.OPS["mul"], "partials", watching)
    try:
        y.backward()
    finally:
        object.__setattr__(autograd.OPS["mul"], "partials", original)
    assert seen == [False] and gc.isenabled()


def test_paused_gc_nests_restores_on_error_and_is_shared_by_threads(collector_state):
    gc.enable()
    with autograd.paused_gc():
        assert not gc.isenabled()
        with autograd.paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block is still open
    assert gc.isenabled()
    with pytest.raises(KeyError), autograd.paused_gc():
        raise KeyError("x")
    assert gc.isenabled()

    inside, release = threading.Event(), threading.Event()

    def other():
        with autograd.paused_gc():
            inside.set()
            release.wait(30)

    t = threading.Thread(target=other)
    t.start()
    assert inside.wait(30), "the other thread did not enter paused_gc() within 30 s"
    with autograd.paused_gc():
        pass
    assert not gc.isenabled()  # the other thread's block is still open
    release.set()
    t.join(30)
    assert not t.is_alive(), "the other thread did not leave paused_gc() within 30 s"
    assert gc.isenabled()


def _recursive_order(root, gradient_only):
    order, seen = [], set()

    def visit(node):
        seen.add(id(node))
        for p in node.parents:
            if id(p) not in seen and (p.requires_grad or not gradient_only):
                visit(p)
        order.append(node)

    visit(root)
    return order


@given(seed=st.integers(0, 10**6), size=st.integers(1, 40), gradient_only=st.booleans())
def test_the_walk_is_the_recursive_depth_first_walk(seed, size, gradient_only):
    rng = random.Random(seed)
    nodes = [Value(rng.uniform(-1, 1), requires_grad=rng.random() < 0.8) for _ in range(3)]
    for _ in range(size):
        a, b = rng.choice(nodes), rng.choice(nodes)
        kind = rng.randrange(4)
        if kind == 0:
            nodes.append(a * b)
        elif kind == 1:
            nodes.append(a.tanh())
        elif kind == 2:
            nodes.append(autograd.sum(rng.sample(nodes, min(3, len(nodes)))))
        else:
            nodes.append(a + rng.uniform(-1, 1))
    root = nodes[-1]
    assert autograd.topological_order(root, gradient_only=gradient_only) == _recursive_order(
        root, gradient_only
    )
