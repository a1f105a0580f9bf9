"""fit, evaluate, predict and accuracy."""
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import autograd
import nn
from autograd import Value


def test_accuracy_rules():
    # several outputs: the largest is the class; targets as ints or one-hot rows
    outs = [[Value(0.1), Value(0.7), Value(0.2)], [Value(0.5), Value(0.1), Value(0.4)]]
    assert nn.accuracy(outs, [1, 2]) == 0.5
    assert nn.accuracy(outs, [[0, 1, 0], [1, 0, 0]]) == 1.0
    # one output: above the threshold is positive, for outputs and targets alike
    assert nn.accuracy([Value(0.7), Value(0.2), Value(0.6)], [1, 0, 0]) == pytest.approx(2 / 3)
    assert nn.accuracy([0.3, -0.2], [1, -1], threshold=0.0) == 1.0
    with pytest.raises(ValueError, match="2 outputs but 1 targets"):
        nn.accuracy([0.1, 0.2], [1])


def test_predict_builds_no_graph_and_matches_calls():
    model = nn.MLP(2, [3, 2], seed=0)
    X = np.array([[0.1, 0.2], [-1.0, 0.5]])
    got = nn.predict(model, X)
    assert got.shape == (2, 2)
    assert got[1].tolist() == [o.data for o in model(X[1])]
    assert nn.predict(nn.MLP(2, [3, 1], seed=0), X).shape == (2,)


def test_evaluate_leaves_grads_alone():
    model = nn.MLP(2, [3, 1], seed=0)
    X, y = nn.make_moons(20, seed=1)
    scores = nn.evaluate(model, X, 2 * y - 1, nn.hinge)
    outs = [model(x) for x in X]
    assert scores["loss"] == pytest.approx(nn.hinge(outs, 2 * y - 1).data, rel=1e-15)
    assert scores["accuracy"] == nn.accuracy(outs, 2 * y - 1, threshold=0.0)
    assert all(p.grad is None for p in model.parameters())


def test_one_full_batch_step_is_one_sgd_step_on_the_mean_loss():
    X, y = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 1.0]]), np.array([1.0, 0.0, 1.0])
    a, b = nn.MLP(2, [3, 1], seed=4), nn.MLP(2, [3, 1], seed=4)
    nn.fit(a, X, y, nn.mse, nn.SGD(a.parameters(), lr=0.5), epochs=1, shuffle=False, progress=False)
    loss = nn.mse([b(x) for x in X], y.tolist())
    loss.backward()
    for p in b.parameters():
        p.data -= 0.5 * p.grad
    assert a.state_dict() == b.state_dict()


def test_fit_learns_and_reports_history():
    X, y = nn.make_moons(60, noise=0.05, seed=0)
    model = nn.MLP(2, [8, 8, 1], activation="relu", seed=0)
    seen = []
    history = nn.fit(model, X, 2 * y - 1, nn.hinge, nn.Adam(model.parameters(), lr=0.03), epochs=15,
                     batch_size=16, validation=(X, 2 * y - 1), progress=False,
                     penalty=lambda: nn.l2(model.parameters(), 1e-4),
                     on_epoch=lambda epoch, h: seen.append(epoch))
    assert seen == list(range(15))
    assert set(history) == {"loss", "accuracy", "seconds", "val_loss", "val_accuracy"}
    assert all(len(v) == 15 for v in history.values())
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["val_accuracy"][-1] >= 0.9


def test_same_seed_same_training():
    X, y = nn.make_moons(30, seed=2)
    runs = []
    for _ in range(2):
        model = nn.MLP(2, [4, 1], seed=1)
        nn.fit(model, X, y, nn.binary_cross_entropy_with_logits, nn.SGD(model.parameters(), lr=0.1),
               epochs=3, batch_size=7, seed=9, progress=False)
        runs.append(model.state_dict())
    assert runs[0] == runs[1]


