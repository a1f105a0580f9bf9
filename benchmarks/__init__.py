"""Side-by-side measurements of glassgrad against its peers (micrograd, PyTorch on 0-d tensors).

Speed is measured here and only here, never in timed unit tests. `python -m benchmarks --help`
lists the workloads, engines and sizes; `README.md` ("Speed") shows a run and how to repeat it.
"""
