"""One command-line shape for every demo, so `--help` and `--out` work the same everywhere.

`python -m demos.NAME --help` prints the demo's docstring (what it shows and where it differs
from the article) and its options. Every demo accepts `--out DIR`: the ones that save pictures
or pages put them there (default $GLASSGRAD_OUT, else `out/`); the others write nothing and say
so in `--help`, so a script can pass the same `--out` to any demo.
"""
from __future__ import annotations

import argparse


def parser(name: str, doc: str, *, writes_files: bool) -> argparse.ArgumentParser:
    """An ArgumentParser for `python -m demos.<name>` whose help is the demo's docstring `doc`,
    with `--out DIR` already added; the demo adds its own options."""
    parsed = argparse.ArgumentParser(prog=f"python -m demos.{name}", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parsed.add_argument(
        "--out", metavar="DIR",
        help="folder for the pictures and pages (default $GLASSGRAD_OUT, else out/)" if writes_files
        else "accepted as by every demo; this one writes no files",
    )
    return parsed
