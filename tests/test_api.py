"""The public surface: binding, pullback semantics, constant arguments, JAX-style entry points, custom
rules, the gradient checkers, errors and the generated source.

Gradients are compared with central finite differences (``tests/finite_differences.py``) or exact
hand-computed values, never with the library's own checker.
"""

from __future__ import annotations

import cmath
import inspect
import os
import traceback

import numpy as np
import pytest

import autodiffsource
from autodiffsource import (CotangentError, MissingRuleError, UnsupportedSyntaxError, checkdiff, checkgrad,
                            delta, grad, source, value_and_grad, vjp, δ)
from finite_differences import check_pullback, numeric_partial

RNG = np.random.default_rng(11)
HERE = os.path.abspath(__file__)


def line_of(fn, marker: str) -> int:
    """The file line number of the first line of ``fn``'s source containing ``marker``."""
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, text in enumerate(lines) if marker in text)


# ---- binding -------------------------------------------------------------------------------------------

def f(x, y):
    return (x + 2 * y) * y ** 2


F_RETURNED = δ(f)


def test_decorator_returns_f_unchanged_and_binds_delta_f_here():
    assert F_RETURNED is f
    assert f(3, 2) == 28  # still the plain function
    assert callable(globals()["δf"])
    assert callable(f.δ)
    z1, back1 = f.δ(3.0, 2.0)
    z2, back2 = δf(3.0, 2.0)  # noqa: F821
    assert z1 == z2 == 28.0 and back1() == back2() == (4.0, 36.0)


def test_seed_example_values_and_python_float_partials():
    z, back = δf(3, 2)  # noqa: F821
    assert z == 28
    partials = back()
    assert partials == (4.0, 36.0)
    assert all(type(p) is float for p in partials)


def test_delta_ascii_alias():
    def g_ascii(x):
        return x * x * 3

    assert delta(g_ascii) is g_ascii
    z, back = δg_ascii(2.0)  # noqa: F821  (bound in this module's globals by the plain call)
    assert z == 12.0 and back() == 12.0
    assert autodiffsource.delta is autodiffsource.δ


def test_plain_call_binds_in_the_calling_module():
    def local_fn(x):
        return np.sum(x ** 2)

    δ(local_fn)
    assert "δlocal_fn" in globals()
    np.testing.assert_allclose(globals()["δlocal_fn"](np.arange(3.0))[1](), 2 * np.arange(3.0))


# ---- partial kinds, shapes and dtypes -------------------------------------------------------------------

@δ
def weighted(x, y):
    return np.sum(x * y * x)


@pytest.mark.parametrize("make", [
    lambda: 1.5, lambda: 2, lambda: np.float64(1.5), lambda: np.array(1.5), lambda: np.array(1.5, np.float32),
    lambda: np.arange(3.0), lambda: np.arange(3), lambda: np.arange(6.0, dtype=np.float32).reshape(2, 3),
], ids=["float", "int", "np.float64", "0-d", "0-d float32", "float64[3]", "int[3]", "float32[2,3]"])
def test_partials_match_the_kind_shape_and_dtype_of_inputs(make):
    x = make()
    y = make()
    _, back = δweighted(x, y)  # noqa: F821
    dx, dy = back()
    for p, a in ((dx, x), (dy, y)):
        if isinstance(a, np.generic):  # before float: np.float64 is a subclass of float
            assert isinstance(p, np.floating) and p.dtype == a.dtype
        elif isinstance(a, (int, float)):
            assert type(p) is float
        else:
            assert isinstance(p, np.ndarray) and p.shape == a.shape
            assert p.dtype == (a.dtype if a.dtype.kind == "f" else np.float64)
    xf = np.asarray(x, dtype=np.float64)
    np.testing.assert_allclose(np.asarray(dx, dtype=np.float64), 2 * xf * xf, rtol=1e-6)


# ---- pullback semantics ------------------------------------------------------------------------------------

@δ
def two_outputs(x, y):
    return x * y, x + np.sin(y)


def test_one_output_cotangent_defaults_to_one():
    x = RNG.standard_normal(3)
    _, back = δweighted(x, 2.0)  # noqa: F821
    d_default = back()
    d_one = back(1.0)
    d_two = back(2.0)
    np.testing.assert_array_equal(d_default[0], d_one[0])
    assert d_default[1] == d_one[1]
    np.testing.assert_allclose(d_two[0], 2 * d_one[0])


