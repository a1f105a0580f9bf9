"""Initializers: where a network's weights start, drawn from a seeded numpy Generator.

Each initializer takes the layer's fan-in, fan-out and a `numpy.random.Generator` and returns
a (fan_out, fan_in) array: row j holds neuron j's weights. numpy's default generator (PCG64)
gives the same numbers on every platform, so the same seed gives the same model everywhere.

- `uniform`: U(-1, 1), micrograd's choice.
- `xavier` (Glorot uniform): U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), for tanh/sigmoid.
- `he` (Kaiming normal): N(0, 2 / fan_in), for ReLU.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

Initializer = Callable[[int, int, np.random.Generator], np.ndarray]


def uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """U(-1, 1) weights."""
    return rng.uniform(-1.0, 1.0, size=(fan_out, fan_in))


def xavier(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out))."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_out, fan_in))


def he(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """He/Kaiming normal: N(0, 2 / fan_in)."""
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))


INITIALIZERS: dict[str, Initializer] = {"uniform": uniform, "xavier": xavier, "he": he}


def resolve(init: str | Initializer) -> Initializer:
    """An initializer from its name ("uniform", "xavier", "he") or a callable."""
    if callable(init):
        return init
    if not isinstance(init, str):
        raise TypeError(f"init should be a name, one of {sorted(INITIALIZERS)}, or a function; "
                        f"got {init!r}")
    if init not in INITIALIZERS:
        raise ValueError(f"unknown initializer {init!r}; expected one of {sorted(INITIALIZERS)} or a function")
    return INITIALIZERS[init]


def generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A Generator from a seed (int), an existing Generator, or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed should be an int, a numpy Generator or None, got {seed!r}")
    return np.random.default_rng(seed)
