"""`autograd.compile` against eager execution: the same numbers from the same graph.

Every reference here is the engine run eagerly, one sample at a time (`Value.backward`), or
numbers written in the test; the compiled program must match it to 1e-9 on random expressions
(`autograd.testing.expressions`), on hand-built MLPs with a softmax cross-entropy written with
exp/log/sum, and through `nn.fit`. Then the tracing guards, `trace_for`, and the errors.
"""
import math
import warnings
from functools import reduce

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import OPS, Program, TracingError, Value
from autograd.ops import Op, Variadic, WeightedSum, registered
from autograd.testing import expressions

from tests.compile_cases import with_parameters


def close(a, b, tol=1e-9):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, np.nanmax(np.abs(b), initial=0)))


def eager(fn, params, samples):
    """Per-sample outputs, and the parameters' grads summed over the samples, by Value.backward."""
    for p in params:
        p.grad = None
    outs = []
    for sample in samples:
        out = fn(*[[Value(v, requires_grad=False) for v in np.ravel(a)] if np.ndim(a) else
                   Value(float(a), requires_grad=False) for a in sample])
        if out.requires_grad:
            out.backward()
        outs.append(out.data)
    return np.array(outs), np.array([0.0 if p.grad is None else p.grad for p in params])


def in_order_of(program, params, grads):
    """`grads` (one per entry of `params`) in the order of `program.parameters`."""
    by_node = {id(p): g for p, g in zip(params, grads)}
    return [by_node[id(p)] for p in program.parameters]


# ---- the op table on arrays -----------------------------------------------------------------
POINTS = [-2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, float("nan")]


@pytest.mark.parametrize("name", sorted(OPS))
def test_array_grads_equal_local_grads_elementwise(name):
    op = OPS[name]
    arity = op.arity or 3
    grid = np.array(np.meshgrid(*[POINTS] * arity)).reshape(arity, -1)
    if isinstance(op.notation, WeightedSum):
        grid = np.array(np.meshgrid(*[POINTS[:5]] * 3)).reshape(3, -1)  # w, x, b
    with np.errstate(all="ignore"):
        outs = op.numpy(*grid)
    batched = op.array_grads(outs, *grid)
    for k in range(grid.shape[1]):
        column = [float(v) for v in grid[:, k]]
        expected = op.local_grads(op.evaluate(*column), *column)
        got = [np.broadcast_to(g, outs.shape)[k] for g in batched]
        np.testing.assert_array_equal(got, expected, err_msg=f"{name} at {column}")


def first_equal(out, xs):
    """1 for the first of `xs` equal to `out` (the first nan when `out` is nan), 0 for the rest."""
    hits = [x == out or (x != x and out != out) for x in xs]
    return [1.0 if i == hits.index(True) else 0.0 for i in range(len(xs))]


@pytest.mark.parametrize("name", sorted(name for name in OPS if OPS[name].partials_are))
def test_a_record_s_partials_are_what_it_says_they_are(name):
    """The compiler runs blocks on `Op.partials_are` instead of calling the partials: on floats
    and on arrays they must be exactly the pattern the record states (ties and nans too)."""
    op = OPS[name]
    assert op.partials_are in ("ones", "first equal")
    grid = np.array(np.meshgrid(*[POINTS] * 3)).reshape(3, -1)
    with np.errstate(all="ignore"):
        outs = op.numpy(*grid)
    on_arrays = [np.broadcast_to(g, outs.shape) for g in op.array_grads(outs, *grid)]
    for k in range(grid.shape[1]):
        column = [float(v) for v in grid[:, k]]
        out = op.evaluate(*column)
        want = [1.0] * 3 if op.partials_are == "ones" else first_equal(out, column)
        assert list(op.local_grads(out, *column)) == want, f"{name} at {column}"
        assert [g[k] for g in on_arrays] == want, f"{name} at {column}, on arrays"


# ---- block kernels are chosen by the record, never by the op's name ------------------------------
def _least(*xs: float) -> float:
    return math.nan if any(x != x for x in xs) else min(xs)


