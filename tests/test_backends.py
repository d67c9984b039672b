"""One δ function, every array library: NumPy, array-api-strict, PyTorch (CPU), JAX, Dask.

The suite in tests/backend_cases.py runs on every installed library and must give NumPy's partials in the
input's own type, dtype and device; NumPy's partials are checked against central finite differences. Also
here: the quirks each library has (float32 defaults, no ``__setitem__`` in JAX, repeated-index scatter,
strict's refusal of NumPy scalars), ``jax.jit`` over a value-and-grad function, lazy Dask partials,
no round trip through NumPy, and the backend table itself (ArrayFire documented as unavailable).
"""

from __future__ import annotations

import importlib.util
import types

import numpy as np
import pytest
from array_api_compat import array_namespace, device

import autodiffsource as ad
from autodiffsource import backend, runtime
from autodiffsource.rules.support import take_along_axis_partial
from backend_cases import CASES, CASES_BY_NAME, case_args, check_against_numpy, cpu_libraries, numpy_reference
from finite_differences import numeric_partial

LIBRARIES = cpu_libraries()
NON_NUMPY = [lib for lib in LIBRARIES if lib.name != "numpy"]
LIB = {lib.name: lib for lib in LIBRARIES}


def _needs(name):
    return pytest.mark.skipif(name not in LIB, reason=f"{name} is not installed")


# ---- the suite: NumPy against finite differences, every library against NumPy ---------------------------

@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_numpy_partials_match_finite_differences(case):
    args = case_args(case)
    _, partials = numpy_reference(case)
    for k, num in enumerate(case.argnums):
        expected = numeric_partial(case.fn, args, num, [1.0])
        np.testing.assert_allclose(partials[k], expected, rtol=1e-6, atol=1e-7,
                                   err_msg=f"{case.name}: partial for argument {num + 1}")


# Eager JAX compiles every operation for every new shape (seconds per case on 2 cores): it runs a
# representative few eagerly, and every case under jax.jit below, which is how JAX code runs anyway.
JAX_EAGER_CASES = ("autoencoder", "broadcasting", "embedding")


def _library_case_pairs(libs, cases):
    return [pytest.param(case, lib, id=f"{case.name}-{lib.name}") for lib in libs for case in cases
            if lib.name != "jax" or case.name in JAX_EAGER_CASES]


@pytest.mark.parametrize("case, lib", _library_case_pairs(NON_NUMPY, CASES))
def test_library_matches_numpy(case, lib):
    check_against_numpy(lib, case)


@pytest.mark.parametrize(
    "case, lib", _library_case_pairs(LIBRARIES, [CASES_BY_NAME[n] for n in ("autoencoder", "embedding", "recurrent")]))
def test_float32_inputs_give_float32_partials(case, lib):
    # torch and JAX default to float32: nothing in generated code may promote to float64 (strict
    # refuses to mix float32 and float64 outright, so a leak fails there loudly).
    check_against_numpy(lib, case, dtype="float32", rtol=2e-4, atol=2e-5)


@_needs("jax")
def test_float32_under_jax_jit():
    import jax

    for name in ("broadcasting", "recurrent"):
        check_against_numpy(LIB["jax"], CASES_BY_NAME[name], dtype="float32", rtol=2e-4, atol=2e-5,
                            transform=jax.jit)


# ---- JAX ----------------------------------------------------------------------------------------------

@_needs("jax")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_value_and_grad_runs_under_jax_jit(case):
    import jax

    check_against_numpy(LIB["jax"], case, transform=jax.jit)


@_needs("jax")
def test_jit_traces_once_and_reuses_the_trace():
    import jax
    import jax.numpy as jnp

    traces = []

    def loss(w, x):
        xp = array_namespace(w)
        traces.append(1)  # runs only while JAX traces the generated code
        return xp.sum(xp.tanh(x @ w) ** 2)

    step = jax.jit(ad.value_and_grad(loss))
    w, x = jnp.ones(3) * 0.1, jnp.arange(6.0).reshape(2, 3)
    first = step(w, x)
    second = step(w + 1.0, x)
    assert len(traces) == 1  # traced once (Python ran once); the second call reused the compiled trace
    assert float(second[0]) != float(first[0])
    jaxpr = jax.make_jaxpr(ad.value_and_grad(loss))(w, x)
    assert "tanh" in str(jaxpr)


@_needs("jax")
def test_jax_scatter_add_has_no_setitem_and_keeps_repeats():
    import jax
    import jax.numpy as jnp

    def pick(x):
        xp = array_namespace(x)
        return xp.sum(x[jnp.asarray([1, 1, 3, 1])] * xp.arange(4.0))

    g = jax.jit(ad.grad(pick))(jnp.zeros(5))
    np.testing.assert_array_equal(np.asarray(g), [0.0, 0.0 + 1.0 + 3.0, 0.0, 2.0, 0.0])


