"""Forward mode and second order on every installed array library: jvp, jacfwd, jacrev, jacobian, hvp,
hessian on NumPy, array-api-strict, PyTorch (CPU), JAX (eager and under ``jax.jit``) and Dask.

The functions are written once in the array-API idiom (``xp = array_namespace(x)``), with a loop and a
branch. NumPy's results are checked against central finite differences (of ``f`` for first derivatives,
of the first-order gradient for second derivatives); every other library must give NumPy's numbers as
an array of its own type, on the input's device, in the input's dtype (float32 stays float32). GPU
libraries run the same checks in tests/test_gpu.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import array_namespace, device

import autodiffsource as ad
from backend_cases import cpu_libraries
from finite_differences import numeric_jacobian, numeric_partial

LIBRARIES = cpu_libraries()
LIB = {lib.name: lib for lib in LIBRARIES}


# ---- the functions -----------------------------------------------------------------------------------------

def curve(x):
    # R^3 -> R^4 (tall: jacobian goes forward); a loop and a branch on a constant.
    xp = array_namespace(x)
    y = xp.stack([xp.sin(x[0]) * x[1], x[0] * x[0], xp.exp(x[1] * x[2]), x[0] * x[1] * x[2]])
    for k in range(2):
        if k == 0:
            y = y + xp.tanh(y) * 0.5
        else:
            y = y * 1.5
    return y


def fold(x):
    # R^(2x3) -> R^2 (wide: jacobian goes backward).
    xp = array_namespace(x)
    return xp.sum(xp.exp(x * 0.5) * x, axis=1) + xp.sum(x * x)


def energy(x, w):
    # A scalar, for the Hessian; w is held constant.
    xp = array_namespace(x, w)
    h = xp.tanh(x * w)
    s = xp.sum(h * h) + xp.sum(xp.exp(-x * x) * x)
    for _ in range(2):
        s = s * 0.5 + xp.mean(xp.log(1.0 + x * x))
    return s


X3 = np.array([0.3, -0.5, 0.8])
X23 = np.array([[0.2, -0.4, 0.9], [1.1, -0.3, 0.5]])
W3 = np.array([1.0, 2.0, -1.0])
V3 = np.array([1.0, 0.5, -0.3])


def _numeric_hessian(f, args, h=1e-5):
    """Central differences of the first-order gradient (checked against differences of f elsewhere)."""
    x = args[0]
    g = ad.grad(f)
    columns = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = 1.0
        columns.append((np.asarray(g(x + h * e, *args[1:])) - np.asarray(g(x - h * e, *args[1:]))) / (2 * h))
    return np.stack(columns, axis=-1).reshape(x.shape + x.shape)


# ---- NumPy against finite differences --------------------------------------------------------------------------

def test_numpy_references_match_finite_differences():
    for f, x in ((curve, X3), (fold, X23)):
        expected = numeric_jacobian(f, x)
        for jac in (ad.jacfwd, ad.jacrev, ad.jacobian):
            np.testing.assert_allclose(jac(f)(x), expected, rtol=1e-6, atol=1e-8, err_msg=f"{jac.__name__} {f.__name__}")
    # The gradient the Hessian is differenced from, itself against differences of f.
    np.testing.assert_allclose(ad.grad(energy)(X3, W3), numeric_partial(energy, [X3, W3], 0, [1.0]), rtol=1e-6)
    H = ad.hessian(energy)(X3, W3)
    np.testing.assert_allclose(H, _numeric_hessian(energy, [X3, W3]), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ad.hvp(energy)(X3, W3, V3), H @ V3, rtol=1e-10, atol=1e-12)
    _, slope = ad.jvp(curve, (X3,), (V3,))
    np.testing.assert_allclose(slope, numeric_jacobian(curve, X3) @ V3, rtol=1e-6, atol=1e-8)


# ---- every library against NumPy ----------------------------------------------------------------------------------

def _assert_like(lib, got, want, like, what, rtol=1e-10, atol=1e-12):
    """``got`` is ``lib``'s array, on ``like``'s device, in its dtype, with NumPy's shape and values."""
    # NumPy reductions give NumPy scalars (0-d, with a dtype), as NumPy itself does.
    types = (lib.array_type(), np.generic) if lib.name == "numpy" else lib.array_type()
    assert isinstance(got, types), f"{what} on {lib.name} is a {type(got).__name__}"
    assert lib.dtype_name(got) == lib.dtype_name(like), f"{what} on {lib.name}: dtype {got.dtype}, input {like.dtype}"
    assert lib.name == "numpy" or device(got) == device(like), f"{what} on {lib.name}: device {device(got)}, input {device(like)}"
    assert tuple(got.shape) == np.shape(want), f"{what} on {lib.name}: shape {tuple(got.shape)}, want {np.shape(want)}"
    np.testing.assert_allclose(lib.to_numpy(got), want, rtol=rtol, atol=atol, err_msg=f"{what} on {lib.name}")


