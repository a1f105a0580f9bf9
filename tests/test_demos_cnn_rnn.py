"""The seed-003 demos run at a small size: the CNN learns digits, the RNN learns to remember,
and the backprop-through-time page and drawing are written."""
import re

import numpy as np
import pytest

import autograd
from demos import bptt, cnn, rnn


def test_cnn_demo_learns_digits_compiled(tmp_path, capsys):
    result = cnn.main(["--epochs", "4", "--channels", "4", "8", "--hidden", "16", "--lr", "0.02",
                       "--train-samples", "400", "--out", str(tmp_path)])
    assert result["test_accuracy"] > 0.3  # chance is 0.1
    assert result["history"]["loss"][-1] < result["history"]["loss"][0]
    assert (tmp_path / "cnn_training.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert re.search(r"test accuracy \d+\.\d\d% on 360 digits", printed)


def test_cnn_has_the_seed_shape_scaled_to_8x8():
    model = cnn.seed_cnn((32, 64), hidden=128)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Unflatten", "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d",
                     "Flatten", "Layer", "Layer"]
    assert model.conv1.weight[31][0][2][2].label == "conv1.weight.31.0.2.2"
    assert model.fc1.nin == 64 * 2 * 2 and model.fc2.nout == 10  # 8x8 pooled twice: 2x2


def test_rnn_task_hides_the_answer_in_the_first_step():
    X, y = rnn.remember_first(5, 4, seed=3)
    assert X.shape == (5, 4, 10) and np.all(X[:, 1:, 0] == 0) and np.array_equal(y, X[:, 0, 0])


def test_rnn_demo_loss_falls_below_forgetting(tmp_path, capsys):
    result = rnn.main(["--epochs", "10", "--samples", "100", "--steps", "3", "--lr", "0.1",
                       "--out", str(tmp_path)])
    losses = result["history"]["loss"]
    assert losses[-1] < losses[0] / 5
    assert result["test_mse"] < result["forgetting_mse"] / 3
    assert (tmp_path / "rnn_training.png").stat().st_size > 0
    assert "a network that forgets (predicts 0) scores" in capsys.readouterr().out


def test_rnn_demo_model_is_the_seeds_shape():
    model = rnn.SeedRNN()
    names = [name for name, _ in model.named_parameters()]
    assert len(names) == 10 * 5 + 5 * 5 + 5 + 5 + 1
    assert names[0] == "rnn.weight_ih.0.0" and names[-1] == "fc.neurons.0.b"


def test_bptt_demo_writes_the_player_and_the_collapsed_drawing(tmp_path, capsys):
    page, drawing = bptt.main(["--out", str(tmp_path)])
    text = page.read_text(encoding="utf-8")
    assert "Backprop through time: RNN(2, 3) over 3 steps" in text
    assert "rnn.weight_hh.0.0" in text and "h2.0" in text
    assert drawing.read_text(encoding="utf-8").count('class="node group step"') == 3
    printed = capsys.readouterr().out
    shares = re.search(r"sum of the steps' shares: (.*) = (\S+)", printed)
    parts = [float(p) for p in shares.group(1).split(" + ")]
    assert parts == pytest.approx(per_step_shares_by_finite_differences(), abs=2e-6)
    assert sum(parts) == pytest.approx(float(shares.group(2)), abs=2e-6)


def per_step_shares_by_finite_differences(eps=1e-6):
    """dL/dW_hh[0][0] split by time step, from a numpy Elman RNN (written here) in which each
    step has its own copy of W_hh: the derivative for step t's copy is step t's share."""
    model, _, _ = bptt.bptt_loss()
    X, y = rnn.remember_first(1, 3, features=2, seed=0)
    W_ih = np.array([[w.data for w in row] for row in model.rnn.weight_ih])
    W_hh = np.array([[w.data for w in row] for row in model.rnn.weight_hh])
    b = np.array([v.data for v in model.rnn.bias])
    w_out = np.array([w.data for w in model.fc.neurons[0].w])
    b_out = model.fc.neurons[0].b.data

    def loss(per_step_W_hh):
        h = np.zeros(len(b))
        for x, W in zip(X[0], per_step_W_hh):
            h = np.tanh(W_ih @ x + W @ h + b)
        return (y[0] - (w_out @ h + b_out)) ** 2

    shares = []
    for t in range(3):
        up, down = [W_hh.copy() for _ in range(3)], [W_hh.copy() for _ in range(3)]
        up[t][0, 0] += eps
        down[t][0, 0] -= eps
        shares.append((loss(up) - loss(down)) / (2 * eps))
    return shares


def test_bptt_demo_without_graphviz_writes_dot_text(tmp_path, capsys, monkeypatch):
    from demos import players
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    with pytest.raises(autograd.GraphvizNotFound):  # really no dot on this PATH
        autograd.draw(autograd.Value(1.0)).pipe("svg")
    page, drawing = bptt.main(["--out", str(tmp_path)])
    assert drawing.name == "bptt_steps.dot" and drawing.read_text().startswith("digraph")
    assert "as DOT text (Graphviz's dot is not installed" in capsys.readouterr().out
    assert "Backprop through time" in page.read_text(encoding="utf-8")
    assert all(path.stat().st_size > 0 for path in players.main(["--out", str(tmp_path)]))


def test_bptt_gradient_of_the_recurrent_weight_matches_finite_differences():
    model, _, loss = bptt.bptt_loss()
    loss.backward()
    X, y = rnn.remember_first(1, 3, features=2, seed=0)
    for weight in (model.rnn.weight_hh[0][0], model.rnn.weight_ih[2][0], model.rnn.bias[1]):
        start, eps = weight.data, 1e-6

        def loss_at(number):
            weight.data = number
            with autograd.no_grad():
                return bptt.unrolled(model, X[0], float(y[0]))[1].data

        numeric = (loss_at(start + eps) - loss_at(start - eps)) / (2 * eps)
        weight.data = start
        assert weight.grad == pytest.approx(numeric, rel=1e-6, abs=1e-9)