def _product_partials(out, *xs):
    return tuple(math.prod(xs[:i] + xs[i + 1 :]) for i in range(len(xs)))


# the smallest input: it picks one input, as max does, and says so
LEAST = Op("least", "least", Variadic(ordered=True), _least,
           lambda out, *xs: tuple(first_equal(out, xs)), lambda *xs: reduce(np.minimum, xs),
           ("1 for the first smallest input, else 0",), partials_are="first equal",
           numpy_partials=lambda out, *xs: tuple(np.array(first_equal(o, c)) for o, c in
                                                 zip(out, np.broadcast_arrays(*xs))))
# a product of its inputs: its partials are none of the patterns, so it says nothing
PRODUCT = Op("product", "Π", Variadic(), lambda *xs: math.prod(xs), _product_partials,
             lambda *xs: reduce(np.multiply, xs), ("the product of the others",))


def test_variadic_ops_run_as_their_records_say():
    """`least` (min) runs as one block because its record says its partials pick the first equal
    input, with its own numpy form (not max's); `product` says nothing, so it runs elementwise,
    an operand per input. Both give eager's numbers, on ties and nans too."""
    w = Value(0.5, "w")

    def f(a, b, c, d):
        return autograd.least([w * a, b, w * c, 0.25 * w]) + autograd.product([d, w, d])

    nan = float("nan")
    samples = [(1.0, 0.5, 1.0, 2.0), (2.0, 1.0, -1.0, -1.0), (-1.0, 3.0, -2.0, 0.5),
               (nan, 0.0, 1.0, 3.0), (1.0, nan, nan, 1.0), (0.0, -0.0, 3.0, 0.0),
               (1.0, nan, 2.0, 1.0)]  # the last: a nan result, whose gradient goes to b, not w
    with registered(LEAST, PRODUCT):
        program = autograd.compile(f, 0.0, 1.0, 2.0, 3.0)
        described = {line.split()[2]: line for line in program.describe().splitlines()}
        assert described["least"].count(",") == 1  # its batched inputs, then its shared one
        assert described["product"].count(",") == 2  # three operands
        for sample in samples:  # one at a time: a nan gradient would hide the others
            want_out, want_grad = eager(f, [w], [sample])
            got, grad = program.value_and_grad(*[[x] for x in sample])
            np.testing.assert_array_equal(got, want_out)
            close(grad, want_grad)


def test_a_pattern_of_partials_compile_does_not_know_is_refused():
    odd = Op("odd", "odd", Variadic(), lambda *xs: sum(xs), lambda out, *xs: (1.0,) * len(xs),
             lambda *xs: reduce(np.add, xs), ("1",), partials_are="all ones")
    w = Value(1.0, "w")
    with registered(odd), pytest.raises(ValueError, match=r"'all ones'; compile\(\) knows 'ones'"):
        autograd.compile(lambda x: autograd.odd([w, x]), 1.0)


# ---- random expressions ---------------------------------------------------------------------
@settings(deadline=None)
@given(expressions(n_inputs=3, max_ops=8), st.lists(st.booleans(), min_size=3, max_size=3),
       st.integers(0, 2**32 - 1))
def test_expressions_compiled_equal_eager(expr, is_param, seed):
    fn, params, point = with_parameters(expr, is_param)

    program = autograd.compile(fn, *point)
    # the drawn point and small moves around it (the expression is smooth within 0.05 there)
    jitter = np.random.default_rng(seed).uniform(-0.01, 0.01, (4, len(point)))
    batch = np.vstack([point, point + jitter])
    want_out, want_grad = eager(fn, params, [tuple(row) for row in batch])
    for p in params:
        p.grad = None
    got_out = program.backward(*batch.T)
    close(got_out, want_out)
    close([p.grad for p in program.parameters], in_order_of(program, params, want_grad))