def check_library(lib, dtype="float64", rtol=1e-10, atol=1e-12, transform=None):
    """Every entry point on ``lib``'s arrays against the NumPy float64 result; ``transform`` wraps each
    entry point (``jax.jit``)."""
    wrap = transform or (lambda fn: fn)
    x3, x23, w3, v3 = (lib.convert(a, dtype) for a in (X3, X23, W3, V3))
    for name, jac in (("jacfwd", ad.jacfwd), ("jacrev", ad.jacrev), ("jacobian", ad.jacobian)):
        for f, x, x_np in ((curve, x3, X3), (fold, x23, X23)):
            _assert_like(lib, wrap(jac(f))(x), jac(f)(x_np), x, f"{name}({f.__name__})", rtol, atol)
    value, slope = wrap(lambda x, v: ad.jvp(curve, (x,), (v,)))(x3, v3)
    want_value, want_slope = ad.jvp(curve, (X3,), (V3,))
    _assert_like(lib, value, want_value, x3, "jvp value", rtol, atol)
    _assert_like(lib, slope, want_slope, x3, "jvp tangent", rtol, atol)
    # A constant argument's tangent is None; the other tangent is the library's array.
    _, slope = wrap(lambda x, w, v: ad.jvp(energy, (x, w), (v, None)))(x3, w3, v3)
    _assert_like(lib, slope, ad.jvp(energy, (X3, W3), (V3, None))[1], x3, "jvp of a scalar", rtol, atol)
    _assert_like(lib, wrap(ad.hvp(energy))(x3, w3, v3), ad.hvp(energy)(X3, W3, V3), x3, "hvp", rtol, atol)
    _assert_like(lib, wrap(ad.hessian(energy))(x3, w3), ad.hessian(energy)(X3, W3), x3, "hessian", rtol, atol)


NON_NUMPY = [lib for lib in LIBRARIES if lib.name != "numpy"]


@pytest.mark.parametrize("lib", NON_NUMPY, ids=repr)
def test_higher_derivatives_match_numpy_in_the_library_of_the_input(lib):
    check_library(lib)


@pytest.mark.parametrize("lib", [lib for lib in LIBRARIES if lib.name in ("numpy", "torch", "jax", "array_api_strict")],
                         ids=repr)
def test_float32_inputs_give_float32_derivatives(lib):
    # Nothing may promote to float64 (the basis tangents included): strict refuses to mix the two.
    check_library(lib, dtype="float32", rtol=2e-4, atol=2e-5)


@pytest.mark.skipif("jax" not in LIB, reason="jax is not installed")
def test_jacobians_and_hessian_under_jax_jit():
    # The basis tangents are made from traced arrays: jacfwd/jacrev/hessian trace once and run compiled.
    import jax

    check_library(LIB["jax"], transform=jax.jit)


@pytest.mark.skipif("dask" not in LIB, reason="dask is not installed")
def test_dask_jacobian_stays_lazy():
    import dask.array as da

    x = LIB["dask"].convert(X3, "float64")
    J = ad.jacfwd(curve)(x)
    assert isinstance(J, da.Array) and J.shape == (4, 3)
    np.testing.assert_allclose(J.compute(), ad.jacfwd(curve)(X3), rtol=1e-12)


def test_integer_and_python_number_inputs():
    # An integer array's Jacobian is real (the library's default float); a Python number gives NumPy.
    def square(x):
        return x * x

    J = ad.jacfwd(square)(np.array([1, 2, 3]))
    assert J.dtype == np.float64
    np.testing.assert_array_equal(J, np.diag([2.0, 4.0, 6.0]))
    assert float(ad.jacfwd(square)(3.0)) == 6.0
    assert float(ad.jacrev(square)(3.0)) == 6.0
    assert ad.hessian(square)(3.0) == 2.0


# ---- a user rule (pullback only) in forward mode ------------------------------------------------------------

def cube(x):
    return x * x * x


def δcube(x):
    # A user rule: forward mode builds J @ t from one pullback call per output element.
    y = cube(x)

    def cube_pullback(dy):
        return 3.0 * x * x * dy

    return y, cube_pullback


def cubed_tanh(x):
    xp = array_namespace(x)
    return xp.tanh(cube(x)) * 2.0


@pytest.mark.parametrize("lib", LIBRARIES, ids=repr)
def test_jvp_through_a_user_rule_stays_in_the_library_of_the_input(lib):
    # The basis cotangents and the tangent are made in the output's library (no trip through NumPy).
    x, v = lib.convert(X3, "float64"), lib.convert(V3, "float64")
    _, slope = ad.jvp(cubed_tanh, (x,), (v,))
    h = 1e-6
    expected = (cubed_tanh(X3 + h * V3) - cubed_tanh(X3 - h * V3)) / (2 * h)
    _assert_like(lib, slope, expected, x, "jvp through a user rule", rtol=1e-7, atol=1e-9)
