"""Running the notebooks in notebooks/ for the tests: with nbclient, in a real Jupyter kernel
(ipykernel, of the Python running the tests), in a folder of the test's own.

Locally the notebook tests are skipped when nbclient or ipykernel is missing; with CI set they
fail instead (`bash dev.sh test` installs both: the `notebook` extra).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT = 600  # seconds for one cell: generous for a loaded 2-core CI machine


def require_kernel() -> None:
    """Skip (locally) or fail (CI) when notebooks cannot be run here."""
    try:
        import ipykernel  # noqa: F401
        import nbclient  # noqa: F401
    except ImportError as error:
        problem = f"{error.name} is not installed: pip install -e '.[notebook]'"
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the notebooks, but: {problem}")
        pytest.skip(problem)


def run(notebook, folder: Path):
    """Execute `notebook` (a NotebookNode, changed in place and returned) with `folder` as the
    kernel's working folder."""
    from nbclient import NotebookClient

    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    return notebook


def execute(name: str, folder: Path):
    """notebooks/NAME.ipynb executed, and saved as folder/NAME.ipynb; the NotebookNode."""
    import nbformat

    notebook = run(nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4), folder)
    nbformat.write(notebook, folder / f"{name}.ipynb")
    return notebook
