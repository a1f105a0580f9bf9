"""`python -m autograd`: the draw subcommand and the whitelisted expression language."""
import math
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, strategies as st

from autograd.__main__ import main
from autograd.expr import ExpressionError, build, functions, parse, parse_bindings, variadic

NEURON = ["tanh(x*w + b)", "x=2", "w=-3", "b=6.8813735870195432"]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def run(*argv, capsys):
    """main(argv) in this process: (exit status, stdout, stderr)."""
    try:
        status = main(list(argv))
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


# ---- the expression language ----------------------------------------------------------------
def test_build_gives_the_neuron_and_its_inputs():
    root, inputs = build(NEURON[0], NEURON[1:])
    assert list(inputs) == ["x", "w", "b"] and inputs["w"].label == "w"
    assert root.data == pytest.approx(1 / math.sqrt(2), rel=1e-12)


def test_a_name_used_twice_is_one_leaf():
    root, inputs = build("x*x + x", ["x=3"])
    root.backward()
    assert inputs["x"].grad == 2 * 3 + 1


@pytest.mark.parametrize("text, words", [
    ("__import__('os').system('echo hacked')", "this call"),
    ("x.__class__", "attribute access"),
    ("x[0]", "subscripts"),
    ("(lambda: 1)()", "this call"),
    ("lambda: 1", "lambda"),
    ("[x for x in y]", "comprehensions"),
    ("open('f')", "this call"),
    ("eval('1')", "this call"),
    ("tanh(x, y)", "exactly one argument"),
    ("max()", "at least one argument"),
    ("sum(x, y=1)", "keyword"),
    ("dot(x, y)", "this call"),
    ("max", "is a function"),
    ("tanh(x=1)", "no keyword arguments"),
    ("tanh", "is a function"),
    ("'text'", "only numbers"),
    ("True", "only numbers"),
    ("x // 2", "'//'"),
    ("x % 2", "'%'"),
    ("+x", "unary +"),
    ("not x", "'not'"),
    ("x < y", "comparisons"),
    ("x if y else z", "'if ... else'"),
    ("(x := 1)", "':='"),
    ("f'{x}'", "f-strings"),
    ("import os", "cannot read"),
    ("x; y", "cannot read"),
    ("", "empty"),
    ("1e999999", "too large"),
    ("9" * 400, "too large"),
    ("(" * 300 + "x" + ")" * 300, "too many nested parentheses"),
    ("x" + "+x" * 6000, "nested too deeply to read .*write a long sum as sum"),
    ("x" + "+x" * 60000, "more than 100000"),
])
def test_refused_expressions_name_the_problem(text, words):
    with pytest.raises(ExpressionError, match=words):
        parse(text)


def test_nothing_refused_is_evaluated(tmp_path, capsys):
    marker = tmp_path / "ran"
    status, out, err = run(
        "draw", f"__import__('os').system('touch {marker}')", capsys=capsys
    )
    assert status == 2 and "not allowed" in err and not marker.exists()


@pytest.mark.parametrize("bindings, words", [
    (["x"], "expected name=NUMBER"), (["=3"], "expected name=NUMBER"),
    (["x=abc"], "must be a number"), (["1x=2"], "is not a name"), (["if=2"], "is not a name"),
    (["tanh=1"], "is a function"), (["x=1", "x=2"], "given twice"),
])
def test_bad_bindings_are_refused(bindings, words):
    with pytest.raises(ExpressionError, match=words):
        parse_bindings(bindings)


@pytest.mark.parametrize("number", ["nan", "inf", "-inf", "1e999", "-Infinity"])
def test_bindings_must_be_finite_like_the_numbers_in_the_expression(number):
    with pytest.raises(ExpressionError, match=f"'x' must be a finite number, got {number!r}"):
        parse_bindings([f"x={number}"])
    with pytest.raises(ExpressionError, match="too large for a float"):
        parse("x * 1e999")


def test_results_may_still_be_infinite_or_nan(capsys):
    # Finite inputs, IEEE results: log(0) = -inf, and its gradient 1/x = inf.
    status, out, _ = run("draw", "log(x)", "x=0", capsys=capsys)
    assert status == 0 and out.splitlines()[1].split()[-2:] == ["0", "inf"]
    assert out.splitlines()[-1].split()[-2:] == ["-inf", "1"]


