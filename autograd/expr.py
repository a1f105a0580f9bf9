"""A small, safe expression language for the command line: `tanh(x*w + b)` with `x=2 w=-3 b=6.9`.

`python -m autograd draw|step|html` take an expression as text. Evaluating that text with
`eval` would run anything (`__import__('os').system(...)`), so it is parsed with Python's `ast`
and every node of the tree is checked against a whitelist *before* anything is evaluated:

- numbers (`2`, `0.5`, `1e-3`), names (`x`, `w1`), parentheses;
- the operators of the op table's operator ops (`+ - * / **` and unary `-`: its `Infix`,
  `Power` and `Prefix` records);
- calls to its functions with as many arguments as they take (`tanh(x)`, `exp(x)`, ...: its
  `Call` records, see `functions()`), and to its n-ary ops whose inputs all play one part, with
  one or more (`max(a, b, c)`, `sum(a, b)`: its `Variadic` records, see `variadic()`). A
  weighted sum (`dot`) is not one: its inputs are weights, inputs and a bias, which an argument
  list would tell apart only by position; write `w1*x1 + w2*x2 + b`.

The grammar is read from the op table each time an expression is checked, so an op registered
later (`autograd.ops.register`) is part of it at once.

Anything else (attribute access, subscripts, imports, lambdas, comprehensions, keyword
arguments, calls to other names, strings, ...) is an `ExpressionError` naming what was found
and where. Every name is an input: `name=value` bindings give each one a number, and each
becomes one leaf `Value` labelled with its name (a name used twice is the same leaf).

Names are read as Python reads them, in their Unicode NFKC form (`python_name`): `ｘ`
(fullwidth) and `𝐱` (mathematical bold) are both `x` to Python's parser. A name spelled the same
way in the expression and in its binding always works (`ｘ*2` with `ｘ=3`); two spellings of
one name (`𝐱 + x`, or `ｘ*2` with `x=3`) are refused, naming both, since Python would quietly
make them one input where the writer most likely meant two.

Reading is linear in the expression's length: every step walks the tree once, and the text of
a node is sliced out only for an error message (`tests/test_cli.py` counts the lines of Python
run for sizes 500 and 2,000). Python's own parser limits nesting: 200 parentheses deep,
and a few thousand operators in a row (`x+x+...`); deeper is refused as nested too deeply.
Numbers, in the expression and in bindings, must be finite (`1e999`, `x=nan` and `x=inf` are
refused as likely typos); results follow IEEE 754, so `log(x)` at `x=0` is `-inf`.

    >>> root, inputs = build("tanh(x*w + b)", ["x=2", "w=-3", "b=6.8813735870195432"])
    >>> round(root.data, 4), list(inputs)
    (0.7071, ['x', 'w', 'b'])
"""
from __future__ import annotations

import ast
import keyword
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Mapping

from .ops import OPS, Call, Infix, Op, Power, Prefix, Variadic
from .value import Value, _apply

MAX_LENGTH = 100_000  # characters; a longer expression is refused before parsing. Linux takes
# at most 128 KiB in one command-line argument, so the command line never comes close.

# Python's operators, by the special method each calls (which is how the op table names them).
_DUNDERS = {
    ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__", ast.Div: "__truediv__",
    ast.Pow: "__pow__", ast.FloorDiv: "__floordiv__", ast.Mod: "__mod__",
    ast.MatMult: "__matmul__", ast.LShift: "__lshift__", ast.RShift: "__rshift__",
    ast.BitOr: "__or__", ast.BitXor: "__xor__", ast.BitAnd: "__and__",
    ast.USub: "__neg__", ast.UAdd: "__pos__", ast.Invert: "__invert__",
}


def functions() -> dict[str, Op]:
    """The functions an expression may call, each with as many arguments as it takes: the op
    table's `Call` records, by name."""
    return {op.name: op for op in OPS.values() if isinstance(op.notation, Call)}


def variadic() -> dict[str, Op]:
    """The n-ary ops an expression may call with one or more arguments: the op table's
    `Variadic` records (`sum`, `max`), by name."""
    return {op.name: op for op in OPS.values() if isinstance(op.notation, Variadic)}


