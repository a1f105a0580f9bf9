"""nn.to_torch, nn.from_torch, nn.torch_code and nn.torch_names: the same network in PyTorch.

Random models of every covered layer type (Hypothesis draws the sizes, a seed draws the
numbers, every parameter included, biases too) compute the same outputs, the same parameter
gradients and the same input gradients in glassgrad (one sample at a time, on Values) and in
PyTorch (a batch, float64), to 1e-12; so do the demos' whole models. Errors name the layer,
its path and the option.
"""
import math
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import autograd
import nn
from autograd import Value
from nn.blueprint import correspondence
from nn.shapes import flat, mapped
from nn.torch_layers import RNNStates
from tests.bridge_cases import models, randomized

TOLERANCE = dict(rtol=1e-12, atol=1e-12)


# ---- the harness: one loss, both engines ------------------------------------------------------
def glassgrad_run(model, X, C):
    """Outputs (batch, n), {name: grad} and the input grads of sum(C * outputs), sample by sample."""
    model.zero_grad()
    inputs = [mapped(lambda x: Value(x), x) for x in X.tolist()]
    outs = [model(x) for x in inputs]
    rows = [flat(out) if isinstance(out, list) else [out] for out in outs]
    autograd.sum([autograd.dot(list(c), row) for c, row in zip(C.tolist(), rows)]).backward()
    grads = {name: value.grad for name, value in model.named_parameters()}
    input_grads = np.array([[0.0 if v.grad is None else v.grad for v in flat(x)] for x in inputs])
    return np.array([[v.data for v in row] for row in rows]), grads, input_grads.reshape(X.shape)


def torch_run(module, X, C, **kwargs):
    x = torch.tensor(X, requires_grad=True)
    out = module(x, **kwargs)
    out = out.reshape(len(X), -1)
    (out * torch.from_numpy(C)).sum().backward()
    return out.detach().numpy(), x.grad.numpy()


def assert_same(model, module, X, seed=0):
    """glassgrad `model` and torch `module` agree on outputs, every parameter's gradient (by
    `correspondence`) and the inputs' gradients; an RNN's bias_hh_l0 gets bias_ih_l0's gradient."""
    rng = np.random.default_rng(seed)
    first = model(X[0].tolist())
    C = rng.normal(size=(len(X), len(flat(first)) if isinstance(first, list) else 1))
    out, grads, input_grads = glassgrad_run(model, X, C)
    module.zero_grad()
    torch_out, torch_input_grads = torch_run(module, X, C)
    np.testing.assert_allclose(torch_out, out, **TOLERANCE)
    np.testing.assert_allclose(torch_input_grads, input_grads, **TOLERANCE)
    pairs = correspondence(model)
    assert set(pairs) == set(grads)
    torch_grads = {name: p.grad for name, p in module.named_parameters()}
    for name, (tensor, index) in pairs.items():
        assert torch_grads[tensor][index].item() == pytest.approx(grads[name], rel=1e-12, abs=1e-12), name
    for tensor in torch_grads:
        if tensor.endswith("bias_hh_l0"):
            np.testing.assert_allclose(torch_grads[tensor].numpy(),
                                       torch_grads[tensor.replace("_hh_", "_ih_")].numpy(), **TOLERANCE)