# ---- MLPs written by hand: dot + relu/tanh, softmax cross-entropy with exp/log/sum ----------
def mlp(sizes, activation, rng):
    layers = [[([Value(rng.normal(0, 1 / np.sqrt(a))) for _ in range(a)], Value(rng.normal(0, 0.1)))
               for _ in range(b)] for a, b in zip(sizes, sizes[1:])]
    params = [p for layer in layers for w, b in layer for p in w + [b]]

    def loss(x, y):
        for i, layer in enumerate(layers):
            x = [autograd.dot(w, x, b) for w, b in layer]
            if i < len(layers) - 1:
                x = [getattr(v, activation)() for v in x]
        return autograd.sum([v.exp() for v in x]).log() - autograd.dot(y, x)

    return loss, params


@settings(deadline=None, max_examples=15)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=3), st.sampled_from(["relu", "tanh"]),
       st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_mlp_training_compiled_equals_eager(hidden, activation, batch, seed):
    rng = np.random.default_rng(seed)
    sizes = [3, *hidden, 4]
    X, Y = rng.normal(size=(batch, 3)), np.eye(4)[rng.integers(0, 4, batch)]
    runs = []
    for compiled in (False, True):
        loss, params = mlp(sizes, activation, np.random.default_rng(seed))
        program = autograd.compile(loss, X[0], Y[0])
        losses = []
        for _ in range(3):  # three SGD steps on the mean loss
            if compiled:
                for p in params:
                    p.grad = 0.0
                out = program.backward(X, Y, reduction="mean")
            else:
                out, grads = eager(loss, params, list(zip(X, Y)))
                for p, g in zip(params, grads):
                    p.grad = g / batch
            losses.append(out)
            for p in params:
                p.data -= 0.5 * p.grad
        runs.append((np.array(losses), np.array([p.data for p in params])))
    close(runs[1][0], runs[0][0])
    close(runs[1][1], runs[0][1])


def test_steps_grow_with_depth_not_width():
    rng = np.random.default_rng(0)
    counts = []
    for width in (4, 32):
        loss, _ = mlp([8, width, width, 10], "relu", rng)
        program = autograd.compile(loss, np.zeros(8), np.eye(10)[0])
        counts.append(len(program.describe().splitlines()))
        assert "dot x" in program.describe() and "one matrix product" in program.describe()
    assert counts[0] == counts[1]


def test_shared_nodes_and_repeated_inputs():
    w, c = Value(0.7, "w"), Value(-1.3, "c")

    def fn(x, y):
        s = x * x + autograd.dot([w, w], [x, x]) + autograd.sum([x, x, y]) * w
        return s * c + c * c + autograd.dot([x, y], [w, c])  # c*c: a node with no input in it

    samples = [(0.5, 2.0), (-1.5, 0.25), (3.0, -1.0)]
    want_out, want_grad = eager(fn, [w, c], samples)
    for p in (w, c):
        p.grad = None
    program = autograd.compile(fn, 0.1, 0.2)
    got = program.backward(*np.array(samples).T)
    close(got, want_out)
    close([w.grad, c.grad], want_grad)


def test_several_outputs_and_vjp():
    w = Value(2.0, "w")
    program = autograd.compile(lambda x: [w * x, (w * x).tanh(), w.exp()], 0.0)
    X = np.array([0.1, -0.4])
    out = program(X)
    close(out, np.stack([2 * X, np.tanh(2 * X), np.full(2, np.exp(2.0))], axis=1))
    outputs, pullback = program.vjp(X)
    grad = pullback(np.ones_like(outputs))
    # d/dw of Σ_samples (w x + tanh(w x) + e^w)
    close(grad, [np.sum(X + X * (1 - np.tanh(2 * X) ** 2) + np.exp(2.0))])


