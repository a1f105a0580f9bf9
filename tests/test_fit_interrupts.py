"""`nn.fit` stopped part-way: Ctrl-C, and bad data (issue 16, items 5 and 6).

Fault injection: a KeyboardInterrupt is raised at every bytecode of one optimizer step (a
trace function raising at the k-th opcode run in nn/optim.py and nn/train.py during the
third step, for every k), for SGD, SGD with momentum and Adam, eager and compiled. Each time, the parameters and the
optimizer's state must be those after 2 or after 3 whole steps of an independent reference
(the same training written here with numpy: a linear model, its mean squared error, each rule
by its formula), never a mix, and fit returns the history so far with a warning.
"""
import math
import os
import sys
import warnings

import numpy as np
import pytest

import nn
from autograd import Value

RNG = np.random.default_rng(7)
X = RNG.normal(size=(8, 2))
Y = X @ np.array([1.5, -0.5]) + 0.25
BATCH, EPOCHS, STEP = 4, 2, 2  # 2 batches per epoch, 4 steps; interrupted during step STEP + 1
LR = 0.1
RULES = {
    "sgd": lambda params: nn.SGD(params, lr=LR),
    "momentum": lambda params: nn.SGD(params, lr=LR, momentum=0.9),
    "adam": lambda params: nn.Adam(params, lr=LR),
}


def reference(rule: str, steps: int) -> tuple[np.ndarray, dict]:
    """(w0, w1, b) and the optimizer's state after `steps` steps, in numpy."""
    theta, v, m, s = np.array([0.3, -0.2, 0.1]), np.zeros(3), np.zeros(3), np.zeros(3)
    order = [np.arange(i, i + BATCH) for _ in range(EPOCHS) for i in range(0, len(X), BATCH)]
    for t, rows in enumerate(order[:steps], start=1):
        xb, yb = X[rows], Y[rows]
        error = xb @ theta[:2] + theta[2] - yb
        grad = np.append(2 * xb.T @ error / len(rows), 2 * error.mean())
        if rule == "sgd":
            theta = theta - LR * grad
        elif rule == "momentum":
            v = 0.9 * v + grad
            theta = theta - LR * v
        else:
            m, s = 0.9 * m + 0.1 * grad, 0.999 * s + 0.001 * grad * grad
            theta = theta - LR * (m / (1 - 0.9 ** t)) / (np.sqrt(s / (1 - 0.999 ** t)) + 1e-8)
    state = {"sgd": {}, "momentum": {"velocity": v}, "adam": {"m": m, "v": s}}[rule]
    return theta, state


def model_and_optimizer(rule: str):
    params = [Value(0.3, "w0"), Value(-0.2, "w1"), Value(0.1, "b")]
    return (lambda x: params[0] * x[0] + params[1] * x[1] + params[2]), params, RULES[rule](params)


def train(rule: str, compiled: bool):
    model, params, optimizer = model_and_optimizer(rule)
    history = nn.fit(model, X, Y, nn.mse, optimizer, epochs=EPOCHS, batch_size=BATCH,
                     shuffle=False, progress=False, compiled=compiled)
    return params, optimizer, history


def state_of(optimizer) -> dict:
    return {name: np.asarray(getattr(optimizer, name)) for name in optimizer._state
            if name in ("velocity", "m", "v")}


def matches(params, optimizer, rule: str, steps: int) -> bool:
    theta, state = reference(rule, steps)
    if optimizer.steps != steps or not np.allclose([p.data for p in params], theta, rtol=1e-12,
                                                   atol=1e-15):
        return False
    if rule == "adam" and optimizer.counts != [steps] * 3:
        return False
    return all(np.allclose(state_of(optimizer)[k], v, rtol=1e-12, atol=1e-15)
               for k, v in state.items())


STEPPING = (os.path.join("nn", "optim.py"), os.path.join("nn", "train.py"))  # where a step
# runs (the loss and the model before it change nothing: nn/losses.py, autograd are not counted)


class Interrupter:
    """A trace function that raises KeyboardInterrupt at the k-th opcode run in the frames of
    nn/optim.py and nn/train.py during the `which`-th call of a step method (None: counts
    them, raises nothing)."""

    def __init__(self, step_codes, which: int, k: int | None,
                 error: type[BaseException] = KeyboardInterrupt) -> None:
        self.step_codes, self.which, self.k, self.error = step_codes, which, k, error
        self.calls = self.count = 0
        self.armed = self.fired = False

    def __call__(self, frame, event, arg):
        if event != "call":
            return None
        if frame.f_code in self.step_codes:
            self.calls += 1
            self.armed = self.calls == self.which
        if not self.armed or not frame.f_code.co_filename.endswith(STEPPING):
            return None
        frame.f_trace_opcodes = True
        return self.local

    def local(self, frame, event, arg):
        if event == "return" and frame.f_code in self.step_codes:
            self.armed = False
        if event == "opcode" and self.armed and not self.fired:
            self.count += 1
            if self.k is not None and self.count == self.k:
                self.fired = True
                raise self.error
        return self.local


