"""Modes that change how new nodes are made: `no_grad`, `detect_anomaly` and naming `scope`s.

The state is per thread (a `threading.local`), so one thread evaluating a model under
`no_grad()` never stops another thread from recording its graph. Every op reads `_state.special`
once: it is False unless `no_grad` or `detect_anomaly` is active, so the usual path pays one
attribute read.
"""
from __future__ import annotations

import functools
import gc
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True)
class Scope:
    """Where a node was made: a dotted `path` ("layers.0.neurons.3"), the `kind` of thing that
    scope is ("layer", "neuron", "step", or None), and the enclosing scope."""

    name: str
    kind: str | None = None
    parent: Scope | None = None

    @functools.cached_property
    def path(self) -> str:
        # cached: nn names every node it makes after its scope's path
        return self.name if self.parent is None else f"{self.parent.path}.{self.name}"

    def enclosing(self, kind: str) -> Scope | None:
        """The innermost scope of this `kind` around (or equal to) this one, if any."""
        scope: Scope | None = self
        while scope is not None and scope.kind != kind:
            scope = scope.parent
        return scope

    def __str__(self) -> str:
        return self.path


class _State(threading.local):
    """Per-thread switches (class attributes are each thread's defaults)."""

    grad_enabled: bool = True
    anomaly: bool = False
    special: bool = False  # not grad_enabled or anomaly: new nodes take the careful path
    scope: Scope | None = None  # the innermost `scope`, given to new nodes

    def refresh(self) -> None:
        self.special = (not self.grad_enabled) or self.anomaly


_state = _State()


@contextmanager
def no_grad() -> Iterator[None]:
    """Build no graph inside the block: results are constants with no parents.

    Use it for evaluation and for parameter updates. Also works as a decorator.
    """
    previous = _state.grad_enabled
    _state.grad_enabled = False
    _state.refresh()
    try:
        yield
    finally:
        _state.grad_enabled = previous
        _state.refresh()


def is_grad_enabled() -> bool:
    """False inside `no_grad()` (in this thread)."""
    return _state.grad_enabled


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `FloatingPointError` at the first nan or infinity, forward or backward.

    The message names the op and the labels of the nodes involved, so the culprit can be found
    in a large graph. It costs a check per node, so it is off by default.
    """
    previous = _state.anomaly
    _state.anomaly = True
    _state.refresh()
    try:
        yield
    finally:
        _state.anomaly = previous
        _state.refresh()


@contextmanager
def scope(name: str, kind: str | None = None) -> Iterator[Scope]:
    """Tag every node made inside the block with a `Scope` (nested scopes form a path).

    `nn` modules use it (`scope("neurons.3", kind="neuron")`) so that drawings can collapse a
    neuron or a layer into one box and the step-through player can say which module a node
    belongs to: `node.scope.path`, `node.scope.enclosing("layer")`.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"scope() needs a non-empty string name, got {name!r}")
    if kind is not None and not isinstance(kind, str):
        raise TypeError(f"scope(kind=...) needs a string or None, got {kind!r}")
    previous = _state.scope
    _state.scope = Scope(name, kind, previous)
    try:
        yield _state.scope
    finally:
        _state.scope = previous


def current_scope() -> Scope | None:
    """The innermost `scope` active in this thread (None outside every scope): the scope new
    nodes are tagged with. `nn` modules read it to name the nodes they make after their path."""
    return _state.scope


# Why pause the collector, and not something else. CPython's cyclic collector starts by
# allocation counts and, every so often, traverses every tracked object in the process; a large
# graph is all tracked objects (each node is a Value and its parents tuple; every instance of a
# class with __slots__ is tracked, so from Python no node can be left out), and being acyclic it
# gives the collector nothing to free. Measured on micrograd's moons training built exactly as
# micrograd builds it (one multiply and one add per weight) through our Value, 10 steps, with
# scikit-learn imported (~92k tracked objects), 2 loaded CPUs (AMD EPYC), Python 3.11:
#   collector untouched outside backward() (which pauses)   3.86 s  (graph building 2.98 s)
#   gc.freeze() of everything alive before training         2.27 s
#   paused_gc() around each whole step                      1.71 s  (graph building 0.64 s)
#   collector disabled for the whole process                1.75 s
#   micrograd itself (its closures make cycles)            38.1  s
# and on a chain of 10^6 tanh nodes, backward() takes 2.79 s with the collector on, 1.91 s
# paused. Freezing helps less and changes the user's state (young objects end up old, and
# gc.unfreeze() would also release what the user froze); pausing and restoring leaves it as it
# was. So backward() and gradients() pause it themselves, and users building big graphs op by
# op can wrap a training step in paused_gc().
_gc_lock = threading.Lock()
_gc_pauses = 0  # how many paused_gc() blocks are open, in any thread
_gc_was_enabled = False  # the collector's state when the first of them opened


@contextmanager
def paused_gc() -> Iterator[None]:
    """Keep CPython's cyclic garbage collector from running inside the block; restore it after.

    Building a large graph allocates many objects that the collector tracks, and CPython starts
    collections by allocation counts, each traversing the young objects, and from time to time
    every object in the process. A glassgrad graph has no reference cycles (reference counting
    frees it), so those collections find nothing. `backward()` runs inside this block; wrap a
    training step (forward and backward) in it when you build big graphs op by op. The
    collector is process-wide: the first block to open records whether it was enabled and the
    last one to close restores that, so blocks nest and threads can share them. Reference
    cycles you make inside (e.g. `backward(create_graph=True)` grads) are collected afterwards.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
