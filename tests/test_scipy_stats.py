"""``scipy.stats``' location-scale distributions (rules/scipy_stats.py): ``norm``, ``expon``, ``laplace``,
``logistic`` and ``cauchy``. The value is SciPy's to the bit (to a unit in the last place where noted), every
partial (in ``x``, ``loc`` and ``scale``, broadcast against each other) agrees with central differences, off
``expon``'s support every partial is 0, and the same user function runs on torch and JAX arrays with NumPy's
partials. Before these rules each of them was refused with a MissingRuleError."""

import linecache
import os

os.environ.setdefault("JAX_ENABLE_X64", "1")

import numpy as np
import pytest
from scipy import stats

from autodiffsource import grad, hessian, hvp, jvp, value_and_grad, vjp
from finite_differences import numeric_partial

METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")


# array-api-strict refuses what the others let pass (bool masks in arithmetic, NumPy's float64 beside its arrays)
OTHER_LIBRARIES = ["torch", "jax", "array_api_strict"]


def converter(library):
    """``library``'s asarray (the test is skipped where it is not installed)."""
    module = pytest.importorskip("jax.numpy" if library == "jax" else library)
    return module.asarray


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


@pytest.mark.parametrize("library", OTHER_LIBRARIES)
@pytest.mark.parametrize("method", METHODS)
def test_on_other_libraries_the_partials_are_numpys(method, library):
    convert = converter(library)
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


# ---- expon, laplace, logistic and cauchy: the same six methods, in x, loc and scale ---------------------
# Each user function is written out (exec'd under a linecache name, so autodiffsource reads its source
# as it reads a file's): `stats.cauchy.logpdf(x, loc=loc, scale=scale)`, as a user writes it.

FAMILIES = ("expon", "laplace", "logistic", "cauchy")
# Where SciPy calls scipy.special's log1p and expm1 the rules call the array library's (jax.scipy.special has
# neither): the same to a unit in the last place, not always to the bit.
NUMPYS_NOT_SCIPYS = {("logistic", "logpdf"), ("logistic", "pdf"), ("expon", "cdf"), ("expon", "logcdf")}
_made = {}


def written_out(source):
    if source not in _made:
        filename = f"<test_scipy_stats {len(_made)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace = {"np": np, "stats": stats}
        exec(compile(source, filename, "exec"), namespace)
        _made[source] = namespace["f"]
    return _made[source]


def family_weighted(family, method):
    return written_out(f"def f(x, loc, scale):\n    y = stats.{family}.{method}(x, loc=loc, scale=scale)\n"
                       "    return np.sum(y * np.linspace(0.5, 1.5, 12).reshape(3, 4))\n")


def family_inputs(family):
    x, loc, scale = inputs()
    if family == "expon":  # on the support, x > loc (test_expon_off_its_support: the other points)
        x = np.abs(x) + 0.1 + np.max(loc)
    return x, loc, scale


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("method", METHODS)
def test_families_values_are_scipys_and_partials_agree_with_central_differences(family, method):
    f = family_weighted(family, method)
    x, loc, scale = family_inputs(family)
    value, partials = value_and_grad(f, argnums=(0, 1, 2))(x, loc, scale)
    if (family, method) in NUMPYS_NOT_SCIPYS:
        np.testing.assert_allclose(value, f(x, loc, scale), rtol=1e-15)
    else:
        assert value == f(x, loc, scale)  # SciPy's operations, in SciPy's order
    for i, partial in enumerate(partials):
        np.testing.assert_allclose(partial, numeric_partial(f, [x, loc, scale], i, [1.0]), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_expon_off_its_support(method):
    # Left of loc SciPy's values are constants (logpdf -inf, pdf and cdf 0, sf 1...): every partial there is
    # 0, never NaN; on the support the partials are those of central differences.
    one_point = written_out(f"def f(x, loc, scale):\n    return stats.expon.{method}(x, loc=loc, scale=scale)\n")

    x, loc, scale = np.array([-3.0, -0.5, 0.7, 2.0]), np.array([0.2, 0.1, -0.3, 0.5]), np.array([1.5, 0.8, 2.0, 1.0])
    value, pullback = vjp(one_point, x, loc, scale)
    np.testing.assert_array_equal(value, getattr(stats.expon, method)(x, loc=loc, scale=scale))
    partials = pullback(np.ones(4))
    for i, partial in enumerate(partials):
        assert np.all(partial[:2] == 0.0), (i, partial)
        on_support = numeric_partial(one_point, [x[2:], loc[2:], scale[2:]], i, [np.ones(2)])
        np.testing.assert_allclose(partial[2:], on_support, rtol=1e-6, atol=1e-9)


def test_families_take_positional_loc_and_scale_and_numbers():
    def f(x, loc):
        return (np.sum(stats.cauchy.logpdf(x, loc, 2.0) + stats.laplace.cdf(x, loc, 0.5))
                + stats.logistic.logsf(0.3, loc=loc[0], scale=1.5) + stats.expon.pdf(3.0, loc[1], 2.0))

    x, loc = np.linspace(-1.0, 2.0, 5), np.array([0.25, -0.5, 1.0, 0.0, 0.5])
    value, (dx, dloc) = value_and_grad(f, argnums=(0, 1))(x, loc)
    assert value == f(x, loc)
    np.testing.assert_allclose(dx, numeric_partial(f, [x, loc], 0, [1.0]), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dloc, numeric_partial(f, [x, loc], 1, [1.0]), rtol=1e-6, atol=1e-9)


def test_families_far_in_the_tails_stay_finite():
    def f(x):
        return np.sum(stats.logistic.logcdf(x) + stats.logistic.logsf(x) + stats.cauchy.logcdf(x)
                      + stats.cauchy.logsf(x) + stats.laplace.logcdf(x) + stats.laplace.logsf(x))

    x = np.array([-40.0, -8.0, 0.0, 3.0, 40.0])
    _, dx = value_and_grad(f)(x)
    np.testing.assert_allclose(dx, numeric_partial(f, [x], 0, [1.0]), rtol=1e-6)

    def g(x):  # (laplace's logcdf is -inf there, as SciPy's)
        return np.sum(stats.logistic.logcdf(x) + stats.logistic.logsf(x) + stats.cauchy.logcdf(x)
                      + stats.cauchy.logsf(x))

    x = np.array([-800.0, 800.0])
    _, dx = value_and_grad(g)(x)
    np.testing.assert_allclose(dx, numeric_partial(g, [x], 0, [1.0]), rtol=1e-6)


@pytest.mark.parametrize("library", OTHER_LIBRARIES)
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("method", METHODS)
def test_families_on_other_libraries_the_partials_are_numpys(method, family, library):
    convert = converter(library)
    f = written_out(f"def f(x, loc):\n    y = stats.{family}.{method}(x, loc, 1.5)\n    return (y * y).sum()\n")
    x, loc, _ = family_inputs(family)
    value, want = value_and_grad(f, argnums=(0, 1))(x, loc)
    got_value, got = value_and_grad(f, argnums=(0, 1))(convert(x), convert(loc))
    assert type(got[0]) is type(convert(x))
    np.testing.assert_allclose(np.asarray(got_value), value, rtol=1e-12)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-12, atol=1e-14)