STEP_CODES = {nn.train._OnValues.step.__code__, nn.train._Compiled.step.__code__}


def interrupted_run(rule: str, compiled: bool, k: int | None):
    tracer = Interrupter(STEP_CODES, STEP + 1, k)
    sys.settrace(tracer)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            params, optimizer, history = train(rule, compiled)
    finally:
        sys.settrace(None)
    return tracer, params, optimizer, history, [str(w.message) for w in caught]


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("rule", sorted(RULES))
def test_an_interrupt_anywhere_in_a_step_leaves_a_whole_step(rule, compiled):
    for steps in range(EPOCHS * 2 + 1):  # the reference is what fit does, step by step
        assert not matches(*model_and_optimizer(rule)[1:], rule, steps) or steps == 0
    params, optimizer, _ = train(rule, compiled)
    assert matches(params, optimizer, rule, EPOCHS * 2)

    points = interrupted_run(rule, compiled, None)[0].count  # the opcodes of one step
    assert points > (40 if compiled else 60)
    outcomes = {2: 0, 3: 0}
    for k in range(1, points + 1):
        tracer, params, optimizer, history, said = interrupted_run(rule, compiled, k)
        assert tracer.fired
        whole = [n for n in (STEP, STEP + 1) if matches(params, optimizer, rule, n)]
        assert len(whole) == 1, (k, [p.data for p in params], optimizer.steps)
        outcomes[whole[0]] += 1
        # the history and the warning count the steps the model took, no more, no fewer
        samples = BATCH * (whole[0] - STEP)  # of the second epoch
        assert any(f"interrupted (KeyboardInterrupt) in epoch 2 of 2, after {samples} of its "
                   "samples" in s for s in said), (k, said)
        assert len(history["loss"]) == (2 if samples else 1)  # the part of the second epoch
        assert math.isfinite(history["loss"][0])
    assert outcomes[2] > 0 and outcomes[3] > 0  # early points undo, late ones complete


def test_ctrl_c_between_epochs_returns_the_history_so_far_with_a_warning():
    for compiled in (False, True):
        model, params, optimizer = model_and_optimizer("adam")

        def stop(epoch, history):
            if epoch == 1:
                raise KeyboardInterrupt

        with pytest.warns(UserWarning, match="interrupted .* epoch 2 of 3"):
            history = nn.fit(model, X, Y, nn.mse, optimizer, epochs=3, batch_size=BATCH,
                             shuffle=False, progress=False, on_epoch=stop, compiled=compiled)
        assert len(history["loss"]) == 2 and optimizer.steps == 4
        assert matches(params, optimizer, "adam", 4)


def test_an_interrupted_sync_is_run_again():
    tracer = Interrupter({nn.train._Compiled.sync.__code__}, 1, None)
    sys.settrace(tracer)
    try:
        train("momentum", True)
    finally:
        sys.settrace(None)
    points = tracer.count
    assert points > 10
    for k in range(1, points + 1):
        tracer = Interrupter({nn.train._Compiled.sync.__code__}, 1, k)
        sys.settrace(tracer)
        try:
            params, optimizer, _ = train("momentum", True)
        finally:
            sys.settrace(None)
        assert tracer.fired and matches(params, optimizer, "momentum", EPOCHS * 2), k


@pytest.mark.parametrize("rule", sorted(RULES))
def test_any_exception_anywhere_in_optimizer_step_leaves_it_whole_or_undone(rule):
    """Not only Ctrl-C: any exception, at every opcode of `Optimizer.step` on the Values."""
    codes = {nn.Optimizer.step.__code__}

    def one_step(k):
        _, params, optimizer = model_and_optimizer(rule)
        for p, g in zip(params, (0.5, -1.0, 2.0)):
            p.grad = g
        tracer = Interrupter(codes, 1, k, RuntimeError)
        sys.settrace(tracer)
        try:
            optimizer.step()
        except RuntimeError:
            pass
        finally:
            sys.settrace(None)
        return tracer, [p.data for p in params], optimizer.steps

    tracer, whole, _ = one_step(None)
    assert tracer.count > 30 and whole != [0.3, -0.2, 0.1]
    for k in range(1, tracer.count + 1):
        tracer, numbers, steps = one_step(k)
        assert tracer.fired and (numbers, steps) in (([0.3, -0.2, 0.1], 0), (whole, 1)), k


