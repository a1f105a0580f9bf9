"""Drawings: golden DOT text, real SVG from the real `dot`, ids, colours, hostile labels,
collapsing, large graphs, Jupyter display, and life without Graphviz.

Golden files live in tests/golden/; after an intended change to the drawings, look at the new
pictures and rewrite them with GLASSGRAD_UPDATE_GOLDEN=1 pytest tests/test_draw.py.
"""
import math
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import autograd
from autograd import Value
from autograd.draw import GraphvizNotFound, draw, node_ids, table

GOLDEN = Path(__file__).parent / "golden"
SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def neuron():
    """Karpathy's neuron: tanh(x*w + b) with b chosen so that the output is 1/sqrt(2)."""
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8813735870195432, "b")
    return (x * w + b).tanh(), (x, w, b)


def seed_network():
    from demos.neuron import network_221

    out, leaves = network_221()
    out.backward()
    return out


def svg_of(drawing):
    return ET.fromstring(drawing.pipe("svg"))


def check_golden(name, text):
    path = GOLDEN / name
    if os.environ.get("GLASSGRAD_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"drawing differs from {path}"


# ---- golden DOT text ---------------------------------------------------------------------------
def test_golden_neuron_after_backward():
    out, _ = neuron()
    out.backward()
    check_golden("neuron.dot", draw(out, title="tanh(x*w + b)").source)


def test_golden_before_backward_and_with_constants():
    x = Value(3.0, "x")
    y = (x - 1) / 2
    check_golden("constants.dot", draw(y, rankdir="TB", legend=False).source)


def test_golden_seed_network_collapsed_by_neuron():
    out = seed_scoped_network()
    out.backward()
    check_golden("scoped_collapsed.dot", draw(out, collapse="neuron").source)


def seed_scoped_network():
    """Seed 001's 2-2-1 network built under scopes, as nn would."""
    x = [Value(2.0, "x1"), Value(3.0, "x2")]
    params = {n: ([Value(0.0, f"{n}.w1"), Value(1.0, f"{n}.w2")], Value(0.0, f"{n}.b"))
              for n in ("h1", "h2", "o1")}
    for n, (w, b) in params.items():
        for p in w + [b]:
            p.scope = autograd.Scope(n, "neuron")  # nn gives each parameter its module's scope
    hidden = []
    for n in ("h1", "h2"):
        with autograd.scope(n, kind="neuron"):
            hidden.append(autograd.dot(params[n][0], x, params[n][1]).sigmoid())
    with autograd.scope("o1", kind="neuron"):
        return autograd.dot(params["o1"][0], hidden, params["o1"][1]).sigmoid()


def test_the_same_graph_gives_the_same_text_every_time():
    assert draw(neuron()[0]).source == draw(neuron()[0]).source


# ---- ids -----------------------------------------------------------------------------------
def test_node_ids_follow_the_topological_order():
    out, _ = neuron()
    order = autograd.topological_order(out)
    ids = node_ids(out)
    assert [v for v, _, _ in ids] == order
    assert [(vid, oid) for _, vid, oid in ids] == [
        (f"v{i}", None if v.op is None else f"op{i}") for i, v in enumerate(order)
    ]


@needs_dot
def test_svg_has_every_id_with_its_class():
    out, (x, w, b) = neuron()
    out.backward()
    root = svg_of(draw(out))
    groups = {g.get("id"): g.get("class", "") for g in root.iter(SVG + "g")}
    for v, vid, oid in node_ids(out):
        assert "value" in groups[vid].split()
        if oid is not None:
            assert {"op", f"op-{v.op.name}"} <= set(groups[oid].split())
    assert "input" in groups["v0"].split() and "output" in groups["v5"].split()
    # Inside a value's group the texts are label, data, grad.
    texts = ["".join(t.itertext()) for t in root.find(f".//{SVG}g[@id='v0']").iter(SVG + "text")]
    assert texts == ["x", "2", "grad -1.5"]  # dL/dx = w * (1 - tanh²) = -3 * 0.5


# ---- what the boxes show -----------------------------------------------------------------
def test_a_grad_never_computed_looks_different_from_zero():
    x = Value(1.0, "x")
    before = draw(x * 0.0, legend=False).source
    out = x * 0.0
    out.backward()  # x.grad is exactly 0.0
    after = draw(out, legend=False).source
    assert "grad not computed" in before and "grad not computed" not in after
    assert "grad 0<" in after


def test_a_leafs_accumulated_grad_says_so_beside_what_one_pass_gives():
    """backward() twice doubles the leaves' grads while the computed nodes show one pass: the
    drawing says which leaves hold more, and what one pass gives (here by hand: ∂tanh(xw)/∂x =
    (1 - tanh²(xw))·w)."""
    x, w = Value(2.0, "x"), Value(-0.3, "w")
    out = (x * w).tanh()
    out.backward()
    assert "accumulated" not in draw(out).source and "accumulated" not in table(out)
    out.backward()
    slope = 1 - math.tanh(2.0 * -0.3) ** 2
    assert x.grad == pytest.approx(2 * slope * -0.3) and w.grad == pytest.approx(2 * slope * 2.0)
    source = draw(out, legend=False).source
    for leaf, one_pass in ((x, slope * -0.3), (w, slope * 2.0)):
        assert f"grad {leaf.grad:.4g}<BR/><FONT POINT-SIZE=\"9\">accumulated; one pass: " \
               f"{one_pass:.4g}<" in source
        assert re.search(rf"one backward pass from the output gives {re.escape(repr(one_pass))[:12]}",
                         source)
    rows = {line.split()[1]: line for line in table(out).splitlines()[1:] if line.split()[1] in "xw"}
    assert f"(accumulated; one pass: {slope * 2.0:.4g})" in rows["w"]
    x.grad = 0.0  # zeroed since the pass
    assert "zeroed; one pass" in draw(out).source
    part = out.parents[0]  # x * w, a part of the graph: its grad is not 1, so what one pass
    assert part.grad != 1.0 and "one pass" not in draw(part).source  # from it gives is unknown


def fills(source):
    """The fill colour of each node's grad cell, by node name."""
    found = {}
    for name, body in re.findall(r"^\t(v\d+) \[label=<(.*)>", source, re.M):
        match = re.search(r'BGCOLOR="(#[0-9a-f]{6})"><FONT COLOR="[^"]+">grad ', body)
        if match:
            found[name] = tuple(int(match.group(1)[k:k + 2], 16) for k in (1, 3, 5))
    return found


def test_colour_encodes_sign_and_size():
    a, b, c = Value(1.0, "a"), Value(1.0, "b"), Value(1.0, "c")
    out = autograd.sum([a * 4.0, b * -4.0, c * 0.5])  # grads 4, -4, 0.5
    out.backward()
    colours = fills(draw(out).source)
    index = {v.label: f"v{i}" for i, v in enumerate(autograd.topological_order(out))}
    pos, neg, small = colours[index["a"]], colours[index["b"]], colours[index["c"]]
    assert pos[2] > pos[0] and neg[0] > neg[2]  # blue for > 0, red for < 0
    assert sum(small) > sum(pos)  # a smaller |grad| is paler
    assert small[2] > small[0]


def test_kinds_are_distinguishable_and_params_can_be_named():
    w, x = Value(0.5, "layers.0.neurons.0.w.0"), Value(2.0, "x")
    w.scope = autograd.Scope("neurons.0", "neuron", autograd.Scope("layers.0", "layer"))  # as nn
    out = (w * x + 1.0).relu()
    source = draw(out).source
    assert re.search(r'^\t+v0 .*class="value param"', source, re.M)  # w is v0
    assert re.search(r'^\t+v1 .*class="value input"', source, re.M)
    assert 'class="value const"' in source and 'class="value output"' in source
    # An explicit list of parameters wins over the scopes.
    marked = draw(out, params=[x]).source
    assert marked.count('class="value param"') == 1
    assert re.search(r'^\t+v1 .*class="value param"', marked, re.M)


def test_a_parameter_is_a_leaf_with_a_scope_not_a_dotted_label():
    x, y = Value(1.5, "x.1"), Value(2.0, "1.5")  # plain inputs, whatever their labels say
    with autograd.scope("layer", kind="layer"):
        w = Value(0.5, "w")  # made in a scope: it belongs to that part of the model
    out = x * y * w
    kinds = dict(re.findall(r'^\t+(v\d+) .*class="value (\w+)"', draw(out).source, re.M))
    assert (kinds["v0"], kinds["v1"], kinds["v3"]) == ("input", "input", "param")  # x, y, w
    assert [line.split()[2] for line in table(out).splitlines()[1:3]] == ["input", "input"]
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [2, 1], seed=0)
    out = model([x, y])
    source = draw(out).source
    for i, v in enumerate(autograd.topological_order(out)):
        if v.op is None:
            kind = "param" if any(v is p for p in model.parameters()) else "input"
            assert re.search(rf'^\t+v{i} .*class="value {kind}"', source, re.M), v.label


