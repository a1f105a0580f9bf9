"""Threads, as in PyTorch: backward passes that threads run at once over graphs sharing nodes
are each correct, a leaf loses none of its accumulations, and `autograd.gradients()` never
reads or writes a `.grad`, even while another thread runs backward on the same leaves.

The first tests hold a pass at a known point with a `gate` op (the identity, whose backward
waits for the test), so each interleaving happens every run, not when the scheduler allows it.
The stress test mixes every kind of pass in four threads and checks exact totals: every
derivative in it is a small integer, so any order of additions gives the same float, and one
lost or mixed contribution changes the total.
"""
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import autograd
from autograd import Value, value
from autograd.ops import Call, Op, registered

TIMEOUT = 30  # seconds: only a broken engine waits this long (a hang fails instead of hanging)


class Gate:
    """The identity as an op whose partial, the first time a pass reaches it, stops that pass
    (`reached` is set) until the test sets `go`."""

    def __init__(self) -> None:
        self.reached, self.go = threading.Event(), threading.Event()
        self.armed = True

    def partials(self, out, a):
        if self.armed:
            self.armed = False
            self.reached.set()
            assert self.go.wait(TIMEOUT), "the test never let the held pass go"
        return (1.0,)


@pytest.fixture
def gate():
    held = Gate()
    with registered(Op("gate", "gate", Call(1), lambda a: a, held.partials, np.positive, ("1",))):
        yield held


def test_gradients_touches_no_grad_while_another_thread_runs_backward(gate):
    w = Value(1.5, "w")
    h = w * 4.0  # an intermediate node both passes go through
    w.grad, h.grad = 7.0, 11.0  # as an earlier backward() may have left them
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(autograd.gradients, autograd.gate(h) * 3.0, [w, h])
        assert gate.reached.wait(TIMEOUT)  # gradients() is half-way through its pass...
        assert (w.grad, h.grad) == (7.0, 11.0)  # ...and has written nothing
        (h * 2.0).backward()  # a whole backward pass meanwhile, on the same nodes
        assert (w.grad, h.grad) == (7.0 + 2.0 * 4.0, 2.0)
        gate.go.set()
        assert result.result(TIMEOUT) == [3.0 * 4.0, 3.0]
    assert (w.grad, h.grad) == (15.0, 2.0)  # what backward() left, nothing restored over it


def test_two_backward_passes_through_a_shared_node_never_mix(gate, monkeypatch):
    # Pass A is held half-way, after it has reset h.grad; pass B starts meanwhile through h. B
    # waits for A (passes run one at a time): x receives 2 from A and 3 from B, and h keeps
    # B's grad, the last pass through it. Mixed, x would get A's 2 plus B's 3 twice.
    x = Value(0.5, "x")
    h = x * 1.0
    x.grad = 0.0
    waiting = threading.Event()
    passes = value._passes

    class Watched:
        """backward()'s lock, saying when pass B reaches it."""

        def __enter__(self):
            if threading.current_thread().name == "B":
                waiting.set()
            return passes.__enter__()

        def __exit__(self, *exc):
            return passes.__exit__(*exc)

    monkeypatch.setattr(value, "_passes", Watched())
    a = threading.Thread(target=(autograd.gate(h) * 2.0).backward, name="A")
    b = threading.Thread(target=(h * 3.0).backward, name="B")
    a.start()
    assert gate.reached.wait(TIMEOUT)
    b.start()
    assert waiting.wait(TIMEOUT)  # B is at the lock that A holds
    gate.go.set()
    a.join(TIMEOUT)
    b.join(TIMEOUT)
    assert not a.is_alive() and not b.is_alive()
    assert x.grad == 2.0 + 3.0 and h.grad == 3.0


def test_backward_during_a_backward_pass_in_the_same_thread_is_an_error_not_a_hang():
    inner = Value(1.0, "inner") * 2.0

    def partials(out, a):
        inner.backward()  # would wait for the lock this very pass holds
        return (1.0,)

    x = Value(3.0, "x")
    with registered(Op("reenter", "reenter", Call(1), lambda a: a, partials, np.positive, ("1",))):
        with pytest.raises(RuntimeError, match="during a backward pass in the same thread"):
            autograd.reenter(x).backward()
    (x * 2.0).backward()  # the lock was let go
    assert x.grad == 2.0


def test_gradients_may_run_inside_a_backward_pass():
    # An op whose partial is itself computed with autograd, as a user may write one: the
    # nested gradients() takes no lock, so it runs inside the pass.
    def partials(out, a):
        t = Value(a)
        return tuple(autograd.gradients(t * t, [t]))  # d(t²)/dt, by a pass of its own

    x = Value(3.0, "x")
    with registered(Op("square", "square", Call(1), lambda a: a * a, partials, np.square, ("2a",))):
        autograd.square(x).backward()
    assert x.grad == 6.0


# ---- the stress test -----------------------------------------------------------------------
THREADS, ROUNDS = 4, 150


def test_threads_sharing_a_graph_get_exact_totals():
    # Every thread k, ROUNDS times: a backward pass and a gradients() call through the shared
    # node h and the shared weight w, whose derivatives are small integers. An `interleave` op
    # releases the GIL in the middle of every pass (time.sleep(0)), and the switch interval is
    # a microsecond, so other threads run in the middle of every pass, on any machine.
    x, w = Value(0.75, "x"), Value(-0.5, "w")
    x.grad = w.grad = 0.0
    h = x * 1.0

    def interleave(out, a):
        time.sleep(0)
        return (1.0,)

    def root(c: float) -> Value:
        # d/dx = c (through h * c) + 1 (abs(-h), h > 0); d/dw = c + 2 (dot, w used twice)
        terms = [autograd.interleave(h) * c, autograd.dot([w, w], [c, 2.0]), abs(-h)]
        return autograd.interleave(autograd.sum(terms))

    wrong = []
    start = threading.Barrier(THREADS)

    def worker(c: float) -> None:
        start.wait(TIMEOUT)
        for _ in range(ROUNDS):
            root(c).backward()
            got = autograd.gradients(root(c), [x, w])
            if got != [c + 1.0, c + 2.0]:
                wrong.append((c, got))

    constants = [float(2**k) for k in range(THREADS)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with registered(Op("interleave", "interleave", Call(1), lambda a: a, interleave,
                           np.positive, ("1",))):
            with ThreadPoolExecutor(THREADS) as pool:
                for done in [pool.submit(worker, c) for c in constants]:
                    done.result(TIMEOUT)
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []
    assert x.grad == ROUNDS * sum(c + 1.0 for c in constants)
    assert w.grad == ROUNDS * sum(c + 2.0 for c in constants)
    assert h.grad in [c + 1.0 for c in constants]  # one whole pass's, the last one's
