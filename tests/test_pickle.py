"""Copy and pickle: graphs and models travel to other processes (multiprocessing, joblib) and
copy at any depth, and what arrives works: an unpickled graph runs backward to the same
gradients, a copied model trains without moving the original, shared parameters stay shared.

Pickle is a transport here, never a file format: models are saved as JSON (`Module.save`).
"""
import copy
import math
import multiprocessing
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import OPS, Value
from autograd.ops import Call, Op, registered
from autograd.testing import expressions

DEEP = 10**5


def copies(thing) -> list:
    """`thing` through pickle and through copy.deepcopy."""
    return [pickle.loads(pickle.dumps(thing, pickle.HIGHEST_PROTOCOL)), copy.deepcopy(thing)]


def same(a, b) -> bool:
    """Equal numbers, nan equal to nan."""
    return a == b or (a != a and b != b)


def assert_same_graph(twin: Value, root: Value) -> None:
    """`twin` is a copy of `root`'s whole graph: node for node the same numbers, grads, ops,
    labels and shape, and no node of it is one of `root`'s."""
    nodes, originals = autograd.topological_order(twin), autograd.topological_order(root)
    assert len(nodes) == len(originals)
    index = {id(node): i for i, node in enumerate(nodes)}
    index_of_original = {id(node): i for i, node in enumerate(originals)}
    for node, original in zip(nodes, originals):
        assert node is not original and id(node) not in index_of_original
        assert same(node.data, original.data) and node.op is original.op
        assert (node.label, node.requires_grad, node.scope) == (
            original.label, original.requires_grad, original.scope)
        assert same(node.grad, original.grad) or node.grad is original.grad is None
        assert [index[id(p)] for p in node.parents] == [index_of_original[id(p)]
                                                        for p in original.parents]


def backward_grads(root: Value) -> list:
    """Every node's grad after `root.backward()`, in topological order."""
    root.backward()
    return [node.grad for node in autograd.topological_order(root)]


