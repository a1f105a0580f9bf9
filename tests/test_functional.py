"""grad, value_and_grad and gradients: derivatives as functions, nesting to any order."""
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Value


def test_grad_of_a_function():
    f = lambda x: (x * x).sin()
    assert autograd.grad(f)(1.5) == pytest.approx(2 * 1.5 * math.cos(1.5**2), rel=1e-14)


@given(x=st.floats(-2, 2))
def test_grad_composes_to_higher_orders(x):
    f = lambda x: x**4 + x.sin()
    d1, d2, d3 = (autograd.grad(f), autograd.grad(autograd.grad(f)),
                  autograd.grad(autograd.grad(autograd.grad(f))))
    assert d1(x) == pytest.approx(4 * x**3 + math.cos(x), abs=1e-12)
    assert d2(x) == pytest.approx(12 * x**2 - math.sin(x), abs=1e-12)
    assert d3(x) == pytest.approx(24 * x - math.cos(x), abs=1e-12)


def test_argnums_and_value_and_grad():
    f = lambda x, y: x * y.exp()
    value, (dx, dy) = autograd.value_and_grad(f, argnums=(0, 1))(2.0, 0.0)
    assert (value, dx, dy) == (2.0, 1.0, 2.0)
    assert autograd.grad(f, argnums=1)(3.0, 0.0) == 3.0
    with pytest.raises(TypeError, match="argument 2"):
        autograd.grad(f, argnums=2)(1.0, 1.0)
    with pytest.raises(TypeError, match="return one Value"):
        autograd.grad(lambda x: [x, x])(1.0)
    with pytest.raises(TypeError, match="needs a function"):
        autograd.grad(3)


def test_gradients_leaves_grads_untouched():
    x, y = Value(2.0), Value(5.0)
    x.grad = 7.0
    z = x * y
    assert autograd.gradients(z, [x, y, Value(1.0)]) == [5.0, 2.0, 0.0]
    assert x.grad == 7.0 and y.grad is None and z.grad is None


def test_mixed_partial_derivatives():
    f = lambda x, y: x * x * y
    dxy = autograd.grad(lambda x, y: autograd.grad(f, argnums=0)(x, y), argnums=1)
    assert dxy(3.0, 4.0) == 6.0  # d²(x²y)/dxdy = 2x
