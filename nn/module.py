"""`Module`: what every model has in common — its parameters, their names, and saving them.

A module's parameters are the `Value`s it holds in its attributes (directly, or in lists),
and the parameters of the modules it holds; one held in two places (a layer used twice) is
listed once, under the first name. Walking the attributes in the order they were set
gives every parameter a stable dotted name, `layers.0.neurons.3.w.2`, which becomes its
`label` (so drawings and error messages read well), and each parameter's `scope` is its
module's, the same `autograd.Scope` path that the module's forward pass gives the nodes it
makes. So a drawing can put a weight and the nodes it feeds in the same neuron box.

Scopes at the root. A module that holds parameters of its own (a Neuron, an RNN, a Conv2d, or
your own Module with a Value in an attribute) gets a scope even when nothing holds it: named
after its class (`rnn`, `conv2d`, `neuron`), so its parameters are parameters in every drawing.
Each module remembers the scope its parameters carry, and calling it where that scope's
parent is the active one (at the top level, for the root) runs it inside that scope: a bare
`nn.RNN` makes its nodes in `rnn.step.0`, ... next to its weights in `rnn`, and a module your
own module calls without a scope of its own still lands in the scope its parameters carry.
Containers that enter the scope themselves (Sequential, MLP, Layer) are not scoped twice.

Names of nodes. Modules label the nodes they make after their scope and role
(`name_outputs`): a neuron's pre-activation `layers.0.neurons.3.z` and output
`layers.0.neurons.3.out`, an RNN's `rnn.step.2.h.1`, a convolution's `conv1.out.3.4.5`
(channel, row, column), so every surface (drawings, players, error messages) shows where a
number comes from instead of `v135`.

Saving is JSON, never pickle: a file holds names and numbers and cannot run code when loaded.
Writing is `autograd.files.write_atomically`: a crash (even kill -9) in the middle leaves the
old file or the new one whole, never a half-written model nor, after the next save, a stray
temporary file; a file keeps its mode and owner, and a symbolic link stays a link to the file
it names. Loading checks the whole file before touching the model: a damaged or foreign file
(not JSON, nested too deeply, a number that is not finite or does not fit a float) raises a
ValueError naming the file and leaves the model as it was.
"""
from __future__ import annotations

import functools
import json
import math
import numbers
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

import autograd
from autograd import Scope, Value
from autograd.files import write_atomically

FORMAT = "glassgrad.state_dict"
VERSION = 1


def _nested(name: str, value: Any, kind: type) -> Iterator[tuple[str, Any]]:
    if isinstance(value, kind):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _nested(f"{name}.{i}", item, kind)


def name_outputs(outputs: Any, role: str) -> Any:
    """Label the Values a module made (one, or nested lists of them) `{scope path}.{role}`,
    with each one's index path after it in nested lists: `layers.0.neurons.3.z`,
    `conv1.out.3.4.5`. Returns `outputs`. Under `no_grad()` nothing is labelled (evaluation
    makes constants nobody looks at)."""
    if isinstance(outputs, Value):  # the common case, kept short: a neuron names two nodes
        if autograd.is_grad_enabled():
            here = autograd.current_scope()
            outputs.label = role if here is None else f"{here.path}.{role}"
        return outputs
    if autograd.is_grad_enabled():
        here = autograd.current_scope()
        _label_nested(outputs, role if here is None else f"{here.path}.{role}")
    return outputs


def _label_nested(item: Any, name: str) -> None:
    if isinstance(item, Value):
        item.label = name
    else:
        for i, inner in enumerate(item):
            _label_nested(inner, f"{name}.{i}")


