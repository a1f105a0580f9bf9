"""Is the package Python imports as `autograd` glassgrad's engine? If not, say what happened.

Two projects use the import name `autograd`: glassgrad's engine, and HIPS autograd (the PyPI
package named `autograd`, which lifelines and others require). pip installs both into one
folder without a warning, and whichever was installed last owns `autograd/__init__.py`:

- HIPS autograd installed after glassgrad: its `__init__.py` replaces ours, `import autograd`
  gives HIPS autograd, and `import nn` would fail with "cannot import name 'Value'".
- HIPS autograd then uninstalled: pip deletes the `__init__.py` it wrote, in our file's place,
  and leaves our other modules as a namespace package. `pip check` sees nothing wrong.
- glassgrad installed after HIPS autograd: ours replaces theirs; glassgrad works, code written
  for HIPS autograd breaks, and uninstalling HIPS autograd later deletes our `__init__.py`.
- An editable glassgrad (`pip install -e .`) with HIPS autograd in site-packages: an editable
  install's packages come after site-packages, so outside the checkout `autograd` is HIPS's.
- A learner's own `autograd.py` beside their script hides any installed `autograd` too.

`nn/__init__.py` calls `require_glassgrad_autograd` first: an ImportError that says which of
these happened and the commands that repair it. `autograd/__init__.py` calls
`note_glassgrad_autograd` first: it marks that glassgrad's engine ran (the mark the check
reads) and warns when another package's files share its folder. This module sits at the top
level, beside `autograd` and `nn`, because when another `autograd` hides ours nothing inside
ours can be imported; it uses only the standard library, and reads package metadata only
when something is wrong.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shlex
import sys
import warnings
from pathlib import Path
from urllib.parse import unquote, urlparse

_RAN: set[Path] = set()  # folders whose glassgrad autograd/__init__.py has run


def note_glassgrad_autograd(init_file: str) -> None:
    """Called by glassgrad's autograd/__init__.py: mark it, and warn if HIPS autograd (or
    another package) has installed files into the same folder."""
    folder = Path(init_file).resolve().parent
    _RAN.add(folder)
    if not _looks_shared(folder):
        return
    others = [d for d in _owners(folder / "__init__.py") if _name(d) != "glassgrad"]
    if others:
        warnings.warn(_shared_folder(folder, others[0]), RuntimeWarning, stacklevel=2)


def require_glassgrad_autograd(importer: str) -> None:
    """Called by glassgrad's nn/__init__.py (`importer`): raise ImportError, saying what
    happened and how to repair it, unless `import autograd` gives glassgrad's engine."""
    package = Path(importer).resolve().parent
    ours = package.parent / "autograd"
    try:
        import autograd
    except ImportError as error:
        if _RAN:  # glassgrad's engine itself failed to import: its own error says why
            raise
        raise ImportError(_diagnosis(ours)) from error
    where = getattr(autograd, "__file__", None)
    if where is None or Path(where).resolve().parent not in _RAN:
        raise ImportError(_diagnosis(ours))


# ---- what happened ----------------------------------------------------------------------------
def _report(problem: str, happened: str | None, repair: str, note: str | None = None) -> str:
    """The error's text: the problem, what happened, then the repair alone on its own line
    (a command to paste into a shell, or what to do)."""
    lines = [f"glassgrad cannot be used: {problem}"]
    if happened:
        lines.append(f"What happened: {happened}")
    lines += ["Repair:", f"  {repair}"]
    if note:
        lines.append(note)
    return "\n".join(lines)


