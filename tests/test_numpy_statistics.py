"""NumPy's statistics inside δ functions: quantile, percentile and their NaN-skipping variants.

Checked: the values are NumPy's; the partials match central finite differences in float64
(tests/finite_differences.py, which does not import autodiffsource) for lists of q, axes, keepdims and every
NumPy method; ties follow median's rule (tied order statistics share their weight equally, so a quantile of
0.5 has median's partial); NaN entries of the NaN-skipping variants get a zero partial; the other CPU array
libraries (tests/backend_cases.py) get NumPy's partials in arrays of their own; what has no rule is refused by
name (a differentiated q at transform time with the user's line, a NaN-skipping method other than 'linear' at
run time with the user's line in the error's notes).
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
