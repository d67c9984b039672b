"""The awkward points: kinks, ties, zeros, where a rule must give a stated subgradient and never NaN.

Finite differences say nothing at a kink, so these tests state the convention and check it: ties share
the cotangent equally (max, min, maximum, clip, median, ptp, norms), |x| and its relatives have slope 0
at 0, smooth functions through zero (prod, cumprod, x ** 2) are exact there. Also: constants are
constants, and NumPy functions without a rule are refused by name rather than silently zeroed.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import scipy.special as special

import autodiffsource
from autodiffsource.errors import MissingRuleError
from rule_harness import USER_GLOBALS, make_function, numeric_partial


def grad_of(body: str, *args, params=("x", "y", "z")):
    f = make_function(body if "return" in body else f"return {body}", list(params[: len(args)]), USER_GLOBALS)
    out, pullback = autodiffsource.vjp(f, *args)
    partials = pullback(np.ones_like(out) if np.shape(out) else 1.0)
    return partials if len(args) > 1 else partials[0]


def finite(*values):
    return all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in values)


# ---- kinks: one-sided slopes differ, the convention is stated -------------------------------------------

@pytest.mark.parametrize("body", ["np.sum(np.abs(x))", "np.sum(np.fabs(x))", "np.sum(abs(x))",
                                  "np.linalg.norm(x, 1)"])
def test_absolute_value_has_slope_zero_at_zero(body):
    g = grad_of(body, np.array([-2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])


def test_max_ties_share_equally():
    np.testing.assert_array_equal(grad_of("np.max(x)", np.array([1.0, 3.0, 3.0, 2.0])), [0, 0.5, 0.5, 0])
    np.testing.assert_array_equal(grad_of("np.min(x, axis=1).sum()", np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 5.0]]))
                                  if False else grad_of("np.sum(np.min(x, axis=1))",
                                                        np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 5.0]])),
                                  [[1 / 3, 1 / 3, 1 / 3], [1, 0, 0]])
    np.testing.assert_array_equal(grad_of("x.max()", np.full((2, 2), 7.0)), np.full((2, 2), 0.25))


def test_elementwise_maximum_ties_split_and_sum_to_one():
    dx, dy = grad_of("np.sum(np.maximum(x, y))", np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 0.0]))
    np.testing.assert_array_equal(dx, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(dy, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(grad_of("np.sum(np.maximum(x, x))", np.array([1.0, -2.0])), [1.0, 1.0])
    assert grad_of("max(x, y)", 2.0, 2.0) == (0.5, 0.5)


def test_clip_at_a_bound_splits_with_the_bound():
    dx, lo = grad_of("np.sum(np.clip(x, y, 1.0))", np.array([0.0, 0.5, 2.0, -1.0]), np.array(0.0))
    np.testing.assert_array_equal(dx, [0.5, 1.0, 0.0, 0.0])
    assert float(lo) == 1.5  # half of the tie at 0.0 plus all of the clipped -1.0


def test_ptp_and_median_ties():
    np.testing.assert_array_equal(grad_of("np.ptp(x)", np.array([3.0, 1.0, 3.0, 2.0])), [0.5, -1.0, 0.5, 0.0])
    np.testing.assert_array_equal(grad_of("np.median(x)", np.array([4.0, 1.0, 2.0, 2.0, 9.0])), [0, 0, 0.5, 0.5, 0])
    np.testing.assert_array_equal(grad_of("np.median(x)", np.array([4.0, 1.0, 2.0, 9.0])), [0.5, 0, 0.5, 0])


def test_norms_at_the_zero_vector_are_zero_not_nan():
    zero = np.zeros(3)
    for body in ["np.linalg.norm(x)", "np.linalg.norm(x, np.inf)", "np.linalg.norm(x, 3)", "np.linalg.norm(x, 1)"]:
        g = grad_of(body, zero)
        assert finite(g), body
    np.testing.assert_array_equal(grad_of("np.linalg.norm(x)", zero), zero)
    np.testing.assert_array_equal(grad_of("np.linalg.norm(x, 'fro')", np.zeros((2, 2))), np.zeros((2, 2)))


def test_std_of_a_constant_lane_is_zero_not_nan():
    g = grad_of("np.sum(np.std(x, axis=1))", np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]]))
    assert finite(g)
    np.testing.assert_array_equal(g[0], [0.0, 0.0, 0.0])


@pytest.mark.parametrize("body, at", [
    ("np.sum(np.hypot(x, y))", (np.zeros(2), np.zeros(2))), ("np.sum(np.arctan2(x, y))", (np.zeros(2), np.zeros(2))),
    ("np.sum(np.sinc(x))", (np.zeros(2),)), ("np.sum(special.xlogy(x, y))", (np.zeros(2), np.ones(2))),
    ("np.sum(special.i1(x))", (np.zeros(2),)), ("math.hypot(x, y)", (0.0, 0.0)), ("math.atan2(x, y)", (0.0, 0.0)),
    ("np.sum(np.sign(x) * x)", (np.zeros(2),)), ("np.sum(np.copysign(x, y))", (np.zeros(2), np.ones(2)))])
def test_origin_and_removable_singularities_are_finite(body, at):
    g = grad_of(body, *at)
    assert finite(*(g if isinstance(g, tuple) else (g,))), body


def test_xlogy_at_zero_zero():
    # xlogy(0, 0) = 0 by definition: the y-partial there is 0 (x / y would be NaN); the x-partial is
    # log(0) = -inf, as the function's own slope in x is.
    with np.errstate(divide="ignore"):
        dx, dy = grad_of("np.sum(special.xlogy(x, y))", np.zeros(2), np.zeros(2))
    np.testing.assert_array_equal(dy, [0.0, 0.0])
    assert np.all(dx == -np.inf)


def test_sinc_and_i1_slopes_at_zero():
    np.testing.assert_allclose(grad_of("np.sum(np.sinc(x))", np.zeros(2)), [0.0, 0.0])
    np.testing.assert_allclose(grad_of("np.sum(special.i1(x))", np.zeros(1)), [0.5])


# ---- smooth through zero: exact, no division by the input -----------------------------------------------

@pytest.mark.parametrize("x", [np.array([2.0, 0.0, 3.0, -1.0]), np.array([0.0, 0.0, 3.0, 2.0]), np.zeros(4)])
def test_prod_with_zeros_matches_finite_differences(x):
    g = grad_of("np.prod(x)", x)
    f = make_function("return np.prod(x)", ["x"], USER_GLOBALS)
    np.testing.assert_allclose(g, numeric_partial(f, [x], 0, [1.0]), atol=1e-8)


@pytest.mark.parametrize("x", [np.array([2.0, 0.0, 3.0, -1.0]), np.array([[0.0, 1.5], [2.0, 0.0]])])
def test_cumprod_with_zeros_matches_finite_differences(x):
    rng = np.random.default_rng(0)
    v = rng.normal(size=x.size)
    f = make_function("return np.cumprod(x)", ["x"], USER_GLOBALS)
    out, pullback = autodiffsource.vjp(f, x)
    (g,) = pullback(v)
    np.testing.assert_allclose(g, numeric_partial(f, [x], 0, [v]), atol=1e-8)


def test_prod_along_an_axis_with_zeros():
    x = np.array([[0.0, 2.0, 3.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(grad_of("np.sum(np.prod(x, axis=1))", x), [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def test_square_at_zero_and_for_negative_inputs():
    x = np.array([-3.0, 0.0, 2.0])
    for body in ["np.sum(x ** 2)", "np.sum(np.power(x, 2))", "np.sum(np.square(x))", "np.sum(x ** 2.0)"]:
        np.testing.assert_array_equal(grad_of(body, x), [-6.0, 0.0, 4.0], err_msg=body)
    np.testing.assert_array_equal(grad_of("np.sum(x ** 3)", x), [27.0, 0.0, 12.0])


def test_sqrt_is_infinite_only_where_numpy_is():
    with np.errstate(divide="ignore"):
        g = grad_of("np.sum(np.sqrt(x))", np.array([0.0, 4.0]))
    assert g[0] == np.inf and g[1] == 0.25


def test_float32_in_float32_partials_out():
    x = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    for body in ["np.sum(np.tanh(x) * np.abs(x))", "np.max(x)", "np.linalg.norm(x)", "np.sum(np.cumprod(x))",
                 "np.sum(special.expit(x))", "np.sum(np.sort(x) * np.arange(3))"]:
        g = grad_of(body, x)
        assert g.dtype == np.float32, body


def test_python_scalars_stay_python_scalars():
    for body in ["math.sin(x) * math.exp(x)", "np.tanh(x)", "abs(x)", "special.erf(x)"]:
        g = grad_of(body, 0.3)
        assert type(g) is float, body


# ---- constants and refusals ----------------------------------------------------------------------------

@pytest.mark.parametrize("call", ["np.argmax(x)", "np.shape(x)[0]", "np.isnan(x)", "np.zeros_like(x)", "np.sign(x)",
                                  "np.floor(x)", "np.round(x)", "np.argsort(x)", "x > 0", "np.isclose(x, 1.0)",
                                  "np.searchsorted(np.sort(x), 0.0)", "x.argmax()", "x.shape[0]", "math.floor(x[0])",
                                  "np.count_nonzero(x)", "len(x)"])
def test_constants_carry_no_derivative(call):
    # y * 0 + ... keeps the constant in the computation; only 2 * x contributes.
    g = grad_of(f"c = {call}\n    return np.sum(2.0 * x) + np.sum(c * 0.0)", np.array([0.3, -1.2, 2.5]))
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])


@pytest.mark.parametrize("call, name", [("np.fft.fft(x).real", "fft"), ("np.polyfit(x[0], x[1], 1)", "polyfit"),
                                        ("np.linalg.eig(x)", "eig"), ("special.jv(1.0, x)", "jv"),
                                        ("np.unwrap(x[0])", "unwrap")])
def test_functions_without_a_rule_are_refused_by_name(call, name):
    f = make_function(f"return np.sum({call})", ["x"], USER_GLOBALS)
    with pytest.raises(MissingRuleError, match=name):
        autodiffsource.vjp(f, np.array([[0.3, 1.0], [2.0, 0.5]]))


def test_rule_count():
    from autodiffsource.rules.registry import REGISTRY

    # The figure the README quotes: distinct library functions (and array methods) with a rule.
    functions = {id(obj) for obj, _ in REGISTRY.by_object.values()}
    assert len(functions) >= 200
    assert len(REGISTRY.by_method) >= 25


def _nondiff_entries():
    from autodiffsource.rules.registry import REGISTRY

    entries = sorted(REGISTRY.nondiff_objects.values(), key=lambda o: (getattr(o, "__module__", "") or "",
                                                                      getattr(o, "__qualname__", repr(o))))
    return [pytest.param(obj, id=f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}")
            for obj in entries]


@pytest.mark.parametrize("constant", _nondiff_entries())
def test_every_declared_constant_lowers_as_a_constant(constant):
    # Smoke test per nondiff entry: a call on a differentiated value is evaluated as written and gets no
    # cotangent (the generated pullback never mentions its result).
    from autodiffsource.api import transform

    f = make_function("c = CONSTANT(x)\nreturn x * 2.0", ["x"], dict(USER_GLOBALS, CONSTANT=constant))
    text = transform(f, (True,)).__source__
    assert "c = CONSTANT(x)" in text
    assert not re.search(r"\bdc\b", text.split("_pullback")[1])


def test_a_required_argument_left_out_is_named():
    from autodiffsource.errors import UnsupportedSyntaxError

    f = make_function("return np.moveaxis(x, 0)", ["x"], USER_GLOBALS)
    with pytest.raises(UnsupportedSyntaxError, match="destination"):
        autodiffsource.vjp(f, np.ones((2, 3)))