def test_missing_and_unused_bindings_are_refused():
    with pytest.raises(ExpressionError, match="no value for 'w'.*w=NUMBER"):
        build("x*w", ["x=1"])
    with pytest.raises(ExpressionError, match="'y' not used"):
        build("x*2", ["x=1", "y=2"])


# ---- reading is linear --------------------------------------------------------------------
def lines_run(function, *args) -> int:
    """How many lines of Python `function(*args)` runs: a measure of work that, unlike time,
    is the same on every run and every machine."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        count += event == "line"
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        function(*args)
    finally:
        sys.settrace(previous)
    return count


SIZES = {
    "max of n arguments": lambda n: ("max(" + ", ".join(["x"] * n) + ")", ["x=1"]),
    "sum of n names": lambda n: ("sum(" + ", ".join(f"x{i}" for i in range(n)) + ")",
                                 [f"x{i}={i}" for i in range(n)]),
    "n products deep": lambda n: ("x" + "*x" * n, ["x=1"]),
    "n minus signs deep": lambda n: ("-" * n + "x", ["x=1"]),
}


@pytest.mark.parametrize("kind", sorted(SIZES))
def test_reading_and_building_take_work_linear_in_the_size(kind):
    # Four times the size, four times the work (up to a constant); the quadratic reader this
    # replaced (the text of every node sliced out by a walk over the whole text) did 16 times.
    small, large = (lines_run(build, *SIZES[kind](n)) for n in (500, 2000))
    assert 3.5 * small < large < 4.5 * small


# ---- names as Python reads them ---------------------------------------------------------------
def test_a_name_spelled_one_way_everywhere_works_in_any_letters(capsys):
    root, inputs = build("ｘ * 2 + θ", ["ｘ=3", "θ=0.5"])  # fullwidth x, Greek theta
    assert root.data == 6.5 and list(inputs) == ["ｘ", "θ"] and inputs["ｘ"].label == "ｘ"
    status, out, _ = run("draw", "ｘ*2", "ｘ=3", capsys=capsys)
    assert status == 0 and "ｘ" in out


@pytest.mark.parametrize("text, bindings, words", [
    ("𝐱 + x", ["x=1"], "'𝐱' (column 1) and 'x' (column 5) are one name to Python, 'x'"),
    ("x + ｘ", ["x=1"], "'x' (column 1) and 'ｘ' (column 5) are one name to Python, 'x'"),
    ("ｘ * 2", ["x=3"], "'ｘ' in the expression and 'x' given a value are one name to Python"),
    ("x * 2", ["x=3", "ｘ=4"], "'x' and 'ｘ' in 'ｘ=4' are one name to Python, 'x'"),
    ("ﬁ + 1", ["fi=1"], "'ﬁ' in the expression and 'fi' given a value"),  # a ligature
])
def test_two_spellings_of_one_name_are_refused_naming_both(text, bindings, words):
    with pytest.raises(ExpressionError, match=re.escape(words) + ".*NFKC.*write it one way"):
        build(text, bindings)


def test_a_function_name_in_other_letters_is_still_a_function():
    root, _ = build("ｔａｎｈ(x)", ["x=0"])
    assert root.op.name == "tanh"
    with pytest.raises(ExpressionError, match="is a function"):
        parse_bindings(["ｔａｎｈ=1"])


def test_columns_count_characters_not_bytes():
    with pytest.raises(ExpressionError, match=r"at column 7: 'y\.z'"):
        parse("𝐱 + é*y.z")  # 𝐱 is 4 bytes in UTF-8 and é 2: byte columns would say 12


# Random expressions: the built graph computes what the same formula computes on floats.
REFERENCE = {"exp": math.exp, "tanh": math.tanh, "sin": math.sin, "cos": math.cos,
             "abs": abs, "sigmoid": lambda a: 1 / (1 + math.exp(-a))}
N_ARY = {"max": max, "sum": sum}
leaf = st.sampled_from(["x", "y"]) | st.integers(1, 9).map(str)
expressions = st.recursive(
    leaf,
    lambda inner: st.tuples(inner, st.sampled_from("+-*"), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    | st.tuples(st.sampled_from(sorted(REFERENCE)), inner).map(lambda t: f"{t[0]}({t[1]})")
    | inner.map(lambda e: f"-{e}")
    | st.tuples(st.sampled_from(sorted(N_ARY)), st.lists(inner, min_size=1, max_size=3))
    .map(lambda t: f"{t[0]}({', '.join(t[1])})"),
    max_leaves=8,
)


def reference(text, x, y):
    """The expression evaluated by a tiny reference interpreter on floats."""
    import ast

    def value(node):
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return {"x": x, "y": y}[node.id]
        if isinstance(node, ast.UnaryOp):
            return -value(node.operand)
        if isinstance(node, ast.Call) and node.func.id in N_ARY:
            return N_ARY[node.func.id]([value(arg) for arg in node.args])
        if isinstance(node, ast.Call):
            return REFERENCE[node.func.id](value(node.args[0]))
        a, b = value(node.left), value(node.right)
        return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}[type(node.op)]

    return value(ast.parse(text, mode="eval").body)


@given(expressions, st.floats(-2, 2), st.floats(-2, 2))
def test_expressions_compute_what_they_say(text, x, y):
    names = parse(text).names
    bindings = [f"{n}={v!r}" for n, v in (("x", x), ("y", y)) if n in names]
    root, _ = build(text, bindings)
    assert root.data == pytest.approx(reference(text, x, y), rel=1e-9, abs=1e-12)


def test_the_functions_are_the_op_tables():
    from autograd import OPS
    from autograd.ops import Call

    assert set(functions()) == {op.name for op in OPS.values() if isinstance(op.notation, Call)}
    assert set(functions()) == {"exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt", "sin", "cos"}
    # n-ary ops whose inputs all play one part; not dot (weights, inputs and a bias).
    assert set(variadic()) == {"sum", "max"} and all(variadic()[n] is OPS[n] for n in variadic())


def test_n_ary_functions_take_several_arguments():
    root, inputs = build("max(x, y, 2) + sum(x, y, y, 1)", ["x=3", "y=-1"])
    root.backward()
    assert root.data == 3 + (3 - 1 - 1 + 1)
    assert (inputs["x"].grad, inputs["y"].grad) == (1 + 1, 0 + 2)  # max's grad goes to x
    assert [p.op.name for p in root.parents] == ["max", "sum"]  # one node each
    assert len(root.parents[0].parents) == 3 and len(root.parents[1].parents) == 4
    root, _ = build("max(x)", ["x=5"])
    assert root.data == 5
    with pytest.raises(ExpressionError, match="is a function"):
        parse_bindings(["max=1"])


# ---- python -m autograd draw --------------------------------------------------------------
def test_draw_prints_a_table_with_the_gradients(capsys):
    status, out, err = run("draw", *NEURON, capsys=capsys)
    assert status == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    # d tanh(xw + b)/dx = w (1 - tanh²) with tanh = 1/sqrt(2): -3 * 0.5
    assert float(rows["v0"][-1]) == pytest.approx(-1.5)
    assert float(rows["v1"][-1]) == pytest.approx(1.0)  # x (1 - tanh²) = 2 * 0.5
    assert float(rows["v5"][-2]) == pytest.approx(1 / math.sqrt(2), rel=1e-3)


def test_no_backward_leaves_grads_not_computed(capsys):
    status, out, _ = run("draw", *NEURON, "--no-backward", capsys=capsys)
    assert status == 0 and out.count("not computed") == 6


def test_draw_dot_prints_the_source(capsys):
    status, out, _ = run("draw", *NEURON, "--dot", "--title", "<b>", capsys=capsys)
    assert status == 0 and out.startswith("digraph") and "&lt;b&gt;" in out


def test_a_constant_expression_is_drawn_without_backward(capsys):
    status, out, _ = run("draw", "2 * 3", capsys=capsys)
    assert status == 0 and out.splitlines()[-1].split()[-3:] == ["6", "no", "grad"]


@needs_dot
def test_draw_writes_an_svg(tmp_path, capsys):
    path = tmp_path / "graph.svg"
    status, _, err = run("draw", *NEURON, "-o", str(path), capsys=capsys)
    assert status == 0 and "wrote" in err
    ids = {g.get("id") for g in ET.parse(path).getroot().iter("{http://www.w3.org/2000/svg}g")}
    assert {"v0", "v5", "op5"} <= ids


@pytest.mark.parametrize("argv, words", [
    (["draw", "x*w", "x=1"], "no value for 'w'"),
    (["draw", "x.y", "x=1"], "attribute access"),
    (["draw", *NEURON, "--show", "label"], "show"),
    (["draw", *NEURON, "-o", "graph.jpg"], "cannot tell the format"),
])
def test_usage_errors_exit_2_with_one_line(argv, words, capsys):
    status, _, err = run(*argv, capsys=capsys)
    assert status == 2 and words in err and "Traceback" not in err


def test_without_dot_rendering_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    status, _, err = run("draw", *NEURON, "-o", str(tmp_path / "g.svg"), capsys=capsys)
    assert status == 1 and "apt-get install graphviz" in err


def test_the_module_runs_as_a_program(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograd", "draw", "x*y", "x=2", "y=5"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "x * y" in done.stdout
    done = subprocess.run([sys.executable, "-m", "autograd"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "draw" in done.stderr


@pytest.mark.parametrize("command, name", [
    ("draw", "g.dot"),
    pytest.param("draw", "g.svg", marks=needs_dot),
    pytest.param("html", "g.html", marks=needs_dot),
])
def test_an_unwritable_output_is_one_line_exit_2(tmp_path, command, name, capsys):
    path = tmp_path / "no-such-folder" / name
    status, _, err = run(command, *NEURON, "-o", str(path), capsys=capsys)
    assert status == 2 and "cannot write" in err and str(path) in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["step", "html"])
def test_only_draw_takes_no_backward(command, tmp_path, capsys):
    # The players show the backward pass themselves: the option would do nothing there.
    output = ["-o", str(tmp_path / "b.html")] if command == "html" else []
    status, _, err = run(command, *NEURON, *output, "--no-backward", capsys=capsys)
    assert status == 2 and "--no-backward" in err


@pytest.mark.parametrize("command", ["draw", "step", "html"])
@pytest.mark.parametrize("argv, words", [
    (["x.y", "x=1"], "attribute access"), (["x*w", "x=1"], "no value for 'w'"),
])
def test_every_subcommand_refuses_a_bad_expression_the_same_way(command, argv, words, tmp_path,
                                                               capsys):
    output = [] if command == "step" else ["-o", str(tmp_path / "out.svg")]
    status, _, err = run(command, *argv, *output, capsys=capsys)
    assert status == 2 and words in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["step", "html"])
def test_the_players_refuse_a_constant_expression(command, tmp_path, capsys):
    output = ["-o", str(tmp_path / "b.html")] if command == "html" else []
    status, _, err = run(command, "2 * 3", *output, capsys=capsys)
    assert status == 2 and "no inputs" in err and not (tmp_path / "b.html").exists()


LONG = "x" + "+x" * 1001  # 1002 values: more than draw's default max_nodes (500)


def test_the_table_of_a_large_graph_has_no_limit(capsys):
    # The terminal table never runs Graphviz: it prints however many values there are.
    status, out, _ = run("draw", LONG, "x=2", capsys=capsys)
    lines = out.splitlines()
    assert status == 0 and len(lines) == 1 + 1002
    assert float(lines[-1].split()[-2]) == 2 * 1002 and float(lines[1].split()[-1]) == 1002


def test_a_large_drawing_is_refused_with_advice_for_the_command_line(capsys):
    status, _, err = run("draw", LONG, "x=2", "--dot", capsys=capsys)
    assert status == 2 and "1002 values" in err and "--max-nodes 1002" in err
    assert "max_nodes=" not in err and "autograd.scope" not in err  # advice for Python code
    status, out, _ = run("draw", LONG, "x=2", "--dot", "--max-nodes", "1002", capsys=capsys)
    assert status == 0 and out.startswith("digraph") and "v1001" in out


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_max_nodes_must_be_a_positive_integer(value, capsys):
    status, _, err = run("draw", "x*2", "x=1", "--dot", "--max-nodes", value, capsys=capsys)
    assert status == 2 and "--max-nodes" in err and repr(value) in err
