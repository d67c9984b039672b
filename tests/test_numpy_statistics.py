"""NumPy's statistics inside δ functions: quantile, percentile and their NaN-skipping variants; cov and corrcoef;
nanvar, nanstd, nanprod and nancumsum.

Checked: the values are NumPy's; the partials match central finite differences in float64
(tests/finite_differences.py, which does not import autodiffsource) for lists of q, axes, keepdims and every
NumPy method; ties follow median's rule (tied order statistics share their weight equally, so a quantile of
0.5 has median's partial); NaN entries of the NaN-skipping variants get a zero partial; the other CPU array
libraries (tests/backend_cases.py) get NumPy's partials in arrays of their own; what has no rule is refused by
name (a differentiated q and cov's weights at transform time with the user's line, a NaN-skipping method other
than 'linear' at run time with the user's line in the error's notes). cov's and corrcoef's partials in both inputs,
with rows or columns of variables (NumPy's rule: a 1-D m and a one-row y are never transposed), bias and ddof;
NaN entries get a zero partial; nanprod is exact with zeros. jvp agrees with the gradient in each case.
"""

from __future__ import annotations

import itertools
import linecache
import warnings

import numpy as np
import pytest

import autodiffsource as ad
from autodiffsource import MissingRuleError, UnsupportedSyntaxError
from backend_cases import cpu_libraries
from finite_differences import numeric_partial

