"""Small module-level helpers are inlined into their caller; everything else still goes through δ functions.

A helper of the same module made of straight-line assignments and a ``return`` (W2's ``sigmoid``) is
lowered in place at each call, like an inner function; a helper that reads a global its caller shadows
with a local, has defaults, loops, recurses, lives in another module or is long is called through its
own δ function. Either way the gradient must match central finite differences, and float32 must stay
float32.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiffsource as ad
from finite_differences import check_pullback, numeric_partial
from bench.workloads import sigmoid as sigmoid_of_another_module

SCALE = 3.0


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def layer(W, x, b):
    """A docstring does not stop inlining."""
    z = W @ x + b
    return sigmoid(z)  # a helper inside a helper: inlined too


def net(W1, b1, W2, x):
    h = layer(W1, x, b1)
    return np.sum(sigmoid(W2 @ h) ** 2)


def scaled(x):
    return SCALE * x


def shadows_the_global(x):
    SCALE = 100.0  # noqa: F841 (the helper's SCALE is the module's, not this local)
    return np.sum(scaled(x) * x)


def same_names(x):
    # The helper's parameter is called x too, and this function has a variable called z like layer's.
    z = sigmoid(x * 2.0)
    return np.sum(sigmoid(z) + z * x)


def with_default(x, power=2):
    return x ** power


def uses_default(x):
    return np.sum(with_default(x) + with_default(x, 3))


def loops(x):
    total = x
    for _ in range(3):
        total = total * x
    return total


def uses_loop(x):
    return np.sum(loops(x))


def two_values(x):
    s = np.sin(x)
    return s, s * x


def uses_two_values(x):
    a, b = two_values(x)
    return np.sum(a * b)


def long_helper(x):
    a = x + 1
    b = a * x
    c = b - a
    d = c * c
    e = d + b
    f = e * a
    return f


def uses_long_helper(x):
    return np.sum(long_helper(x))


def countdown(x, n):
    if n == 0:
        return x
    return countdown(x * 1.5, n - 1)


def uses_recursion(x):
    return np.sum(countdown(x, 2))


def uses_other_module(x):
    return np.sum(sigmoid_of_another_module(x))


def uses_constant_call(x, y):
    return np.sum(sigmoid(y) * x)  # sigmoid of a constant: a plain call, no derivative


def _args(shapes, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [(0.5 * rng.standard_normal(s)).astype(dtype) for s in shapes]


def _delta(fn, nargs=1, wrt=None):
    return ad.transform(fn, tuple(wrt is None or i in wrt for i in range(nargs)))


def _source(fn, nargs=1):
    return _delta(fn, nargs).__source__


def _check(fn, args, wrt=None):
    return check_pullback(fn, _delta(fn, len(args), wrt), args, wrt=wrt)


def test_helpers_are_inlined_and_match_finite_differences():
    args = _args([(4, 5), (4,), (3, 4), (5,)])
    _check(net, args)
    text = _source(net, 4)
    assert "δlayer" not in text and "δsigmoid" not in text, text
    assert "sigmoid_x" in text  # the helper's parameter, renamed into the caller


@pytest.mark.parametrize("fn", [shadows_the_global, uses_default, uses_loop, uses_long_helper, uses_recursion,
                                uses_other_module], ids=lambda f: f.__name__)
def test_helpers_that_cannot_be_inlined_go_through_their_delta_function(fn):
    (x,) = _args([(5,)], seed=1)
    _check(fn, [x])
    callee = {"shadows_the_global": "scaled", "uses_default": "with_default", "uses_loop": "loops",
              "uses_long_helper": "long_helper", "uses_recursion": "countdown",
              "uses_other_module": "sigmoid"}[fn.__name__]
    assert f"δ{callee}" in _source(fn)


def test_the_callers_local_never_captures_a_helpers_global():
    (x,) = _args([(5,)], seed=2)
    _, pullback = _delta(shadows_the_global)(x)
    np.testing.assert_allclose(pullback(1.0), 2 * SCALE * x, rtol=1e-12)


@pytest.mark.parametrize("fn", [same_names, uses_two_values], ids=lambda f: f.__name__)
def test_inlined_names_never_clash(fn):
    (x,) = _args([(6,)], seed=3)
    _check(fn, [x])
    assert "δsigmoid" not in _source(fn) and "δtwo_values" not in _source(fn)


def test_a_helper_of_constants_is_a_plain_call():
    x, y = _args([(5,), (5,)], seed=4)
    _check(uses_constant_call, [x, y], wrt=[0])


@pytest.mark.parametrize("batch", (0, 3), ids=("vector", "batch"))
def test_float32_stays_float32_through_inlined_helpers(batch):
    cols = (batch,) if batch else ()
    args64 = _args([(4, 5), (4,) + ((1,) if batch else ()), (3, 4), (5,) + cols], seed=5)
    args32 = [a.astype(np.float32) for a in args64]
    value, partials = ad.value_and_grad(net, argnums=(0, 1, 2, 3))(*args32)
    assert np.asarray(value).dtype == np.float32
    for i, p in enumerate(partials):
        assert p.dtype == np.float32 and p.shape == args32[i].shape
        np.testing.assert_allclose(p, numeric_partial(net, args64, i, [1.0]), rtol=2e-4, atol=2e-5)


def product(a, b):
    c = a @ b
    return np.sum(c)


def uses_product(w, x):
    h = np.tanh(w)
    return product(h, x)


def test_an_error_inside_an_inlined_helper_names_the_helpers_line():
    import inspect

    line = inspect.getsourcelines(product)[1] + 1  # c = a @ b
    with pytest.raises(ValueError) as info:
        _delta(uses_product, 2)(np.ones((2, 3)), np.ones((4, 1)))  # (2,3) @ (4,1): mismatched
    assert "δproduct" not in _source(uses_product, 2)
    assert info.value.__notes__ == [
        f"while running the forward pass of `uses_product`, at {__file__}:{line}  c = a @ b"]
