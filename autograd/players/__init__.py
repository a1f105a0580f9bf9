"""Players for `autograd.backprop_steps`: the terminal stepper and the self-contained HTML page.

    autograd.step(root)                        # in a terminal: next / back / jump / quit
    autograd.player(root).save("backprop.html")  # one file: drawing, steps and script inline

Both show the same step records; neither computes anything of its own. (The package is called
`players` so that the function `autograd.player` does not hide it.)
"""
from __future__ import annotations

from ..steps import Steps, backprop_steps
from ..value import Value


def as_steps(root: Value | Steps, where: str) -> Steps:
    """`root`'s steps (or `root` itself when it already is one), with a clear error otherwise."""
    if isinstance(root, Steps):
        return root
    if not isinstance(root, Value):
        raise TypeError(f"{where} needs a Value (the output of a computation) or "
                        f"autograd.backprop_steps(...), got {type(root).__name__}")
    return backprop_steps(root)
