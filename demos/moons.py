"""micrograd's best-known demo, on glassgrad: an MLP learns two interleaving half moons.

As in micrograd's notebook: 100 points, labels -1/+1, `MLP(2, [16, 16, 1])` with ReLU hidden
layers and a linear output, the max-margin (hinge) loss plus an L2 penalty of 1e-4, 100 steps
of full-batch SGD with the learning rate decaying from 1.0 to 0.1 (`1.0 - 0.9·k/100`), to
100% accuracy. The data comes from `nn.make_moons` (numpy, seeded), and the decision boundary
is saved as PNG. With `--player DIR` the run is recorded (`nn.Recorder`) and written to
DIR/moons_timeline.html: the curves, the boundary and the weights at every step, and every 10th
step (and the last) in the player, forward, backward and update. With `--compiled` it trains
with `nn.fit(compiled=True)`: the same run to rounding, in a fraction of the time (recorded
the same way).

    python -m demos.moons [--steps N] [--out DIR] [--player DIR] [--compiled]
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import nn
from demos import cli
from demos.output import output_dir, save, timeline


def run(steps: int = 100, samples: int = 100, grid: int = 80, seed: int = 0,
        out: str | os.PathLike | None = None, verbose: bool = True,
        player: str | os.PathLike | None = None, compiled: bool = False) -> dict:
    """Train MLP(2, [16, 16, 1]) on `samples` moons for `steps` SGD steps (`compiled`: with
    `nn.fit(compiled=True)`) and save the decision boundary (on a `grid` x `grid` mesh) to
    `out`; with `player`, the run's timeline page to that folder. Returns {"model", "history", "accuracy", "picture", "recorder" and "timeline"
    (the nn.Recorder and the page's path, or None)}."""
    X, labels = nn.make_moons(samples, noise=0.1, seed=seed)
    y = 2 * labels - 1
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=seed)
    every = max(1, steps // 10)

    def report(step: int, history: dict) -> None:
        if verbose and (step + 1) % every == 0:
            print(f"  step {step + 1:3d}  loss {history['loss'][-1]:.4f}  "
                  f"accuracy {100 * history['accuracy'][-1]:.0f}%")

    optimizer = nn.SGD(model.parameters(), lr=lambda k: 1.0 - 0.9 * k / steps)
    recorder = nn.Recorder() if player is not None else None
    history = nn.fit(model, X, y, nn.hinge, optimizer, epochs=steps, progress=False,
                     penalty=lambda: nn.l2(model.parameters(), 1e-4), on_epoch=report,
                     record=recorder, compiled=compiled)
    final = nn.evaluate(model, X, y, nn.hinge)["accuracy"]
    picture = boundary(model, X, y, grid, output_dir(out))
    page = timeline(recorder, player, "moons_timeline.html",
                    f"micrograd's moons: MLP(2, [16, 16, 1]), hinge loss + L2, {steps} steps of SGD")
    return {"model": model, "history": history, "accuracy": final, "picture": picture,
            "recorder": recorder, "timeline": page}


def boundary(model: nn.MLP, X: np.ndarray, y: np.ndarray, grid: int, folder: Path) -> Path:
    """The model's score over a grid around the data, its zero line, and the points."""
    xs = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, grid)
    ys = np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, grid)
    gx, gy = np.meshgrid(xs, ys)
    scores = nn.predict(model, np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    ax.contourf(gx, gy, scores > 0, levels=1, cmap="coolwarm", alpha=0.35)
    ax.contour(gx, gy, scores, levels=[0.0], colors="k", linewidths=1)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=22)
    ax.set_title("moons: MLP(2, [16, 16, 1]) decision boundary")
    return save(fig, folder, "moons_boundary.png")


def main(argv: list[str] | None = None) -> dict:
    """The command line: train, print the accuracy, save the picture; `run()`'s result."""
    parser = cli.parser("moons", __doc__, writes_files=True)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--player", metavar="DIR",
                        help="record the run and write its timeline page (moons_timeline.html) "
                             "to DIR")
    parser.add_argument("--compiled", action="store_true",
                        help="train with nn.fit(compiled=True): the same run to rounding, faster")
    args = parser.parse_args(argv)
    print("micrograd's moons: MLP(2, [16, 16, 1]), hinge loss + L2, SGD with decaying rate")
    result = run(args.steps, out=args.out, player=args.player, compiled=args.compiled)
    print(f"  final accuracy {100 * result['accuracy']:.0f}%")
    return result


if __name__ == "__main__":
    main()
