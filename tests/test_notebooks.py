"""The seed notebooks in notebooks/, executed by nbclient in a real kernel: each runs without an
error or a warning, computes what its article computes (checked against references computed
here), draws it and steps through it, with outputs that show wherever the notebook is opened;
and fit's progress bar in a kernel, with and without ipywidgets.

How long this takes: `pytest tests/test_notebooks.py --durations=0` (the README says).
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tests.notebook_cases import NAMES, NOTEBOOKS, execute, require_kernel, run

STORIES = ["01_neuron", "02_alice_derivative", "03_gender", "04_letters", "05_digits", "06_cnn",
           "07_rnn"]
TQDM_LINE = re.compile(r"^\s*(\d+)%\|.*\| (\d+)/(\d+) \[")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """NAME -> the executed notebook, each executed once for this module."""
    require_kernel()
    done = {}

    def get(name):
        if name not in done:
            done[name] = execute(name, tmp_path_factory.mktemp(name))
        return done[name]

    return get


def outputs(notebook):
    return [output for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.outputs]


def printed(notebook) -> str:
    return "".join(o.text for o in outputs(notebook)
                   if o.output_type == "stream" and o.name == "stdout")


def number_after(text: str, words: str) -> float:
    return float(re.search(re.escape(words) + r"\s*([-+0-9.e]+)", text).group(1))


def test_every_seed_article_has_a_notebook_and_they_are_saved_without_outputs():
    import nbformat

    assert NAMES == STORIES
    for name in NAMES:
        notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec.name == "python3"
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        # outputs are made by running it: a saved output would be a number nobody checks
        assert all(not cell.outputs and cell.execution_count is None for cell in code), name
        source = "\n".join(cell.source for cell in code)
        assert "autograd.draw(" in source and "autograd.player(" in source, name


@pytest.mark.parametrize("name", STORIES)
def test_each_notebook_runs_and_its_outputs_show_everywhere(executed, name):
    notebook = executed(name)
    found = {"drawing": 0, "player": 0, "bar": 0}
    for output in outputs(notebook):
        assert output.output_type != "error", f"{name}: {output.ename}: {output.evalue}"
        assert not (output.output_type == "stream" and output.name == "stderr"), \
            f"{name} wrote to stderr (a warning?): {output.text}"
        data = output.get("data", {})
        assert "application/vnd.jupyter.widget-view+json" not in data  # no widget left behind
        if data.get("text/plain", "").startswith("<Drawing of"):  # a drawing: a PNG
            found["drawing"] += 1
            assert set(data) == {"image/png", "text/plain"}
            assert output.metadata["image/png"]["width"] > 0
        html = data.get("text/html", "")
        if 'class="glassgrad-player"' in html:
            found["player"] += 1
            assert '<img src="data:image/png;base64,' in html  # the static view's graph
            assert 'class="glassgrad-frame"' in html and "srcdoc=" in html
        bar = TQDM_LINE.match(data.get("text/plain", ""))
        if bar:  # fit's bar, as it stays: at the end, with the last loss and accuracy
            found["bar"] += 1
            assert bar.group(1) == "100" and bar.group(2) == bar.group(3)
            assert "loss=" in data["text/plain"] and "acc=" in data["text/plain"]
            assert "<progress" in data["text/html"]  # ipywidgets was there: the widget's end
    assert found["drawing"] >= 1 and found["player"] >= 1, found
    if name not in ("01_neuron", "02_alice_derivative"):  # the ones that train
        assert found["bar"] == 1, found


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_the_neuron_notebook_prints_the_articles_numbers(executed):
    text = printed(executed("01_neuron"))
    neuron = sigmoid(0 * 2 + 1 * 3 + 4)
    hidden = sigmoid(0 * 2 + 1 * 3 + 0)
    network = sigmoid(0 * hidden + 1 * hidden + 0)
    assert text.count(repr(neuron)) == 2  # numpy's and the Values'
    assert repr(network) in text
    slope = neuron * (1 - neuron)
    assert number_after(text, "∂o/∂w1 =") == pytest.approx(slope * 2, rel=1e-5)
    assert number_after(text, "∂o1/∂h1.w2 =") == 0.0


def alice_loss(w1: float) -> float:
    """Alice's loss as a function of w1 (every other weight 1, every bias 0), with floats."""
    h1, h2 = sigmoid(w1 * -2 + 1 * -1), sigmoid(1 * -2 + 1 * -1)
    return (1 - sigmoid(h1 + h2)) ** 2