def _spread(shape, seed=0):
    """Values at least 0.1 apart: no ties for the differences to cross."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.37 - 0.2 * n + rng.uniform(0, 0.05, n)).reshape(shape)


def _check_gradient(fn, args, argnum=0):
    value, g = ad.value_and_grad(fn, argnums=argnum)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(g, numeric_partial(fn, list(args), argnum, [1.0]), rtol=1e-6, atol=1e-8)
    return g


# ---- quantile and percentile -----------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    "np.quantile(x, 0.3)", "np.quantile(x, [0.1, 0.5, 0.95], axis=1)", "np.quantile(x, 0.8, axis=0, keepdims=True)",
    "np.percentile(x, [25.0, 75.0], axis=-1, keepdims=True)", "np.percentile(x, 0.0)", "np.percentile(x, 100)",
    "np.quantile(x, np.array([[0.2, 0.4], [0.6, 0.7]]), axis=0)", "np.nanquantile(x, [0.3, 0.9], axis=1)",
    "np.nanpercentile(x, 42.0)", "np.quantile(x, 0.35, axis=(0, 1))"])
def test_quantile_values_and_partials(call):
    fn = _weighted(call)
    x = _spread((3, 4))
    _check_gradient(fn, (x,))
    slope = ad.jvp(fn, (x,), (np.ones_like(x),))[1]
    assert slope == pytest.approx(np.sum(ad.grad(fn)(x)))


@pytest.mark.parametrize("method", ["inverted_cdf", "averaged_inverted_cdf", "closest_observation",
                                    "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
                                    "normal_unbiased", "lower", "higher", "midpoint", "nearest"])
def test_every_numpy_method(method):
    x = _spread((7,), seed=3)
    for q in (0.05, 0.3, 0.5, 0.77, 1.0):
        fn = _weighted(f"np.quantile(x, [{q}, 0.61], method={method!r})")
        _check_gradient(fn, (x,))


_COUNT = itertools.count()


def _weighted(call):
    """``sum(w * call)`` with weights that differ per output, as a function with source of its own (in
    linecache: autodiffsource reads a function's source)."""
    name = f"<statistics case {next(_COUNT)}>"
    text = (f"def fn(x):\n    y = {call}\n"
            "    return np.sum(y * np.cos(np.arange(np.size(y)) + 0.5).reshape(np.shape(y)))\n")
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    namespace = {"np": np}
    exec(compile(text, name, "exec"), namespace)
    return namespace["fn"]


def test_ties_share_as_median_does():
    # 1.0 three times at the middle: quantile(0.5) gives each a third, as median does.
    x = np.array([3.0, 1.0, -2.0, 1.0, 1.0, 5.0])

    def quantile(x):
        return np.quantile(x, 0.5)

    def median(x):
        return np.median(x)

    np.testing.assert_allclose(ad.grad(quantile)(x), ad.grad(median)(x))
    np.testing.assert_allclose(ad.grad(quantile)(x), [0, 1 / 3, 0, 1 / 3, 1 / 3, 0])

    # Between two order statistics, each keeps its own weight, shared among its ties: position 0.1 * 5 = 0.5,
    # half-way between -2.0 and the first 1.0, gives half to -2.0 and a sixth to each 1.0.
    def low(x):
        return np.quantile(x, 0.1)

    np.testing.assert_allclose(ad.grad(low)(x), [0, 1 / 6, 0.5, 1 / 6, 1 / 6, 0])


def test_nan_entries_get_zero_partials():
    x = _spread((3, 5), seed=5)
    x[0, 1] = x[2, 4] = np.nan
    x[1, :] = np.nan  # an all-NaN lane: NumPy's result is NaN, its partial 0

    def f(x):
        return np.sum(np.nanquantile(x, [0.2, 0.7], axis=1)[:, ::2] * np.array([1.5, -0.5]))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (the all-NaN lane)
        value, g = ad.value_and_grad(f)(x)
        assert value == pytest.approx(f(x))
        assert np.all(g[np.isnan(x)] == 0.0) and np.all(g[1] == 0.0)
        kept = [0, 2]
        # The lanes with numbers: their partials are those of quantile on the numbers alone.
        for row in kept:
            numbers = x[row][~np.isnan(x[row])]

            def lane(v, row=row):
                w = 1.5 if row == 0 else -0.5
                return w * np.sum(np.quantile(v, [0.2, 0.7]))

            np.testing.assert_allclose(g[row][~np.isnan(x[row])], numeric_partial(lane, [numbers], 0, [1.0]),
                                       rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("lib", cpu_libraries(), ids=lambda lib: lib.name)
def test_other_array_libraries(lib):
    def f(x):
        return np.sum(np.quantile(x, [0.25, 0.6], axis=0) ** 2) + np.sum(np.nanpercentile(x, 30.0, axis=1) ** 2)

    x = _spread((4, 3), seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (Dask's fallback to NumPy for quantile says so)
        value, g = ad.value_and_grad(f)(lib.convert(x, "float64"))
    assert isinstance(g, lib.array_type())
    assert float(value) == pytest.approx(f(x))
    np.testing.assert_allclose(lib.to_numpy(g), numeric_partial(f, [x], 0, [1.0]), rtol=1e-6, atol=1e-8)


def quantile_in_q(x, q):
    return np.sum(np.quantile(x, q))


def nan_quantile_method(x):
    return np.sum(np.nanquantile(x, 0.3, method="hazen"))


def test_refusals_name_the_argument_and_the_line():
    x = _spread((5,))
    with pytest.raises(UnsupportedSyntaxError, match=r"a differentiated value as `q` of `quantile`") as info:
        ad.grad(quantile_in_q, argnums=(0, 1))(x, 0.3)
    assert "test_numpy_statistics.py" in str(info.value)
    # held constant, q is fine
    assert ad.grad(quantile_in_q)(x, 0.3).shape == (5,)
    with pytest.raises(MissingRuleError, match=r"`np.nanquantile` with method='hazen'") as info:
        ad.grad(nan_quantile_method)(x)
    assert any("test_numpy_statistics.py" in note and "nanquantile" in note for note in info.value.__notes__)


# ---- cov and corrcoef ---------------------------------------------------------------------------------------

COV_CASES = [("np.cov(x)", (3, 5), None), ("np.cov(x, rowvar=False)", (5, 3), None),
             ("np.cov(x, bias=True)", (3, 5), None), ("np.cov(x, ddof=3)", (3, 5), None),
             ("np.cov(x, y)", (3, 5), (2, 5)), ("np.cov(x, y)", (5,), (5,)),
             ("np.cov(x, y, rowvar=False)", (5, 3), (1, 5)), ("np.cov(x, y, rowvar=False)", (5, 3), (5, 2)),
             ("np.cov(x)", (6,), None), ("np.corrcoef(x)", (3, 5), None),
             ("np.corrcoef(x, rowvar=False)", (5, 3), None), ("np.corrcoef(x, y)", (6,), (6,)),
             ("np.corrcoef(x, y)", (2, 5), (3, 5))]


def _weighted2(call):
    """``sum(w * call)`` of two inputs ``x`` and ``y``, with its own source (see :func:`_weighted`)."""
    name = f"<statistics case {next(_COUNT)}>"
    text = (f"def fn(x, y):\n    c = {call}\n"
            "    return np.sum(c * np.cos(np.arange(np.size(c)) + 0.5).reshape(np.shape(c)))\n")
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    namespace = {"np": np}
    exec(compile(text, name, "exec"), namespace)
    return namespace["fn"]


@pytest.mark.parametrize("call, xs, ys", COV_CASES, ids=[f"{c}-{xs}-{ys}" for c, xs, ys in COV_CASES])
def test_cov_and_corrcoef(call, xs, ys):
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal(xs), None if ys is None else rng.standard_normal(ys)
    fn = _weighted2(call)
    argnums = (0,) if y is None else (0, 1)
    value, partials = ad.value_and_grad(fn, argnums=argnums)(x, y)
    assert value == pytest.approx(fn(x, y), rel=1e-12)
    for i in argnums:
        np.testing.assert_allclose(partials[i], numeric_partial(fn, [x, y], i, [1.0]), rtol=1e-6, atol=1e-8)
    tangents = (rng.standard_normal(xs), None if y is None else rng.standard_normal(ys))
    slope = ad.jvp(fn, (x, y), tangents)[1]
    assert slope == pytest.approx(sum(np.sum(partials[i] * tangents[i]) for i in argnums), rel=1e-9)


def weighted_cov(x, w):
    return np.sum(np.cov(x, fweights=w))


def weighted_cov_positional(x, w):
    return np.sum(np.cov(x, None, True, False, None, None, w))


def test_cov_weights_are_refused_by_name_and_line():
    x, w = _spread((2, 4)), np.array([1, 2, 1, 1])
    with pytest.raises(UnsupportedSyntaxError, match=r"the keyword `fweights=` of `cov`") as info:
        ad.grad(weighted_cov)(x, w)
    assert "test_numpy_statistics.py" in str(info.value)
    with pytest.raises(UnsupportedSyntaxError, match=r"7 positional arguments to `cov`"):
        ad.grad(weighted_cov_positional)(x, w)


# ---- NaN-skipping var, std, prod, cumsum ------------------------------------------------------------------------

@pytest.mark.parametrize("call", ["np.nanvar(x)", "np.nanvar(x, axis=1, ddof=1)",
                                  "np.nanstd(x, axis=0, keepdims=True)", "np.nanstd(x, ddof=1)",
                                  "np.nanprod(x, axis=1)", "np.nanprod(x)",
                                  "np.nancumsum(x)", "np.nancumsum(x, axis=0)"])
@pytest.mark.parametrize("nan", [False, True], ids=["numbers", "with-nan"])
def test_nan_reductions(call, nan):
    x = _spread((3, 4), seed=6) / 4.0
    if nan:
        x[0, 1] = x[2, 3] = np.nan
    fn = _weighted(call)
    value, g = ad.value_and_grad(fn)(x)
    assert value == pytest.approx(fn(x), rel=1e-12)
    expected = numeric_partial(fn, [x], 0, [1.0])
    expected[np.isnan(x)] = 0.0  # (the differences of a NaN entry are NaN: its partial is 0)
    np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-8)
    t = np.where(np.isnan(x), 0.0, np.cos(np.arange(12.0)).reshape(3, 4))
    assert ad.jvp(fn, (x,), (t,))[1] == pytest.approx(np.sum(g * t), rel=1e-9, abs=1e-12)


def test_nanprod_with_zeros_is_exact():
    x = np.array([[2.0, 0.0, np.nan, 3.0], [0.0, 0.0, 1.5, np.nan]])

    def f(x):
        return np.sum(np.nanprod(x, axis=1) * np.array([1.0, 2.0]))

    np.testing.assert_array_equal(ad.grad(f)(x), [[0.0, 6.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


@pytest.mark.parametrize("lib", cpu_libraries(), ids=lambda lib: lib.name)
def test_cov_and_nan_reductions_on_other_array_libraries(lib):
    def f(x, y):
        return (np.sum(np.cov(x, y) ** 2) + np.sum(np.corrcoef(x, rowvar=False) * np.arange(16.0).reshape(4, 4))
                + np.sum(np.nanvar(x, axis=1)) + np.sum(np.nanstd(x, axis=0, ddof=1)) + np.nanprod(x)
                + np.sum(np.nancumsum(x, axis=1) ** 2))

    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (Dask's fallback to NumPy where it lacks the function says so)
        value, (gx, gy) = ad.value_and_grad(f, argnums=(0, 1))(lib.convert(x, "float64"), lib.convert(y, "float64"))
    assert isinstance(gx, lib.array_type()) and isinstance(gy, lib.array_type())
    assert float(value) == pytest.approx(f(x, y))
    np.testing.assert_allclose(lib.to_numpy(gx), numeric_partial(f, [x, y], 0, [1.0]), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(lib.to_numpy(gy), numeric_partial(f, [x, y], 1, [1.0]), rtol=1e-6, atol=1e-8)


def medians(x):
    return (np.sum(np.median(x, axis=0) ** 2) + np.median(x[:, :2] * 2.0, axis=1, keepdims=True).sum()
            + np.sum(np.median(x, axis=(0, 1), keepdims=True)))


@pytest.mark.parametrize("lib", [lib for lib in cpu_libraries() if lib.name != "numpy"], ids=lambda lib: lib.name)
def test_median_on_other_libraries_is_numpys_value_and_partial(lib):
    # (np.median's rule computed with NumPy: on torch a NumPy value met the tensors, "ndarray * Tensor")
    x = np.array([[0.3, 1.2, -0.5], [2.0, 0.1, 0.7], [1.1, -0.4, 0.2], [0.9, 0.9, -1.3]])  # odd and even counts
    value, want = ad.value_and_grad(medians)(x)
    np.testing.assert_allclose(want, numeric_partial(medians, (x,), 0, [1.0]), rtol=1e-6, atol=1e-9)
    got_value, got = ad.value_and_grad(medians)(lib.convert(x, "float64"))
    assert isinstance(got, lib.array_type())
    assert float(lib.to_numpy(got_value)) == value  # the middle of the library's sort: NumPy's to the bit
    np.testing.assert_allclose(lib.to_numpy(got), want, rtol=1e-12, atol=1e-15)