def test_families_second_order_through_the_rules():
    def f(x, scale):
        return np.sum(stats.laplace.logcdf(x, loc=0.5, scale=scale) + stats.logistic.pdf(x, scale=scale)
                      + stats.cauchy.logsf(x, scale=scale) + stats.expon.logcdf(x, loc=-3.0, scale=scale))

    x, scale = np.array([0.3, -1.0, 2.0]), np.array([2.0, 1.5, 0.7])
    gradient = grad(f)
    hessian_x = hessian(f)(x, scale)
    by_differences = np.stack([numeric_partial(lambda v: gradient(v, scale), [x], 0, [e]) for e in np.eye(3)])
    np.testing.assert_allclose(hessian_x, by_differences, rtol=1e-6, atol=1e-9)


# ---- t (shape df) and gamma (shape a) -------------------------------------------------------------------
# Densities in x, the shape, loc and scale; cdf and sf (t's logcdf and logsf too) in x, loc and scale, their
# partial in the shape refused with a MissingRuleError naming the method and the parameter, only where that
# parameter is differentiated. t's log density writes SciPy's log(poch(df/2, 1/2)) as a difference of gammaln
# (an ulp or two); the other values are SciPy's operations.

from autodiffsource.errors import MissingRuleError  # noqa: E402

SHAPED = {"t": ("logpdf", "pdf", "cdf", "sf", "logcdf", "logsf"), "gamma": ("logpdf", "pdf", "cdf", "sf")}
DENSITIES = ("logpdf", "pdf")


def shaped_weighted(family, method):
    return written_out(f"def f(x, shape, loc, scale):\n"
                       f"    y = stats.{family}.{method}(x, shape, loc=loc, scale=scale)\n"
                       "    return np.sum(y * np.linspace(0.5, 1.5, 12).reshape(3, 4))\n")


def shaped_inputs(family):
    x, loc, scale = family_inputs("expon" if family == "gamma" else family)  # gamma: on its support x > loc
    shape = np.array([0.7, 1.6, 3.5, 12.0])  # broadcast against x's columns (gamma: a < 1 and a > 1)
    return x, shape, loc, scale