def test_alices_derivative_is_the_one_finite_differences_give(executed):
    text = printed(executed("02_alice_derivative"))
    eps = 1e-6
    numerical = (alice_loss(1 + eps) - alice_loss(1 - eps)) / (2 * eps)
    assert number_after(text, "backward(): ∂L/∂w1 =") == pytest.approx(numerical, abs=1e-6)
    assert round(numerical, 4) == 0.0215  # the article's 0.0214 multiplies rounded factors
    assert "the same to the last digit: True" in text


def test_the_gender_notebook_predicts_emily_female_and_frank_male(executed):
    text = printed(executed("03_gender"))
    assert "MSE of predicting 0 for everyone: 0.5" in text
    assert number_after(text, "Emily:") > 0.9 and "- F" in text.split("Emily:")[1][:12]
    assert number_after(text, "Frank:") < 0.1 and "- M" in text.split("Frank:")[1][:12]


def test_the_letters_notebook_learns_all_three_and_reads_the_noisy_b(executed):
    text = printed(executed("04_letters"))
    assert "accuracy 100 % from epoch" in text
    assert "predicted letter: B" in text


def test_the_digits_notebooks_classify_most_test_digits(executed):
    assert number_after(printed(executed("05_digits")), "test accuracy after 3 epochs:") > 90
    assert number_after(printed(executed("06_cnn")), "test accuracy:") > 70


def test_the_rnn_notebook_remembers_far_better_than_forgetting(executed):
    text = printed(executed("07_rnn"))
    remembered, forgot = number_after(text, "test MSE"), number_after(text, "scores")
    test_set = np.random.default_rng(1).uniform(-1, 1, size=(100, 5, 10))  # made again here
    assert forgot == pytest.approx(np.mean(test_set[:, 0, 0] ** 2), abs=5e-5)  # 4 digits shown
    assert remembered < forgot / 5


@pytest.mark.parametrize("widgets", [True, False])
def test_in_a_kernel_fits_bar_shows_by_default_and_stays_as_its_final_line(tmp_path, widgets):
    """Without ipywidgets (blocked here), a plain text line, and no warning at `import nn`."""
    require_kernel()
    from nbformat.v4 import new_code_cell, new_notebook

    block = "" if widgets else "sys.modules['ipywidgets'] = None  # as if not installed\n"
    notebook = new_notebook(cells=[
        new_code_cell(f"import sys, warnings\n{block}warnings.simplefilter('always')\nimport nn"),
        new_code_cell("X, y = nn.make_moons(40, noise=0.1, seed=0)\n"
                      "model = nn.MLP(2, [4, 1], seed=0)\n"
                      "optimizer = nn.SGD(model.parameters(), lr=0.1)\n"
                      "history = nn.fit(model, X, 2 * y - 1, nn.hinge, optimizer, epochs=3, "
                      "batch_size=10)\n"
                      "print(history['loss'][-1], history['accuracy'][-1])"),
        new_code_cell("nn.fit(model, X, 2 * y - 1, nn.hinge, optimizer, progress=False)\n"
                      "'quiet'"),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    run(notebook, tmp_path)
    first, training, quiet = (cell.outputs for cell in notebook.cells)
    assert first == []  # no TqdmWarning, nothing at all
    bar, loss_and_accuracy = training
    assert loss_and_accuracy.text.split() and bar.output_type == "display_data"
    loss, accuracy = map(float, loss_and_accuracy.text.split())
    line = bar.data["text/plain"]
    assert TQDM_LINE.match(line) and line.startswith("100%|") and "12/12" in line
    assert f"loss={loss:.4f}" in line and f"acc={accuracy:.3f}" in line  # the last epoch's
    assert ("text/html" in bar.data) == widgets  # the widget's end as HTML; else text only
    assert [output.output_type for output in quiet] == ["execute_result"]  # no bar
