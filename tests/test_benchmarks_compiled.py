"""benchmarks.compiled: every engine runs the same training (the same loss printed by each),
the quick run prints both tables and the digits curve, and the cells `python -m benchmarks`
runs. Timings are printed by the benchmark, never checked here."""
import re

import numpy as np
import pytest

import nn
from benchmarks import compiled


def losses_by_engine(block: str) -> dict[str, str]:
    """{engine: printed loss} for the rows of one table."""
    return {m["engine"]: m["loss"] for m in re.finditer(
        r"^  (?P<engine>[a-z-]+) +[\d.]+ ms .*loss (?P<loss>[\d.]+)$", block, re.M)}


def test_quick_run_prints_its_tables_with_one_loss_and_the_digits_curve(capsys):
    compiled.main(["--quick"])
    out = capsys.readouterr().out
    moons, digits, curve = re.split(r"\n+(?=moons:|digits)", out)[-3:]
    vector = ["numpy", "compiled", "compiled-fit"] + (["torch-tensors"] if compiled.torch else [])
    moons_losses = losses_by_engine(moons)
    assert set(moons_losses) == {*vector, "eager"}
    assert len(set(moons_losses.values())) == 1  # the same 20 steps on every engine
    digits_losses = losses_by_engine(digits)
    assert set(digits_losses) == set(vector)  # --quick: no eager epoch
    assert len(set(digits_losses.values())) == 1  # the same batches and Adam steps
    assert re.search(r"^  compiled +[\d.]+ ms +[\d.]+x the limit", moons, re.M)
    assert "compiled-fit / compiled: " in digits
    assert curve.startswith("digits to 97% test accuracy")
    epochs = [int(n) for n in re.findall(r"^ +(\d+) epochs: .* test accuracy \d+\.\d%$", curve, re.M)]
    assert epochs == [1, 2, 3]  # --quick: at most 3, and 97% takes longer


@pytest.mark.parametrize("engine", ["numpy", "compiled", "compiled-fit"])
def test_every_engine_takes_the_steps_of_eager_fit(engine):
    """Two epochs of shuffled SGD with momentum-free steps and an L2 penalty on a small
    network: the numbers of nn.fit on Values, whichever engine runs it."""
    X, y = nn.make_moons(24, noise=0.1, seed=3)
    task = compiled.Task((2, 5, 1), X, 2 * y - 1, "hinge", "sgd", lambda k: 0.5 / (k + 1),
                         epochs=2, batch_size=8, shuffle=True, l2=1e-3)
    assert compiled.run(engine, task).loss == pytest.approx(compiled.run("eager", task).loss, rel=1e-9)
    digits = compiled.Task((3, 4, 3), np.random.default_rng(0).uniform(size=(20, 3)),
                           np.random.default_rng(1).integers(0, 3, 20), "cross_entropy", "adam",
                           lambda k: 0.01, epochs=2, batch_size=6, shuffle=True)
    assert compiled.run(engine, digits).loss == pytest.approx(compiled.run("eager", digits).loss,
                                                              rel=1e-9)


def test_cells_time_each_vector_engine_on_the_benchmark_workloads():
    from benchmarks.workloads import dataset

    for workload, size in (("moons", 2), ("digits", 40), ("digits-wide", 40)):
        data = dataset(workload)
        for engine in ("numpy", "compiled", "compiled-fit"):
            cell = compiled.cell(engine, workload, size, data, runs=1)
            assert set(cell) == {"total"} and cell["total"] > 0
    with pytest.raises(ValueError, match="unknown engine 'jax'"):
        compiled.run("jax", compiled.moons_task(1, *nn.make_moons(4, seed=0)))


def test_a_cell_reports_the_fastest_of_its_trainings(monkeypatch):
    from benchmarks.workloads import dataset

    seconds = iter([0.3, 0.1, 0.2])
    tasks = []

    def fake_run(engine, task):
        tasks.append(task)
        return compiled.Result(next(seconds), 0.5)

    monkeypatch.setattr(compiled, "run", fake_run)
    assert compiled.cell("compiled", "moons", 3, dataset("moons"), runs=3) == {"total": 0.1}
    assert len(tasks) == 3 and tasks[0].epochs == 3  # each training the whole workload
