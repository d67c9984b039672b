"""``scipy.stats.norm``'s methods (rules/scipy_stats.py): the value is SciPy's to the bit, every partial
(in ``x``, ``loc`` and ``scale``, broadcast against each other) agrees with central differences, and the
same user function runs on torch and JAX arrays with NumPy's partials. Before these rules each of them was
refused with a MissingRuleError."""

import os

os.environ.setdefault("JAX_ENABLE_X64", "1")

import numpy as np
import pytest
from scipy import stats

from autodiffsource import grad, hessian, value_and_grad
from finite_differences import numeric_partial

METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")


def norm_method(method, x, loc, scale):
    if method == "logpdf":
        return stats.norm.logpdf(x, loc=loc, scale=scale)
    elif method == "pdf":
        return stats.norm.pdf(x, loc=loc, scale=scale)
    elif method == "cdf":
        return stats.norm.cdf(x, loc=loc, scale=scale)
    elif method == "logcdf":
        return stats.norm.logcdf(x, loc=loc, scale=scale)
    elif method == "sf":
        return stats.norm.sf(x, loc=loc, scale=scale)
    return stats.norm.logsf(x, loc=loc, scale=scale)


def weighted(x, loc, scale, method):
    return np.sum(norm_method(method, x, loc, scale) * np.linspace(0.5, 1.5, 12).reshape(3, 4))


def squared(x, loc, method):
    # (methods only: the same code runs on NumPy, torch and JAX arrays)
    y = norm_method(method, x, loc, 1.5)
    return (y * y).sum()


def inputs():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 4)) * 2.0
    loc = rng.normal(size=(3, 1))  # broadcast against x's rows
    scale = rng.uniform(0.5, 2.0, size=4)  # and its columns
    return x, loc, scale


@pytest.mark.parametrize("method", METHODS)
def test_value_is_scipys_and_every_partial_agrees_with_central_differences(method):
    x, loc, scale = inputs()
    value, partials = value_and_grad(weighted, argnums=(0, 1, 2))(x, loc, scale, method)
    assert value == weighted(x, loc, scale, method)  # the same operations as SciPy's, in the same order
    for i, partial in enumerate(partials):
        expected = numeric_partial(lambda *a: weighted(*a, method), [x, loc, scale], i, [1.0])
        np.testing.assert_allclose(partial, expected, rtol=1e-6, atol=1e-9)


def test_positional_loc_and_scale_and_numbers():
    def f(x, loc):
        return np.sum(stats.norm.logpdf(x, loc, 2.0)) + stats.norm.cdf(0.3, loc=loc[0], scale=1.5)

    x, loc = np.linspace(-1.0, 2.0, 5), np.array([0.25, -0.5, 1.0, 0.0, 0.5])
    value, (dx, dloc) = value_and_grad(f, argnums=(0, 1))(x, loc)
    assert value == f(x, loc)
    np.testing.assert_allclose(dx, numeric_partial(f, [x, loc], 0, [1.0]), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dloc, numeric_partial(f, [x, loc], 1, [1.0]), rtol=1e-6, atol=1e-9)


def test_log_cdf_far_in_the_tail_stays_finite():
    # phi(z) / Phi(z) computed as exp(log phi - log Phi): both underflow to 0 at z = -40
    def f(x):
        return np.sum(stats.norm.logcdf(x) + stats.norm.logsf(-x))

    x = np.array([-40.0, -8.0, 0.0, 3.0])
    _, dx = value_and_grad(f)(x)
    assert np.all(np.isfinite(dx))
    np.testing.assert_allclose(dx, numeric_partial(f, [x], 0, [1.0]), rtol=1e-6)


@pytest.mark.parametrize("library", ["torch", "jax"])
@pytest.mark.parametrize("method", METHODS)
def test_on_other_libraries_the_partials_are_numpys(method, library):
    module = pytest.importorskip(library)
    convert = module.asarray if library == "torch" else pytest.importorskip("jax.numpy").asarray
    x, loc, _ = inputs()
    value, want = value_and_grad(squared, argnums=(0, 1))(x, loc, method)
    got_value, got = value_and_grad(squared, argnums=(0, 1))(convert(x), convert(loc), method)
    assert type(got[0]) is type(convert(x))
    np.testing.assert_allclose(np.asarray(got_value), value, rtol=1e-12)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-12, atol=1e-14)


def test_second_order_through_the_rules():
    def f(x, scale):
        return np.sum(stats.norm.logcdf(x, loc=0.5, scale=scale) + stats.norm.pdf(x, scale=scale))

    x, scale = np.array([0.3, -1.0, 2.0]), np.array([2.0, 1.5, 0.7])
    gradient = grad(f)
    hessian_x = hessian(f)(x, scale)
    by_differences = np.stack([numeric_partial(lambda v: gradient(v, scale), [x], 0, [e]) for e in np.eye(3)])
    np.testing.assert_allclose(hessian_x, by_differences, rtol=1e-6, atol=1e-9)
