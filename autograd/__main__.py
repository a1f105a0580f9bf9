"""The command line: `python -m autograd SUBCOMMAND EXPRESSION name=value ...`.

    python -m autograd draw "tanh(x*w + b)" x=2 w=-3 b=6.8813735870195432 -o graph.svg

Expressions use the small whitelisted language of `autograd.expr` (numbers, names,
`+ - * / **`, unary `-`, parentheses and the op table's functions, `max(a, b, ...)` too: all
read from the op table); nothing else is evaluated.

Adding a subcommand: write `add_NAME(subparsers)` that makes its parser (call
`add_expression_arguments` for the expression and bindings) and sets `run=` to a function
`(args) -> exit code` (call `load(args)` for the built graph), then list it in `SUBCOMMANDS`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from .draw import MAX_NODES, GraphTooLarge, draw, table
from .expr import ExpressionError, binary_operators, build, calls, unary_operators
from .value import Value


class UsageError(Exception):
    """A mistake on the command line: printed as one line, exit status 2."""


def cannot_write(path: Path, error: OSError) -> UsageError:
    """The usage error for an output file that cannot be written (no such folder, no right)."""
    return UsageError(f"cannot write {str(path)!r}: {error.strerror or error}")


def add_expression_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments every graph subcommand shares: the expression and `name=value` bindings."""
    parser.add_argument(
        "expression",
        help=f"such as 'tanh(x*w + b)': numbers, names, {' '.join(binary_operators().values())}, "
        f"unary {' '.join(unary_operators().values())}, parentheses and the functions {calls()}",
    )
    parser.add_argument(
        "bindings", nargs="*", metavar="name=value", help="a number for every name, such as x=2"
    )


def load(args: argparse.Namespace) -> Value:
    """The graph of `args.expression` with `args.bindings`, before any backward pass; a bad
    expression or binding is a `UsageError`."""
    try:
        root, _ = build(args.expression, args.bindings)
    except ExpressionError as error:
        raise UsageError(str(error)) from None
    return root


# ---- draw -----------------------------------------------------------------------------------
def add_draw(subparsers) -> None:
    parser = subparsers.add_parser(
        "draw", help="draw the computation graph (a file, DOT text, or a table in the terminal)",
        description="Draw the computation graph of an expression. Without -o, print a table of "
        "the nodes (--dot prints the Graphviz DOT text instead).",
    )
    add_expression_arguments(parser)
    parser.add_argument(
        "--no-backward", dest="backward", action="store_false",
        help="build the graph only: gradients stay 'not computed'",
    )
    parser.add_argument(
        "-o", "--output", type=Path,
        help="write the drawing here; the format comes from the suffix: .svg .png .pdf, "
        ".dot or .gv for the DOT text",
    )
    parser.add_argument("--dot", action="store_true", help="print the DOT text")
    parser.add_argument("--rankdir", default="LR", choices=["LR", "RL", "TB", "BT"])
    parser.add_argument(
        "--show", default="data+grad", choices=["data+grad", "data", "grad"],
        help="which numbers each box shows",
    )
    parser.add_argument("--title", help="a title above the drawing")
    parser.add_argument(
        "--max-nodes", type=positive_int, default=MAX_NODES, metavar="N",
        help=f"refuse to draw more boxes than this (default {MAX_NODES}); the table has no limit",
    )
    parser.set_defaults(run=run_draw)


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return number


def run_draw(args: argparse.Namespace) -> int:
    root = load(args)
    if args.backward and root.requires_grad:  # a constant expression needs no gradient
        root.backward()
    if args.output is None and not args.dot:
        print(table(root))  # no Graphviz, so no --max-nodes
        return 0
    try:
        drawing = draw(root, rankdir=args.rankdir, show=args.show, title=args.title,
                       max_nodes=args.max_nodes)
    except GraphTooLarge as error:  # its message is advice for Python code: word it for here
        raise UsageError(
            f"the graph has {error.values} values, more than --max-nodes {error.max_nodes}. "
            "An expression has no neurons or layers to collapse by: add --max-nodes "
            f"{error.values} (Graphviz may take minutes), draw a smaller expression, or leave "
            "out -o and --dot for the table, which has no limit"
        ) from None
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.output is not None:
        try:
            drawing.render(args.output)
        except ValueError as error:
            raise UsageError(str(error)) from None
        except OSError as error:
            raise cannot_write(args.output, error) from None
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(drawing.source)
    return 0


# ---- step (the terminal stepper, autograd/players/terminal.py) ---------------------------------
def add_step(subparsers) -> None:
    parser = subparsers.add_parser(
        "step", help="step through the forward and backward pass in the terminal",
        description="Walk through backprop one node at a time: n/→ next, b/← back, digits and "
        "Enter to jump, e end, q quit. When stdin is not a terminal, print every step.",
    )
    add_expression_arguments(parser)
    parser.set_defaults(run=run_step)


def run_step(args: argparse.Namespace) -> int:
    from .players.terminal import step

    step(load_for_player(args))
    return 0


def load_for_player(args: argparse.Namespace) -> Value:
    """`load(args)` for the players, which show the backward pass: a constant has none."""
    root = load(args)
    if not root.requires_grad:
        raise UsageError(f"{args.expression!r} has no inputs, so there is no gradient to show: "
                         "use a name such as x and give it a value, x=2")
    return root


# ---- html (the HTML player, autograd/players/html.py) ----------------------------------------
def add_html(subparsers) -> None:
    parser = subparsers.add_parser(
        "html", help="write a self-contained HTML page that steps through backprop",
        description="Write one HTML file (drawing, steps and script inline; no network) that "
        "steps through the forward and backward pass: Prev/Next, arrow keys, a slider, play.",
    )
    add_expression_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, default=Path("backprop.html"),
                        help="the file to write (default: backprop.html)")
    parser.add_argument("--title", help="the page's title (default: the expression)")
    parser.set_defaults(run=run_html)


def run_html(args: argparse.Namespace) -> int:
    from .players.html import player

    root = load_for_player(args)
    title = args.title if args.title is not None else f"Backprop step by step: {args.expression}"
    try:
        path = player(root, title=title).save(args.output)
    except ValueError as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise cannot_write(args.output, error) from None
    print(f"wrote {path}: open it in a browser", file=sys.stderr)
    return 0


SUBCOMMANDS: list[Callable] = [add_draw, add_step, add_html]


def parser() -> argparse.ArgumentParser:
    """The whole command line: one subparser per entry of `SUBCOMMANDS`."""
    top = argparse.ArgumentParser(
        prog="python -m autograd",
        description="Build the graph of a small expression and look at it.",
        epilog='example: python -m autograd draw "tanh(x*w + b)" x=2 w=-3 b=6.88 -o graph.svg',
    )
    subparsers = top.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(subparsers)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for a usage error, as argparse does)."""
    top = parser()
    args = top.parse_args(argv)
    try:
        return args.run(args)
    except UsageError as error:
        top.exit(2, f"{top.prog} {args.command}: error: {error}\n")
    except RuntimeError as error:  # such as Graphviz not installed: say so, without a traceback
        top.exit(1, f"{top.prog} {args.command}: error: {error}\n")


if __name__ == "__main__":
    sys.exit(main())
