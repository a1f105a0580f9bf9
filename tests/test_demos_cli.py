"""The demos as a learner meets them: what they print beside the articles' numbers, the
`--small` warning, and one command-line shape for every demo."""
import pytest

from demos import gender, letters, torch_snippets


def test_gender_prints_the_articles_numbers_and_why_ours_differ(capsys):
    gender.main(["--epochs", "20"])
    out = capsys.readouterr().out
    assert "(the article: Emily 0.951 F, Frank 0.039 M" in out and "np.random.normal()" in out


@pytest.mark.parametrize("module, args, says", [
    (letters, ["--epochs", "2", "--quiet"], "the article reaches 100% at epoch 51"),
    (torch_snippets, ["--steps", "3"], "not torch.randn"),
])
def test_demos_say_where_they_deviate_from_the_article(tmp_path, capsys, module, args, says):
    module.main(args + (["--out", str(tmp_path)] if module is letters else []))
    assert says in capsys.readouterr().out
    assert "Where this differs from the" in module.__doc__


OWN_CLI = ["alice", "bptt", "gender", "letters", "moons", "neuron", "numpy_net", "players", "rnn",
           "torch_snippets"]
WRITES_FILES = {"alice", "bptt", "letters", "moons", "players", "rnn"}


@pytest.mark.parametrize("name", OWN_CLI)
def test_help_prints_the_docstring_and_the_out_option(name, capsys):
    import importlib
    module = importlib.import_module(f"demos.{name}")
    with pytest.raises(SystemExit) as exit:
        module.main(["--help"])
    assert exit.value.code == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"usage: python -m demos.{name}")
    assert module.__doc__.splitlines()[0] in printed and "--out DIR" in printed
    assert ("writes no files" in printed) == (name not in WRITES_FILES)


@pytest.mark.parametrize("name, args", [
    ("neuron", []), ("numpy_net", []), ("gender", ["--epochs", "2"]),
    ("torch_snippets", ["--steps", "2"]),
])
def test_demos_that_write_nothing_accept_out_and_write_nothing(tmp_path, name, args):
    import importlib
    importlib.import_module(f"demos.{name}").main(args + ["--out", str(tmp_path / "pictures")])
    assert not (tmp_path / "pictures").exists()


def test_neuron_rejects_an_unknown_option(capsys):
    from demos import neuron
    with pytest.raises(SystemExit) as exit:
        neuron.main(["--epochs", "3"])
    assert exit.value.code == 2 and "unrecognized arguments: --epochs 3" in capsys.readouterr().err