def test_progress_bar_shows_loss_and_accuracy_when_asked(capsys):
    X, y = nn.make_moons(10, seed=0)
    model = nn.MLP(2, [2, 1], seed=0)
    nn.fit(model, X, 2 * y - 1, nn.hinge, nn.SGD(model.parameters(), lr=0.1), epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "loss=" in err and "acc=" in err
    nn.fit(model, X, 2 * y - 1, nn.hinge, nn.SGD(model.parameters(), lr=0.1), epochs=2, progress=False)
    assert capsys.readouterr().err == ""


def test_fit_errors():
    model = nn.MLP(2, [2, 1], seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="X of shape"):
        nn.fit(model, [1.0, 2.0], [1, 0], nn.mse, opt)
    with pytest.raises(ValueError, match="epochs should be a positive int"):
        nn.fit(model, [[1.0, 2.0]], [1], nn.mse, opt, epochs=0)
    with pytest.raises(TypeError, match="nn optimizer"):
        nn.fit(model, [[1.0, 2.0]], [1], nn.mse, "sgd")


def test_readme_example_runs(tmp_path, monkeypatch, capsys):
    """The first code block under the README's nn heading runs as written, and its claims hold."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("## Neural networks (`nn`)", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    names = {}
    exec(compile(block, "README.md", "exec"), names)
    X = names["X"]
    assert np.array_equal(nn.predict(names["copy"], X), nn.predict(names["model"], X))
    assert names["history"]["accuracy"][-1] > 0.8
    assert "'accuracy'" in capsys.readouterr().out


def test_fit_refuses_misuse_with_clear_errors():
    model = nn.MLP(2, [2, 1], seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1)
    X, y = [[1.0, 2.0], [0.0, 1.0]], [1, 0]
    with pytest.raises(ValueError, match="at least one sample"):
        nn.fit(model, np.zeros((0, 2)), [], nn.mse, opt)
    with pytest.raises(TypeError, match=r"batch_size should be a positive int, got '4' \(str\)"):
        nn.fit(model, X, y, nn.mse, opt, batch_size="4")
    with pytest.raises(ValueError, match="batch_size should be a positive int, got 0"):
        nn.fit(model, X, y, nn.mse, opt, batch_size=0)
    with pytest.raises(TypeError, match="epochs should be a positive int, got 2.0"):
        nn.fit(model, X, y, nn.mse, opt, epochs=2.0)
    with pytest.raises(TypeError, match=r"validation should be a pair \(X_val, y_val\)"):
        nn.fit(model, X, y, nn.mse, opt, validation=(np.zeros((2, 2)),))
    with pytest.raises(ValueError, match="validation got 2 samples but 1 targets"):
        nn.fit(model, X, y, nn.mse, opt, validation=(np.zeros((2, 2)), [1]))
    with pytest.raises(ValueError, match=r"validation samples of shape \(3,\)"):
        nn.fit(model, X, y, nn.mse, opt, validation=(np.zeros((2, 3)), [1, 0]))
    with pytest.raises(TypeError, match="loss should be a function"):
        nn.fit(model, X, y, "mse", opt)
    assert all(p.grad is None for p in model.parameters())  # refused before any step


def test_fit_takes_numpy_integers_for_sizes():
    X, y = [[1.0, 2.0], [0.0, 1.0], [0.5, 0.5]], [1.0, 0.0, 1.0]
    runs = []
    for epochs, batch_size in [(2, 2), (np.int64(2), np.int32(2))]:
        model = nn.MLP(2, [2, 1], seed=0)
        runs.append(nn.fit(model, X, y, nn.mse, nn.SGD(model.parameters(), lr=0.1),
                           epochs=epochs, batch_size=batch_size, progress=False)["loss"])
    assert len(runs[1]) == 2 and runs[0] == runs[1]


def test_fit_refuses_an_optimizer_built_for_another_model():
    model, other = nn.MLP(2, [2, 1], seed=0), nn.MLP(2, [2, 1], seed=0)
    X, y = [[1.0, 2.0], [0.0, 1.0]], [1.0, 0.0]
    with pytest.raises(ValueError, match=r"9 of the optimizer's 9 parameters are not model.parameters\(\)"):
        nn.fit(model, X, y, nn.mse, nn.SGD(other.parameters(), lr=0.1), progress=False)
    # a part of the model (only its last layer, say) is fine
    last = model.layers[-1].parameters()
    before = [p.data for p in last]
    nn.fit(model, X, y, nn.mse, nn.SGD(last, lr=0.1), progress=False)
    assert [p.data for p in last] != before
    # a plain function is not a Module: nothing to compare with
    nn.fit(lambda x: model(x), X, y, nn.mse, nn.SGD(model.parameters(), lr=0.1), progress=False)


def test_accuracy_threshold_is_right_without_being_told():
    # scores against labels -1/+1: positive means above 0, as for hinge
    assert nn.accuracy([Value(0.3), Value(-0.3)], [1, -1]) == 1.0
    assert nn.accuracy([Value(0.3), Value(-0.3), Value(0.7)], [-1, -1, 1]) == pytest.approx(2 / 3)
    # probabilities against labels 0/1: above 0.5
    assert nn.accuracy([Value(0.3), Value(0.7)], [0, 1]) == 1.0
    # a loss says how its outputs read: logits against 0/1 are positive above 0
    logits = [Value(0.3), Value(-0.3)]
    assert nn.accuracy(logits, [1, 0], loss=nn.binary_cross_entropy_with_logits) == 1.0
    assert nn.accuracy(logits, [1, 0]) == 0.5  # read as probabilities: 0.3 is not above 0.5
    assert nn.accuracy(logits, [1, 0], threshold=0.4, loss=nn.binary_cross_entropy_with_logits) == 0.5  # threshold wins
    with pytest.raises(TypeError, match="loss should be a function"):
        nn.accuracy(logits, [1, 0], loss="hinge")


def test_accuracy_checks_classes_against_the_outputs():
    two = [[Value(0.9), Value(0.1)], [Value(0.2), Value(0.8)]]
    assert nn.accuracy(two, [0, 1]) == 1.0
    with pytest.raises(ValueError, match="rows of 2 .* got a row of 3"):
        nn.accuracy(two, [[1, 0, 0], [0, 1, 0]])
    with pytest.raises(ValueError, match=r"labels in 0\.\.1 for 2 outputs per sample, got 5"):
        nn.accuracy(two, [0, 5])
    with pytest.raises(ValueError, match=r"labels in 0\.\.1 for 2 outputs per sample, got -1"):
        nn.accuracy(two, [0, -1])
    with pytest.raises(TypeError, match="int class labels, got 0.5"):
        nn.accuracy(two, [0.5, 1])
    with pytest.raises(ValueError, match="one output per sample .* got a row of 2"):
        nn.accuracy([Value(0.9), Value(0.1)], [[1, 0], [0, 1]])


class _LastState(nn.Module):
    """An RNN read at its last step by a linear layer: one output per sequence."""

    def __init__(self, seed: int) -> None:
        rng = nn.init.generator(seed)
        self.rnn = nn.RNN(3, 4, seed=rng)
        self.fc = nn.Layer(4, 1, activation="linear", seed=rng)

    def __call__(self, xs):
        return self.fc(self.rnn(xs)[-1])[0]


def _sequences(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n sequences of 4 steps x 3 features; the target is the first step's feature 0."""
    X = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, 4, 3))
    return X, X[:, 0, 0].copy()


