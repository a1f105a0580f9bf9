"""The groups of a graph (scopes and parameter tensors), and the names nn gives what it makes.

(What the player shows for a closed group is tested in the browser: tests/test_player_html.py.)
"""
import numpy as np
import pytest

import autograd
import nn
from autograd import Value
from autograd.groups import TENSOR, describe_kinds, group_tree


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
    # the loss is a group of its own (nn's losses build in their scope), outside the network
    assert tree.groups[tree.group_of[-1]].path == "mse" and order[-1].label == "loss"
    assert tree.groups[tree.group_of[-1]].kind == "loss" and by_path["mse"].parent is None
    # children come in the order they were made
    layer0 = by_path["layers.0"]
    assert [tree.groups[c].name for c in layer0.children] == [
        "neurons.0", "neurons.1", "neurons.2"]
    assert tree.kinds() == {"layer": ["layers.0", "layers.1"], "neuron": [
        "layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2", "layers.1.neurons.0"],
        "loss": ["mse"]}


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
