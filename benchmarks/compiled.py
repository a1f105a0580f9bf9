"""Compiled vs eager vs PyTorch vs numpy by hand: the same networks, the same starting weights.

Run: `python -m benchmarks.compiled` (add `--quick` for a short run). Two workloads:

- moons: micrograd's demo, MLP(2, [16, 16, 1]) with ReLU, hinge loss + L2 (1e-4), 100
  full-batch SGD steps with the decaying rate 1 - 0.9 k/100;
- digits: one epoch of seed 002's network, MLP(64, [128, 10]) ReLU, softmax cross-entropy,
  Adam (lr 0.005), batches of 32, on scikit-learn's 8x8 digits;

then digits trained once with the compiled program, the test accuracy printed after each
epoch, until it reaches 97% (at most 30 epochs; 3 with `--quick`).

Engines: `eager` is `nn.fit` (one Value per multiply); `compiled fit` is
`nn.fit(compiled=True)` (model and loss compiled, the optimizer on Values); `compiled` runs the
compiled per-sample loss with the parameters as one vector and the optimizer on that vector
(`Program.value_and_grad`), which is how PyTorch and numpy are run here too; `torch` is PyTorch
tensors (only when it is installed); `numpy` is the network written by hand. Every engine starts
from the nn model's weights. The loss printed is the last step's (for the two `fit` engines, the
mean over the last epoch), so engines of one kind can be compared. The compiled program's
one-off tracing and compiling (about 0.3 s for digits) is not in its time.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import autograd
import nn

try:
    import torch
except ImportError:  # optional: pip install torch==2.13.0
    torch = None


# ---- the workloads, written once per engine -------------------------------------------------
def weights(model: nn.MLP) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each layer's (W, b) as arrays: W[j] is neuron j's weights."""
    return [(np.array([[w.data for w in n.w] for n in layer.neurons]),
             np.array([n.b.data for n in layer.neurons])) for layer in model.layers]


def per_sample_loss(model: nn.MLP, kind: str):
    """The loss of one sample written with ops only (so it traces): hinge, or softmax
    cross-entropy against a one-hot label as log Σ exp(s) - y·s."""
    if kind == "moons":
        return lambda x, y: (1 - y * model(x)).relu()

    def cross_entropy(x, y):
        scores = model(x)
        return autograd.sum([s.exp() for s in scores]).log() - autograd.dot(y, scores)

    return cross_entropy


