"""The main demo (`bash dev.sh demo`): a short tour of the examples.

    python -m demos [--out DIR] [--small]

Each demo also runs on its own, at full size: `python -m demos.NAME` (see the README).
Pictures and pages go to `--out`, $GLASSGRAD_OUT, or `out/`. `--small` makes every step quick
(the tests use it): it says so at the start and the end, since its numbers are those of barely
trained models.
"""
import argparse

from demos import (alice, bptt, cnn, digits, gender, letters, moons, neuron, numpy_net, players,
                   rnn, torch_snippets)
from demos.output import output_dir

SMALL = ("(--small: small sizes for a quick run, so the trained models' numbers are not meaningful:\n"
         " their accuracies, losses and predictions are those of barely trained models. The\n"
         " articles' exact numbers (neuron, numpy_net) are the real ones. Run without --small.)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demos", description="a short tour of the examples")
    parser.add_argument("--out", help="folder for pictures and pages (default $GLASSGRAD_OUT or out/)")
    parser.add_argument("--small", action="store_true", help="tiny sizes, for a quick check")
    args = parser.parse_args(argv)
    out, small = str(output_dir(args.out)), args.small
    if small:
        print(SMALL)

    def section() -> None:
        print("\n" + "-" * 78)

    neuron.main([])
    section()
    numpy_net.main([])
    section()
    gender.main(["--epochs", "50" if small else "1000"])
    section()
    alice.main(["--out", out] + (["--epochs", "20"] if small else []))
    section()
    letters.main(["--quiet", "--out", out] + (["--epochs", "5"] if small else []))
    section()
    moons.main(["--out", out] + (["--steps", "5"] if small else []))
    section()
    torch_snippets.main(["--steps", "50" if small else "1000"])
    section()
    digits.main(["--out", out, "--epochs", "1" if small else "2", "--hidden", "8" if small else "32"]
                + (["--train-samples", "100"] if small else []))
    print("  (the full run, to about 97.8% in a few seconds of training: python -m demos.digits)")
    section()
    players.main(["--out", out])
    section()
    cnn.main(["--out", out, "--epochs", "1" if small else "3"]
             + (["--channels", "2", "4", "--hidden", "8", "--train-samples", "100"] if small else []))
    print("  (the full run, to about 98%: python -m demos.cnn)")
    section()
    rnn.main(["--out", out] + (["--epochs", "6", "--samples", "60", "--steps", "3", "--lr", "0.1"]
                               if small else []))
    section()
    bptt.main(["--out", out])
    section()
    print(f"Pictures and pages are in {out}/")
    if small:
        print(SMALL)


if __name__ == "__main__":
    main()
