"""`python -m benchmarks`: glassgrad side by side with micrograd, PyTorch and numpy, one table.

Every measurement runs in a fresh process (`benchmarks/cell.py`), repeated; the table shows
medians, per unit of work (an op of the chain, a term of the sum, a sample and step of
training), how many times faster and leaner than micrograd each engine is, and for the
training workloads how far each is from the limit: the same training written by hand in numpy.

    python -m benchmarks                       # everything (about 17 minutes on 2 CPUs)
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

from .engines import CELL_RUNS, DEEP_LIMIT, ENGINES, VECTOR_ENGINES, torch_available
from .workloads import DIGITS_IMAGES, TRAINING, UNITS, dataset, memory_units, time_units

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


PEERS = ("micrograd", "micrograd-deep", "torch")
"""The slow engines: they may run fewer training steps or images (see --peer-moons)."""
ALL_ENGINES = list(ENGINES) + list(VECTOR_ENGINES)


def slow(engine: str, workload: str) -> bool:
    """Whether `engine` runs fewer steps or images on `workload` (--peer-moons, --peer-digits):
    the peers, and on digits-wide also glassgrad-mg (its 1,797 images take minutes a run)."""
    return engine in PEERS or (engine == "glassgrad-mg" and workload == "digits-wide")


DEEP_ONLY = ("chain", "wide")
"""Where `micrograd-deep` runs by default: elsewhere the graphs are shallow and it is micrograd."""
TRACE_DEPTH_MAX = 10**4
"""The deepest graph whose recursive backward (micrograd's) is traced for memory: tracemalloc
walks the whole Python stack on every allocation, so tracing a recursion n deep costs n^2
(10^4: a few seconds; 10^5: minutes; 10^6: hours)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--workloads", type=_names(list(UNITS), "workload"), default=list(UNITS))
    parser.add_argument("--engines", type=_names(ALL_ENGINES, "engine"), default=None,
                        help="default: all (torch and torch-tensors only when installed; "
                             "micrograd-deep only on chain and wide; numpy, compiled, "
                             "compiled-fit and torch-tensors only on the training workloads)")
    for name, (unit, _, default, _) in UNITS.items():
        what = {"moons": "SGD steps"}.get(name, "images in the epoch" if name in TRAINING
                                          else f"{unit}s")
        parser.add_argument(f"--{name}", type=_sizes, default=None, metavar="N[,N...]",
                            help=f"{what} (default {','.join(map(str, default))})")
    parser.add_argument("--peer-moons", type=int, default=20, metavar="N",
                        help="at most N moons steps for %s (compared per step; default 20)"
                             % ", ".join(PEERS))
    parser.add_argument("--peer-digits", type=int, default=256, metavar="N",
                        help="at most N digits and digits-wide images for the same, and for "
                             "glassgrad-mg on digits-wide (compared per image; default 256)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed fresh-process runs per cell (median; default 3)")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="seconds per cell after which no more timed runs start (at least "
                             "one runs; default 120)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run each")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    for option in ("repeats", "peer_moons", "peer_digits"):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1, "
                         f"got {getattr(args, option)}")
    args.deep_everywhere = args.engines is not None
    if args.engines is None:
        args.engines = [e for e in ALL_ENGINES if not e.startswith("torch") or torch_available()]
    for name in ("torch", "torch-tensors"):
        if name in args.engines and not torch_available():
            parser.error(f"--engines {name}: PyTorch is not installed (pip install torch==2.13.0)")
    for name in ("digits", "digits_wide"):
        if getattr(args, name) and max(getattr(args, name)) > DIGITS_IMAGES:
            parser.error(f"--{name.replace('_', '-')}: digits has {DIGITS_IMAGES} images, asked "
                         f"for {max(getattr(args, name))}")
    if args.quick:
        args.repeats = 1
    for name, (_, _, default, quick) in UNITS.items():
        if getattr(args, _dest(name)) is None:
            setattr(args, _dest(name), quick if args.quick else default)
    return args


def _dest(workload: str) -> str:
    """The attribute of the parsed arguments that holds a workload's sizes."""
    return workload.replace("-", "_")