@given(models(), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_to_torch_computes_the_same_outputs_and_gradients(case, batch, seed):
    model, sample = case
    randomized(model, seed)
    X = np.random.default_rng(seed + 1).normal(size=(batch, *sample))
    module = nn.to_torch(model)
    assert all(p.dtype == torch.float64 for p in module.parameters())
    assert_same(model, module, X, seed)


@given(models(), st.integers(0, 2**32 - 1))
def test_to_torch_copies_every_number_once_and_names_say_where(case, seed):
    model, _ = case
    randomized(model, seed)
    state = nn.to_torch(model).state_dict()
    pairs = correspondence(model)
    for name, number in model.state_dict().items():
        tensor, index = pairs[name]
        assert state[tensor][index].item() == number  # exactly: float64 both
    assert nn.torch_names(model) == {name: f"{t}[{', '.join(map(str, i))}]" for name, (t, i) in pairs.items()}
    # every tensor entry is a glassgrad parameter, except an RNN's bias_hh_l0 (fixed at 0)
    covered = sum(1 for tensor, _ in pairs.values() if not tensor.endswith("bias_hh_l0"))
    fixed = sum(v.numel() for k, v in state.items() if k.endswith("bias_hh_l0"))
    assert covered + fixed == sum(v.numel() for v in state.values())
    assert all(not v.any() for k, v in state.items() if k.endswith("bias_hh_l0"))


def test_names_read_as_the_seeds_and_pytorchs():
    mlp = nn.MLP(10, [5, 1], activation="relu", seed=0)
    names = nn.torch_names(mlp)
    assert names["layers.0.neurons.3.w.2"] == "fc1.weight[3, 2]"
    assert names["layers.1.neurons.0.b"] == "fc2.bias[0]"
    assert [name for name, _ in nn.to_torch(mlp).named_children()] == ["fc1", "relu1", "fc2"]
    cnn = nn.Sequential(conv1=nn.Conv2d(1, 2, 3, seed=0), relu1=nn.ReLU(), flatten=nn.Flatten(),
                        fc=nn.Layer(2, 3, "tanh", seed=0))
    names = nn.torch_names(cnn)
    assert names["conv1.weight.1.0.2.1"] == "conv1.weight[1, 0, 2, 1]"
    assert names["fc.neurons.2.w.1"] == "fc.weight[2, 1]"
    assert [n for n, _ in nn.to_torch(cnn).named_children()] == ["conv1", "relu1", "flatten", "fc", "fc_tanh"]
    rnn = nn.RNN(3, 2, seed=0)
    assert nn.torch_names(rnn)["bias.1"] == "bias_ih_l0[1]"
    assert nn.torch_names(rnn)["weight_hh.0.1"] == "weight_hh_l0[0, 1]"
    assert [n for n, _ in nn.to_torch(nn.Layer(2, 2, "relu")).named_children()] == ["fc", "relu"]


def test_an_rnn_with_h0_matches_pytorch_given_the_same_h0():
    rnn = randomized(nn.RNN(3, 4), 5)
    rng = np.random.default_rng(6)
    X, h0 = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4))
    module = nn.to_torch(rnn)
    got = module(torch.from_numpy(X), torch.from_numpy(h0)).detach().numpy()
    want = [[[v.data for v in state] for state in rnn(x, h0=h)] for x, h in zip(X, h0)]
    np.testing.assert_allclose(got, want, **TOLERANCE)
    plain = torch.nn.RNN(3, 4, batch_first=True).double()
    plain.load_state_dict(module.state_dict())
    np.testing.assert_allclose(plain(torch.from_numpy(X), torch.from_numpy(h0)[None])[0].detach().numpy(),
                               want, **TOLERANCE)


def test_dtype_float32_and_bad_dtypes():
    module = nn.to_torch(nn.MLP(2, [3, 1], seed=0), dtype=torch.float32)
    assert {p.dtype for p in module.parameters()} == {torch.float32}
    for bad in (torch.int64, "float64", np.float64):
        with pytest.raises(TypeError, match="floating torch dtype"):
            nn.to_torch(nn.MLP(2, [3, 1], seed=0), dtype=bad)


# ---- the demos' whole models ------------------------------------------------------------------
def test_the_seed_cnn_of_demos_cnn_is_the_same_in_pytorch():
    from demos.cnn import seed_cnn
    model = randomized(seed_cnn(), 3)  # 8 and 16 channels, 32 hidden: the demo's sizes
    X, _, _, _ = nn.digits()
    assert_same(model, nn.to_torch(model), X[:3] / 16 + np.random.default_rng(0).normal(0, 0.1, (3, 64)))


def test_the_rnn_of_demos_rnn_is_its_parts_in_pytorch():
    """SeedRNN is a custom Module (its __call__ reads the last state): to_torch says so, and its
    two layers, converted, give its outputs and gradients with seed 003's forward."""
    from demos.rnn import SeedRNN, remember_first
    model = randomized(SeedRNN(), 4)
    with pytest.raises(TypeError, match=r"the model \(SeedRNN\).*custom Module.*nn.to_torch\(layer\)"):
        nn.to_torch(model)

    class TorchSeedRNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.fc = nn.to_torch(model.rnn), nn.to_torch(model.fc)

        def forward(self, x):
            return self.fc(self.rnn(x)[:, -1])

    X, _ = remember_first(4, 5, seed=1)
    module = TorchSeedRNN()
    rng = np.random.default_rng(0)
    C = rng.normal(size=(4, 1))
    out, grads, input_grads = glassgrad_run(model, X, C)
    torch_out, torch_input_grads = torch_run(module, X, C)
    np.testing.assert_allclose(torch_out, out, **TOLERANCE)
    np.testing.assert_allclose(torch_input_grads, input_grads, **TOLERANCE)
    torch_grads = {name: p.grad for name, p in module.named_parameters()}
    for part in ("rnn", "fc"):
        for name, (tensor, index) in correspondence(getattr(model, part)).items():
            assert torch_grads[f"{part}.{tensor}"][index].item() == pytest.approx(
                grads[f"{part}.{name}"], rel=1e-12, abs=1e-12)


