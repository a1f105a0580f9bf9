"""Seed 004's letters: tell A, B and C apart from 5x6 pixels with a 30-5-3 sigmoid network.

As in the article: each letter is 30 pixels (5 rows of 6), labels are one-hot, the network is
30 inputs, 5 sigmoid hidden neurons and 3 sigmoid outputs, the loss is the mean squared error,
training is one letter at a time for 100 epochs, and the accuracy per epoch climbs to 100%.
Then a letter with two pixels flipped is classified, and the loss and accuracy curves and the
noisy letter are saved as PNG.

Where this differs from the article: the seed text describes every step but leaves out its
code (its pixel arrays, its update and its learning rate). The pixels here are drawn anew
(`nn.data.LETTERS`). The update and rate come from the original article (GeeksforGeeks'
"Implementation of neural network from scratch using NumPy"): learning rate 0.1 with `a - y`
as the output error. That is larger than the true gradient of its MSE ((2/3)·(a - y)·a·(1 - a)
for three outputs), so with `backward()`'s true gradient the rate here is 1.0, to learn as
fast. Its weights start from `np.random.randn` without a seed; ours from a seeded uniform draw,
so the epoch at which 100% is reached differs (the article's output: epoch 51). The article
predicts one clean letter ("Predicted Letter: A"); here a B with two pixels flipped.

With `--player DIR` the run is recorded (`nn.Recorder`) and written to
DIR/letters_timeline.html: the curves and the weights at every step, and about ten steps in the
player, forward, backward and update, one letter each.

    python -m demos.letters [--epochs N] [--quiet] [--out DIR] [--player DIR]
"""
from __future__ import annotations

import os

import numpy as np
from matplotlib.figure import Figure

import nn
from demos import cli
from demos.output import curves, output_dir, save, timeline


def run(epochs: int = 100, seed: int = 1, out: str | os.PathLike | None = None,
        verbose: bool = True, player: str | os.PathLike | None = None) -> dict:
    """Train the 30-5-3 network on A, B, C, classify a noisy B and save two pictures to `out`;
    with `player`, the run's timeline page to that folder.

    Returns {"model", "history", "noisy", "scores", "predicted", "pictures", "final_accuracy",
    "recorder" and "timeline" (the nn.Recorder and the page's path, or None)}.
    """
    names, X, y = nn.letters()
    model = nn.MLP(30, [5, 3], activation="sigmoid", output_activation="sigmoid", seed=seed)

    def report(epoch: int, history: dict) -> None:
        if verbose:
            print(f"  epoch {epoch + 1:3d}  accuracy {100 * history['accuracy'][-1]:6.2f}%  "
                  f"loss {history['loss'][-1]:.4f}")

    recorder = nn.Recorder() if player is not None else None
    history = nn.fit(model, X, y, nn.mse, nn.SGD(model.parameters(), lr=1.0), epochs=epochs,
                     batch_size=1, seed=seed, progress=False, on_epoch=report, record=recorder)
    noisy = nn.noisy(X[1], flips=2, seed=seed)
    scores = nn.predict(model, [noisy])[0]
    folder = output_dir(out)
    pictures = [curves(history, "Seed 004: letters A, B, C (30-5-3 sigmoid, MSE)", folder, "letters_training.png")]
    fig = Figure(figsize=(6, 2.4))
    for ax, pixels, title in zip(fig.subplots(1, 2), (X[1], noisy),
                                 ("B", f"B with 2 pixels flipped: read as {names[int(np.argmax(scores))]}")):
        ax.imshow(pixels.reshape(5, 6), cmap="Greys")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    pictures.append(save(fig, folder, "letters_noisy.png"))
    page = timeline(recorder, player, "letters_timeline.html",
                    f"Seed 004: letters A, B, C on a 30-5-3 sigmoid network ({epochs} epochs, "
                    "one letter at a time)")
    return {"model": model, "history": history, "noisy": noisy, "scores": scores,
            "predicted": names[int(np.argmax(scores))], "pictures": pictures,
            "final_accuracy": nn.evaluate(model, X, y, nn.mse)["accuracy"],
            "recorder": recorder, "timeline": page}


def main(argv: list[str] | None = None) -> dict:
    """The command line: train, print accuracy and the noisy B's prediction; `run()`'s result."""
    parser = cli.parser("letters", __doc__, writes_files=True)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--quiet", action="store_true", help="do not print every epoch")
    parser.add_argument("--player", metavar="DIR",
                        help="record the run and write its timeline page (letters_timeline.html) "
                             "to DIR")
    args = parser.parse_args(argv)
    print("Seed 004: letters A, B, C on a 30-5-3 sigmoid network")
    result = run(args.epochs, out=args.out, verbose=not args.quiet, player=args.player)
    scores = ", ".join(f"{n} {s:.3f}" for n, s in zip("ABC", result["scores"]))
    print(f"  after training: accuracy {100 * result['final_accuracy']:.2f}%")
    print(f"  a B with two pixels flipped: outputs {scores} -> predicted letter: {result['predicted']}")
    print("  (the article reaches 100% at epoch 51 from its own unseeded start, with learning rate "
          "0.1 on its a - y update; here lr 1.0 on the true MSE gradient: see the docstring)")
    return result


if __name__ == "__main__":
    main()
