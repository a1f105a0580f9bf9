"""Seed 003's CNN, scaled to scikit-learn's 8x8 digits: convolutions, ReLU, max pooling, linear.

The article's network reads 28x28 MNIST images: conv(1->32, 3x3, padding 1), ReLU, 2x2 max pool,
conv(32->64), ReLU, pool, then linear 64·7·7 -> 128, ReLU, linear 128 -> 10, cross-entropy, SGD.
Here the same shape reads 8x8 digits (1437 to train, 360 to test, no download): conv(1->8),
ReLU, pool (8x4x4), conv(8->16), ReLU, pool (16x2x2), linear 64 -> 32, ReLU, linear 32 -> 10.
Every weight and every pixel of every feature map is a Value; each output pixel of a
convolution is one `dot` node.

That is thousands of nodes per image, too slow to train one Value at a time, so training runs
compiled (`nn.fit(compiled=True)`): the traced graph of one image runs for a whole batch with
numpy, the loss on Values; the test set is scored with the same compiled program. Max pooling
is one `autograd.max` node per window, a graph that does not depend on the numbers, which is
what lets the tracer take it. With the defaults it reaches 98.1% test accuracy after 10
epochs of Adam (the test accuracy still moves by a few points from one epoch to the next).

    python -m demos.cnn [--epochs N] [--channels C1 C2] [--train-samples N] [--out DIR]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import autograd
import nn
from demos.digits import split
from demos.output import curves, output_dir


def seed_cnn(channels: tuple[int, int] = (8, 16), hidden: int = 32, seed: int = 0) -> nn.Sequential:
    """Seed 003's CNN for 8x8 images given as rows of 64 pixels."""
    c1, c2 = channels
    rng = nn.init.generator(seed)
    return nn.Sequential(
        image=nn.Unflatten((1, 8, 8)),
        conv1=nn.Conv2d(1, c1, 3, stride=1, padding=1, seed=rng), relu1=nn.ReLU(),
        pool1=nn.MaxPool2d(2),
        conv2=nn.Conv2d(c1, c2, 3, stride=1, padding=1, seed=rng), relu2=nn.ReLU(),
        pool2=nn.MaxPool2d(2),
        flatten=nn.Flatten(),
        fc1=nn.Layer(c2 * 2 * 2, hidden, activation="relu", init="he", seed=rng),
        fc2=nn.Layer(hidden, 10, activation="linear", init="he", seed=rng),
    )


def run(epochs: int = 10, channels: tuple[int, int] = (8, 16), hidden: int = 32,
        lr: float = 0.01, train_samples: int | None = None, seed: int = 0, out=None,
        verbose: bool = True) -> dict:
    """Train `seed_cnn` on the digits (`demos.digits.split`), scoring the test set after each
    epoch, and save the curves to `out`. Returns {"model", "history", "test_accuracy",
    "seconds", "picture", "train_size", "test_size"}."""
    X_train, X_test, y_train, y_test = split(train_samples, seed)
    model = seed_cnn(channels, hidden, seed)
    scorer = autograd.compile(model, X_train[0])  # reads the parameters' current numbers
    if verbose:
        print(f"  {len(model.parameters())} parameters; one image is {scorer}")

    def report(epoch: int, history: dict) -> None:
        scores = scorer(X_test)
        history.setdefault("val_accuracy", []).append(float(np.mean(scores.argmax(axis=1) == y_test)))
        if verbose:
            print(f"  epoch {epoch + 1}/{epochs}  {history['seconds'][-1]:5.1f} s  "
                  f"loss {history['loss'][-1]:.4f}  train {100 * history['accuracy'][-1]:.1f}%  "
                  f"test {100 * history['val_accuracy'][-1]:.1f}%")

    start = time.perf_counter()
    history = nn.fit(model, X_train, y_train, nn.cross_entropy, nn.Adam(model.parameters(), lr=lr),
                     epochs=epochs, batch_size=32, seed=seed, on_epoch=report, compiled=True)
    seconds = time.perf_counter() - start
    picture = curves(history, f"digits: seed 003's CNN, conv {channels[0]}-{channels[1]}, Adam",
                     output_dir(out), "cnn_training.png")
    return {"model": model, "history": history, "test_accuracy": history["val_accuracy"][-1],
            "seconds": seconds, "picture": picture, "train_size": len(X_train),
            "test_size": len(X_test)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m demos.cnn", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--channels", type=int, nargs=2, default=[8, 16], metavar=("C1", "C2"),
                        help="channels of the two convolutions (the article: 32 64)")
    parser.add_argument("--hidden", type=int, default=32, help="neurons of fc1 (the article: 128)")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--train-samples", type=int, help="train on the first N samples only")
    parser.add_argument("--out", help="folder for the pictures (default $GLASSGRAD_OUT or out/)")
    args = parser.parse_args(argv)
    print(f"Seed 003: a CNN on 8x8 digits: conv {args.channels[0]}, pool, conv {args.channels[1]}, "
          f"pool, linear {args.hidden}, linear 10; compiled training with Adam")
    result = run(args.epochs, tuple(args.channels), args.hidden, args.lr, args.train_samples,
                 out=args.out)
    print(f"  test accuracy {100 * result['test_accuracy']:.2f}% on {result['test_size']} digits "
          f"after {result['seconds']:.0f} s of training on {result['train_size']}")
    return result


if __name__ == "__main__":
    main()
