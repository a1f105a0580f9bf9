"""Seed 001's single neuron and its 2-2-1 network, on the engine, with every gradient.

The article computes `sigmoid(w·x + b)` with numpy: w = [0, 1], b = 4, x = [2, 3] gives
0.9990889488055994, and a 2-2-1 network whose neurons all have w = [0, 1], b = 0 gives
0.7216325609518421. Here the same numbers come out of Values, and `backward()` adds what the
article cannot show: how the output moves with every weight, bias and input.

    python -m demos.neuron [--out DIR]
"""
from __future__ import annotations

import autograd
from autograd import Value
from demos import cli

NEURON_OUTPUT = 0.9990889488055994  # printed in seed 001
NETWORK_OUTPUT = 0.7216325609518421  # printed in seed 001


def neuron(weights: list[Value], bias: Value, inputs: list[Value], name: str) -> Value:
    """sigmoid(w·x + b): the pre-activation is one `dot` node, as a neuron's should be."""
    total = autograd.dot(weights, inputs, bias)
    total.label = f"{name}.w·x+b"
    out = total.sigmoid()
    out.label = name
    return out


def single_neuron() -> tuple[Value, list[Value]]:
    """The article's first neuron: w = [0, 1], b = 4, x = [2, 3]."""
    w = [Value(0.0, "w1"), Value(1.0, "w2")]
    b = Value(4.0, "b")
    x = [Value(2.0, "x1"), Value(3.0, "x2")]
    return neuron(w, b, x, "o"), w + [b] + x


def network_221() -> tuple[Value, list[Value]]:
    """The article's 2-2-1 network: h1, h2 and o1 all with w = [0, 1], b = 0; x = [2, 3]."""
    x = [Value(2.0, "x1"), Value(3.0, "x2")]
    leaves = list(x)
    hidden = []
    for name in ("h1", "h2"):
        w = [Value(0.0, f"{name}.w1"), Value(1.0, f"{name}.w2")]
        b = Value(0.0, f"{name}.b")
        leaves += w + [b]
        hidden.append(neuron(w, b, x, name))
    w = [Value(0.0, "o1.w1"), Value(1.0, "o1.w2")]
    b = Value(0.0, "o1.b")
    leaves += w + [b]
    return neuron(w, b, hidden, "o1"), leaves


def report(title: str, out: Value, leaves: list[Value], expected: float) -> None:
    out.backward()
    print(title)
    print(f"  output {out.label} = {out.data!r}   (the article prints {expected!r})")
    for leaf in leaves:
        print(f"  d{out.label}/d{leaf.label:<6} = {leaf.grad: .12f}   ({leaf.label} = {leaf.data:g})")


def main(argv: list[str] | None = None) -> None:
    """The command line: both of the article's examples with every gradient."""
    cli.parser("neuron", __doc__, writes_files=False).parse_args(argv)
    report("Seed 001, one neuron: sigmoid(w·x + b)", *single_neuron(), NEURON_OUTPUT)
    print()
    report("Seed 001, the 2-2-1 network (every neuron w = [0, 1], b = 0)", *network_221(),
           NETWORK_OUTPUT)


if __name__ == "__main__":
    main()
