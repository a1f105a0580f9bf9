"""Redraw the README's pictures: `python -m docs.pictures` from the repository root (needs
Graphviz's `dot`)."""
from pathlib import Path

import autograd
import nn
from demos.neuron import network_221

HERE = Path(__file__).parent


def main() -> None:
    out, leaves = network_221()
    out.backward()
    autograd.draw(out, title="Seed 001's 2-2-1 network after backward()",
                  params=leaves[2:]).render(HERE / "seed001_network.svg")  # after x1, x2

    model = nn.MLP(3, [8, 8, 1], seed=0)
    out = model([0.5, -1.0, 2.0])
    out.backward()
    autograd.draw(out, collapse="neuron", title="nn.MLP(3, [8, 8, 1]), one box per neuron").render(
        HERE / "mlp_collapsed.svg")


if __name__ == "__main__":
    main()