def test_fit_trains_a_model_on_sequences():
    X, y = _sequences(12, seed=0)
    a, b = _LastState(seed=1), _LastState(seed=1)
    nn.fit(a, X, y, nn.mse, nn.SGD(a.parameters(), lr=0.3), epochs=1, shuffle=False, progress=False)
    loss = nn.mse([b(x) for x in X], y.tolist())  # the same step written by hand
    loss.backward()
    for p in b.parameters():
        p.data -= 0.3 * p.grad
    assert a.state_dict() == b.state_dict()
    with pytest.raises(ValueError, match=r"samples along the first axis.*shape \(3,\)"):
        nn.fit(a, X[0, 0], y[:3], nn.mse, nn.SGD(a.parameters(), lr=0.3))
    with pytest.raises(ValueError, match=r"validation samples of shape \(4, 2\)"):
        nn.fit(a, X, y, nn.mse, nn.SGD(a.parameters(), lr=0.3), validation=(X[:, :, :2], y))


def test_fit_on_sequences_compiled_equals_eager():
    X, y = _sequences(40, seed=2)
    runs = []
    for compiled in (False, True):
        model = _LastState(seed=3)
        history = nn.fit(model, X, y, nn.mse, nn.Adam(model.parameters(), lr=0.05), epochs=3,
                         batch_size=8, validation=(X[:10], y[:10]), progress=False, compiled=compiled)
        runs.append((history, [p.data for p in model.parameters()]))
    (eager, eager_params), (fast, fast_params) = runs
    assert fast["loss"] == pytest.approx(eager["loss"], abs=1e-9)
    assert fast["val_loss"] == pytest.approx(eager["val_loss"], abs=1e-9)
    assert fast_params == pytest.approx(eager_params, abs=1e-9)
    assert eager["loss"][-1] < eager["loss"][0]