class Module:
    """Base class: subclasses hold parameters (Values) and sub-modules in attributes.

    `kind` names what the module is for drawings ("neuron", "layer"); containers run each
    child inside `autograd.scope(<its attribute path>, kind=child.kind)`, so a node's
    `scope.path` is the dotted name of the module that made it.
    After the `__init__` of any subclass finishes, the parameters are labelled with their
    dotted names, so user-defined modules get names without extra work.
    """

    kind: str | None = None
    _scope: Scope | None = None  # the scope this module's parameters carry (name_parameters)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:
            @functools.wraps(init)
            def __init__(self, *args: Any, **kw: Any) -> None:
                init(self, *args, **kw)
                self.name_parameters()

            cls.__init__ = __init__
        call = cls.__dict__.get("__call__")
        if call is not None:
            @functools.wraps(call)
            def __call__(self, *args: Any, **kw: Any) -> Any:
                scope = self._scope
                if scope is None or autograd.current_scope() != scope.parent:
                    return call(self, *args, **kw)  # in its scope already, or called elsewhere
                with autograd.scope(scope.name, kind=scope.kind):
                    return call(self, *args, **kw)

            cls.__call__ = __call__

    # ---- the tree of modules and parameters -------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each sub-module held directly: `layers.0`, `neurons.3`."""
        return self._held(Module)

    def _own_parameters(self) -> Iterator[tuple[str, Value]]:
        return self._held(Value)

    def _held(self, kind: type) -> Iterator[tuple[str, Any]]:
        """(dotted name, item) for each `kind` held in a public attribute, directly or in
        (nested) lists and tuples: `w.2`, `layers.0`, `weight.3.0.1.2`."""
        for attr, value in vars(self).items():
            if not attr.startswith("_"):
                yield from _nested(attr, value, kind)

    def _walk(self, scope: Scope | None) -> Iterator[tuple[str, Value, Scope | None]]:
        """(dotted name, parameter, scope) for every parameter once: a parameter (or a whole
        module) held in two places keeps the first name it is reached by, as in PyTorch, so an
        optimizer never moves it twice per step."""
        seen: set[int] = set()
        for name, value, where in self._walk_all(scope):
            if id(value) not in seen:
                seen.add(id(value))
                yield name, value, where

    def _walk_all(self, scope: Scope | None) -> Iterator[tuple[str, Value, Scope | None]]:
        for name, value in self._own_parameters():
            yield name, value, scope
        for name, child in self.named_children():
            child_scope = Scope(name, child.kind, scope)
            for inner, value, where in child._walk_all(child_scope):
                yield f"{name}.{inner}", value, where

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Every parameter once, with its stable dotted name, in a fixed order."""
        return [(name, value) for name, value, _ in self._walk(None)]

    def parameters(self) -> list[Value]:
        """Every parameter, in the order of `named_parameters()`."""
        return [value for _, value, _ in self._walk(None)]

    def name_parameters(self) -> None:
        """Label each parameter with its dotted name and give it its module's scope; remember
        each module's scope, so that calling it runs it there (see the module docstring). At
        the root, a module with parameters of its own gets a scope named after its class."""
        own = next(self._own_parameters(), None) is not None
        root = Scope(type(self).__name__.lower(), self.kind) if own else None
        for name, value, scope in self._walk(root):
            value.label = name
            value.scope = scope
        seen: set[int] = set()
        for module, scope in self._modules(root):
            if id(module) not in seen:  # a module held twice keeps its first scope
                seen.add(id(module))
                module._scope = scope

    def _modules(self, scope: Scope | None) -> Iterator[tuple[Module, Scope | None]]:
        yield self, scope
        for name, child in self.named_children():
            yield from child._modules(Scope(name, child.kind, scope))

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0.0 (backward passes add into it)."""
        autograd.zero_grad(self.parameters())

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, float]:
        """{dotted name: number} for every parameter."""
        return {name: value.data for name, value in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter from `state`; names must match exactly.

        Everything is checked first (missing names, unexpected names, entries that are not one
        finite real number; numpy scalars are fine), so on an error the model is unchanged.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict() needs a dict of name -> number, got {type(state).__name__}")
        params = dict(self.named_parameters())
        missing = [name for name in params if name not in state]
        extra = [name for name in state if name not in params]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {_few(missing)}")
            if extra:
                parts.append(f"unexpected {_few(extra)}")
            raise ValueError(
                f"state does not fit {self!r}: {'; '.join(parts)} "
                f"(the model has {len(params)} parameters, the state {len(state)} entries)"
            )
        checked = {}
        for name, number in state.items():
            too_large = ValueError(f"state entry {name!r} should be one real number that fits a "
                                   f"float, got {_shown(number)}")
            if isinstance(number, _HugeInteger):
                raise too_large
            if isinstance(number, (bool, np.bool_)) or not isinstance(number, numbers.Real):
                raise ValueError(f"state entry {name!r} should be one real number, got "
                                 f"{_shown(number)} ({type(number).__name__})")
            try:
                checked[name] = float(number)
            except OverflowError:
                raise too_large from None
            if not math.isfinite(checked[name]):
                raise ValueError(f"state entry {name!r} is {checked[name]}; parameters must be "
                                 "finite numbers")
        for name, value in params.items():
            value.data = checked[name]

    def save(self, path: str | os.PathLike) -> Path:
        """Write the parameters to `path` as JSON, atomically (see `write_atomically`: the old
        file or the new one whole, its mode, owner and symbolic links kept); returns the path.

        An empty path, a folder, a missing folder or a file we may not write is an error that
        names `path`; the old file is then unchanged.
        """
        state = self.state_dict()
        for name, number in state.items():
            if not math.isfinite(number):
                raise ValueError(f"cannot save {self!r}: parameter {name!r} is {number}")
        text = json.dumps(
            {"format": FORMAT, "version": VERSION, "model": repr(self), "parameters": state},
            indent=1,
        )
        return write_atomically(path, text)

    def load(self, path: str | os.PathLike) -> None:
        """Read parameters saved by `save`; a damaged or foreign file leaves the model unchanged."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{path} is not a glassgrad model file (not UTF-8 text)") from None
        try:
            saved = json.loads(text, parse_int=_parse_int)
        except RecursionError:
            raise ValueError(f"{path} is not a glassgrad model file (its JSON is nested too "
                             "deeply to read)") from None
        except ValueError as error:  # JSONDecodeError, or a number Python refuses to read
            raise ValueError(f"{path} is not a glassgrad model file (not valid JSON: {error})") from None
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            raise ValueError(
                f"{path} is not a glassgrad model file (expected a JSON object with "
                f"\"format\": \"{FORMAT}\")"
            )
        version = saved.get("version")
        if isinstance(version, bool) or not isinstance(version, int):
            raise ValueError(f"{path} is not a glassgrad model file (\"version\" should be an "
                             f"integer, got {_shown(version)})")
        if version != VERSION:
            raise ValueError(f"{path} has format version {version}; this glassgrad reads version {VERSION}")
        state = saved.get("parameters")
        if not isinstance(state, dict):
            raise ValueError(f"{path} is damaged: \"parameters\" should be an object of name -> number")
        origin = saved.get("model")
        origin = origin if isinstance(origin, str) else "an unnamed model"
        try:
            self.load_state_dict(state)
        except ValueError as error:
            raise ValueError(f"{path} (saved from {origin}): {error}") from None


class _HugeInteger(str):
    """An integer in a JSON file with more digits than any float holds (Python's int() would
    also refuse one past 4300 digits); kept as its text so the error can say what it was."""

    def __repr__(self) -> str:
        return f"an integer of {len(self.lstrip('-'))} digits"


def _parse_int(text: str) -> int | _HugeInteger:
    return _HugeInteger(text) if len(text.lstrip("-")) > 309 else int(text)


def _shown(thing: Any) -> str:
    """A short description of a bad entry for an error message (never a 5,000-digit repr)."""
    if isinstance(thing, int) and not isinstance(thing, bool) and thing.bit_length() > 1000:
        return f"an integer of about {int(thing.bit_length() * math.log10(2)) + 1} digits"
    text = repr(thing)
    return text if len(text) <= 80 else text[:77] + "..."


def _few(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")