def run_cell(mode: str, workload: str, engine: str, size: int, data: str = "",
             runs: int | None = None) -> dict:
    """One fresh process: the timings or the memory peak, or what went wrong. `data`: the
    workload's dataset as JSON (training workloads); `runs`: how many trainings a vector
    engine's cell takes the fastest of (default `engines.CELL_RUNS`)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.cell", mode, workload, engine, str(size)]
        + ([str(runs)] if runs else []),
        input=data, capture_output=True, text=True, cwd=ROOT, env=env,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["exit code %d" % done.returncode])[-1]
        return {"error": last}
    return json.loads(done.stdout.strip().splitlines()[-1])


def traced(workload: str, engine: str, size: int) -> bool:
    """Whether a memory run is made: not for torch (its memory is C++'s) nor the vector
    engines (arrays, not graphs), nor for micrograd's recursive backward deeper than
    TRACE_DEPTH_MAX (see there)."""
    if engine == "torch" or engine in VECTOR_ENGINES:
        return False
    return not (engine.startswith("micrograd") and workload in DEEP_ONLY and size > TRACE_DEPTH_MAX)


def measure(workload: str, engine: str, size: int, repeats: int, budget: float,
            data: str = "") -> dict:
    """Medians over timed fresh-process runs (at least one, at most `repeats`, started within
    `budget` s), the spread of their totals, and one memory run in a fresh process."""
    runs, start = [], time.perf_counter()
    while len(runs) < repeats and (not runs or time.perf_counter() - start < budget):
        runs.append(run_cell("time", workload, engine, size, data))
        if "total" not in runs[-1]:
            break  # a failure repeats itself
    result = _medians(runs)
    if "error" not in result and traced(workload, engine, size):
        memory = run_cell("memory", workload, engine, size, data)
        if "peak" in memory:
            result["peak"] = memory["peak"]
    return result


def measure_in_turns(workload: str, engines: list[str], size: int, repeats: int, budget: float,
                     data: str, cell_runs: int | None = None) -> dict[str, dict]:
    """The array engines' timed runs in turns: each round runs every engine once, each in a
    fresh process (at most `repeats` rounds, started within `budget` s per engine), so that a
    change in the machine's load falls on all of them alike; their ratios to the limit are the
    point. Medians and spreads as `measure`, per engine (they have no memory run)."""
    runs: dict[str, list[dict]] = {engine: [] for engine in engines}
    start = time.perf_counter()
    for turn in range(repeats):
        if turn and time.perf_counter() - start >= budget * len(engines):
            break
        for engine in engines:
            if not runs[engine] or "total" in runs[engine][-1]:  # a failure repeats itself
                runs[engine].append(run_cell("time", workload, engine, size, data, cell_runs))
    return {engine: _medians(found) for engine, found in runs.items()}


def _medians(runs: list[dict]) -> dict:
    """A cell's timed runs summed up: how many, the medians, the spread, the first error."""
    result = {"runs": len(runs)}
    for key in ("build", "backward", "total"):
        values = [r[key] for r in runs if key in r]
        if values:
            result[key] = statistics.median(values)
    totals = [r["total"] for r in runs if "total" in r]
    if len(totals) > 1:
        result["spread"] = (max(totals) - min(totals)) / statistics.median(totals)
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


def _per_unit(r: dict, key: str) -> float | None:
    if key not in r or (key == "total" and r.get("error")):
        return None
    units = memory_units if key == "peak" else time_units
    return r[key] / units(r["workload"], r["run_size"])


def reference(results: list[dict], r: dict) -> dict | None:
    """The micrograd run `r` is compared with: micrograd-deep where it ran, else micrograd;
    only a run that finished."""
    for name in ("micrograd-deep", "micrograd"):
        for m in results:
            if (m["engine"], m["workload"], m["size"]) == (name, r["workload"], r["size"]) \
                    and not m.get("error"):
                return m
    return None


def limit(results: list[dict], r: dict) -> dict | None:
    """The numpy run (the training written by hand) `r` is compared with, if it ran."""
    for m in results:
        if (m["engine"], m["workload"], m["size"]) == ("numpy", r["workload"], r["size"]) \
                and not m.get("error"):
            return m
    return None


def _times_limit(r: dict, by_hand: dict | None) -> str:
    if by_hand is None or r.get("error"):
        return ""
    return "limit" if r is by_hand else f"{_per_unit(r, 'total') / _per_unit(by_hand, 'total'):.2f}x"


HEADER = ["workload", "size", "engine", "runs", "build µs", "backward µs", "total µs", "spread",
          "total s", "peak B", "time vs mg", "memory vs mg", "time vs limit"]


def table(results: list[dict], markdown: bool) -> str:
    """The results as an aligned text (or Markdown) table with ratios against micrograd and,
    for training, against the limit."""
    rows = []
    for r in results:
        units = time_units(r["workload"], r["run_size"])
        failed = r.get("error")
        mg = reference(results, r)
        is_mg = r["engine"].startswith("micrograd")
        peak = _per_unit(r, "peak")
        rows.append([
            r["workload"], f"{r['run_size']:,}", r["engine"], str(r["runs"]),
            _us(r.get("build"), units),
            failed if failed and "build" in r else _us(r.get("backward"), units),
            "-" if failed else _us(r.get("total"), units),
            f"{r['spread']:.0%}" if "spread" in r else "-",
            "-" if failed else f"{r['total']:.3g}",
            "-" if peak is None else f"{peak:,.0f}",
            "" if is_mg or not mg else _ratio(_per_unit(r, "total"), _per_unit(mg, "total")),
            "" if is_mg or not mg else _ratio(peak, _per_unit(mg, "peak")),
            _times_limit(r, limit(results, r)),
        ])
    if markdown:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(HEADER, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" if i < 3 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join([fmt.format(*HEADER), fmt.format(*("-" * w for w in widths))]
                     + [fmt.format(*row) for row in rows])


def legend(args: argparse.Namespace) -> str:
    """What the columns mean, for the sizes and repeats of this run."""
    return f"""\
Times: medians over up to {args.repeats} fresh-process runs each ('runs'; fewer when a cell's \
runs pass {args.budget:g} s), per unit of work: chain per op, wide per term, moons per sample \
and step (100 samples), digits and digits-wide per image. spread: (slowest - fastest) / median total.
peak B: tracemalloc's peak of Python allocations during build + backward, in a separate fresh \
process, per op, term, or sample of one step's (batch's) graph; '-' for torch (C++ memory) and \
for micrograd's recursive backward deeper than {TRACE_DEPTH_MAX:,} (tracing it costs depth^2).
micrograd: as installed (recursion limit 1,000); micrograd-deep: the same with \
sys.setrecursionlimit({DEEP_LIMIT:,}). Peers run at most {args.peer_moons} moons steps and \
{args.peer_digits} digits images (glassgrad-mg too on digits-wide); all compare per unit.
time vs mg: micrograd's time per unit / this engine's (>1: faster than micrograd); memory vs \
mg: the same for peak B. 'mg' is micrograd-deep where it ran, else micrograd.
The training workloads also run on arrays: numpy (the network written by hand, forward and \
backward: the limit of this machine), compiled (glassgrad's compiled program, \
Program.value_and_grad on the parameter vector), compiled-fit (nn.fit(compiled=True), what users \
run) and torch-tensors (PyTorch on batched float64 tensors, one thread); they time training \
only (not tracing and compiling), from the same starting weights, and have no memory run. \
Their runs are taken in turns (each engine once, then again), and each fresh-process run \
trains {1 if args.quick else CELL_RUNS} time(s) and reports the fastest (an epoch of digits lasts \
a few ms, about a time slice of a shared machine's scheduler).
time vs limit: this engine's time per unit / numpy's (1: as fast as written by hand)."""


def summary(results: list[dict]) -> str:
    """The compiled paths against the limit and each other, per training workload and size."""
    lines = []
    for r in results:
        if r["engine"] != "numpy" or r.get("error"):
            continue
        found = {m["engine"]: _per_unit(m, "total") for m in results
                 if (m["workload"], m["size"]) == (r["workload"], r["size"]) and not m.get("error")}
        by_hand = found["numpy"]
        parts = [f"{name} {found[name] / by_hand:.2f}x the limit"
                 for name in ("compiled", "torch-tensors") if name in found]
        if "compiled-fit" in found and "compiled" in found:
            parts.append(f"compiled-fit {found['compiled-fit'] / found['compiled']:.2f}x compiled")
        if parts:
            lines.append(f"  {r['workload']} {r['size']:,}: " + ", ".join(parts))
    return "\n".join(["Compiled training against the limit (numpy by hand):"] + lines) if lines else ""


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
        peer_cap = args.peer_moons if workload == "moons" else \
            args.peer_digits if workload in TRAINING else None
        data = json.dumps(dataset(workload))
        engines = [e for e in args.engines
                   if not (e == "micrograd-deep" and workload not in DEEP_ONLY
                           and not args.deep_everywhere)
                   and not (e in VECTOR_ENGINES and workload not in TRAINING)]
        arrays = [e for e in engines if e in VECTOR_ENGINES]
        for size in getattr(args, _dest(workload)):
            if arrays:
                print(f"  {workload} {size} {', '.join(arrays)}, in turns ...", file=sys.stderr,
                      flush=True)
                in_turns = measure_in_turns(workload, arrays, size, args.repeats, args.budget,
                                            data, 1 if args.quick else None)
            for engine in engines:
                run_size = min(size, peer_cap) if peer_cap and slow(engine, workload) else size
                print(f"  {workload} {run_size} {engine} ...", end="", file=sys.stderr, flush=True)
                result = in_turns[engine] if engine in arrays else \
                    measure(workload, engine, run_size, args.repeats, args.budget, data)
                print(f" {result.get('total', result.get('error'))}", file=sys.stderr, flush=True)
                results.append(dict(result, workload=workload, engine=engine, size=size,
                                    run_size=run_size))
    print()
    print(table(results, args.markdown))
    print()
    if summary(results):
        print(summary(results))
        print()
    print(legend(args))


if __name__ == "__main__":
    main()
