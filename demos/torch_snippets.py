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

Then the way back to PyTorch: the article's class beside `nn.torch_code(mlp)`, the code
glassgrad writes for the model just trained, and the same for the article's CNN beside the code
for `demos.cnn`'s (8x8 digits, 8 and 16 channels where the article has 28x28, 32 and 64). When
PyTorch is installed, the generated MLP class is run with the trained weights
(`nn.to_torch(mlp).state_dict()`) and its outputs are compared with glassgrad's. The article's
snippets are quoted with the underscores and line breaks its page lost restored
(`inputsize` -> `input_size`, `init` -> `__init__`).

    python -m demos.torch_snippets [--steps N] [--out DIR]
"""
from __future__ import annotations

import numpy as np

import nn
from demos import cli
from demos.cnn import seed_cnn

ARTICLE_MLP = """\
class MLP(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(MLP, self).__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        x = self.fc1(x)
        x = self.relu(x)
        x = self.fc2(x)
        return x

input_size = 10
hidden_size = 5
output_size = 1

mlp = MLP(input_size, hidden_size, output_size)"""

ARTICLE_CNN = """\
class CNN(nn.Module):
    def __init__(self):
        super(CNN, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, stride=1, padding=1)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = x.view(-1, 64 * 7 * 7)
        x = self.relu(self.fc1(x))
        x = self.fc2(x)
        return x"""


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
    mlp = result["model"]
    show("The article's MLP", ARTICLE_MLP)
    show("nn.torch_code(mlp): the code for the MLP trained above", nn.torch_code(mlp))
    result["max_difference"] = compare(mlp)
    show("The article's CNN (28x28 MNIST)", ARTICLE_CNN)
    show("nn.torch_code(demos.cnn.seed_cnn(), class_name=\"CNN\"): the CNN of python -m demos.cnn",
         nn.torch_code(seed_cnn(), class_name="CNN"))
    return result


def show(title: str, code: str) -> None:
    """A block of code under a title, indented as the demo's other lines."""
    print(f"\n  {title}:\n")
    print("\n".join(f"    {line}" if line else "" for line in code.rstrip().splitlines()))


def compare(mlp: nn.MLP, samples: int = 5) -> float | None:
    """Run the generated code in PyTorch with the trained weights on random inputs; print and
    return the largest difference from glassgrad's outputs (None without PyTorch)."""
    try:
        import torch
    except ImportError:
        print('\n  (PyTorch is not installed, so the code is not run here: pip install "glassgrad[torch]")')
        return None
    namespace: dict = {}
    exec(nn.torch_code(mlp), namespace)  # our own generated code, as a user would paste it
    model = namespace["model"].double()
    model.load_state_dict(nn.to_torch(mlp).state_dict())
    X = np.random.default_rng(1).standard_normal((samples, 10))
    ours = nn.predict(mlp, X)
    theirs = model(torch.from_numpy(X)).detach().numpy()[:, 0]
    difference = float(np.max(np.abs(ours - theirs)))
    print(f"\n  PyTorch runs this code with the trained weights (nn.to_torch(mlp).state_dict()): on "
          f"{samples} random inputs\n  its outputs differ from glassgrad's by at most {difference:.1e}")
    return difference


if __name__ == "__main__":
    main()
