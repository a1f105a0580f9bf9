"""A real JupyterLab for the browser tests: offline, on a free port, with a token, with its
own folders for configuration, data, settings and workspaces (nothing of the user's is read or
written), and shut down when the test is done, failed or not.

Offline: no news feed, no update check, the read-only extension manager (the PyPI one would
query PyPI), no kernel started for an opened notebook (the tests look at saved outputs), and
the announcements toast switched off in the user settings.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

START_SECONDS = 120  # JupyterLab's first start on a loaded 2-core machine takes a while
STOP_SECONDS = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(notebook_path: Path, data_dir: Path) -> None:
    """Mark a notebook trusted for a server using `data_dir` (its secret and signatures)."""
    import nbformat
    from nbformat.sign import NotebookNotary

    notebook = nbformat.read(notebook_path, as_version=4)
    data_dir.mkdir(parents=True, exist_ok=True)
    NotebookNotary(data_dir=str(data_dir)).sign(notebook)


class Lab:
    """A running JupyterLab: `url(path)` is the address of a notebook with the token."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.home = root, home
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.data = home / "data"
        self.log = home / "jupyterlab.log"
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}/lab/tree/{path}?reset&token={self.token}"

    def environment(self) -> dict[str, str]:
        folders = {name: self.home / name for name in
                   ("config", "data", "runtime", "settings", "workspaces", "ipython")}
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        config = {
            "ServerApp": {"ip": "127.0.0.1", "port": self.port, "port_retries": 0,
                          "open_browser": False, "root_dir": str(self.root),
                          "terminals_enabled": False, "allow_root": True},
            "IdentityProvider": {"token": self.token},
            "LabApp": {"news_url": None, "extension_manager": "readonly",
                       "check_for_updates_class":
                           "jupyterlab.handlers.announcements.NeverCheckForUpdate",
                       "notebook_starts_kernel": False},
        }
        (folders["config"] / "jupyter_server_config.json").write_text(json.dumps(config))
        notification = folders["settings"] / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True, exist_ok=True)
        (notification / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        env = {key: value for key, value in os.environ.items() if not key.startswith("JUPYTER")}
        env.update(JUPYTER_CONFIG_DIR=str(folders["config"]), JUPYTER_DATA_DIR=str(folders["data"]),
                   JUPYTER_RUNTIME_DIR=str(folders["runtime"]),
                   JUPYTERLAB_SETTINGS_DIR=str(folders["settings"]),
                   JUPYTERLAB_WORKSPACES_DIR=str(folders["workspaces"]),
                   IPYTHONDIR=str(folders["ipython"]), JUPYTER_PLATFORM_DIRS="1")
        return env

    def start(self) -> None:
        env = self.environment()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterlab"], env=env, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({self.process.returncode}):\n"
                                   f"{self.log.read_text(errors='replace')[-3000:]}")
            if self._get("/api/status") == 200:
                return
            time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer within {START_SECONDS} s:\n"
                           f"{self.log.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        """Ask the server to shut down; end its process group (ours) if it does not."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self._request("/api/shutdown", method="POST")
            self.process.wait(STOP_SECONDS)
            return
        except (OSError, subprocess.TimeoutExpired):
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(STOP_SECONDS)
                return
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue

    def _get(self, path: str) -> int | None:
        try:
            return self._request(path)
        except (OSError, urllib.error.URLError):
            return None

    def _request(self, path: str, method: str = "GET") -> int:
        request = urllib.request.Request(self.base + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status


@contextmanager
def running_jupyterlab(root: Path, home: Path):
    """A started `Lab` serving `root`, stopped on the way out whatever happened."""
    lab = Lab(root, home)
    try:
        lab.start()
        yield lab
    finally:
        lab.stop()
