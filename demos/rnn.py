"""Seed 003's RNN (10 inputs, 5 tanh hidden units, a linear output, MSE, SGD) learning to
remember the first number of a sequence.

The article trains `nn.RNN(10, 5)` and `nn.Linear(5, 1)` with MSE and SGD on random inputs
against the target 1.0, which teaches nothing about time. Here the task needs memory: each
sequence has `steps` vectors of 10 numbers in [-1, 1]; feature 0 of the first vector is the
number to remember (it is 0 at every later step), the other nine features are noise at every
step, and the target, read from the last hidden state, is that first number. Predicting 0, the
best a network that forgets can do, scores the target's variance (about 1/3); the loss falls
far below it only as backpropagation through time teaches the weights to carry the number
across the steps. Plain SGD on mini-batches of 10 with `nn.fit` (a sequence is one sample), on
Values (eager: a sequence is ~100 nodes); the scores that mean something here, the test MSE and
the share recalled within 0.1, are taken after each epoch in `on_epoch`.

    python -m demos.rnn [--epochs N] [--steps T] [--samples N] [--lr LR] [--out DIR]
"""
from __future__ import annotations

import os

import numpy as np

import autograd
import nn
from demos import cli
from demos.output import curves, output_dir


class SeedRNN(nn.Module):
    """The article's `RNN(input_size, hidden_size, output_size)`: an Elman RNN, then a linear
    layer on its last hidden state (the article applies it at every step; only the last one
    answers here)."""

    def __init__(self, input_size: int = 10, hidden_size: int = 5, output_size: int = 1,
                 seed: int = 0) -> None:
        rng = nn.init.generator(seed)
        self.rnn = nn.RNN(input_size, hidden_size, seed=rng)
        self.fc = nn.Layer(hidden_size, output_size, activation="linear", seed=rng)

    def __call__(self, xs) -> autograd.Value | list[autograd.Value]:
        """The linear layer's output(s) on the last hidden state of the sequence `xs`."""
        with autograd.scope("rnn", kind="layer"):
            states = self.rnn(xs)
        with autograd.scope("fc", kind="layer"):
            out = self.fc(states[-1])
        return out[0] if len(out) == 1 else out


def remember_first(samples: int, steps: int, features: int = 10,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """X of shape (samples, steps, features) and y = X[:, 0, 0], the number to remember."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(samples, steps, features))
    X[:, 1:, 0] = 0.0
    return X, X[:, 0, 0].copy()


def run(epochs: int = 40, steps: int = 5, samples: int = 200, lr: float = 0.05, seed: int = 0,
        out: str | os.PathLike | None = None, verbose: bool = True) -> dict:
    """Train `SeedRNN` with SGD on `samples` sequences of `steps` for `epochs`, test on 100 more,
    save the curves to `out`. Returns {"model", "history", "forgetting_mse", "test_mse",
    "seconds", "picture", "examples" (three (target, recalled) pairs)}."""
    X, y = remember_first(samples, steps, seed=seed)
    X_test, y_test = remember_first(100, steps, seed=seed + 1)
    model = SeedRNN(seed=seed)
    # fit's own "accuracy" reads one output as a class (above 0.5 or not), which means nothing
    # for a number to recall; this task's scores, on the test set, are kept here instead
    test_mse: list[float] = []
    recalled: list[float] = []  # the share of test sequences recalled within 0.1

    def recall() -> np.ndarray:
        with autograd.no_grad():
            return np.array([model(x).data for x in X_test])

    def score(epoch: int, history: dict) -> None:
        guesses = recall()
        test_mse.append(float(np.mean((guesses - y_test) ** 2)))
        recalled.append(float(np.mean(np.abs(guesses - y_test) < 0.1)))
        if verbose and (epoch % max(1, epochs // 10) == 0 or epoch == epochs - 1):
            print(f"  epoch {epoch + 1:3d}/{epochs}  train MSE {history['loss'][-1]:.4f}  "
                  f"test MSE {test_mse[-1]:.4f}  recalled within 0.1: {100 * recalled[-1]:.0f}%")

    # each step backpropagates through the last layer, then back through every time step
    trained = nn.fit(model, X, y, nn.mse, nn.SGD(model.parameters(), lr=lr), epochs=epochs,
                     batch_size=10, seed=seed, progress=False, on_epoch=score)
    history = {"loss": trained["loss"], "accuracy": recalled, "val_loss": test_mse,
               "seconds": trained["seconds"]}
    seconds, guesses = sum(trained["seconds"]), recall()
    picture = curves(history, f"seed 003's RNN(10, 5): remember the first of {steps} steps",
                     output_dir(out), "rnn_training.png")
    return {"model": model, "history": history, "forgetting_mse": float(np.mean(y_test ** 2)),
            "test_mse": history["val_loss"][-1], "seconds": seconds, "picture": picture,
            "examples": list(zip(y_test[:3].tolist(), guesses[:3].tolist()))}


def main(argv: list[str] | None = None) -> dict:
    """The command line: train, print the test MSE beside forgetting's; `run()`'s result."""
    parser = cli.parser("rnn", __doc__, writes_files=True)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--steps", type=int, default=5, help="length of each sequence")
    parser.add_argument("--samples", type=int, default=200, help="training sequences")
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args(argv)
    print(f"Seed 003: RNN(10, 5) + linear, MSE, SGD: remember the first number of {args.steps} steps")
    result = run(args.epochs, args.steps, args.samples, args.lr, out=args.out)
    print(f"  test MSE {result['test_mse']:.4f}; a network that forgets (predicts 0) scores "
          f"{result['forgetting_mse']:.4f}  ({result['seconds']:.0f} s)")
    for want, got in result["examples"]:
        print(f"    first number {want:+.3f}  recalled {got:+.3f}")
    return result


if __name__ == "__main__":
    main()
