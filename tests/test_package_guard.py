"""Another package named `autograd` (HIPS autograd) in the same environment: `import nn` and
`import autograd` say what happened and how to repair it, and the repair they print works.

Each state is made for real, in a throwaway virtual environment: a glassgrad wheel built from
this checkout (pip, once per run), and a stand-in for HIPS autograd built here as a wheel with
its name and file layout (`autograd/__init__.py` and friends, version 99.1), so no index is
needed for it. (Checked once by hand with the real HIPS autograd 1.9.1 wheel in the same four
states: the same messages, and each printed repair, run as printed, left glassgrad working.)
The environments see this interpreter's other packages (numpy, pip, ...) through a `.pth` file
that names a folder of links to them, leaving glassgrad's own out.
"""
import base64
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HIPS_VERSION = "99.1"
HIPS_FILES = {  # what matters: HIPS autograd's own autograd/__init__.py, and more files beside it
    "autograd/__init__.py": "from .differential_operators import elementwise_grad, grad\n"
                            "STAND_IN_FOR_HIPS = True\n",
    "autograd/differential_operators.py": "def grad(fun):\n    return fun\n\n\n"
                                          "def elementwise_grad(fun):\n    return fun\n",
    "autograd/numpy/__init__.py": "",
}
OURS = ("autograd", "nn", "_glassgrad_guard.py")


