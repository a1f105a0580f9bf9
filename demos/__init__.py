"""Runnable stories: each seed article's example, built on glassgrad. `python -m demos.NAME`.

Every demo has the same command line (`demos.cli.parser`): `--help` prints its docstring and
options, and `--out DIR` is accepted by all of them; the demos that save pictures or pages put
them there (default $GLASSGRAD_OUT, else `out/`), the others write nothing. `python -m demos`
runs a short tour of them all.
"""
