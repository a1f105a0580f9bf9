"""Every demo runs, and prints the seeds' numbers."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from demos import neuron


def test_seed_001_numbers_come_out_of_the_engine():
    out, _ = neuron.single_neuron()
    assert abs(out.data - 0.9990889488055994) <= 1e-12
    out, _ = neuron.network_221()
    assert abs(out.data - 0.7216325609518421) <= 1e-12


def test_seed_001_gradients_by_hand():
    out, leaves = neuron.single_neuron()
    out.backward()
    s = out.data
    slope = s * (1 - s)  # sigmoid'(7)
    grads = {leaf.label: leaf.grad for leaf in leaves}
    assert grads == pytest.approx({"w1": 2 * slope, "w2": 3 * slope, "b": slope,
                                   "x1": 0.0, "x2": slope}, rel=1e-15)


def test_the_neuron_demo_prints_the_seed_numbers():
    out = subprocess.run([sys.executable, "-m", "demos.neuron"], capture_output=True, text=True,
                         check=True).stdout
    assert "0.9990889488055994" in out and "0.7216325609518421" in out


# ---- seed 000: the article's numpy code, typed again here ------------------------------------
def article_000():
    """Seed 000's numpy code, as printed, except that the bias gradient is summed over the
    samples (as printed, `b -= lr * delta` fails: delta has a row per sample)."""
    import numpy as np

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def feedforward(X, weights, biases):
        a = X
        for w, b in zip(weights, biases):
            z = np.dot(a, w) + b
            a = sigmoid(z)
        return a

    X = np.array([[1, 2], [3, 4]])
    weights = [np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([[0.5], [0.6]])]
    biases = [np.array([0.1, 0.2]), np.array([0.3])]
    output = feedforward(X, weights, biases)
    y_true = np.array([[1], [0]])
    loss = np.mean((y_true - output) ** 2)

    gradients_w = [np.zeros(w.shape) for w in weights]
    gradients_b = [np.zeros(b.shape) for b in biases]
    a = X
    activations = [a]
    zs = []
    for w, b in zip(weights, biases):
        z = np.dot(a, w) + b
        zs.append(z)
        a = sigmoid(z)
        activations.append(a)
    delta = activations[-1] - y_true
    gradients_b[-1] = delta.sum(axis=0)
    gradients_w[-1] = np.dot(activations[-2].T, delta)
    for l in range(2, len(weights) + 1):
        z = zs[-l]
        sp = sigmoid(z) * (1 - sigmoid(z))
        delta = np.dot(delta, weights[-l + 1].T) * sp
        gradients_b[-l] = delta.sum(axis=0)
        gradients_w[-l] = np.dot(activations[-l - 1].T, delta)
    grads = ([g.copy() for g in gradients_w], [g.copy() for g in gradients_b])
    for w, grad_w in zip(weights, gradients_w):
        w -= 0.1 * grad_w
    for b, grad_b in zip(biases, gradients_b):
        b -= 0.1 * grad_b
    X_test = np.array([[2, 3], [4, 5]])
    test_output = feedforward(X_test, weights, biases)
    predictions = np.round(test_output)
    accuracy = np.mean(predictions == np.array([[1], [0]]))
    return dict(output=output, mse=loss, grads=grads, weights=weights, biases=biases,
                test_output=test_output, predictions=predictions, accuracy=accuracy)


def test_article_bias_update_really_fails_in_numpy():
    import numpy as np
    b = np.array([0.3])
    with pytest.raises(ValueError, match="non-broadcastable"):
        b -= 0.1 * np.ones((2, 1))


def test_numpy_net_matches_the_article_to_1e_12():
    import numpy as np

    from demos import numpy_net
    ours, theirs = numpy_net.run(), article_000()
    close = dict(rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["output"], theirs["output"], **close)
    assert ours["mse"] == pytest.approx(theirs["mse"], abs=1e-12)
    for mine, article in zip(ours["bce_grads"][0] + ours["bce_grads"][1], theirs["grads"][0] + theirs["grads"][1]):
        np.testing.assert_allclose(mine, article, **close)
    # ... and the article's gradient is not the MSE's
    assert not np.allclose(ours["mse_grads"][0][1], theirs["grads"][0][1])
    for mine, article in zip(ours["weights"] + ours["biases"], theirs["weights"] + theirs["biases"]):
        np.testing.assert_allclose(mine, article, **close)
    np.testing.assert_allclose(ours["test_output"], theirs["test_output"], **close)
    assert np.array_equal(ours["predictions"], theirs["predictions"])
    assert ours["accuracy"] == theirs["accuracy"] == 0.5


def test_gender_classifies_emily_and_frank():
    from demos import gender
    result = gender.run(epochs=1000, verbose=False)
    emily, frank = result["probabilities"]
    assert result["names"] == ["Emily", "Frank"]
    assert emily > 0.9 and frank < 0.1  # the article: 0.951 F and 0.039 M, female = 1
    assert result["train_mse"] < 0.01


def test_alice_reproduces_the_hand_calculation_then_trains_and_writes_a_timeline(tmp_path, capsys):
    from demos import alice
    result = alice.main(["--epochs", "300", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    h, o = sigmoid(-3.0), sigmoid(2 * sigmoid(-3.0))
    factors = [-2 * (1 - o), 1.0 * o * (1 - o), -2.0 * h * (1 - h)]  # the article's chain rule
    grad = factors[0] * factors[1] * factors[2]
    assert [result["hand"][k] for k in ("dL/dy_pred", "dy_pred/dh1", "dh1/dw1")] == \
        pytest.approx(factors, rel=1e-15)
    assert result["grad"] == pytest.approx(grad, rel=1e-14)  # backward() agrees
    assert f"{grad:.7f}" == "0.0214695" and "0.0214695353…   (the article: 0.0214)" in out
    update = result["update"]
    assert update.grad == pytest.approx(grad, rel=1e-14) and update.after == 1.0 - 0.1 * update.grad
    assert "w1 ← w1 - η·∂L/∂w1 = 1 - 0.1 · 0.0214695 = 0.997853" in out
    assert f"w1 = {update.after!r}" in out and repr(update.after).startswith("0.997853")
    assert result["predictions"]["Emily"] > 0.5 > result["predictions"]["Frank"]
    assert [p.name for p in result["pages"]] == ["alice_step.html", "alice_timeline.html"]
    assert all(p.exists() for p in result["pages"])
    recorder = result["recorder"]
    assert len(recorder.steps) == 1200 and recorder.full_steps[-1] == 1199
    names = [f"w{i}" for i in range(1, 7)] + ["b1", "b2", "b3"]
    assert [p.label for p in recorder._run.params] == names
    # training starts from the article's kind of start, seeded: N(0, 1) draws, in order
    start = dict(zip(names, np.random.default_rng(0).normal(size=9).tolist()))
    assert recorder.parameters(0) == start
    assert ", ".join(f"{k} = {v:.3f}" for k, v in start.items()) in out
    # so h1 and h2 are not twins: their weights differ all along
    for k in (0, 600, 1200):
        kept = recorder.parameters(k)
        assert (kept["w1"], kept["w2"], kept["b1"]) != (kept["w3"], kept["w4"], kept["b2"])


@pytest.mark.parametrize("name, args, page", [
    ("moons", ["--steps", "4"], "moons_timeline.html"),
    ("moons", ["--steps", "4", "--compiled"], "moons_timeline.html"),
    ("letters", ["--epochs", "2", "--quiet"], "letters_timeline.html"),
])
def test_player_writes_the_training_timeline(tmp_path, capsys, name, args, page):
    import importlib
    result = importlib.import_module(f"demos.{name}").main(
        args + ["--out", str(tmp_path / "pictures"), "--player", str(tmp_path / "pages")])
    assert result["timeline"] == tmp_path / "pages" / page and result["timeline"].exists()
    assert f"the training timeline: {result['timeline']}" in capsys.readouterr().out
    assert result["recorder"].full_steps[-1] == len(result["recorder"].steps) - 1


def is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_letters_reach_100_percent_and_draw(tmp_path):
    from demos import letters
    result = letters.run(epochs=100, out=tmp_path, verbose=False)
    assert result["history"]["accuracy"][-1] == 1.0 and result["final_accuracy"] == 1.0
    assert result["predicted"] == "B"
    assert [p.name for p in result["pictures"]] == ["letters_training.png", "letters_noisy.png"]
    assert all(is_png(p) for p in result["pictures"])


def test_moons_reaches_100_percent_and_draws_the_boundary(tmp_path):
    from demos import moons
    result = moons.run(steps=100, grid=12, out=tmp_path, verbose=False)
    assert result["accuracy"] == 1.0
    assert is_png(result["picture"])


def test_torch_snippet_first_step_matches_hand_backprop():
    import numpy as np

    import nn
    from demos import torch_snippets
    start = nn.MLP(10, [5, 1], activation="relu", init="xavier", seed=0)  # the demo's model
    W1 = np.array([[w.data for w in n.w] for n in start.layers[0].neurons])
    b1 = np.array([n.b.data for n in start.layers[0].neurons])
    w2 = np.array([w.data for w in start.layers[1].neurons[0].w])
    b2 = start.layers[1].neurons[0].b.data
    x = np.random.default_rng(0).standard_normal(10)
    h_pre = W1 @ x + b1
    h = np.maximum(h_pre, 0)
    out = w2 @ h + b2
    d_out = 2 * (out - 1.0)
    d_pre = d_out * w2 * (h_pre > 0)
    W1, b1, w2, b2 = W1 - 0.01 * np.outer(d_pre, x), b1 - 0.01 * d_pre, w2 - 0.01 * d_out * h, b2 - 0.01 * d_out
    result = torch_snippets.run(steps=1, verbose=False)
    model = result["model"]
    assert result["losses"][0] == pytest.approx((out - 1.0) ** 2, abs=1e-12)
    np.testing.assert_allclose([[w.data for w in n.w] for n in model.layers[0].neurons], W1, rtol=0, atol=1e-12)
    np.testing.assert_allclose([n.b.data for n in model.layers[0].neurons], b1, rtol=0, atol=1e-12)
    np.testing.assert_allclose([w.data for w in model.layers[1].neurons[0].w], w2, rtol=0, atol=1e-12)
    assert model.layers[1].neurons[0].b.data == pytest.approx(b2, abs=1e-12)


def test_torch_snippet_learns_to_answer_one():
    import numpy as np

    from demos import torch_snippets
    losses = torch_snippets.run(steps=600, verbose=False)["losses"]
    assert np.mean(losses[-100:]) < 0.2 * np.mean(losses[:100])


def test_digits_runs_small(tmp_path):
    from demos import digits
    result = digits.run(epochs=1, hidden=8, train_samples=64, out=tmp_path, verbose=False)
    assert 0.0 <= result["test_accuracy"] <= 1.0 and result["train_size"] == 64 and result["test_size"] == 360
    assert is_png(result["picture"])


def test_digits_trains_the_same_compiled_and_eager(tmp_path):
    from demos import digits
    runs = [digits.run(epochs=2, hidden=8, train_samples=64, out=tmp_path, verbose=False,
                       compiled=compiled)["history"] for compiled in (True, False)]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(runs[0][key], runs[1][key], rtol=1e-9)


def test_the_tour_runs_small_and_says_where_pictures_went(tmp_path):
    run = subprocess.run([sys.executable, "-m", "demos", "--small", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "0.9990889488055994" in run.stdout and "Emily" in run.stdout
    assert f"Pictures and pages are in {tmp_path}/" in run.stdout
    warning = "(--small: small sizes for a quick run, so the trained models' numbers are not meaningful"
    assert run.stdout.startswith(warning) and run.stdout.count(warning) == 2  # first and last
    assert {"letters_training.png", "moons_boundary.png", "digits_training.png",
            "alice_timeline.html"} <= {p.name for p in tmp_path.iterdir()}


@pytest.mark.parametrize("name, args", [
    ("numpy_net", []), ("gender", ["--epochs", "20"]), ("letters", ["--epochs", "2", "--quiet"]),
    ("moons", ["--steps", "2"]), ("torch_snippets", ["--steps", "3"]), ("alice", ["--epochs", "3"]),
    ("digits", ["--epochs", "1", "--hidden", "4", "--train-samples", "32"]),
    ("digits", ["--epochs", "1", "--hidden", "4", "--train-samples", "32", "--eager"]),
])
def test_each_demo_runs_from_the_command_line(tmp_path, name, args):
    env = dict(os.environ, GLASSGRAD_OUT=str(tmp_path))
    run = subprocess.run([sys.executable, "-m", f"demos.{name}", *args], capture_output=True, text=True,
                         env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    for line in run.stdout.splitlines():
        if "picture:" in line:
            assert line.split("picture: ")[1].startswith(str(tmp_path))
