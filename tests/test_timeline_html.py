"""The training timeline in a real headless Chromium: micrograd's moons, 100 steps recorded by
`python -m demos.moons --player DIR`, scrubbed and opened in the player as a learner would.

As with the player, every request, console error and dialog fails the test (tests/
test_player_html.py's Page). Set UPDATE_DOCS=1 to also write the README's screenshot,
docs/training-timeline.png.
"""
import base64
import gzip
import json
import os
import re
import shutil

import pytest

import nn
from autograd.steps import fmt
from tests.test_player_html import (DOCS, HOSTILE, SIDEWAYS, SIZES, browser,  # noqa: F401
                                    open_page)

LIMIT_BYTES = 5_000_000  # issue 15: a 100-step moons run with MLP(2, [16, 16, 1]) in 5 MB


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    """The demo's run, recorded: (the page, the recorder). Compiled: the same run to rounding,
    in a fraction of eager training's time (tests/test_demos.py trains it eagerly)."""
    from demos import moons
    folder = tmp_path_factory.mktemp("moons")
    result = moons.run(steps=100, grid=12, out=folder, verbose=False, player=folder,
                       compiled=True)
    assert result["timeline"] == folder / "moons_timeline.html"
    return result["timeline"], result["recorder"]


def timeline(page) -> None:
    page.page.wait_for_selector("body.ready")


def scrub(page, k: int) -> None:
    page.page.eval_on_selector(
        "#tl-step", "(s, k) => { s.value = k; s.dispatchEvent(new Event('input')); }", k)


PIXELS = """id => {  // a digest of a canvas's pixels
  var c = document.getElementById(id) || document.querySelector(id);
  var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, h = 0;
  for (var i = 0; i < d.length; i += 7) h = (h * 31 + d[i]) % 1000000007;
  return h;
}"""


def embedded(text: str) -> dict:
    match = re.search(r'<script type="text/plain" id="timeline-data">(.*?)</script>', text, re.S)
    return json.loads(gzip.decompress(base64.b64decode(match.group(1))))


def test_the_moons_run_fits_in_5_mb_and_holds_what_was_recorded(moons_run):
    path, recorder = moons_run
    assert path.stat().st_size <= LIMIT_BYTES
    data = embedded(path.read_text(encoding="utf-8"))
    assert data["steps"] == 100 and len(data["loss"]) == 100 and len(data["captions"]) == 101
    assert data["loss"] == [s.loss for s in recorder.steps]
    assert [f["step"] for f in data["full"]] == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99]
    page = gzip.decompress(base64.b64decode(data["full"][4]["page"])).decode("utf-8")
    assert page == recorder.player(40).html()  # the player's own page, as it would be saved
    assert data["snapshots"] == list(range(101))
    assert data["captions"][40].startswith(f"step 40 of 100 · epoch 41 of 100 · loss "
                                           f"{fmt(recorder.steps[40].loss)}")


