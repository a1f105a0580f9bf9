"""Module state: state_dict, load_state_dict, JSON save/load, damaged files, atomic writes."""
import json
import os

import numpy as np
import pytest

import nn
from autograd import Value


def model(seed=0):
    return nn.MLP(2, [3, 1], activation="tanh", seed=seed)


def test_state_dict_round_trip():
    a, b = model(0), model(1)
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    assert all(isinstance(v, float) for v in a.state_dict().values())


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("layers.0.neurons.1.b"), "missing 'layers.0.neurons.1.b'"),
    (lambda s: s.update({"layers.2.neurons.0.b": 1.0}), "unexpected 'layers.2.neurons.0.b'"),
    (lambda s: s.update({"layers.0.neurons.0.w.0": "1.0"}), "should be one real number"),
    (lambda s: s.update({"layers.0.neurons.0.w.0": [1.0, 2.0]}), "should be one real number"),
    (lambda s: s.update({"layers.0.neurons.0.w.0": True}), "should be one real number"),
])
def test_bad_state_is_refused_and_the_model_is_unchanged(change, message):
    m = model(0)
    before = m.state_dict()
    state = model(1).state_dict()
    change(state)
    with pytest.raises(ValueError, match=message):
        m.load_state_dict(state)
    assert m.state_dict() == before


def test_mis_shaped_state_names_what_is_missing():
    small, big = nn.MLP(2, [3, 1], seed=0), nn.MLP(2, [4, 1], seed=0)
    with pytest.raises(ValueError, match=r"unexpected 'layers.0.neurons.3.w.0'.*model has 13 parameters, the state 17"):
        small.load_state_dict(big.state_dict())


def test_save_writes_plain_json_and_load_restores(tmp_path):
    m = model(0)
    path = m.save(tmp_path / "m.json")
    saved = json.loads(path.read_text())
    assert saved["format"] == "glassgrad.state_dict" and saved["parameters"] == m.state_dict()
    other = model(1)
    other.load(path)
    assert other.state_dict() == m.state_dict()


def test_trained_saved_loaded_model_predicts_the_same(tmp_path):
    X, y = nn.make_moons(30, noise=0.1, seed=0)
    m = nn.MLP(2, [8, 1], activation="relu", seed=0)
    nn.fit(m, X, 2 * y - 1, nn.hinge, nn.SGD(m.parameters(), lr=0.1), epochs=5, progress=False)
    m.save(tmp_path / "m.json")
    fresh = nn.MLP(2, [8, 1], activation="relu", seed=99)
    assert not np.array_equal(nn.predict(fresh, X), nn.predict(m, X))
    fresh.load(tmp_path / "m.json")
    assert np.array_equal(nn.predict(fresh, X), nn.predict(m, X))


@pytest.mark.parametrize("content, message", [
    ('{"format": "glassgrad.state_dict", "version": 1, "parameters": {"layers.0', "not valid JSON"),
    ('[1, 2, 3]', "not a glassgrad model file"),
    ('{"weights": [1, 2]}', "not a glassgrad model file"),
    ('{"format": "glassgrad.state_dict", "version": 7, "parameters": {}}', "format version 7"),
    ('{"format": "glassgrad.state_dict", "version": 1, "parameters": [1]}', "damaged"),
    ('{"format": "glassgrad.state_dict", "version": 1, "model": "MLP(9)", "parameters": {"x": 1}}',
     r"saved from MLP\(9\).*missing"),
    (b"\x80\x04\x95 pickle bytes \xff", "not UTF-8"),
])
def test_damaged_or_foreign_files_give_clear_errors_and_change_nothing(tmp_path, content, message):
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    m = model(0)
    before = m.state_dict()
    with pytest.raises(ValueError, match=message):
        m.load(path)
    assert m.state_dict() == before


def test_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    model(0).save(path)
    old = path.read_text()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        model(1).save(path)
    assert path.read_text() == old
    assert os.listdir(tmp_path) == ["m.json"]  # no temporary file left behind


