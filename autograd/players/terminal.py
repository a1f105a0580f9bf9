"""The terminal stepper: walk through backprop one step at a time, with single keys.

Each screen shows "step k / N", a table of the nodes (data and grad; "—" for not computed yet)
with the current node highlighted and the grads this step changes marked, and the step's
explanation: the chain rule written out with numbers. Everything shown comes from
`autograd.backprop_steps`; this module only draws it (with rich) and reads keys.

When stdin or stdout is not a terminal (a pipe, a notebook, a test), there are no keys to
read: every step is printed once, in order, and the function returns.

Labels are user text: they go to rich as `Text`, never as markup (a label "[/bold]" is shown as
written, not parsed), and their control characters are shown escaped ("\\x1b[31m"), so a label
cannot send an escape sequence to the terminal.
"""
from __future__ import annotations

import io
import os
import sys
import unicodedata
from contextlib import contextmanager
from typing import IO, Callable, Iterator

from ..steps import Steps, fmt
from ..value import Value
from . import as_steps

HELP = ("[n →  space] next   [b ←] back   [digits, then Enter] jump to step   "
        "[s] start  [e] end   [q] quit")
SHORT_HELP = "n/→ next  b/← back  12⏎ jump  s start  e end  q quit"  # for narrow terminals


def _rich():
    try:
        import rich  # noqa: F401
    except ImportError:
        raise ImportError(
            "the terminal stepper draws with the 'rich' package: pip install 'glassgrad[visuals]'"
        ) from None
    from rich.console import Console, Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    return Console, Group, Panel, Table, Text


def _plain(text: str):
    """User text as a rich `Text`: no markup, and control characters (escape sequences, line
    breaks, invisible formatting) written as Python escapes instead of reaching the terminal."""
    Text = _rich()[4]
    return Text("".join(
        c.encode("unicode_escape").decode("ascii")
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c
        for c in text))


def step(root: Value | Steps, *, stdin: IO[str] | None = None,
         stdout: IO[str] | None = None) -> None:
    """Step through the forward and backward pass of `root` in the terminal.

    Keys: n, space, → or Enter for the next step; b or ← back; digits then Enter to jump to a
    step; s for the start, e for the end; q to quit. When stdin or stdout is not a terminal,
    every step is printed and the function returns.
    """
    walk = as_steps(root, "step()")
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    Console = _rich()[0]
    if _is_terminal(stdin) and _is_terminal(stdout) and _has_termios():
        console = Console(file=stdout)
        with _keys(stdin) as read_key:
            _interactive(walk, console, read_key)
    else:
        console = Console(file=stdout, width=max(100, _width(stdout)), soft_wrap=True)
        print_all(walk, console)


def print_all(walk: Steps, console) -> None:
    """Every step once: the explanation of each, and the table at the start and at the end."""
    last = len(walk) - 1
    console.print(table(walk, 0, rows=None))
    for s in walk:
        console.print(_plain(f"step {s.index} / {last}  {s.title}"), style="bold",
                      soft_wrap=True)
        for line in s.lines:
            console.print(_plain(f"    {line}"), soft_wrap=True)
    console.print(table(walk, last, rows=None))


