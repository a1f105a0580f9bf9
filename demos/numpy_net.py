"""Seed 000's 2-2-1 sigmoid network, on the engine, next to the article's own numpy code.

The article (a numpy tutorial) fixes everything: inputs X = [[1, 2], [3, 4]], labels
[[1], [0]], weights [[0.1, 0.2], [0.3, 0.4]] and [[0.5], [0.6]], biases [0.1, 0.2] and [0.3],
learning rate 0.1. It computes the forward pass, the MSE loss, one step of its hand-written
backpropagation, and predictions with accuracy on X_test = [[2, 3], [4, 5]]. Here an `nn.MLP`
with the same numbers does each of those, and each number is printed beside numpy's.

Two things the article's code does not say:
- Its backprop starts from `delta = a - y` at the output. That is not the gradient of its MSE
  loss (which would be (2/m)·(a - y)·a·(1 - a)); it is the gradient of the *summed binary
  cross-entropy* -Σ[y·log a + (1 - y)·log(1 - a)], as `backward()` shows below.
- Its bias update `b -= lr * delta` fails in numpy (delta has one row per sample, the bias
  one entry), so the numpy side sums delta over the samples, as the weight gradient
  `a.T @ delta` already does.

    python -m demos.numpy_net [--out DIR]
"""
from __future__ import annotations

import numpy as np

import autograd
import nn
from demos import cli

X = np.array([[1.0, 2.0], [3.0, 4.0]])
Y = np.array([[1.0], [0.0]])
WEIGHTS = [np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([[0.5], [0.6]])]
BIASES = [np.array([0.1, 0.2]), np.array([0.3])]
LEARNING_RATE = 0.1
X_TEST = np.array([[2.0, 3.0], [4.0, 5.0]])
Y_TEST = np.array([[1.0], [0.0]])


# ---- the article's numpy code (its bias gradient summed over samples) ----------------------
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_forward(X: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray]) -> np.ndarray:
    """The article's `feedforward`: a = sigmoid(a @ w + b), layer after layer."""
    a = X
    for w, b in zip(weights, biases):
        a = _sigmoid(np.dot(a, w) + b)
    return a


