"""benchmarks.compiled: its --quick run prints both tables with the same losses for every engine
of a kind, and trains digits once for its accuracy curve; accuracy_of against numpy by hand.
Timings are printed by the benchmark, never checked here."""
import re

import numpy as np
import pytest

import nn
from benchmarks import compiled


def losses_by_engine(block: str) -> dict[str, str]:
    """{engine: printed loss} for the rows of one table."""
    return {m["engine"]: m["loss"] for m in
            re.finditer(r"^  (?P<engine>[a-z ]+?) +[\d.]+ ms   loss (?P<loss>[\d.]+)$", block, re.M)}


def test_quick_run_prints_its_tables_and_trains_digits_once(capsys, monkeypatch):
    calls = []
    run_vector = compiled.run_vector

    def counted(setup, engine, on_epoch=None):
        calls.append((engine, on_epoch is not None))
        return run_vector(setup, engine, on_epoch)

    monkeypatch.setattr(compiled, "run_vector", counted)
    compiled.main(["--quick"])
    out = capsys.readouterr().out
    moons, digits, curve = re.split(r"\n+(?=moons:|digits)", out)[-3:]
    vector = ["compiled", "numpy"] + (["torch"] if compiled.torch is not None else [])

    moons_losses = losses_by_engine(moons)
    assert set(moons_losses) == {"eager", "compiled fit", *vector}
    assert len(set(moons_losses.values())) == 1  # the same 20 steps on every engine
    digits_losses = losses_by_engine(digits)
    assert set(digits_losses) == {"compiled fit", *vector}  # --quick: no eager epoch
    assert len({digits_losses[e] for e in vector}) == 1  # the same batches and Adam steps

    assert curve.startswith("digits to 97% test accuracy")
    epochs = [int(n) for n in re.findall(r"^ +(\d+) epochs: .* test accuracy \d+\.\d%$", curve, re.M)]
    assert epochs == list(range(1, len(epochs) + 1)) and 1 <= len(epochs) <= 3
    assert calls.count(("compiled", True)) == 1  # trained once, scored after each epoch
    assert len(calls) == 2 * len(vector) + 1


def test_accuracy_of_picks_the_largest_score():
    X_train, X_test, y_train, y_test = nn.digits(test_size=0.2, seed=0)
    model = nn.MLP(64, [128, 10], activation="relu", init="he", seed=0)
    scored = []
    compiled.run_vector(lambda: (model, X_train, y_train, "digits", 2, 32), "compiled",
                        on_epoch=lambda epoch, seconds, program: scored.append(
                            compiled.accuracy_of(program, X_test, y_test)))
    h = X_test
    for i, (W, b) in enumerate(compiled.weights(model)):  # the trained weights, by hand
        h = h @ W.T + b
        h = np.maximum(h, 0.0) if i == 0 else h
    assert len(scored) == 2
    assert scored[-1] == pytest.approx(np.mean(h.argmax(axis=1) == y_test), abs=1e-15)
    assert scored[-1] > 0.5  # trained: chance is 0.1