def test_digits_demo_reaches_its_test_accuracy_at_full_size(tmp_path):
    """Seed 002's network on all 1437 training digits, the demo's defaults (compiled, 12 epochs):
    issue 4 asks for >= 95% test accuracy, issue 8 for >= 97%. (Measured: 97.8%.)"""
    from demos import digits
    result = digits.run(out=tmp_path, verbose=False)
    assert (result["train_size"], result["test_size"]) == (1437, 360)
    assert result["test_accuracy"] >= 0.97


def test_fit_takes_plain_function_losses_and_declared_ones():
    X, y = nn.make_moons(30, noise=0.1, seed=3)

    def margin(outputs, targets):  # a plain function: no threshold, traceable
        return autograd.sum([(1 - t * o).relu() for o, t in zip(outputs, targets)]) / len(outputs)

    runs = []
    for loss in (margin, nn.Loss(margin, threshold=0.0), nn.hinge):
        for compiled in (False, True):
            model = nn.MLP(2, [4, 1], seed=2)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # traces whole: no fallback warning
                history = nn.fit(model, X, 2 * y - 1, loss, nn.SGD(model.parameters(), lr=0.2),
                                 epochs=2, batch_size=10, progress=False, compiled=compiled)
            runs.append((loss, history))
    # labels -1/+1 read from the targets give the same threshold as declaring it
    for _, history in runs[1:]:
        assert history["loss"] == pytest.approx(runs[0][1]["loss"], abs=1e-12)
        assert history["accuracy"] == runs[0][1]["accuracy"]
    old_style = lambda outputs, targets: nn.hinge(outputs, targets)  # noqa: E731
    old_style.threshold = 0.0
    model = nn.MLP(2, [4, 1], seed=2)
    with pytest.raises(TypeError, match=r"fit\(\): loss: nn no longer reads attributes"):
        nn.fit(model, X, 2 * y - 1, old_style, nn.SGD(model.parameters(), lr=0.2), progress=False)


def test_fit_compiled_gives_one_hot_rows_to_a_loss_that_declares_them():
    X = np.random.default_rng(0).uniform(-1, 1, (24, 3))
    y = np.random.default_rng(1).integers(0, 3, 24)
    doubled = nn.Loss(lambda outputs, labels: nn.cross_entropy(outputs, labels) * 2, one_hot=True)
    runs = []
    for compiled in (False, True):  # compiled: traced with one-hot rows, a label cannot be traced
        model = nn.MLP(3, [5, 3], seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            runs.append(nn.fit(model, X, y, doubled, nn.Adam(model.parameters(), lr=0.05),
                               epochs=2, batch_size=8, progress=False, compiled=compiled)["loss"])
    assert runs[1] == pytest.approx(runs[0], abs=1e-12)


# ---- fit(compiled=True): the optimizer on the parameter vector -----------------------------------
def _digits_like(n=48, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, 6)), rng.integers(0, 3, n)


def _grads(model):
    return [p.grad for p in model.parameters()]


def test_fit_compiled_brings_the_values_up_to_date_for_on_epoch_and_at_the_end():
    """Each epoch's callback, and the end, see the parameters (and their grads) eager training
    has at that point; the optimizer's state goes on where eager training's would."""
    X, y = _digits_like()
    seen = {}
    runs = []
    for compiled in (False, True):
        model = nn.MLP(6, [5, 3], activation="relu", seed=3)
        optimizer = nn.Adam(model.parameters(), lr=0.05)
        record = lambda epoch, h, m=model, c=compiled: seen.setdefault(c, []).append(  # noqa: E731
            [p.data for p in m.parameters()])
        nn.fit(model, X, y, nn.cross_entropy, optimizer, epochs=2, batch_size=10,
               progress=False, on_epoch=record, compiled=compiled)
        nn.fit(model, X, y, nn.cross_entropy, optimizer, epochs=1, batch_size=10, progress=False)
        runs.append(([p.data for p in model.parameters()], _grads(model), optimizer.counts))
    for eager_epoch, compiled_epoch in zip(seen[False], seen[True]):
        np.testing.assert_allclose(compiled_epoch, eager_epoch, rtol=1e-9, atol=1e-12)
    (eager, eager_grads, eager_counts), (fast, fast_grads, fast_counts) = runs
    np.testing.assert_allclose(fast, eager, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast_grads, eager_grads, rtol=1e-9, atol=1e-12)
    assert fast_counts == eager_counts == [15] * len(eager_counts)  # 5 batches x 3 epochs