def test_the_demo_mlps_are_the_same_in_pytorch():
    moons = randomized(nn.MLP(2, [16, 16, 1], activation="relu", seed=0), 1)
    assert_same(moons, nn.to_torch(moons), nn.make_moons(20, noise=0.1, seed=0)[0])
    snippet = nn.MLP(10, [5, 1], activation="relu", init="xavier", seed=0)  # demos.torch_snippets
    assert_same(snippet, nn.to_torch(snippet), np.random.default_rng(2).normal(size=(6, 10)))


# ---- from PyTorch -----------------------------------------------------------------------------
@st.composite
def torch_models(draw):
    """A random torch.nn.Sequential of the layers from_torch takes (torch's own initialization,
    so an RNN has two non-zero biases), float64, and one sample's shape."""
    torch.manual_seed(draw(st.integers(0, 2**31 - 1)))
    kind = draw(st.sampled_from(["dense", "conv", "rnn"]))
    activation = draw(st.sampled_from([torch.nn.ReLU, torch.nn.Tanh, torch.nn.Sigmoid]))
    if kind == "dense":
        nin, hidden, out = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
        return torch.nn.Sequential(torch.nn.Linear(nin, hidden), activation(),
                                   torch.nn.Linear(hidden, out)).double(), (nin,)
    if kind == "conv":
        k, padding = draw(st.integers(1, 3)), draw(st.sampled_from([0, 1, "same", "valid"]))
        if padding == "same" and k % 2 == 0:
            padding = "valid"
        size = 5
        conv = torch.nn.Conv2d(2, 3, k, padding=padding)
        after = size if padding == "same" else size + 2 * (padding if isinstance(padding, int) else 0) - k + 1
        pooled = (after - 2) // 2 + 1
        return torch.nn.Sequential(OrderedDict([
            ("image", torch.nn.Unflatten(1, (2, size, size))), ("conv", conv), ("act", activation()),
            ("pool", torch.nn.MaxPool2d(2)), ("flatten", torch.nn.Flatten()),
            ("fc", torch.nn.Linear(3 * pooled * pooled, 2))])).double(), (2 * size * size,)
    inputs, hidden, steps = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return torch.nn.Sequential(RNNStates(inputs, hidden, batch_first=True), activation(),
                               torch.nn.Flatten(), torch.nn.Linear(steps * hidden, 2)).double(), (steps, inputs)


@given(torch_models(), st.integers(1, 3))
def test_from_torch_computes_the_same_outputs_and_gradients_and_keeps_names(case, batch):
    module, sample = case
    model = nn.from_torch(module)
    tensors = {name for name, _ in module.named_parameters()}
    assert {tensor for tensor, _ in correspondence(model).values()} == tensors - {
        n for n in tensors if n.endswith("bias_hh_l0")}
    X = np.random.default_rng(batch).normal(size=(batch, *sample))
    assert_same(model, module, X)
    back = nn.to_torch(model).state_dict()
    for name, tensor in module.state_dict().items():  # round trip: the same numbers, RNN biases summed
        if name.endswith("bias_ih_l0"):
            np.testing.assert_allclose(back[name], tensor + module.state_dict()[name.replace("_ih_", "_hh_")], **TOLERANCE)
        elif not name.endswith("bias_hh_l0"):
            assert torch.equal(back[name], tensor)


def test_from_torch_reads_float32_and_a_plain_rnn():
    rnn = torch.nn.RNN(3, 4, batch_first=True)  # float32, two biases
    model = nn.from_torch(rnn)
    assert type(model) is nn.RNN and [b.data for b in model.bias] == pytest.approx(
        (rnn.bias_ih_l0 + rnn.bias_hh_l0).tolist(), abs=1e-6)
    X = np.random.default_rng(0).normal(size=(2, 3, 3))
    want = rnn.double()(torch.from_numpy(X))[0].detach().numpy()
    got = [[[v.data for v in s] for s in model(x)] for x in X]
    np.testing.assert_allclose(got, want, **TOLERANCE)
    seq_first = nn.from_torch(torch.nn.RNN(3, 4))  # batch_first is the batch's layout, not the math
    assert type(seq_first) is nn.RNN