def test_non_finite_parameters_are_not_saved(tmp_path):
    m = model(0)
    m.parameters()[0].data = float("nan")
    with pytest.raises(ValueError, match="is nan"):
        m.save(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_user_modules_get_names_and_zero_grad():
    class Pair(nn.Module):
        def __init__(self):
            self.first = nn.Neuron(2, seed=0)
            self.rest = [nn.Layer(1, 2, seed=1)]
            self.scale = Value(2.0)

    p = Pair()
    names = [n for n, _ in p.named_parameters()]
    assert names == ["scale", "first.w.0", "first.w.1", "first.b", "rest.0.neurons.0.w.0",
                     "rest.0.neurons.0.b", "rest.0.neurons.1.w.0", "rest.0.neurons.1.b"]
    # Pair holds a parameter of its own, so at the root it has a scope, named after its class
    assert p.scale.scope.path == "pair" and p.scale.scope.kind is None
    assert dict(p.named_parameters())["rest.0.neurons.1.b"].scope.path == "pair.rest.0.neurons.1"
    for v in p.parameters():
        v.grad = 3.0
    p.zero_grad()
    assert all(v.grad == 0.0 for v in p.parameters())


def test_a_shared_module_is_listed_once_under_its_first_name():
    lay = nn.Layer(1, 1, "linear", seed=0)
    seq = nn.Sequential(lay, lay)
    names = [n for n, _ in seq.named_parameters()]
    assert names == ["0.neurons.0.w.0", "0.neurons.0.b"]
    assert len(seq.parameters()) == len({id(p) for p in seq.parameters()}) == 2
    assert lay.neurons[0].b.label == "0.neurons.0.b"
    assert list(seq.state_dict()) == names


def test_a_shared_module_moves_once_per_step():
    lay = nn.Layer(1, 1, "linear", seed=0)
    seq = nn.Sequential(lay, lay)
    w = lay.neurons[0].w[0]
    start = w.data
    for p in seq.parameters():
        p.grad = 2.0
    nn.SGD(seq.parameters(), lr=0.1).step()
    assert w.data == pytest.approx(start - 0.1 * 2.0, abs=1e-15)


def saved_with(tmp_path, text_of_first_entry):
    """A model file whose first parameter is written as `text_of_first_entry` (raw JSON)."""
    m = model(0)
    path = m.save(tmp_path / "m.json")
    first = next(iter(m.state_dict()))
    saved = json.loads(path.read_text())
    saved["parameters"][first] = "HERE"
    path.write_text(json.dumps(saved).replace('"HERE"', text_of_first_entry))
    return path, first


@pytest.mark.parametrize("number, message", [
    ("NaN", "is nan"), ("Infinity", "is inf"), ("-Infinity", "is -inf"), ("1e400", "is inf"),
    (str(10**400), "should be one real number.*401 digits"),
    ("9" * 5000, "should be one real number.*5000 digits"),
])
def test_non_finite_or_huge_numbers_in_a_file_are_refused(tmp_path, number, message):
    path, first = saved_with(tmp_path, number)
    m = model(1)
    before = m.state_dict()
    with pytest.raises(ValueError, match=message) as caught:
        m.load(path)
    assert str(path) in str(caught.value) and repr(first) in str(caught.value)
    assert m.state_dict() == before


@pytest.mark.parametrize("content, message", [
    ("[" * 100000, "nested too deeply"),
    ('{"format": "glassgrad.state_dict", "version": ' + "7" * 5000 + ', "parameters": {}}',
     "not a glassgrad model file"),
    ('{"format": "glassgrad.state_dict", "version": 2, "parameters": {}}', "format version 2"),
    ('{"format": "glassgrad.state_dict", "version": 1, "model": ' + "7" * 5000
     + ', "parameters": {"x": 1}}', "unexpected 'x'"),
])
def test_deep_or_long_json_gives_a_clear_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    m = model(0)
    before = m.state_dict()
    with pytest.raises(ValueError, match=message) as caught:
        m.load(path)
    assert str(path) in str(caught.value)
    assert m.state_dict() == before


def test_load_state_dict_refuses_non_finite_and_takes_numpy_scalars():
    m = model(0)
    before = m.state_dict()
    first = next(iter(before))
    for bad in (float("nan"), float("inf"), np.float64("-inf"), 10**400):
        state = dict(before, **{first: bad})
        with pytest.raises(ValueError, match=repr(first)):
            m.load_state_dict(state)
        assert m.state_dict() == before
    state = {name: np.float32(0.5) for name in before}
    state[first] = np.int64(3)
    m.load_state_dict(state)
    assert m.state_dict() == dict({name: 0.5 for name in before}, **{first: 3.0})
    with pytest.raises(ValueError, match="should be one real number"):
        m.load_state_dict(dict(before, **{first: np.bool_(True)}))


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_save_honours_the_umask_like_open_does(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = model(0).save(tmp_path / "m.json")
        with open(tmp_path / "plain.txt", "w") as file:
            file.write("x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert path.stat().st_mode & 0o777 == (tmp_path / "plain.txt").stat().st_mode & 0o777
