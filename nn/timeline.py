"""The training timeline: one offline HTML page for a run recorded by `nn.Recorder`.

The page shows the loss and accuracy curves (every step, and each epoch's mean), for 2-D
inputs the decision boundary, and the parameters as a heatmap per layer, at the step chosen on
a scrubber over steps and epochs; a step recorded in full opens in the HTML player (forward,
backward and update) at the level of detail chosen. Like the player, the page only shows
numbers computed in Python: the curves, the boundary's grid of outputs, the parameters and
each full step's player page are embedded as data (`timeline.js` draws them), and it makes no
network request (a Content-Security-Policy forbids any). The data is stored gzipped, as
base64 (the browser unpacks it with `DecompressionStream`: a run's thousands of captions and
grids shrink tenfold), and so is each full step's player page inside it, unpacked when the step
is opened and shown in a sandboxed frame, which starts at the level chosen from its name.

Labels are user text: base64 holds no markup, and the script puts text into the page with
`textContent` only.
"""
from __future__ import annotations

import base64
import gzip
import html
import json
import math
import re
from pathlib import Path

import numpy as np

from autograd.players.html import asset, page_head, page_script, policy, save_page
from autograd.steps import count, fmt, short_name

from .recording import Recorder

# the boundary's code for a cell whose output is nan or ±inf: scores use 1 to 255, classes from 0
NOT_FINITE = {"score": 0, "class": 255}
LEVEL_NAMES = {"layer": "by layer", "neuron": "by neuron", "step": "by time step", "op": "every op"}