# ---- scatter-add, aliasing and mutation ------------------------------------------------------------

@pytest.mark.parametrize("lib", LIBRARIES, ids=repr)
def test_scatter_add_keeps_repeated_indices(lib):
    def pick(x, w):
        xp = array_namespace(x)
        rows = xp.asarray([2, 0, 2, 2], device=device(x))
        return xp.sum(x[rows] * w)

    x = np.arange(3.0)
    w = np.arange(4.0) + 1.0
    g = ad.grad(pick)(lib.convert(x, "float64"), lib.convert(w, "float64"))
    expected = np.array([2.0, 0.0, 1.0 + 3.0 + 4.0])
    np.testing.assert_array_equal(lib.to_numpy(g), expected)


# JAX refuses boolean masks by design (the result's shape would depend on the data).
@pytest.mark.parametrize("lib", [lib for lib in LIBRARIES if lib.name != "jax"], ids=repr)
def test_boolean_mask_index(lib):
    def masked(x):
        xp = array_namespace(x)
        keep = x > 0.0
        return xp.sum(x[keep] ** 3)

    x = np.array([[-1.0, 2.0, 0.5], [3.0, -0.5, -2.0]])
    g = ad.grad(masked)(lib.convert(x, "float64"))
    np.testing.assert_allclose(lib.to_numpy(g), np.where(x > 0, 3 * x * x, 0.0))


@pytest.mark.parametrize("lib", LIBRARIES, ids=repr)
def test_inputs_and_cotangents_are_never_mutated(lib):
    # `+=` mutates aliases on NumPy and torch: the user's `y += b` updates only y, and accumulating
    # the cotangent of a value used three times must not write into the cotangent the caller passed.
    def f(x, b):
        y = x * 1.0
        y += b
        return y * x + x

    x0, b0 = np.arange(1.0, 7.0).reshape(2, 3), np.array([0.5, -1.0, 2.0])
    x, b = lib.convert(x0, "float64"), lib.convert(b0, "float64")
    dy0 = np.linspace(0.5, 1.5, 6).reshape(2, 3)
    dy = lib.convert(dy0, "float64")
    out, pullback = ad.vjp(f, x, b)
    dx, db = pullback(dy)
    np.testing.assert_array_equal(lib.to_numpy(x), x0)
    np.testing.assert_array_equal(lib.to_numpy(b), b0)
    np.testing.assert_array_equal(lib.to_numpy(dy), dy0)
    np.testing.assert_allclose(lib.to_numpy(dx), dy0 * (2 * x0 + b0) + dy0)
    np.testing.assert_allclose(lib.to_numpy(db), np.sum(dy0 * x0, axis=0))


@pytest.mark.parametrize("lib", [lib for lib in LIBRARIES if lib.name in ("numpy", "torch", "array_api_strict")],
                         ids=repr)
def test_partials_can_be_updated_in_place(lib):
    # d sum(x) is a broadcast of one number; the partial handed back must be a real array.
    def total(x):
        xp = array_namespace(x)
        return xp.sum(x)

    g = ad.grad(total)(lib.convert(np.zeros((2, 3)), "float64"))
    g[0, 0] = 5.0
    np.testing.assert_array_equal(lib.to_numpy(g), [[5.0, 1.0, 1.0], [1.0, 1.0, 1.0]])


@pytest.mark.parametrize("lib", LIBRARIES, ids=repr)
def test_python_float_arguments_get_python_float_partials(lib):
    # xp.exp(2.0) fails on torch and strict, and a NumPy scalar times a strict array turns it into
    # NumPy: a Python-float argument must stay a Python float all the way through.
    def f(x, s):
        xp = array_namespace(x)
        return xp.sum(xp.exp(x) * s) + s * s + abs(s) * 2.0

    x0 = np.array([0.1, 0.2, 0.3])
    value, (dx, ds) = ad.value_and_grad(f, argnums=(0, 1))(lib.convert(x0, "float64"), -1.5)
    assert type(ds) is float
    assert ds == pytest.approx(np.sum(np.exp(x0)) - 3.0 - 2.0)
    np.testing.assert_allclose(lib.to_numpy(dx), -1.5 * np.exp(x0))


# Not array-api-strict: its promotion rules refuse int64 * float64, so there the user casts first.
@pytest.mark.parametrize("lib", [lib for lib in LIBRARIES if lib.name != "array_api_strict"], ids=repr)
def test_integer_arrays_get_floating_partials(lib):
    def f(x):
        xp = array_namespace(x)
        return xp.sum(x * x)

    x = lib.convert(np.array([1.0, 2.0, 3.0]), "float64")
    xp = array_namespace(x)
    g = ad.grad(f)(xp.astype(x, xp.int64))
    assert xp.isdtype(g.dtype, "real floating")
    np.testing.assert_array_equal(lib.to_numpy(g), [2.0, 4.0, 6.0])


