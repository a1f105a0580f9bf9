"""Backpropagation through time you can watch: an HTML player for an RNN over 3 steps.

A small Elman RNN (seed 003's cell, 2 inputs and 3 hidden units so the whole graph fits on a
screen) reads a 3-step sequence from `demos.rnn`'s task (remember the first number), a linear
layer reads its last hidden state, and the loss is the squared error. The page steps through
the forward pass, step 0 to step 2, then the backward pass: the gradient enters at the loss,
crosses the linear layer into h_2, and walks back through `W_hh` into h_1 and h_0. The weights
are shared by the steps, so each of them collects a contribution at every step: the running
total in the page shows them add up. The terminal shows the size of dL/dh_t at each step, and
a drawing collapsed by time step (`autograd.draw(loss, collapse="step")`) is saved too.

    python -m demos.bptt [--inputs N] [--hidden N] [--steps T] [--out DIR]
"""
from __future__ import annotations

import math
from pathlib import Path

import autograd
import nn
from demos import cli
from demos.output import output_dir
from demos.rnn import SeedRNN, remember_first


def unrolled(model: SeedRNN, xs, target: float):
    """The hidden states (labelled h{t}.{j}) and the labelled loss (y - ŷ)² for one sequence."""
    with autograd.scope("rnn", kind="layer"):
        states = model.rnn(xs)
    with autograd.scope("fc", kind="layer"):
        guess = model.fc(states[-1])[0]
    guess.label = "ŷ"
    loss = nn.mse(guess, target)
    loss.label = "loss"
    for t, state in enumerate(states):
        for j, h in enumerate(state):
            h.label = f"h{t}.{j}"
    return states, loss


def bptt_loss(inputs: int = 2, hidden: int = 3, steps: int = 3, seed: int = 0):
    """A small model, one sequence of `steps` from `demos.rnn`'s task, its hidden states and
    its loss."""
    X, y = remember_first(1, steps, features=inputs, seed=seed)
    model = SeedRNN(inputs, hidden, 1, seed=seed)
    states, loss = unrolled(model, X[0], float(y[0]))
    return model, states, loss


def shares(weight: autograd.Value, states) -> list[float]:
    """What each time step adds to `weight.grad` after `backward()`: the chain rule's term for
    each use of the weight at step t, the grad of the pre-activation that reads it times that
    pre-activation's local derivative for it (from the op table: for a dot node, the input the
    weight multiplies, h_{t-1} for a recurrent weight, and h_{-1} = h0 = 0)."""
    per_step = []
    for state in states:
        total = 0.0
        for h in state:
            pre = h.parents[0]  # h = tanh(pre), pre = one dot node
            partials = pre.op.local_grads(pre.data, *[p.data for p in pre.parents])
            total += sum(pre.grad * d for p, d in zip(pre.parents, partials) if p is weight)
        per_step.append(total)
    return per_step


def main(argv: list[str] | None = None) -> list[Path]:
    """Write the player and the collapsed drawing, print the per-step gradients; the paths."""
    parser = cli.parser("bptt", __doc__, writes_files=True)
    parser.add_argument("--inputs", type=int, default=2, help="input features (the article: 10)")
    parser.add_argument("--hidden", type=int, default=3, help="hidden units (the article: 5)")
    parser.add_argument("--steps", type=int, default=3, help="length of the sequence")
    args = parser.parse_args(argv)
    folder = output_dir(args.out)
    model, states, loss = bptt_loss(args.inputs, args.hidden, args.steps)
    print(f"Backprop through time: RNN({args.inputs}, {args.hidden}) over {args.steps} steps, "
          f"then linear, loss = (y - ŷ)²")
    page = autograd.player(loss, title=f"Backprop through time: RNN({args.inputs}, {args.hidden})"
                                       f" over {args.steps} steps, loss = (y - ŷ)²")
    written = [page.save(folder / "bptt.html")]
    print(f"  step through it in a browser: {written[-1]}  ({len(page.steps)} steps)")
    loss.backward()
    for t, state in enumerate(states):
        size = math.sqrt(sum(h.grad ** 2 for h in state))
        print(f"  |dL/dh{t}| = {size:.6f}")
    shared = model.rnn.weight_hh[0][0]  # unit 0 reads unit 0 of the step before
    parts = [share + 0.0 for share in shares(shared, states)]  # + 0.0 prints -0.0 as 0.0
    print(f"  {shared.label} is used at every step; its grad is the sum of the steps' shares: "
          + " + ".join(f"{part:.6f}" for part in parts) + f" = {shared.grad:.6f}")
    drawing = autograd.draw(loss, collapse="step", title="The same graph, one box per time step")
    try:
        written.append(drawing.render(folder / "bptt_steps.svg"))
        print(f"  collapsed by time step: {written[-1]}")
    except autograd.GraphvizNotFound:
        written.append(drawing.render(folder / "bptt_steps.dot"))
        print(f"  collapsed by time step, as DOT text (Graphviz's dot is not installed, so no "
              f"SVG): {written[-1]}")
    return written


if __name__ == "__main__":
    main()
