"""Neuron, Layer, MLP and initializers: names, scopes, shapes, seeds, and the maths against numpy."""
import numpy as np
import pytest

import autograd
import nn
from autograd import Value


def numpy_mlp(model, x):
    """The same network, written with numpy from the model's numbers."""
    acts = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0), "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
            "linear": lambda z: z}
    a = np.asarray(x, dtype=float)
    for layer in model.layers:
        W = np.array([[w.data for w in n.w] for n in layer.neurons])
        b = np.array([n.b.data for n in layer.neurons])
        a = acts[layer.neurons[0].activation](W @ a + b)
    return a


def test_parameter_names_are_dotted_and_become_labels():
    model = nn.MLP(3, [4, 2], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert len(names) == 4 * (3 + 1) + 2 * (4 + 1) == len(model.parameters())
    assert names[:5] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.w.2",
                         "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]
    assert names[-1] == "layers.1.neurons.1.b"
    assert len(set(names)) == len(names)
    assert all(p.label == name for name, p in model.named_parameters())


def test_parameters_carry_their_modules_scope():
    model = nn.MLP(3, [4, 2], seed=0)
    p = dict(model.named_parameters())["layers.0.neurons.3.w.2"]
    assert p.scope.path == "layers.0.neurons.3"
    assert p.scope.enclosing("neuron").path == "layers.0.neurons.3"
    assert p.scope.enclosing("layer").path == "layers.0"


def test_nodes_made_by_a_neuron_carry_its_path():
    model = nn.MLP(3, [4, 2], seed=0)
    outs = model([1.0, -2.0, 0.5])
    order = autograd.topological_order(autograd.sum(outs))
    made = [v for v in order if v.op is not None and v.op.name == "dot"]
    assert len(made) == 6
    paths = sorted(v.scope.path for v in made)
    assert paths == sorted([f"layers.0.neurons.{j}" for j in range(4)] + [f"layers.1.neurons.{j}" for j in range(2)])
    for v in made:
        assert v.scope.enclosing("neuron") is v.scope
        assert v.scope.enclosing("layer").path == v.scope.path.rsplit(".neurons", 1)[0]
        # the weights a dot node reads belong to the same neuron
        n = len(v.parents) // 2
        assert {w.scope.path for w in v.parents[:n]} == {v.scope.path}


def test_pre_activation_is_one_dot_node_and_inputs_are_shared():
    layer = nn.Layer(5, 3, activation="tanh", seed=1)
    outs = layer([0.1, 0.2, 0.3, 0.4, 0.5])
    dots = [o.parents[0] for o in outs]
    assert all(d.op.name == "dot" and len(d.parents) == 11 for d in dots)
    inputs = [d.parents[5:10] for d in dots]
    assert all(a is b for a, b in zip(inputs[0], inputs[1])) and all(a is b for a, b in zip(inputs[0], inputs[2]))
    assert all(not x.requires_grad for x in inputs[0])


def test_layer_always_returns_a_list_and_mlp_a_value_for_one_output():
    assert isinstance(nn.Layer(2, 1, seed=0)([1, 2]), list)
    assert isinstance(nn.MLP(2, [3, 1], seed=0)([1, 2]), Value)
    out = nn.MLP(2, [3, 4], seed=0)([1, 2])
    assert isinstance(out, list) and len(out) == 4


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_forward_matches_numpy(activation):
    model = nn.MLP(4, [6, 5, 3], activation=activation, output_activation="sigmoid", init="xavier", seed=3)
    x = np.array([0.3, -1.2, 2.0, 0.7])
    got = [o.data for o in model(x)]
    np.testing.assert_allclose(got, numpy_mlp(model, x), rtol=1e-13, atol=1e-15)


def test_gradients_match_central_differences_of_numpy():
    model = nn.MLP(3, [4, 1], activation="tanh", init="xavier", seed=5)
    x = [0.5, -0.4, 1.1]
    out = model(x)
    out.backward()
    h = 1e-6
    for p in model.parameters():
        keep = p.data
        p.data = keep + h
        up = numpy_mlp(model, x)[0]
        p.data = keep - h
        down = numpy_mlp(model, x)[0]
        p.data = keep
        assert p.grad == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9)