@_needs("torch")
def test_numpy_functions_of_python_floats_beside_torch_tensors():
    # NumPy code given tensors and a Python float: np.tanh(s) is NumPy's tanh of a number, as when the
    # function runs (the generated code's namespace is torch's, whose tanh refuses a float). Found by
    # running the random programs of tests/strategies.py on torch tensors.
    import torch

    def f(x, s):
        scale = np.tanh(s) + np.minimum(s, 3.0)
        return (x * x).sum() * scale

    x0, s0 = np.array([0.3, -0.4]), 0.7
    assert f(torch.asarray(x0), s0).item() == pytest.approx(f(x0, s0))  # the function itself runs on tensors
    value, (dx, ds) = ad.value_and_grad(f, argnums=(0, 1))(torch.asarray(x0), s0)
    assert isinstance(dx, torch.Tensor) and type(ds) is float
    assert float(value) == pytest.approx(f(x0, s0))
    np.testing.assert_allclose(dx.numpy(), numeric_partial(f, [x0, s0], 0, [1.0]), rtol=1e-7)
    assert ds == pytest.approx(numeric_partial(f, [x0, s0], 1, [1.0]), rel=1e-7)


def where_of_a_python_bool(x, y):
    flag = True
    return np.sum(np.where(flag, x * 2.0, y) * y)


def where_of_a_number_test(x, s):
    return np.sum(np.where(s > 1.0, x, 0.0) * x)


def where_of_a_numpy_mask(x, y):
    mask = np.array([True, False, True])
    return np.sum(np.where(mask, x, y) ** 2)


@pytest.mark.parametrize("lib", LIBRARIES, ids=repr)
@pytest.mark.parametrize("fn, second", [(where_of_a_python_bool, np.array([0.5, -1.0, 2.0])),
                                        (where_of_a_number_test, 2.0),
                                        (where_of_a_numpy_mask, np.array([0.5, -1.0, 2.0]))])
def test_where_with_a_condition_of_python_or_numpy_bools(fn, second, lib):
    # np.where(flag, x, y) with a Python bool, a test of a number or a NumPy mask, and the library's arrays:
    # NumPy converts the arrays; torch's and array-api-strict's where refused a condition not of their own.
    x0 = np.array([1.0, 2.0, 3.0])
    args = [x0, second]
    converted = [lib.convert(a, "float64") if isinstance(a, np.ndarray) else a for a in args]
    value, partials = ad.value_and_grad(fn, argnums=(0, 1))(*converted)
    assert float(lib.to_numpy(value)) == pytest.approx(fn(*args))
    for num, partial in enumerate(partials):
        got = partial if type(partial) is float else lib.to_numpy(partial)
        np.testing.assert_allclose(got, numeric_partial(fn, args, num, [1.0]), rtol=1e-7, atol=1e-12)


def tensor_to_a_numpy_scalar_power(x):
    xp = array_namespace(x)
    c = np.sin(-1.25)  # a NumPy float64, which torch's and CuPy's arithmetic take beside their arrays
    return xp.sum((1.0 + x * x) ** c)


@_needs("torch")
def test_a_tensor_to_the_power_of_a_numpy_scalar():
    # (the program fuzzer on CuPy found it: the base's partial made a 0-d NumPy array of the exponent,
    # which torch and CuPy refuse in arithmetic with their arrays)
    import torch

    x0 = np.array([0.3, 0.8, 1.4])
    value, dx = ad.value_and_grad(tensor_to_a_numpy_scalar_power)(torch.asarray(x0))
    assert isinstance(dx, torch.Tensor)
    assert float(value) == pytest.approx(tensor_to_a_numpy_scalar_power(x0))
    np.testing.assert_allclose(dx.numpy(), numeric_partial(tensor_to_a_numpy_scalar_power, [x0], 0, [1.0]), rtol=1e-7)


@_needs("torch")
def test_reshape_to_an_int_on_torch_tensors():
    # x.reshape(-1) takes an int in NumPy and in torch; the generated code's array-API reshape takes a
    # tuple only (torch's refused -1). Found as the test above was.
    import torch

    def f(x):
        return (x.reshape(-1) * np.reshape(x, 6)).sum()

    x0 = np.arange(6.0).reshape(2, 3)
    g = ad.grad(f)(torch.asarray(x0))
    assert isinstance(g, torch.Tensor)
    np.testing.assert_allclose(g.numpy(), 2 * x0)


@_needs("torch")
def test_torch_negative_steps_go_through_flip():
    import torch

    def reverse_dot(x, w):
        xp = array_namespace(x)
        return xp.sum(xp.flip(x, axis=0) * w)

    x, w = torch.arange(4.0, dtype=torch.float64), torch.arange(1.0, 5.0, dtype=torch.float64)
    g = ad.grad(reverse_dot)(x, w)
    np.testing.assert_array_equal(g.numpy(), [4.0, 3.0, 2.0, 1.0])


