"""Every demo runs, and prints the seeds' numbers."""
import subprocess
import sys

import pytest

from demos import neuron


def test_seed_001_numbers_come_out_of_the_engine():
    out, _ = neuron.single_neuron()
    assert abs(out.data - 0.9990889488055994) <= 1e-12
    out, _ = neuron.network_221()
    assert abs(out.data - 0.7216325609518421) <= 1e-12


def test_seed_001_gradients_by_hand():
    out, leaves = neuron.single_neuron()
    out.backward()
    s = out.data
    slope = s * (1 - s)  # sigmoid'(7)
    grads = {leaf.label: leaf.grad for leaf in leaves}
    assert grads == pytest.approx({"w1": 2 * slope, "w2": 3 * slope, "b": slope,
                                   "x1": 0.0, "x2": slope}, rel=1e-15)


def test_the_neuron_demo_prints_the_seed_numbers():
    out = subprocess.run([sys.executable, "-m", "demos.neuron"], capture_output=True, text=True,
                         check=True).stdout
    assert "0.9990889488055994" in out and "0.7216325609518421" in out
