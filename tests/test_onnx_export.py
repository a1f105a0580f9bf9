"""nn.to_onnx: a valid ONNX file (onnx.checker, full check) that onnxruntime runs with
glassgrad's outputs (to float32 precision), for random models of every covered layer type and
for the demos' models, at two batch sizes; named input and output with a dynamic batch axis;
written atomically, with errors that name the path."""
import os
import sys

import numpy as np
import onnx
import onnxruntime
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from nn.shapes import flat
from tests.bridge_cases import models, randomized

FLOAT32 = dict(rtol=1e-4, atol=1e-5)  # the file holds float32 weights and computes in float32


def glassgrad_outputs(model, X):
    """One row of numbers per sample: every output of the model, flattened."""
    return np.array([[v.data for v in (flat(out) if isinstance(out, list) else [out])]
                     for out in (model(x) for x in X)])


def run(path, X):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": X.astype(np.float32)})[0]


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


@given(models(), st.integers(0, 2**32 - 1))
def test_onnxruntime_computes_glassgrads_outputs(tmp_path_factory, case, seed):
    model, sample = case
    randomized(model, seed)
    path = nn.to_onnx(model, tmp_path_factory.mktemp("onnx") / "model.onnx")
    onnx.checker.check_model(str(path), full_check=True)
    rng = np.random.default_rng(seed)
    for batch in (1, 3):  # the batch axis is dynamic
        X = rng.normal(size=(batch, *sample))
        np.testing.assert_allclose(run(path, X).reshape(batch, -1), glassgrad_outputs(model, X), **FLOAT32)


def test_the_seed_cnn_exports_with_named_layers_and_shapes(tmp_path):
    from demos.cnn import seed_cnn
    model = randomized(seed_cnn(), 0)
    path = nn.to_onnx(model, tmp_path / "cnn.onnx")
    X = nn.digits()[0][:4] / 16
    np.testing.assert_allclose(run(path, X), glassgrad_outputs(model, X), **FLOAT32)
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == ["input"] and dims(proto.graph.input[0]) == ["batch", 64]
    assert [o.name for o in proto.graph.output] == ["output"] and dims(proto.graph.output[0]) == ["batch", 10]
    assert [n.name for n in proto.graph.node] == ["image", "conv1", "relu1", "pool1", "conv2", "relu2",
                                                   "pool2", "flatten", "fc1", "fc1_relu", "fc2"]
    assert [n.op_type for n in proto.graph.node][:4] == ["Reshape", "Conv", "Relu", "MaxPool"]
    assert {"conv1.weight", "conv1.bias", "fc2.weight"} <= {t.name for t in proto.graph.initializer}
    shapes = {v.name: dims(v) for v in proto.graph.value_info}  # Netron draws these on the edges
    assert shapes["pool1"] == ["batch", 8, 4, 4] and shapes["flatten"] == ["batch", 64]
    assert proto.producer_name == "glassgrad" and proto.opset_import[0].version == 17


def test_an_rnn_exports_batch_and_steps_dynamic(tmp_path):
    model = randomized(nn.Sequential(rnn=nn.RNN(3, 4), act=nn.Tanh()), 1)
    path = nn.to_onnx(model, tmp_path / "rnn.onnx")
    proto = onnx.load(str(path))
    assert dims(proto.graph.input[0]) == ["batch", "steps", 3]
    assert dims(proto.graph.output[0]) == ["batch", "steps", 4]
    for steps in (1, 6):
        X = np.random.default_rng(steps).normal(size=(2, steps, 3))
        np.testing.assert_allclose(run(path, X).reshape(2, -1), glassgrad_outputs(model, X), **FLOAT32)


def test_the_seed_mlp_and_a_model_starting_with_flatten(tmp_path):
    mlp = nn.MLP(10, [5, 1], activation="relu", seed=0)
    X = np.random.default_rng(0).normal(size=(3, 10))
    np.testing.assert_allclose(run(nn.to_onnx(mlp, tmp_path / "mlp.onnx"), X), glassgrad_outputs(mlp, X), **FLOAT32)
    flat_first = nn.Sequential(flatten=nn.Flatten(), fc=nn.Layer(12, 2, seed=0))
    with pytest.raises(ValueError, match=r"sample_shape=\(1, 8, 8\)"):
        nn.to_onnx(flat_first, tmp_path / "f.onnx")
    path = nn.to_onnx(flat_first, tmp_path / "f.onnx", sample_shape=(3, 2, 2))
    X = np.random.default_rng(1).normal(size=(2, 3, 2, 2))
    np.testing.assert_allclose(run(path, X), glassgrad_outputs(flat_first, X), **FLOAT32)
    with pytest.raises(ValueError, match="do not fit together"):
        nn.to_onnx(flat_first, tmp_path / "g.onnx", sample_shape=(5,))
    assert not (tmp_path / "g.onnx").exists()


def test_layers_that_do_not_fit_are_refused_before_writing(tmp_path):
    with pytest.raises(ValueError, match="do not fit together"):
        nn.to_onnx(nn.Sequential(a=nn.Layer(3, 4), b=nn.Layer(5, 2)), tmp_path / "bad.onnx")
    assert list(tmp_path.iterdir()) == []


def test_writes_atomically_and_names_the_path(tmp_path, monkeypatch):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"the old file")
    with pytest.raises(TypeError, match="custom Module"):  # unsupported: nothing is written
        nn.to_onnx(nn.Sequential(x=TwoLayers()), path)
    assert path.read_bytes() == b"the old file"

    def broken(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="No space left"):
        nn.to_onnx(nn.MLP(2, [1], seed=0), path)
    monkeypatch.undo()
    assert path.read_bytes() == b"the old file" and [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
    assert nn.to_onnx(nn.MLP(2, [1], seed=0), path) == path
    onnx.checker.check_model(str(path))
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~current_umask())
    with pytest.raises(FileNotFoundError, match="No such folder") as missing:
        nn.to_onnx(nn.MLP(2, [1]), tmp_path / "missing" / "m.onnx")
    assert missing.value.filename == str(tmp_path / "missing" / "m.onnx")
    with pytest.raises(IsADirectoryError, match="Is a folder") as folder:
        nn.to_onnx(nn.MLP(2, [1]), tmp_path)
    assert folder.value.filename == str(tmp_path)


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


class TwoLayers(nn.Module):
    def __init__(self):
        self.a = nn.Layer(2, 2, seed=0)

    def __call__(self, x):
        return self.a(x)


def test_without_onnx_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r'nn.to_onnx needs the onnx package.*pip install "glassgrad\[onnx\]"'):
        nn.to_onnx(nn.MLP(2, [1]), tmp_path / "m.onnx")
