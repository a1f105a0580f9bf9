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


def neuron(name: str, weights: list[float], bias: float, inputs: list[Value],
           prefix: str = "") -> tuple[Value, list[Value]]:
    """sigmoid(w·x + b) built as an `nn` neuron builds it: the pre-activation is one `dot`
    node, and the parameters and nodes are made inside the neuron's `autograd.scope`, so
    drawings show w and b as parameters and can collapse the neuron into one box.

    Returns the output and the neuron's parameters, labelled `{prefix}w1`, ..., `{prefix}b`.
    """
    with autograd.scope(name, kind="neuron"):
        w = [Value(float(v), f"{prefix}w{i + 1}") for i, v in enumerate(weights)]
        b = Value(float(bias), f"{prefix}b")
        total = autograd.dot(w, inputs, b)
        total.label = f"{name}.w·x+b"
        out = total.sigmoid()
        out.label = name
    return out, w + [b]


def single_neuron() -> tuple[Value, list[Value]]:
    """The article's first neuron: w = [0, 1], b = 4, x = [2, 3]."""
    x = [Value(2.0, "x1"), Value(3.0, "x2")]
    out, params = neuron("o", [0, 1], 4, x)
    return out, params + x


def network_221() -> tuple[Value, list[Value]]:
    """The article's 2-2-1 network: h1, h2 and o1 all with w = [0, 1], b = 0; x = [2, 3]."""
    x = [Value(2.0, "x1"), Value(3.0, "x2")]
    leaves = list(x)
    hidden = []
    for name in ("h1", "h2"):
        h, params = neuron(name, [0, 1], 0, x, prefix=f"{name}.")
        hidden.append(h)
        leaves += params
    out, params = neuron("o1", [0, 1], 0, hidden, prefix="o1.")
    return out, leaves + params


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