@pytest.mark.parametrize("module, says", [
    (torch.nn.RNN(3, 4, num_layers=2), ["the model (RNN)", "num_layers=2"]),
    (torch.nn.RNN(3, 4, bidirectional=True), ["the model (RNN)", "bidirectional=True"]),
    (torch.nn.RNN(3, 4, nonlinearity="relu"), ["nonlinearity='relu'"]),
    (torch.nn.RNN(3, 4, bias=False), ["bias=False"]),
    (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, dilation=2))),
     ["'1.0' (Conv2d)", "dilation=(2, 2)"]),
    (torch.nn.Conv2d(1, 2, 3, groups=1, padding_mode="reflect"), ["padding_mode='reflect'"]),
    (torch.nn.Conv2d(2, 2, 3, groups=2), ["groups=2"]),
    (torch.nn.Conv2d(1, 2, 2, padding="same"), ["padding='same'", "even kernel"]),
    (torch.nn.Conv2d(1, 2, 3, bias=False), ["bias=False"]),
    (torch.nn.Linear(2, 3, bias=False), ["the model (Linear)", "bias=False"]),
    (torch.nn.MaxPool2d(2, ceil_mode=True), ["ceil_mode=True"]),
    (torch.nn.MaxPool2d(3, padding=1), ["padding=(1, 1)"]),
    (torch.nn.MaxPool2d(2, dilation=2), ["dilation=(2, 2)"]),
    (torch.nn.Flatten(0), ["start_dim=0"]),
    (torch.nn.Unflatten(2, (2, 2)), ["dim=2"]),
    (torch.nn.Sequential(), ["empty Sequential"]),
])
def test_from_torch_names_unsupported_options(module, says):
    with pytest.raises(ValueError) as error:
        nn.from_torch(module)
    assert all(part in str(error.value) for part in says), str(error.value)


class Custom(torch.nn.Module):
    def forward(self, x):
        return x


class LoudLinear(torch.nn.Linear):
    def forward(self, x):
        return 2 * super().forward(x)


@pytest.mark.parametrize("module, says", [
    (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3)), "'1' (BatchNorm1d): glassgrad has no such layer"),
    (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout()), "'1' (Dropout)"),
    (torch.nn.LSTM(2, 3), "the model (LSTM)"),
    (torch.nn.Sequential(OrderedDict(block=torch.nn.Sequential(Custom()))), "'block.0' (Custom): its forward calls no layer"),
    (LoudLinear(2, 3), "the model (LoudLinear): a subclass of a PyTorch layer"),
])
def test_from_torch_names_unsupported_layers_by_path_and_type(module, says):
    with pytest.raises(TypeError, match="nn.from_torch cannot convert") as error:
        nn.from_torch(module)
    assert says in str(error.value)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_from_torch_refuses_a_weight_that_is_not_finite(bad):
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1))
    with torch.no_grad():
        net[2].weight[0, 1] = bad
    with pytest.raises(ValueError, match=rf"cannot convert 2\.weight\[0, 1\] = {bad!r}"):
        nn.from_torch(net)


def test_from_torch_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match="takes a torch.nn.Module, got 3"):
        nn.from_torch(3)


# ---- what to_torch refuses --------------------------------------------------------------------
class TwoLayers(nn.Module):
    def __init__(self):
        self.a, self.b = nn.Layer(2, 2, seed=0), nn.Layer(2, 1, seed=1)

    def __call__(self, x):
        return self.b(self.a(x))


class Doubled(nn.Layer):
    def __call__(self, x):
        return [2 * v for v in super().__call__(x)]


