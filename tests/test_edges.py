"""Inputs at the edges: ints, bools, NaN and inf, 0-size arrays, float16/float32, complex, non-arrays.

The contract checked here: integers are real numbers (their partials are floats, equal to the partials at
the same float input); bools are constants (zero partials); NaN and inf flow through values and partials
exactly as NumPy's own arithmetic would carry them, with no exception; empty arrays give empty partials of
their shape; a float16/float32 input gets a partial of its own dtype; complex inputs and objects that are
not numbers are refused with a clear error (:class:`NonDifferentiableInputError`, :class:`CotangentError`,
or the very TypeError the function itself raises), never a silently real-cast gradient.
"""

from __future__ import annotations

import fractions
import warnings

import numpy as np
import pytest

from autodiffsource import δ
from autodiffsource.errors import ADError, CotangentError, NonDifferentiableInputError
from finite_differences import check_pullback, numeric_partial


@δ
def poly(x, y):
    return x * y * y + 3.0 * x


@δ
def sin_dot(x):
    return np.sum(np.sin(x) * x)


@δ
def scaled(x):
    return x * 2.0


@δ
def identity(x):
    return x


@δ
def mixed(x, flag):
    return np.where(flag, x * x, -x)


# ---- ints: real numbers -----------------------------------------------------------------------------------

def test_int_scalars_are_reals():
    value, pullback = δpoly(3, 2)  # noqa: F821
    assert value == 3 * 2 * 2 + 9
    partials = pullback()
    assert partials == (7.0, 12.0) and all(type(p) is float for p in partials)


def test_int_arrays_get_float_partials_equal_to_the_float_ones():
    x = np.array([1, -2, 3])
    _, pullback = δsin_dot(x)  # noqa: F821
    partial = pullback()
    assert partial.dtype == np.float64
    np.testing.assert_allclose(partial, numeric_partial(sin_dot, [x.astype(float)], 0, [1.0]), rtol=1e-7)


def test_numpy_int_scalars_are_reals():
    _, pullback = δpoly(np.int64(3), np.int32(2))  # noqa: F821
    assert pullback() == pytest.approx((7.0, 12.0))


# ---- bools: constants -------------------------------------------------------------------------------------

def test_bool_scalar_gets_a_zero_partial():
    value, pullback = δscaled(True)  # noqa: F821
    assert value == 2.0
    assert pullback() == 0.0


def test_bool_array_gets_zero_partials():
    """Regression: a bool array used to get the partial of a float array (2.0 per element)."""
    value, pullback = δscaled(np.array([True, False]))  # noqa: F821
    np.testing.assert_array_equal(value, [2.0, 0.0])
    partial = pullback(np.ones(2))
    np.testing.assert_array_equal(partial, [0.0, 0.0])
    assert partial.dtype == np.float64


def test_numpy_bool_scalar_gets_a_zero_partial():
    _, pullback = δscaled(np.bool_(True))  # noqa: F821
    assert float(pullback()) == 0.0


def test_bool_mask_argument_next_to_a_differentiated_one():
    x = np.array([0.5, -1.0, 2.0])
    flag = np.array([True, False, True])
    _, pullback = δmixed(x, flag)  # noqa: F821
    dx, dflag = pullback(np.ones(3))
    np.testing.assert_allclose(dx, [1.0, -1.0, 4.0])
    np.testing.assert_array_equal(dflag, np.zeros(3))


