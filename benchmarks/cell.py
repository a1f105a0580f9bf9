"""One measurement in a fresh process: `python -m benchmarks.cell WORKLOAD ENGINE SIZE`.

Prints one line of JSON: the workload's timings (seconds) and `peak`, the growth of the
process's peak resident memory (bytes) over the run. A fresh process per measurement keeps the
engines from disturbing each other (micrograd leaves its graphs to the cyclic collector, and
whatever one run leaves behind would slow the next) and makes the memory peak that run's own.
A run that fails (micrograd's recursive backward on a deep graph) reports the exception's name.
"""
from __future__ import annotations

import json
import resource
import sys

from .engines import ENGINES
from .workloads import WORKLOADS


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def main(argv: list[str]) -> None:
    workload, engine_name, size = argv[0], argv[1], int(argv[2])
    engine = ENGINES[engine_name]()
    run = WORKLOADS[workload]
    if workload in ("moons", "digits"):
        import sklearn.datasets  # noqa: F401  (imported before the baseline, as the engines are)
    if workload in ("chain", "wide"):
        run(engine, 10, {})  # warm up: the first calls of an engine pay for lazy set-up
    before = _peak_rss()
    result: dict = {}
    try:
        run(engine, size, result)
    except RecursionError as error:
        result["error"] = type(error).__name__
    result["peak"] = _peak_rss() - before
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
