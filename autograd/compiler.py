"""`autograd.compile`: run the traced scalar graph of a per-sample function for a whole batch.

A graph of scalar Values is the clearest way to watch backpropagation and the slowest way to
train: one Python object per multiply. Compiling keeps that graph as the single meaning of the
model and adds a second way to execute it. `compile(loss, x0, y0)` traces `loss` once on
placeholders (see `tracing.py`), plans how the recorded graph runs (`plan`: a slot for every
node and a short list of numpy kernels) and returns a `Program`, which runs the plan forward
and backward for many samples at once:

- Every node gets a slot. Placeholders, and nodes that depend on them, are *batched*: one row
  of a (rows, batch) array. Parameters, constants and nodes computed from them alone are
  *shared*: one number of a vector, the same for every sample.
- A node's level is its distance from the leaves. The nodes of one op at one level (with the
  same number and kinds of inputs) become one kernel: a single numpy call over index arrays,
  using the op's vectorised forward (`Op.numpy`) and partials (`Op.array_grads`) from the op
  table. So the number of numpy calls grows with the depth of the graph, not with its width.
- Two kinds of kernel go further. A level of `dot` nodes whose weights are shared and whose
  inputs are batched (a layer's neurons) is one matrix product, `W @ X` forward and `G @ X.T`,
  `W.T @ G` backward. A level of `sum` nodes is one gather and one `.sum`.

Backward runs the kernels in reverse. When a level's kernel runs, every node that uses its nodes
sits at a deeper level and has already sent its share, so the level's gradients are complete.
Parameters stay the model's Values: `Program.backward` adds the batch's gradient into their
`.grad`, exactly where `Value.backward` would, so the existing optimizers work unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .ops import Op, split_dot
from .tracing import Placeholder, Trace, check_parameters_not_read, check_same_graph, trace
from .value import Value, _show

_BATCHED, _SHARED = "batched", "shared"


def compile(
    fn: Callable[..., Any],
    *example_args: Any,
    check_trace: bool = True,
    check_inputs: Sequence[Sequence[Any]] | None = None,
) -> Program:
    """Trace the per-sample function `fn` and return a `Program` that runs it on batches.

    `example_args` are one sample's arguments as plain numbers: a number, a (nested) list of
    numbers or an array each, like `torch.jit.trace`'s example inputs; `fn` is called once with
    placeholders of the same shapes, and may close over a model whose parameters are Values. The
    program is then called like `jax.vmap(fn)`: each argument gains a leading batch axis.

    Python decisions on the inputs' numbers are baked into the trace. Reading a placeholder's
    number raises `TracingError`; with `check_trace` (the default) `fn` is traced again, on
    `check_inputs` (a list of argument tuples) or on seeded standard-normal inputs, and any
    difference between the graphs raises `TracingError`.

    Only the parameters (leaves that need a gradient) are read afresh on every call. A constant
    is copied into the program once, when it is compiled, so a constant computed from a
    parameter's number (`w.detach()`, `Value(w.data)`, a result made under `no_grad()`) would
    keep its compile-time number while the parameter trains. `check_trace` also traces `fn`
    with the parameters nudged (restoring them afterwards) and raises `TracingError` naming such
    a constant; with `check_trace=False` it is the caller's choice and stays frozen.

        >>> import autograd
        >>> w = autograd.Value(2.0, "w")
        >>> program = autograd.compile(lambda x: (w * x).tanh(), 0.5)
        >>> program([0.0, 0.5]).round(6).tolist()
        [0.0, 0.761594]
    """
    traced = trace(fn, example_args)
    if check_trace:
        if check_inputs is None:
            random = np.random.default_rng(0)
            check_inputs = [tuple(random.standard_normal(shape) for shape in traced.shapes)]
        for args in check_inputs:
            if not isinstance(args, (list, tuple)) or len(args) != len(example_args):
                raise TypeError(
                    f"check_inputs should be a list of argument tuples, each with "
                    f"{len(example_args)} arguments like the example, got {_show(args)}"
                )
            check_same_graph(traced, trace(fn, args))
        check_parameters_not_read(fn, traced, example_args)
    return Program(traced, getattr(fn, "__name__", "function"))


class Program:
    """A traced graph compiled into numpy kernels. Call it on a batch for the outputs;
    `backward` also adds the batch's gradient into the parameters' `.grad`.

    The traced graph stays available: `graph` is its output, `trace_for(*sample)` evaluates it
    for one sample so that it can be drawn or stepped through like any graph.
    """

    def __init__(self, traced: Trace, name: str = "function") -> None:
        self._trace = traced
        self._name = name
        self._plan = plan(traced)
        self.parameters: list[Value] = self._plan.parameters
        """The parameters (leaves that need a gradient), in the order of the program's vectors."""

    # ---- the traced graph ----------------------------------------------------------------
    @property
    def graph(self) -> Value | tuple[Value, ...]:
        """The traced graph's output (a tuple when the function returned several)."""
        return self._trace.outputs[0] if self._trace.single else self._trace.outputs

    def trace_for(self, *sample: Any) -> Value | tuple[Value, ...]:
        """The traced graph evaluated for one sample (with the parameters' current numbers),
        ready to be drawn, or stepped through with `.backward()`."""
        self._check_count(sample, "trace_for()")
        self._trace.replay(sample)
        return self.graph

    # ---- running on batches ----------------------------------------------------------------
    def __call__(self, *batch: Any) -> np.ndarray:
        """The outputs for a batch: shape (batch,) for one output, (batch, outputs) for many."""
        return self._forward(batch, self.parameter_vector())[0]

    def vjp(self, *batch: Any, params: np.ndarray | None = None) -> tuple[np.ndarray, Callable]:
        """The outputs for a batch and a `pullback(grad)` that takes d(something)/d(output)
        for each sample and output (shaped like the outputs) and returns d(something)/d(params)
        summed over the batch, as a vector in the order of `parameters` (as `jax.vjp`).

        This is how a loss computed elsewhere (for example `nn`'s losses, on Values) meets a
        compiled model: run the loss on the outputs, then pull its gradient back."""
        theta = self.parameter_vector() if params is None else self._check_vector(params)
        outputs, state = self._forward(batch, theta)

        def pullback(grad: Any) -> np.ndarray:
            seeds = np.asarray(grad, dtype=np.float64)
            if seeds.shape != outputs.shape:
                raise ValueError(
                    f"pullback() needs one gradient per output and sample, shaped like the "
                    f"outputs {outputs.shape}, got {seeds.shape}"
                )
            return self._backward(state, seeds.reshape(len(seeds), -1).T)

        return outputs, pullback

    def as_values(self, *batch: Any) -> tuple[list, Callable[[], None]]:
        """The outputs for a batch as fresh leaf Values (one per sample, or a list per sample
        for several outputs), and `pull_back()`: once a backward pass over code built on them
        (a loss) has filled their `.grad`, it adds the parameters' share into their `.grad`.

        How `nn.fit(compiled=True)` trains: the model runs compiled, the loss runs on Values."""
        outputs, pullback = self.vjp(*batch)
        leaves = [Value(number, "output") for number in outputs.ravel().tolist()]
        shaped = leaves if outputs.ndim == 1 else [
            leaves[i : i + outputs.shape[1]] for i in range(0, len(leaves), outputs.shape[1])
        ]

        def pull_back() -> None:
            grads = [0.0 if leaf.grad is None else float(leaf.grad) for leaf in leaves]
            self.accumulate(pullback(np.reshape(grads, outputs.shape)))

        return shaped, pull_back

    def value_and_grad(
        self, *batch: Any, params: np.ndarray | None = None, reduction: str = "sum"
    ) -> tuple[np.ndarray, np.ndarray]:
        """The per-sample losses and the gradient of their sum (or mean) as a vector in the
        order of `parameters`, touching no Value. `params` replaces the parameters' numbers,
        so a whole training loop can run on vectors, with `set_parameters` at the end."""
        if len(self._trace.outputs) != 1:
            raise TypeError(
                f"value_and_grad() and backward() need a function with one output (a loss), "
                f"this one has {len(self._trace.outputs)}: reduce them to one (autograd.sum), "
                "or give the gradient of each output with vjp() or backward(grad=...)"
            )
        if reduction not in ("sum", "mean"):
            raise ValueError(f'reduction should be "sum" or "mean", got {reduction!r}')
        losses, pullback = self.vjp(*batch, params=params)
        seed = 1.0 / len(losses) if reduction == "mean" else 1.0
        return losses, pullback(np.full(losses.shape, seed))

    def backward(self, *batch: Any, grad: Any = None, reduction: str = "sum") -> np.ndarray:
        """Forward and backward on a batch, adding d(loss)/d(parameter) into each parameter's
        `.grad` (leaves accumulate, as with `Value.backward`): the gradient of the batch's
        summed loss, or with `reduction="mean"` of its mean. With `grad` (shaped like the
        outputs) it is the gradient of Σ grad·outputs instead. Returns the outputs."""
        if grad is None:
            outputs, vector = self.value_and_grad(*batch, reduction=reduction)
        else:
            outputs, pullback = self.vjp(*batch)
            vector = pullback(grad)
        self.accumulate(vector)
        return outputs

    def accumulate(self, vector: np.ndarray) -> None:
        """Add a gradient vector (in the order of `parameters`) into the parameters' `.grad`."""
        for param, number in zip(self.parameters, self._check_vector(vector).tolist()):
            param.grad = number if param.grad is None else param.grad + number

    def parameter_vector(self) -> np.ndarray:
        """The parameters' current numbers as one vector."""
        return np.fromiter((p.data for p in self.parameters), np.float64, len(self.parameters))

    def set_parameters(self, vector: np.ndarray) -> None:
        """Write a vector (in the order of `parameters`) back into the parameters' `.data`."""
        for param, number in zip(self.parameters, self._check_vector(vector).tolist()):
            param.data = number

    def _forward(self, batch: Sequence[Any], theta: np.ndarray):
        outputs, state = self._plan.forward(self._batch(batch), theta)
        return (outputs[:, 0] if self._trace.single else outputs), state

    def _backward(self, state, seeds: np.ndarray) -> np.ndarray:
        return self._plan.backward(state, seeds)

    # ---- checking what users pass ------------------------------------------------------------
    def _check_count(self, args: Sequence[Any], where: str) -> None:
        names = self._trace.names
        if len(args) != len(names):
            raise TypeError(
                f"{where} takes {len(names)} argument{'s' * (len(names) != 1)} "
                f"({', '.join(names)}) like the traced function, got {len(args)}"
            )

    def _batch(self, batch: Sequence[Any]) -> np.ndarray:
        self._check_count(batch, f"{self._name} (compiled)")
        columns, size = [], None
        for name, shape, arg in zip(self._trace.names, self._trace.shapes, batch):
            try:
                array = np.asarray(arg, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(
                    f"argument {name!r} should be an array of numbers, got {_show(arg)}"
                ) from None
            if array.shape[1:] != shape or array.ndim != len(shape) + 1:
                raise ValueError(
                    f"argument {name!r} should have the shape (batch, {', '.join(map(str, shape))})"
                    .replace(", )", ")") + f": a batch of samples shaped like the example "
                    f"{shape}, got {array.shape}"
                )
            if size is None:
                size = array.shape[0]
            if array.shape[0] != size or size == 0:
                raise ValueError(
                    f"every argument needs the same, non-zero number of samples, got {size} "
                    f"and {array.shape[0]} (argument {name!r})"
                )
            columns.append(array.reshape(size, -1))
        return np.concatenate(columns, axis=1).T

    def _check_vector(self, vector) -> np.ndarray:
        vector = np.asarray(vector, dtype=np.float64)
        if vector.shape != (len(self.parameters),):
            raise ValueError(
                f"the parameter vector should have shape ({len(self.parameters)},), one number "
                f"per entry of Program.parameters, got {vector.shape}"
            )
        return vector

    def describe(self) -> str:
        """The kernels, one line each: level, op, how many nodes, how they run."""
        return "\n".join(f"level {kernel.level}: {kernel}" for kernel in self._plan.kernels)

    def __repr__(self) -> str:
        levels = len({kernel.level for kernel in self._plan.kernels})
        return (
            f"<compiled {self._name}: {len(self._trace.order)} nodes in "
            f"{len(self._plan.kernels)} numpy steps over {levels} levels, "
            f"{len(self.parameters)} parameters>"
        )


# ---- planning: where each node's numbers live, and the kernels that compute them -------------
def plan(traced: Trace) -> Plan:
    """Plan how a traced graph runs on a batch: a slot per node (a row of the batched array or
    an entry of the shared vector) and its nodes grouped into kernels, one per op and level."""
    placeholders = [holder for holders in traced.inputs for holder in holders]
    rows: dict[str, dict[int, int]] = {_BATCHED: {}, _SHARED: {}}
    for holder in placeholders:
        rows[_BATCHED][id(holder)] = len(rows[_BATCHED])
    kind: dict[int, str] = {id(h): _BATCHED for h in placeholders}
    level: dict[int, int] = {}
    params: list[Value] = []
    constants: list[Value] = []
    groups: dict[tuple, list[Value]] = {}
    for node in traced.order:
        if node.op is None:
            level[id(node)] = 0
            if not isinstance(node, Placeholder):
                kind[id(node)] = _SHARED
                (params if node.requires_grad else constants).append(node)
            continue
        level[id(node)] = 1 + max(level[id(p)] for p in node.parents)
        kinds = tuple(kind[id(p)] for p in node.parents)
        kind[id(node)] = _BATCHED if _BATCHED in kinds else _SHARED
        key = (level[id(node)], node.op.name, kind[id(node)], kinds)
        groups.setdefault(key, []).append(node)
    for leaf in params + constants:
        rows[_SHARED][id(leaf)] = len(rows[_SHARED])
    kernels: list[_Kernel] = []
    for key in sorted(groups, key=lambda key: key[0]):  # stable: first seen first
        nodes = groups[key]
        out = rows[key[2]]
        start = len(out)
        for node in nodes:
            out[id(node)] = len(out)
        kernels.append(_make_kernel(key, nodes, slice(start, len(out)), rows))
    shared = np.zeros(len(rows[_SHARED]))
    shared[len(params) : len(params) + len(constants)] = [c.data for c in constants]
    outputs = [(kind[id(v)], rows[kind[id(v)]][id(v)]) for v in traced.outputs]
    return Plan(params, len(placeholders), len(rows[_BATCHED]), shared, kernels, outputs)


@dataclass(frozen=True)
class Plan:
    """How a traced graph runs: the parameters (the first entries of the shared vector), how
    many batched rows the inputs fill and how many there are in all, the shared vector with
    the constants' numbers in place, the kernels in order, and each output's (kind, slot)."""

    parameters: list[Value]
    inputs: int
    batched_rows: int
    shared: np.ndarray
    kernels: list[_Kernel]
    outputs: list[tuple[str, int]]

    def forward(self, inputs: np.ndarray, theta: np.ndarray):
        """Run the kernels on `inputs` (input rows, batch) with the parameters `theta`: the
        outputs (batch, outputs) and the state `backward` needs."""
        size = inputs.shape[1]
        values = np.empty((self.batched_rows, size))
        values[: self.inputs] = inputs
        shared = self.shared.copy()
        shared[: len(self.parameters)] = theta
        with np.errstate(all="ignore"):
            saved = [kernel.forward(values, shared) for kernel in self.kernels]
        outputs = np.stack([
            values[row] if kind == _BATCHED else np.full(size, shared[row])
            for kind, row in self.outputs
        ], axis=1)
        return outputs, (values, shared, saved)

    def backward(self, state, seeds: np.ndarray) -> np.ndarray:
        """The chain rule over the kernels, from `seeds` (outputs, batch): the parameters' grads."""
        values, shared, saved = state
        grads = np.zeros_like(values), np.zeros_like(shared)
        for (kind, row), seed in zip(self.outputs, seeds):
            if kind == _BATCHED:
                grads[0][row] += seed
            else:  # the same output for every sample: its gradient is the batch's sum
                grads[1][row] += seed.sum()
        with np.errstate(all="ignore"):
            for kernel, operands in zip(reversed(self.kernels), reversed(saved)):
                if kernel.needs_grad:
                    kernel.backward(values, shared, grads, operands)
        return grads[1][: len(self.parameters)].copy()


# ---- kernels: one numpy computation for the nodes of one op at one level --------------------
class _Scatter:
    """`target[index] += values`, also right when `index` names a row more than once."""

    def __init__(self, index: np.ndarray) -> None:
        self.index = index
        self.unique = np.unique(index).size == index.size

    def add(self, target: np.ndarray, values: np.ndarray) -> None:
        if self.unique:
            target[self.index] += values
        else:
            np.add.at(target, self.index, values)


class _Kernel:
    """The nodes of one op at one level: `forward` fills their slots (and returns what
    `backward` needs), `backward` sends their gradients to their inputs' slots."""

    def __init__(self, key: tuple, nodes: list[Value], out: slice) -> None:
        self.level, _, self.kind, self.kinds = key
        self.op: Op = nodes[0].op
        self.out = out
        self.count = len(nodes)
        self.needs_grad = any(node.requires_grad for node in nodes)

    def _read(self, kind: str, index: np.ndarray, values, shared) -> np.ndarray:
        if kind == _BATCHED:
            return values[index]
        return shared[index][..., None] if self.kind == _BATCHED else shared[index]

    def _send(self, kind: str, scatter: _Scatter, grads, contribution: np.ndarray) -> None:
        if kind == _BATCHED:
            scatter.add(grads[0], contribution)
        else:
            summed = contribution.sum(axis=-1) if self.kind == _BATCHED else contribution
            scatter.add(grads[1], summed)

    def _buffers(self, values, shared):
        return values if self.kind == _BATCHED else shared

    def __str__(self) -> str:
        return f"{self.op.name} x{self.count}"


class _ElementwiseKernel(_Kernel):
    """Any op, one numpy call each way: `op.numpy(*inputs)` and `op.array_grads`."""

    def __init__(self, key, nodes, out, rows) -> None:
        super().__init__(key, nodes, out)
        self.inputs = [
            (kind, _Scatter(np.array([rows[kind][id(n.parents[j])] for n in nodes])))
            for j, kind in enumerate(self.kinds)
        ]
        self.wanted = [any(n.parents[j].requires_grad for n in nodes) for j in range(len(self.kinds))]

    def forward(self, values, shared):
        inputs = [self._read(kind, s.index, values, shared) for kind, s in self.inputs]
        self._buffers(values, shared)[self.out] = self.op.numpy(*inputs)
        return inputs

    def backward(self, values, shared, grads, inputs) -> None:
        upstream = self._buffers(*grads)[self.out]
        out = self._buffers(values, shared)[self.out]
        partials = self.op.array_grads(out, *inputs)
        for (kind, scatter), partial, wanted in zip(self.inputs, partials, self.wanted):
            if wanted:
                self._send(kind, scatter, grads, np.broadcast_to(upstream * partial, upstream.shape))


class _SumKernel(_Kernel):
    """A level of `sum` nodes with the same number of terms: one gather and one `.sum`."""

    def __init__(self, key, nodes, out, rows) -> None:
        super().__init__(key, nodes, out)
        self.parts = []
        for kind in (_BATCHED, _SHARED):
            positions = [j for j, k in enumerate(self.kinds) if k == kind]
            if positions:
                index = np.array([[rows[kind][id(n.parents[j])] for j in positions] for n in nodes])
                wanted = any(n.parents[j].requires_grad for n in nodes for j in positions)
                self.parts.append((kind, _Scatter(index), wanted))

    def forward(self, values, shared):
        total = sum(self._read(kind, s.index, values, shared).sum(axis=1) for kind, s, _ in self.parts)
        self._buffers(values, shared)[self.out] = total

    def backward(self, values, shared, grads, _) -> None:
        upstream = self._buffers(*grads)[self.out]
        for kind, scatter, wanted in self.parts:
            if wanted:
                shape = scatter.index.shape + upstream.shape[1:]
                self._send(kind, scatter, grads, np.broadcast_to(upstream[:, None], shape))


class _MatMulKernel(_Kernel):
    """A level of `dot` nodes, one half of each (weights or inputs) shared and the other
    batched: a matrix product. When every node reads the same batched rows (a dense layer) it
    is `W @ X`; otherwise an `einsum` over the gathered rows."""

    def __init__(self, key, nodes, out, rows, shared_half: int) -> None:
        super().__init__(key, nodes, out)
        halves = split_dot(range(len(self.kinds)))  # positions of w_1..w_n, x_1..x_n, b
        w_positions, x_positions = halves[shared_half], halves[1 - shared_half]
        self.w = _Scatter(np.array([[rows[_SHARED][id(m.parents[j])] for j in w_positions] for m in nodes]))
        x = np.array([[rows[_BATCHED][id(m.parents[j])] for j in x_positions] for m in nodes])
        self.dense = bool((x == x[0]).all())
        self.x = _Scatter(x[0] if self.dense else x)
        self.w_wanted = any(m.parents[j].requires_grad for m in nodes for j in w_positions)
        self.x_wanted = any(m.parents[j].requires_grad for m in nodes for j in x_positions)
        self.bias = None
        if halves[2]:
            kind = self.kinds[-1]
            self.bias = (kind, _Scatter(np.array([rows[kind][id(m.parents[-1])] for m in nodes])))
            self.bias_wanted = any(m.parents[-1].requires_grad for m in nodes)

    def forward(self, values, shared):
        w, x = shared[self.w.index], values[self.x.index]
        out = w @ x if self.dense else np.einsum("kn,knb->kb", w, x)
        if self.bias is not None:
            kind, scatter = self.bias
            out += self._read(kind, scatter.index, values, shared)
        values[self.out] = out
        return w, x

    def backward(self, values, shared, grads, saved) -> None:
        w, x = saved
        upstream = grads[0][self.out]
        if self.w_wanted:
            dw = upstream @ x.T if self.dense else np.einsum("kb,knb->kn", upstream, x)
            self.w.add(grads[1], dw)
        if self.x_wanted:
            dx = w.T @ upstream if self.dense else w[:, :, None] * upstream[:, None, :]
            self.x.add(grads[0], dx)
        if self.bias is not None and self.bias_wanted:
            self._send(self.bias[0], self.bias[1], grads, upstream)

    def __str__(self) -> str:
        k, n = self.w.index.shape
        how = "one matrix product" if self.dense else "one einsum"
        return f"dot x{k} as {how} ({k}x{n} weights)"


def _make_kernel(key: tuple, nodes: list[Value], out: slice, rows: dict) -> _Kernel:
    _, name, kind, kinds = key
    if name == "sum":
        return _SumKernel(key, nodes, out, rows)
    if name == "dot" and kind == _BATCHED:
        halves = split_dot(kinds)
        for shared_half in (0, 1):
            if set(halves[shared_half]) == {_SHARED} and set(halves[1 - shared_half]) == {_BATCHED}:
                return _MatMulKernel(key, nodes, out, rows, shared_half)
    return _ElementwiseKernel(key, nodes, out, rows)