# ---- no round trip through NumPy -----------------------------------------------------------------

@_needs("torch")
def test_torch_never_converts_to_numpy(monkeypatch):
    import torch

    def refuse(*args, **kwargs):
        raise AssertionError("a torch tensor was converted to NumPy")

    monkeypatch.setattr(torch.Tensor, "__array__", refuse)
    monkeypatch.setattr(torch.Tensor, "numpy", refuse)
    for name in ("autoencoder", "broadcasting", "embedding", "special_functions", "recurrent"):
        case = CASES_BY_NAME[name]
        args = [a if isinstance(a, float) else torch.asarray(a) for a in case_args(case)]
        value, partials = ad.value_and_grad(case.fn, argnums=case.argnums)(*args)
        assert all(isinstance(p, (torch.Tensor, float)) for p in partials)


@_needs("dask")
def test_dask_partials_are_lazy_and_compute_nothing():
    import dask
    import dask.array as da

    def refuse(*args, **kwargs):
        raise AssertionError("something was computed while building the gradient")

    case = CASES_BY_NAME["autoencoder"]
    args = [da.from_array(a, chunks=2) for a in case_args(case)]
    with dask.config.set(scheduler=refuse):
        value, partials = ad.value_and_grad(case.fn, argnums=case.argnums)(*args)
    assert all(isinstance(p, da.Array) for p in (value, *partials))
    _, expected = numpy_reference(case)
    for got, want in zip(dask.compute(*partials, scheduler="sync"), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10)


# NumPy's functions of a Dask array run in Dask (``__array_function__``), as they do on CuPy's arrays; so must
# the partials of their rules, whose helpers call NumPy's functions on the cotangent (tests/test_gpu.py has
# the program fuzzer's functions on CuPy).
def cumsum_rows(x):
    return np.sum(np.cumsum(x, axis=0) ** 2)


def cumprod_columns(x):
    return np.sum(np.cumprod(x, axis=1) * x)


def product_down(x):
    return np.sum(np.prod(x, axis=0) ** 2)


def row_norms(x):
    return np.sum(np.linalg.norm(x, axis=1) ** 3)


def tensordot_of_rows(x):
    return np.sum(np.tensordot(x, x * x, axes=([1], [1])) ** 2)


def trace_of_square(x):
    return np.trace(x @ x[:3, :]) ** 2 + np.trace(x, 1)


def diagonals(x):
    return np.sum(np.diag(x, -1) ** 2) + np.sum(np.diag(np.diag(x)) * x[:3, :]) + np.sum(x.diagonal(1) ** 3)


def differences(x):
    return np.sum(np.diff(x, 2, axis=0) ** 2) + np.sum(np.diff(x) * x[:, 1:])


def trapezoids(x):
    return np.sum(np.trapezoid(x, x, axis=0) ** 2) + np.sum(np.trapezoid(x, dx=0.5, axis=1) ** 2)


def trapezoid_of_all(x):
    return np.trapezoid(np.ravel(x))


def repeats(x):
    return np.sum(np.repeat(x, 3, axis=0) ** 3) + np.sum(np.repeat(x[:, 0], 2) ** 2)


_CONSTANT = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-2.0, 1.0, 0.5], [0.1, 0.2, 0.3]])


def kron_of_itself(x):
    return np.sum(np.kron(x, x) ** 2) + np.sum(np.kron(_CONSTANT[:2], x) ** 2)


def cross_with_a_constant(x):
    return np.sum(np.cross(x, _CONSTANT) ** 2)


def multi_dot_of_four(x):
    return np.sum(np.linalg.multi_dot([x[0], x.T, x, x[1]]) ** 2) + np.sum(np.linalg.multi_dot([_CONSTANT.T, x]))


_ORDER = np.array([[2, 0, 0, 1], [1, 1, 2, 0], [0, 2, 1, 1], [2, 2, 0, 0]])


def gathers_along_rows(x):
    return np.sum(np.take_along_axis(x, _ORDER, axis=1) ** 2 * _ORDER)


def einsums(x):
    return np.sum(np.einsum("ij,kj->ik", x, x) ** 2) + np.sum(np.einsum("ij->j", x) ** 3)


def convolutions(x):
    flat = np.ravel(x)
    return np.sum(np.convolve(flat, _CONSTANT[0], "same") ** 2) + np.sum(np.correlate(flat, _CONSTANT[2], "full") ** 2)


def polynomials(x):
    return np.sum(np.polyval(_CONSTANT[1], x) ** 2) + np.polyval(np.ravel(x), 0.7) ** 2


def weighted_averages(x):
    return np.average(x[0], weights=x[1] ** 2) ** 2 + np.sum(np.average(x, axis=0, weights=x[:, 2]) ** 3)