def calls() -> str:
    """What an expression may call, for messages and help: `exp, ..., max(a, b, ...)`."""
    shown = [name if op.arity == 1 else op.python(*op.input_names(op.arity))
             for name, op in functions().items()]
    return ", ".join(shown + [f"{name}(a, b, ...)" for name in variadic()])


def _callable() -> dict[str, Op]:
    return {**functions(), **variadic()}


def _operators(kinds: tuple[type, ...]) -> dict[str, str]:
    """The table's operators of these notations: special method -> symbol, in table order."""
    return {op.notation.dunder: op.symbol for op in OPS.values() if isinstance(op.notation, kinds)}


def binary_operators() -> dict[str, str]:
    """The binary operators an expression may use (`+ - * / **`), by special method."""
    return _operators((Infix, Power))


def unary_operators() -> dict[str, str]:
    """The unary operators an expression may use (`-`), by special method."""
    return _operators((Prefix,))

# What the whitelist refuses, in words people recognise.
_NAMES = {
    ast.Attribute: "attribute access ('.')", ast.Subscript: "subscripts ('[...]')",
    ast.Lambda: "lambda", ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "generator expressions",
    ast.Compare: "comparisons", ast.BoolOp: "'and'/'or'", ast.IfExp: "'if ... else'",
    ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts", ast.Set: "sets",
    ast.JoinedStr: "f-strings", ast.NamedExpr: "':='", ast.Starred: "'*' unpacking",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slices",
}


class ExpressionError(ValueError):
    """An expression or a `name=value` binding that is not allowed or cannot be read."""


def python_name(spelling: str) -> str:
    """The name Python reads for `spelling`: its Unicode NFKC form (`ｘ` and `𝐱` are `x`)."""
    return unicodedata.normalize("NFKC", spelling)


def _lookalikes(name: str, first: str, second: str) -> ExpressionError:
    return ExpressionError(
        f"{first} and {second} are one name to Python, {name!r} (it reads names in their "
        "Unicode NFKC form): write it one way, or use two different names"
    )