def test_several_outputs_one_cotangent_each_none_meaning_zero():
    x, y = RNG.standard_normal(4), RNG.standard_normal(4)
    _, _, back = δtwo_outputs(x, y)  # noqa: F821
    dz, dt = RNG.standard_normal(4), RNG.standard_normal(4)
    both = back(dz, dt)
    first = back(dz, None)
    second = back(None, dt)
    np.testing.assert_allclose(first[0], dz * y)
    np.testing.assert_allclose(first[1], dz * x)
    np.testing.assert_allclose(second[0], dt)
    np.testing.assert_allclose(second[1], dt * np.cos(y))
    for b, f1, s in zip(both, first, second, strict=True):
        np.testing.assert_allclose(b, f1 + s)
    zero = back(None, None)
    assert np.all(zero[0] == 0) and np.all(zero[1] == 0)


def test_wrong_number_of_cotangents_is_a_clear_error():
    _, _, back = δtwo_outputs(1.0, 2.0)  # noqa: F821
    with pytest.raises((CotangentError, TypeError), match="two_outputs_pullback"):
        back(1.0)
    with pytest.raises((CotangentError, TypeError), match="two_outputs_pullback"):
        back(1.0, 2.0, 3.0)
    _, back1 = δf(1.0, 2.0)  # noqa: F821
    with pytest.raises((CotangentError, TypeError), match="f_pullback"):
        back1(1.0, 2.0)


def test_wrong_shape_of_cotangent_is_a_cotangent_error():
    _, back = δweighted(np.ones(3), np.ones(3))  # noqa: F821
    with pytest.raises(CotangentError, match=r"shape \(3,\)"):
        back(np.ones(3))
    _, _, back2 = δtwo_outputs(np.ones(3), np.ones(3))  # noqa: F821
    with pytest.raises(CotangentError, match="output 2"):
        back2(np.ones(3), np.ones(4))


@δ
def aliases(x, y):
    z = x + x
    return x, z * y, x


def test_pullback_can_run_many_times_and_never_mutates():
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    x0, y0 = x.copy(), y.copy()
    a, b, c, back = δaliases(x, y)  # noqa: F821
    cots = [RNG.standard_normal(3) for _ in range(3)]
    saved = [ct.copy() for ct in cots]
    first = back(*cots)
    for _ in range(3):
        again = back(*cots)
        for p, q in zip(first, again, strict=True):
            np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    for ct, s in zip(cots, saved, strict=True):
        np.testing.assert_array_equal(ct, s)
    np.testing.assert_allclose(first[0], cots[0] + cots[2] + 2 * cots[1] * y)
    np.testing.assert_allclose(first[1], cots[1] * 2 * x)
    first[0][:] = 99.0  # the caller owns the partials: changing them changes nothing else
    np.testing.assert_array_equal(cots[0], saved[0])
    np.testing.assert_allclose(back(*cots)[1], cots[1] * 2 * x)


# ---- constant arguments -------------------------------------------------------------------------------------

@δ
def three(a, b, c):
    return np.sum(a * np.sin(b) + b * c ** 2 - a * c)


def test_const_variants_for_every_argument_and_pair():
    args = [RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)]
    g = globals()
    for k in (1, 2, 3):
        wrt = [i for i in range(3) if i != k - 1]
        check_pullback(three, g[f"δthree_const{k}"], args, wrt=wrt)
    for j, k in ((1, 2), (1, 3), (2, 3)):
        wrt = [i for i in range(3) if i not in (j - 1, k - 1)]
        (p,) = check_pullback(three, g[f"δthree_const{j}_const{k}"], args, wrt=wrt)
        assert isinstance(p, np.ndarray)  # one differentiated argument: the partial itself, not a tuple
    assert "δf_const1_const2" not in g  # pairs only for three or more arguments
    assert "δf_const1" in g and "δf_const2" in g


def test_constant_argument_may_be_anything():
    @δ
    def scaled_by(x, scale):
        return np.sum(x * scale["factor"])

    _, back = δscaled_by_const2(np.arange(3.0), {"factor": 2.5})  # noqa: F821
    np.testing.assert_allclose(back(), np.full(3, 2.5))


# ---- grad, value_and_grad, vjp --------------------------------------------------------------------------------