def einsum_diagonals(x):
    # (2 x 2 blocks: Dask's einsum needs a repeated letter's axes chunked alike)
    cube = x[:2, :2, None] * x[1]  # (2, 2, 3)
    return (np.einsum("ii->", x[:2, :2]) ** 2 + np.sum(np.einsum("ii->i", x[2:, :2]) ** 3)
            + np.sum(np.einsum("iij->j", cube) ** 2))


def pads(x):
    return (np.sum(np.pad(x, 1) ** 2) + np.sum(np.pad(x, ((1, 0), (2, 1)), mode="reflect") ** 3)
            + np.sum(np.pad(x, 2, mode="edge") ** 3) + np.sum(np.pad(x, ((3, 1), (0, 2)), mode="symmetric") ** 3)
            + np.sum(np.pad(x, ((2, 1), (1, 3)), mode="wrap") ** 3)
            + np.sum(np.pad(x, (1, 2), constant_values=0.5) ** 3))


_POINTS = np.array([0.4, 0.9, 1.2])


# (each function below has its argument reach the converted partial directly: a term that passes the
# cotangent through an index or a product would make the gradient Dask's anyway)
def interpolations(x):
    return (np.sum(np.interp(x, _POINTS, _CONSTANT[0]) ** 2)
            + np.sum(np.interp(x, _POINTS, _CONSTANT[1], left=0.3, right=-2.0) ** 3))


def interpolated_values(x):
    return np.sum(np.interp(_CONSTANT, np.linspace(-2.0, 2.0, 12), np.ravel(x)) ** 2)


def conversions(x):
    return np.sum(np.array(x) ** 3) + np.sum(np.asarray(x) * _CONSTANT[:, :3]) + np.sum(np.asanyarray(x) ** 2)


def eigenvalues(x):
    return np.sum(np.linalg.eigvalsh(x) ** 3)  # (x: 3 x 3, its lower triangle read)


def gathers_transposed(x):
    # (the partial of take_along_axis as a user's function: its own partial is the second-order gradient's)
    return np.sum(take_along_axis_partial(x[:, :2] ** 2, x, _ORDER[:, :2], 1) ** 2 * x)


_COMPUTING = (cumprod_columns, trapezoids, trapezoid_of_all, kron_of_itself, cross_with_a_constant,
              multi_dot_of_four, gathers_along_rows, convolutions, polynomials, interpolations, interpolated_values,
              conversions, eigenvalues)


@_needs("dask")
@pytest.mark.parametrize("fn", [cumsum_rows, cumprod_columns, product_down, row_norms, tensordot_of_rows,
                                trace_of_square, diagonals, differences, trapezoids, trapezoid_of_all, repeats,
                                kron_of_itself, cross_with_a_constant, multi_dot_of_four, gathers_along_rows,
                                convolutions, polynomials, einsums, weighted_averages, einsum_diagonals, pads,
                                interpolations, interpolated_values, conversions, eigenvalues, gathers_transposed],
                         ids=lambda fn: fn.__name__)
def test_numpy_functions_of_dask_arrays_get_dask_partials_without_computing(fn):
    # (cumprod's partial asks whether a lane holds a zero, which computes; Dask has no trapezoid, kron, cross,
    # multi_dot, take_along_axis, convolve, correlate, polyval, interp or eigh, so NumPy's compute the Dask
    # array, as np.asarray does: those cases run on Dask's scheduler, and their values and cotangents are
    # NumPy's; their partials must still be Dask's)
    import dask
    import dask.array as da

    def refuse(*args, **kwargs):
        raise AssertionError("something was computed while building the gradient")

    x = np.random.default_rng(5).uniform(0.5, 1.5, (3, 3) if fn is eigenvalues else (4, 3))
    with dask.config.set(scheduler="sync" if fn in _COMPUTING else refuse):
        value, partial = ad.value_and_grad(fn)(da.from_array(x, chunks=2))
    assert isinstance(partial, da.Array)
    np.testing.assert_allclose(float(dask.compute(value, scheduler="sync")[0]), fn(x), rtol=1e-12)
    np.testing.assert_allclose(partial.compute(scheduler="sync"), numeric_partial(fn, (x,), 0, [1.0]), rtol=1e-6)


def test_partial_helpers_of_numbers_give_numpy_scalars_not_0d_arrays():
    # A partial of Python numbers meets another library's arrays in the pullback (a float argument beside
    # CuPy arrays: `dx0 += g * sinc_derivative(x0)`); CuPy's arithmetic takes NumPy scalars and refuses
    # NumPy's 0-d arrays, which np.where makes of numbers.
    from autodiffsource.rules.support import safe_divide, sinc_derivative

    for value in (sinc_derivative(0.7), sinc_derivative(0.0), safe_divide(1.5, 2.0), safe_divide(1.5, 0.0),
                  runtime.power_base_partial(0.5, np.float64(1.5)), runtime.log_base(np.float64(2.0))):
        assert isinstance(value, (float, np.floating)) and not isinstance(value, np.ndarray), repr(value)