_SLOT = Value.__dict__["data"]  # the slot a Value keeps its number in


class Pressed(Value):
    """A Value whose number-writes are counted: Ctrl-C arrives at the writes in `at` (a trace
    function cannot raise twice: Python unsets it when it raises)."""

    __slots__ = ()
    at: set[int] = set()
    writes = 0

    @property
    def data(self) -> float:
        return _SLOT.__get__(self, Value)

    @data.setter
    def data(self, number: float) -> None:
        Pressed.writes += 1
        if Pressed.writes in Pressed.at:
            raise KeyboardInterrupt
        _SLOT.__set__(self, number)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_a_second_ctrl_c_while_a_step_is_undone_still_leaves_it_undone(rule):
    """People press Ctrl-C twice: the second one arriving while the first's step is being
    undone must not leave it half undone."""
    def one_step(at):
        params = [Pressed(0.3, "w0"), Pressed(-0.2, "w1"), Pressed(0.1, "b")]
        optimizer = RULES[rule](params)
        for p, g in zip(params, (0.5, -1.0, 2.0)):
            p.grad = g
        Pressed.at, Pressed.writes = at, 0
        try:
            optimizer.step()
        except KeyboardInterrupt:
            pass
        finally:
            Pressed.at = set()
        return [p.data for p in params], optimizer.steps, state_of(optimizer)

    whole = one_step(set())[0]
    for first in (1, 2, 3):  # the step's writes are 1..3; undoing it writes from 4 (or from 1)
        for second in range(first + 1, first + 5):
            numbers, steps, state = one_step({first, second})
            assert (numbers, steps) == ([0.3, -0.2, 0.1], 0), (first, second, numbers)
            assert all(not np.any(v) for v in state.values()), (first, second)
    assert whole != [0.3, -0.2, 0.1]  # without Ctrl-C the step moves every parameter


# ---- item 6: bad data is refused before the first step ------------------------------------
def _refused(X_, y_, loss, outputs, match, compiled, **kw):
    model = nn.MLP(2, [4, outputs], seed=0)
    before = [p.data for p in model.parameters()]
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    with pytest.raises((ValueError, TypeError), match=match):
        nn.fit(model, X_, y_, loss, optimizer, epochs=2, batch_size=4, progress=False,
               compiled=compiled, **kw)
    assert [p.data for p in model.parameters()] == before and optimizer.steps == 0


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_bad_data_late_in_the_set_is_refused_before_any_step(compiled):
    rng = np.random.default_rng(1)
    X_ = rng.normal(size=(40, 2))
    signs = np.where(X_[:, 0] > 0, 1.0, -1.0)
    classes = rng.integers(0, 3, 40)

    def last(y_, value):
        y_ = y_.astype(type(value)) if isinstance(value, float) else y_.copy()
        y_[-1] = value
        return y_

    _refused(X_, last(signs, math.nan), nn.mse, 1, r"sample 39 \(nan\).*finite", compiled)
    _refused(X_, last(signs, math.inf), nn.hinge, 1, r"sample 39 \(inf\).*finite", compiled)
    _refused(X_, last(signs, 0.0), nn.hinge, 1, r"sample 39 \(0\.0\).*labels -1 or \+1", compiled)
    _refused(X_, last(classes, 3), nn.cross_entropy, 3, r"sample 39 \(3\).*labels in 0\.\.2",
             compiled)
    _refused(X_, list(classes[:-1]) + [1.5], nn.cross_entropy, 3, r"needs int labels", compiled)
    _refused(X_, np.eye(4)[classes], nn.cross_entropy, 3, r"sample 0 .*rows of 3", compiled)
    bad_X = X_.copy()
    bad_X[37, 1] = math.nan
    _refused(bad_X, signs, nn.hinge, 1, r"sample 37 holds nan", compiled)
    _refused(rng.normal(size=(40, 3)), signs, nn.hinge, 1, r"expects 2 inputs, got 3", compiled)
    _refused(X_, signs, nn.hinge, 1, r"validation: the target of sample 4 \(0\.0\)", compiled,
             validation=(X_[:5], last(signs[:5], 0.0)))
    bad_val = X_[:5].copy()
    bad_val[2, 0] = -math.inf
    _refused(X_, signs, nn.hinge, 1, r"validation sample 2 holds -inf", compiled,
             validation=(bad_val, signs[:5]))
