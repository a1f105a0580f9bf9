"""Where demos put their pictures, and the one plot several of them draw.

Pictures go to `out/` by default (git-ignored); `--out DIR` on a demo's command line, or the
environment variable GLASSGRAD_OUT, moves them. Figures are drawn with matplotlib's object
API (`Figure`, no pyplot): it renders with the Agg backend, needs no display and leaves no
global state behind.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Sequence

from matplotlib.figure import Figure

ENV = "GLASSGRAD_OUT"


def output_dir(path: str | os.PathLike | None = None) -> Path:
    """The folder for pictures: `path`, else $GLASSGRAD_OUT, else `out/`; created if needed."""
    folder = Path(path if path is not None else os.environ.get(ENV) or "out")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save(fig: Figure, folder: Path, name: str) -> Path:
    """Write `fig` as PNG to folder/name and say where."""
    path = folder / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"  picture: {path}")
    return path


def curves(history: dict[str, Sequence[float]], title: str, folder: Path, name: str) -> Path:
    """Loss and accuracy per epoch, side by side (validation curves too when present)."""
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = range(1, len(history["loss"]) + 1)
    for key, ax in (("loss", ax_loss), ("accuracy", ax_acc)):
        ax.plot(epochs, history[key], label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label="test")
            ax.legend()
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
    ax_acc.set_ylim(-0.02, 1.02)
    fig.suptitle(title)
    return save(fig, folder, name)


def timeline(recorder, folder: str | os.PathLike | None, name: str, title: str) -> Path | None:
    """Write a recorded run's timeline page (`nn.Recorder`) to folder/name and say where;
    None when nothing was recorded (no `--player DIR`)."""
    if recorder is None:
        return None
    start = time.perf_counter()
    path = recorder.save(output_dir(folder) / name, title=title)
    print(f"  the training timeline: {path} ({path.stat().st_size / 1e6:.1f} MB, written in "
          f"{time.perf_counter() - start:.1f} s)")
    return path