def test_show_selects_the_numbers():
    out, _ = neuron()
    out.backward()
    data_only, grad_only = (draw(out, show=s, legend=False).source for s in ("data", "grad"))
    assert ">grad " not in data_only and "<TD>0.7071</TD>" in data_only
    assert ">grad " in grad_only and "<TD>0.7071</TD>" not in grad_only


# ---- hostile labels -------------------------------------------------------------------------
HOSTILE = ['<script>alert(1)</script>', '{a|b}', '"', '\\', 'line\nbreak', ']]>', '&amp;',
           '<b>bold</b>', '\\N', 'x" onload="alert(1)', '<img src=x onerror=alert(1)>', '\x00',
           'a\\Nb', 'x&amp;y', '&lt;', '\\\\', '\\"', 'end\\']


def hostile_graph():
    leaves = [Value(float(i), label) for i, label in enumerate(HOSTILE)]
    out = autograd.sum(leaves)
    out.label = "<<TABLE>>"
    out.backward()
    return out


def test_hostile_labels_are_escaped_in_the_dot_text():
    source = draw(hostile_graph(), title="</TABLE><script>").source
    labels = re.findall(r"label=<(.*)>(?= id=|$)", source, re.M)
    assert len(labels) == 1 + len(HOSTILE) + 1  # the caption, the leaves and the Σ node
    markup = {"TABLE", "TR", "TD", "FONT", "B", "I"}
    for label in labels:
        body = ET.fromstring(label)  # well-formed: nothing closed or opened early
        assert {element.tag for element in body.iter()} <= markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    assert "&amp;amp;" in source  # the label "&amp;" shows those five characters
    assert "\x00" not in source