@pytest.mark.parametrize("width,height", SIZES)
def test_scrubbing_moves_the_marker_and_changes_the_boundary_and_the_weights(
        open_page, moons_run, width, height):
    path, recorder = moons_run
    page = open_page(path, width=width, height=height)
    timeline(page)
    seen = []
    for k in (0, 10, 57, 100):
        scrub(page, k)
        seen.append({
            "counter": page.page.inner_text("#tl-counter"),
            "caption": page.page.inner_text("#tl-caption"),
            "marker": float(page.page.eval_on_selector("#tl-loss .marker", "m => m.getAttribute('x1')")),
            "dot": page.page.eval_on_selector("#tl-loss .marker-dot", "d => d.getAttribute('cy')"),
            "boundary": page.page.evaluate(PIXELS, "tl-boundary"),
            "weights": page.page.evaluate(PIXELS, "#tl-heatmaps canvas"),
            "title": page.page.inner_text("#tl-params-title"),
        })
        assert page.page.evaluate(SIDEWAYS) == [], k
    assert [s["counter"] for s in seen] == ["step 0 / 100", "step 10 / 100", "step 57 / 100",
                                            "end (100 steps)"]
    assert all(f"loss {fmt(recorder.steps[k].loss)}" in s["caption"]
               for k, s in zip((0, 10, 57), seen))
    markers = [s["marker"] for s in seen]
    assert markers == sorted(markers) and len(set(markers)) == 4  # the marker moves right
    assert float(seen[0]["dot"]) < float(seen[2]["dot"])  # a high loss is drawn higher up
    assert len({s["boundary"] for s in seen}) == 4  # the boundary changes as it learns
    assert len({s["weights"] for s in seen}) == 4  # and so do the weights
    assert seen[2]["title"] == "parameters at step 57 (before its update)"
    assert seen[3]["title"] == "parameters after training"
    # a summary step says so and points to the nearest steps recorded in full
    scrub(page, 57)
    assert "Step 57 is kept as a summary" in page.page.inner_text("#tl-full")
    page.page.click("#tl-full button.link >> text=step 50")
    assert page.page.inner_text("#tl-counter") == "step 50 / 100"
    # keys: → a step, shift+→ an epoch (one step each here), End the end
    page.page.keyboard.press("ArrowRight")
    assert page.page.inner_text("#tl-counter") == "step 51 / 100"
    page.page.keyboard.press("End")
    assert page.page.inner_text("#tl-counter") == "end (100 steps)"


def test_opening_a_step_shows_its_forward_backward_and_update_in_the_player(open_page, moons_run):
    path, recorder = moons_run
    page = open_page(path)
    timeline(page)
    scrub(page, 40)
    assert page.page.is_hidden("#tl-overlay")
    page.page.select_option("#tl-level", "layer")
    page.page.click("#tl-open")
    page.page.wait_for_selector("#tl-overlay", state="visible")
    frame = page.page.frame_locator("#tl-frame")
    assert frame.locator("#player-level").input_value() == "layer"  # the level chosen
    assert frame.locator("#player-title").inner_text() == recorder.player(40).title
    assert frame.locator("#player-phase").inner_text() == "forward pass"
    (player,) = [f for f in page.page.frames if f != page.page.main_frame]
    phases = player.evaluate("""() => {  // every step in turn: the phases in their order
      var slider = document.getElementById('player-slider'), seen = [];
      for (var k = 0; k <= Number(slider.max); k++) {
        slider.value = k; slider.dispatchEvent(new Event('input'));
        var phase = document.getElementById('player-phase').textContent;
        if (seen[seen.length - 1] !== phase) seen.push(phase);
      }
      return seen;
    }""")
    assert phases == ["forward pass", "backward pass", "update"]
    frame.locator("#player-start").click()
    frame.locator("#player-end").click()
    assert frame.locator("#player-phase").inner_text() == "update"
    assert frame.locator("#player-step-title").inner_text() == "update: layer layers.2 (17 steps)"
    # every op (the player keeps its place: the end): the last update is the last parameter's,
    # its numbers the optimizer's
    frame.locator("#player-level").select_option("op")
    last = recorder.full[40].updates[-1]
    assert frame.locator("#player-step-title").inner_text() == last.title
    assert last.lines[0] in frame.locator("#player-lines").inner_text()
    page.page.keyboard.press("Escape")
    assert page.page.is_hidden("#tl-overlay")
    page.requests = [u for u in page.requests if u != "about:srcdoc"]


def test_the_page_makes_no_request_and_forbids_any(moons_run):
    path, _ = moons_run
    text = path.read_text(encoding="utf-8")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text).group(1)
    assert policy.startswith("default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-")
    # the page around its data (base64, whose letters may spell "http" by chance), and the data
    page = re.sub(r'(id="timeline-data">)[^<]*', r"\1", text)
    assert "http" not in page.replace('http-equiv', '').replace("http://www.w3.org/2000/svg", "")
    data = embedded(text)
    for part in ("boundary", "parameters"):
        del data[part]["frames"]  # base64 too
    assert "http" not in json.dumps({key: value for key, value in data.items() if key != "full"})


