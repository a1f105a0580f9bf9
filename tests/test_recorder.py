"""Recording a training run (nn.Recorder): the run is unchanged, a full step's walk ends at the
optimizer's own numbers, the summaries are the step's, and misuse is a clear error."""
import re
import struct

import numpy as np
import pytest

import autograd
import nn
from autograd.steps import fmt
from nn import recording
from nn.timeline import heatmap_units


def bits(xs) -> list[bytes]:
    return [struct.pack("<d", float(x)) for x in xs]


def moons(steps=6, n=20, sizes=(4, 4, 1), full=None, batch_size=None, optimizer=None,
          record=True, compiled=False, penalty=None, **options):
    """A small moons run; `penalty(model)` makes the penalty (default: l2 with 1e-4)."""
    X, labels = nn.make_moons(n, noise=0.1, seed=0)
    y = 2 * labels - 1
    model = nn.MLP(2, list(sizes), activation="relu", seed=0)
    make = optimizer or (lambda ps: nn.SGD(ps, lr=lambda k: 1.0 / (1 + 0.1 * k)))
    recorder = nn.Recorder(full=full, **options) if record else None
    penalty = penalty(model) if penalty else lambda: nn.l2(model.parameters(), 1e-4)
    history = nn.fit(model, X, y, nn.hinge, make(model.parameters()), epochs=steps,
                     batch_size=batch_size, progress=False, record=recorder, compiled=compiled,
                     penalty=penalty)
    return model, history, recorder, (X, y)


def test_a_recorded_run_trains_exactly_as_an_unrecorded_one():
    plain, plain_history, _, _ = moons(record=False, batch_size=8)
    model, history, recorder, _ = moons(batch_size=8, full=1, samples=3)
    assert bits(history["loss"]) == bits(plain_history["loss"])
    assert bits(p.data for p in model.parameters()) == bits(p.data for p in plain.parameters())
    assert len(recorder.steps) == 6 * 3 and recorder.full_steps == list(range(18))
    assert [s.loss for s in recorder.steps[:3]] != []  # every step scored
    # each epoch's mean is what fit reported
    for e in range(6):
        batch = recorder.steps[3 * e: 3 * e + 3]
        total = sum(s.loss * s.size for s in batch) / sum(s.size for s in batch)
        assert total == pytest.approx(history["loss"][e], rel=1e-12)


@pytest.mark.parametrize("name,make", [
    ("sgd", lambda ps: nn.SGD(ps, lr=0.2)),
    ("momentum", lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9)),
    ("adam", lambda ps: nn.Adam(ps, lr=0.05)),
    ("schedule", lambda ps: nn.SGD(ps, lr=lambda k: 0.5 / (k + 1))),
])
@pytest.mark.parametrize("samples", [1, None])
def test_a_full_steps_walk_ends_at_the_optimizers_numbers(name, make, samples):
    model, _, recorder, _ = moons(steps=4, full=1, optimizer=make, samples=samples, batch_size=10)
    params = model.parameters()
    for k in recorder.full_steps:
        full = recorder.full[k]
        walk = full.walk
        order = autograd.topological_order(walk.root)
        index = {id(v): i for i, v in enumerate(order)}
        end = walk.state(len(walk) - 1)
        before = recorder.parameters(k)  # kept at every step: the budget is large enough
        after = recorder.parameters(k + 1)
        names = [p.label for p in params]
        # the walk starts from the parameters the step's forward pass used ...
        assert bits(walk.initial.data[index[id(p)]] for p in params) == bits(before[n] for n in names)
        # ... its loss is the step's, bit for bit ...
        assert bits([walk[walk.first_backward].changes[0].after]) == bits([1.0])
        assert bits([order[-1].data]) == bits([recorder.steps[k].loss])
        # ... and its grads and parameters end where the optimizer's did
        assert bits(end.grad[index[id(u.parameter)]] for u in full.updates) == \
            bits(u.grad for u in full.updates)
        assert bits(end.data[index[id(p)]] for p in params) == bits(after[n] for n in names)
        kinds = [s.kind for s in walk]
        assert kinds.count("optimizer") == 1 and kinds.count("update") == len(params)
        if samples is None:  # everything drawn: the backward pass is fit's own, bit for bit
            assert "batch" not in kinds and full.drawn == full.size == 10
        else:
            assert kinds.count("batch") == 1 and full.drawn == 1
            batch = walk[kinds.index("batch")]
            assert batch.title == "the other 9 samples of the batch add their share of each gradient"


