"""Seed 001's classifier: guess a person's sex from weight and height, trained with SGD.

The article's data: four people, weight - 135 lb and height - 66 in. Its text says male = 1,
but its loss example (y_true = [1, 0, 0, 1], Alice and Diana being 1) and its predictions
(Emily 0.951 "F", Frank 0.039 "M") use female = 1, so we do too: the output is the
probability of female. The network is the article's 2-2-1 with sigmoid everywhere, the loss its
mean squared error, and training its stochastic gradient descent: one person at a time.

Where this differs from the article: the seed text describes SGD but leaves out its training
code; the learning rate 0.1 and the 1000 epochs come from the original article (Victor Zhou's
"Machine Learning for Beginners"), which starts every weight at `np.random.normal()` without a
seed. Here the weights start from a seeded Xavier draw, so training takes another path and
Emily's and Frank's numbers differ from the article's 0.951 and 0.039 while telling the same
story: Emily female, Frank male, both confidently.

    python -m demos.gender [--epochs N] [--out DIR]
"""
from __future__ import annotations

import nn
from autograd import Value
from demos import cli


def run(epochs: int = 1000, seed: int = 0, verbose: bool = True) -> dict:
    """Train the 2-2-1 network on the four people and predict Emily and Frank.

    Returns {"model", "history", "names", "probabilities" (of female), "truth", "train_mse"}.
    """
    names, X, y = nn.people()
    model = nn.MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", init="xavier", seed=seed)
    every = max(1, epochs // 10)

    def report(epoch: int, history: dict) -> None:
        if verbose and (epoch + 1) % every == 0:
            print(f"  epoch {epoch + 1:4d}  loss {history['loss'][-1]:.4f}")

    history = nn.fit(model, X, y, nn.mse, nn.SGD(model.parameters(), lr=0.1), epochs=epochs,
                     batch_size=1, seed=seed, progress=False, on_epoch=report)
    new_names, new_X, new_y = nn.emily_frank()
    return {"model": model, "history": history, "names": new_names,
            "probabilities": nn.predict(model, new_X), "truth": new_y,
            "train_mse": nn.evaluate(model, X, y, nn.mse)["loss"]}


def main(argv: list[str] | None = None) -> dict:
    """The command line: train, print the predictions beside the article's; `run()`'s result."""
    parser = cli.parser("gender", __doc__, writes_files=False)
    parser.add_argument("--epochs", type=int, default=1000)
    args = parser.parse_args(argv)
    print("Seed 001: sex from weight and height (female = 1), 2-2-1 sigmoid network, SGD")
    zeros = nn.mse([Value(0.0) for _ in range(4)], [1, 0, 0, 1])
    print(f"  the article's loss example, predicting 0 for everyone: MSE = {zeros.data}  (it prints 0.5)")
    result = run(args.epochs)
    for name, p, truth in zip(result["names"], result["probabilities"], result["truth"]):
        guess = "F" if p > 0.5 else "M"
        print(f"  {name}: {p:.3f} - {guess}  ({'right' if (p > 0.5) == (truth == 1) else 'wrong'})")
    print("  (the article: Emily 0.951 F, Frank 0.039 M, from its own random start: it draws its "
          "weights with np.random.normal(), we use a seeded Xavier start, so the digits differ)")
    return result


if __name__ == "__main__":
    main()