def test_hostile_text_stays_text(open_page, tmp_path):
    X, labels = nn.make_moons(12, noise=0.1, seed=0)
    model = nn.MLP(2, [3, 1], seed=0)

    def hostile(outputs, targets):
        return nn.mse(outputs, targets)

    hostile.__name__ = HOSTILE
    recorder = nn.Recorder(full=[1])
    nn.fit(model, X, labels, hostile, nn.SGD(model.parameters(), lr=0.1), epochs=2,
           progress=False, record=recorder)
    path = recorder.save(tmp_path / "hostile.html", title=HOSTILE)
    page = open_page(path)
    timeline(page)
    assert page.page.title() == HOSTILE and page.page.inner_text("#tl-title") == HOSTILE
    assert HOSTILE in page.page.eval_on_selector("#tl-loss", "s => s.textContent")
    scrub(page, 1)
    page.page.click("#tl-open")
    page.page.wait_for_selector("#tl-overlay", state="visible")
    page.page.frame_locator("#tl-frame").locator("#player-counter").wait_for()
    assert page.page.eval_on_selector_all("img", "is => is.length") == 0
    page.requests = [u for u in page.requests if u != "about:srcdoc"]


ONE_LINE = """c => {  // how many lines a caption's text takes
  var text = document.createRange();
  text.selectNodeContents(c);
  return new Set(Array.from(text.getClientRects()).map(r => Math.round(r.top))).size;
}"""

GAP = """c => {  // the colours of the first cell's middle, and of the line after it
  var ratio = c.width / c.getBoundingClientRect().width, g = c.getContext('2d');
  var cell = c.height / ratio;  // one row: a cell is as wide as the strip is tall
  var at = x => Array.from(g.getImageData(Math.floor(x * ratio), Math.floor(cell / 2 * ratio),
                                           1, 1).data);
  return [at(cell / 2), at(cell - 0.5)];
}"""


def test_heatmap_captions_stay_on_one_line_and_a_zero_shows(open_page, tmp_path):
    """A caption wider than its heatmap widens its figure rather than wrapping, and a cell of 0
    (white) is drawn inside a grid line, not lost on the white page."""
    X, labels = nn.make_moons(12, noise=0.1, seed=0)
    model = nn.Sequential(a_hidden_layer_with_a_long_name=nn.Layer(2, 3, "relu", seed=0),
                          out=nn.Layer(3, 1, "linear", seed=1))
    bias = model.parameters()[2]
    assert bias.label.endswith(".b") and bias.data == 0.0  # a neuron's bias starts at 0
    recorder = nn.Recorder(full=())
    nn.fit(lambda x: model(x)[0], X, 2 * labels - 1, nn.hinge,
           nn.SGD(model.parameters(), lr=0.0), epochs=1, progress=False, record=recorder)
    path = recorder.save(tmp_path / "captions.html")
    for width, height in SIZES:
        page = open_page(path, width=width, height=height)
        timeline(page)
        captions = page.page.eval_on_selector_all(".heatmap figcaption", "cs => cs.map(c => "
                                                  "c.textContent)")
        assert captions == ["a_hidden_layer_with_a_long_name 3 × 3", "out (4)"]
        lines = page.page.eval_on_selector_all(".heatmap figcaption", f"cs => cs.map({ONE_LINE})")
        assert lines == [1, 1], width
        assert page.page.evaluate(SIDEWAYS) == [], width
        # the strip "out (4)": w.0 w.1 w.2 b, its bias 0 (lr 0: nothing moved) drawn white
        # inside grey lines
        strip = page.page.query_selector_all(".heatmap canvas")[1]
        middle, line = strip.evaluate(GAP)
        assert middle[:3] != [255, 255, 255] and line[:3] == [207, 207, 207]
        bias_cell = page.page.evaluate("""c => { var g = c.getContext('2d'), r = c.width / 4;
            return Array.from(g.getImageData(Math.floor(3.5 * r), Math.floor(c.height / 2),
                                             1, 1).data); }""", strip)
        assert bias_cell[:3] == [255, 255, 255]