def test_which_steps_are_recorded_in_full():
    def chosen(full, steps=10):
        return moons(steps=steps, full=full, samples=1)[2].full_steps
    assert chosen(3) == [0, 3, 6, 9]
    assert chosen(4) == [0, 4, 8, 9]
    assert chosen([1, 5]) == [1, 5]
    assert chosen(()) == []
    assert chosen(None, steps=25) == [0, 3, 6, 9, 12, 15, 18, 21, 24]  # about ten, and the last


@pytest.mark.parametrize("options,error,match", [
    (dict(full=0), ValueError, "full=()"),
    (dict(full=-2), ValueError, "k >= 1"),
    (dict(full=True), TypeError, "a number k"),
    (dict(full=1.5), TypeError, "a number k"),
    (dict(full=[2, -1]), ValueError, "step numbers"),
    (dict(samples=0), ValueError, "samples"),
    (dict(samples=2.0), TypeError, "samples"),
    (dict(grid=2), ValueError, "grid"),
    (dict(grid="fine"), TypeError, "grid"),
])
def test_bad_settings_are_clear_errors(options, error, match):
    with pytest.raises(error, match=match):
        nn.Recorder(**options)


def test_misuse_is_a_clear_error():
    recorder = nn.Recorder(full=[7])
    with pytest.raises(ValueError, match="names step 7, but this run has 6 steps"):
        moons(steps=6, full=[7])
    with pytest.raises(RuntimeError, match="pass it to nn.fit"):
        recorder.timeline()
    model, _, recorder, (X, y) = moons(steps=3, full=[1])
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match="recorded a run already: make a new nn.Recorder"):
        nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1), record=recorder)
    assert [p.data for p in model.parameters()] == before  # refused before any step
    with pytest.raises(TypeError, match="nn.Recorder"):
        nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1), record=True)
    with pytest.raises(ValueError, match=r"step 2 was not recorded in full \(these were: 1\)"):
        recorder.player(2)
    with pytest.raises(ValueError, match="kept at steps"):
        recorder.parameters(9)
    with pytest.raises(ValueError, match=".html"):
        recorder.save("timeline.txt")
    assert "3 steps, 1 in full" in repr(recorder)


def stopped(epochs: int, at: int, compiled: bool = False, error=KeyboardInterrupt):
    """A moons run (one batch an epoch, every step in full) that `error` stops at the end of
    epoch `at` (0-based): (model, history, recorder, (X, y)); Ctrl-C's warning is checked.
    Another error propagates (the recorder is left at `stopped.recorder`)."""
    X, labels = nn.make_moons(20, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    recorder = stopped.recorder = nn.Recorder(full=1)

    def halt(epoch, history):
        if epoch == at:
            raise error

    def fit():
        return nn.fit(model, X, 2 * labels - 1, nn.hinge, nn.SGD(model.parameters(), lr=0.1),
                      epochs=epochs, progress=False, compiled=compiled, record=recorder,
                      on_epoch=halt)
    if error is not KeyboardInterrupt:
        fit()
    with pytest.warns(UserWarning, match="interrupted"):
        history = fit()
    return model, history, recorder, (X, 2 * labels - 1)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("stop", [KeyboardInterrupt, ZeroDivisionError])
def test_a_run_that_ctrl_c_stopped_is_a_timeline_of_the_steps_taken(compiled, stop, tmp_path):
    """Ctrl-C: fit returns what it trained (with a warning), and the Recorder's page shows the
    steps taken, says the run was stopped, and ends at the parameters the model holds; another
    error propagates, and the Recorder refuses to make a page of it."""
    if stop is KeyboardInterrupt:
        model, history, recorder, (X, y) = stopped(4, 1, compiled=compiled)
        assert len(history["loss"]) == 2 and len(recorder.steps) == 2
        assert recorder.full_steps == [0, 1] and recorder.snapshot_steps[-1] == 2
        assert recorder.parameters(2) == {p.label: p.data for p in model.parameters()}
        data = recorder.timeline().data()
        assert data["stopped"].startswith("stopped (Ctrl-C) after step 2 of 4")
        assert data["captions"][-1].startswith("after the last update (step 2): where Ctrl-C "
                                               "stopped the run")
        assert data["steps"] == 2 and data["loss"] == [s.loss for s in recorder.steps]
        assert "2 of 4 steps (stopped by Ctrl-C)" in data["title"]
        assert recorder.save(tmp_path / "stopped.html").stat().st_size > 0
    else:
        with pytest.raises(stop):
            stopped(4, 1, compiled=compiled, error=stop)
        recorder = stopped.recorder
        assert len(recorder.steps) == 2
        with pytest.raises(RuntimeError, match="not finished.*stopped on an error"):
            recorder.save(tmp_path / "timeline.html")
        X, labels = nn.make_moons(20, noise=0.1, seed=0)
        model, y = nn.MLP(2, [4, 1], seed=0), 2 * labels - 1
    with pytest.raises(ValueError, match="recorded a run already"):
        nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1), progress=False,
               record=recorder)