@_needs("dask")
def test_dask_reshape_across_uneven_chunks():
    import dask.array as da

    def f(x):
        xp = array_namespace(x)
        m = xp.reshape(x, (3, 4))
        return xp.sum(xp.sin(m) @ xp.permute_dims(m, (1, 0)))

    x = np.linspace(-1.0, 1.0, 12)
    g = ad.grad(f)(da.from_array(x, chunks=5))
    np.testing.assert_allclose(g.compute(), ad.grad(f)(x), rtol=1e-12)


# ---- special functions per library -------------------------------------------------------------------

@pytest.mark.parametrize("lib", LIBRARIES, ids=repr)
def test_special_functions_run_natively(lib):
    x0 = np.array([-1.5, -0.5, 0.3, 1.7, 3.2])
    x = lib.convert(x0, "float64")
    from scipy import special as scipy_special

    for name in ("erf", "erfc", "gammaln", "gamma", "digamma"):
        got = getattr(backend.special, name)(x)
        assert isinstance(got, lib.array_type()), f"{name} on {lib.name} gave a {type(got).__name__}"
        np.testing.assert_allclose(lib.to_numpy(got), getattr(scipy_special, name)(x0), rtol=1e-10,
                                   err_msg=f"{name} on {lib.name}")


@pytest.mark.parametrize("lib", [lib for lib in LIBRARIES if lib.name not in ("numpy", "dask")], ids=repr)
@pytest.mark.parametrize("name, x0", [
    ("log_expit", np.array([-800.0, -30.0, -2.5, -1e-9, 0.0, 1e-9, 0.7, 3.0, 40.0, 800.0])),
    ("softplus", np.array([-800.0, -30.0, -2.5, 0.0, 0.7, 3.0, 40.0, 800.0])),
    ("erfcinv", np.array([0.0, 1e-300, 1e-20, 0.01, 0.3, 1.0, 1.5, 1.99, 2.0]))])
def test_special_functions_scipy_computes_through_numpy_are_the_librarys_own(name, x0, lib):
    # SciPy's array-API mode computes these three by a round trip through NumPy (a NumPy array back for
    # array-api-strict, a copy for torch: never on a GPU); the library's own elementwise functions, with
    # SciPy's formulas, give SciPy's values to a few ulps.
    from scipy import special as scipy_special

    fn = backend.special_for(backend.backend_of(lib.convert(x0, "float64")), name)
    assert fn is not getattr(scipy_special, name)
    got = getattr(backend.special, name)(lib.convert(x0, "float64"))
    assert isinstance(got, lib.array_type()), f"{name} on {lib.name} gave a {type(got).__name__}"
    np.testing.assert_allclose(lib.to_numpy(got), getattr(scipy_special, name)(x0), rtol=1e-14, atol=0)


@_needs("torch")
def test_torch_special_functions_come_from_torch_special():
    import torch

    assert backend.special_for(backend.backend_of(torch.zeros(1)), "erf") is torch.special.erf


@_needs("jax")
def test_jax_special_functions_come_from_jax_scipy():
    import jax.numpy as jnp
    import jax.scipy.special

    assert backend.special_for(backend.backend_of(jnp.zeros(1)), "gammaln") is jax.scipy.special.gammaln


def test_special_on_numpy_is_scipy_itself():
    from scipy import special as scipy_special

    x = np.array([0.5, 1.5])
    assert backend.special.erf(0.5) == scipy_special.erf(0.5)
    np.testing.assert_array_equal(backend.special.gammaln(x), scipy_special.gammaln(x))


# ---- the backend table ------------------------------------------------------------------------------

def test_backend_table_recognises_every_installed_library():
    names = {lib.name: backend.backend_of(lib.convert(np.zeros(2), "float64")).name for lib in LIBRARIES}
    assert names == {lib.name: lib.name for lib in LIBRARIES}


def test_arrayfire_is_listed_as_unavailable_with_the_reason():
    entry = next(b for b in backend.BACKENDS if b.name == "arrayfire")
    assert not entry.available
    assert "__array_namespace__" in entry.note

    # An array whose type lives in a module named arrayfire is refused with that reason.
    fake_type = type("Array", (), {"__module__": "arrayfire.array", "shape": (2,)})
    with pytest.raises(backend.BackendError, match="ArrayFire"):
        backend.backend_of(fake_type())


def test_an_unknown_array_api_library_uses_the_generic_entry():
    fake_type = type("Array", (), {"__module__": "some_future_library"})
    assert backend.backend_of(fake_type()) is backend.GENERIC


def test_describe_lists_every_backend():
    text = backend.describe()
    for entry in backend.BACKENDS:
        assert entry.name in text
    if importlib.util.find_spec("torch"):
        assert "installed" in text