# ---- how kernels reach their operands: views, rows, gathers, repeats ------------------------------
@pytest.mark.parametrize("order", ["trace", "model", "reversed", "shuffled"])
def test_any_parameter_order_gives_the_same_gradients(order):
    """Layers' weights as contiguous slices (the default order), strided views (the model's
    order: weights between biases) or gathers (any other order): the same numbers as eager."""
    model = nn.MLP(4, [5, 3], activation="tanh", seed=2)
    params = model.parameters()
    given = {"trace": None, "model": params, "reversed": params[::-1],
             "shuffled": [params[i] for i in np.random.default_rng(0).permutation(len(params))]}
    X, Y = np.random.default_rng(1).normal(size=(6, 4)), np.eye(3)[[0, 2, 1, 1, 0, 2]]
    loss = lambda x, y: nn.cross_entropy([model(x)], [y])  # noqa: E731
    program = autograd.compile(loss, X[0], Y[0], parameters=given[order])
    if given[order] is not None:
        assert program.parameters == given[order]
    kinds = program.describe()
    assert {"trace": "slice", "model": "strided", "reversed": "gather", "shuffled": "gather"}[order] \
        in kinds.splitlines()[0]
    want_out, want_grad = eager(loss, params, list(zip(X, Y)))
    losses, grad = program.value_and_grad(X, Y)
    close(losses, want_out)
    close(grad, in_order_of(program, params, want_grad))


def test_repeated_slots_and_rows_send_every_gradient():
    """A parameter read at several terms and nodes (sorted and summed), an input read by every
    node of a kernel (a row), a node read by several kernels: eager numbers."""
    w, v = Value(0.7, "w"), Value(-0.4, "v")

    def f(x, y):
        h = [autograd.dot([w, w, v], [x, y, x]), autograd.dot([v, w, w], [y, y, x])]
        g = [hi * x for hi in h] + [autograd.max([hi, x]) for hi in h]
        return autograd.sum(g) + autograd.dot([w, v], [w, v]) * h[0]

    samples = [(0.5, 2.0), (-1.5, 0.25), (3.0, -1.0), (0.0, 0.0)]
    want_out, want_grad = eager(f, [w, v], samples)
    program = autograd.compile(f, 0.1, 0.2)
    got, grad = program.value_and_grad(*np.array(samples).T)
    close(got, want_out)
    close(grad, in_order_of(program, [w, v], want_grad))


def test_max_sends_its_gradient_to_the_first_largest_input_and_the_first_nan():
    w = Value(1.0, "w")
    f = lambda a, b, c: autograd.max([w * a, w * b, w * c, 0.25 * w])  # noqa: E731
    samples = [(1.0, 3.0, 3.0), (2.0, 2.0, -1.0), (0.25, 0.1, 0.0), (float("nan"), 5.0, float("nan")),
               (1.0, float("nan"), 2.0), (-0.0, 0.0, -1.0)]
    program = autograd.compile(f, 0.0, 1.0, 2.0)
    for sample in samples:
        parts = [Value(x, requires_grad=False) for x in sample]
        w.grad = None
        out = f(*parts)
        out.backward()
        got, grad = program.value_and_grad(*[[x] for x in sample])
        np.testing.assert_array_equal(got, [out.data])
        np.testing.assert_array_equal(grad, [w.grad])


def test_parameters_order_the_vector_and_are_checked():
    w, v, unused = Value(2.0, "w"), Value(3.0, "v"), Value(5.0, "unused")
    program = autograd.compile(lambda x: w * x + v, 1.0, parameters=[unused, v])
    assert program.parameters == [unused, v, w]
    _, grad = program.value_and_grad(np.array([1.0, 2.0]))
    assert grad.tolist() == [0.0, 2.0, 3.0]  # d/dunused = 0, d/dv = Σ 1, d/dw = Σ x
    with pytest.raises(TypeError, match="needs a list of Values"):
        autograd.compile(lambda x: w * x, 1.0, parameters=w)
    with pytest.raises(TypeError, match="needs Values, got a float"):
        autograd.compile(lambda x: w * x, 1.0, parameters=[1.5])
    with pytest.raises(ValueError, match="'c' is not a parameter"):
        autograd.compile(lambda x: w * x, 1.0, parameters=[Value(1.0, "c", requires_grad=False)])
    with pytest.raises(ValueError, match="lists 'w' twice"):
        autograd.compile(lambda x: w * x, 1.0, parameters=[w, w])