def _diagnosis(ours: Path) -> str:
    spec = importlib.util.find_spec("autograd")
    glassgrad = _distribution("glassgrad")
    reinstall = _reinstall_command(glassgrad)
    if spec is None:
        return _report(f"there is no package named 'autograd' at all (glassgrad's engine "
                       f"should be {ours}).", None, reinstall)
    origin = Path(spec.origin).resolve() if spec.has_location and spec.origin else None
    if origin is None:  # a namespace package: folders named autograd without __init__.py
        folders = [Path(p).resolve() for p in spec.submodule_search_locations or ()]
        if ours in folders and not (ours / "__init__.py").exists():
            editable = _editable_source(glassgrad)
            return _report(
                f"its engine's autograd/__init__.py is missing, so Python imports {ours} as an "
                "empty namespace package.",
                "most likely HIPS autograd (the PyPI package 'autograd', which uses the same "
                "import name) was installed after glassgrad, replacing glassgrad's "
                "autograd/__init__.py with its own, and was then uninstalled, which deleted "
                "that file. pip check does not notice.",
                f"git -C {shlex.quote(str(editable))} checkout -- autograd/__init__.py"
                if editable else reinstall,
            )
        return _report(
            f"Python imports 'autograd' from {', '.join(map(str, folders))}, a folder without "
            f"__init__.py that is not glassgrad's engine ({ours}).",
            "a folder of that name earlier on the import path (often the current folder or "
            "the script's) hides glassgrad's.", f"rename or move {folders[0]}")
    owners = _owners(origin)
    others = [d for d in owners if _name(d) != "glassgrad"]
    if origin == ours / "__init__.py":
        if not others:
            return _report(f"{origin} is not glassgrad's __init__.py.",
                           "something replaced it.", reinstall)
        other = others[0]
        return _report(
            f"the package Python imports as 'autograd' is {_describe(other)}, not glassgrad's "
            "engine.",
            f"both use the import name 'autograd'. {_short(other)} was installed after "
            "glassgrad, and pip wrote its autograd/__init__.py over glassgrad's without a "
            f"warning: {origin}",
            f"{_pip()} uninstall -y {_name(other)} && {reinstall}",
            f"glassgrad and {_short(other)} cannot share one environment: if you need both, "
            "give each its own virtual environment.",
        )
    if not others:
        if glassgrad is not None and glassgrad in owners:
            return _report(f"Python imports 'autograd' from {origin}, another installation of "
                           f"glassgrad than this nn's ({ours}), and one older than this check.",
                           None, reinstall)
        return _report(
            f"Python imports 'autograd' from {origin}, which is not glassgrad's engine ({ours}) "
            "and belongs to no installed package.",
            "a file or folder of that name earlier on the import path (often the current "
            "folder or the script's) hides glassgrad's.", f"rename or move {origin}")
    other, editable = others[0], _editable_source(glassgrad)
    return _report(
        f"Python imports 'autograd' from {origin}, which is {_describe(other)}, not "
        f"glassgrad's engine ({ours}).",
        "both use the import name 'autograd', and "
        + (f"glassgrad is installed in editable mode (from {editable}): an editable install "
           f"comes after site-packages on the import path, so {_short(other)} is found first."
           if editable else f"{_short(other)} comes first on the import path (sys.path)."),
        f"{_pip()} uninstall -y {_name(other)}",
        f"This leaves glassgrad's own files, in {ours}, as they are.",
    )


def _shared_folder(folder: Path, other) -> str:
    short = _short(other)
    return (
        f"{_describe(other)} is installed in the same folder as glassgrad's engine ({folder}): "
        "both use the import name 'autograd'. glassgrad's autograd/__init__.py is the one in "
        f"place, so glassgrad works, but code written for {short} (lifelines and others) "
        f"gets glassgrad instead and fails, and 'pip uninstall {_name(other)}' would delete "
        f"glassgrad's __init__.py. The two cannot share one environment: keep {short} in "
        "another virtual environment. To remove it from this one:\n"
        f"  {_pip()} uninstall -y {_name(other)} && "
        f"{_reinstall_command(_distribution('glassgrad'))}"
    )


# ---- installed packages (importlib.metadata only here: it costs ~40 ms to import) --------------
def _looks_shared(folder: Path) -> bool:
    """A cheap first look, on every `import autograd`: does the folder holding ours also hold
    the install record of a package named autograd (HIPS autograd's)?"""
    try:
        with os.scandir(folder.parent) as entries:
            return any(e.name.lower().startswith("autograd-") and e.name.endswith(".dist-info")
                       for e in entries)
    except OSError:
        return False


def _distribution(name: str):
    import importlib.metadata

    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _owners(path: Path) -> list:
    """The installed distributions whose file lists include `path`."""
    import importlib.metadata

    tail = ("autograd", "__init__.py") if path.name == "__init__.py" else (path.name,)
    found = {}
    for dist in importlib.metadata.distributions():
        for file in dist.files or ():
            if file.parts[-len(tail):] == tail and Path(dist.locate_file(file)).resolve() == path:
                found.setdefault(_name(dist), dist)
                break
    return list(found.values())


def _name(dist) -> str:
    return dist.metadata["Name"]


def _short(dist) -> str:
    return "HIPS autograd" if _name(dist).lower() == "autograd" else f"the package '{_name(dist)}'"


def _describe(dist) -> str:
    if _name(dist).lower() == "autograd":
        return f"HIPS autograd {dist.version} (the PyPI package 'autograd')"
    return f"the package '{_name(dist)}' {dist.version}"


def _pip() -> str:
    return f"{shlex.quote(sys.executable)} -m pip"


def _direct_url(dist) -> dict:
    """Where pip installed `dist` from (PEP 610's direct_url.json), or {} for an index."""
    try:
        return json.loads(dist.read_text("direct_url.json") or "{}") if dist else {}
    except ValueError:
        return {}


def _local(url: str) -> Path | None:
    parsed = urlparse(url)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


def _editable_source(dist) -> Path | None:
    source = _direct_url(dist)
    if source.get("dir_info", {}).get("editable"):
        return _local(source.get("url", ""))
    return None


def _reinstall_command(dist) -> str:
    """The pip command that puts glassgrad's files back, from where it was installed."""
    source = _direct_url(dist)
    url = source.get("url", "")
    local = _local(url)
    if local is not None and local.exists():
        target = shlex.quote(str(local))
        if source.get("dir_info", {}).get("editable"):
            target = f"-e {target}"
    elif "vcs_info" in source:
        vcs = source["vcs_info"]
        target = shlex.quote(f"{vcs.get('vcs', 'git')}+{url}@{vcs.get('commit_id', '')}")
    elif url and local is None:
        target = shlex.quote(url)
    else:
        target = f"glassgrad=={dist.version}" if dist else "glassgrad"
    return f"{_pip()} install --force-reinstall --no-deps {target}"