def test_the_readme_screenshot(open_page, moons_run, tmp_path):
    """The README's picture of the moons timeline at step 40. Written to docs/ only with
    UPDATE_DOCS=1 (so that test runs leave the tree alone)."""
    path, _ = moons_run
    page = open_page(path, height=760)
    timeline(page)
    scrub(page, 40)
    shot = tmp_path / "training-timeline.png"
    page.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    if os.environ.get("UPDATE_DOCS") and DOCS.is_dir():
        shutil.copy(shot, DOCS / shot.name)


def test_a_list_of_one_output_and_a_diverging_run_draw_their_boundaries(open_page, tmp_path):
    """A model returning [output] draws the two sides of its threshold (no class -1, no error);
    a run whose outputs became nan or inf draws those cells grey and says so."""
    import warnings
    X, labels = nn.make_moons(32, noise=0.1, seed=0)
    listed = nn.Sequential(nn.Layer(2, 4, activation="tanh", seed=0),
                           nn.Layer(4, 1, activation="linear", seed=1))
    one = nn.Recorder(full=())
    nn.fit(listed, X, 2 * labels - 1, nn.hinge, nn.SGD(listed.parameters(), lr=0.1), epochs=2,
           progress=False, record=one)
    diverging = nn.MLP(2, [8, 1], activation="relu", seed=0)
    gone = nn.Recorder(full=())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the run overflows, as it should at this rate
        nn.fit(diverging, X, labels, nn.mse, nn.SGD(diverging.parameters(), lr=5.0),
               epochs=12, progress=False, record=gone)
    page = open_page(one.save(tmp_path / "one.html"))
    timeline(page)
    assert "blue: the model says positive" in page.page.inner_text("#tl-boundary-note")
    page = open_page(gone.save(tmp_path / "diverging.html"))
    timeline(page)
    assert "not a finite number" not in page.page.inner_text("#tl-boundary-note")
    scrub(page, 12)
    note = page.page.inner_text("#tl-boundary-note")
    assert "Grey (1600 of 1600 points): the output there is not a finite number" in note
    grey = page.page.eval_on_selector("#tl-boundary", """c => Array.from(c.getContext('2d')
        .getImageData(2, 2, 1, 1).data)""")
    assert grey[:3] == [150, 150, 150]
    assert "): not a finite number (nan or ±inf)" in page.page.inner_text("#tl-params-note")
    page.page.screenshot(path=str(tmp_path / "diverging.png"))


def test_a_run_stopped_by_ctrl_c_says_so_on_its_page(open_page, tmp_path):
    from tests.test_recorder import stopped
    _, _, recorder, _ = stopped(10, 2)
    for width, height in SIZES:
        page = open_page(recorder.save(tmp_path / "stopped.html"), width=width, height=height)
        timeline(page)
        assert page.page.is_visible("#tl-stopped")
        assert page.page.inner_text("#tl-stopped").startswith(
            "stopped (Ctrl-C) after step 3 of 10: the page shows the 3 steps taken (0 to 2)")
        assert page.page.eval_on_selector("#tl-step", "s => s.max") == "3"
        scrub(page, 3)
        assert page.page.inner_text("#tl-counter") == "end (3 steps)"
        assert page.page.inner_text("#tl-caption").startswith(
            "after the last update (step 3): where Ctrl-C stopped the run")
        assert page.page.inner_text("#tl-params-title") == \
            "parameters when training was stopped"
        page.page.screenshot(path=str(tmp_path / f"stopped-{width}.png"))