def test_ctrl_c_right_after_an_update_counts_and_scores_the_step():
    """Ctrl-C as the optimizer returns from a step's update: the parameters moved, so fit
    counts the step (its loss and accuracy were known before the update) and the page has it,
    scored, and ends at the parameters after it."""
    X, labels = nn.make_moons(20, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    recorder = nn.Recorder(full=())
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    update, calls = optimizer.step, []

    def step_then_ctrl_c():
        update()
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    optimizer.step = step_then_ctrl_c
    with pytest.warns(UserWarning, match="interrupted .* after 20 of its samples"):
        history = nn.fit(model, X, 2 * labels - 1, nn.hinge, optimizer, epochs=5,
                         batch_size=None, progress=False, record=recorder)
    assert len(history["loss"]) == 3 and optimizer.steps == 3
    assert [s.scored for s in recorder.steps] == [True, True, True]
    assert recorder.steps[2].loss == history["loss"][2]
    assert recorder.parameters(3) == {p.label: p.data for p in model.parameters()}
    assert recorder.timeline().data()["stopped"].startswith("stopped (Ctrl-C) after step 3 of 5")


def test_ctrl_c_after_an_update_before_its_score_keeps_the_update_unscored(monkeypatch):
    """Ctrl-C between a step's update and the Recorder's score of it: the parameters moved,
    so the step is on the page (not scored), and the end is the parameters after it."""
    from nn import recording
    X, labels = nn.make_moons(20, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    recorder = nn.Recorder(full=())
    calls = []
    scored = recording._Run.scored

    def score(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return scored(self, *args, **kwargs)

    monkeypatch.setattr(recording._Run, "scored", score)
    with pytest.warns(UserWarning, match="interrupted"):
        nn.fit(model, X, 2 * labels - 1, nn.hinge, nn.SGD(model.parameters(), lr=0.1),
               epochs=5, progress=False, record=recorder)
    assert [s.scored for s in recorder.steps] == [True, True, False]
    assert np.isnan(recorder.steps[2].loss)
    assert recorder.parameters(3) == {p.label: p.data for p in model.parameters()}
    data = recorder.timeline().data()
    assert data["loss"][2] is None and "not scored: Ctrl-C came after its update" in \
        data["captions"][2]
    assert data["stopped"].startswith("stopped (Ctrl-C) after step 3 of 5")


LOSSES = {  # (the loss, the targets from labels 0/1, outputs, the output layer's activation)
    "hinge": (nn.hinge, lambda labels: 2 * labels - 1, 1, "linear"),
    "mse": (nn.mse, lambda labels: labels.astype(float), 1, "sigmoid"),
    "binary_cross_entropy": (nn.binary_cross_entropy, lambda labels: labels.astype(float), 1,
                             "sigmoid"),
    "binary_cross_entropy_with_logits": (nn.binary_cross_entropy_with_logits,
                                         lambda labels: labels.astype(float), 1, "linear"),
    "cross_entropy": (nn.cross_entropy, lambda labels: labels, 2, "linear"),
    "cross_entropy on rows": (nn.cross_entropy, lambda labels: np.eye(2)[labels], 2, "linear"),
}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_every_node_of_a_recorded_step_has_a_name_in_its_player(kind, compiled):
    """Each nn loss and the l2 penalty name the nodes they make by their role (hinge.margin.3),
    so the player never shows a made-up id (v406) for them."""
    loss, targets, outputs, last = LOSSES[kind]
    X, labels = nn.make_moons(12, noise=0.1, seed=0)
    model = nn.MLP(2, [3, outputs], output_activation=last, seed=0)
    recorder = nn.Recorder(full=[0], samples=2)
    nn.fit(model, X, targets(labels), loss, nn.SGD(model.parameters(), lr=0.1), batch_size=4,
           progress=False, record=recorder, compiled=compiled,
           penalty=lambda: nn.l2(model.parameters(), 1e-4))
    data = recorder.player(0)._data()
    names = [n["name"] for n in data["nodes"]]
    assert not [n for n in names if re.fullmatch(r"v\d+", n)]
    scope = loss.__name__
    made = [n["name"] for n in data["nodes"] if n["kind"] == "op" and
            not n["name"].startswith("layers.")]
    assert made and all(re.fullmatch(rf"({scope}\.[a-z][a-z_0-9]*[.0-9]*|loss|l2\.sum_of_squares|l2|"
                                     r"total)", n) for n in made), made
    assert f"{scope}.term.0" in names and f"{scope}.term.1" in names  # the samples drawn
    text = " ".join(line for step in data["steps"] for line in [step["title"], *step["lines"]])
    assert not re.search(r"\bv\d+\b", text)


def test_the_pages_default_title_says_what_was_trained():
    _, _, recorder, (X, y) = moons(steps=2, full=())
    assert recorder.timeline().title == ("Training timeline: MLP(2, [4, 4, 1], activation='relu', "
                                         "output_activation='linear'), hinge + penalty, SGD, "
                                         "2 steps")
    model = nn.MLP(2, [3, 1], seed=0)

    def scores(x):
        return model(x)

    for function, name in ((scores, "scores"), (lambda x: model(x), "the model")):
        recorder = nn.Recorder(full=())
        nn.fit(function, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1), progress=False,
               record=recorder)
        assert recorder.timeline().title == f"Training timeline: {name}, hinge, SGD, 1 step"


def boundary_codes(recorder) -> tuple[dict, np.ndarray]:
    """The page's boundary data, and its frames decoded: (snapshots, cells) of codes."""
    import base64
    data = recorder.timeline().data()["boundary"]
    codes = np.frombuffer(base64.b64decode(data["frames"]), np.uint8)
    return data, codes.reshape(-1, data["grid"] ** 2)


def test_a_model_with_a_list_of_one_output_gets_a_score_boundary():
    """A list of one output is one score (as fit's accuracy reads it), not one class: labels
    ±1 are the two sides of the threshold, and the cells above it are the positive ones."""
    X, labels = nn.make_moons(24, noise=0.1, seed=0)
    y = 2 * labels - 1
    model = nn.Sequential(nn.Layer(2, 4, activation="tanh", seed=0),
                          nn.Layer(4, 1, activation="linear", seed=1))
    assert isinstance(model(X[0]), list) and len(model(X[0])) == 1
    recorder = nn.Recorder(full=(), grid=8)
    nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1), epochs=2,
           progress=False, record=recorder)
    data, codes = boundary_codes(recorder)
    assert data["kind"] == "score" and data["classes"] == 2
    assert [p[2] for p in data["points"]] == [int(t > 0) for t in y]
    # the trained model on the grid, point by point on Values: above hinge's threshold, 0
    xs, ys = np.linspace(*data["x"], 8), np.linspace(*data["y"], 8)
    points = [(x, y_) for y_ in ys for x in xs]
    above = [model(np.array(p))[0].data > 0 for p in points]
    assert list(codes[-1] > 128) == above and 0 < sum(above) < len(above)


