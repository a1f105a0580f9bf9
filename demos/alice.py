"""Seed 001 by hand: Alice's ∂L/∂w1, one SGD update, and the training run as a timeline.

The article's network: h1 = f(w1·x1 + w2·x2 + b1), h2 = f(w3·x1 + w4·x2 + b2),
o1 = f(w5·h1 + w6·h2 + b3), f the sigmoid, and the loss L = (y_true - y_pred)² with
y_pred = o1. For Alice alone (weight - 135 = -2, height - 66 = -1, female: y_true = 1), with
every weight 1 and every bias 0, it works out by hand

    ∂L/∂w1 = ∂L/∂y_pred · ∂y_pred/∂h1 · ∂h1/∂w1 = (-0.952)(0.249)(-0.0904) = 0.0214

and its rule for SGD, w1 ← w1 - η·∂L/∂w1. This demo builds that network with the article's
names (w1..w6, b1..b3, h1, h2, o1; the sums as its code names them, sum_h1, sum_h2, sum_o1),
repeats the hand calculation factor by factor beside the article's numbers and beside what
backward() computes, takes one SGD step with η = 0.1 (w1 = 0.997853...), then trains the
classifier on the article's four people, one at a time, and writes the run as a timeline page:
scrub through the 4000 steps, and open the steps recorded in full in the player.

Training starts as the article's code does, from random weights and biases drawn from the
standard normal (its np.random.normal()), here from a seeded generator
(`np.random.default_rng(seed).normal()`, seed 0 by default) so that the run repeats; the
numbers differ from the article's, whose draws we do not have. (Training from the hand
calculation's start, every weight 1, would keep h1 and h2 twins: the same weights, the same
gradients, step after step.) The loss is nn.mse with its node named L, as the article names
it; its node is (o1 - y_true)², the article's (y_true - y_pred)² with the difference turned
around: the same number, and the same ∂L/∂y_pred.

    python -m demos.alice [--epochs N] [--out DIR]
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

import autograd
import nn
from autograd import Value
from demos import cli
from demos.output import output_dir

ALICE, Y_TRUE = [-2.0, -1.0], 1.0
ARTICLE = {"h1": 0.0474, "o1": 0.524, "dL/dy_pred": -0.952, "dy_pred/dh1": 0.249,
           "dh1/dw1": -0.0904, "dL/dw1": 0.0214}  # the article's rounded numbers
RATE = 0.1


class Network(nn.Module):
    """Seed 001's 2-2-1 sigmoid network, its parameters named as in the article."""

    def __init__(self, weight: float = 1.0, bias: float = 0.0) -> None:
        self.w1, self.w2, self.w3, self.w4, self.w5, self.w6 = (Value(weight) for _ in range(6))
        self.b1, self.b2, self.b3 = (Value(bias) for _ in range(3))

    def __call__(self, x) -> Value:
        x1, x2 = (v if isinstance(v, Value) else Value(float(v), f"x{i + 1}", requires_grad=False)
                  for i, v in enumerate(x))
        h1 = _neuron("h1", [self.w1, self.w2], [x1, x2], self.b1)
        h2 = _neuron("h2", [self.w3, self.w4], [x1, x2], self.b2)
        return _neuron("o1", [self.w5, self.w6], [h1, h2], self.b3)

    @classmethod
    def seeded(cls, seed: int = 0) -> Network:
        """The article's start for training: w1..w6 and b1..b3 drawn from the standard normal,
        in that order, as its np.random.normal() does, from a generator seeded with `seed`."""
        network = cls()
        for p, x in zip(network.parameters(), np.random.default_rng(seed).normal(size=9)):
            p.data = float(x)
        return network

    def __repr__(self) -> str:
        return "Network(seed 001's 2-2-1)"


def _loss(outputs, targets) -> Value:
    """nn.mse, its node named L as the article names the loss (∂L/∂w1)."""
    loss = nn.mse(outputs, targets)
    loss.label = "L"
    return loss


_loss.__name__ = "L"
L = nn.Loss(_loss, threshold=nn.mse.threshold)


def _neuron(name: str, w: list[Value], inputs: list[Value], b: Value) -> Value:
    """f(w·x + b) in the neuron's scope, its sum named as the article's code names it."""
    with autograd.scope(name, kind="neuron"):
        total = autograd.dot(w, inputs, b)
        total.label = f"sum_{name}"
        out = total.sigmoid()
        out.label = name
    return out