def test_numpy_inputs_take_numpy_itself_as_namespace():
    # (NumPy itself from 2.1 on; an older NumPy lacks array-API names the rules call, and is completed: below)
    numpy_namespace = np if "cumulative_sum" in vars(np) else runtime._NUMPY_NAMESPACE
    assert runtime._NUMPY_NAMESPACE is numpy_namespace
    assert runtime.namespace(np.zeros(2), 1.0, None, "label", [1, 2]) is numpy_namespace
    assert runtime.namespace(1.0, 2) is numpy_namespace


def _numpy_without(*names):
    older = types.ModuleType("numpy")
    older.__dict__.update({k: v for k, v in vars(np).items() if k not in names})
    return older


def test_a_numpy_without_cumulative_sum_is_completed_by_array_api_compat(monkeypatch):
    # NumPy 2.0 has neither cumulative_sum nor cumulative_prod (2.1 added them): the rule for
    # xp.cumulative_sum, whose primal calls it in the namespace of NumPy values, raised AttributeError there.
    older = _numpy_without("cumulative_sum", "cumulative_prod")
    xp = runtime._numpy_namespace(older)
    assert xp is not older and xp.sin is np.sin and xp.sum is np.sum  # NumPy's own, where it has the name
    np.testing.assert_array_equal(xp.cumulative_sum(np.arange(1.0, 4.0)), [1.0, 3.0, 6.0])
    assert xp.sign(-2.0) == -1.0  # NumPy's sign: array-api-compat's refuses a Python float

    def scan(x):
        xp = array_namespace(x)
        return xp.sum(xp.cumulative_sum(x, axis=0) ** 2)

    monkeypatch.setattr(runtime, "_NUMPY_NAMESPACE", xp)
    monkeypatch.setattr(runtime.common, "_NUMPY_NAMESPACE", xp)
    x0 = np.random.default_rng(3).uniform(0.5, 1.5, (4, 3))
    value, partial = ad.value_and_grad(scan)(x0)
    assert value == pytest.approx(scan(x0), rel=1e-12)
    np.testing.assert_allclose(partial, numeric_partial(scan, (x0,), 0, [1.0]), rtol=1e-6, atol=1e-9)


def capped_total(x):
    return np.fmax(np.sum(x), 0.5) * 2.0


def test_an_astype_that_refuses_numpy_scalars_is_array_api_compats(monkeypatch):
    # NumPy 2.0's np.astype takes arrays only (2.1 takes NumPy scalars too): the partial of np.fmax of an
    # np.float64 and a number, xp.astype(a > b, dtype), raised TypeError there.
    def astype(x, dtype, copy=True):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"Input should be a NumPy array. It is a {type(x)} instead.")
        return x.astype(dtype, copy=copy)

    older = _numpy_without("astype")
    older.astype = astype
    xp = runtime._numpy_namespace(older)
    assert xp is not older and xp.astype is not astype and xp.sin is np.sin
    assert xp.astype(np.bool_(True), np.float64) == 1.0

    monkeypatch.setattr(runtime, "_NUMPY_NAMESPACE", xp)
    monkeypatch.setattr(runtime.common, "_NUMPY_NAMESPACE", xp)
    assert runtime._xp(np.float64(1.0)) is xp and runtime._xp(np.zeros(2)) is xp  # (the partials' namespace)
    for x0, expected in [(np.array([0.25, 0.5]), 2.0), (np.array([0.25, 0.25]), 1.0), (np.array([0.1, 0.2]), 0.0)]:
        np.testing.assert_array_equal(ad.grad(capped_total)(x0), [expected, expected])  # (a tie shares: 1/2)


@pytest.mark.skipif(not {"torch", "jax"} <= set(LIB), reason="needs torch and jax")
def test_mixing_two_libraries_is_an_error():
    with pytest.raises(TypeError, match="[Mm]ultiple namespaces"):
        runtime.namespace(LIB["torch"].convert(np.zeros(2), "float64"), LIB["jax"].convert(np.zeros(2), "float64"))


# ---- the rough edges: NumPy leaks, Dask's chunks and new axes ---------------------------------------

def leaky(x):
    return x * 2.0


def δleaky(x):
    # A user rule that (wrongly) answers in NumPy whatever the input's library.
    y = x * 2.0

    def leaky_pullback(dy):
        return (np.full(tuple(x.shape), 2.0),)

    return y, leaky_pullback


def uses_leaky(x):
    xp = array_namespace(x)
    return xp.sum(leaky(x))


@_needs("torch")
def test_a_numpy_partial_for_a_torch_input_is_named_not_converted():
    import torch

    with pytest.raises(backend.BackendError, match="came back as a NumPy array"):
        ad.grad(uses_leaky)(torch.ones(3, dtype=torch.float64))


