"""One measurement in a fresh process: `python -m benchmarks.cell MODE WORKLOAD ENGINE SIZE [RUNS]`.

MODE is `time` or `memory`; a training workload's data comes as JSON on stdin (made once by
the parent, `workloads.dataset`); the cell prints one line of JSON. ENGINE is a scalar engine
(`engines.py`) or a vector engine (`compiled.py`: numpy by hand, compiled, compiled-fit,
torch-tensors), which times training only (`total`: the fastest of RUNS trainings, default
`engines.CELL_RUNS`) and has no memory mode.

- `time`: the workload's timings in seconds (`build`, `backward`, `total`), nothing traced.
- `memory`: `peak`, the most bytes of Python allocations alive at once during the graph's build
  and backward pass, above what was alive just before (the parameters and data), as counted by
  `tracemalloc`. It sees every object Python allocates (nodes, their lists and floats, a
  backward pass's bookkeeping), not the interpreter's own frame stack nor memory a C++ library
  allocates itself (PyTorch's tensors), so it is not run for `torch`. Tracing slows everything
  down, which is why it is a run of its own. The training workloads trace one step (moons) or
  one batch (digits): memory is per sample of one step's graph.

A fresh process per measurement keeps the engines from disturbing each other (micrograd leaves
its graphs to the cyclic collector, and whatever one run leaves behind would slow the next) and
makes the memory peak that run's own. A run that fails (micrograd's recursive backward on a
deep graph) reports the exception's name.
"""
from __future__ import annotations

import json
import os
import sys
import tracemalloc

from .engines import CELL_RUNS, ENGINES, VECTOR_ENGINES
from .workloads import TRAINING, WORKLOADS, memory_size


def main(argv: list[str]) -> None:
    mode, workload, engine_name, size = argv[0], argv[1], argv[2], int(argv[3])
    if mode not in ("time", "memory"):
        raise SystemExit(f"MODE is 'time' or 'memory', got {mode!r}")
    if engine_name in VECTOR_ENGINES:
        from .compiled import cell  # only here: it imports our packages

        runs = int(argv[4]) if len(argv) > 4 else CELL_RUNS
        print(json.dumps(cell(engine_name, workload, size, json.load(sys.stdin), runs)), flush=True)
        os._exit(0)
    engine = ENGINES[engine_name]()
    run = WORKLOADS[workload]
    data = json.load(sys.stdin) if workload in TRAINING else None
    if data is None:
        run(engine, 10, {})  # warm up: the first calls of an engine pay for lazy set-up
    result: dict = {}
    if mode == "memory":
        size = memory_size(workload, size)
        tracemalloc.start()
    try:
        run(engine, size, result, data)
    except RecursionError as error:
        result["error"] = type(error).__name__
    if mode == "memory":
        tracemalloc.stop()
        result = {"peak": result["peak"]} if "error" not in result else {"error": result["error"]}
    print(json.dumps(result), flush=True)
    # Skip the interpreter's teardown: freeing micrograd's cyclic graphs at exit can take longer
    # than the run itself (50 s after a 10^6-term sum), and nothing measured happens there.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