def test_value_and_grad_with_outputs_that_ride_along():
    w = Value(0.5, "w")
    program = autograd.compile(lambda x: [(w * x - 1.0) ** 2, w * x, x * 2.0], 1.0)
    X = np.array([1.0, 2.0, 4.0])
    (losses, aux), grad = program.value_and_grad(X, has_aux=True, reduction="mean")
    close(losses, (0.5 * X - 1) ** 2)
    close(aux, np.stack([0.5 * X, 2 * X], axis=1))
    close(grad, [np.mean(2 * (0.5 * X - 1) * X)])
    close(program(X, params=np.array([1.0]))[:, 1], X)  # other parameter numbers, same program
    with pytest.raises(TypeError, match="has_aux=True"):
        program.value_and_grad(X)
    with pytest.raises(TypeError, match="returns a list"):
        autograd.compile(lambda x: w * x, 1.0).value_and_grad(X, has_aux=True)


def test_a_pullback_after_another_call_still_pulls_its_own_batch_back():
    w = Value(1.5, "w")
    program = autograd.compile(lambda x: (w * x).tanh(), 0.0)
    first, second = np.array([0.1, -0.3]), np.array([2.0, 0.7])
    out, pullback = program.vjp(first)
    program(second)  # the same batch size: the same buffers, overwritten
    program.vjp(second)[1](np.ones(2))
    close(pullback(np.ones(2)), [np.sum(first * (1 - np.tanh(1.5 * first) ** 2))])
    close(out, np.tanh(1.5 * first))


def test_threads_running_one_program_do_not_share_buffers():
    import threading

    w = Value(0.8, "w")
    program = autograd.compile(lambda x: (w * x).sin(), 0.0)
    batches = [np.linspace(-1, 1, 16) * k for k in range(1, 9)]
    results, errors = {}, []

    def work(k):
        try:
            for _ in range(50):
                results[k] = program.value_and_grad(batches[k])
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    for k, X in enumerate(batches):
        close(results[k][0], np.sin(0.8 * X))
        close(results[k][1], [np.sum(X * np.cos(0.8 * X))])


# ---- nn.fit(compiled=True) ------------------------------------------------------------------
def _data(case):
    rng = np.random.default_rng(3)
    if case in ("hinge", "hinge + l2"):
        X, y = nn.make_moons(40, noise=0.1, seed=0)
        return X, 2 * y - 1, 1, "linear"
    X = rng.uniform(0, 1, (40, 12))
    if case == "cross_entropy":
        return X, rng.integers(0, 5, 40), 5, "linear"
    if case == "mse":
        return X, np.eye(3)[rng.integers(0, 3, 40)], 3, "sigmoid"  # one-hot rows, 3 outputs
    if case == "binary_cross_entropy":
        return X, rng.integers(0, 2, 40).astype(float), 1, "sigmoid"
    return X, rng.uniform(0, 1, 40), 1, "linear"  # with logits: soft targets in [0, 1]