def numpy_backprop(X: np.ndarray, y: np.ndarray, weights: list[np.ndarray],
                   biases: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The article's backpropagation, from delta = a - y at the output: the weight and bias
    gradients of every layer (the bias gradient summed over the samples)."""
    activations, zs, a = [X], [], X
    for w, b in zip(weights, biases):
        z = np.dot(a, w) + b
        zs.append(z)
        a = _sigmoid(z)
        activations.append(a)
    delta = activations[-1] - y
    grads_w = [None] * len(weights)
    grads_b = [None] * len(biases)
    grads_w[-1], grads_b[-1] = np.dot(activations[-2].T, delta), delta.sum(axis=0)
    for layer in range(2, len(weights) + 1):
        sp = _sigmoid(zs[-layer]) * (1 - _sigmoid(zs[-layer]))
        delta = np.dot(delta, weights[-layer + 1].T) * sp
        grads_w[-layer], grads_b[-layer] = np.dot(activations[-layer - 1].T, delta), delta.sum(axis=0)
    return grads_w, grads_b


# ---- the same network on the engine ------------------------------------------------------------
def article_model() -> nn.MLP:
    """nn.MLP(2, [2, 1]) with sigmoid everywhere and the article's weights: neuron j of a layer
    takes column j of the article's weight matrix."""
    model = nn.MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    for layer, w, b in zip(model.layers, WEIGHTS, BIASES):
        for j, neuron in enumerate(layer.neurons):
            for i, weight in enumerate(neuron.w):
                weight.data = float(w[i, j])
            neuron.b.data = float(b[j])
    return model


def _as_article(model: nn.MLP) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The model's weights and biases laid out as the article's matrices."""
    ws = [np.array([[w.data for w in n.w] for n in layer.neurons]).T for layer in model.layers]
    bs = [np.array([n.b.data for n in layer.neurons]) for layer in model.layers]
    return ws, bs


def _grads_as_article(model: nn.MLP) -> tuple[list[np.ndarray], list[np.ndarray]]:
    ws = [np.array([[w.grad for w in n.w] for n in layer.neurons]).T for layer in model.layers]
    bs = [np.array([n.b.grad for n in layer.neurons]) for layer in model.layers]
    return ws, bs


def summed_bce(model: nn.MLP) -> autograd.Value:
    """-Σ[y·log a + (1 - y)·log(1 - a)] over the two samples: the loss whose gradient the
    article's backprop computes."""
    return nn.binary_cross_entropy([model(x) for x in X], Y.ravel().tolist()) * len(X)


def run() -> dict:
    """Every number of the article, computed on the engine, with numpy's beside it."""
    model = article_model()
    outputs = [model(x) for x in X]
    result = {"output": np.array([[o.data] for o in outputs]),
              "mse": nn.mse(outputs, Y.ravel().tolist()).data}
    # Which loss is the article's gradient? Compare backward() of MSE and of summed BCE.
    for name, loss in (("mse_grads", nn.mse([model(x) for x in X], Y.ravel().tolist())),
                       ("bce_grads", summed_bce(model))):
        model.zero_grad()
        loss.backward()
        result[name] = _grads_as_article(model)
    # One step of gradient descent on the loss the article really differentiates.
    optimizer = nn.SGD(model.parameters(), lr=LEARNING_RATE)
    model.zero_grad()
    summed_bce(model).backward()
    optimizer.step()
    result["weights"], result["biases"] = _as_article(model)
    result["test_output"] = nn.predict(model, X_TEST).reshape(-1, 1)
    result["predictions"] = np.round(result["test_output"])
    result["accuracy"] = float(np.mean(result["predictions"] == Y_TEST))
    return result


def numpy_reference() -> dict:
    """The article's numpy code, run side by side (bias gradient summed over samples)."""
    weights = [w.copy() for w in WEIGHTS]
    biases = [b.copy() for b in BIASES]
    output = numpy_forward(X, weights, biases)
    grads_w, grads_b = numpy_backprop(X, Y, weights, biases)
    for w, g in zip(weights, grads_w):
        w -= LEARNING_RATE * g
    for b, g in zip(biases, grads_b):
        b -= LEARNING_RATE * g
    test_output = numpy_forward(X_TEST, weights, biases)
    predictions = np.round(test_output)
    return {"output": output, "mse": float(np.mean((Y - output) ** 2)), "grads": (grads_w, grads_b),
            "weights": weights, "biases": biases, "test_output": test_output,
            "predictions": predictions, "accuracy": float(np.mean(predictions == Y_TEST))}


def _gap(a, b) -> float:
    return float(max(np.max(np.abs(np.asarray(x) - np.asarray(y))) for x, y in zip(a, b)))


def main(argv: list[str] | None = None) -> dict:
    """The command line: print every number beside numpy's; `run()`'s result."""
    cli.parser("numpy_net", __doc__, writes_files=False).parse_args(argv)
    ours, theirs = run(), numpy_reference()
    print("Seed 000: the 2-2-1 sigmoid network, engine vs the article's numpy")
    print(f"  forward  engine {ours['output'].ravel().tolist()}")
    print(f"           numpy  {theirs['output'].ravel().tolist()}")
    print(f"  MSE loss engine {ours['mse']!r}   numpy {theirs['mse']!r}")
    grads_w, grads_b = theirs["grads"]
    bce_w, bce_b = ours["bce_grads"]
    mse_w, mse_b = ours["mse_grads"]
    print("  the article's backprop (delta = a - y) vs backward() of two losses:")
    print(f"    gap to backward(summed binary cross-entropy): {_gap(grads_w + grads_b, bce_w + bce_b):.1e}")
    print(f"    gap to backward(MSE):                          {_gap(grads_w + grads_b, mse_w + mse_b):.3f}")
    print("    so delta = a - y is the gradient of -Σ[y·log a + (1-y)·log(1-a)], not of the MSE.")
    print(f"  one SGD step (lr {LEARNING_RATE}): largest weight/bias gap to numpy "
          f"{_gap(ours['weights'] + ours['biases'], theirs['weights'] + theirs['biases']):.1e}")
    print(f"    output layer weights {ours['weights'][1].ravel().tolist()}, bias {ours['biases'][1].tolist()}")
    print(f"  test outputs engine {ours['test_output'].ravel().tolist()}")
    print(f"               numpy  {theirs['test_output'].ravel().tolist()}")
    print(f"  predictions {ours['predictions'].ravel().tolist()} (numpy {theirs['predictions'].ravel().tolist()}), "
          f"labels {Y_TEST.ravel().tolist()}")
    print(f"  accuracy {ours['accuracy']} (numpy {theirs['accuracy']})")
    return ours


if __name__ == "__main__":
    main()
