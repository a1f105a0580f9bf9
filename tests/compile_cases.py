"""Random programs for the compile tests: an expression from `autograd.testing.expressions`
with some of its inputs made parameters (Values the traced function closes over)."""
from autograd import Value


def with_parameters(expr, is_param: list[bool]):
    """(fn, params, point): `fn` takes the inputs that are not parameters, `params` are the
    Values standing for the others, `point` the drawn numbers of `fn`'s inputs. At least one
    input is a parameter and one is not (the first is made the parameter otherwise)."""
    if not any(is_param) or all(is_param):
        is_param = [True] + [False] * (len(is_param) - 1)
    params = [Value(x, f"p{i}") for i, (x, p) in enumerate(zip(expr.inputs, is_param)) if p]
    point = [x for x, p in zip(expr.inputs, is_param) if not p]

    def fn(*inputs):
        inputs, ps, args = list(inputs), iter(params), []
        for p in is_param:
            args.append(next(ps) if p else inputs.pop(0))
        return expr(*args)

    return fn, params, point