def numpy_forward_backward(layers, X, Y, kind):
    """The MLP's forward and backward by hand: (mean loss, grads per layer)."""
    activations = [X]
    for i, (W, b) in enumerate(layers):
        z = activations[-1] @ W.T + b
        activations.append(np.maximum(z, 0.0) if i < len(layers) - 1 else z)
    out = activations[-1]
    if kind == "moons":
        margin = 1 - Y[:, None] * out
        loss = np.maximum(margin, 0).mean()
        g = np.where(margin > 0, -Y[:, None], 0.0) / len(X)
    else:
        shifted = out - out.max(axis=1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = -(np.log(p) * Y).sum(axis=1).mean()
        g = (p - Y) / len(X)
    grads = []
    for i in range(len(layers) - 1, -1, -1):
        W, _ = layers[i]
        grads.append((g.T @ activations[i], g.sum(axis=0)))
        if i:
            g = (g @ W) * (activations[i] > 0)
    return loss, grads[::-1]


class VectorAdam:
    """Adam on arrays for the engines that keep parameters as arrays (compiled, torch, numpy).

    It repeats `nn.Adam`'s rule (bias-corrected moments, the same betas and eps) on whole
    arrays: a numpy reference, so that every engine takes the very same steps as `nn.Adam`
    on Values. The caller counts the steps in `t` (one per batch, shared by all arrays).
    """

    def __init__(self, lr: float, betas=(0.9, 0.999), eps=1e-8) -> None:
        self.lr, self.betas, self.eps, self.t, self.state = lr, betas, eps, 0, {}

    def step(self, key, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """The array `param` after one Adam step on `grad`; `key` names its moments."""
        b1, b2 = self.betas
        m, v = self.state.get(key, (0.0, 0.0))
        m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
        self.state[key] = (m, v)
        return param - self.lr * (m / (1 - b1**self.t)) / (np.sqrt(v / (1 - b2**self.t)) + self.eps)


# ---- runners: each returns (seconds, final loss), run_vector also the compiled program ---------
def run_fit(setup, compiled: bool) -> tuple[float, float]:
    """`nn.fit` (eager, or `compiled=True`) on a workload: (seconds, mean loss of the last epoch)."""
    model, X, y, kind, steps_or_epochs, batch_size = setup()
    if kind == "moons":
        optimizer = nn.SGD(model.parameters(), lr=lambda k: 1.0 - 0.9 * k / 100)
        start = time.perf_counter()
        history = nn.fit(model, X, y, nn.hinge, optimizer, epochs=steps_or_epochs,
                         penalty=lambda: nn.l2(model.parameters(), 1e-4), progress=False,
                         compiled=compiled)
    else:
        optimizer = nn.Adam(model.parameters(), lr=0.005)
        start = time.perf_counter()
        history = nn.fit(model, X, y, nn.cross_entropy, optimizer, epochs=steps_or_epochs,
                         batch_size=batch_size, progress=False, compiled=compiled)
    return time.perf_counter() - start, history["loss"][-1]


def run_vector(setup, engine: str, on_epoch=None):
    """compiled / torch / numpy: parameters as arrays, the same loop for all three, on the
    batches `nn.batches` makes (seeded with the epoch number). Returns (seconds of training,
    last step's loss, the compiled program or None). For the compiled engine, `on_epoch(epoch,
    seconds, program)` runs after each epoch with the program's parameters set (off the
    clock) and stops the training by returning True."""
    model, X, y, kind, epochs, batch_size = setup()
    Y = y.astype(float) if kind == "moons" else np.eye(10)[y]
    layers = weights(model)
    if engine == "compiled":  # traced and compiled once, before the clock starts
        program = autograd.compile(per_sample_loss(model, kind), X[0], Y[0])
        theta = program.parameter_vector()

        def loss_and_grad(Xb, Yb):
            losses, grad = program.value_and_grad(Xb, Yb, params=theta, reduction="mean")
            return losses.mean(), grad
    elif engine == "torch":
        tensors = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
                   for W, b in layers]
    adam = VectorAdam(0.005)
    seconds, step, loss = 0.0, 0, float("nan")
    for epoch in range(epochs):
        start = time.perf_counter()
        for Xb, Yb in nn.batches(X, Y, batch_size or len(X), seed=epoch):
            adam.t += 1
            lr = 1.0 - 0.9 * step / 100
            if engine == "compiled":
                loss, grad = loss_and_grad(Xb, Yb)
                if kind == "moons":
                    loss += 1e-4 * theta @ theta
                    theta = theta - lr * (grad + 2e-4 * theta)
                else:
                    theta = adam.step(0, theta, grad)
            elif engine == "torch":
                h = torch.from_numpy(Xb)
                for i, (W, b) in enumerate(tensors):
                    h = h @ W.T + b
                    h = torch.relu(h) if i < len(tensors) - 1 else h
                if kind == "moons":
                    value = torch.relu(1 - torch.from_numpy(Yb)[:, None] * h).mean()
                    value = value + 1e-4 * sum((p * p).sum() for pair in tensors for p in pair)
                else:
                    value = torch.nn.functional.cross_entropy(h, torch.from_numpy(Yb.argmax(axis=1)))
                for pair in tensors:
                    for p in pair:
                        p.grad = None
                value.backward()
                loss = value.item()
                with torch.no_grad():
                    for k, pair in enumerate(tensors):
                        for j, p in enumerate(pair):
                            if kind == "moons":
                                p -= lr * p.grad
                            else:
                                p.copy_(torch.from_numpy(adam.step((k, j), p.numpy(), p.grad.numpy())))
            else:
                loss, grads = numpy_forward_backward(layers, Xb, Yb, kind)
                if kind == "moons":
                    loss += 1e-4 * sum((p * p).sum() for pair in layers for p in pair)
                    layers = [(W - lr * (gW + 2e-4 * W), b - lr * (gb + 2e-4 * b))
                              for (W, b), (gW, gb) in zip(layers, grads)]
                else:
                    layers = [(adam.step((k, 0), W, gW), adam.step((k, 1), b, gb))
                              for k, ((W, b), (gW, gb)) in enumerate(zip(layers, grads))]
            step += 1
        seconds += time.perf_counter() - start
        if engine == "compiled":
            program.set_parameters(theta)
            if on_epoch is not None and on_epoch(epoch, seconds, program):
                break
    return seconds, float(loss), program if engine == "compiled" else None


def moons(steps: int):
    """The moons workload for `steps` full-batch steps: a setup function for the runners."""
    def setup():
        X, y = nn.make_moons(100, noise=0.1, seed=0)
        return nn.MLP(2, [16, 16, 1], activation="relu", seed=1), X, 2 * y - 1, "moons", steps, None
    return setup


def digits(epochs: int, data):
    """The digits workload for `epochs` on `data` (nn.digits' split): a setup function."""
    def setup():
        X_train, _, y_train, _ = data
        model = nn.MLP(64, [128, 10], activation="relu", init="he", seed=0)
        return model, X_train, y_train, "digits", epochs, 32
    return setup


def table(name: str, setup, engines: list[str]) -> dict[str, float]:
    """Run `setup`'s workload on each engine and print one row each: seconds and loss."""
    print(f"\n{name}")
    rows = {}
    for engine in engines:
        if engine in ("eager", "compiled fit"):
            seconds, loss = run_fit(setup, compiled=engine == "compiled fit")
        else:
            seconds, loss, _ = run_vector(setup, engine)
        rows[engine] = seconds
        print(f"  {engine:13s} {seconds * 1000:9.1f} ms   loss {loss:.6f}")
    if "torch" in rows:
        print(f"  compiled / torch: {rows['compiled'] / rows['torch']:.2f}x")
    return rows


def main(argv: list[str] | None = None) -> None:
    """The command line: the two tables, then digits to 97% with the compiled program."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer steps, no eager digits epoch, at most 3 epochs towards 97%%")
    args = parser.parse_args(argv)
    engines = ["eager", "compiled fit", "compiled", "numpy"] + (["torch"] if torch else [])
    if torch is None:
        print("PyTorch is not installed: its column is left out (pip install torch==2.13.0)")
    else:
        torch.set_num_threads(1)
    data = nn.digits(test_size=0.2, seed=0)
    table(f"moons: MLP(2, [16, 16, 1]), {20 if args.quick else 100} SGD steps on 100 points",
          moons(20 if args.quick else 100), engines)
    table("digits: one epoch of MLP(64, [128, 10]), Adam, batches of 32", digits(1, data),
          [e for e in engines if not (args.quick and e == "eager")])

    epochs = 3 if args.quick else 30
    print(f"\ndigits to 97% test accuracy with the compiled program (batches of 32, Adam 0.005, "
          f"at most {epochs} epochs)")
    X_test, y_test = data[1], data[3]

    def report(epoch: int, seconds: float, program) -> bool:
        accuracy = accuracy_of(program, X_test, y_test)
        print(f"  {epoch + 1:2d} epochs: {seconds:5.2f} s of training, test accuracy {100 * accuracy:.1f}%")
        return accuracy >= 0.97

    run_vector(digits(epochs, data), "compiled", on_epoch=report)


def accuracy_of(program, X_test: np.ndarray, y_test: np.ndarray) -> float:
    """Test accuracy of the compiled per-sample loss's model: the class whose one-hot label
    gives the smallest loss is the class the model picks (its largest score)."""
    losses = np.stack([program(X_test, np.tile(np.eye(10)[k], (len(X_test), 1))) for k in range(10)])
    return float((losses.argmin(axis=0) == y_test).mean())


if __name__ == "__main__":
    main()
