"""NumPy's finite-difference calculus: ``np.gradient`` and ``np.ediff1d`` (rules/numpy_reductions.py, with
their helpers in rules/support_differences.py).

The values are NumPy's own on NumPy's arrays (to the bit, a tuple of arrays over several axes as NumPy 2
returns it, unpacked as users unpack it); the partials agree with central differences in float64 and are
the exact transposes of NumPy's stencils (uniform steps, sample points, first- and second-order edges,
``axis=`` as an int or a tuple); torch, JAX, array-api-strict and Dask arrays give NumPy's partials in their
own library (Dask's without computing); jvp and hvp match differences; differentiating a spacing is refused
by name. The rule table (tests/rules/rule_specs.py) checks these rules in float32 and forward mode too.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import autodiffsource as ad
from autodiffsource.errors import UnsupportedSyntaxError
from autodiffsource.higher import jvp_function
from autodiffsource.rules.support_differences import gradient_partial
from backend_cases import cpu_libraries
from finite_differences import numeric_partial

POINTS = np.array([-1.0, -0.4, 0.5, 0.7, 2.0])  # non-uniform sample points along an axis of length 5
ROWS = np.array([0.0, 0.5, 1.75, 2.0])  # ... and of length 4
WEIGHTS = np.array([[0.5, -1.0, 2.0, 1.5], [0.3, 0.8, -0.6, 1.1], [1.2, -0.2, 0.9, 0.4], [-0.7, 0.6, 0.2, 1.3],
                    [0.1, 1.4, -1.5, 0.35]])
# (the user functions below hold no NumPy array but sample points: array-api-strict refuses NumPy's arrays
# beside its own, and np.gradient takes the points as constants on every library)


# ---- user functions: each differentiates one spelling of np.gradient or np.ediff1d ------------------------

def gradient_1d(f):
    return np.sum(np.gradient(f) ** 3)


def gradient_spaced(f):
    return np.sum(np.gradient(f, 0.5, edge_order=2) ** 3)


def gradient_at_points(f):
    return np.sum(np.gradient(f, POINTS) ** 3)


def gradient_at_points_second_order(f):
    return np.sum(np.gradient(f, POINTS, edge_order=2) ** 3)


def gradient_2d(f):
    gx, gy = np.gradient(f)
    return np.sum(gx ** 3) + np.sum(gx * gy * gy)


def gradient_2d_mixed_spacings(f):
    gx, gy = np.gradient(f, 0.5, ROWS, edge_order=2)
    return np.sum(gx ** 2 * gy)


def gradient_one_axis(f):
    return np.sum(np.gradient(f, axis=1) ** 3)


def gradient_axes_reversed(f):
    gy, gx = np.gradient(f, 2.0, axis=(1, 0))
    return np.sum(gx ** 3 + gy * gy * gx)


def gradient_one_result_used(f):
    parts = np.gradient(f, edge_order=2)
    return np.sum(parts[1] ** 2)


def gradient_of_a_short_axis(f):
    return np.sum(np.gradient(f[:2]) ** 3) + np.sum(np.gradient(f[:3], 0.25, edge_order=2) ** 3)


def differences_with_ends(f):
    return np.sum(np.ediff1d(f, to_end=f[:2] * 2.0, to_begin=0.5) ** 3)


VECTOR_FUNCTIONS = [gradient_1d, gradient_spaced, gradient_at_points, gradient_at_points_second_order,
                    gradient_of_a_short_axis, differences_with_ends]
MATRIX_FUNCTIONS = [gradient_2d, gradient_2d_mixed_spacings, gradient_one_axis, gradient_axes_reversed,
                    gradient_one_result_used]
CASES = [(fn, (5,)) for fn in VECTOR_FUNCTIONS] + [(fn, (5, 4)) for fn in MATRIX_FUNCTIONS]
IDS = [fn.__name__ for fn, _ in CASES]


def _point(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, shape)


# ---- values and partials on NumPy ------------------------------------------------------------------------

@pytest.mark.parametrize("fn, shape", CASES, ids=IDS)
def test_partials_match_central_differences(fn, shape):
    x = _point(shape)
    value, partial = ad.value_and_grad(fn)(x)
    np.testing.assert_allclose(value, fn(x), rtol=1e-14)  # (np.sum of squares may be a dot product)
    np.testing.assert_allclose(partial, numeric_partial(fn, (x,), 0, [1.0]), rtol=1e-6, atol=1e-7)


def test_values_are_numpys_own_a_tuple_over_several_axes():
    def all_of_them(f):
        return np.gradient(f, 0.5, ROWS, edge_order=2)

    x = _point((5, 4))
    value, pullback = ad.vjp(all_of_them, x)
    expected = np.gradient(x, 0.5, ROWS, edge_order=2)
    assert type(value) is type(expected) is tuple
    for got, want in zip(value, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    (partial,) = pullback((np.ones((5, 4)), WEIGHTS))
    np.testing.assert_allclose(partial, numeric_partial(lambda f: np.sum(np.gradient(f, 0.5, ROWS, edge_order=2)[0])
                                                        + np.sum(np.gradient(f, ROWS, axis=1, edge_order=2) * WEIGHTS),
                                                        (x,), 0, [1.0]), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("spacings, axis, edge_order", [
    ((), None, 1), ((), None, 2), ((0.3,), None, 2), ((0.5, ROWS), None, 1), ((POINTS, ROWS), None, 2),
    ((POINTS,), 0, 2), ((ROWS,), -1, 1), ((), (1, 0), 2), ((np.float64(0.25),), 1, 1)])
def test_the_partial_is_the_transpose_of_numpys_stencil(spacings, axis, edge_order):
    # <G f, g> = <f, G^T g> for random f and g: the partial is exactly the stencil's transpose
    rng = np.random.default_rng(1)
    f = rng.normal(size=(5, 4))
    outs = np.gradient(f, *spacings, axis=axis, edge_order=edge_order)
    outs = outs if type(outs) is tuple else (outs,)
    cotangents = [rng.normal(size=o.shape) for o in outs]
    partial = gradient_partial(cotangents if len(outs) > 1 else cotangents[0], f, *spacings, axis=axis,
                               edge_order=edge_order)
    assert partial.shape == f.shape and partial.dtype == np.float64
    np.testing.assert_allclose(np.sum(partial * f), sum(np.sum(o * c) for o, c in zip(outs, cotangents)),
                               rtol=1e-12)


def test_float32_stays_float32_and_integers_get_float_partials():
    x32 = _point((5, 4)).astype(np.float32)
    _, partial = ad.value_and_grad(gradient_2d_mixed_spacings)(x32)
    assert partial.dtype == np.float32
    np.testing.assert_allclose(partial, ad.grad(gradient_2d_mixed_spacings)(x32.astype(np.float64)), rtol=1e-3,
                               atol=1e-3)
    partial = ad.grad(gradient_one_axis)(np.arange(20).reshape(5, 4))
    assert partial.dtype == np.float64


def test_ediff1d_partials_of_the_ends():
    def f(a, end, begin):
        return np.sum(np.ediff1d(a, end, begin) ** 3)

    a, end, begin = _point((3, 2)), np.array([0.4, -1.2]), 0.7
    value, partials = ad.value_and_grad(f, argnums=(0, 1, 2))(a, end, begin)
    assert value == f(a, end, begin) and type(partials[2]) is float
    for k, p in enumerate(partials):
        np.testing.assert_allclose(p, numeric_partial(f, (a, end, begin), k, [1.0]), rtol=1e-6, atol=1e-7)


# ---- other array libraries ---------------------------------------------------------------------------

LIBRARIES = [lib for lib in cpu_libraries() if lib.name != "numpy"]


# (eager JAX compiles each operation for each shape: two cases stand for the rest there)
_ON_LIBRARIES = [pytest.param(fn, shape, lib, id=f"{name}-{lib.name}")
                 for (fn, shape), name in zip(CASES, IDS) for lib in LIBRARIES
                 if lib.name != "jax" or fn in (gradient_2d_mixed_spacings, differences_with_ends)]


@pytest.mark.parametrize("fn, shape, lib", _ON_LIBRARIES)
def test_other_libraries_give_numpys_partials(fn, shape, lib):
    x = _point(shape)
    want_value, want = ad.value_and_grad(fn)(x)
    if lib.name == "dask":
        import dask

        def refuse(*args, **kwargs):
            raise AssertionError("something was computed while building the gradient")

        with dask.config.set(scheduler=refuse):
            value, partial = ad.value_and_grad(fn)(lib.convert(x, "float64"))
        assert isinstance(partial, lib.array_type())
        value, partial = dask.compute(value, partial, scheduler="sync")
    else:
        value, partial = ad.value_and_grad(fn)(lib.convert(x, "float64"))
        assert isinstance(partial, lib.array_type())
        partial = lib.to_numpy(partial)
    np.testing.assert_allclose(float(value), want_value, rtol=1e-12)
    np.testing.assert_allclose(partial, want, rtol=1e-12, atol=1e-12)


# ---- forward mode and second order ----------------------------------------------------------------------

@pytest.mark.parametrize("fn, shape", CASES, ids=IDS)
def test_jvp_and_hvp_match_differences(fn, shape):
    x = _point(shape)
    v = np.random.default_rng(2).normal(size=shape)
    h = 1e-6
    value, slope = ad.jvp(fn, (x,), (v,))
    np.testing.assert_allclose(value, fn(x), rtol=1e-14)
    np.testing.assert_allclose(slope, (fn(x + h * v) - fn(x - h * v)) / (2 * h), rtol=1e-6, atol=1e-7)
    grad = ad.grad(fn)
    expected = (grad(x + h * v) - grad(x - h * v)) / (2 * h)
    np.testing.assert_allclose(ad.hvp(fn, 0)(copy.deepcopy(x), v), expected, rtol=1e-5, atol=1e-6)
    # reverse over forward: the gradient of the jvp code, which calls gradient_primal (np.gradient's rule)
    jvp = jvp_function(fn, 0)

    def slope_of(y):
        _, slope = jvp(v, y)
        return slope

    np.testing.assert_allclose(ad.grad(slope_of)(copy.deepcopy(x)), expected, rtol=1e-5, atol=1e-6)


# ---- refusals ----------------------------------------------------------------------------------------------

def spaced_by(f, step):
    return np.sum(np.gradient(f, step) ** 2)


def test_a_differentiated_spacing_is_refused_by_name():
    x = _point((5,))
    with pytest.raises(UnsupportedSyntaxError, match="a differentiated value as `spacing1` of `gradient`"):
        ad.grad(spaced_by, argnums=(0, 1))(x, 0.5)
    np.testing.assert_allclose(ad.grad(spaced_by)(x, 0.5), numeric_partial(spaced_by, (x, 0.5), 0, [1.0]),
                               rtol=1e-6)  # a constant spacing is fine


def five_spacings(f):
    return np.sum(np.gradient(f, 1.0, 1.0, 1.0, 1.0, 1.0)[0])


def test_more_than_four_positional_spacings_are_refused_clearly():
    with pytest.raises(TypeError, match="at most four spacings"):
        ad.grad(five_spacings)(np.ones((2,) * 5))


def second_and_first_differences(x):
    return np.sum(np.diff(x, n=2, axis=0) ** 2) + np.sum(np.diff(x) ** 3)


@pytest.mark.parametrize("lib", LIBRARIES, ids=lambda lib: lib.name)
def test_diff_on_other_libraries_gives_numpys_partials(lib):
    # (np.diff's rule computed with NumPy: a TypeError on torch, a silent round trip refused on strict)
    x = _point((4, 3))
    want_value, want = ad.value_and_grad(second_and_first_differences)(x)
    np.testing.assert_allclose(want, numeric_partial(second_and_first_differences, (x,), 0, [1.0]), rtol=1e-6)
    value, partial = ad.value_and_grad(second_and_first_differences)(lib.convert(x, "float64"))
    assert isinstance(partial, lib.array_type())
    np.testing.assert_allclose(lib.to_numpy(partial), want, rtol=1e-12)
    assert float(lib.to_numpy(value)) == pytest.approx(want_value, rel=1e-12)


def trapezoids(y, x):
    return (np.trapezoid(y ** 2, x, axis=0).sum() + np.trapezoid(y[:, 0] * 3.0, dx=0.5)
            + np.sum(np.trapezoid(y, axis=1) ** 2))


@pytest.mark.parametrize("lib", [lib for lib in LIBRARIES if lib.name != "dask"], ids=lambda lib: lib.name)
def test_trapezoid_on_other_libraries_gives_numpys_value_and_partials(lib):
    # (np.trapezoid's rule computed with NumPy: a TypeError on torch, a refused round trip on JAX and strict;
    # on Dask, NumPy's trapezoid computes the arrays, as the user's function does)
    y = np.array([[0.3, 1.2, -0.5], [2.0, 0.1, 0.7], [1.1, -0.4, 0.2], [0.9, 0.9, -1.3]])
    x = np.array([0.0, 0.4, 1.1, 1.5])
    value, want = ad.value_and_grad(trapezoids, argnums=(0, 1))(y, x)
    for k, partial in enumerate(want):
        np.testing.assert_allclose(partial, numeric_partial(trapezoids, (y, x), k, [1.0]), rtol=1e-6, atol=1e-9)
    got_value, got = ad.value_and_grad(trapezoids, argnums=(0, 1))(lib.convert(y, "float64"), lib.convert(x, "float64"))
    assert float(lib.to_numpy(got_value)) == value  # (NumPy's order of operations)
    for partial, expected in zip(got, want, strict=True):
        assert isinstance(partial, lib.array_type())
        np.testing.assert_allclose(lib.to_numpy(partial), expected, rtol=1e-12, atol=1e-15)