@pytest.mark.parametrize("family, method", [(f, m) for f, ms in SHAPED.items() for m in ms])
def test_shaped_values_are_scipys_and_partials_agree_with_central_differences(family, method):
    f = shaped_weighted(family, method)
    args = shaped_inputs(family)
    argnums = (0, 1, 2, 3) if method in DENSITIES else (0, 2, 3)
    value, partials = value_and_grad(f, argnums=argnums)(*args)
    np.testing.assert_allclose(value, f(*args), rtol=1e-14)
    for i, partial in zip(argnums, partials, strict=True):
        np.testing.assert_allclose(partial, numeric_partial(f, list(args), i, [1.0]), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("family, method", [(f, m) for f, ms in SHAPED.items() for m in ms if m not in DENSITIES])
def test_shape_partial_of_a_distribution_function_is_refused_naming_method_and_parameter(family, method):
    f = shaped_weighted(family, method)
    args = shaped_inputs(family)
    parameter = "df" if family == "t" else "a"
    with pytest.raises(MissingRuleError, match=rf"`scipy\.stats\.{family}\.{method}`.*`{parameter}`"):
        grad(f, argnums=1)(*args)
    with pytest.raises(MissingRuleError, match=rf"`{parameter}`"):
        vjp(f, *args)[1](1.0)  # every argument: the shape's partial included


def test_special_functions_shape_partials_are_refused_and_x_partials_agree():
    from scipy import special

    def f(df, x):
        return np.sum(special.stdtr(df, x) + special.gammainc(df, x * x) - special.gammaincc(df, x))

    df, x = np.array([0.8, 2.5, 6.0]), np.array([0.4, 1.1, 2.3])
    value, dx = value_and_grad(f, argnums=1)(df, x)
    assert value == f(df, x)
    np.testing.assert_allclose(dx, numeric_partial(f, [df, x], 1, [1.0]), rtol=1e-6, atol=1e-9)
    with pytest.raises(MissingRuleError, match=r"`scipy\.special\.gammaincc` .*`a`"):
        grad(f, argnums=0)(df, x)


def test_gamma_off_its_support_gives_scipys_values_and_zero_partials():
    x, a = np.array([-3.0, -0.5, 0.7, 2.0]), np.array([0.6, 2.5, 0.8, 3.0])
    loc, scale = np.array([0.2, 0.1, -0.3, 0.5]), np.array([1.5, 0.8, 2.0, 1.0])
    for method in SHAPED["gamma"]:
        one_point = written_out(f"def f(x, a, loc, scale):\n"
                                f"    return stats.gamma.{method}(x, a, loc=loc, scale=scale)\n")
        value, pullback = vjp(one_point, x, a, loc, scale)
        np.testing.assert_array_equal(value, getattr(stats.gamma, method)(x, a, loc=loc, scale=scale))
        if method in DENSITIES:
            partials, shown = pullback(np.ones(4)), (0, 1, 2, 3)
        else:  # the shape's partial is refused: x, loc and scale only (each point's own: a sum)
            summed = written_out(f"def f(x, a, loc, scale):\n"
                                 f"    return np.sum(stats.gamma.{method}(x, a, loc, scale))\n")
            partials, shown = grad(summed, argnums=(0, 2, 3))(x, a, loc, scale), (0, 2, 3)
        for i, partial in zip(shown, partials, strict=True):
            assert np.all(partial[:2] == 0.0), (method, i, partial)
            on_support = numeric_partial(one_point, [x[2:], a[2:], loc[2:], scale[2:]], i, [np.ones(2)])
            np.testing.assert_allclose(partial[2:], on_support, rtol=1e-6, atol=1e-9)


def test_shaped_second_order_has_no_nan_off_the_support_and_agrees_with_differences():
    def f(x, a):
        return np.sum(stats.gamma.logpdf(x, a, loc=0.5, scale=1.5) + stats.gamma.pdf(x, a, scale=0.7)
                      + stats.gamma.cdf(x, 1.7, loc=-0.2) + stats.gamma.sf(x, 0.6)
                      + stats.t.pdf(x, a, loc=0.1) + stats.t.logcdf(x, 2.5, scale=1.5) + stats.t.logsf(x, 3.0))

    x, a = np.array([0.3, -1.0, 2.0, 1.2]), np.array([2.2, 1.5, 0.7, 4.0])  # -1.0: off every gamma support
    gradient = grad(f, argnums=(0, 1))
    for i in (0, 1):
        hess = hessian(f, argnums=i)(x, a)
        assert np.all(np.isfinite(hess))
        rows = np.stack([numeric_partial(lambda *v: gradient(*v)[i], [x, a], i, [e]) for e in np.eye(4)])
        np.testing.assert_allclose(hess, rows, rtol=1e-5, atol=1e-8)


def test_shaped_take_positional_arguments_and_numbers():
    def f(x, df):
        return (np.sum(stats.t.logpdf(x, df, 0.25, 2.0) + stats.gamma.cdf(x + 3.0, 2.5, 0.5))
                + stats.t.sf(0.3, 4.0, x[0], 1.5) + stats.gamma.pdf(3.0, df[1], 0.5, 2.0))

    x, df = np.linspace(-1.0, 2.0, 5), np.array([0.9, 2.5, 1.0, 7.0, 3.5])
    value, (dx, ddf) = value_and_grad(f, argnums=(0, 1))(x, df)
    np.testing.assert_allclose(value, f(x, df), rtol=1e-14)
    np.testing.assert_allclose(dx, numeric_partial(f, [x, df], 0, [1.0]), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ddf, numeric_partial(f, [x, df], 1, [1.0]), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("library", OTHER_LIBRARIES)
@pytest.mark.parametrize("family, method", [(f, m) for f, ms in SHAPED.items() for m in ms])
def test_shaped_on_other_libraries_the_partials_are_numpys(family, method, library):
    convert = converter(library)
    shape = "shape" if method in DENSITIES else "2.5"  # (a constant shape in the distribution functions)
    f = written_out(f"def f(x, shape, loc):\n    y = stats.{family}.{method}(x, {shape}, loc, 1.5)\n"
                    "    return (y * y).sum()\n")
    x, a, loc, _ = shaped_inputs(family)
    argnums = (0, 1, 2) if method in DENSITIES else (0, 2)
    value, want = value_and_grad(f, argnums=argnums)(x, a, loc)
    got_value, got = value_and_grad(f, argnums=argnums)(convert(x), convert(a), convert(loc))
    assert type(got[0]) is type(convert(x))
    np.testing.assert_allclose(np.asarray(got_value), value, rtol=1e-12)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-10, atol=1e-13)


# ---- multivariate_normal: logpdf and pdf in x, mean and cov ---------------------------------------------
# SciPy factors cov with eigh(cov, lower=True): only its lower triangle is read, as the symmetric matrix it
# stands for. The partials follow that: central differences of an upper entry are 0, and so is its partial,
# even where the upper triangle differs from the lower one.



def mvn_density(method, x, mean, cov):
    if method == "logpdf":
        return stats.multivariate_normal.logpdf(x, mean, cov)
    return stats.multivariate_normal.pdf(x, mean=mean, cov=cov)


def mvn_weighted(x, mean, cov, method):
    y = mvn_density(method, x, mean, cov)
    return np.sum(y * np.linspace(0.5, 1.5, np.size(y)))


def mvn_inputs(points):
    rng = np.random.default_rng(11)
    a = rng.normal(size=(3, 3))
    cov = a @ a.T + 2.0 * np.eye(3)
    cov[np.triu_indices(3, 1)] = [5.0, -7.0, 0.25]  # not read: an upper triangle unlike the lower one
    x = rng.normal(size=(3,) if points == "one" else (6, 3))
    return x, rng.normal(size=3) * 0.5, cov


@pytest.mark.parametrize("points", ["one", "several"])
@pytest.mark.parametrize("method", ["logpdf", "pdf"])
def test_mvn_values_are_scipys_and_partials_agree_with_central_differences(method, points):
    x, mean, cov = mvn_inputs(points)
    value, partials = value_and_grad(mvn_weighted, argnums=(0, 1, 2))(x, mean, cov, method)
    assert value == mvn_weighted(x, mean, cov, method)  # SciPy's own value
    assert np.shape(mvn_density(method, x, mean, cov)) == (() if points == "one" else (6,))
    for i, partial in enumerate(partials):
        expected = numeric_partial(lambda *a: mvn_weighted(*a, method), [x, mean, cov], i, [1.0])
        assert np.shape(partial) == np.shape([x, mean, cov][i])
        np.testing.assert_allclose(partial, expected, rtol=1e-6, atol=1e-9)
    upper = np.triu_indices(3, 1)
    assert np.all(partials[2][upper] == 0.0)
    assert np.all(numeric_partial(lambda *a: mvn_weighted(*a, method), [x, mean, cov], 2, [1.0])[upper] == 0.0)
    assert np.all(partials[2][np.tril_indices(3, -1)] != 0.0)


def mvn_without_mean(x, cov):
    return np.sum(stats.multivariate_normal.logpdf(x, cov=cov) * np.linspace(1.0, 2.0, 6))


def test_mvn_mean_omitted():
    x, _, cov = mvn_inputs("several")
    value, (dx, dcov) = value_and_grad(mvn_without_mean, argnums=(0, 1))(x, cov)
    assert value == mvn_without_mean(x, cov)
    np.testing.assert_allclose(dx, numeric_partial(mvn_without_mean, [x, cov], 0, [1.0]), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dcov, numeric_partial(mvn_without_mean, [x, cov], 1, [1.0]), rtol=1e-6, atol=1e-9)


def mvn_with_variances(x, mean, cov):
    return np.sum(stats.multivariate_normal.pdf(x, mean, cov) + stats.multivariate_normal.logpdf(x, mean, cov))


@pytest.mark.parametrize("cov", [np.array([0.7, 1.5, 2.5]), 1.8, np.array(1.3)], ids=["diagonal", "number", "0-d"])
def test_mvn_cov_a_diagonal_or_a_variance(cov):
    x, mean, _ = mvn_inputs("several")
    value, partials = value_and_grad(mvn_with_variances, argnums=(0, 1, 2))(x, mean, cov)
    assert value == mvn_with_variances(x, mean, cov)
    assert type(partials[2]) is float if type(cov) is float else np.shape(partials[2]) == np.shape(cov)
    for i, partial in enumerate(partials):
        np.testing.assert_allclose(partial, numeric_partial(mvn_with_variances, [x, mean, cov], i, [1.0]),
                                   rtol=1e-6, atol=1e-9)


def log_likelihood(mean, cov, data):
    return np.sum(stats.multivariate_normal.logpdf(data, mean, cov))


def test_mvn_log_likelihood_of_data_under_a_2d_gaussian():
    rng = np.random.default_rng(5)
    data = rng.multivariate_normal([1.0, -2.0], [[2.0, 0.6], [0.6, 0.5]], size=200)
    mean, cov = np.array([0.8, -1.7]), np.array([[1.5, 0.0], [0.3, 0.8]])  # (lower triangle read)
    value, (dmean, dcov) = value_and_grad(log_likelihood, argnums=(0, 1))(mean, cov, data)
    assert value == log_likelihood(mean, cov, data)
    np.testing.assert_allclose(dmean, numeric_partial(log_likelihood, [mean, cov, data], 0, [1.0]), rtol=1e-6)
    np.testing.assert_allclose(dcov, numeric_partial(log_likelihood, [mean, cov, data], 1, [1.0]), rtol=1e-6,
                               atol=1e-6)
    # At the maximum-likelihood estimate (the sample mean, the biased sample covariance) the gradient vanishes.
    best_mean, best_cov = data.mean(axis=0), np.cov(data.T, bias=True)
    dmean, dcov = grad(log_likelihood, argnums=(0, 1))(best_mean, best_cov, data)
    np.testing.assert_allclose(dmean, 0.0, atol=1e-9)
    np.testing.assert_allclose(dcov, 0.0, atol=1e-9)


def test_mvn_second_order_and_forward_mode():
    x, mean, cov = mvn_inputs("several")
    cov = np.tril(cov) + np.tril(cov, -1).T
    gradient = grad(log_likelihood, argnums=1)
    direction = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6], [0.2, 0.7, 0.9]])
    by_differences = numeric_partial(lambda c: np.sum(gradient(mean, c, x) * direction), [cov], 0, [1.0])
    np.testing.assert_allclose(hvp(log_likelihood, 1)(mean, cov, x, direction), by_differences, rtol=1e-5,
                               atol=1e-7)
    hessian_mean = hessian(log_likelihood)(mean, cov, x)
    by_differences = np.stack([numeric_partial(lambda m: grad(log_likelihood)(m, cov, x), [mean], 0, [e])
                               for e in np.eye(3)])
    np.testing.assert_allclose(hessian_mean, by_differences, rtol=1e-6, atol=1e-8)
    tangents = [np.full(3, 0.1), direction, np.zeros_like(x)]
    _, slope = jvp(log_likelihood, [mean, cov, x], tangents)
    step = 1e-6
    moved = [log_likelihood(*[a + s * step * t for a, t in zip([mean, cov, x], tangents)]) for s in (1.0, -1.0)]
    np.testing.assert_allclose(slope, (moved[0] - moved[1]) / (2 * step), rtol=1e-6)