@needs_dot
def test_hostile_labels_stay_text_in_the_svg():
    root = svg_of(draw(hostile_graph(), title="</TABLE><script>"))
    allowed = {"svg", "g", "title", "polygon", "polyline", "path", "ellipse", "text", "a"}
    for element in root.iter():
        tag = element.tag.replace(SVG, "")
        assert tag in allowed, f"unexpected element {tag}"
        for name in element.attrib:
            assert not name.lower().startswith("on"), f"event attribute {name} on {tag}"
    shown = {"".join(t.itertext()) for t in root.iter(SVG + "text")}
    # On hover, each value's tooltip starts with its label too.
    tooltips = [a.get("{http://www.w3.org/1999/xlink}title") for a in root.iter(SVG + "a")]
    for label in HOSTILE + ["<<TABLE>>"]:
        written = label.replace("\n", "\\n").replace("\x00", "\\x00")  # one visible line
        assert written in shown, f"{label!r} is not shown as text"
        assert any(t.startswith(f"{written} (") for t in tooltips), f"{label!r} not in a tooltip"
    assert "</TABLE><script>" in shown  # the title


# ---- collapsing and large graphs ------------------------------------------------------------
def layered_graph(layers, width, fan_in):
    """A network-shaped graph under layer and neuron scopes, as nn builds one."""
    x = [Value(float(i) / width, f"x{i}") for i in range(fan_in)]
    for l in range(layers):
        outs = []
        for n in range(width):
            w = [Value(0.01 * (k + 1), f"layers.{l}.neurons.{n}.w.{k}") for k in range(len(x))]
            for weight in w:  # as nn does: each parameter has its module's scope
                weight.scope = autograd.Scope(f"neurons.{n}", "neuron",
                                              autograd.Scope(f"layers.{l}", "layer"))
            with autograd.scope(f"layers.{l}", kind="layer"), \
                    autograd.scope(f"neurons.{n}", kind="neuron"):
                outs.append(autograd.dot(w, x).tanh())
        x = outs
    return autograd.sum(x)