def test_grad_and_value_and_grad_argnums():
    args = [RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)]
    expected = [numeric_partial(three, args, i, [1.0]) for i in range(3)]
    g0 = grad(three)(*args)
    assert isinstance(g0, np.ndarray)
    np.testing.assert_allclose(g0, expected[0], rtol=1e-6)
    value, g2 = value_and_grad(three, argnums=2)(*args)
    assert value == pytest.approx(three(*args))
    np.testing.assert_allclose(g2, expected[2], rtol=1e-6)
    value, (gc, ga) = value_and_grad(three, argnums=(2, 0))(*args)
    np.testing.assert_allclose(gc, expected[2], rtol=1e-6)
    np.testing.assert_allclose(ga, expected[0], rtol=1e-6)
    (only,) = grad(three, argnums=(1,))(*args)
    np.testing.assert_allclose(only, expected[1], rtol=1e-6)
    assert grad(f, argnums=(0, 1))(3.0, 2.0) == (4.0, 36.0)


def test_vjp():
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    (p, s), back = vjp(two_outputs, x, y)
    np.testing.assert_allclose(p, x * y)
    dp, ds = RNG.standard_normal(3), RNG.standard_normal(3)
    dx, dy = back(dp, ds)
    np.testing.assert_allclose(dx, dp * y + ds)
    np.testing.assert_allclose(dy, dp * x + ds * np.cos(y))
    out, back1 = vjp(weighted, x, y)
    assert out == pytest.approx(np.sum(x * y * x))
    assert len(back1(1.0)) == 2


# ---- custom rules by convention ----------------------------------------------------------------------------

def div(x, y):
    return x / y


def δdiv(x, y):
    return x / y, lambda z: (z / y, -z * x / y ** 2)


@δ
def f3(x, y):
    return div(x, y) + y


def halve(x):
    return x / 2


def δhalve(x):  # deliberately not the derivative of halve: shows which one is used
    return x / 2, lambda d: (d * 10.0,)


@δ
def uses_halve(x):
    return halve(x) * 3


def test_seed_custom_rule_delta_div_used_by_f3():
    z, back = δf3(3.0, 2.0)  # noqa: F821
    assert z == 3.5
    assert back() == (0.5, 1 - 3.0 / 4)
    check_pullback(f3, δf3, [RNG.uniform(1, 2, 3), RNG.uniform(1, 2, 3)])  # noqa: F821
    assert "δdiv" in source(δf3)  # noqa: F821  (called, not differentiated through div's source)


def test_user_rule_is_preferred_to_recursion():
    z, back = δuses_halve(4.0)  # noqa: F821
    assert z == 6.0
    assert back() == 30.0  # 3 * the rule's 10, not 3 * 1/2 from halve's source


# ---- checkdiff and checkgrad -----------------------------------------------------------------------------------

def sq(x, y):
    return np.sum(x ** 2 * y)


def δsq(x, y):  # wrong in the partial for y at every element
    return np.sum(x ** 2 * y), lambda d: (2 * x * y * d, x ** 2 * d * 1.01)


def test_checkdiff_true_for_generated_and_correct_rules():
    assert checkdiff(f, δf, 3.0, 2.0) is True  # noqa: F821
    assert checkdiff(div, δdiv, 3.0, 2.0) is True
    assert checkdiff(three, δthree_const2, *[RNG.standard_normal(2) for _ in range(3)]) is True  # noqa: F821


def test_checkdiff_catches_a_wrong_user_rule_naming_argument_and_element():
    with pytest.raises(AssertionError) as info:
        checkdiff(sq, δsq, np.array([1.0, 2.0]), np.array([0.5, -1.5]))
    message = str(info.value)
    assert "argument 2" in message and "`y`" in message and "(0,)" in message


def test_checkdiff_catches_a_wrong_user_rule_inside_a_generated_function():
    with pytest.raises(AssertionError, match="argument 1 \\(`x`\\)"):
        checkdiff(uses_halve, δuses_halve, 4.0)  # noqa: F821  (δhalve is deliberately wrong)


def test_checkgrad():
    x, y = np.array([1.0, 2.0]), np.array([0.5, -1.5])
    assert checkgrad(sq, (x, y), (2 * x * y, x ** 2)) is True
    with pytest.raises(AssertionError) as info:
        checkgrad(sq, (x, y), (2 * x * y, np.array([1.0, 4.5])))
    assert "argument 2" in str(info.value) and "(1,)" in str(info.value)


# ---- errors ------------------------------------------------------------------------------------------------------