def test_to_torch_names_custom_modules_subclasses_and_shared_weights():
    with pytest.raises(TypeError, match=r"'inner' \(TwoLayers\): it is a custom Module"):
        nn.to_torch(nn.Sequential(first=nn.Layer(2, 2), inner=TwoLayers()))
    with pytest.raises(TypeError, match=r"the model \(Doubled\): it is a subclass of a glassgrad layer"):
        nn.to_torch(Doubled(2, 2))
    shared = nn.Layer(2, 2, seed=0)
    with pytest.raises(ValueError, match="shares parameters: 'a.neurons.0.w.0' is in both a.weight and b.weight"):
        nn.to_torch(nn.Sequential(a=shared, b=shared))
    mixed = nn.Layer(2, 2, "relu", seed=0)
    mixed.neurons[1] = nn.Neuron(2, "tanh")
    with pytest.raises(ValueError, match="different activations"):
        nn.to_torch(mixed)
    with pytest.raises(ValueError, match="'fc_relu' would be used twice"):
        nn.to_torch(nn.Sequential(fc=nn.Layer(2, 2, "relu"), fc_relu=nn.ReLU()))
    with pytest.raises(TypeError, match="takes a glassgrad nn.Module"):
        nn.to_torch(torch.nn.Linear(2, 2))


# ---- torch_code -------------------------------------------------------------------------------
def run_code(code):
    """exec the code as a user would, with nothing of glassgrad in reach; its `model`."""
    assert "glassgrad" not in code.split("# glassgrad's weights")[0]
    namespace = {}
    exec(compile(code, "<torch_code>", "exec"), namespace)
    return namespace["model"]


@given(models(), st.integers(0, 2**32 - 1))
def test_torch_code_builds_the_same_network(case, seed):
    model, sample = case
    randomized(model, seed)
    built = run_code(nn.torch_code(model)).double()
    built.load_state_dict(nn.to_torch(model).state_dict())  # strict: the same names and shapes
    X = np.random.default_rng(seed).normal(size=(2, *sample))
    got = built(torch.from_numpy(X)).detach().numpy().reshape(2, -1)
    want = [[v.data for v in (flat(o) if isinstance(o, list) else [o])] for o in (model(x) for x in X)]
    np.testing.assert_allclose(got, want, **TOLERANCE)


def test_torch_code_reads_like_seed_003s_snippet():
    code = nn.torch_code(nn.MLP(10, [5, 1], activation="relu", seed=0))
    assert code.startswith("import torch\nimport torch.nn as nn\n\n\nclass MLP(nn.Module):\n")
    for line in ("        self.fc1 = nn.Linear(10, 5)", "        self.relu1 = nn.ReLU()",
                 "        self.fc2 = nn.Linear(5, 1)", "    def forward(self, x):",
                 "        x = self.fc1(x)", "        return x", "model = MLP()"):
        assert line + "\n" in code
    from demos.cnn import seed_cnn
    code = nn.torch_code(seed_cnn(), class_name="CNN")
    for line in ("class CNN(nn.Module):", "self.image = nn.Unflatten(1, (1, 8, 8))",
                 "self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)",
                 "self.pool1 = nn.MaxPool2d(kernel_size=2)", "self.flatten = nn.Flatten()",
                 "self.fc2 = nn.Linear(32, 10)"):
        assert line in code
    code = nn.torch_code(nn.Sequential(rnn=nn.RNN(10, 5), flatten=nn.Flatten(), fc=nn.Layer(15, 1)))
    assert "self.rnn = nn.RNN(10, 5, batch_first=True)" in code
    assert "x, _ = self.rnn(x)" in code and "RNNStates" not in code
    nested = nn.torch_code(nn.Sequential(nn.RNN(2, 3), nn.Tanh()))
    assert "class RNNStates(nn.RNN):" in nested and "from collections import OrderedDict" not in nested
    with pytest.raises(ValueError, match="class_name"):
        nn.torch_code(nn.MLP(2, [1]), class_name="not a name")