# ---- NaN and inf: propagate as NumPy does ----------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_propagate_through_value_and_partial(bad):
    x = np.array([bad, 0.5, -1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's own invalid-value warnings
        value, pullback = δsin_dot(x)  # noqa: F821
        partial = pullback()
        expected_value = np.sum(np.sin(x) * x)
        expected_partial = np.cos(x) * x + np.sin(x)  # what NumPy computes for the same formula
    np.testing.assert_array_equal(value, expected_value)  # NaN == NaN here
    np.testing.assert_allclose(partial, expected_partial, rtol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(np.isnan(partial), np.isnan(expected_partial))
    np.testing.assert_allclose(partial[1:], expected_partial[1:], rtol=1e-12)  # finite elements untouched


def test_inf_scalar_in_a_product():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, pullback = δpoly(np.inf, 2.0)  # noqa: F821
        dx, dy = pullback()
    assert value == np.inf and dx == 7.0 and dy == np.inf


# ---- 0-size arrays ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0)])
def test_empty_arrays_give_empty_partials(shape):
    x = np.zeros(shape)
    value, pullback = δsin_dot(x)  # noqa: F821
    assert value == 0.0
    partial = pullback()
    assert partial.shape == shape and partial.dtype == np.float64


def test_empty_array_broadcast_against_a_scalar():
    x = np.zeros((0, 2))
    value, pullback = δpoly(x, 1.5)  # noqa: F821
    dx, dy = pullback(np.zeros((0, 2)))
    assert value.shape == (0, 2) and dx.shape == (0, 2) and dy == 0.0


# ---- float16 / float32: dtype kept ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_low_precision_dtypes_are_kept(dtype):
    x = np.array([0.5, -1.0, 2.0], dtype=dtype)
    value, pullback = δsin_dot(x)  # noqa: F821
    partial = pullback()
    assert value.dtype == dtype and partial.dtype == dtype
    expected = np.cos(x.astype(np.float64)) * x + np.sin(x.astype(np.float64))
    np.testing.assert_allclose(partial, expected, rtol=5e-3 if dtype == np.float16 else 1e-6)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_low_precision_scalar_and_broadcast_keep_dtype(dtype):
    x = np.ones((2, 3), dtype=dtype)
    y = dtype(0.5)
    value, pullback = δpoly(x, y)  # noqa: F821
    dx, dy = pullback(np.ones((2, 3), dtype=dtype))
    assert value.dtype == dtype and dx.dtype == dtype and np.asarray(dy).dtype == dtype
    assert float(dy) == pytest.approx(6 * 2 * 1.0 * 0.5)


def test_float32_gradient_matches_float64_finite_differences():
    x = np.array([0.3, -0.7, 1.1], dtype=np.float32)
    check_pullback(sin_dot, δsin_dot, [x], rtol=1e-5, atol=1e-5)  # noqa: F821


# ---- complex: refused, never cast to real -----------------------------------------------------------------

@pytest.mark.parametrize("z", [np.array([0.5 + 1j, 2.0]), np.complex128(1 + 2j), 1 + 2j],
                         ids=["array", "numpy scalar", "python complex"])
def test_complex_inputs_are_refused(z):
    """Regression: a complex array used to get a real partial (imaginary part dropped with a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning would mean a silent cast happened
        with pytest.raises(NonDifferentiableInputError, match="complex"):
            _, pullback = δscaled(z)  # noqa: F821
            pullback()


def test_complex_identity_is_refused():
    with pytest.raises(NonDifferentiableInputError, match="complex"):
        _, pullback = δidentity(np.array([1 + 1j]))  # noqa: F821
        pullback(np.ones(1))


def test_complex_constant_argument_is_allowed():
    x = np.array([0.5, 2.0])
    value, pullback = δpoly_const2(x, 1j)  # noqa: F821  (y constant: only x is differentiated)
    np.testing.assert_allclose(value, x * -1 + 3 * x)
    with pytest.raises((NonDifferentiableInputError, CotangentError)):
        pullback(np.ones(2))  # the output is complex: no real cotangent fits it


# ---- objects that are not numbers ------------------------------------------------------------------------

@pytest.mark.parametrize("obj", [None, "text", object(), fractions.Fraction(1, 2)],
                         ids=["None", "str", "object", "Fraction"])
def test_non_numbers_raise_a_clear_error(obj):
    """Either the δ function raises what the function itself raises, or a documented ADError."""
    try:
        scaled(obj)
    except Exception as error:  # noqa: BLE001
        own = type(error)
    else:
        own = None
    try:
        _, pullback = δscaled(obj)  # noqa: F821
        pullback()
    except ADError as error:
        assert str(error)  # a message, with a hint for NonDifferentiableInputError
        return
    except Exception as error:  # noqa: BLE001
        assert own is not None and isinstance(error, own), f"{type(error).__name__}: {error}"
        return
    pytest.fail(f"δscaled({obj!r}) gave a gradient")


@pytest.mark.parametrize("obj", [None, object()], ids=["None", "object"])
def test_identity_of_a_non_number_names_the_problem(obj):
    """Regression: `array_namespace requires at least one non-scalar array input` from the seed."""
    _, pullback = δidentity(obj)  # noqa: F821
    with pytest.raises(CotangentError, match="not a real number or array"):
        pullback()


def test_string_argument_is_refused_as_non_differentiable():
    @δ
    def first(x, s):
        return x * len(s)

    with pytest.raises(NonDifferentiableInputError, match="str"):
        _, pullback = δfirst(2.0, "abc")  # noqa: F821
        pullback()
    assert δfirst_const2(2.0, "abc")[1]() == 3.0  # noqa: F821


@δ
def abs_of_a_comparison_on_one_path(x, y):
    v1 = np.tanh(x)
    if x > y:
        v2 = x == v1
    else:
        v2 = x + x
    x += abs(v2)
    return x + x


def test_abs_of_a_comparison_merged_with_a_differentiated_value():
    """`abs(x == v1)` is a NumPy bool: its partial is zero (sign() has no bool loop; the front-end fuzzer
    found the pullback raising UFuncTypeError there)."""
    assert δabs_of_a_comparison_on_one_path(0.7, -1.3)[1](1.0) == (2.0, 0.0)
    value, pullback = δabs_of_a_comparison_on_one_path(-0.7, 1.3)
    assert pullback(1.0)[0] == pytest.approx(numeric_partial(abs_of_a_comparison_on_one_path, [-0.7, 1.3], 0, [1.0]))


@δ
def python_remainder(x, y):
    v = x % 1.5
    v /= y
    return v


def test_remainder_of_python_floats_stays_a_python_float():
    """`x % 1.5` was computed with np.mod (an np.float64): dividing it by zero then gave inf with a warning
    where the function raises ZeroDivisionError (found by the front-end fuzzer)."""
    value, pullback = δpython_remainder(1.25, 2.0)
    assert type(value) is float and value == 0.625
    assert pullback(1.0)[0] == pytest.approx(numeric_partial(python_remainder, [1.25, 2.0], 0, [1.0]))
    with pytest.raises(ZeroDivisionError):
        δpython_remainder(1.25, 0.0)