def test_collapse_by_neuron_and_by_layer():
    out = layered_graph(layers=2, width=3, fan_in=2)
    out.backward()
    by_neuron, by_layer = draw(out, collapse="neuron"), draw(out, collapse="layer")
    assert len(re.findall(r'class="group neuron"', by_neuron.source)) == 6
    assert len(re.findall(r'class="group layer"', by_layer.source)) == 2
    # Every value has a box, and a parameter sits in its neuron's box.
    order = autograd.topological_order(out)
    w = next(i for i, v in enumerate(order) if v.label == "layers.1.neurons.2.w.0")
    assert by_neuron.ids[f"v{w}"] == by_neuron.ids[f"v{w + 1}"].split()[0]
    assert set(by_neuron.ids) == {f"v{i}" for i in range(len(order))} | {
        f"op{i}" for i, v in enumerate(order) if v.op is not None}
    x0 = next(i for i, v in enumerate(order) if v.label == "x0")
    assert by_neuron.ids[f"v{x0}"] == f"v{x0}"  # an input stays visible


def test_a_box_shows_its_output_or_how_many_it_has():
    out = layered_graph(layers=2, width=3, fan_in=2)
    out.backward()
    by_layer = draw(out, collapse="layer").source
    boxes = re.findall(r'^\t+(g\d+) \[label=<(.*)> id=', by_layer, re.M)
    assert len(boxes) == 2 and all("3 outputs" in label for _, label in boxes)
    # A neuron box shows its one output (the tanh, used by the next layer or the sum).
    order = autograd.topological_order(out)
    by_neuron = draw(out, collapse="neuron")
    for i, v in enumerate(order):
        if v.op is not None and v.op.name == "tanh":
            label = re.search(rf'^\t+{by_neuron.ids[f"v{i}"]} \[label=<(.*)> id=', by_neuron.source,
                              re.M).group(1)
            assert f"<TD>{v.data:.4g}</TD>" in label and "outputs" not in label


def test_ten_thousand_nodes_collapse_by_themselves():
    out = layered_graph(layers=4, width=50, fan_in=50)  # 4 * 50 neurons of 52 values
    out.backward()
    assert len(autograd.topological_order(out)) > 10_000
    drawing = draw(out)
    assert drawing.collapsed == "neuron"
    assert drawing.source.count('class="group neuron"') == 200


def test_ten_thousand_nodes_without_scopes_are_refused_with_advice():
    out = Value(0.0, "x")
    for _ in range(10_000):
        out = out + 1.0
    with pytest.raises(ValueError, match="more than max_nodes=500") as error:
        draw(out)
    assert "autograd.scope" in str(error.value) and "max_nodes=20001" in str(error.value)  # x, 10,000 ones and sums
    assert "table(root)" in str(error.value)
    # The table for the terminal runs no Graphviz and has no limit.
    out.backward()
    lines = table(out).splitlines()
    assert len(lines) == 1 + 20_001 and lines[-1].split()[-2:] == ["1e+04", "1"]


def test_the_table_is_the_drawings_text():
    out, _ = neuron()
    out.backward()
    with pytest.warns(UserWarning, match="collapse='neuron' does not apply"):
        collapsed = draw(out, collapse="neuron")
    assert table(out) == draw(out).text() == collapsed.text()
    with pytest.raises(TypeError, match="needs a Value, got list"):
        table([out])