@_needs("dask")
def test_dask_partials_keep_the_input_chunks():
    import dask.array as da

    def f(x, w):
        xp = array_namespace(x)
        return xp.sum(xp.sin(xp.reshape(x, (12,))) * w)

    x = da.from_array(np.arange(12.0).reshape(3, 4), chunks=2)
    w = da.from_array(np.linspace(0.0, 1.0, 12), chunks=5)
    gx, gw = ad.grad(f, argnums=(0, 1))(x, w)
    assert gx.chunks == x.chunks and gw.chunks == w.chunks
    np.testing.assert_allclose(gx.compute(), np.cos(np.arange(12.0)).reshape(3, 4) * np.linspace(0, 1, 12).reshape(3, 4))


@pytest.mark.parametrize("lib", [lib for lib in LIBRARIES if lib.name != "array_api_strict"], ids=repr)
def test_new_axes_in_an_index(lib):
    # Dask's __setitem__ refuses None; array-api-strict refuses x[None] in the user's code already.
    def f(x):
        xp = array_namespace(x)
        return xp.sum(x[None, ..., 1] * x[None, :, 0])

    x0 = np.arange(12.0).reshape(3, 4) * 0.1
    g = ad.grad(f)(lib.convert(x0, "float64"))
    expected = np.zeros((3, 4))
    expected[:, 1] = x0[:, 0]
    expected[:, 0] = x0[:, 1]
    np.testing.assert_allclose(lib.to_numpy(g), expected)


# The array-API spellings of sorts, scans and products, whose partials were written with NumPy's slicing
# (negative steps, which torch and the standard lack) and whose primals called NumPy's sort and cumsum:
# on torch tensors and strict arrays they raised or came back as NumPy arrays.
def sorted_rows_weighted(x):
    xp = array_namespace(x)
    return xp.sum(xp.sort(x, axis=1) * xp.asarray([1.0, 2.0, 3.0], device=device(x)))


def cumulative_sum_down(x):
    xp = array_namespace(x)
    return xp.sum(xp.cumulative_sum(x, axis=0) ** 2)


def product_of_columns(x):
    xp = array_namespace(x)
    return xp.sum(xp.prod(x, axis=1) ** 2) + xp.prod(x[0, :])


@pytest.mark.parametrize("fn, lib", [
    pytest.param(fn, lib, id=f"{fn.__name__}-{lib.name}")
    for fn in (sorted_rows_weighted, cumulative_sum_down, product_of_columns) for lib in LIBRARIES
    if not (fn is sorted_rows_weighted and lib.name == "dask")])  # (Dask has no sort: the function fails)
def test_array_api_sorts_scans_and_products_on_every_library(fn, lib):
    x0 = np.random.default_rng(7).uniform(0.5, 1.5, (4, 3))
    x0[2, 1] = 0.0  # (a zero: prod's partial takes no quotient)
    value, partial = ad.value_and_grad(fn)(lib.convert(x0, "float64"))
    assert isinstance(partial, lib.array_type())
    assert float(lib.to_numpy(value)) == pytest.approx(fn(x0), rel=1e-12)
    np.testing.assert_allclose(lib.to_numpy(partial), numeric_partial(fn, (x0,), 0, [1.0]), rtol=1e-6, atol=1e-9)


# `y[idx] = v` with an index that repeats a position: the last write wins (NumPy's rule, and torch's and Dask's
# on the CPU), so the earlier values written there get no cotangent. Other libraries than NumPy gave every
# occurrence one: a wrong gradient, with no error.
def written_through_a_repeating_index_of_its_library(x, v):
    xp = array_namespace(x)
    y = x * 1.0
    y[xp.asarray([0, 2, 0], device=device(x))] = v * v
    return xp.sum(y * xp.asarray([1.0, 2.0, 3.0, 4.0], device=device(x)))


def written_through_a_repeating_numpy_index(x, v):
    xp = array_namespace(x)
    y = x * 1.0
    y[np.array([2, 1, 2])] = v * v
    return xp.sum(y * xp.asarray([1.0, 2.0, 3.0, 4.0], device=device(x)))


@pytest.mark.parametrize("lib", [lib for lib in LIBRARIES if lib.name in ("numpy", "torch", "dask")], ids=repr)
@pytest.mark.parametrize("fn", [written_through_a_repeating_index_of_its_library,
                                written_through_a_repeating_numpy_index], ids=lambda fn: fn.__name__)
def test_the_last_write_through_a_repeating_index_takes_the_cotangent(fn, lib):
    x0, v0 = np.arange(4.0) + 0.5, np.array([1.5, 2.0, 3.0])
    partials = ad.grad(fn, argnums=(0, 1))(lib.convert(x0, "float64"), lib.convert(v0, "float64"))
    for k, partial in enumerate(partials):
        assert isinstance(partial, lib.array_type())
        np.testing.assert_allclose(lib.to_numpy(partial), numeric_partial(fn, (x0, v0), k, [1.0]), atol=1e-8)