class Timeline:
    """The page for a recorded run: `.save(path)`, `.html()`, and inline display in Jupyter."""

    def __init__(self, recorder: Recorder, title: str | None = None) -> None:
        if not isinstance(recorder, Recorder):
            raise TypeError(f"Timeline() needs an nn.Recorder, got {type(recorder).__name__}")
        self.run = recorder._finished()
        self.recorder = recorder
        self.title = title if title is not None else _default_title(self.run)
        if not isinstance(self.title, str):
            raise TypeError(f"timeline(title=...) needs a string, got {type(self.title).__name__}")

    def html(self) -> str:
        """The whole page as text."""
        script = page_script(__package__, "timeline.js")
        # the player's script runs in the frame, under this page's policy
        csp = policy(script, page_script("autograd.players", "player.js"))
        text = json.dumps(self.data(), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return _PAGE.format(head=page_head(self.title, csp, asset(__package__, "timeline.css")),
                            title=html.escape(self.title), data=_packed(text.encode("utf-8")),
                            script=script)

    def save(self, path: str | Path) -> Path:
        """Write the page to `path` (UTF-8; it must end in .html) and return the path."""
        return save_page(self.html, path)

    def _repr_html_(self) -> str:
        """Jupyter: a line saying what the run was (what a notebook that runs no scripts still
        shows: its sanitizer removes the frame), then the page in a sandboxed iframe."""
        summary = (f"{self.title}: {_end_caption(self.recorder)}. "
                   f"{count(len(self.recorder.full), 'step')} recorded in full. Where scripts "
                   f"do not run, "
                   f"save the page (.save(\"timeline.html\")) and open it in a browser.")
        return (f"<p>{html.escape(summary)}</p>"
                f'<iframe srcdoc="{html.escape(self.html(), quote=True)}" '
                'sandbox="allow-scripts" style="width: 100%; height: 820px; border: 0">'
                "</iframe>")

    def __repr__(self) -> str:
        return (f"<Timeline: {len(self.recorder.steps)} steps, {len(self.recorder.full)} in "
                "full; .save('timeline.html') writes the page>")

    def data(self) -> dict:
        """What the page shows, as the JSON it embeds."""
        run, recorder = self.run, self.recorder
        steps = recorder.steps
        return {
            "title": self.title,
            "stopped": stopped_caption(run),
            "lossTitle": f"loss: {getattr(run.loss, '__name__', 'loss')}"
                         + (" + penalty" if run.penalty else ""),
            "steps": len(steps), "epochs": run.epochs, "batches": run.batches,
            "loss": [_finite(s.loss) for s in steps],
            "accuracy": [_finite(s.accuracy) for s in steps],
            "captions": [_caption(s, run) for s in steps] + [_end_caption(recorder)],
            "epoch": {key: [_finite(x) for x in values]
                      for key, values in recorder.history.items()
                      if key in ("loss", "accuracy", "val_loss", "val_accuracy")},
            "snapshots": run.snapshot_steps,
            "parameters": _parameters(run),
            "boundary": _boundary(run),
            "full": [_full(recorder, k) for k in recorder.full_steps],
        }


# ---- the parts of the data ----------------------------------------------------------------------
def _caption(s, run) -> str:
    where = f"epoch {s.epoch + 1} of {run.epochs}"
    if run.batches > 1:
        where += f", batch {s.batch + 1} of {run.batches}"
    score = (f"loss {fmt(s.loss)} · accuracy {fmt(100 * s.accuracy)}% (this batch of {s.size})"
             if s.scored else f"not scored: Ctrl-C came after its update (batch of {s.size})")
    return (f"step {s.step} of {run.total} · {where} · {score} · η {fmt(s.rate)} · "
            f"|gradient| {fmt(s.grad_norm)}")


def stopped_caption(run) -> str | None:
    """What a run that Ctrl-C stopped says on its page (None for a whole run)."""
    if run.stopped is None:
        return None
    return (f"stopped (Ctrl-C) after step {run.stopped} of {run.total}: the page shows the "
            f"{count(run.stopped, 'step')} taken (0 to {run.stopped - 1}) and the parameters "
            "they left" if run.stopped else
            f"stopped (Ctrl-C) after step 0 of {run.total}: no step was taken")


def _end_caption(recorder) -> str:
    last = {key: values[-1] for key, values in recorder.history.items() if values}
    run = recorder._run
    text = (f"after the last update (step {len(recorder.steps)}): the trained model"
            if run.stopped is None else
            f"after the last update (step {run.stopped}): where Ctrl-C stopped the run")
    if "loss" in last:
        epoch = "last epoch's" if run.stopped is None else "last epoch's (so far)"
        text += (f" · the {epoch} mean loss {fmt(last['loss'])}, accuracy "
                 f"{fmt(100 * last['accuracy'])}%")
    return text


def _parameters(run) -> dict:
    """The parameters at each snapshot (float64, base64) and how they are laid out: a heatmap
    per layer (see `units`), its colours scaled to the largest finite |number| it ever holds
    (a parameter that became nan or ±inf is drawn grey)."""
    frames = np.stack(run.snapshots)
    units = []
    for name, rows in heatmap_units(run.params):
        indices = [i for row in rows for i, _ in row[1]]
        held = np.abs(frames[:, indices])
        held = held[np.isfinite(held)]
        units.append({"name": name, "scale": float(held.max()) if held.size and held.max() else 1.0,
                      "rows": [{"name": r, "cells": [[i, c] for i, c in cells]}
                               for r, cells in rows]})
    return {"names": run.names, "units": units, "frames": _b64(frames.astype("<f8"))}


def heatmap_units(params: list) -> list[tuple[str, list[tuple[str, list[tuple[int, str]]]]]]:
    """The parameters as heatmaps: [(unit, [(row, [(parameter index, column)])])].

    A unit is a layer (the parameter's enclosing scope of kind "layer"), else the scope the
    parameter belongs to, else "parameters". Its rows are the scopes inside it (a layer's
    neurons: columns `w.0`, ..., `b`) or, for parameters held by the unit itself, tensors by
    their first index (`weight_hh.2`: columns `0`, `1`, ...); plain names share one row."""
    units: dict[str, dict[str, list]] = {}
    for i, p in enumerate(params):
        scope = p.scope
        layer = scope.enclosing("layer") if scope is not None else None
        unit = (layer or scope).path if scope is not None else "parameters"
        label = p.label if scope is None else short_name(p.label, scope.path)
        if scope is not None and scope.path != unit:
            row, column = scope.path[len(unit) + 1:], label
        else:
            match = re.fullmatch(r"(.+?)((?:\.\d+)+)", label)
            if match is None:
                row, column = "", label
            else:
                indices = match.group(2)[1:].split(".")
                row = match.group(1) + ("." + indices[0] if len(indices) > 1 else "")
                column = ".".join(indices[1:] if len(indices) > 1 else indices)
        units.setdefault(unit, {}).setdefault(row, []).append((i, column))
    return [(unit, list(rows.items())) for unit, rows in units.items()]


def _boundary(run) -> dict | None:
    """For 2-D inputs: the grid of outputs at each snapshot, one byte a cell, and the points.

    One output (a number, or a list or row of one, as fit's accuracy reads it): 128 ±
    127·√tanh(|output - threshold|/τ), rounded, and never 128 on the wrong side (above 128
    exactly where the output is above the threshold: the positive class), τ the run's typical
    distance from the threshold (of the finite outputs: a run that diverged later does not
    wash out its early frames); the square root keeps many codes near the threshold, so the
    line drawn there is smooth even early on, when every output is close to it. Several
    outputs: the class (the largest). A cell whose output is not a finite number (nan or ±inf:
    training diverged) gets its own code (`NOT_FINITE`), which the page draws grey, and says so."""
    boundary = run.boundary
    if boundary is None:
        return None
    frames = np.stack(boundary.frames)
    if frames.ndim == 3 and frames.shape[2] == 1:  # a list of one output: one score
        frames = frames[:, :, 0]
    if frames.ndim == 2:
        distance = frames - run.threshold
        finite = np.isfinite(distance)
        reach = np.abs(distance[finite])
        tau = (float(np.quantile(reach, 0.9)) if reach.size else 0.0) or 1.0
        shade = np.rint(127 * np.sqrt(np.tanh(np.abs(np.where(finite, distance, 0.0)) / tau)))
        codes = np.where(distance > 0, 128 + np.maximum(shade, 1), 128 - np.minimum(shade, 127))
        kind, classes = "score", 2
    else:
        finite = np.isfinite(frames).all(axis=2)
        codes, kind, classes = np.argmax(frames, axis=2), "class", frames.shape[2]
        if classes >= NOT_FINITE["class"]:
            return None  # more classes than a byte holds besides NOT_FINITE: no picture
    codes = np.where(finite, codes, NOT_FINITE[kind])
    X, y = run.X, run.y
    picked = np.linspace(0, len(X) - 1, min(len(X), 2000)).astype(int)
    return {"grid": boundary.grid, "x": list(boundary.x), "y": list(boundary.y), "kind": kind,
            "classes": int(classes), "notFinite": NOT_FINITE[kind],
            "points": [[float(X[i, 0]), float(X[i, 1]), _class(y[i], run.threshold, kind)]
                       for i in picked],
            "frames": _b64(codes.astype(np.uint8))}


def _class(target, threshold: float, kind: str) -> int:
    target = np.asarray(target)
    if kind == "class":
        return int(np.argmax(target)) if target.ndim else int(target)
    return int(float(target.reshape(-1)[0]) > threshold)


def _full(recorder, k: int) -> dict:
    """A step recorded in full: its player page, gzipped, and the levels it can start at."""
    page = recorder.player(k)
    levels = [level for level in ("layer", "neuron", "step") if level in page.tree.kinds()]
    return {"step": k, "title": page.title, "levels": [[level, LEVEL_NAMES[level]]
                                                        for level in levels + ["op"]],
            "page": _packed(page.html().encode("utf-8"))}


def _default_title(run) -> str:
    model = repr(run.model)
    if " at 0x" in model:  # a function (or an object without a repr): its name, no address
        name = getattr(run.model, "__name__", "")
        model = name if isinstance(name, str) and name.isidentifier() else "the model"
    model = model if len(model) <= 80 else type(run.model).__name__
    loss = getattr(run.loss, "__name__", "loss")
    steps = (count(run.total, "step") if run.stopped is None
             else f"{run.stopped} of {run.total} steps (stopped by Ctrl-C)")
    return (f"Training timeline: {model}, {loss}{' + penalty' if run.penalty else ''}, "
            f"{type(run.optimizer).__name__}, {steps}")


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _packed(data: bytes) -> str:
    """gzip, then base64: text that sits anywhere in a page (no `<`, `&` or quotes), which
    the browser unpacks with `DecompressionStream("gzip")`. No time stamp: the same run gives
    the same page."""
    return base64.b64encode(gzip.compress(data, mtime=0)).decode("ascii")


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


_PAGE = """{head}
<header id="tl-bar">
  <h1 id="tl-title">{title}</h1>
  <div id="tl-controls">
    <button id="tl-prev" type="button" title="previous step (←)">◀</button>
    <button id="tl-play" type="button" title="play / pause (space)">▶ Play</button>
    <button id="tl-next" type="button" title="next step (→)">▶</button>
    <label class="slider">step <input id="tl-step" type="range" min="0" value="0"
      aria-label="step"></label>
    <span id="tl-counter" aria-live="polite"></span>
    <label class="slider" id="tl-epoch-box">epoch <input id="tl-epoch" type="range" min="1"
      value="1" aria-label="epoch"></label>
  </div>
  <div id="tl-caption" aria-live="polite"></div>
  <div id="tl-stopped" role="status" hidden></div>
</header>
<main>
  <section id="tl-curves" aria-label="loss and accuracy">
    <svg id="tl-loss" class="chart" role="img" aria-label="loss per step"></svg>
    <svg id="tl-accuracy" class="chart" role="img" aria-label="accuracy per step"></svg>
    <div class="key"><span><span class="k step"></span>each step (its batch)</span>
      <span id="tl-key-epoch"><span class="k epoch"></span>each epoch's mean</span>
      <span id="tl-key-val"><span class="k val"></span>validation</span>
      <span><span class="k full"></span>recorded in full (click a step to go there)</span></div>
  </section>
  <section id="tl-boundary-box" aria-label="decision boundary">
    <h2 id="tl-boundary-title">decision boundary</h2>
    <canvas id="tl-boundary" width="300" height="300"></canvas>
    <div id="tl-boundary-note" class="note"></div>
  </section>
  <section id="tl-full" aria-label="this step in the player">
    <div id="tl-full-text"></div>
    <div id="tl-full-controls">
      <label>open at <select id="tl-level"></select></label>
      <button id="tl-open" type="button" title="open this step in the player (Enter)">Open step
        in the player</button>
    </div>
    <div id="tl-full-steps" aria-label="the steps recorded in full"></div>
  </section>
  <section id="tl-params" aria-label="the parameters">
    <h2 id="tl-params-title">parameters</h2>
    <div id="tl-heatmaps"></div>
    <div id="tl-params-note" class="note"></div>
  </section>
</main>
<div id="tl-overlay" hidden>
  <div id="tl-overlay-bar">
    <span id="tl-overlay-title"></span>
    <span class="muted">Esc or ✕: back to the timeline</span>
    <button id="tl-close" type="button" title="back to the timeline (Esc)">✕ Close</button>
  </div>
  <iframe id="tl-frame" title="the player" sandbox="allow-scripts"></iframe>
</div>
<script type="text/plain" id="timeline-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""