def by_hand(network: Network) -> dict[str, float]:
    """The article's chain rule for ∂L/∂w1, from the forward pass's numbers: f' = f·(1 - f)."""
    f = _sigmoid
    sum_h1 = network.w1.data * ALICE[0] + network.w2.data * ALICE[1] + network.b1.data
    sum_h2 = network.w3.data * ALICE[0] + network.w4.data * ALICE[1] + network.b2.data
    h1, h2 = f(sum_h1), f(sum_h2)
    sum_o1 = network.w5.data * h1 + network.w6.data * h2 + network.b3.data
    y_pred = f(sum_o1)
    factors = {"dL/dy_pred": -2 * (Y_TRUE - y_pred),
               "dy_pred/dh1": network.w5.data * f(sum_o1) * (1 - f(sum_o1)),
               "dh1/dw1": ALICE[0] * f(sum_h1) * (1 - f(sum_h1))}
    return {"h1": h1, "o1": y_pred, **factors,
            "dL/dw1": factors["dL/dy_pred"] * factors["dy_pred/dh1"] * factors["dh1/dw1"]}


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def one_step(out: Path) -> tuple[nn.Recorder, Network]:
    """One SGD step (η = 0.1) on Alice alone, recorded in full; its player page goes to `out`."""
    network = Network()
    recorder = nn.Recorder(full=[0])
    nn.fit(network, [ALICE], [Y_TRUE], L, nn.SGD(network.parameters(), lr=RATE),
           epochs=1, progress=False, record=recorder)
    recorder.player(0).save(out / "alice_step.html")
    return recorder, network


def train(epochs: int, out: Path, seed: int = 0) -> tuple[nn.Recorder, Network, dict]:
    """The network, from seeded random weights (`Network.seeded(seed)`), trained on the four
    people by SGD, one at a time."""
    _, X, y = nn.people()
    network = Network.seeded(seed)
    recorder = nn.Recorder()
    history = nn.fit(network, X, y, L, nn.SGD(network.parameters(), lr=RATE),
                     epochs=epochs, batch_size=1, seed=seed, progress=False, record=recorder)
    recorder.save(out / "alice_timeline.html",
                  title=f"Seed 001: the 2-2-1 network learns sex from weight and height "
                        f"({epochs} epochs of SGD, one person at a time)")
    return recorder, network, history


def run(epochs: int = 1000, out: str | os.PathLike | None = None, verbose: bool = True) -> dict:
    """The hand calculation, one update, and training; returns what each printed."""
    folder = output_dir(out)
    say = print if verbose else (lambda *args: None)

    network = Network()
    loss = nn.mse([network(ALICE)], [Y_TRUE])
    loss.backward()
    hand = by_hand(network)
    say("Alice: x1 = -2, x2 = -1 (weight - 135, height - 66), y_true = 1; every w is 1, every b 0")
    say(f"  forward: h1 = h2 = f(w1·x1 + w2·x2 + b1) = f(-3) = {hand['h1']:.6f}   "
        f"(the article: {ARTICLE['h1']})")
    say(f"           y_pred = o1 = f(w5·h1 + w6·h2 + b3) = {hand['o1']:.6f}   "
        f"(the article: {ARTICLE['o1']})")
    say("  backward, as the article works it out:")
    for key, words in (("dL/dy_pred", "∂L/∂y_pred  = -2·(1 - y_pred)"),
                       ("dy_pred/dh1", "∂y_pred/∂h1 = w5·f'(sum_o1)"),
                       ("dh1/dw1", "∂h1/∂w1     = x1·f'(sum_h1)")):
        say(f"    {words:<30} = {hand[key]: .6f}   (the article: {ARTICLE[key]})")
    say(f"    ∂L/∂w1 = their product         = {hand['dL/dw1']: .10f}…   "
        f"(the article: {ARTICLE['dL/dw1']})")
    say(f"    backward() on the graph gives  w1.grad = {network.w1.grad: .10f}…")

    recorder, stepped = one_step(folder)
    update = next(u for u in recorder.full[0].updates if u.parameter is stepped.w1)
    say(f"  one SGD step with η = {RATE}:")
    say(f"    {update.lines[0]}")
    say(f"    w1 = {update.after!r}")
    say(f"    the step in the player (forward, backward, update): {folder / 'alice_step.html'}")

    start = Network.seeded(0)
    say("  training starts, as the article's code does, from random weights and biases")
    say("    (the standard normal, np.random.default_rng(0)): " + ", ".join(
        f"{p.label} = {p.data:.3f}" for p in start.parameters()))
    timeline, trained, history = train(epochs, folder, seed=0)
    names, X, _ = nn.emily_frank()
    p = nn.predict(trained, X)
    say(f"  trained on the four people for {epochs} epochs: loss {history['loss'][-1]:.4f}")
    for name, prob in zip(names, p):
        say(f"    {name}: {prob:.3f} - {'F' if prob > 0.5 else 'M'}")
    say(f"  the run as a timeline (scrub the steps, open {len(timeline.full)} of them in the "
        f"player): {folder / 'alice_timeline.html'}")
    return {"hand": hand, "grad": network.w1.grad, "update": update, "recorder": timeline,
            "history": history, "predictions": dict(zip(names, p.tolist())),
            "pages": [folder / "alice_step.html", folder / "alice_timeline.html"]}


def main(argv: list[str] | None = None) -> dict:
    """The command line: the hand calculation, one update, the training timeline."""
    parser = cli.parser("alice", __doc__, writes_files=True)
    parser.add_argument("--epochs", type=int, default=1000)
    args = parser.parse_args(argv)
    print("Seed 001: Alice's ∂L/∂w1 by hand, one SGD update, then the whole training run")
    return run(args.epochs, out=args.out)


if __name__ == "__main__":
    main()