def singular_allowed(x, mean, cov):
    return np.sum(stats.multivariate_normal.logpdf(x, mean, cov, allow_singular=True))


def singular_allowed_pdf(x, mean, cov):
    return np.sum(stats.multivariate_normal.pdf(x, mean, cov, True))


def test_mvn_allow_singular_is_refused_by_name():
    x, mean, cov = mvn_inputs("several")
    for f, method in ((singular_allowed, "logpdf"), (singular_allowed_pdf, "pdf")):
        with pytest.raises(MissingRuleError, match=rf"multivariate_normal\.{method}` with allow_singular=True"):
            grad(f)(x, mean, cov)
        with pytest.raises(MissingRuleError, match="allow_singular=True"):
            jvp(f, [x, mean, cov], [x, mean, cov])


# ---- poisson (mu) and binom (p): logpmf and pmf, the counts constant ------------------------------------------
# Differentiable in the continuous parameter only; the partial in k, binom's n or loc (integers) is refused with a
# MissingRuleError naming the method and the parameter. Values are SciPy's to the bit (binom.pmf: Boost's pmf, as
# SciPy's), off the support (negative, not whole, above n) SciPy's constants (-inf, 0) with partials 0, and nan
# where a parameter is invalid, as SciPy's.

COUNTS = np.array([0, 1, 2, 5, 3, 9, -1, 2.5, 7, 4])
ON_SUPPORT = {"poisson": (COUNTS >= 0) & (COUNTS % 1 == 0), "binom": (COUNTS >= 0) & (COUNTS % 1 == 0) & (COUNTS <= 8)}
MASSES = [(d, m) for d in ("poisson", "binom") for m in ("logpmf", "pmf")]