def test_a_diverging_run_keeps_its_boundary_and_marks_what_is_not_finite():
    """Outputs that become nan or inf late in a run get their own code (0, drawn grey); the
    others are shaded as before, from the finite outputs alone, with no numpy warning."""
    import warnings
    X, labels = nn.make_moons(32, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 1], activation="relu", seed=0)
    recorder = nn.Recorder(full=(), grid=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the run overflows, as it should at this rate
        nn.fit(model, X, labels, nn.mse, nn.SGD(model.parameters(), lr=5.0), epochs=12,
               progress=False, record=recorder)
    raw = np.stack(recorder._run.boundary.frames).reshape(len(recorder.snapshot_steps), -1)
    assert np.isfinite(raw[0]).all() and not np.isfinite(raw[-1]).any()  # it did diverge
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data, codes = boundary_codes(recorder)
    assert data["notFinite"] == 0
    finite = np.isfinite(raw)
    assert ((codes == 0) == ~finite).all()
    assert ((codes[finite] > 128) == (raw[finite] > 0.5)).all()  # mse's threshold: 0.5
    # deeper further from the threshold: the codes of finite cells grow with the output
    order = np.argsort(raw[finite], kind="stable")
    assert (np.diff(codes[finite][order].astype(int)) >= 0).all()


def test_parameters_without_labels_are_named_as_the_walk_names_them():
    """A hand-written model of plain Values: its parameters have no labels, so the update and
    the rest of the batch name each one as the walk and the player do (v0, v3, ...)."""
    w = [autograd.Value(0.5), autograd.Value(-0.3)]
    b = autograd.Value(0.1)

    def model(x):
        return w[0] * x[0] + w[1] * x[1] + b

    X = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]])
    recorder = nn.Recorder(full=[0], samples=1)
    nn.fit(model, X, np.array([1.0, -1.0, 1.0]), nn.mse, nn.SGD([*w, b], lr=0.1), epochs=1,
           progress=False, record=recorder)
    walk = recorder.full[0].walk
    order = autograd.topological_order(walk.root)
    names = [f"v{next(i for i, v in enumerate(order) if v is p)}" for p in (*w, b)]
    assert [walk.nodes[int(n[1:])].name for n in names] == names  # the walk's own names
    out = walk.nodes[-1].name
    for name, update in zip(names, recorder.full[0].updates):
        before, after = update.before, update.after
        assert update.lines == (f"{name} ← {name} - η·∂{out}/∂{name} = {fmt(before)} - 0.1 · "
                                f"{fmt(update.grad) if update.grad >= 0 else f'({fmt(update.grad)})'}"
                                f" = {fmt(after)}",)
        assert update.title == f"update {name}: {fmt(before)} → {fmt(after)}"
    batch = next(s for s in walk if s.kind == "batch")
    assert [line.split(" = ")[0] for line in batch.lines[1:]] == [f"∂{out}/∂{n}" for n in names]
    assert all(s.title.startswith(f"update {n}:") for s, n in
               zip([s for s in walk if s.kind == "update"], names))


