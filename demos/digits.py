"""Seed 002's MNIST classifier, on scikit-learn's 8x8 digits: ReLU hidden layer, softmax, Adam.

The article builds `Flatten -> Dense(128, relu) -> Dense(10, softmax)` in Keras and trains it
with Adam on sparse categorical cross-entropy. Here: `nn.MLP(64, [128, 10])` with ReLU hidden
neurons and 10 raw scores whose softmax is built into `nn.cross_entropy` (log-sum-exp, stable),
`nn.Adam` with a learning rate that falls linearly to 0, mini-batches of 32, on the 1797 digits
that ship with scikit-learn (1437 to train, 360 to test, no download).

Every one of the ~9,600 weights is its own Value. By default training runs compiled
(`nn.fit(compiled=True)`): the graph of one image and its loss is traced once and run for each
batch with numpy, so an epoch takes a fraction of a second and 12 epochs reach about 97.8% test
accuracy. `--eager` trains one Value at a time instead (the same numbers, seconds per epoch).
With MNIST's IDX files downloaded, `nn.mnist(folder)` reads them the same way (28x28 = 784
inputs, and much longer epochs).

    python -m demos.digits [--epochs N] [--hidden N] [--lr LR] [--eager] [--train-samples N] [--out DIR]
"""
from __future__ import annotations

import argparse

import numpy as np

import nn
from nn.shapes import positive_int
from demos.output import curves, output_dir


def split(train_samples: int | None = None, seed: int = 0) -> tuple[np.ndarray, ...]:
    """The digits demos' data: `nn.digits(test_size=0.2, seed=seed)` (1437 to train, 360 to
    test), the training set cut to its first `train_samples` if given (the test set is whole).
    Returns X_train, X_test, y_train, y_test."""
    X_train, X_test, y_train, y_test = nn.digits(test_size=0.2, seed=seed)
    if train_samples is not None:
        train_samples = positive_int(train_samples, "train_samples")
        X_train, y_train = X_train[:train_samples], y_train[:train_samples]
    return X_train, X_test, y_train, y_test


def run(epochs: int = 12, hidden: int = 128, lr: float = 0.01, train_samples: int | None = None,
        seed: int = 0, out=None, verbose: bool = True, compiled: bool = True) -> dict:
    """Train seed 002's network on the digits (`split`), print each epoch if `verbose`, save
    the curves to `out`. Returns {"model", "history", "test_accuracy", "seconds", "picture",
    "train_size", "test_size"}."""
    X_train, X_test, y_train, y_test = split(train_samples, seed)
    model = nn.MLP(64, [hidden, 10], activation="relu", init="he", seed=seed)
    steps = epochs * -(-len(X_train) // 32)  # batches of 32, the last one may be smaller
    optimizer = nn.Adam(model.parameters(), lr=lambda k: lr * (1 - k / steps))

    def report(epoch: int, history: dict) -> None:
        if verbose:
            print(f"  epoch {epoch + 1:2d}/{epochs}  {history['seconds'][-1]:6.2f} s  "
                  f"loss {history['loss'][-1]:.4f}  train {100 * history['accuracy'][-1]:.1f}%  "
                  f"test {100 * history['val_accuracy'][-1]:.1f}%")

    history = nn.fit(model, X_train, y_train, nn.cross_entropy, optimizer, epochs=epochs,
                     batch_size=32, seed=seed, validation=(X_test, y_test), on_epoch=report,
                     compiled=compiled)
    picture = curves(history, f"digits: MLP(64, [{hidden}, 10]), Adam", output_dir(out), "digits_training.png")
    return {"model": model, "history": history, "test_accuracy": history["val_accuracy"][-1],
            "seconds": sum(history["seconds"]), "picture": picture, "train_size": len(X_train),
            "test_size": len(X_test)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--hidden", type=int, default=128, help="hidden neurons (the article: 128)")
    parser.add_argument("--lr", type=float, default=0.01, help="Adam's first rate, falling to 0")
    parser.add_argument("--eager", action="store_true",
                        help="train one Value at a time instead of compiled (same numbers, slower)")
    parser.add_argument("--train-samples", type=int, help="train on the first N samples only")
    parser.add_argument("--out", help="folder for the pictures (default $GLASSGRAD_OUT or out/)")
    args = parser.parse_args(argv)
    how = "eager, one Value at a time" if args.eager else "compiled"
    print(f"Seed 002: digits with MLP(64, [{args.hidden}, 10]), ReLU, softmax cross-entropy, "
          f"Adam ({how})")
    result = run(args.epochs, args.hidden, args.lr, args.train_samples, out=args.out,
                 compiled=not args.eager)
    print(f"  test accuracy {100 * result['test_accuracy']:.2f}% on {result['test_size']} digits "
          f"after {result['seconds']:.1f} s of training on {result['train_size']}")
    return result


if __name__ == "__main__":
    main()
