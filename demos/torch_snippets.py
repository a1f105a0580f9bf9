"""Seed 003's PyTorch MLP snippet, on glassgrad: 10 inputs, 5 ReLU neurons, 1 output.

The snippet trains `fc1 -> ReLU -> fc2` with `nn.MSELoss` and `optim.SGD(lr=0.01)` for 1000
steps; each step draws a fresh random input (`torch.randn(1, 10)`) and asks for the target 1.0,
printing the loss every 100 steps. The same loop here, line for line: zero_grad, forward,
loss, backward, step. The network can only learn to answer 1.0 whatever the input, which it
does: the loss falls towards 0.

Where this differs from the snippet: random inputs come from a seeded numpy generator, not
`torch.randn`, and the weights start from a seeded Xavier (Glorot) uniform draw where
`torch.nn.Linear` uses Kaiming uniform with its own biases, so the printed losses differ from a
PyTorch run; the loop, the loss, the optimizer and the learning rate are the snippet's. The
snippet prints the loss of one random step every 100 steps, which jumps about; the last line
here also averages over the first and last tenth of the steps.

    python -m demos.torch_snippets [--steps N] [--out DIR]
"""
from __future__ import annotations

import numpy as np

import nn
from demos import cli


def run(steps: int = 1000, seed: int = 0, verbose: bool = True) -> dict:
    """The snippet's loop for `steps` steps: a random input, target 1.0, MSE, one SGD step.
    Returns {"model", "losses"} (the loss of every step)."""
    rng = np.random.default_rng(seed)
    mlp = nn.MLP(10, [5, 1], activation="relu", init="xavier", seed=seed)
    optimizer = nn.SGD(mlp.parameters(), lr=0.01)
    losses = []
    for epoch in range(steps):
        optimizer.zero_grad()
        output = mlp(rng.standard_normal(10))
        loss = nn.mse(output, 1.0)
        loss.backward()
        optimizer.step()
        losses.append(loss.data)
        if verbose and epoch % 100 == 0:
            print(f"  Epoch [{epoch + 1}/{steps}], Loss: {loss.data:.4f}")
    return {"model": mlp, "losses": losses}


def main(argv: list[str] | None = None) -> dict:
    """The command line: run the loop, print its losses; `run()`'s result."""
    parser = cli.parser("torch_snippets", __doc__, writes_files=False)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args(argv)
    print("Seed 003: the PyTorch MLP snippet (10-5-1, ReLU, MSE, SGD lr 0.01) on glassgrad")
    result = run(args.steps)
    losses = result["losses"]
    window = max(1, len(losses) // 10)
    print(f"  mean loss over the first {window} steps {np.mean(losses[:window]):.4f}, "
          f"over the last {window} {np.mean(losses[-window:]):.4f}")
    print("  (inputs from numpy, not torch.randn, and a Xavier start, so the losses differ from a "
          "PyTorch run; the loop is the snippet's)")
    return result


if __name__ == "__main__":
    main()