def test_fit_compiled_leaves_the_values_current_when_it_stops_on_an_error():
    X, y = _digits_like()
    after_first = []
    for compiled in (False, True):
        model = nn.MLP(6, [5, 3], seed=4)

        def stop(epoch, history):
            raise RuntimeError("stop")  # (Ctrl-C returns instead: test_fit_interrupts.py)

        with pytest.raises(RuntimeError, match="stop"):
            nn.fit(model, X, y, nn.cross_entropy, nn.SGD(model.parameters(), lr=0.3), epochs=3,
                   batch_size=16, progress=False, on_epoch=stop, compiled=compiled)
        after_first.append([p.data for p in model.parameters()])
    np.testing.assert_allclose(after_first[1], after_first[0], rtol=1e-9, atol=1e-12)


def test_fit_compiled_trains_part_of_a_model_as_eager_training_does():
    """An optimizer over the last layer only: the others stay put, and their grads add up over
    the steps as leaves' do."""
    X, y = _digits_like()
    runs = []
    for compiled in (False, True):
        model = nn.MLP(6, [5, 3], seed=5)
        optimizer = nn.SGD(model.layers[-1].parameters(), lr=0.2, momentum=0.5)
        nn.fit(model, X, y, nn.cross_entropy, optimizer, epochs=2, batch_size=16,
               progress=False, compiled=compiled)
        runs.append(([p.data for p in model.parameters()], _grads(model)))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(runs[1][1], runs[0][1], rtol=1e-9, atol=1e-12)
    untouched = nn.MLP(6, [5, 3], seed=5).layers[0].parameters()  # as initialised
    assert [p.data for p in untouched] == runs[1][0][:len(untouched)]


def test_a_penalty_that_cannot_be_traced_runs_on_values_with_the_same_numbers():
    X, y = nn.make_moons(40, noise=0.1, seed=0)
    runs = []
    for penalty_kind in ("traced", "on values", "eager"):
        model = nn.MLP(2, [6, 1], activation="relu", seed=1)
        params = model.parameters()
        if penalty_kind == "on values":  # a constant from a parameter's number: cannot trace
            penalty = lambda: nn.l2(params, 1e-3) + 0.0 * autograd.Value(params[0].data, requires_grad=False)  # noqa: E731,E501
        else:
            penalty = lambda: nn.l2(params, 1e-3)  # noqa: E731
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            history = nn.fit(model, X, 2 * y - 1, nn.hinge, nn.SGD(params, lr=0.1), epochs=3,
                             batch_size=8, penalty=penalty, progress=False,
                             compiled=penalty_kind != "eager")
        runs.append((history["loss"], [p.data for p in params]))
    for losses, numbers in runs[:2]:
        np.testing.assert_allclose(losses, runs[2][0], rtol=1e-9)
        np.testing.assert_allclose(numbers, runs[2][1], rtol=1e-9, atol=1e-12)


def _sum_of_squares(outputs, targets):
    return autograd.sum([(o - t) ** 2 for o, t in zip(outputs, targets)])


def _largest_square(outputs, targets):
    return autograd.max([(o - t) ** 2 for o, t in zip(outputs, targets)])


@pytest.mark.parametrize("loss", [_sum_of_squares, _largest_square])
def test_a_loss_that_is_not_a_mean_over_the_batch_runs_on_values_when_compiled(loss):
    """A compiled step averages one sample's loss over the batch: a loss of the whole batch
    that is not that mean (a sum, a max) would train on something else, so fit warns and runs
    the loss on Values, giving eager training's numbers."""
    X, y = nn.make_moons(40, noise=0.1, seed=0)
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, [4, 1], seed=1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = nn.fit(model, X, y, loss, nn.SGD(model.parameters(), lr=0.01), epochs=2,
                             batch_size=10, progress=False, compiled=compiled)
        runs.append((history["loss"], [p.data for p in model.parameters()], caught))
    assert not runs[0][2]
    (warning,) = runs[1][2]
    assert "runs on Values" in str(warning.message)
    assert "not the mean of their losses one by one" in str(warning.message)
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-12)
    np.testing.assert_allclose(runs[1][1], runs[0][1], rtol=1e-12, atol=1e-15)