def calls_c_function(x):
    return cmath.exp(x) * x  # cmath has no rules and no Python source


def test_missing_rule_names_callee_call_site_and_gives_a_stub():
    δ(calls_c_function)
    with pytest.raises(MissingRuleError) as info:
        δcalls_c_function(1.0)  # noqa: F821
    message = str(info.value)
    line = line_of(calls_c_function, "cmath.exp(x)")
    assert "cmath.exp" in message
    assert f"{HERE}:{line}" in message or f"test_api.py:{line}" in message
    assert "def δexp(" in message
    assert info.value.loc.line == line


def test_unsupported_syntax_has_file_line_and_column():
    def with_statement(x):
        y = x * 2
        with open(os.devnull) as handle:
            y = y + len(handle.name)
        return y

    with pytest.raises(UnsupportedSyntaxError) as info:
        δ(with_statement)
    err = info.value
    line = line_of(with_statement, "with open")
    assert err.loc.file == HERE and err.loc.line == line
    assert err.lineno == line and err.filename == HERE
    assert err.loc.col == 8 and err.offset == 9
    assert "With" in str(err) and f":{line}:9" in str(err)


def test_unsupported_expression_reported_at_the_users_column():
    def starred(x):
        return max(*[x, 2.0]) * x

    δ(starred)
    with pytest.raises(UnsupportedSyntaxError) as info:
        δstarred(1.0)  # noqa: F821
    line = line_of(starred, "*[x, 2.0]")
    assert info.value.loc.line == line and info.value.loc.col == 19


# ---- generated source ------------------------------------------------------------------------------------------------

def test_source_has_file_line_comments():
    text = source(δf3)  # noqa: F821
    assert source(f3.δ) == text
    line = line_of(f3, "return div(x, y) + y")
    assert f"# test_api.py:{line}  return div(x, y) + y" in text
    assert "def δf3(x, y):" in text and "def f3_pullback(" in text
    compile(text, "<check>", "exec")  # real Python


def mismatched(x, y):
    z = x @ y
    return np.sum(z)


def boom(x):
    return x


def δboom(x):
    def boom_pullback(d):
        raise ZeroDivisionError("raised in a user pullback")

    return x, boom_pullback


@δ
def uses_boom(x):
    return boom(x * 2.0) + 1.0


def test_exception_in_generated_forward_pass_shows_generated_source():
    δ(mismatched)
    try:
        δmismatched(np.ones((2, 3)), np.ones((2, 3)))  # noqa: F821
    except ValueError:
        text = traceback.format_exc()
    else:
        pytest.fail("no error for mismatched shapes")
    assert "<δ test_api.py:" in text  # the generated function's frame, under its linecache name
    assert "z = x @ y" in text  # ...showing the generated line itself


def test_exception_in_generated_pullback_shows_generated_source():
    _, back = δuses_boom(3.0)  # noqa: F821
    with pytest.raises(ZeroDivisionError) as info:
        back()
    text = "".join(traceback.format_exception(info.value))
    assert "uses_boom_pullback" in text
    assert "_pb(" in text  # the generated line that called the rule's pullback


# ---- transform once, lazily ------------------------------------------------------------------------------------------

def test_variants_are_transformed_lazily_and_once():
    from autodiffsource import api

    def lazy(a, b, c):
        return a * b * c

    δ(lazy)
    keys = [k for k in api._compiled if k[0] is lazy]
    assert keys == []  # binding δlazy and its seven _const variants transformed nothing
    stub = globals()["δlazy_const2"]
    assert stub(1.0, 2.0, 3.0)[1]() == (6.0, 2.0)
    compiled = globals()["δlazy_const2"]
    assert compiled is not stub  # the first call rebinds the name to the compiled function itself
    assert compiled(1.0, 2.0, 3.0)[1]() == (6.0, 2.0) and globals()["δlazy_const2"] is compiled
    assert [k[1] for k in api._compiled if k[0] is lazy] == [(True, False, True)]


# ---- comparisons are constants ---------------------------------------------------------------------------------------

@δ
def with_comparisons(x, y):
    mask = x > 0
    return np.sum(mask * x * y + (x < y) * y ** 2)


def test_comparisons_do_not_carry_derivatives():
    x, y = np.array([-1.0, 0.5, 2.0]), np.array([0.3, 0.7, -1.0])
    check_pullback(with_comparisons, δwith_comparisons, [x, y])  # noqa: F821