@pytest.mark.parametrize("case", ["hinge + l2", "hinge", "cross_entropy", "mse",
                                  "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_fit_compiled_equals_eager(case):
    """fit(compiled=True) traces model and loss together (no fallback warning) and gives the
    eager losses, accuracies, validation scores and parameters."""
    X, y, outputs, last = _data(case)
    loss = nn.hinge if case.startswith("hinge") else getattr(nn, case)
    results = []
    for compiled in (False, True):
        model = nn.MLP(X.shape[1], [8, 8, outputs], activation="relu", output_activation=last,
                       seed=1)
        if case == "hinge + l2":
            optimizer = nn.SGD(model.parameters(), lr=lambda k: 1.0 - 0.9 * k / 100)
            penalty = lambda: nn.l2(model.parameters(), 1e-4)  # noqa: E731
        else:
            optimizer, penalty = nn.Adam(model.parameters(), lr=0.01), None
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            history = nn.fit(model, X[:30], y[:30], loss, optimizer, epochs=3, batch_size=16,
                             penalty=penalty, validation=(X[30:], y[30:]), progress=False,
                             compiled=compiled)
        results.append((history, [p.data for p in model.parameters()]))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        close(results[1][0][key], results[0][0][key])
    close(results[1][1], results[0][1])


def test_fit_compiled_checks_targets_and_falls_back_for_a_loss_it_cannot_trace():
    X, y = nn.make_moons(20, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    with pytest.raises(ValueError, match="labels -1 or \\+1"):  # checked before tracing
        nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1), progress=False,
               compiled=True)

    def squared_if_positive(outputs, targets):  # a Python decision on the targets' numbers
        return autograd.sum([(o - t) ** 2 if t > 0 else o * 0.5 for o, t in zip(outputs, targets)])

    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, [4, 1], seed=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = nn.fit(model, X, y, squared_if_positive, nn.SGD(model.parameters(), lr=0.1),
                             epochs=2, batch_size=8, progress=False, compiled=compiled)
        runs.append((history["loss"], [p.data for p in model.parameters()]))
        assert [str(w.message)[:40] for w in caught] == (
            ["fit(compiled=True): the loss cannot be c"] if compiled else [])
    close(runs[1][0], runs[0][0])
    close(runs[1][1], runs[0][1])


# ---- tracing limits -------------------------------------------------------------------------
def test_reading_a_placeholder_number_is_refused():
    w = Value(1.0)
    with pytest.raises(TracingError, match=r"'x\[0\]' through \.data"):
        autograd.compile(lambda x: w * x[0] if x[0].data > 0 else -w * x[0], [1.0, 2.0])
    with pytest.raises(TracingError, match="through >"):
        autograd.compile(lambda x: w * x if x > 0 else w, 1.0)
    with pytest.raises(TracingError, match="float()"):
        autograd.compile(lambda x: w * float(x), 1.0)
    with pytest.raises(TracingError, match="an index"):
        autograd.compile(lambda s, y: autograd.sum(s) * w - s[y], [1.0, 2.0], 1)


def test_the_engine_reads_inputs_on_every_path_that_makes_a_node():
    """The guard refuses every reader of a placeholder's .data; the engine reads around it where
    it makes a node: methods, operators on either side, powers, n-ary ops and autograd.<fn>."""
    w = Value(0.5, "w")

    def f(x, y):
        parts = [x.tanh(), autograd.relu(y), -x, abs(y), x * y, 2.0 - x, y / 4.0, x ** 2, 2.0 ** y,
                 autograd.max([x, y]), autograd.sum([x, y, 1.0]), autograd.dot([x, y], [y, x], x)]
        return autograd.dot([w] * len(parts), parts)

    X, Y = np.array([0.3, -1.2, 2.0]), np.array([-0.7, 0.4, 2.0])
    want = 0.5 * (np.tanh(X) + np.maximum(Y, 0) - X + np.abs(Y) + X * Y + 2 - X + Y / 4 + X ** 2
                  + 2.0 ** Y + np.maximum(X, Y) + X + Y + 1 + 2 * X * Y + X)
    close(autograd.compile(f, 0.1, 0.2)(X, Y), want)


def test_is_tracing_is_true_only_while_tracing_and_inputs_print_as_values():
    w, seen, shown = Value(2.0, "w"), [], []

    def f(x):
        seen.append(autograd.is_tracing())
        shown.append(repr(x))  # printing is not deciding: allowed
        return w * x

    assert not autograd.is_tracing()
    autograd.compile(f, 1.5)
    assert seen and all(seen) and shown[0] == "Value(data=1.5, grad=None, label='x')"
    assert not autograd.is_tracing()
    with pytest.raises(ZeroDivisionError):
        autograd.compile(lambda x: 1 / 0, 1.0)
    assert not autograd.is_tracing()  # restored when the traced function raises
    with autograd.detect_anomaly(), pytest.raises(FloatingPointError, match=r"'x'=0\.0"):
        autograd.compile(lambda x: w * x.log(), 0.0)  # the message reads the input


def test_docstring_examples_of_compile_and_tracing_run():
    import doctest

    for module in (autograd.compiler, autograd.tracing):
        failures, tried = doctest.testmod(module)
        assert tried > 0 and failures == 0, module.__name__


def test_a_parameter_made_inside_the_function_is_named():
    w = Value(2.0, "w")
    with pytest.raises(TracingError, match=r"new parameter 'copy' .*each time it is called"):
        autograd.compile(lambda x: Value(2.0, "copy") * x + w * x, 1.0)


def test_constants_from_plain_numbers_and_check_trace_false_still_compile():
    w = Value(2.0, "w")
    program = autograd.compile(lambda x: w * x * 3.0 + Value(0.5, requires_grad=False), 1.0)
    close(program(np.array([1.0, 2.0])), [6.5, 12.5])
    frozen = autograd.compile(lambda x: w.detach() * x + w * x, 1.0, check_trace=False)
    w.data = 5.0  # the documented limit: the detached copy keeps the compile-time 2.0
    close(frozen(np.array([1.0])), [2.0 + 5.0])


def test_nn_logsumexp_traces_since_its_shift_is_a_max_node():
    w = Value(1.5, "w")
    program = autograd.compile(lambda s: nn.logsumexp([w * v for v in s]), [1.0, 3.0])
    S = np.array([[1.0, 3.0], [-2.0, 0.5], [400.0, 401.0]])  # the last overflows without a shift
    got = program.backward(S)
    z = 1.5 * S
    top = z.max(axis=1)
    close(got, top + np.log(np.exp(z - top[:, None]).sum(axis=1)))
    p = np.exp(z - top[:, None]) / np.exp(z - top[:, None]).sum(axis=1, keepdims=True)
    close(w.grad, (p * S).sum())  # d/dw Σ_samples logsumexp(w·s) = Σ softmax(w·s)·s


# ---- the kept graph ---------------------------------------------------------------------------
def test_trace_for_gives_the_graph_of_one_sample():
    loss, params = mlp([3, 4, 2], "tanh", np.random.default_rng(5))
    program = autograd.compile(loss, np.zeros(3), np.eye(2)[0])
    x, y = np.array([0.3, -1.2, 2.0]), np.eye(2)[1]
    want_out, want_grad = eager(loss, params, [(x, y)])
    for p in params:
        p.grad = None
    root = program.trace_for(x, y)
    assert root is program.graph
    assert root.grad is None
    root.backward()
    close(root.data, want_out[0])
    close([p.grad for p in program.parameters], in_order_of(program, params, want_grad))
    labels = {v.label for v in autograd.topological_order(root) if v.op is None}
    assert {"x[0]", "x[2]", "y[1]"} <= labels
    assert "x[1]" in autograd.draw(root).source  # it draws like any graph


# ---- errors -------------------------------------------------------------------------------------
def test_misuse_gives_clear_errors():
    w = Value(1.0)
    program = autograd.compile(lambda x, y: w * autograd.dot(x, [1.0, 2.0]) + y, [0.0, 0.0], 0.0)
    assert isinstance(program, Program) and "parameters" in repr(program)
    with pytest.raises(TypeError, match=r"takes 2 arguments \(x, y\)"):
        program(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        program(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="same, non-zero number of samples"):
        program(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="reduction"):
        program.backward(np.zeros((3, 2)), np.zeros(3), reduction="avg")
    with pytest.raises(ValueError, match="parameter vector"):
        program.value_and_grad(np.zeros((3, 2)), np.zeros(3), params=np.zeros(2))
    with pytest.raises(ValueError, match="shaped like the outputs"):
        program.vjp(np.zeros((3, 2)), np.zeros(3))[1](np.zeros(4))
    with pytest.raises(TypeError, match="should return a Value"):
        autograd.compile(lambda x: 3.0, 1.0)
    with pytest.raises(TypeError, match="got a Value"):
        autograd.compile(lambda x: x, Value(1.0))
    with pytest.raises(ValueError, match="example arguments"):
        autograd.compile(lambda: w)
    with pytest.raises(TypeError, match="one output"):
        autograd.compile(lambda x: [w * x, w], 1.0).backward(np.zeros(2))
