"""`python -m benchmarks` runs end to end at tiny sizes and prints its table (never timings
checked here: speed is measured by the benchmark itself, not by tests)."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=600)


def rows(stdout: str, workloads) -> dict:
    """(workload, size, engine) -> the row's cells, from the aligned text table."""
    header = next(line for line in stdout.splitlines() if line.startswith("workload"))
    columns = [c for c in header.split("  ") if c.strip()]
    found = {}
    for line in stdout.splitlines():
        cells = line.split()
        if cells[:1] and cells[0] in workloads:
            found[tuple(cells[:3])] = dict(zip([c.strip() for c in columns], cells))
    return found


def test_quick_deep_graphs_micrograd_fails_at_its_default_limit_and_finishes_when_raised():
    done = run("--quick", "--workloads", "chain,wide", "--chain", "20,2000", "--engines",
               "glassgrad,micrograd,micrograd-deep")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("machine: ") and "Python" in done.stdout.splitlines()[0]
    table = rows(done.stdout, ("chain", "wide"))
    assert {(w, s, e) for w, s in [("chain", "20"), ("chain", "2,000"), ("wide", "20")]
            for e in ("glassgrad", "micrograd", "micrograd-deep")} == set(table)
    # 2,000 deep: micrograd's recursive sort fails at the default limit, not with it raised.
    deep = {key[2]: row for key, row in table.items() if key[:2] == ("chain", "2,000")}
    assert deep["micrograd"]["backward µs"] == "RecursionError"
    assert deep["micrograd"]["total µs"] == "-" and deep["micrograd"]["peak B"] == "-"
    for engine in ("glassgrad", "micrograd-deep"):
        assert float(deep[engine]["total µs"]) > 0 and int(deep[engine]["peak B"].replace(",", "")) > 0
    # glassgrad is compared with micrograd-deep, the run that finished: a ratio, not a failure.
    assert deep["glassgrad"]["time vs mg"].endswith("x") and deep["glassgrad"]["memory vs mg"].endswith("x")
    assert "micrograd-deep: the same with sys.setrecursionlimit" in done.stdout


def test_quick_training_workloads_per_unit_with_memory_from_tracemalloc():
    done = run("--quick", "--workloads", "moons,digits", "--engines", "glassgrad,micrograd",
               "--peer-digits", "2")
    assert done.returncode == 0, done.stderr
    table = rows(done.stdout, ("moons", "digits"))
    assert set(table) == {("moons", "1", "glassgrad"), ("moons", "1", "micrograd"),
                          ("digits", "4", "glassgrad"), ("digits", "2", "micrograd")}
    for row in table.values():
        assert row["runs"] == "1" and int(row["peak B"].replace(",", "")) > 0
    assert "tracemalloc" in done.stdout


def test_quick_training_on_arrays_beside_the_limit():
    """numpy by hand, the compiled program and compiled fit on the training workloads only,
    each with its time against the limit, and the summary of the compiled paths."""
    done = run("--quick", "--workloads", "wide,moons,digits-wide", "--engines",
               "glassgrad,numpy,compiled,compiled-fit")
    assert done.returncode == 0, done.stderr
    # without micrograd the ratio columns to it are blank: the limit is each row's last cell
    cells = {tuple(line.split()[:3]): line.split() for line in done.stdout.splitlines()
             if line.split()[:1] and line.split()[0] in ("wide", "moons", "digits-wide")}
    assert {key[2] for key in cells if key[0] == "wide"} == {"glassgrad"}  # arrays: training only
    for workload, size in (("moons", "1"), ("digits-wide", "4")):
        found = {key[2]: row for key, row in cells.items() if key[:2] == (workload, size)}
        assert set(found) == {"glassgrad", "numpy", "compiled", "compiled-fit"}
        assert found["numpy"][-1] == "limit" and found["numpy"][-2] == "-"  # no memory run
        for engine in ("glassgrad", "compiled", "compiled-fit"):
            assert float(found[engine][-1].rstrip("x")) > 0
    summary = done.stdout.split("Compiled training against the limit (numpy by hand):\n", 1)[1]
    assert re.match(r"  moons 1: compiled [\d.]+x the limit, compiled-fit [\d.]+x compiled\n"
                    r"  digits-wide 4: compiled [\d.]+x the limit, compiled-fit [\d.]+x compiled",
                    summary)


def test_markdown_table_and_bad_arguments():
    done = run("--workloads", "chain", "--chain", "5", "--engines", "glassgrad", "--repeats", "2",
               "--markdown")
    assert done.returncode == 0, done.stderr
    assert "| workload | size | engine | runs |" in done.stdout
    assert "| chain | 5 | glassgrad | 2 |" in done.stdout
    for args, message in [
        (("--engines", "nope"), "unknown engine nope"),
        (("--workloads", "chain,other"), "unknown workload other"),
        (("--chain", "0"), "sizes must be positive"),
        (("--wide", "ten"), "sizes are numbers"),
        (("--repeats", "0"), "--repeats must be at least 1"),
        (("--peer-moons", "0"), "--peer-moons must be at least 1"),
        (("--digits", "5000"), "digits has 1797 images, asked for 5000"),
        (("--digits-wide", "1798"), "--digits-wide: digits has 1797 images, asked for 1798"),
    ]:
        bad = run(*args)
        assert bad.returncode == 2 and message in bad.stderr, (args, bad.stderr)


def test_the_array_engines_run_in_turns_and_a_failure_is_not_repeated(monkeypatch):
    """A change in the machine's load falls on every array engine alike: round after round,
    each engine once; medians and spreads per engine, and an engine that failed stops."""
    import benchmarks.__main__ as harness

    calls, seconds = [], {"numpy": iter([1.0, 3.0, 2.0]), "compiled": iter([4.0, 2.0, 3.0])}

    def fake_cell(mode, workload, engine, size, data="", runs=None):
        calls.append((engine, runs))
        if engine == "compiled-fit":
            return {"error": "ValueError"}
        return {"total": next(seconds[engine])}

    monkeypatch.setattr(harness, "run_cell", fake_cell)
    found = harness.measure_in_turns("digits", ["numpy", "compiled", "compiled-fit"], 8, 3,
                                     120.0, "{}", 2)
    assert [engine for engine, _ in calls] == ["numpy", "compiled", "compiled-fit",
                                               "numpy", "compiled", "numpy", "compiled"]
    assert {runs for _, runs in calls} == {2}
    assert found["numpy"] == {"runs": 3, "total": 2.0, "spread": 1.0}
    assert found["compiled"] == {"runs": 3, "total": 3.0, "spread": 2 / 3}
    assert found["compiled-fit"] == {"runs": 1, "error": "ValueError"}