def wheel(folder: Path, name: str, version: str, files: dict) -> Path:
    """A minimal, valid wheel of `files` (path -> text), with its RECORD of hashes."""
    info = f"{name}-{version}.dist-info"
    files = dict(files)
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    files[f"{info}/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: glassgrad-tests\n"
                              "Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = "\n".join(record + [f"{info}/RECORD,,"]) + "\n"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name_in_wheel, text in files.items():
            archive.writestr(name_in_wheel, text)
    return path


def run(argv, cwd, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def built(tmp_path_factory, pytestconfig):
    """This checkout's sources (copied, so building leaves no trace here), glassgrad's wheel
    (kept in pytest's cache when there is one, keyed by the sources' hash, so a rerun does not
    build it again), the HIPS stand-in's wheel, and the folder of links to this interpreter's
    packages."""
    base = tmp_path_factory.mktemp("guard")
    source = base / "glassgrad"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("autograd", "nn"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("_glassgrad_guard.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    digest = hashlib.sha256()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    cache = getattr(pytestconfig, "cache", None)  # None under -p no:cacheprovider
    folder = cache.mkdir("glassgrad-wheel") if cache is not None else base / "wheel-cache"
    wheels = folder / digest.hexdigest()[:16]
    if not any(wheels.glob("glassgrad-*.whl")):
        run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
             str(source)], cwd=base)
    deps = base / "deps"
    deps.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        name = entry.name
        if (name in OURS or name.endswith(".pth") or name.startswith(("glassgrad-", "__editable__"))
                or name.lower().startswith("autograd-") or name == "__pycache__"):
            continue
        (deps / name).symlink_to(entry)
    return {"source": source, "glassgrad": next(wheels.glob("glassgrad-*.whl")),
            "hips": wheel(base, "autograd", HIPS_VERSION, HIPS_FILES), "deps": deps}


class Env:
    """A throwaway virtual environment, driven through its own `python -m pip`."""

    def __init__(self, folder: Path, deps: Path):
        run([sys.executable, "-m", "venv", "--without-pip", str(folder)], cwd=folder.parent)
        self.python = str(folder / "bin" / "python")
        self.site = Path(run([self.python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], cwd=folder).stdout.strip())
        (self.site / "zz_deps.pth").write_text(f"{deps}\n")
        self.elsewhere = folder / "elsewhere"  # a neutral current folder for running code
        self.elsewhere.mkdir()

    def pip(self, *args, index=False):
        return run([self.python, "-m", "pip", *args, "-q", "--no-compile",
                    *(() if index else ("--no-index",))], cwd=self.elsewhere)

    def python_c(self, code, cwd=None, warnings_as_errors=False):
        flags = ["-W", "error"] if warnings_as_errors else []
        return run([self.python, *flags, "-c", code], cwd=cwd or self.elsewhere, check=False)

    def repair(self, text):
        """Run the command printed on the line after 'Repair:' (or after the warning's
        'To remove it from this one:'), exactly as printed."""
        lines = text.splitlines()
        heading = next(i for i, line in enumerate(lines)
                       if line.rstrip().endswith(("Repair:", "To remove it from this one:")))
        command = lines[heading + 1].strip()
        assert command.startswith(shlex.quote(self.python) + " -m pip "), command
        run(["sh", "-c", command], cwd=self.elsewhere)
        return command

    def installed(self):
        """The distributions installed in the environment itself (not the linked ones)."""
        return sorted(p.name.split("-")[0].lower() for p in self.site.glob("*.dist-info"))


def import_error(done):
    assert done.returncode != 0, done.stdout
    return done.stderr[done.stderr.index("ImportError: "):]


def test_hips_installed_over_glassgrad_is_named_and_the_printed_repair_works(built, tmp_path):
    env = Env(tmp_path / "venv", built["deps"])
    env.pip("install", "--no-deps", str(built["glassgrad"]))
    env.pip("install", "--no-deps", str(built["hips"]))  # pip says nothing, and overwrites
    assert env.python_c("import autograd; assert autograd.STAND_IN_FOR_HIPS").returncode == 0
    error = import_error(env.python_c("import nn"))
    init = env.site / "autograd" / "__init__.py"
    py = shlex.quote(env.python)
    assert error == (
        "ImportError: glassgrad cannot be used: the package Python imports as 'autograd' is "
        f"HIPS autograd {HIPS_VERSION} (the PyPI package 'autograd'), not glassgrad's engine.\n"
        "What happened: both use the import name 'autograd'. HIPS autograd was installed after "
        "glassgrad, and pip wrote its autograd/__init__.py over glassgrad's without a warning: "
        f"{init}\n"
        "Repair:\n"
        f"  {py} -m pip uninstall -y autograd && {py} -m pip install --force-reinstall "
        f"--no-deps {built['glassgrad']}\n"
        "glassgrad and HIPS autograd cannot share one environment: if you need both, give each "
        "its own virtual environment.\n")
    env.repair(error)
    assert env.python_c("import nn, autograd; autograd.Value(1.0)",
                        warnings_as_errors=True).returncode == 0
    assert env.installed() == ["glassgrad"]
    assert not (env.site / "autograd" / "differential_operators.py").exists()


def test_hips_uninstalled_afterwards_leaves_a_namespace_package_and_is_named(built, tmp_path):
    env = Env(tmp_path / "venv", built["deps"])
    env.pip("install", "--no-deps", str(built["glassgrad"]))
    env.pip("install", "--no-deps", str(built["hips"]))
    run([env.python, "-m", "pip", "uninstall", "-y", "-q", "autograd"], cwd=env.elsewhere)
    assert not (env.site / "autograd" / "__init__.py").exists()  # glassgrad's file is gone
    error = import_error(env.python_c("import nn"))
    py = shlex.quote(env.python)
    assert error.startswith(
        "ImportError: glassgrad cannot be used: its engine's autograd/__init__.py is missing, "
        f"so Python imports {env.site / 'autograd'} as an empty namespace package.\n"
        "What happened: most likely HIPS autograd (the PyPI package 'autograd', which uses the "
        "same import name) was installed after glassgrad")
    assert error.endswith(f"Repair:\n  {py} -m pip install --force-reinstall --no-deps "
                          f"{built['glassgrad']}\n")
    env.repair(error)
    assert env.python_c("import nn", warnings_as_errors=True).returncode == 0
    assert env.installed() == ["glassgrad"]


def test_glassgrad_installed_over_hips_warns_on_import_autograd(built, tmp_path):
    env = Env(tmp_path / "venv", built["deps"])
    env.pip("install", "--no-deps", str(built["hips"]))
    env.pip("install", "--no-deps", str(built["glassgrad"]))  # ours now replaces theirs
    done = env.python_c("import autograd, nn\n"  # glassgrad itself works, with a warning
                        "try:\n    from autograd import elementwise_grad\n"
                        "except ImportError:\n    print('code for HIPS autograd fails')")
    assert done.returncode == 0 and done.stdout == "code for HIPS autograd fails\n"
    warning = done.stderr
    assert "RuntimeWarning: HIPS autograd 99.1 (the PyPI package 'autograd') is installed in " \
           f"the same folder as glassgrad's engine ({env.site / 'autograd'})" in warning
    assert "code written for HIPS autograd (lifelines and others) gets glassgrad instead" in warning
    assert "'pip uninstall autograd' would delete glassgrad's __init__.py" in warning
    env.repair(warning)
    assert env.python_c("import autograd, nn", warnings_as_errors=True).returncode == 0
    assert env.installed() == ["glassgrad"]


def test_an_editable_glassgrad_behind_hips_in_site_packages_is_named(built, tmp_path):
    env = Env(tmp_path / "venv", built["deps"])
    env.pip("install", "--no-deps", "-e", str(built["source"]), index=True)  # builds: needs setuptools
    env.pip("install", "--no-deps", str(built["hips"]))  # lands in site-packages, not the checkout
    error = import_error(env.python_c("import nn"))
    ours = built["source"] / "autograd"
    assert error == (
        f"ImportError: glassgrad cannot be used: Python imports 'autograd' from "
        f"{env.site / 'autograd' / '__init__.py'}, which is HIPS autograd {HIPS_VERSION} (the "
        f"PyPI package 'autograd'), not glassgrad's engine ({ours}).\n"
        "What happened: both use the import name 'autograd', and glassgrad is installed in "
        f"editable mode (from {built['source']}): an editable install comes after site-packages "
        "on the import path, so HIPS autograd is found first.\n"
        f"Repair:\n  {shlex.quote(env.python)} -m pip uninstall -y autograd\n"
        f"This leaves glassgrad's own files, in {ours}, as they are.\n")
    # from the checkout itself, the checkout comes first: nothing to repair there
    assert env.python_c("import nn", cwd=built["source"]).returncode == 0
    env.repair(error)
    assert env.python_c("import nn", warnings_as_errors=True).returncode == 0
    assert (ours / "__init__.py").exists() and env.installed() == ["glassgrad"]


@pytest.mark.parametrize("hider", ["autograd.py", "autograd/"])
def test_a_learners_own_autograd_file_or_folder_is_named(tmp_path, hider):
    # the running interpreter's glassgrad, with a script's folder holding its own 'autograd'
    path = tmp_path / hider.rstrip("/")
    if hider.endswith("/"):
        path.mkdir()
        (path / "helpers.py").write_text("")
    else:
        path.write_text("print('my own autograd')\n")
    error = import_error(run([sys.executable, "-c", "import nn"], cwd=tmp_path, check=False))
    assert f"Python imports 'autograd' from {path}" in error
    assert f"not glassgrad's engine ({ROOT / 'autograd'})" in error
    assert error.endswith(f"Repair:\n  rename or move {path}\n")