@dataclass(frozen=True)
class ParsedExpression:
    """A checked expression: its text, its tree, and its input names in order of appearance,
    each as it is spelled (one spelling per name: see `python_name`)."""

    text: str
    tree: ast.Expression
    names: tuple[str, ...]

    def evaluate(self, values: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
        """Build the graph: one leaf Value per name (labelled with it), then the expression.

        Returns the root and the leaves by name. Every name needs a value, and every value a
        name that the expression uses (a binding for an unused name is most likely a typo),
        spelled as the expression spells it.
        """
        spelled = {python_name(spelling): spelling for spelling in self.names}
        given: dict[str, tuple[str, float]] = {}  # Python's name -> (spelling, number)
        for spelling, number in values.items():
            name = python_name(spelling)
            ours = spelled.get(name, spelling)
            if ours != spelling:
                raise _lookalikes(name, f"{ours!r} in the expression",
                                  f"{spelling!r} given a value")
            if name in given:
                raise _lookalikes(name, repr(given[name][0]), f"{spelling!r} given a value")
            given[name] = spelling, number
        missing = [spelling for name, spelling in spelled.items() if name not in given]
        if missing:
            raise ExpressionError(
                f"no value for {_list(missing)} in {_short(self.text)}: add "
                + " ".join(f"{n}=NUMBER" for n in missing)
            )
        unused = [spelling for name, (spelling, _) in given.items() if name not in spelled]
        if unused:
            raise ExpressionError(
                f"{_list(unused)} not used in {_short(self.text)} (its inputs are "
                f"{_list(self.names) if self.names else 'none'})"
            )
        leaves = {name: Value(given[name][1], label=spelling) for name, spelling in spelled.items()}
        root = _evaluate(self.tree.body, leaves)
        return root, {leaf.label: leaf for leaf in leaves.values()}


class _Source:
    """The text as Python's parser read it, to find what a node spells and where: its lines as
    the parser splits them, in UTF-8, as the tree counts columns in bytes. Slicing one node is
    one line's work, so naming every name stays linear in the text."""

    def __init__(self, text: str) -> None:
        self.lines = [line.encode() for line in re.split(r"\r\n|\r|\n", text)]

    def segment(self, node: ast.AST) -> str:
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:
            return self.lines[first][node.col_offset:node.end_col_offset].decode()
        parts = [self.lines[first][node.col_offset:], *self.lines[first + 1:last],
                 self.lines[last][:node.end_col_offset]]
        return "\n".join(part.decode() for part in parts)

    def where(self, node: ast.AST) -> str:
        """`column 5`, or `line 2, column 5`, counting characters."""
        column = len(self.lines[node.lineno - 1][:node.col_offset].decode()) + 1
        return f"column {column}" if node.lineno == 1 else f"line {node.lineno}, column {column}"


def parse(text: str) -> ParsedExpression:
    """Check `text` against the whitelist; raise `ExpressionError` saying what is not allowed."""
    if not isinstance(text, str):
        raise TypeError(f"parse() needs the expression as a string, got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("the expression is empty: write one such as 'tanh(x*w + b)'")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text)} characters long, more than {MAX_LENGTH}"
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        raise ExpressionError(f"cannot read {_short(text)}{where}: {error.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(
            f"{_short(text)} is nested too deeply to read (Python's parser stops at 200 nested "
            "parentheses and a few thousand operators in a row; write a long sum as "
            "sum(a, b, ...))"
        ) from None
    except ValueError as error:
        raise ExpressionError(f"cannot read {_short(text)}: {error}") from None
    source = _Source(text.strip())
    called = set()
    for node in ast.walk(tree.body):  # iterative: no recursion, however deep the tree
        _check(node, source)
        if isinstance(node, ast.Call):
            called.add(id(node.func))
    names = [n for n in ast.walk(tree.body) if isinstance(n, ast.Name) and id(n) not in called]
    callable_ = _callable()
    spelled: dict[str, tuple[str, str]] = {}  # Python's name -> (spelling, where), first seen
    # ast.walk is breadth first; take the names in the order they are written.
    for name in sorted(names, key=lambda n: (n.lineno, n.col_offset)):
        if name.id in callable_:
            raise ExpressionError(
                f"{name.id!r} ({source.where(name)}) is a function: call it, as in {name.id}(x)"
            )
        spelling = source.segment(name)
        here = f"{spelling!r} ({source.where(name)})"
        first, there = spelled.setdefault(name.id, (spelling, here))
        if first != spelling:
            raise _lookalikes(name.id, there, here)
    return ParsedExpression(text, tree, tuple(spelling for spelling, _ in spelled.values()))


def parse_bindings(items: Iterable[str]) -> dict[str, float]:
    """`["x=2", "w=-3"]` -> `{"x": 2.0, "w": -3.0}`, refusing anything else with a clear message."""
    values: dict[str, float] = {}
    spelled: dict[str, str] = {}  # Python's name -> the spelling given
    for item in items:
        name, sep, number = item.partition("=")
        name, number = name.strip(), number.strip()
        if not sep or not name:
            raise ExpressionError(f"expected name=NUMBER (such as x=2), got {item!r}")
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ExpressionError(f"{name!r} in {item!r} is not a name (letters, digits, _)")
        if python_name(name) in _callable():
            raise ExpressionError(f"{name!r} is a function, it cannot be given a value")
        first = spelled.setdefault(python_name(name), name)
        if first != name:
            raise _lookalikes(python_name(name), repr(first), f"{name!r} in {item!r}")
        if name in values:
            raise ExpressionError(f"{name!r} is given twice")
        try:
            values[name] = float(number)
        except ValueError:
            raise ExpressionError(
                f"the value of {name!r} must be a number, got {number!r} in {item!r}"
            ) from None
        if not math.isfinite(values[name]):
            raise ExpressionError(
                f"{name!r} must be a finite number, got {number!r}, as every number in the "
                "expression must be (results may still be inf or nan: log(x) at x=0 is -inf)"
            )
    return values


def build(text: str, bindings: Iterable[str]) -> tuple[Value, dict[str, Value]]:
    """Parse `text`, read `name=value` bindings, and build the graph: `(root, inputs by name)`.

    This is what the command line's subcommands share.
    """
    return parse(text).evaluate(parse_bindings(bindings))


def _check(node: ast.AST, source: _Source) -> None:
    """Refuse `node` unless the whitelist allows it, naming it and where it is (`where()`:
    slicing the text for every node of a valid expression would be work for nothing)."""
    def where() -> str:
        if not hasattr(node, "col_offset"):
            return ""
        return f" (at {source.where(node)}: {_short(source.segment(node))})"

    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(f"only numbers are allowed as constants, got {value!r}{where()}")
        try:
            finite = math.isfinite(float(value))
        except OverflowError:
            finite = False
        if not finite:
            raise ExpressionError(f"the number{where()} is too large for a float")
        return
    if isinstance(node, ast.Name):
        if node.id.startswith("__"):
            raise ExpressionError(f"the name {node.id!r}{where()} is not allowed")
        return
    if isinstance(node, ast.BinOp):
        allowed = binary_operators()
        if _DUNDERS.get(type(node.op)) not in allowed:
            raise ExpressionError(f"the operator {_operator(node.op)}{where()} is not allowed: use "
                                  f"{' '.join(allowed.values())}")
        return
    if isinstance(node, ast.UnaryOp):
        allowed = unary_operators()
        if _DUNDERS.get(type(node.op)) not in allowed:
            raise ExpressionError(f"the unary operator {_operator(node.op)}{where()} is not "
                                  f"allowed: only {' '.join(allowed.values())}")
        return
    if isinstance(node, ast.Call):
        callable_ = _callable()
        if not isinstance(node.func, ast.Name) or node.func.id not in callable_:
            raise ExpressionError(f"this call{where()} is not allowed: the functions are {calls()}")
        if node.keywords:
            raise ExpressionError(f"{node.func.id}(){where()} takes no keyword arguments")
        arity = callable_[node.func.id].arity
        if arity is None and not node.args:
            raise ExpressionError(f"{node.func.id}(){where()} needs at least one argument")
        if arity is not None and len(node.args) != arity:
            raise ExpressionError(f"{node.func.id}(){where()} takes exactly {_arguments(arity)}")
        return
    if isinstance(node, (ast.operator, ast.unaryop, ast.expr_context)):
        return  # the operator tokens inside BinOp/UnaryOp, checked above; Load contexts
    what = _NAMES.get(type(node), type(node).__name__)
    raise ExpressionError(
        f"{what}{where()} is not allowed in an expression: use numbers, names, "
        f"{' '.join(binary_operators().values())}, parentheses and the functions "
        f"{calls()}"
    )


def _evaluate(root: ast.expr, inputs: Mapping[str, Value]) -> Value:
    """Evaluate a checked tree, children before parents, without recursion."""
    results: dict[int, Value] = {}
    stack: list[tuple[ast.expr, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        children = _children(node)
        if not ready and children:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
            continue
        if isinstance(node, ast.Constant):
            value = Value(float(node.value), requires_grad=False)
        elif isinstance(node, ast.Name):
            value = inputs[node.id]
        elif isinstance(node, ast.BinOp):  # checked: an operator of the table
            left, right = results.pop(id(node.left)), results.pop(id(node.right))
            value = getattr(left, _DUNDERS[type(node.op)])(right)
        elif isinstance(node, ast.UnaryOp):
            value = getattr(results.pop(id(node.operand)), _DUNDERS[type(node.op)])()
        else:  # ast.Call, checked: a function with its number of arguments, or a variadic op
            args = tuple(results.pop(id(arg)) for arg in node.args)
            value = _apply(_callable()[node.func.id], args)
        results[id(node)] = value
    return results[id(root)]


def _children(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return node.args
    return []


def _arguments(count: int) -> str:
    words = {1: "one", 2: "two", 3: "three"}
    return f"{words.get(count, count)} argument{'s' if count != 1 else ''}"


def _operator(op: ast.AST) -> str:
    symbols = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
               ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&",
               ast.UAdd: "unary +", ast.Not: "not", ast.Invert: "~"}
    return repr(symbols.get(type(op), type(op).__name__))


def _list(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