# ---- packaging ---------------------------------------------------------------------------------
def test_import_nn_does_not_import_torch_or_onnx():
    done = subprocess.run([sys.executable, "-c", "import sys, nn; nn.torch_code(nn.MLP(2, [1])); "
                           "print(sorted(m for m in ('torch', 'onnx', 'onnxruntime') if m in sys.modules))"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("call", [lambda: nn.to_torch(nn.MLP(2, [1])),
                                  lambda: nn.from_torch(None)])
def test_without_torch_the_error_says_what_to_install(monkeypatch, call):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(ImportError, match=r'needs PyTorch, which is not installed: pip install "glassgrad\[torch\]"'):
        call()


def test_the_snippets_demo_shows_the_generated_code_beside_the_articles(capsys):
    from demos import torch_snippets
    result = torch_snippets.main(["--steps", "3"])
    out = capsys.readouterr().out
    article, generated = out.index("The article's MLP:"), out.index("nn.torch_code(mlp)")
    assert article < generated and "self.fc1 = nn.Linear(input_size, hidden_size)" in out[article:generated]
    assert "        self.fc1 = nn.Linear(10, 5)" in out[generated:]
    assert "The article's CNN" in out and "self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)" in out
    assert result["max_difference"] < 1e-12
    assert f"differ from glassgrad's by at most {result['max_difference']:.1e}" in out


# ---- from_torch on seed 003's classes: forwards that call layers one after another -------------
class SeedCNN(torch.nn.Module):
    """Seed 003's CNN class as the article writes it, at 8x8 with 4 and 8 channels."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, kernel_size=3, stride=1, padding=1)
        self.conv2 = torch.nn.Conv2d(4, 8, kernel_size=3, stride=1, padding=1)
        self.pool = torch.nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc1 = torch.nn.Linear(8 * 2 * 2, 16)
        self.fc2 = torch.nn.Linear(16, 10)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = x.view(-1, 8 * 2 * 2)
        x = self.relu(self.fc1(x))
        x = self.fc2(x)
        return x


class SeedRNNClass(torch.nn.Module):
    """Seed 003's RNN class: its Linear reads every step, which glassgrad's Layer cannot."""

    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(10, 5, batch_first=True)
        self.fc = torch.nn.Linear(5, 1)

    def forward(self, x):
        rnn_out, _ = self.rnn(x)
        return self.fc(rnn_out)


class AllSteps(torch.nn.Module):
    """An RNN over 4 steps whose states, flattened, feed a Linear."""

    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(3, 2, batch_first=True)
        self.fc = torch.nn.Linear(4 * 2, 1)

    def forward(self, x):
        rnn_out, _ = self.rnn(x)
        return torch.tanh(self.fc(torch.flatten(rnn_out, 1)))


def test_from_torch_reads_seed_003s_cnn_class():
    torch.manual_seed(0)
    module = SeedCNN().double()
    model = nn.from_torch(module)
    assert [name for name in model._names] == ["conv1", "relu", "pool", "conv2", "relu_1", "pool_1",
                                               "view", "fc1", "relu_2", "fc2"]
    assert "conv1.weight.3.0.1.2" in model.state_dict()
    X = np.random.default_rng(0).normal(size=(2, 1, 8, 8))
    assert_same(model, module, X)


def test_from_torch_reads_the_class_torch_code_writes_and_an_rnn_forward():
    glassgrad_model = randomized(nn.MLP(3, [4, 2], activation="tanh", seed=0), 1)
    built = run_code(nn.torch_code(glassgrad_model)).double()
    built.load_state_dict(nn.to_torch(glassgrad_model).state_dict())
    model = nn.from_torch(built)
    assert list(nn.torch_names(model).values()) == list(nn.torch_names(glassgrad_model).values())
    assert list(model.state_dict().values()) == list(glassgrad_model.state_dict().values())
    assert_same(model, built, np.random.default_rng(1).normal(size=(3, 3)))
    torch.manual_seed(1)
    module = AllSteps().double()
    assert_same(nn.from_torch(module), module, np.random.default_rng(2).normal(size=(2, 4, 3)))


class Residual(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 2)

    def forward(self, x):
        return x + self.fc(x)


class Branching(Residual):
    def forward(self, x):
        return self.fc(x) if x.sum() > 0 else x


class Twice(Residual):
    def forward(self, x):
        return self.fc(self.fc(x))


class Viewed(Residual):
    def forward(self, x):
        return self.fc(x.view(-1, 3))


@pytest.mark.parametrize("module, error, says", [
    (SeedRNNClass(), ValueError, "'fc' (Linear): it gets samples with 2 axes"),
    (torch.nn.Sequential(RNNStates(3, 2, batch_first=True), torch.nn.Linear(2, 1)), ValueError,
     "'1' (Linear): it gets samples with 2 axes and glassgrad's layer takes 1"),
    (Residual(), TypeError, "the model (Residual): its forward is not a chain of layers"),
    (Branching(), TypeError, "the model (Branching): a custom Module whose forward torch.fx cannot trace"),
    (Twice(), TypeError, "calls 'fc' twice"),
    (Viewed(), TypeError, "view(-1, 3), read as Flatten only before a Linear of 3 inputs"),
])
def test_from_torch_says_which_forward_it_cannot_read(module, error, says):
    with pytest.raises(error) as raised:
        nn.from_torch(module)
    assert says in str(raised.value)
