"""`python -m benchmarks` runs end to end at tiny sizes and prints its table (never timings
checked here: speed is measured by the benchmark itself, not by tests)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=600)


def test_quick_run_prints_a_table_with_every_workload_and_micrograds_failure():
    done = run("--quick", "--engines", "glassgrad,glassgrad-mg,micrograd")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("machine: ") and "Python" in lines[0]
    header = next(line for line in lines if line.startswith("workload"))
    for column in ("engine", "build µs", "backward µs", "total µs", "peak B", "time vs mg"):
        assert column in header
    rows = [line.split() for line in lines if line.split()[:1] in (["chain"], ["wide"], ["moons"], ["digits"])]
    assert {(r[0], r[2]) for r in rows} >= {
        (w, e) for w in ("chain", "wide", "moons", "digits")
        for e in ("glassgrad", "glassgrad-mg", "micrograd")
    }
    # micrograd's recursive backward fails on a 2,000-op chain; ours does not.
    deep = {r[2]: " ".join(r) for r in rows if r[0] == "chain" and r[1] == "2,000"}
    assert "RecursionError" in deep["micrograd"]
    assert "RecursionError" not in deep["glassgrad"] and "mg fails" in deep["glassgrad"]


def test_markdown_table_and_bad_arguments():
    done = run("--workloads", "chain", "--chain", "5", "--engines", "glassgrad", "--repeats", "1",
               "--markdown")
    assert done.returncode == 0, done.stderr
    assert "| workload | size | engine |" in done.stdout and "| chain | 5 | glassgrad |" in done.stdout
    for args, message in [
        (("--engines", "nope"), "unknown engine nope"),
        (("--workloads", "chain,other"), "unknown workload other"),
        (("--chain", "0"), "sizes must be positive"),
        (("--wide", "ten"), "sizes are numbers"),
        (("--repeats", "0"), "--repeats must be at least 1"),
    ]:
        bad = run(*args)
        assert bad.returncode == 2 and message in bad.stderr, (args, bad.stderr)
