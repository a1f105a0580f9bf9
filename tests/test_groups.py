"""The groups of a graph (scopes and parameter tensors) and the summaries of a group's steps.

Every number in a summary must be one the steps computed: the tests read them back from
`walk.state(...)`, and the runs must cover exactly the steps of the nodes inside the group.
"""
import numpy as np
import pytest

import autograd
import nn
from autograd import Value
from autograd.groups import TENSOR, describe_kinds, group_tree
from autograd.steps import fmt
from autograd.summaries import group_runs


def mlp_loss(sizes=(3, 1), sample=(0.5, -1.0)):
    model = nn.MLP(2, list(sizes), seed=0)
    return model, nn.mse(model(list(sample)), 1.0)


def test_an_mlps_groups_are_its_layers_neurons_and_weight_vectors():
    model, loss = mlp_loss()
    order = autograd.topological_order(loss)
    tree = group_tree(order)
    by_path = {g.path: g for g in tree.groups}
    assert {g.path for g in tree.groups if g.kind == "layer"} == {"layers.0", "layers.1"}
    assert {g.path for g in tree.groups if g.kind == "neuron"} == {
        "layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2", "layers.1.neurons.0"}
    w = by_path["layers.1.neurons.0.w"]
    assert w.kind == TENSOR and w.shape == (3,) and not w.shared  # each weight read once
    assert tree.groups[w.parent].path == "layers.1.neurons.0"
    assert by_path["layers.0.neurons.2"].parent == by_path["layers.0"].index
    # every parameter is a parameter, and in its neuron (a weight through its vector)
    params = {id(p) for p in model.parameters()}
    assert tree.parameters == {i for i, v in enumerate(order) if id(v) in params}
    for i, v in enumerate(order):
        if id(v) in params:
            chain = [tree.groups[g].path for g in tree.ancestors(tree.group_of[i])]
            assert v.label.rsplit(".", 2 if v.label.split(".")[-2] == "w" else 1)[0] in chain
    # the loss is made outside every scope, as are the inputs
    assert tree.group_of[-1] is None
    # children come in the order they were made
    layer0 = by_path["layers.0"]
    assert [tree.groups[c].name for c in layer0.children] == [
        "neurons.0", "neurons.1", "neurons.2"]
    assert tree.kinds() == {"layer": ["layers.0", "layers.1"], "neuron": [
        "layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2", "layers.1.neurons.0"]}


def test_an_rnns_weights_are_shared_tensors_in_its_scope():
    rnn = nn.RNN(2, 3, seed=0)  # bare: its own scope, "rnn"
    loss = autograd.sum(rnn(np.ones((4, 2)))[-1])
    tree = group_tree(autograd.topological_order(loss))
    tensors = {g.name: g for g in tree.groups if g.kind == TENSOR}
    assert {name: (g.shape, g.shared) for name, g in tensors.items()} == {
        "weight_ih": ((3, 2), True), "weight_hh": ((3, 3), True), "bias": ((3,), True)}
    assert {tree.groups[g.parent].path for g in tensors.values()} == {"rnn"}
    steps = [g.path for g in tree.groups if g.kind == "step"]
    assert steps == ["rnn.step.0", "rnn.step.1", "rnn.step.2", "rnn.step.3"]
    assert describe_kinds(tree) == ("layer groups (rnn) and step groups (rnn.step.0, "
                                    "rnn.step.1, rnn.step.2, ... (4 in all))")


def test_labels_that_look_like_tensors_do_not_make_inputs_parameters():
    x1, x2 = Value(1.0, "x.1"), Value(2.0, "x.2")  # inputs (no scope), named like a vector
    tree = group_tree(autograd.topological_order(x1 * x2))
    assert tree.groups == () and tree.parameters == frozenset()
    assert describe_kinds(tree).startswith("no groups")
    with_params = group_tree(autograd.topological_order(x1 * x2), params=[x1, x2])
    assert [(g.kind, g.path, g.shape) for g in with_params.groups] == [(TENSOR, "x", (3,))]


