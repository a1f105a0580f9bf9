"""`python -m benchmarks`: glassgrad side by side with micrograd and PyTorch, one table.

Every measurement runs in a fresh process (`benchmarks/cell.py`), repeated; the table shows
medians, per unit of work (an op of the chain, a term of the sum, a sample and step of
training), and how many times faster and leaner than micrograd each engine is.

    python -m benchmarks                       # everything (several minutes)
    python -m benchmarks --workloads moons     # one workload
    python -m benchmarks --chain 1000,100000 --engines glassgrad,micrograd
    python -m benchmarks --quick               # tiny sizes, one run each: does it all work?
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from .engines import ENGINES, torch_available
from .workloads import UNITS, memory_units, time_units

ROOT = Path(__file__).resolve().parent.parent


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(float(s)) for s in text.split(",") if s]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes are numbers separated by commas, got {text!r}")
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return sizes


def _names(allowed, what: str):
    def parse(text: str) -> list[str]:
        names = [s for s in text.split(",") if s]
        unknown = [n for n in names if n not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(unknown) or '(none given)'}; choose from {', '.join(allowed)}"
            )
        return names

    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--workloads", type=_names(list(UNITS), "workload"), default=list(UNITS))
    parser.add_argument("--engines", type=_names(list(ENGINES), "engine"), default=None,
                        help="default: all (torch only when installed)")
    for name, (unit, _, default, _) in UNITS.items():
        what = {"moons": "SGD steps", "digits": "images in the epoch"}.get(name, f"{unit}s")
        parser.add_argument(f"--{name}", type=_sizes, default=None, metavar="N[,N...]",
                            help=f"{what} (default {','.join(map(str, default))})")
    parser.add_argument("--repeats", type=int, default=3, help="fresh-process runs per cell (median)")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds per cell after which no more repeats start (at least one runs)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run each")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    if args.engines is None:
        args.engines = [e for e in ENGINES if e != "torch" or torch_available()]
    elif "torch" in args.engines and not torch_available():
        parser.error("--engines torch: PyTorch is not installed (pip install torch==2.13.0)")
    if args.quick:
        args.repeats = 1
    for name, (_, _, default, quick) in UNITS.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else default)
    return args


def run_cell(workload: str, engine: str, size: int) -> dict:
    """One fresh process: the timings and the memory peak, or what went wrong."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.cell", workload, engine, str(size)],
        capture_output=True, text=True, cwd=ROOT, env=env,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["exit code %d" % done.returncode])[-1]
        return {"error": last}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(workload: str, engine: str, size: int, repeats: int, budget: float) -> dict:
    """Medians over fresh-process runs: at least one, at most `repeats`, within `budget` s."""
    runs, start = [], time.perf_counter()
    while len(runs) < repeats and (not runs or time.perf_counter() - start < budget):
        runs.append(run_cell(workload, engine, size))
        if "total" not in runs[-1]:
            break  # a failure repeats itself
    result = {"runs": len(runs)}
    for key in ("build", "backward", "total", "peak"):
        values = [r[key] for r in runs if key in r]
        if values:
            result[key] = statistics.median(values)
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        result["error"] = errors[0]
    return result


def _us(seconds: float | None, units: int) -> str:
    return "-" if seconds is None else f"{seconds / units * 1e6:.2f}"


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or ours <= 0:
        return "-"
    return f"{theirs / ours:.1f}x"


def table(results: list[dict], markdown: bool) -> str:
    """The results as an aligned text (or Markdown) table with ratios against micrograd."""
    header = ["workload", "size", "engine", "build µs", "backward µs", "total µs", "total s",
              "peak B", "time vs mg", "memory vs mg"]
    rows = []
    for r in results:
        t_units, m_units = time_units(r["workload"], r["size"]), memory_units(r["workload"], r["size"])
        mg = next((m for m in results if m["engine"] == "micrograd" and m["workload"] == r["workload"]
                   and m["size"] == r["size"]), None)
        failed = r.get("error")
        mg_total = mg.get("total") if mg and not mg.get("error") else None
        time_ratio = _ratio(r.get("total"), mg_total) if not failed else "-"
        if mg and mg.get("error") and r["engine"] != "micrograd" and not failed:
            time_ratio = "mg fails"
        rows.append([
            r["workload"], f"{r['size']:,}", r["engine"],
            _us(r.get("build"), t_units),
            failed if failed and "build" in r else _us(r.get("backward"), t_units),
            "-" if failed else _us(r.get("total"), t_units),
            "-" if failed else f"{r['total']:.3g}",
            "-" if "peak" not in r else f"{r['peak'] / m_units:,.0f}",
            "" if r["engine"] == "micrograd" else time_ratio,
            "" if r["engine"] == "micrograd" or not mg else _ratio(r.get("peak"), mg.get("peak")),
        ])
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" if i < 3 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths))]
                     + [fmt.format(*row) for row in rows])


def machine() -> str:
    """Where the numbers were measured: CPUs, CPU model, Python, and the peers' versions."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for package in ("micrograd", "torch"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
            + ", ".join(versions))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    results = []
    for workload in args.workloads:
        for size in getattr(args, workload):
            for engine in args.engines:
                print(f"  {workload} {size} {engine} ...", end="", file=sys.stderr, flush=True)
                result = measure(workload, engine, size, args.repeats, args.budget)
                print(f" {result.get('total', result.get('error'))}", file=sys.stderr, flush=True)
                results.append(dict(result, workload=workload, engine=engine, size=size))
    print()
    print(table(results, args.markdown))
    print()
    print("Times are medians per unit of work over fresh-process runs: chain per op, wide per "
          "term, moons per sample and step (100 samples), digits per image.\nPeak B: growth of "
          "the process's peak resident memory, per op, term, or sample of one step's graph. "
          "'vs mg': micrograd's number over this engine's (higher is better); 'mg fails': "
          "micrograd raised RecursionError (its peak is then up to the failure).")


if __name__ == "__main__":
    main()
