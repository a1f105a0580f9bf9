"""`Sequential`: modules run one after the other, each inside its own named scope.

`nn.Sequential(conv1=nn.Conv2d(1, 8, 3), relu1=nn.ReLU(), ...)` names its children by keyword
(`conv1.weight.3.0.1.2`); `nn.Sequential(a, b, c)` by position (`0.weight...`), as PyTorch
does. Each child runs in `autograd.scope(<its name>, kind=child.kind)`, the same `Scope` that
`Module` gives the child's parameters, so a drawing collapsed by layer puts every node a child
made, with its parameters, in one box.
"""
from __future__ import annotations

from typing import Any, Iterator

import autograd

from .module import Module


class Sequential(Module):
    """Calls its modules in order, each on the previous one's output."""

    def __init__(self, *modules: Module, **named: Module) -> None:
        if modules and named:
            raise TypeError("Sequential() takes its modules either all by position or all by "
                            "name, not both")
        pairs = list(named.items()) if named else [(str(i), m) for i, m in enumerate(modules)]
        if not pairs:
            raise ValueError("Sequential() needs at least one module")
        for name, module in pairs:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential() takes nn modules, got {module!r} for {name!r}")
            if name.startswith("_") or hasattr(Sequential, name):
                raise ValueError(f"Sequential() cannot name a module {name!r}: it starts with "
                                 "'_' or is the name of a Module method")
            setattr(self, name, module)
        self._names = [name for name, _ in pairs]

    def __call__(self, x: Any) -> Any:
        for name in self._names:
            module = getattr(self, name)
            with autograd.scope(name, kind=module.kind):
                x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[Module]:
        return (getattr(self, name) for name in self._names)

    def __getitem__(self, key: int | str) -> Module:
        """A module by position (`model[0]`) or by name (`model["conv1"]`)."""
        if isinstance(key, str) and key in self._names:
            return getattr(self, key)
        if isinstance(key, int) and not isinstance(key, bool) and -len(self) <= key < len(self):
            return getattr(self, self._names[key])
        raise KeyError(f"Sequential has no module {key!r}; it has {len(self)}: {self._names}")

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._names)
        return f"Sequential({inner})"