def test_recording_calls_the_schedule_and_the_model_more_as_its_docs_say():
    """The promise is for pure code: recording reads the schedule once more per step, and a
    full step calls it, the model and the penalty again (nn/recording.py's docs)."""
    X, labels = nn.make_moons(8, noise=0.1, seed=0)
    counts = {}

    def run(record):
        counts.clear()
        model = nn.MLP(2, [3, 1], seed=0)

        def counted(name, f):
            def call(*args):
                counts[name] = counts.get(name, 0) + 1
                return f(*args)
            return call
        nn.fit(counted("model", model), X, 2 * labels - 1, nn.hinge,
               nn.SGD(model.parameters(), lr=counted("lr", lambda k: 0.1)), epochs=3,
               penalty=counted("penalty", lambda: nn.l2(model.parameters(), 1e-3)),
               progress=False, record=record)
        return dict(counts)

    plain = run(None)
    summaries = run(nn.Recorder(full=()))
    full = run(nn.Recorder(full=[1], samples=2))
    assert summaries["lr"] == plain["lr"] + 3 and full["lr"] == plain["lr"] + 3 + 1
    assert full["penalty"] == plain["penalty"] + 1 == summaries["penalty"] + 1
    assert full["model"] == summaries["model"] + 2
    assert "recording calls your code more" in recording.__doc__
    assert "pure code only" in nn.Recorder.__doc__


def test_pages_are_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """The timeline and a step's player page go through autograd.files.write_atomically: a
    failing write leaves the old page as it was, and no stray file."""
    import os
    _, _, recorder, _ = moons(steps=2, full=[1])
    timeline, player = tmp_path / "timeline.html", tmp_path / "step.html"
    for path in (timeline, player):
        path.write_text("the old page", encoding="utf-8")

    def broken(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="No space left"):
        recorder.save(timeline)
    with pytest.raises(OSError, match="No space left"):
        recorder.player(1).save(player)
    monkeypatch.undo()
    assert [p.read_text(encoding="utf-8") for p in (timeline, player)] == ["the old page"] * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step.html", "timeline.html"]
    assert recorder.save(timeline) == timeline and "<!DOCTYPE html>" in timeline.read_text()
    (tmp_path / "folder.html").mkdir()
    with pytest.raises(IsADirectoryError):
        recorder.save(tmp_path / "folder.html")