# ---- graphs -------------------------------------------------------------------------------------
def test_a_graph_100000_nodes_deep_pickles_copies_and_runs_backward():
    # No recursion limit is raised: pickle and deepcopy must not recurse once per node.
    x, w = Value(0.5, "x"), Value(-0.25, "w")
    y = x
    for _ in range(DEEP // 3 + 1):  # three nodes a step
        y = (y * w + x).tanh()
    assert len(autograd.topological_order(y)) > DEEP
    twins = copies(y)
    for twin in twins:
        assert_same_graph(twin, y)
    expected = backward_grads(y)
    leaves = (x.grad, w.grad)
    for twin in twins:
        assert backward_grads(twin) == expected  # bit for bit: the same graph, the same order
    assert (x.grad, w.grad) == leaves  # the copies' passes went to the copies' leaves


@pytest.mark.parametrize("name", sorted(OPS))
@settings(max_examples=5)
@given(data=st.data())
def test_every_op_travels_by_name_and_arrives_as_the_tables_record(name, data):
    expr = data.draw(expressions(n_inputs=2, max_ops=3, ops=[name]), label="expression")
    root = expr(*[Value(x, f"x{i}") for i, x in enumerate(expr.inputs)])
    twins = copies(root)
    for twin in twins:
        assert_same_graph(twin, root)  # each node's op *is* the table's record
    expected = backward_grads(root)
    for twin in twins:
        assert all(map(same, backward_grads(twin), expected))


@given(expressions(n_inputs=3, max_ops=8))
def test_random_expressions_copied_before_and_after_backward(expr):
    root = expr(*[Value(x, f"x{i}") for i, x in enumerate(expr.inputs)])
    before = copies(root)
    expected = backward_grads(root)
    for twin in before:
        assert all(map(same, backward_grads(twin), expected))
    for twin in copies(root):  # grads travel too
        assert_same_graph(twin, root)


def test_outputs_sharing_a_graph_keep_sharing_it():
    # An RNN's states all hang from one graph: copied together, each node is copied once, and
    # the last state's graph goes through the very copies of the earlier states.
    rnn = nn.RNN(2, 3, seed=0)
    states = rnn([[0.5, -1.0], [0.25, 0.75], [1.0, 0.0]])
    flat = [h for step in states for h in step]

    def nodes(values):
        return {id(n): n for v in values for n in autograd.topological_order(v)}

    for twin in copies(states):
        twin_flat = [h for step in twin for h in step]
        assert len(nodes(twin_flat)) == len(nodes(flat))
        behind_last = nodes(twin[-1])
        assert all(id(h) in behind_last for h in twin[0])


def test_a_model_and_its_graph_copied_together_share_the_copied_parameters():
    model = nn.MLP(2, [3, 1], seed=0)
    loss = nn.mse([model([1.0, -0.5]), model([0.25, 2.0])], [1.0, 0.0])
    for twin_model, twin_loss in copies((model, loss)):
        leaves = {id(v) for v in autograd.topological_order(twin_loss) if v.is_leaf}
        assert all(id(p) in leaves for p in twin_model.parameters())
        twin_loss.backward()
        assert all(p.grad is None for p in model.parameters())
    loss.backward()
    assert [p.grad for p in twin_model.parameters()] == [p.grad for p in model.parameters()]


def test_second_derivatives_travel_with_their_graph():
    a = Value(0.3, "a")
    f = (a * a).sin() * a
    f.backward(create_graph=True)  # a.grad is a Value built from the graph
    second = -4 * 0.3**3 * math.sin(0.09) + 6 * 0.3 * math.cos(0.09)  # d²/da² sin(a²)·a
    for twin_a, twin_f in copies((a, f)):
        assert isinstance(twin_a.grad, Value) and twin_a.grad.data == a.grad.data
        (d2,) = autograd.gradients(twin_a.grad, [twin_a])
        assert d2 == autograd.gradients(a.grad, [a])[0] == pytest.approx(second, rel=1e-12)


def test_a_shallow_copy_is_a_new_node_with_the_same_parents():
    x = Value(2.0, "x")
    y = x * 3.0
    twin = copy.copy(y)
    assert twin is not y and twin.parents == y.parents and twin.op is y.op and twin.data == 6.0


def test_an_op_missing_from_the_receiving_table_is_named():
    square = Op("square", "square", Call(1), lambda a: a * a, lambda out, a: (2 * a,), np.square,
                ("2a",))
    x = Value(3.0, "x")
    with registered(square):
        y = autograd.square(x)
        sent = pickle.dumps(y)
        assert pickle.loads(sent).data == 9.0
    with pytest.raises(pickle.UnpicklingError, match="uses op 'square', which this process's op "
                                                     "table does not have: register"):
        pickle.loads(sent)
    with pytest.raises(pickle.PicklingError, match="op 'square' is not in the op table"):
        pickle.dumps(y)
    assert copy.deepcopy(y).op is square  # a copy in this process keeps its record


# ---- models -------------------------------------------------------------------------------------
MODELS = {
    "MLP": (lambda: nn.MLP(2, [4, 4, 1], activation="relu", seed=0), [0.5, -1.5]),
    "RNN": (lambda: nn.RNN(2, 3, seed=1), [[0.5, -1.0], [2.0, 0.25]]),
    "Conv2d": (lambda: nn.Conv2d(1, 2, 2, seed=2), [[[0.5, -1.0, 2.0], [1.0, 0.0, -0.5],
                                                     [0.25, 1.5, -2.0]]]),
    "Sequential": (lambda: nn.Sequential(conv=nn.Conv2d(1, 2, 2, seed=3), relu=nn.ReLU(),
                                         pool=nn.MaxPool2d(2), flat=nn.Flatten(),
                                         out=nn.MLP(2, [1], seed=4)),
                   [[[0.5, -1.0, 2.0], [1.0, 0.0, -0.5], [0.25, 1.5, -2.0]]]),
}


def total(outputs) -> Value:
    """The sum of a model's outputs however they nest: something to differentiate."""
    if isinstance(outputs, Value):
        return outputs
    return autograd.sum([total(o) for o in outputs])


def sgd_step(model, x) -> None:
    model.zero_grad()
    total(model(x)).backward()
    with autograd.no_grad():
        for p in model.parameters():
            p.data -= 0.1 * p.grad


@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_copy_whole_and_independent(name):
    make, x = MODELS[name]
    model = make()
    before = model.state_dict()
    for twin in copies(model):
        assert type(twin) is type(model) and repr(twin) == repr(model)
        assert not any(a is b for a, b in zip(twin.parameters(), model.parameters()))
        assert twin.state_dict() == before  # other Values, with the same names and numbers
        assert all(a.scope == b.scope for a, b in zip(twin.parameters(), model.parameters()))
        assert total(twin(x)).data == total(model(x)).data
        sgd_step(twin, x)  # training the copy leaves the original where it was
        assert model.state_dict() == before and twin.state_dict() != before
    twin = copy.deepcopy(model)
    sgd_step(model, x)  # and the other way round
    assert twin.state_dict() == before


class Tied(nn.Module):
    """One layer used twice, and one weight held in two places."""

    def __init__(self):
        self.layer = nn.Layer(2, 2, seed=0)
        self.again = self.layer
        self.scale = self.layer.neurons[0].w[0]

    def __call__(self, x):
        return self.again(self.layer(x))


def test_shared_parameters_stay_shared_inside_the_copy():
    model = Tied()
    for twin in copies(model):
        assert twin.again is twin.layer and twin.layer is not model.layer
        assert twin.scale is twin.layer.neurons[0].w[0]
        assert len(twin.parameters()) == len(model.parameters()) == 6
        assert [n for n, _ in twin.named_parameters()] == [n for n, _ in model.named_parameters()]


def test_losses_travel_by_name_and_plain_functions_by_reference():
    for loss in (nn.hinge, nn.cross_entropy, nn.mse):
        assert all(twin is loss for twin in copies(loss))
    custom = nn.Loss(total_loss, threshold=0.5)
    for twin in copies(custom):
        assert twin.function is total_loss and twin.threshold == 0.5


def total_loss(outputs, targets) -> Value:
    """A user's own loss function, for the test above."""
    return nn.mse(outputs, targets) * 2


# ---- other processes ---------------------------------------------------------------------------
def gradients_in_a_worker(model, X, y) -> list[float]:
    """In the child: build the loss on the model received, backward, return its gradients."""
    loss = nn.hinge([model(x) for x in X], y)
    loss.backward()
    return [p.grad for p in model.parameters()]


def backward_in_a_worker(loss: Value) -> list:
    """In the child: backward on a graph received whole; every node's grad."""
    return backward_grads(loss)


def test_a_spawned_process_receives_a_model_and_a_graph_and_returns_gradients():
    model = nn.MLP(2, [4, 1], seed=0)
    X, labels = nn.make_moons(8, noise=0.1, seed=0)
    y = 2.0 * labels - 1.0
    loss = nn.hinge([model(x) for x in X], y)
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # a fresh interpreter: pickle only
        from_model = pool.apply(gradients_in_a_worker, (model, X, y))
        from_graph = pool.apply(backward_in_a_worker, (loss,))
    expected = backward_grads(loss)
    assert from_graph == expected
    assert from_model == [p.grad for p in model.parameters()]