@needs_dot
def test_collapsed_mlp_renders():
    nn = pytest.importorskip("nn")
    model = nn.MLP(3, [4, 4, 1], seed=0)
    out = model([0.5, -1.0, 2.0])
    out.backward()
    root = svg_of(draw(out, collapse="layer"))
    classes = [g.get("class") for g in root.iter(SVG + "g")]
    assert classes.count("node group layer") == 3


# ---- rendering, Jupyter, and no Graphviz ---------------------------------------------------
@needs_dot
def test_render_writes_each_format(tmp_path):
    drawing = draw(neuron()[0])
    assert drawing.render(tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert drawing.render(tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")
    ET.parse(drawing.render(tmp_path / "g.svg"))
    assert drawing.render(tmp_path / "g.dot").read_text() == drawing.source
    with pytest.raises(ValueError, match="cannot tell the format"):
        drawing.render(tmp_path / "g.jpg")
    with pytest.raises(ValueError, match="svg, png, pdf"):
        drawing.pipe("gif")


def test_without_dot_the_source_still_works_and_render_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no `dot` on it
    drawing = draw(hostile_graph())
    assert drawing.source.startswith("digraph")
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz"):
        drawing.render(tmp_path / "g.svg")
    bundle, _ = drawing._repr_mimebundle_()  # the table and the hint: test_notebook_display
    assert "image/png" not in bundle and "Install Graphviz" in bundle["text/plain"]


def test_text_table():
    out, _ = neuron()
    lines = draw(out).text().splitlines()
    assert len(lines) == 1 + 6 and lines[0].split() == ["id", "label", "computed", "as", "data", "grad"]
    assert lines[-1].split()[:2] == ["v5", "tanh(v4)"] and lines[-1].endswith("not computed")
    out.backward()
    data, grad = draw(out).text().splitlines()[1].split()[-2:]
    assert (float(data), float(grad)) == (2.0, -1.5)
    assert math.isclose(float(draw(out).text().splitlines()[-1].split()[-2]), 1 / math.sqrt(2),
                        rel_tol=1e-3)


@pytest.mark.parametrize("kwargs, message", [
    ({"rankdir": "XY"}, "rankdir"), ({"show": "data+label"}, "show"), ({"color": "data"}, "color"),
    ({"collapse": "module"}, "collapse"), ({"max_nodes": 0}, "max_nodes"),
    ({"max_nodes": True}, "max_nodes"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        draw(Value(1.0), **kwargs)


def test_draw_needs_a_value():
    with pytest.raises(TypeError, match="needs a Value, got float"):
        draw(1.0)


def test_edges_into_max_are_numbered_because_the_first_of_equals_takes_the_gradient():
    a, b = Value(2.0, "a"), Value(2.0, "b")
    out = autograd.max([a, b, 1.0])
    source = autograd.draw(out).source
    edges = re.findall(r"(v\d+) -> op3 \[label=(a\d)", source)
    assert edges == [("v0", "a1"), ("v1", "a2"), ("v2", "a3")]


def test_edge_labels_use_the_op_tables_input_names():
    # pow's constant exponent is n (as in the formulas and the stepper); powv's is b.
    x, y = Value(3.0, "x"), Value(2.0, "y")
    for out, op_id, names in [(x ** 2, "op2", ["a", "n"]), (x ** y, "op2", ["a", "b"]),
                              (x - y, "op2", ["a", "b"]), (x / 2, "op2", ["a", "b"])]:
        edges = re.findall(rf"(v\d+) -> {op_id} \[label=(\w+)", draw(out).source)
        assert [label for _, label in edges] == names
    w = [Value(1.0, "w1"), Value(2.0, "w2")]
    out = autograd.dot(w, [x, y], Value(0.5, "b"))
    edges = re.findall(r"(v\d+) -> op5 \[label=(\w+)", draw(out).source)
    assert edges == [("v0", "w0"), ("v1", "w1"), ("v2", "x0"), ("v3", "x1"), ("v4", "b")]
    # Where the order does not matter (a + b, a * b) the edges carry no label.
    assert "label=a" not in draw(x * y + x).source


# ---- levels of detail: frames, shared tensors, order, and collapses that cannot apply --------
def rnn_loss(nn, steps=3):
    import numpy as np

    rnn = nn.RNN(2, 3, seed=0)  # a bare RNN: its weights are parameters all the same
    loss = autograd.sum(rnn(np.ones((steps, 2)))[-1])
    loss.backward()
    return rnn, loss


def test_a_collapse_that_cannot_apply_warns_naming_the_groups_there_are():
    nn = pytest.importorskip("nn")
    _, loss = rnn_loss(nn)
    with pytest.warns(UserWarning, match=r"collapse='neuron' does not apply: the graph has no "
                                         r"neuron groups; it has layer groups \(rnn\) and step "
                                         r"groups \(rnn.step.0, rnn.step.1, rnn.step.2\)"):
        drawing = draw(loss, collapse="neuron")
    assert drawing.collapsed is None


def test_shared_weights_are_one_box_each_with_one_edge_per_step():
    nn = pytest.importorskip("nn")
    rnn, loss = rnn_loss(nn)
    drawing = draw(loss, collapse="step")
    order = autograd.topological_order(loss)
    boxes = {name: {drawing.ids[f"v{i}"] for i, v in enumerate(order)
                    if v.op is None and v.label.startswith(name)}
             for name in ("weight_ih", "weight_hh", "bias")}
    assert all(len(box) == 1 for box in boxes.values())  # 6, 9 and 3 parameters: one box each
    source = drawing.source
    for (box,) in boxes.values():
        assert re.search(rf'^\t+{box} \[.*class="group tensor param"', source, re.M)
        assert len(re.findall(rf"^\t+{box} -> g\d+", source, re.M)) == 3  # one per step
    assert "0 parameters" not in source  # a step holds no parameters of its own


def test_a_bare_rnns_and_convs_weights_are_parameters_at_every_level():
    nn = pytest.importorskip("nn")
    import numpy as np

    rnn, loss = rnn_loss(nn)
    weights = {id(p) for p in rnn.parameters()}
    for collapse in (None, "step", "layer"):
        drawing = draw(loss, collapse=collapse)
        for i, v in enumerate(autograd.topological_order(loss)):
            if id(v) in weights:
                box = drawing.ids[f"v{i}"]
                cls = re.search(rf'^\t+{box} \[.*class="([^"]*)"', drawing.source, re.M).group(1)
                assert "param" in cls.split() or "layer" in cls.split(), (collapse, v.label, cls)
    conv = nn.Conv2d(1, 1, 2, seed=0)
    out = autograd.sum(conv(np.ones((1, 3, 3)))[0][0])
    source = draw(out).source
    assert 'class="group tensor param"' in source and 'class="value input"' not in source


@needs_dot
def test_a_layers_neurons_are_drawn_in_order_inside_its_frame():
    nn = pytest.importorskip("nn")
    model = nn.MLP(3, [8, 8, 1], seed=0)
    out = model([0.5, -1.0, 2.0])
    out.backward()
    root = svg_of(draw(out, collapse="neuron"))
    frames = [g for g in root.iter(SVG + "g") if "scope" in g.get("class", "").split()]
    assert sorted("".join(f.find(SVG + "text").itertext()) for f in frames) == [
        "layers.0", "layers.1", "layers.2"]
    columns = {}
    for g in root.iter(SVG + "g"):
        if g.get("class") == "node group neuron":
            title = next(t for t in g.iter(SVG + "text") if t.get("font-weight") == "bold")
            columns.setdefault(float(title.get("x")), []).append(
                (float(title.get("y")), int(title.text.split(".")[1])))
    for column in columns.values():
        assert [n for _, n in sorted(column)] == sorted(n for _, n in column)  # top to bottom


def test_names_inside_a_frame_are_relative_to_it():
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [2, 1], seed=0)
    out = model([1.0, 2.0])
    source = draw(out).source
    assert "label=<neurons.0>" in source and "label=<layers.0>" in source
    assert "<TD>z</TD>" in source or ">z</TD>" in source
    assert "layers.0.neurons.0.z" in source  # still in the tooltip, in full