def test_the_vector_optimizer_takes_the_steps_of_the_per_value_one():
    """The same program's gradient, stepped on the Values (backward into .grad, step()) and on
    the vector (value_and_grad, step_vector): the same numbers, to 1e-12."""
    X, y = _digits_like(seed=7)
    Y = np.eye(3)[y]
    results = []
    for on_vector in (False, True):
        model = nn.MLP(6, [5, 3], activation="tanh", seed=6)
        optimizer = nn.Adam(model.parameters(), lr=0.05)
        program = autograd.compile(lambda x, t: nn.cross_entropy([model(x)], [t]), X[0], Y[0],
                                   parameters=model.parameters())
        theta = program.parameter_vector()
        for start in range(0, 48, 12):
            batch = X[start:start + 12], Y[start:start + 12]
            if on_vector:
                _, grad = program.value_and_grad(*batch, params=theta, reduction="mean")
                theta = optimizer.step_vector(theta, grad)
            else:
                optimizer.zero_grad()
                program.backward(*batch, reduction="mean")
                optimizer.step()
        results.append(theta if on_vector else program.parameter_vector())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12, atol=1e-15)


def test_an_optimizer_with_its_own_step_keeps_it_when_compiled():
    """A subclass whose step() does more than its rule (here: clips the grads first) is
    stepped on Values, so what it adds still happens."""

    class Clipped(nn.SGD):
        def step(self):
            for p in self.params:
                p.grad = max(-0.05, min(0.05, p.grad))
            super().step()

    X, y = _digits_like()
    runs = []
    for compiled in (False, True):
        model = nn.MLP(6, [5, 3], seed=8)
        nn.fit(model, X, y, nn.cross_entropy, Clipped(model.parameters(), lr=0.5), epochs=2,
               batch_size=12, progress=False, compiled=compiled)
        runs.append([p.data for p in model.parameters()])
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-9, atol=1e-12)
    unclipped = nn.MLP(6, [5, 3], seed=8)
    nn.fit(unclipped, X, y, nn.cross_entropy, nn.SGD(unclipped.parameters(), lr=0.5), epochs=2,
           batch_size=12, progress=False, compiled=True)
    assert not np.allclose([p.data for p in unclipped.parameters()], runs[1])


def test_a_loss_that_checks_its_outputs_is_checked_with_the_models_real_ones():
    """Targets are checked before the first step by running the loss with the model's output
    for the first sample: a loss of your own that refuses outputs outside (0, 1) accepts a
    sigmoid network's (zeros in their place would be refused, and blamed on a target)."""
    def strict_bce(outputs, targets):
        for out in outputs:
            if not 0.0 < out.data < 1.0:
                raise ValueError(f"outputs must be probabilities, got {out.data}")
        return nn.binary_cross_entropy(outputs, targets)

    X, y = nn.make_moons(20, noise=0.1, seed=0)
    for compiled in (False, True):
        model = nn.Sequential(hidden=nn.Layer(2, 3, activation="tanh", seed=0),
                              out=nn.Neuron(3, activation="sigmoid", seed=1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # compiled: this loss reads numbers, so runs on Values
            history = nn.fit(model, X, y, nn.Loss(strict_bce, threshold=0.5),
                             nn.SGD(model.parameters(), lr=0.1), epochs=1, progress=False,
                             compiled=compiled)
        assert math.isfinite(history["loss"][0])


def test_targets_are_checked_once_each_distinct_one_before_the_first_step():
    """600 labels of 3 classes are 3 checks, not 600, and the validation set is not checked
    again every epoch (a set the size of MNIST's took seconds per epoch)."""
    X, y = _digits_like(n=600, seed=3)
    seen = []

    def counted(outputs, targets):
        seen.append(len(targets))
        return nn.cross_entropy(outputs, targets)

    calls = []
    for epochs in (1, 3):
        seen.clear()
        model = nn.MLP(6, [4, 3], seed=0)
        nn.fit(model, X, y, nn.Loss(counted, one_hot=True), nn.Adam(model.parameters(), lr=0.01),
               epochs=epochs, batch_size=100, validation=(X[:300], y[:300]), progress=False,
               compiled=True)
        calls.append(list(seen))
    assert calls[0] == calls[1]  # nothing per epoch: the program runs the traced loss
    assert sum(calls[0]) < 60  # 3 + 3 distinct targets checked, the mean check, two traces