def test_runs_cover_each_groups_steps_and_summaries_read_the_recorded_numbers():
    _, loss = mlp_loss(sizes=(4, 1))
    walk = autograd.backprop_steps(loss)
    tree = group_tree(autograd.topological_order(loss))
    runs = group_runs(walk, tree)
    for g in tree.groups:
        inside = set(tree.nodes_in(g.index))
        mine = [r for r in runs if r.group == g.index]
        covered = sorted(k for r in mine for k in range(r.first, r.last + 1))
        expected = [s.index for s in walk if s.kind in ("forward", "backward")
                    and s.node in inside]
        assert covered == expected, g.path
        for r in mine:
            assert {walk[k].phase for k in range(r.first, r.last + 1)} == {r.phase}
    layer = next(g for g in tree.groups if g.path == "layers.0")
    backward = next(r for r in runs if r.group == layer.index and r.phase == "backward")
    assert not backward.by_steps
    (table,) = backward.tables  # its inputs are constants: it sends nothing back
    assert table.columns == ("neuron", "grad out", "grad z")  # in the order they are reached
    state = walk.state(backward.last)
    label = {n.label: n.index for n in walk.nodes}
    for row in table.rows:
        assert row[1] == fmt(state.grad[label[f"layers.0.{row[0]}.out"]])
        assert row[2] == fmt(state.grad[label[f"layers.0.{row[0]}.z"]])
    forward = next(r for r in runs if r.group == layer.index and r.phase == "forward")
    before_backward = walk.state(forward.last)
    assert [row[2] for row in forward.tables[0].rows] == [
        fmt(before_backward.data[label[f"layers.0.neurons.{j}.out"]]) for j in range(4)]
    # a neuron (no child groups, two steps) is shown by its own steps
    neuron = next(g for g in tree.groups if g.path == "layers.1.neurons.0")
    assert all(r.by_steps for r in runs if r.group == neuron.index)


def test_a_layers_backward_summary_lists_what_it_sends_to_the_layer_before():
    _, loss = mlp_loss(sizes=(3, 2, 1))
    walk = autograd.backprop_steps(loss)
    tree = group_tree(autograd.topological_order(loss))
    layer = next(g for g in tree.groups if g.path == "layers.1")
    run = next(r for r in group_runs(walk, tree) if r.group == layer.index
               and r.phase == "backward")
    sent = run.tables[1]
    assert [row[0] for row in sent.rows] == [f"layers.0.neurons.{j}.out" for j in range(3)]
    label = {n.label: n.index for n in walk.nodes}
    before, after = walk.state(run.first - 1), walk.state(run.last)
    for name, was, now in sent.rows:
        assert (was, now) == (fmt(before.grad[label[name]]), fmt(after.grad[label[name]]))


@pytest.mark.parametrize("kind", ["neuron", "step", "layer"])
def test_nn_names_every_node_it_makes_after_its_module_and_role(kind):
    if kind == "step":
        model = nn.RNN(2, 2, seed=0)
        out = autograd.sum(model(np.ones((2, 2)))[-1])
        named = {v.label for v in autograd.topological_order(out) if v.op is not None}
        assert {"rnn.step.0.z.0", "rnn.step.0.h.1", "rnn.step.1.h.0"} <= named
    elif kind == "layer":
        model = nn.Sequential(conv1=nn.Conv2d(1, 2, 2, seed=0), relu1=nn.ReLU(),
                              pool=nn.MaxPool2d(2))
        out = model(np.ones((1, 3, 3)))
        assert out[1][0][0].label == "pool.out.1.0.0"
        assert out[1][0][0].parents[0].label == "relu1.out.1.0.0"
        assert out[1][0][0].parents[0].parents[0].label == "conv1.out.1.0.0"
    else:
        model = nn.MLP(2, [2, 1], activation="tanh", seed=0)
        out = model([1.0, 2.0])
        assert out.label == "layers.1.neurons.0.out"  # linear: the pre-activation is the output
        hidden = out.parents[2]  # w0, w1, x0, x1, b: x0 is neuron 0's output
        assert hidden.label == "layers.0.neurons.0.out"
        assert hidden.parents[0].label == "layers.0.neurons.0.z"
    with autograd.no_grad():  # evaluation makes constants: nothing is named
        assert nn.MLP(2, [1], seed=0)([1.0, 2.0]).label == ""