def screen(walk: Steps, k: int, height: int | None = None, width: int | None = None):
    """What one step looks like: a header, the table of nodes, the explanation and the keys.

    With a `height` (a terminal's), everything fits in it, so that the terminal never scrolls
    the header and the column titles away: the header is one line, each table row one line
    (long names end in "…"), and the table gets the lines the explanation leaves; an
    explanation taller than half the screen is cut, saying how many lines are not shown."""
    _, Group, Panel, _, Text = _rich()
    s = walk[k]
    header = Text.assemble((f"step {k} / {len(walk) - 1}", "bold"), "   ",
                           (s.phase, "cyan"), "   ", _plain(s.title), no_wrap=True,
                           overflow="ellipsis")
    lines = [_plain(line) for line in s.lines]
    keys = HELP if width is None or width >= len(HELP) else SHORT_HELP
    budget = None
    if height is not None:
        inner = None if width is None else max(20, width - 4)
        tall = [_height(line, inner) for line in lines]
        room = max(3, (height - 8) // 2)  # the explanation's share, at most
        if sum(tall) > room:
            kept, used = 0, 0
            while kept < len(lines) and used + tall[kept] <= room - 2:
                used += tall[kept]
                kept += 1
            hidden = len(lines) - kept
            note = Text(f"… {hidden} more line{'s' * (hidden != 1)}: a taller terminal shows "
                        "them (piped, every step is printed in full)", style="dim")
            if kept == 0 and inner is not None:  # one long line: show its start
                lines[0].truncate(inner * (room - 2) - 1, overflow="ellipsis")
                lines[0].append("…")
                kept, hidden = 1, len(lines) - 1
                note = Text(f"… {hidden} more line{'s' * (hidden != 1)}", style="dim")
            lines = lines[:kept] + [note]
            tall = [_height(line, inner) for line in lines]
        keys_tall = 1 if width is None else -(-len(keys) // max(width, 1))
        # header 1, table head 2, panel borders 2, keys, and a line for the prompt
        budget = max(3, height - 1 - 2 - (sum(tall) + 2) - keys_tall - 1)
    explanation = Panel(Text("\n").join(lines),
                        title={"backward": "chain rule", "update": "update"}.get(
                            s.phase, "forward pass"),
                        title_align="left", border_style="cyan")
    return Group(header, table(walk, k, rows=budget, width=width), explanation,
                 Text(keys, style="dim"))


def _height(line, width: int | None) -> int:
    """How many terminal lines a line of text takes at `width` columns (1 without a width),
    wrapped as rich wraps it (at spaces)."""
    if width is None:
        return 1
    Console = _rich()[0]
    measure = Console(width=width, file=io.StringIO(), color_system=None)
    return max(1, len(measure.render_lines(line, pad=False)))


def table(walk: Steps, k: int, rows: int | None, width: int | None = None):
    """The nodes with their data and grad after step k; at most `rows` rows (None: all).

    Each row is one line: a name that does not fit ends in "…". An unlabelled node's name
    column shows the module that made it (its scope), in grey."""
    Table = _rich()[3]
    state = walk.state(k)
    s = walk[k]
    changed = {c.node: c for c in s.changes}
    t = Table(title=None, show_edge=False, header_style="bold", pad_edge=False,
              expand=width is not None)
    ids = max(2, max(len(n.id) for n in walk.nodes))
    numbers = 10  # "-0.0476661", "1.23457e-05" is cut to "1.23457e-…"
    narrow = width is not None and width < 110  # no room for "this step": the colours say it
    columns = [("id", ids, None), ("node", None, 1), ("computed as", None, 1),
               ("data", numbers, None), ("grad", numbers, None)]
    if not narrow:
        columns.append(("this step", 22, None))
    for column, size, ratio in columns:
        t.add_column(column, justify="right" if column in ("data", "grad") else "left",
                     no_wrap=True, overflow="ellipsis", width=size, ratio=ratio, min_width=4)
    parents = set(walk.nodes[s.node].parents) if s.node is not None else set()
    shown = _visible(walk, k, rows, changed, parents)
    previous = -1
    for i in shown:
        if i != previous + 1:
            t.add_row(*["…", f"({i - previous - 1} more)", "", "", "", ""][:len(columns)],
                      style="dim")
        previous = i
        node = walk.nodes[i]
        grad = "no grad" if not node.requires_grad else fmt(state.grad[i])
        note = ""
        if i in changed:
            c = changed[i]
            note = ("computed" if c.field == "data"
                    else f"{fmt(c.before)} → {fmt(c.after)}")
        style = ("bold reverse" if i == s.node else "yellow" if i in changed
                 else "cyan" if i in parents else "")
        computed_as = node.expression or node.kind
        name = _plain(node.name) if node.label or node.kind == "constant" else _plain(
            node.module)
        if not (node.label or node.kind == "constant"):
            name.stylize("dim")
        cells = [node.id, name, _plain(computed_as), fmt(state.data[i]), grad, note]
        t.add_row(*cells[:len(columns)], style=style)
    if previous != len(walk.nodes) - 1:
        t.add_row(*["…", f"({len(walk.nodes) - 1 - previous} more)", "", "", "", ""][
            :len(columns)], style="dim")
    return t


def _visible(walk: Steps, k: int, rows: int | None, changed: dict, parents: set) -> list[int]:
    """The rows that fit in `rows` lines, counting a "… (n more)" line for each gap: the
    current node first, then its parents and the nodes this step changes, then neighbours of
    the current node."""
    n = len(walk.nodes)
    if rows is None or n <= rows:
        return list(range(n))
    centre = walk[k].node if walk[k].node is not None else 0
    wanted = [centre] + sorted(parents | set(changed), key=lambda i: abs(i - centre))
    for distance in range(1, n):
        wanted += [i for i in (centre - distance, centre + distance) if 0 <= i < n]
    chosen: set[int] = set()
    for i in wanted:
        if i in chosen:
            continue
        if _lines(chosen | {i}, n) > rows:
            break
        chosen.add(i)
    return sorted(chosen)


def _lines(chosen: set[int], n: int) -> int:
    """Table lines for these rows: one each, and one per gap ("… (k more)")."""
    rows = sorted(chosen)
    gaps = sum(1 for a, b in zip([-1] + rows, rows + [n]) if b - a > 1)
    return len(rows) + gaps


# ---- the interactive loop ------------------------------------------------------------------------
def _interactive(walk: Steps, console, read_key: Callable[[], str]) -> None:
    k, typed = 0, ""
    last = len(walk) - 1
    while True:
        console.clear()
        console.print(screen(walk, k, console.height, console.width))
        if typed:
            console.print(f"jump to step: {typed}", end="")
        key = read_key()
        if key.isdigit():
            typed += key
            continue
        if typed and key in ("\r", "\n"):
            k, typed = min(int(typed), last), ""
            continue
        if typed and key in ("\x7f", "\b"):
            typed = typed[:-1]
            continue
        typed = ""
        if key in ("q", "Q", "\x1b", "\x03", "\x04", ""):
            console.print()
            return
        if key in ("n", " ", "right", "\r", "\n", "down"):
            k = min(k + 1, last)
        elif key in ("b", "p", "left", "up"):
            k = max(k - 1, 0)
        elif key in ("e", "end"):
            k = last
        elif key in ("s", "home"):
            k = 0


@contextmanager
def _keys(stdin: IO[str]) -> Iterator[Callable[[], str]]:
    """Single keys from a terminal in cbreak mode (restored on exit); arrows come back as
    "left", "right", ..."""
    import select
    import termios
    import tty

    fd = stdin.fileno()
    arrows = {"[A": "up", "[B": "down", "[C": "right", "[D": "left", "[H": "home",
              "[F": "end", "OH": "home", "OF": "end"}

    def read_key() -> str:
        key = os.read(fd, 1).decode(errors="replace")
        if key == "\x1b" and select.select([fd], [], [], 0.05)[0]:
            sequence = os.read(fd, 2).decode(errors="replace")
            return arrows.get(sequence, "unknown")  # an unknown sequence does nothing
        return key

    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd, termios.TCSANOW)  # not TCSAFLUSH: keys typed ahead are kept
    try:
        yield read_key
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _has_termios() -> bool:
    try:
        import termios  # noqa: F401
    except ImportError:  # Windows: no single-key input; print every step instead
        return False
    return True


def _width(stream) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 0
