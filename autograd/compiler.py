"""`autograd.compile`: run the traced scalar graph of a per-sample function for a whole batch.

A graph of scalar Values is the clearest way to watch backpropagation and the slowest way to
train: one Python object per multiply. Compiling keeps that graph as the single meaning of the
model and adds a second way to execute it. `compile(loss, x0, y0)` traces `loss` once on
placeholders (see `tracing.py`), plans how the recorded graph runs (`plan`: a slot for every
node and a short list of numpy kernels) and returns a `Program`, which runs the plan forward
and backward for many samples at once:

- Every node gets a slot. Placeholders, and nodes that depend on them, are *batched*: one row
  of a (rows, batch) array. Parameters, constants and nodes computed from them alone are
  *shared*: one entry of a vector, the same for every sample; the parameters come first, in
  the order of `Program.parameters` (the parameter vector is the front of that vector): those
  given to `compile(parameters=...)`, then the others in the order the kernels read them.
- A node's level is its distance from the leaves. The nodes of one op at one level (with the
  same kinds of inputs) become one kernel, whose outputs take consecutive slots, ordered by
  their inputs' slots. So the number of numpy calls grows with the depth of the graph, not
  with its width, and a kernel usually finds its inputs side by side.
- How a kernel reaches one of its operands is decided once, when planning (`_Access`): a run
  of consecutive slots is a slice (a view, no copy), the same slot for every node a row that
  broadcasts, a layer's weights laid out row by row between its biases a strided view of the
  parameters, and anything else a gather. Gradients go back the same way: added into the
  slice in place (or written, where the slot has no other consumer), summed into the row, or
  scattered, sorted and summed with `reduceat` where a slot repeats (never `np.add.at`).
- Which kernel runs a group is asked of the op's record, never of its name (`_kernel_class`).
  Elementwise kernels compute with the op's vectorised forward (`Op.numpy`, writing into the
  slots when it is a ufunc) and partials (`Op.array_grads`). Ops whose inputs form a block
  have block kernels: a variadic op whose partials are all ones (`Op.partials_are`: sum) is
  one `np.add.reduce` over the block, its gradient passed to every input; one whose partials
  pick the first input equal to the result (max) runs its numpy form over the block and sends
  the gradient to that input; a weighted sum (`WeightedSum`) whose weights are shared and whose
  inputs are the same batched rows (a dense layer) is one matrix product, `W @ X` forward,
  `G @ X.T` and `W.T @ G` backward, and other weighted sums one product and one sum over the
  terms. Any other op (a variadic one that says nothing of its partials, say) runs
  elementwise, an operand per input.

Backward runs the kernels in reverse. When a level's kernel runs, every node that uses its
nodes sits at a deeper level and has already sent its share, so the level's gradients are
complete. Parameters stay the model's Values: `Program.backward` adds the batch's gradient into
their `.grad`, exactly where `Value.backward` would; `value_and_grad(params=vector)` touches no
Value at all, so a training loop can run on the parameter vector.

Why the plan is bound to buffers. At a batch of 32 every numpy call is a microsecond or two,
and making a kernel's views and looking up its fields again on every call cost as much as the
arithmetic. So a plan is bound once per batch size (and thread) to its buffers (`_Bound`):
each kernel becomes a pair of closures over views made once, and a training step is the
kernels' numpy calls and little else. Measured with `python -m benchmarks` against the same
training written by hand in numpy (the limit; README, Speed): the compiled program within
2x of it on moons MLP(2, [16, 16, 1]) and on digits MLP(64, [32, 10]) and MLP(64, [128, 10]);
before binding, and with a gather for every operand, it was 4 to 8x.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .ops import Op, Variadic, WeightedSum, split_dot
from .tracing import Placeholder, Trace, check_same_graph, trace
from .value import Value, _show

_BATCHED, _SHARED = 0, 1  # where a slot lives: a row of the batched array, an entry of the vector


def compile(
    fn: Callable[..., Any],
    *example_args: Any,
    check_trace: bool = True,
    check_inputs: Sequence[Sequence[Any]] | None = None,
    parameters: Sequence[Value] | None = None,
) -> Program:
    """Trace the per-sample function `fn` and return a `Program` that runs it on batches.

    `example_args` are one sample's arguments as plain numbers: a number, a (nested) list of
    numbers or an array each, like `torch.jit.trace`'s example inputs; `fn` is called once with
    placeholders of the same shapes, and may close over a model whose parameters are Values. The
    program is then called like `jax.vmap(fn)`: each argument gains a leading batch axis.

    While `fn` is traced its numbers cannot be read: an input's number raises `TracingError`,
    and with `check_trace` (the default) so do a parameter's and every number computed from an
    input or a parameter (`.data`, `float()`, a comparison, `w.detach()`, `Value(w.data)`, an
    op under `no_grad()`), since a Python decision or a constant made from them would be frozen
    into the program. `check_trace` also traces `fn` again, on `check_inputs` (a list of
    argument tuples) or on seeded standard-normal inputs, and refuses a graph that differs.
    With `check_trace=False` only the inputs are guarded: what `fn` decides on other numbers,
    or copies from a parameter, stays as it was while tracing (tracing.py).

    The numbers: every op runs its numpy form, and sums and dot products round after each
    addition (numpy's pairwise sum, the BLAS matrix product) where eager ones are correctly
    rounded (`math.fsum`): a compiled sum of n terms t is within γ_n·Σ|t| (γ_n = n·u/(1 - n·u),
    u = 2⁻⁵³) of the correctly rounded sum of its compiled inputs. So compiled and eager agree
    to rounding unless terms cancel (README, "What compiled numbers are").

    `parameters` orders the parameter vector (`Program.parameters`): these Values first (an
    optimizer's list, say; one the graph does not use gets a gradient of 0), then the graph's
    other parameters in the order the trace meets them (the default for all of them).

        >>> import autograd
        >>> w = autograd.Value(2.0, "w")
        >>> program = autograd.compile(lambda x: (w * x).tanh(), 0.5)
        >>> program([0.0, 0.5]).round(6).tolist()
        [0.0, 0.761594]
    """
    traced = trace(fn, example_args, strict=check_trace)
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
    return Program(traced, getattr(fn, "__name__", "function"), parameters)


class Program:
    """A traced graph compiled into numpy kernels. Call it on a batch for the outputs;
    `backward` also adds the batch's gradient into the parameters' `.grad`.

    The traced graph stays available: `graph` is its output, `trace_for(*sample)` evaluates it
    for one sample so that it can be drawn or stepped through like any graph.
    """

    def __init__(self, traced: Trace, name: str = "function",
                 parameters: Sequence[Value] | None = None) -> None:
        self._trace = traced
        self._name = name
        self._plan = plan(traced, parameters)
        self._bounds = threading.local()  # the plan bound to buffers, per thread and batch size
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
    def __call__(self, *batch: Any, params: np.ndarray | None = None) -> np.ndarray:
        """The outputs for a batch: shape (batch,) for one output, (batch, outputs) for many.
        `params` replaces the parameters' numbers (a vector in the order of `parameters`)."""
        return self._shaped(self._run(batch, params)[0].outputs())

    def vjp(self, *batch: Any, params: np.ndarray | None = None) -> tuple[np.ndarray, Callable]:
        """The outputs for a batch and a `pullback(grad)` that takes d(something)/d(output)
        for each sample and output (shaped like the outputs) and returns d(something)/d(params)
        summed over the batch, as a vector in the order of `parameters` (as `jax.vjp`).

        This is how a loss computed elsewhere (for example `nn`'s losses, on Values) meets a
        compiled model: run the loss on the outputs, then pull its gradient back."""
        bound, inputs, theta = self._run(batch, params)
        outputs, generation = self._shaped(bound.outputs()), bound.generation
        inputs, theta = [block.copy() for block in inputs], theta.copy()  # to run again, if
        # another call reuses the buffers first

        def pullback(grad: Any) -> np.ndarray:
            seeds = np.asarray(grad, dtype=np.float64)
            if seeds.shape != outputs.shape:
                raise ValueError(
                    f"pullback() needs one gradient per output and sample, shaped like the "
                    f"outputs {outputs.shape}, got {seeds.shape}"
                )
            if bound.generation != generation:  # another call ran on these buffers since
                bound.forward(inputs, theta)
            return bound.backward(list(enumerate(seeds.reshape(len(seeds), -1).T)))

        return outputs, pullback

    def as_values(self, *batch: Any) -> tuple[list, Callable[[], None]]:
        """The outputs for a batch as fresh leaf Values (one per sample, or a list per sample
        for several outputs), and `pull_back()`: once a backward pass over code built on them
        (a loss) has filled their `.grad`, it adds the parameters' share into their `.grad`.

        How `nn.fit(compiled=True)` trains when its loss cannot be traced: the model runs
        compiled, the loss runs on Values."""
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
        self, *batch: Any, params: np.ndarray | None = None, reduction: str = "sum",
        has_aux: bool = False,
    ) -> tuple[Any, np.ndarray]:
        """The per-sample losses and the gradient of their sum (or mean) as a vector in the
        order of `parameters`, touching no Value. `params` replaces the parameters' numbers,
        so a whole training loop can run on vectors, with `set_parameters` at the end.

        With `has_aux` (as `jax.value_and_grad`), the function's first output is the loss and
        the others ride along: the result is `((losses, aux), grad)`, aux shaped (batch, n)."""
        outputs = len(self._trace.outputs)
        if outputs != 1 and not has_aux:
            raise TypeError(
                f"value_and_grad() and backward() need a function with one output (a loss), "
                f"this one has {outputs}: reduce them to one (autograd.sum), pass "
                "has_aux=True if the first one is the loss, or give the gradient of each "
                "output with vjp() or backward(grad=...)"
            )
        if has_aux and outputs < 2:
            raise TypeError("value_and_grad(has_aux=True) needs a function that returns a list: "
                            "the loss first, then the outputs that ride along")
        if reduction not in ("sum", "mean"):
            raise ValueError(f'reduction should be "sum" or "mean", got {reduction!r}')
        bound, inputs, theta = self._bound(batch, params)
        size = len(inputs[0])
        grad = bound.value_and_grad(inputs, theta, 1.0 / size if reduction == "mean" else 1.0)
        results = bound.outputs()
        if has_aux:
            return (results[:, 0], results[:, 1:]), grad
        return results[:, 0], grad

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

    def _run(self, batch: Sequence[Any], params: np.ndarray | None):
        """Run forward on the buffers bound for this batch size: (the bound plan, the inputs,
        the parameter vector)."""
        bound, inputs, theta = self._bound(batch, params)
        bound.forward(inputs, theta)
        return bound, inputs, theta

    def _bound(self, batch: Sequence[Any], params: np.ndarray | None):
        """The plan bound to buffers for this batch size (each thread has its own), the
        inputs and the parameter vector, checked."""
        inputs = self._batch(batch)
        theta = self.parameter_vector() if params is None else self._check_vector(params)
        size = len(inputs[0])
        bounds = getattr(self._bounds, "by_size", None)
        if bounds is None:
            bounds = self._bounds.by_size = {}
        bound = bounds.get(size)
        if bound is None:
            if len(bounds) >= 4:  # a few sizes (a batch, the last one, a validation set)
                bounds.pop(next(iter(bounds)))
            bound = bounds[size] = self._plan.bind(size)
        return bound, inputs, theta

    def _shaped(self, outputs: np.ndarray) -> np.ndarray:
        return outputs[:, 0] if self._trace.single else outputs

    # ---- checking what users pass ------------------------------------------------------------
    def _check_count(self, args: Sequence[Any], where: str) -> None:
        names = self._trace.names
        if len(args) != len(names):
            raise TypeError(
                f"{where} takes {len(names)} argument{'s' * (len(names) != 1)} "
                f"({', '.join(names)}) like the traced function, got {len(args)}"
            )

    def _batch(self, batch: Sequence[Any]) -> list[np.ndarray]:
        """The batch, checked against the example: each argument as (samples, its numbers)."""
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
        return columns

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
def plan(traced: Trace, parameters: Sequence[Value] | None = None) -> Plan:
    """Plan how a traced graph runs on a batch: a slot per node (a row of the batched array or
    an entry of the shared vector), its nodes grouped into kernels, one per op and level, and
    how each kernel reaches its operands.

    The parameters take the first shared slots: `parameters` first, then the others in the
    order the kernels read them (a layer's weights row by row, then its biases), so that a
    kernel finds them side by side."""
    placeholders = [holder for holders in traced.inputs for holder in holders]
    leaves = [n for n in traced.order if n.op is None and not isinstance(n, Placeholder)]
    given = _checked_parameters(parameters)
    constants = [leaf for leaf in leaves if not leaf.requires_grad]
    slots: tuple[dict[int, int], dict[int, int]] = ({}, {})
    kind: dict[int, int] = {}
    for holder in placeholders:
        slots[_BATCHED][id(holder)] = len(slots[_BATCHED])
        kind[id(holder)] = _BATCHED
    for leaf in leaves + given:
        kind[id(leaf)] = _SHARED
    level = {id(leaf): 0 for leaf in placeholders + leaves + given}
    groups: dict[tuple, list[Value]] = {}
    for node in traced.order:
        if node.op is None:
            continue
        level[id(node)] = 1 + max(level[id(p)] for p in node.parents)
        kinds = tuple(kind[id(p)] for p in node.parents)
        kind[id(node)] = _BATCHED if _BATCHED in kinds else _SHARED
        key = (level[id(node)], node.op, kind[id(node)], kinds)
        groups.setdefault(key, []).append(node)
    rank = {id(node): i for i, node in enumerate(traced.order)}  # orders leaves without slots
    count = len({id(p) for p in given} | {id(p) for p in leaves if p.requires_grad})
    following = [len(placeholders), count + len(constants)]  # the next free slot of each storage
    planned = []
    for key in sorted(groups, key=lambda key: key[0]):  # stable: first seen first
        nodes, storage = groups[key], key[2]
        nodes.sort(key=lambda n: [(kind[id(p)], slots[kind[id(p)]].get(id(p), -1), rank.get(id(p), -1))
                                  for p in n.parents])
        start = following[storage]
        for node in nodes:
            slots[storage][id(node)] = following[storage]
            following[storage] += 1
        planned.append((key, _kernel_class(key[1], key[3]), nodes, slice(start, following[storage])))
    params = _parameter_order(given, planned, leaves)
    for slot, leaf in enumerate(params + constants):
        slots[_SHARED][id(leaf)] = slot
    kernels = [kernel(depth, op, storage, kinds, nodes, out, slots)
               for (depth, op, storage, kinds), kernel, nodes, out in planned]
    outputs = [(kind[id(v)], slots[kind[id(v)]][id(v)]) for v in traced.outputs]
    _mark_sole_consumers(kernels, outputs, following)
    padding = max([access.extent - following[_SHARED] for k in kernels for access, _ in k.operands()]
                  + [0])
    shared = np.zeros(following[_SHARED] + padding)
    shared[len(params) : len(params) + len(constants)] = [c.data for c in constants]
    return Plan(params, len(placeholders), following[_BATCHED], shared, kernels, outputs)


def _checked_parameters(parameters: Sequence[Value] | None) -> list[Value]:
    """`compile(parameters=...)`: distinct parameters (leaves that need a gradient)."""
    if parameters is None:
        return []
    if isinstance(parameters, Value) or not isinstance(parameters, (list, tuple)):
        raise TypeError(f"compile(parameters=...) needs a list of Values, got {_show(parameters)}")
    seen: set[int] = set()
    for p in parameters:
        if not isinstance(p, Value):
            raise TypeError(f"compile(parameters=...) needs Values, got {_show(p)}")
        if p.op is not None or not p.requires_grad or isinstance(p, Placeholder):
            raise ValueError(f"compile(parameters=...): {p.label or p!r} is not a parameter (a "
                             "leaf Value that needs a gradient)")
        if id(p) in seen:
            raise ValueError(f"compile(parameters=...) lists {p.label or p!r} twice")
        seen.add(id(p))
    return list(parameters)


def _parameter_order(given: list[Value], planned: list, leaves: list[Value]) -> list[Value]:
    """`given`, then the other parameters as the kernels read them: operand by operand (a
    weighted sum's weights, its inputs, its bias; all the inputs of a block), node by node."""
    order, seen = list(given), {id(p) for p in given}
    for (_, _, _, kinds), kernel, nodes, _ in planned:
        for positions in kernel.positions(len(kinds)):
            for node in nodes:
                for j in positions:
                    parent = node.parents[j]
                    if parent.op is None and parent.requires_grad and id(parent) not in seen:
                        seen.add(id(parent))
                        order.append(parent)
    # a parameter no kernel reads: the function's output itself
    return order + [p for p in leaves if p.requires_grad and id(p) not in seen]


def _mark_sole_consumers(kernels: list[_Kernel], outputs: list[tuple[int, int]],
                         sizes: tuple[int, int]) -> None:
    """Let an operand write its gradient instead of adding it where it is the only thing that
    sends a gradient to its slots (no other kernel reads them, and they are not outputs)."""
    counts = (np.zeros(sizes[_BATCHED], int), np.zeros(sizes[_SHARED], int))
    for storage, slot in outputs:
        counts[storage][slot] += 1
    wanted = [access for kernel in kernels for access, want in kernel.operands() if want]
    for access in wanted:
        counts[access.storage][:] += np.bincount(access.index, minlength=sizes[access.storage])
    for access in wanted:
        access.sole = access.mode in ("slice", "strided", "gather") and not access.broadcast \
            and access.unique and bool((counts[access.storage][access.index] == 1).all())


@dataclass(frozen=True)
class Plan:
    """How a traced graph runs: the parameters (the first entries of the shared vector), how
    many batched rows the inputs fill and how many there are in all, the shared vector with
    the constants' numbers in place, the kernels in order, and each output's (storage, slot).
    `bind(size)` makes the buffers for batches of `size` and the kernels' views into them."""

    parameters: list[Value]
    inputs: int
    batched_rows: int
    shared: np.ndarray
    kernels: list[_Kernel]
    outputs_at: list[tuple[int, int]]

    def bind(self, size: int) -> _Bound:
        return _Bound(self, size)


class _Bound:
    """A plan bound to buffers for batches of one size: every kernel's operands, outputs and
    gradients are views made once, so a call runs the kernels' numpy calls and little else.
    `forward` overwrites the buffers (`generation` counts the calls); `backward` then pulls
    the gradient back from them."""

    def __init__(self, plan: Plan, size: int) -> None:
        self.plan = plan
        self.values = np.empty((plan.batched_rows, size))
        self.shared = plan.shared.copy()
        # np.zeros, not zeros_like: the pages of a large buffer are only taken when written,
        # so a batch size that is only ever run forward (a validation set) costs no gradients
        self.grads = (np.zeros(self.values.shape), np.zeros(self.shared.shape))
        buffers = (self.values, self.shared)
        bound = [kernel.bind(buffers, self.grads) for kernel in plan.kernels]
        self.forwards = [forward for forward, _ in bound]
        self.backwards = [(backward, i) for i, (kernel, (_, backward)) in
                          enumerate(zip(plan.kernels, bound)) if kernel.needs_grad][::-1]
        self.saved: list = []
        self.generation = 0
        self.runs = []  # (columns, storage, slots) of outputs in consecutive slots of one storage
        for column, (storage, slot) in enumerate(plan.outputs_at):
            if self.runs and self.runs[-1][1] == storage and self.runs[-1][2].stop == slot:
                columns, _, slots = self.runs[-1]
                self.runs[-1] = (slice(columns.start, column + 1), storage, slice(slots.start, slot + 1))
            else:
                self.runs.append((slice(column, column + 1), storage, slice(slot, slot + 1)))

    def forward(self, inputs: list[np.ndarray], theta: np.ndarray) -> None:
        """Run the kernels on `inputs` (each argument as (samples, its numbers)) with the
        parameters `theta`."""
        with np.errstate(all="ignore"):
            self._forward(inputs, theta)

    def backward(self, seeds: list[tuple[int, Any]]) -> np.ndarray:
        """The chain rule over the kernels from `seeds`, (output, d/d(output) per sample: an
        array, or one number for all) pairs: the gradient with respect to the parameters, as
        a new vector."""
        with np.errstate(all="ignore"):
            return self._backward(seeds)

    def value_and_grad(self, inputs: list[np.ndarray], theta: np.ndarray, seed: float) -> np.ndarray:
        """`forward`, then `backward` from the first output with `seed` for every sample."""
        with np.errstate(all="ignore"):
            self._forward(inputs, theta)
            return self._backward([(0, seed)])

    def _forward(self, inputs: list[np.ndarray], theta: np.ndarray) -> None:
        row = 0
        for block in inputs:
            self.values[row : row + block.shape[1]] = block.T
            row += block.shape[1]
        self.shared[: len(theta)] = theta
        self.saved = [forward() for forward in self.forwards]
        self.generation += 1

    def _backward(self, seeds: list[tuple[int, Any]]) -> np.ndarray:
        batched, shared = self.grads
        batched.fill(0.0)
        shared.fill(0.0)
        for column, seed in seeds:
            storage, slot = self.plan.outputs_at[column]
            if storage == _BATCHED:
                batched[slot] += seed
            else:  # the same output for every sample: its gradient is the batch's sum
                shared[slot] += np.sum(seed) if isinstance(seed, np.ndarray) else seed * len(batched[0])
        saved = self.saved
        for backward, i in self.backwards:
            backward(saved[i])
        return shared[: len(self.plan.parameters)].copy()

    def outputs(self) -> np.ndarray:
        """The outputs as (samples, outputs): a copy of each run of them in consecutive slots."""
        result = np.empty((self.values.shape[1], len(self.plan.outputs_at)))
        for columns, storage, slots in self.runs:
            result[:, columns] = self.values[slots].T if storage == _BATCHED else self.shared[slots]
        return result


class _Access:
    """How a kernel reaches one operand: `index` holds the slots, one per node (shape (K,)) or
    one per node and term (shape (K, n)). Bound to buffers, `reader` gives the numbers shaped
    like `index`, with a batch axis last for a batched kernel, and `sender` a function that
    takes a gradient of that shape (or one that broadcasts to it) and a factor, and adds their
    product into the slots, or writes it there when `sole`.

    The pattern of the slots is found once: "slice" (consecutive: a view), "row" (one slot for
    every node, for an operand with one slot per node: a view that broadcasts), "strided"
    (shared rows of n consecutive slots a fixed step apart, as a layer's weights between its
    biases: a view), "gather" (anything else: a copy)."""

    def __init__(self, storage: int, index: np.ndarray, batched_kernel: bool,
                 per_node: bool = False) -> None:
        self.storage, self.shape = storage, index.shape
        self.broadcast = batched_kernel and storage == _SHARED  # one number for every sample
        self.index = flat = index.ravel()
        self.unique = np.unique(flat).size == flat.size
        self.sole = False
        self.start = first = int(flat[0])
        self.extent = 0  # how far a strided view reaches
        if per_node and flat.size > 1 and (flat == first).all():
            self.mode = "row"
        elif (flat == np.arange(first, first + flat.size)).all():
            self.mode = "slice"
        elif storage == _SHARED and _is_strided(index):
            self.mode, self.step = "strided", int(flat[index.shape[1] if index.ndim > 1 else 1] - first)
            self.extent = first + index.shape[0] * self.step
        else:
            self.mode = "gather"
            if not self.unique:  # to sum the repeats: sorted, the start of each run
                self.order = np.argsort(flat, kind="stable")
                runs = flat[self.order]
                self.runs = np.flatnonzero(np.r_[True, runs[1:] != runs[:-1]])
                self.targets = runs[self.runs]

    def _view(self, buffer: np.ndarray) -> np.ndarray:
        """The slots as a view shaped like `index` (plus the batch axis): slice, strided, row."""
        if self.mode == "row":
            return buffer[self.start : self.start + 1]
        if self.mode == "slice":
            block = buffer[self.start : self.start + self.index.size]
            return block.reshape(self.shape + buffer.shape[1:]) if len(self.shape) > 1 else block
        rows = self.shape[0]  # strided: shared, so no batch axis
        block = buffer[self.start : self.start + rows * self.step].reshape(rows, self.step)
        return block[:, : self.shape[1]] if len(self.shape) > 1 else block[:, 0]

    def reader(self, buffers) -> Callable[[], np.ndarray]:
        buffer = buffers[self.storage]
        if self.mode == "gather":
            index, shape = self.index, self.shape + buffer.shape[1:] + (1,) * self.broadcast
            return lambda: buffer[index].reshape(shape)
        view = self._view(buffer)
        view = view[..., None] if self.broadcast else view
        return lambda: view

    def sender(self, grads) -> Callable[..., None]:
        """`send(gradient, factor=1.0)`: put gradient · factor into the slots, the closure
        made for this access's pattern (a factor of ±1 costs no multiply)."""
        buffer = grads[self.storage]
        full, rows = self.shape + buffer.shape[1:], (-1,) + buffer.shape[1:]
        broadcast = self.broadcast

        def scaled(gradient, factor):
            if factor.__class__ is not float or factor != 1.0:
                gradient = gradient * factor
            # shared numbers read by every sample: their gradient is the sum over the batch
            return np.add.reduce(gradient, axis=-1) if broadcast else gradient

        if self.mode == "row":
            view = self._view(buffer)

            def send(gradient, factor=1.0):
                negative = factor.__class__ is float and factor == -1.0 and not broadcast
                gradient = gradient if negative else scaled(gradient, factor)
                if gradient.shape != full:
                    gradient = np.broadcast_to(gradient, full)
                total = np.add.reduce(gradient.reshape(rows), axis=0)
                (np.subtract if negative else np.add)(view, total, out=view)
        elif self.mode == "gather":
            index, unique, sole = self.index, self.unique, self.sole

            def send(gradient, factor=1.0):
                gradient = scaled(gradient, factor)
                if gradient.shape != full:
                    gradient = np.broadcast_to(gradient, full)
                flat = gradient.reshape(rows)
                if not unique:  # repeated slots: sorted, each run summed
                    buffer[self.targets] += np.add.reduceat(flat[self.order], self.runs, axis=0)
                elif sole:
                    buffer[index] = flat
                else:
                    buffer[index] += flat
        elif self.sole:  # slice or strided, and nothing else sends to these slots: write
            view = self._view(buffer)

            def send(gradient, factor=1.0):
                if broadcast:
                    view[...] = scaled(gradient, factor)
                elif factor.__class__ is not float:  # an array of partials
                    np.multiply(gradient, factor, out=view)
                elif factor == 1.0:
                    view[...] = gradient
                elif factor == -1.0:
                    np.negative(gradient, out=view)
                else:
                    np.multiply(gradient, factor, out=view)
        else:  # slice or strided: add in place
            view = self._view(buffer)

            def send(gradient, factor=1.0):
                if broadcast or factor.__class__ is not float:
                    np.add(view, scaled(gradient, factor), out=view)
                elif factor == 1.0:
                    np.add(view, gradient, out=view)
                elif factor == -1.0:
                    np.subtract(view, gradient, out=view)
                else:
                    np.add(view, gradient * factor, out=view)

        return send

    def __str__(self) -> str:
        return self.mode


def _is_strided(index: np.ndarray) -> bool:
    """Rows of consecutive slots (or single slots) whose starts are a fixed step (at least a
    row) apart."""
    grid = index if index.ndim == 2 else index[:, None]
    rows, width = grid.shape
    if rows < 2:
        return False
    step = grid[1, 0] - grid[0, 0]
    expected = grid[0, 0] + step * np.arange(rows)[:, None] + np.arange(width)[None, :]
    return bool(step >= width and (grid == expected).all())


# ---- kernels: one numpy computation for the nodes of one op at one level --------------------
class _Kernel:
    """The nodes of one op at one level, in the consecutive slots `out` of `storage`. Bound to
    buffers, a kernel gives a `forward()` that fills the slots and returns what backward needs,
    and a `backward(saved)` that sends their gradients to their operands."""

    def __init__(self, level: int, op: Op, storage: int, nodes: list[Value], out: slice) -> None:
        self.level, self.op, self.storage, self.out = level, op, storage, out
        self.count = len(nodes)
        self.needs_grad = any(node.requires_grad for node in nodes)

    @staticmethod
    def positions(arity: int) -> list[Sequence[int]]:
        """Which inputs of a node the kernel reads as one operand: here each on its own."""
        return [[j] for j in range(arity)]

    def operands(self) -> list[tuple[_Access, bool]]:
        """Each operand and whether its gradient is wanted (some node in it needs one)."""
        raise NotImplementedError

    def bind(self, buffers, grads) -> tuple[Callable[[], Any], Callable[[Any], None]]:
        raise NotImplementedError

    def _slots(self, buffers, grads) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's output slots and their gradients, as views."""
        return buffers[self.storage][self.out], grads[self.storage][self.out]

    def __str__(self) -> str:
        reads = ", ".join(str(access) for access, _ in self.operands())
        return f"{self.op.name} x{self.count} (reads {reads})"


def _operand(storage: int, nodes: list[Value], positions: Sequence[int], slots,
             batched_kernel: bool, flat: bool = False) -> tuple[_Access, bool]:
    """The access to the parents at `positions` of each node: shape (K,) for one position
    (with `flat`), (K, n) for several; wanted if any of them needs a gradient."""
    index = np.array([[slots[storage][id(n.parents[j])] for j in positions] for n in nodes])
    wanted = any(n.parents[j].requires_grad for n in nodes for j in positions)
    if flat:
        return _Access(storage, index[:, 0], batched_kernel, per_node=True), wanted
    return _Access(storage, index, batched_kernel), wanted


def _senders(operands: list[tuple[_Access, bool]], grads) -> list:
    """A sender for each wanted operand, None for the others."""
    return [access.sender(grads) if wanted else None for access, wanted in operands]


class _ElementwiseKernel(_Kernel):
    """Any op, on one row (or entry) per node: `op.numpy(*operands)` forward, the op's array
    partials backward. A ufunc writes straight into the slots."""

    def __init__(self, level, op, storage, kinds, nodes, out, slots) -> None:
        super().__init__(level, op, storage, nodes, out)
        batched = storage == _BATCHED
        self.inputs = [_operand(kind, nodes, [j], slots, batched, flat=True)
                       for j, kind in enumerate(kinds)]
        # a ufunc writes into the slots when the operands broadcast to all of them: some operand
        # has a row per node (a batched kernel always has a batched operand)
        self.ufunc = isinstance(op.numpy, np.ufunc) and any(a.mode != "row" for a, _ in self.inputs)

    def operands(self):
        return self.inputs

    def bind(self, buffers, grads):
        reads = [access.reader(buffers) for access, _ in self.inputs]
        sends = _senders(self.inputs, grads)
        out, upstream = self._slots(buffers, grads)
        numpy_form = self.op.numpy
        partials = self.op.numpy_partials or self.op.partials  # Op.array_grads, whose
        # np.errstate is already set around the whole backward

        if self.ufunc:
            def forward():
                operands = [read() for read in reads]
                numpy_form(*operands, out=out)
                return operands
        else:
            def forward():
                operands = [read() for read in reads]
                out[...] = numpy_form(*operands)
                return operands

        def backward(operands) -> None:
            for send, partial in zip(sends, partials(out, *operands)):
                if send is not None:
                    send(upstream, partial)

        return forward, backward


class _BlockKernel(_Kernel):
    """Nodes of a variadic op whose n inputs are read as one (K, n) block per storage."""

    @staticmethod
    def positions(arity: int) -> list[Sequence[int]]:
        return [range(arity)]


class _SumKernel(_BlockKernel):
    """Nodes of a variadic op whose partials are all ones (`partials_are == "ones"`: sum), so
    the sum of its n inputs: one `np.add.reduce` over the (K, n) block per storage, and
    backward the node's gradient passed to every input."""

    def __init__(self, level, op, storage, kinds, nodes, out, slots) -> None:
        super().__init__(level, op, storage, nodes, out)
        self.parts = [_operand(kind, nodes, [j for j, k in enumerate(kinds) if k == kind], slots,
                               storage == _BATCHED)
                      for kind in (_BATCHED, _SHARED) if kind in kinds]

    def operands(self):
        return self.parts

    def bind(self, buffers, grads):
        reads = [access.reader(buffers) for access, _ in self.parts]
        sends = [send for send in _senders(self.parts, grads) if send is not None]
        out, upstream = self._slots(buffers, grads)
        per_term = upstream[:, None]  # the same gradient for every term

        def forward():
            np.add.reduce(reads[0](), axis=1, out=out)
            for read in reads[1:]:
                np.add(out, np.add.reduce(read(), axis=1), out=out)

        def backward(_) -> None:
            for send in sends:
                send(per_term)

        return forward, backward


class _PickKernel(_BlockKernel):
    """Nodes of a variadic op that picks one of its n inputs (`partials_are == "first equal"`:
    max): the op's numpy form over the columns of the (K, n) block, and backward the rule its
    partials follow, on the whole block: the gradient goes to the first input equal to the
    result (the first nan, where the result is nan)."""

    def __init__(self, level, op, storage, kinds, nodes, out, slots) -> None:
        super().__init__(level, op, storage, nodes, out)
        batched = storage == _BATCHED
        self.parts = []
        for kind in (_BATCHED, _SHARED):
            positions = [j for j, k in enumerate(kinds) if k == kind]
            if positions:
                self.parts.append((*_operand(kind, nodes, positions, slots, batched), positions))
        self.width = len(kinds)
        self.grid = np.arange(self.width).reshape((1, -1) + (1,) * batched)

    def operands(self):
        return [(access, wanted) for access, wanted, _ in self.parts]

    def bind(self, buffers, grads):
        reads = [(access.reader(buffers), positions) for access, _, positions in self.parts]
        sends = [(send, positions) for send, (_, _, positions)
                 in zip(_senders(self.operands(), grads), self.parts) if send is not None]
        out, upstream = self._slots(buffers, grads)
        above, grid, single = upstream[:, None], self.grid, len(self.parts) == 1
        shape = (self.count, self.width) + buffers[self.storage].shape[1:]
        numpy_form, result = self.op.numpy, out[:, None]
        # the block is the same array on every call (a view, or inputs from both storages
        # copied into one), except for a gather; so are its columns, the op's inputs
        block = np.empty(shape) if not single else \
            None if self.parts[0][0].mode == "gather" else reads[0][0]()
        columns = None if block is None else list(block.swapaxes(0, 1))

        def forward():
            if block is None:
                gathered = reads[0][0]()
                out[...] = numpy_form(*gathered.swapaxes(0, 1))
                return gathered
            if not single:
                for read, positions in reads:
                    block[:, positions] = read()
            out[...] = numpy_form(*columns)
            return block

        def backward(block) -> None:
            picked = block == result
            if not picked.any(axis=1).all():  # a nan result, which no input equals
                picked |= (block != block) & (result != result)
            gradient = (grid == picked.argmax(axis=1)[:, None]) * above  # argmax: the first
            for send, positions in sends:
                send(gradient if single else gradient[:, positions])

        return forward, backward


class _DotKernel(_Kernel):
    """Weighted sums (w·x + b, n terms each: `WeightedSum`, as dot) whose weights all live in
    one storage and whose inputs too. `a` is the shared half and `b` the batched one where they differ:

    - "matmul": every node reads the same batched rows (a dense layer): `A @ B`;
    - "gathered": each node its own batched rows: Σ_n A[k, n] B[k, n, b];
    - "rows": both halves batched: Σ_n A[k, n, b] B[k, n, b];
    - "shared": both halves shared: Σ_n A[k, n] B[k, n] (plus a batched bias, if any).
    """

    def __init__(self, level, op, storage, kinds, nodes, out, slots) -> None:
        super().__init__(level, op, storage, nodes, out)
        w, x, bias = split_dot(range(len(kinds)))
        wk, xk = kinds[w[0]], kinds[x[0]]
        if wk == _BATCHED and xk == _SHARED:  # a product commutes: the shared half first
            w, x, wk, xk = x, w, xk, wk
        rows = np.array([[slots[xk][id(n.parents[j])] for j in x] for n in nodes])
        if wk == _SHARED and xk == _BATCHED and (rows == rows[0]).all():
            self.form = "matmul"
            self.b = (_Access(xk, rows[0], False),
                      any(n.parents[j].requires_grad for n in nodes[:1] for j in x))
        else:
            self.form = "gathered" if wk != xk else "rows" if wk == _BATCHED else "shared"
            self.b = _operand(xk, nodes, x, slots, False)
        self.a = _operand(wk, nodes, w, slots, False)  # the halves' batch axes are the kernel's
        self.bias = _operand(kinds[-1], nodes, bias, slots, storage == _BATCHED, flat=True) \
            if bias else None

    @staticmethod
    def positions(arity: int) -> list[Sequence[int]]:
        return [half for half in split_dot(range(arity)) if half]  # weights, inputs, bias

    def operands(self):
        return [self.a, self.b] + ([self.bias] if self.bias else [])

    def bind(self, buffers, grads):
        read_a, read_b = self.a[0].reader(buffers), self.b[0].reader(buffers)
        send_a, send_b, send_bias = (_senders(self.operands(), grads) + [None])[:3]
        read_bias = self.bias[0].reader(buffers) if self.bias else None
        out, upstream = self._slots(buffers, grads)
        form, spread = self.form, self.form == "shared" and self.storage == _BATCHED

        def forward():
            a, b = read_a(), read_b()
            if form == "matmul":
                np.matmul(a, b, out=out)
                if read_bias is not None:
                    np.add(out, read_bias(), out=out)
                return a, b
            products = a[:, :, None] * b if form == "gathered" else a * b
            if read_bias is None and not spread:
                np.add.reduce(products, axis=1, out=out)
                return a, b
            core = np.add.reduce(products, axis=1)
            if spread:  # shared weights and inputs, a batched bias
                core = core[:, None]
            if read_bias is None:
                out[...] = core
            else:
                np.add(core, read_bias(), out=out)
            return a, b

        def backward(saved) -> None:
            a, b = saved
            if form == "matmul":
                if send_a is not None:
                    send_a(upstream @ b.T)
                if send_b is not None:
                    send_b(a.T @ upstream)
            else:
                per_node = upstream.sum(axis=1) if spread else upstream
                per_term = per_node[:, None]
                if send_a is not None:
                    if form == "gathered":
                        send_a(np.add.reduce(per_term * b, axis=2))
                    else:
                        send_a(b, per_term)
                if send_b is not None:
                    send_b(a[:, :, None] if form == "gathered" else a, per_term)
            if send_bias is not None:
                send_bias(upstream)

        return forward, backward

    def __str__(self) -> str:
        count, width = self.a[0].shape
        how = "one matrix product" if self.form == "matmul" else "products summed"
        reads = ", ".join(str(access) for access, _ in self.operands())
        return f"{self.op.name} x{count} as {how} ({count}x{width} weights; reads {reads})"


_BLOCK_KERNELS: dict[str, type[_Kernel]] = {"ones": _SumKernel, "first equal": _PickKernel}
"""The block kernel for each pattern of partials an op record can state (`Op.partials_are`)."""


def _kernel_class(op: Op, kinds: tuple[int, ...]) -> type[_Kernel]:
    """The kernel for the nodes of `op` whose inputs live in `kinds`, as the op's record says:
    a weighted sum with its weights in one storage and its inputs in one, the dot kernel; a
    variadic op whose partials are all ones or pick one input, a block kernel; anything else,
    elementwise (the op's numpy form and array partials, an operand per input)."""
    if op.partials_are and op.partials_are not in _BLOCK_KERNELS:
        raise ValueError(
            f"op {op.name!r} says its partials are {op.partials_are!r}; compile() knows "
            f"{' and '.join(map(repr, _BLOCK_KERNELS))} (or \"\" to say nothing)"
        )
    if isinstance(op.notation, WeightedSum):
        weights, inputs, _ = split_dot(kinds)
        if len(set(weights)) == 1 and len(set(inputs)) == 1:
            return _DotKernel
    elif isinstance(op.notation, Variadic) and op.partials_are:
        return _BLOCK_KERNELS[op.partials_are]
    return _ElementwiseKernel