def discrete_one_point(family, method):
    parameters = "k, x" if family == "poisson" else "k, 8, x"
    return written_out(f"def f(k, x):\n    return stats.{family}.{method}({parameters})\n")


def discrete_parameter(family):
    rng = np.random.default_rng(3)
    return rng.uniform(0.5, 6.0, COUNTS.size) if family == "poisson" else rng.uniform(0.05, 0.95, COUNTS.size)


def discrete_weighted(family, method):
    parameters = "k, x" if family == "poisson" else "k, 8, x"
    return written_out(f"def f(k, x, w):\n    return np.sum(stats.{family}.{method}({parameters}) * w)\n")


@pytest.mark.parametrize("family, method", MASSES)
def test_discrete_values_are_scipys_and_partials_agree_with_central_differences(family, method):
    # jvp with k held constant (a None tangent) gives each point's value and partial; grad the same partials
    f = discrete_one_point(family, method)
    x = discrete_parameter(family)
    value, slope = jvp(f, [COUNTS, x], [None, np.ones_like(x)])
    np.testing.assert_array_equal(value, f(COUNTS, x))  # to the bit, off the support too (-inf, 0)
    on = ON_SUPPORT[family]
    assert np.all(slope[~on] == 0.0)
    weights = np.linspace(0.5, 1.5, COUNTS.size)
    dx = grad(discrete_weighted(family, method), argnums=1)(COUNTS, x, weights)
    np.testing.assert_array_equal(dx, slope * weights)
    expected = numeric_partial(discrete_weighted(family, method), [COUNTS[on], x[on], weights[on]], 1, [1.0])
    np.testing.assert_allclose(dx[on], expected, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("family, method", MASSES)
def test_discrete_at_the_edges_of_the_parameter(family, method):
    # mu = 0 (p = 0): SciPy's values (xlogy(0, 0) = 0: logpmf(0) is 0) and the one-sided derivatives: logpmf's
    # -1 at k = 0 (d/dmu of -mu; binom: -n), +inf where the value is -inf; pmf's pmf(k - 1) - pmf(k), finite
    # (binom: n (B(k - 1; n - 1) - B(k; n - 1))). At p = 1 the same mirrored. An invalid parameter (mu < 0,
    # p > 1, nan) gives SciPy's nan.
    f = discrete_one_point(family, method)
    k = np.array([0, 1, 2, 8])
    with np.errstate(divide="ignore"):  # (k / mu at mu = 0: the +inf partial of a -inf logpmf)
        value, slope = jvp(f, [k, np.zeros(4)], [None, np.ones(4)])
    np.testing.assert_array_equal(value, f(k, np.zeros(4)))
    expected = {("poisson", "logpmf"): [-1.0, np.inf, np.inf, np.inf], ("poisson", "pmf"): [-1.0, 1.0, 0.0, 0.0],
                ("binom", "logpmf"): [-8.0, np.inf, np.inf, np.inf], ("binom", "pmf"): [-8.0, 8.0, 0.0, 0.0]}
    np.testing.assert_array_equal(slope, expected[family, method])
    if family == "binom":
        with np.errstate(divide="ignore"):
            value, slope = jvp(f, [k, np.ones(4)], [None, np.ones(4)])
        np.testing.assert_array_equal(value, f(k, np.ones(4)))
        np.testing.assert_array_equal(slope, [-np.inf, -np.inf, -np.inf, 8.0] if method == "logpmf"
                                      else [0.0, 0.0, 0.0, 8.0])
    invalid = np.array([-0.5, 1.5 if family == "binom" else -2.0, np.nan, 0.5])
    k = np.array([0, 1, 2, np.nan])
    value, _ = jvp(f, [k, invalid], [None, np.ones(4)])
    np.testing.assert_array_equal(value, f(k, invalid))
    assert np.all(np.isnan(value))


def test_discrete_take_loc_lists_numbers_and_broadcast():
    def f(mu, p):
        return (np.sum(stats.poisson.logpmf([1, 2, 4], mu, loc=1) + stats.poisson.pmf(3, mu, 2))
                + np.sum(stats.binom.pmf(np.arange(4)[:, None], [3, 4, 5], p) + stats.binom.logpmf(2, 6, p, loc=-1)))

    mu, p = np.array([0.5, 1.7, 3.0]), np.array([0.2, 0.45, 0.8])
    value, (dmu, dp) = value_and_grad(f, argnums=(0, 1))(mu, p)
    assert value == f(mu, p)
    np.testing.assert_allclose(dmu, numeric_partial(f, [mu, p], 0, [1.0]), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(dp, numeric_partial(f, [mu, p], 1, [1.0]), rtol=1e-6, atol=1e-10)
    assert value_and_grad(poisson_pmf_of_two)(1.5) == (stats.poisson.pmf(2, 1.5),
                                                       stats.poisson.pmf(1, 1.5) - stats.poisson.pmf(2, 1.5))


def poisson_pmf_of_two(mu):
    return stats.poisson.pmf(2, mu)


def test_discrete_second_order_has_no_nan_off_the_support_and_agrees_with_differences():
    k = np.array([0, 1, 4, -1, 2.5, 12])  # the last three off the support (binom's n is 10)

    def f(mu, p):
        return np.sum(np.where(k >= 0, stats.poisson.logpmf(k, mu), 0.0) + stats.poisson.pmf(k, mu)
                      + stats.binom.pmf(k, 10, p) + np.where(k % 1 == 0, stats.binom.logpmf(k, 10, p) * 0.5, 0.0))

    mu, p = np.array([0.7, 2.0, 3.5, 1.2, 0.9, 4.0]), np.array([0.3, 0.55, 0.2, 0.7, 0.4, 0.6])
    gradient = grad(f, argnums=(0, 1))
    for i in (0, 1):
        hess = hessian(f, argnums=i)(mu, p)
        assert np.all(np.isfinite(hess))
        assert np.all(hess[3:, 3:] == 0.0) if i == 1 else np.all(hess[3:5, 3:5] == 0.0)
        rows = np.stack([numeric_partial(lambda *v: gradient(*v)[i], [mu, p], i, [e]) for e in np.eye(6)])
        np.testing.assert_allclose(hess, rows, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("family, method, parameter", [(d, m, p) for d, m in MASSES for p in ("k", "n", "loc")
                                                       if (d, p) != ("poisson", "n")])
def test_discrete_partial_in_a_count_is_refused_naming_method_and_parameter(family, method, parameter):
    arguments = {"k": "k", "n": "8" if parameter != "n" else "c", "loc": "0" if parameter != "loc" else "c"}
    call = (f"stats.poisson.{method}({'c' if parameter == 'k' else 'k'}, x, {arguments['loc']})"
            if family == "poisson" else
            f"stats.binom.{method}({'c' if parameter == 'k' else 'k'}, {arguments['n']}, x, {arguments['loc']})")
    f = written_out(f"def f(c, k, x):\n    return np.sum({call})\n")
    c = np.array([2.0, 3.0, 1.0]) if parameter == "k" else (8.0 if parameter == "n" else 0.0)
    k, x = np.array([2.0, 3.0, 1.0]), np.array([0.3, 0.5, 0.6])
    with pytest.raises(MissingRuleError, match=rf"`scipy\.stats\.{family}\.{method}`.*`{parameter}`.*integer count"):
        grad(f, argnums=0)(c, k, x)
    assert np.shape(grad(f, argnums=2)(c, k, x)) == (3,)  # held constant: the partial in the parameter is given


@pytest.mark.parametrize("library", OTHER_LIBRARIES)
@pytest.mark.parametrize("family, method", MASSES)
def test_discrete_on_other_libraries_the_partials_are_numpys(family, method, library):
    convert = converter(library)
    f = written_out(f"def f(k, x):\n    y = stats.{family}.{method}(k, {'' if family == 'poisson' else '8, '}x)\n"
                    "    return (y * y).sum()\n")
    on = ON_SUPPORT[family]
    k, x = COUNTS[on], discrete_parameter(family)[on]
    value, want = value_and_grad(f, argnums=1)(k, x)
    got_value, got = value_and_grad(f, argnums=1)(convert(k), convert(x))
    assert type(got) is type(convert(x))
    # (binom.pmf: Boost's on NumPy, exp(logpmf) on the others)
    np.testing.assert_allclose(np.asarray(got_value), value, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10, atol=1e-13)


# ---- beta (shapes a and b) ----------------------------------------------------------------------------------
# Densities in x, a, b, loc and scale; cdf and sf in x, loc and scale (the shapes' partials refused by name). The
# values are SciPy's to the bit (its Boost pdf for pdf), off the support [0, 1] and at its ends too; off the open
# interval (0, 1) every partial is 0, but logpdf's -1 / scale at the ends (gamma's convention at its edge).

BETA_METHODS = ("logpdf", "pdf", "cdf", "sf")
BETA_X = np.array([-0.5, 1.7, 0.0, 1.0, 0.1, 0.3, 0.5, 0.9, 0.7, 0.2, 0.04, 0.98])  # 2 off, 2 at the ends
BETA_A = np.array([0.7, 2.0, 0.5, 0.6, 2.5, 1.0, 3.0, 0.8, 1.5, 4.0, 0.3, 1.2])
BETA_B = np.array([1.5, 2.0, 2.0, 0.5, 0.6, 2.2, 1.0, 3.0, 0.9, 1.3, 5.0, 0.4])


def beta_one_point(method):
    return written_out(f"def f(x, a, b, loc, scale):\n    return stats.beta.{method}(x, a, b, loc=loc, scale=scale)\n")


def beta_inputs():
    # (a power of 2 and an eighth: the standardized points are BETA_X exactly, its ends 0 and 1 included)
    loc, scale = np.tile([-0.25, 0.125, 0.0, 0.5], 3), np.tile([0.5, 1.0, 2.0, 4.0], 3)
    return [BETA_X * scale + loc, BETA_A, BETA_B, loc, scale]


@pytest.mark.parametrize("method", BETA_METHODS)
def test_beta_values_are_scipys_and_partials_agree_with_central_differences(method):
    # jvp along one argument at a time gives each point's partial in it (elementwise)
    f = beta_one_point(method)
    args = beta_inputs()
    inner = (BETA_X > 0) & (BETA_X < 1)
    with np.errstate(over="ignore"):  # (SciPy's own pdf: an infinite density at an end)
        expected_value = f(*args)
    for i in (0, 1, 2, 3, 4) if method in DENSITIES else (0, 3, 4):
        tangents = [None] * 5
        tangents[i] = np.ones(12)
        value, slope = jvp(f, args, tangents)
        np.testing.assert_array_equal(value, expected_value)
        if method == "logpdf" and i == 4:
            np.testing.assert_array_equal(slope[:4], [0.0, 0.0, -1 / args[4][2], -1 / args[4][3]])
        else:
            assert np.all(slope[~inner] == 0.0), (i, slope)

        def on_interval(*a):
            return np.sum(f(*a) * np.linspace(1.0, 2.0, 8))

        weights = np.linspace(1.0, 2.0, 8)
        np.testing.assert_allclose(slope[inner] * weights, numeric_partial(on_interval, [a[inner] for a in args],
                                                                           i, [1.0]), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("method", ["cdf", "sf"])
@pytest.mark.parametrize("parameter", ["a", "b"])
def test_beta_shape_partial_of_a_distribution_function_is_refused(method, parameter):
    f = written_out(f"def f(x, a, b):\n    return np.sum(stats.beta.{method}(x, a, b, scale=2.0))\n")
    args = [np.array([0.3, 1.1]), np.array([0.8, 2.0]), np.array([1.5, 0.7])]
    with pytest.raises(MissingRuleError, match=rf"`scipy\.stats\.beta\.{method}`.*`{parameter}`"):
        grad(f, argnums=1 if parameter == "a" else 2)(*args)
    np.testing.assert_allclose(grad(f)(*args), numeric_partial(f, args, 0, [1.0]), rtol=1e-6)


def test_incomplete_beta_functions_shape_partials_are_refused_and_x_partials_agree():
    from scipy import special

    def f(a, b, x):
        return np.sum(special.betainc(a, b, x) + special.betaincc(a, 1.5, x * x))

    a, b, x = np.array([0.8, 2.5, 6.0]), np.array([1.2, 0.7, 3.0]), np.array([0.4, 0.1, 0.9])
    value, dx = value_and_grad(f, argnums=2)(a, b, x)
    assert value == f(a, b, x)
    np.testing.assert_allclose(dx, numeric_partial(f, [a, b, x], 2, [1.0]), rtol=1e-6, atol=1e-9)
    with pytest.raises(MissingRuleError, match=r"`scipy\.special\.betainc` .*`b`"):
        grad(f, argnums=1)(a, b, x)
    with pytest.raises(MissingRuleError, match=r"`scipy\.special\.betaincc?` .*`a`"):
        grad(f, argnums=0)(a, b, x)


def test_beta_second_order_has_no_nan_off_the_support_and_at_its_ends():
    def f(x, a):
        return np.sum(stats.beta.logpdf(x, a, 1.5, loc=-0.1) * 0.5 + stats.beta.pdf(x, 2.5, a, scale=1.2)
                      + stats.beta.cdf(x, 0.7, 1.6) + stats.beta.sf(x, 2.0, 0.8, loc=0.1))

    x, a = np.array([0.3, -1.0, 0.0, 0.8, 1.0, 0.55]), np.array([2.2, 1.5, 0.7, 4.0, 0.6, 1.3])
    gradient = grad(f, argnums=(0, 1))
    for i in (0, 1):
        hess = hessian(f, argnums=i)(x, a)
        assert np.all(np.isfinite(hess))
        assert np.all(hess[1] == 0.0)  # (x = -1: off every support)
        kept = [0, 3, 5]  # (on every open support: the others are off one or at an end of one)
        rows = np.stack([numeric_partial(lambda *v: gradient(*v)[i], [x, a], i, [e]) for e in np.eye(6)[kept]])
        np.testing.assert_allclose(hess[kept], rows, rtol=1e-5, atol=1e-8)
    v = np.linspace(0.5, 1.5, 6)
    np.testing.assert_allclose(hvp(f, 0)(x, a, v), hessian(f)(x, a) @ v, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("library", OTHER_LIBRARIES)
@pytest.mark.parametrize("method", BETA_METHODS)
def test_beta_on_other_libraries_the_partials_are_numpys(method, library):
    convert = converter(library)
    shapes = "a, b" if method in DENSITIES else "2.5, 0.7"  # (constant shapes in the distribution functions)
    f = written_out(f"def f(x, a, b, loc):\n    y = stats.beta.{method}(x, {shapes}, loc, 1.5)\n"
                    "    return (y * y).sum()\n")
    args = [BETA_X[4:] * 1.5 + 0.1, BETA_A[4:], BETA_B[4:], np.full(8, 0.1)]  # (the open interval)
    argnums = (0, 1, 2, 3) if method in DENSITIES else (0, 3)
    value, want = value_and_grad(f, argnums=argnums)(*args)
    got_value, got = value_and_grad(f, argnums=argnums)(*map(convert, args))
    assert type(got[0]) is type(convert(args[0]))
    # (pdf: Boost's on NumPy, exp(logpdf) on the others)
    np.testing.assert_allclose(np.asarray(got_value), value, rtol=1e-12)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-10, atol=1e-13)


# ---- lognorm (shape s) ---------------------------------------------------------------------------------------
# All six methods in x, s, loc and scale: the distribution functions are norm's at u = log(z) / s, so their
# partial in s has a closed form. Values SciPy's to the bit; at and left of loc SciPy's constants, partials 0.


def lognorm_inputs():
    x, loc, scale = family_inputs("expon")  # on the support x > loc (test_lognorm_off_its_support: the others)
    return x, np.array([0.3, 0.9, 1.6, 2.5]), loc, scale  # s broadcast against x's columns


@pytest.mark.parametrize("method", METHODS)
def test_lognorm_values_are_scipys_and_partials_agree_with_central_differences(method):
    f = shaped_weighted("lognorm", method)
    args = lognorm_inputs()
    value, partials = value_and_grad(f, argnums=(0, 1, 2, 3))(*args)
    assert value == f(*args)  # SciPy's operations, in SciPy's order
    for i, partial in enumerate(partials):
        np.testing.assert_allclose(partial, numeric_partial(f, list(args), i, [1.0]), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_lognorm_off_its_support(method):
    # At and left of loc (z <= 0: an open support) SciPy's constants, every partial 0, never NaN
    one_point = written_out(f"def f(x, s, loc, scale):\n    return stats.lognorm.{method}(x, s, loc=loc, scale=scale)\n")
    x, s = np.array([-3.0, 0.1, 0.7, 2.0]), np.array([0.6, 1.5, 0.8, 2.0])
    loc, scale = np.array([0.2, 0.1, -0.3, 0.5]), np.array([1.5, 0.8, 2.0, 1.0])
    value, pullback = vjp(one_point, x, s, loc, scale)
    np.testing.assert_array_equal(value, getattr(stats.lognorm, method)(x, s, loc=loc, scale=scale))
    for i, partial in enumerate(pullback(np.ones(4))):
        assert np.all(partial[:2] == 0.0), (i, partial)
        on_support = numeric_partial(one_point, [x[2:], s[2:], loc[2:], scale[2:]], i, [np.ones(2)])
        np.testing.assert_allclose(partial[2:], on_support, rtol=1e-6, atol=1e-9)


def test_lognorm_far_in_the_tails_stays_finite():
    # u = log(z) / s = -40 and +40: the normal density over ndtr(u) in logs, as norm.logcdf's
    def f(x, s):
        return np.sum(stats.lognorm.logcdf(x, s) + stats.lognorm.logsf(x, s))

    x, s = np.exp(np.array([-20.0, -2.0, 0.5, 20.0])), np.array([0.5, 1.0, 2.0, 0.5])
    value, (dx, ds) = value_and_grad(f, argnums=(0, 1))(x, s)
    assert value == f(x, s) and np.all(np.isfinite(dx)) and np.all(np.isfinite(ds))
    logs = np.log(x)  # (differences in log x: a step of 1e-6 in x would leave the support at x = exp(-20))
    np.testing.assert_allclose(dx * x, numeric_partial(lambda t, s: f(np.exp(t), s), [logs, s], 0, [1.0]), rtol=1e-6)
    np.testing.assert_allclose(ds, numeric_partial(f, [x, s], 1, [1.0]), rtol=1e-6)


def test_lognorm_second_order_has_no_nan_off_the_support_and_agrees_with_differences():
    def f(x, s):
        return np.sum(stats.lognorm.logpdf(x, s, loc=-0.5, scale=1.5) + stats.lognorm.pdf(x, s, scale=0.7)
                      + stats.lognorm.cdf(x, s) + stats.lognorm.logsf(x, s, loc=0.1) + stats.lognorm.logcdf(x, 0.8))

    x, s = np.array([0.3, -1.0, 2.0, 1.2]), np.array([0.7, 1.5, 0.4, 2.0])  # -1.0: off every support
    gradient = grad(f, argnums=(0, 1))
    for i in (0, 1):
        hess = hessian(f, argnums=i)(x, s)
        assert np.all(np.isfinite(hess))
        rows = np.stack([numeric_partial(lambda *v: gradient(*v)[i], [x, s], i, [e]) for e in np.eye(4)])
        np.testing.assert_allclose(hess, rows, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("library", OTHER_LIBRARIES)
@pytest.mark.parametrize("method", METHODS)
def test_lognorm_on_other_libraries_the_partials_are_numpys(method, library):
    convert = converter(library)
    f = written_out(f"def f(x, s, loc):\n    y = stats.lognorm.{method}(x, s, loc, 1.5)\n    return (y * y).sum()\n")
    x, s, loc, _ = lognorm_inputs()
    value, want = value_and_grad(f, argnums=(0, 1, 2))(x, s, loc)
    got_value, got = value_and_grad(f, argnums=(0, 1, 2))(convert(x), convert(s), convert(loc))
    assert type(got[0]) is type(convert(x))
    np.testing.assert_allclose(np.asarray(got_value), value, rtol=1e-12)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-10, atol=1e-13)
