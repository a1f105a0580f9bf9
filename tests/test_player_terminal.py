"""The terminal stepper, driven through a pseudo-terminal (pexpect) and through a pipe."""
import io
import math
import os
import subprocess
import sys

import pexpect
import pytest
from rich.console import Console

import autograd
from autograd import Value
from autograd.players.terminal import screen, step

B = "6.8813735870195432"
COMMAND = ["-m", "autograd", "step", "tanh(x*w + b)", "x=2", "w=-3", f"b={B}"]
WAIT = 60  # seconds, for anything that waits on a subprocess: generous for a loaded 2-core CI


def short(x: float) -> str:
    """6 significant digits, and zero as "0" whatever its sign, as the players show numbers."""
    return "0" if x == 0 else f"{x:.6g}"


def expected_grads():
    """d tanh(xw + b) by hand: the slope 1 - tanh² times the other factor."""
    t = math.tanh(2.0 * -3.0 + float(B))
    slope = 1 - t * t
    return {"x": -3.0 * slope, "w": 2.0 * slope, "b": slope}


def test_through_a_pipe_every_step_is_printed():
    run = subprocess.run([sys.executable, *COMMAND], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=WAIT, check=True)
    out = run.stdout
    for k in range(9):  # 3 forward steps, the seed, 3 backward steps, start and done
        assert f"step {k} / 8" in out
    assert "step 9 / 8" not in out
    grads = expected_grads()
    assert f"(so far: not computed → {short(grads['x'])})" in out
    assert f"(so far: not computed → {short(grads['w'])})" in out
    assert "∂v5/∂v4 += ∂v5/∂v5 · ∂v5/∂v4 = 1 · (1 - tanh(v4)²) = 1 · (1 - 0.707107²)" in out
    assert "not computed" not in run.stderr and run.stderr == ""


def test_step_in_code_prints_every_step_when_output_is_not_a_terminal():
    x = Value(3.0, "x")
    y = x * x + x  # a node used twice: dy/dx = 2x + 1 = 7
    out = io.StringIO()
    step(y, stdin=io.StringIO(), stdout=out)
    text = out.getvalue()
    assert "step 0 / " in text and "done: every gradient is computed" in text
    assert "∂v2/∂x = 7" in text  # v2 = v1 + x, v1 = x * x


def spawn():
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="140", LINES="40")  # as the pty
    child = pexpect.spawn(sys.executable, COMMAND, env=env, dimensions=(40, 140),
                          encoding="utf-8", timeout=WAIT)
    child.expect("step 0 / 8")
    return child


def test_keys_next_back_jump_end_and_quit_in_a_pseudo_terminal():
    child = spawn()
    child.send("n")
    child.expect("step 1 / 8")
    child.expect("= 2 \\* \\(-3\\) = -6")  # the forward step's numbers
    child.send("\x1b[C")  # →
    child.expect("step 2 / 8")
    child.send(" ")
    child.expect("step 3 / 8")
    child.send("b")
    child.expect("step 2 / 8")
    child.send("\x1b[D")  # ←
    child.expect("step 1 / 8")
    child.send("7\r")  # jump to step 7: backward through x * w
    child.expect("step 7 / 8")
    child.expect(f"not computed → {short(expected_grads()['x'])}")
    child.send("e")
    child.expect("step 8 / 8")
    child.expect("done: every gradient is computed")
    child.send("n")  # past the end stays at the end
    child.expect("step 8 / 8")
    child.send("s")
    child.expect("step 0 / 8")
    child.send("99\r")  # a jump past the end lands on the last step
    child.expect("step 8 / 8")
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_the_screen_highlights_the_current_node_and_fits_a_large_graph():
    xs = [Value(float(i), f"x{i}") for i in range(30)]
    out = autograd.sum([x.tanh() for x in xs])
    walk = autograd.backprop_steps(out)
    k = walk.first_backward + 1  # backward through the sum: 30 parents change
    console = Console(record=True, width=140, height=30)
    console.print(screen(walk, k, height=30))
    text = console.export_text()
    assert f"step {k} / {len(walk) - 1}" in text
    assert "more)" in text  # rows that do not fit are summarised, not dropped silently
    assert "— → 1" in text  # the "this step" column: not computed, then 1


def test_misuse_is_a_clear_error():
    with pytest.raises(TypeError, match="step\\(\\) needs a Value.*got str"):
        step("tanh(x)")
    run = subprocess.run([sys.executable, "-m", "autograd", "step", "x ** y", "x=2"],
                         capture_output=True, text=True, timeout=WAIT)
    assert run.returncode == 2 and "no value for 'y'" in run.stderr


