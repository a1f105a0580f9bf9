"""Backprop you can step through: HTML players for seed 001's network and one MLP training step.

Writes two self-contained pages (open them in a browser; no network needed):

- `backprop_seed001.html`: the article's 2-2-1 network, sigmoid neurons with w = [0, 1], b = 0,
  forward and backward, one node at a time;
- `backprop_mlp_step.html`: one training step of a small MLP (2 inputs, 3 tanh neurons, 1
  output) on four points with the mean squared error; after the page is written, the step is
  taken (SGD) and the loss before and after is printed.

    python -m demos.players [--out DIR]
"""
from __future__ import annotations

from pathlib import Path

import autograd
import nn
from demos import cli
from demos.neuron import network_221
from demos.output import output_dir

POINTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]  # XOR, targets ±1
TARGETS = [-1.0, 1.0, 1.0, -1.0]


def seed001_player() -> autograd.Player:
    """The 2-2-1 network of seed 001 (output o1), ready to step through."""
    out, _ = network_221()
    return autograd.player(out, title="Seed 001's 2-2-1 network: o1 = σ(w·h + b)")


def mlp_step(seed: int = 0, lr: float = 0.1):
    """A small MLP, its loss on the four XOR points, and a player for that loss's backprop."""
    model = nn.MLP(2, [3, 1], activation="tanh", seed=seed)
    loss = nn.mse([model(x) for x in POINTS], TARGETS)
    loss.label = "loss"
    page = autograd.player(loss, title="One training step: MLP(2, [3, 1]) on XOR, "
                                       "loss = mean((y - ŷ)²)")
    return model, loss, page, nn.SGD(model.parameters(), lr=lr)


def main(argv: list[str] | None = None) -> list[Path]:
    """Write both pages, take the MLP's step and print the loss before and after; the paths."""
    folder = output_dir(cli.parser("players", __doc__, writes_files=True).parse_args(argv).out)

    print("Step through backprop in your browser:")
    written = [seed001_player().save(folder / "backprop_seed001.html")]
    print(f"  seed 001's 2-2-1 network:            {written[-1]}")

    model, loss, page, optimizer = mlp_step()
    written.append(page.save(folder / "backprop_mlp_step.html"))
    print(f"  one training step of MLP(2, [3, 1]): {written[-1]}  "
          f"({len(page.steps)} steps)")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    after = nn.mse([model(x) for x in POINTS], TARGETS)
    print(f"  the step moved every parameter by -lr·grad: loss {loss.data:.6f} → {after.data:.6f}")
    print("  keys: ← → step, Home / End, space plays.  In a terminal: python -m autograd step ...")
    return written


if __name__ == "__main__":
    main()
