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