# ---- labels are user text: never rich markup, never raw terminal control --------------------
HOSTILE = ["[/bold]", "[bold red]X[/]", "[link=https://e]c[/link]", "\x1b[31mred",
           "\x1b]0;owned\x07", "two\nlines"]
# How each label must be shown: as written, control characters escaped (\x1b, \n, ...).
SHOWN = ["[/bold]", "[bold red]X[/]", "[link=https://e]c[/link]", "\\x1b[31mred",
         "\\x1b]0;owned\\x07", "two\\nlines"]
# What must never reach the terminal from those labels: their escape sequences, a rich link.
RAW = ["\x1b[31m", "\x1b]0;", "\x1b]8;", "\x07"]


def hostile_graph():
    leaves = [Value(float(i + 1), label) for i, label in enumerate(HOSTILE)]
    return autograd.sum([leaf * 2.0 for leaf in leaves])


def test_hostile_labels_are_shown_as_written_through_a_pipe():
    out = io.StringIO()
    step(hostile_graph(), stdin=io.StringIO(), stdout=out)  # "[/bold]" raised MarkupError
    text = out.getvalue()
    for shown in SHOWN:  # 6 leaves, 6 constants, 6 products and their sum, v18
        assert f"forward: v{3 * SHOWN.index(shown) + 2} = {shown} * 2" in text  # a step title
        assert f"∂v18/∂({shown}) = 2" in text  # the last step's lines
    assert "\x1b" not in text  # no colour on a pipe: any escape would be a label's


def test_hostile_labels_stay_text_on_the_interactive_screen():
    script = ("import autograd\nfrom autograd import Value\n"
              f"leaves = [Value(float(i + 1), l) for i, l in enumerate({HOSTILE!r})]\n"
              "autograd.step(autograd.sum([leaf * 2.0 for leaf in leaves]))\n")
    transcript = io.StringIO()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="160", LINES="50")
    child = pexpect.spawn(sys.executable, ["-c", script], env=env, dimensions=(50, 160),
                          encoding="utf-8", timeout=WAIT)
    child.logfile_read = transcript
    child.expect_exact("step 0 / 16")  # start, 7 forward steps, the seed, 7 backward, done
    child.send("e")
    child.expect_exact("step 16 / 16")
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, transcript.getvalue()[-2000:]
    text = transcript.getvalue()
    for shown in SHOWN:
        assert f"{shown} * 2" in text  # the table's "computed as" column
    for raw in RAW:
        assert raw not in text, raw


# ---- at real size: 80 x 24, MLP(2, [16, 16, 1]) ----------------------------------------------
def moons_walk():
    nn = pytest.importorskip("nn")
    X, y = nn.make_moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=0)
    loss = nn.hinge(model(X[0]), 2 * y[0] - 1)
    return autograd.backprop_steps(loss)


def test_at_80_by_24_the_header_and_the_column_titles_stay_on_screen_at_every_step():
    walk = moons_walk()
    for k in range(len(walk)):
        console = Console(record=True, width=80, height=24, color_system=None)
        console.print(screen(walk, k, height=24, width=80))
        lines = console.export_text().splitlines()
        # one line is left for the cursor: 24 lines would scroll the header away
        assert len(lines) <= 23, (k, len(lines))
        assert lines[0].startswith(f"step {k} / {len(walk) - 1}")
        assert lines[1].split()[:3] == ["id", "┃", "node"] and "grad" in lines[1]
        assert all(len(line) <= 80 for line in lines)
        current = walk[k].node
        if current is not None:  # the current node's row is on screen
            assert any(line.startswith(f"v{current} ") for line in lines), k


def test_an_unlabelled_node_shows_the_module_that_made_it():
    x = Value(2.0, "x")
    with autograd.scope("encoder", kind="layer"):
        hidden = (x * 3.0).tanh()  # no labels
    walk = autograd.backprop_steps(hidden + 1.0)
    console = Console(record=True, width=100, height=40, color_system=None)
    console.print(screen(walk, 0, height=40, width=100))
    rows = {line.split("│")[0].strip(): line for line in console.export_text().splitlines()
            if "│" in line}
    mul = next(n.id for n in walk.nodes if n.op == "mul")
    assert rows[mul].split("│")[1].strip() == "encoder"  # was "v2 │ v2"
    root = walk.nodes[-1].id
    assert rows[root].split("│")[1].strip() == ""  # made outside every scope: no module