def test_same_seed_same_model_different_seed_different_model():
    a = nn.MLP(3, [4, 2], init="he", seed=7).state_dict()
    b = nn.MLP(3, [4, 2], init="he", seed=7).state_dict()
    c = nn.MLP(3, [4, 2], init="he", seed=8).state_dict()
    assert a == b and a != c
    # the numbers are numpy's PCG64 draws, row j being neuron j
    rng = np.random.default_rng(7)
    expected = rng.normal(0, np.sqrt(2 / 3), size=(4, 3))
    assert [a[f"layers.0.neurons.1.w.{i}"] for i in range(3)] == expected[1].tolist()


def test_initializer_ranges_and_spreads():
    rng = np.random.default_rng(0)
    u = nn.init.uniform(300, 200, rng)
    assert u.shape == (200, 300) and u.min() >= -1 and u.max() <= 1 and u.max() > 0.99
    x = nn.init.xavier(300, 200, rng)
    limit = np.sqrt(6 / 500)
    assert np.abs(x).max() <= limit and np.abs(x).max() > 0.99 * limit
    h = nn.init.he(400, 400, rng)
    assert h.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert all(p.data == 0.0 for p in nn.Layer(3, 2, seed=0).parameters() if p.label.endswith(".b"))


def test_neuron_with_given_weights():
    n = nn.Neuron(2, "sigmoid", weights=[0, 1], bias=4)
    assert n([2, 3]).data == pytest.approx(0.9990889488055994, abs=1e-15)
    assert [p.label for p in n.parameters()] == ["w.0", "w.1", "b"]


def test_clear_errors():
    with pytest.raises(ValueError, match="expects 3 inputs, got 2"):
        nn.MLP(3, [2], seed=0)([1, 2])
    with pytest.raises(ValueError, match="unknown activation 'softsign'"):
        nn.Neuron(2, "softsign")
    with pytest.raises(ValueError, match="positive int"):
        nn.MLP(0, [2])
    with pytest.raises(TypeError, match="list of layer sizes"):
        nn.MLP(2, 3)
    with pytest.raises(ValueError, match="unknown initializer"):
        nn.Layer(2, 2, init="zeros")
    with pytest.raises(TypeError, match="list of 2 inputs"):
        nn.Layer(2, 2, seed=0)("ab")
    with pytest.raises(ValueError, match="1-D array"):
        nn.Layer(2, 2, seed=0)(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="real number"):
        nn.Layer(2, 2, seed=0)([1, "x"])
    with pytest.raises(TypeError, match="seed should be"):
        nn.MLP(2, [2], seed="abc")


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.MLP("2", [3]), TypeError, r"MLP\(nin\) should be a positive int, got '2' \(str\)"),
    (lambda: nn.MLP(2, [3.0]), TypeError, r"each MLP layer size should be a positive int, got 3.0"),
    (lambda: nn.MLP(2, [3, 0]), ValueError, r"each MLP layer size should be a positive int, got 0"),
    (lambda: nn.MLP(2, []), ValueError, "at least one layer size"),
    (lambda: nn.MLP(2, "31"), TypeError, "list of layer sizes"),
    (lambda: nn.Layer(2, True), TypeError, r"Layer\(nout\) should be a positive int, got True"),
    (lambda: nn.Neuron(-1), ValueError, r"Neuron\(nin\) should be a positive int, got -1"),
    (lambda: nn.Neuron(2, activation=None), TypeError, "activation should be a name"),
    (lambda: nn.Layer(2, 2, init=3), TypeError, "init should be a name"),
])
def test_wrong_types_are_type_errors_and_wrong_values_value_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
    assert nn.MLP(np.int64(2), [np.int32(3)], seed=0).sizes == [3]  # numpy ints are ints
