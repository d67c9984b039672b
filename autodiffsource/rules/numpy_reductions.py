"""Rules for NumPy's reductions and scans: sum, prod, mean, average, var, std, max/min, ptp, cumsum,
cumprod, median, quantile, percentile, nanquantile, nanpercentile, nansum, nanmean, nanvar, nanstd, nanprod,
nancumsum, cov, corrcoef, trace; and differences: diff, ediff1d, gradient, trapezoid.

Parameters follow NumPy's positional order (``np.var(a, axis, dtype, out, ddof, keepdims)``) so that a
call written positionally binds as NumPy binds it; ``dtype`` only changes the working precision and is
passed on, ``out=`` is not supported (it would write into a user's array). ``axis``, ``keepdims`` and
``ddof`` are static: never differentiated.

Tie rule: where several elements attain the max (min, median, ptp side), they share the cotangent
equally, so the partials of ``max(x)`` sum to 1 and a constant input never gets an arbitrary favourite.
``prod`` is exact with any number of zeros in the input (no division by x).
"""

import numpy as np
import numpy as xp  # the stand-in when a rule is called directly; inlined code binds the real namespace

from ..runtime import expand_reduced, reduced_count
from .registry import nondiff, rule
from .support import (average_partials, cumprod_partial, cumsum_partial, extreme_partial, median_partial,
                      nanmean_partial, prod_partial, ptp_partial, std_partial, trace_partial, var_partial)
from .support_differences import (ediff1d_begin_partial, ediff1d_end_partial, ediff1d_partial, ediff1d_primal,
                                  gradient_partial, gradient_primal)
from .support_products import diff_partial, trapezoid_partials
from .support_statistics import (corrcoef_partials, cov_partials, nancumsum_partial, nanprod_partial, nanstd_partial,
                                 nanvar_partial, quantile_partial, refuse_nan_quantile_method)

nondiff(refuse_nan_quantile_method)  # (called with the static method only: a check, no value)


@rule(np.sum, methods=("sum",), array_api=("sum",), static=("axis", "dtype", "keepdims"))
def δsum(x, axis=None, dtype=None, out=None, keepdims=False):
    y = xp.sum(x, axis=axis, dtype=dtype, keepdims=keepdims)
    def sum_pullback(dy):
        return expand_reduced(dy, x, axis, keepdims), None, None, None, None
    return y, sum_pullback


@rule(np.nansum, static=("axis", "dtype", "keepdims"))
def δnansum(x, axis=None, dtype=None, out=None, keepdims=False):
    # NaN entries count as 0: they get a zero partial.
    y = np.nansum(x, axis=axis, dtype=dtype, keepdims=keepdims)
    def nansum_pullback(dy):
        return expand_reduced(dy, x, axis, keepdims) * (x == x), None, None, None, None
    return y, nansum_pullback


@rule(np.prod, methods=("prod",), array_api=("prod",), static=("axis", "dtype", "keepdims"))
def δprod(x, axis=None, dtype=None, out=None, keepdims=False):
    y = xp.prod(x, axis=axis, dtype=dtype, keepdims=keepdims)
    def prod_pullback(dy):
        return prod_partial(dy, x, axis, keepdims), None, None, None, None
    return y, prod_pullback


@rule(np.mean, methods=("mean",), array_api=("mean",), static=("axis", "dtype", "keepdims"))
def δmean(x, axis=None, dtype=None, out=None, keepdims=False):
    y = xp.mean(x, axis=axis, keepdims=keepdims)
    def mean_pullback(dy):
        return expand_reduced(dy, x, axis, keepdims) / reduced_count(x, axis), None, None, None, None
    return y, mean_pullback


@rule(np.nanmean, static=("axis", "dtype", "keepdims"))
def δnanmean(x, axis=None, dtype=None, out=None, keepdims=False):
    y = np.nanmean(x, axis=axis, dtype=dtype, keepdims=keepdims)
    def nanmean_pullback(dy):
        return nanmean_partial(dy, x, axis, keepdims), None, None, None, None
    return y, nanmean_pullback


@rule(np.average, static=("axis", "keepdims"))
def δaverage(a, axis=None, weights=None, returned=False, keepdims=False):
    # Both the values and the weights are differentiated: d/dw = (a - average) / sum(w).
    y = np.average(a, axis=axis, weights=weights, keepdims=keepdims)
    def average_pullback(dy):
        da, dweights = average_partials(dy, a, weights, y, axis, keepdims)
        return da, None, dweights, None, None
    return y, average_pullback


@rule(np.var, methods=("var",), array_api=("var",), static=("axis", "dtype", "ddof", "keepdims"))
def δvar(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    y = xp.var(x, axis=axis, correction=ddof, keepdims=keepdims)
    def var_pullback(dy):
        return var_partial(dy, x, axis, ddof, keepdims), None, None, None, None, None
    return y, var_pullback


@rule(np.std, methods=("std",), array_api=("std",), static=("axis", "dtype", "ddof", "keepdims"))
def δstd(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    # Where std is 0 (a constant lane) the subgradient 0 is used instead of 0/0.
    y = xp.std(x, axis=axis, correction=ddof, keepdims=keepdims)
    def std_pullback(dy):
        return std_partial(dy, x, y, axis, ddof, keepdims), None, None, None, None, None
    return y, std_pullback


@rule(np.max, np.amax, methods=("max",), array_api=("max",), static=("axis", "keepdims"))
def δmax(x, axis=None, out=None, keepdims=False):
    # Tied maxima share the cotangent equally.
    y = xp.max(x, axis=axis, keepdims=keepdims)
    def max_pullback(dy):
        return extreme_partial(dy, x, y, axis, keepdims), None, None, None
    return y, max_pullback


@rule(np.min, np.amin, methods=("min",), array_api=("min",), static=("axis", "keepdims"))
def δmin(x, axis=None, out=None, keepdims=False):
    y = xp.min(x, axis=axis, keepdims=keepdims)
    def min_pullback(dy):
        return extreme_partial(dy, x, y, axis, keepdims), None, None, None
    return y, min_pullback


@rule(np.ptp, static=("axis", "keepdims"))
def δptp(x, axis=None, out=None, keepdims=False):
    # (keepdims passed only when asked: Dask's ptp, which NumPy's hands Dask arrays to, has none)
    y = np.ptp(x, axis=axis, keepdims=True) if keepdims else np.ptp(x, axis=axis)
    def ptp_pullback(dy):
        return ptp_partial(dy, x, axis, keepdims), None, None, None
    return y, ptp_pullback


@rule(np.median, static=("axis", "keepdims"))
def δmedian(x, axis=None, out=None, overwrite_input=False, keepdims=False):
    y = xp.median(x, axis=axis, keepdims=keepdims)  # (NumPy's; on torch, JAX, strict the library's sort)
    def median_pullback(dy):
        return median_partial(dy, x, axis, keepdims), None, None, None, None
    return y, median_pullback


# Quantiles: q is static (a differentiated q is refused by name at transform time); the value's partial goes to
# the two order statistics it interpolates, each shared by its ties (support_statistics.py). Every NumPy method
# for quantile/percentile; the NaN-skipping variants take method='linear' only (others refused by name).
@rule(np.quantile, static=("q", "axis", "method", "keepdims"))
def δquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    y = np.quantile(a, q, axis=axis, method=method, keepdims=keepdims)
    def quantile_pullback(dy):
        return quantile_partial(dy, a, q, axis, keepdims, method, 1.0, False), None, None, None, None, None, None
    return y, quantile_pullback


@rule(np.percentile, static=("q", "axis", "method", "keepdims"))
def δpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    y = np.percentile(a, q, axis=axis, method=method, keepdims=keepdims)
    def percentile_pullback(dy):
        return quantile_partial(dy, a, q, axis, keepdims, method, 100.0, False), None, None, None, None, None, None
    return y, percentile_pullback


@rule(np.nanquantile, static=("q", "axis", "method", "keepdims"))
def δnanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    refuse_nan_quantile_method("nanquantile", method)
    y = np.nanquantile(a, q, axis=axis, method=method, keepdims=keepdims)
    def nanquantile_pullback(dy):
        return quantile_partial(dy, a, q, axis, keepdims, method, 1.0, True), None, None, None, None, None, None
    return y, nanquantile_pullback


@rule(np.nanpercentile, static=("q", "axis", "method", "keepdims"))
def δnanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    refuse_nan_quantile_method("nanpercentile", method)
    y = np.nanpercentile(a, q, axis=axis, method=method, keepdims=keepdims)
    def nanpercentile_pullback(dy):
        return quantile_partial(dy, a, q, axis, keepdims, method, 100.0, True), None, None, None, None, None, None
    return y, nanpercentile_pullback


@rule(np.nanvar, static=("axis", "dtype", "ddof", "keepdims"))
def δnanvar(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    # NaN entries take no part: they get a zero partial.
    y = np.nanvar(x, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    def nanvar_pullback(dy):
        return nanvar_partial(dy, x, axis, ddof, keepdims), None, None, None, None, None
    return y, nanvar_pullback


@rule(np.nanstd, static=("axis", "dtype", "ddof", "keepdims"))
def δnanstd(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    # NaN entries get a zero partial; a constant lane (std 0) too, as in std.
    y = np.nanstd(x, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    def nanstd_pullback(dy):
        return nanstd_partial(dy, x, y, axis, ddof, keepdims), None, None, None, None, None
    return y, nanstd_pullback


@rule(np.nanprod, static=("axis", "dtype", "keepdims"))
def δnanprod(x, axis=None, dtype=None, out=None, keepdims=False):
    # NaN entries count as 1 and get a zero partial; exact with zeros, as prod.
    y = np.nanprod(x, axis=axis, dtype=dtype, keepdims=keepdims)
    def nanprod_pullback(dy):
        return nanprod_partial(dy, x, axis, keepdims), None, None, None, None
    return y, nanprod_pullback


@rule(np.nancumsum, static=("axis", "dtype"))
def δnancumsum(x, axis=None, dtype=None):
    # NaN entries count as 0 and get a zero partial.
    y = np.nancumsum(x, axis=axis, dtype=dtype)
    def nancumsum_pullback(dy):
        return nancumsum_partial(dy, x, axis), None, None
    return y, nancumsum_pullback


# cov and corrcoef: in every input (m and y), rows of variables or columns (rowvar), bias and ddof; fweights,
# aweights and dtype are not parameters of the rules: they are refused by name at transform time.
@rule(np.cov, static=("rowvar", "bias", "ddof"))
def δcov(m, y=None, rowvar=True, bias=False, ddof=None):
    c = np.cov(m, y, rowvar, bias, ddof)
    def cov_pullback(dc):
        dm, dy = cov_partials(dc, m, y, rowvar, bias, ddof)
        return dm, dy, None, None, None
    return c, cov_pullback


@rule(np.corrcoef, static=("rowvar",))
def δcorrcoef(x, y=None, rowvar=True):
    r = np.corrcoef(x, y, rowvar)
    def corrcoef_pullback(dr):
        dx, dy = corrcoef_partials(dr, x, y, rowvar)
        return dx, dy, None
    return r, corrcoef_pullback


@rule(np.cumsum, methods=("cumsum",), static=("axis", "dtype"))
def δcumsum(x, axis=None, dtype=None):
    y = np.cumsum(x, axis=axis, dtype=dtype)
    def cumsum_pullback(dy):
        return cumsum_partial(dy, x, axis), None, None
    return y, cumsum_pullback


@rule(np.cumprod, methods=("cumprod",), static=("axis", "dtype"))
def δcumprod(x, axis=None, dtype=None):
    # Exact with zeros in x (see cumprod_partial).
    y = np.cumprod(x, axis=axis, dtype=dtype)
    def cumprod_pullback(dy):
        return cumprod_partial(dy, x, y, axis), None, None
    return y, cumprod_pullback


@rule(np.nanmax, static=("axis", "keepdims"))
def δnanmax(x, axis=None, out=None, keepdims=False):
    # NaN entries are skipped (partial 0); tied maxima share.
    y = np.nanmax(x, axis=axis, keepdims=keepdims)
    def nanmax_pullback(dy):
        return extreme_partial(dy, x, y, axis, keepdims), None, None, None
    return y, nanmax_pullback


@rule(np.nanmin, static=("axis", "keepdims"))
def δnanmin(x, axis=None, out=None, keepdims=False):
    y = np.nanmin(x, axis=axis, keepdims=keepdims)
    def nanmin_pullback(dy):
        return extreme_partial(dy, x, y, axis, keepdims), None, None, None
    return y, nanmin_pullback


@rule(getattr(np, "cumulative_sum", None), array_api=("cumulative_sum",), static=("axis", "dtype"))
def δcumulative_sum(x, axis=None, dtype=None):
    # The array-API spelling of cumsum (include_initial=False), in the array's own namespace.
    y = xp.cumulative_sum(x, axis=axis, dtype=dtype)
    def cumulative_sum_pullback(dy):
        return cumsum_partial(dy, x, axis), None, None
    return y, cumulative_sum_pullback


@rule(getattr(np, "cumulative_prod", None), static=("axis", "dtype"))
def δcumulative_prod(x, axis=None, dtype=None):
    # The array-API spelling of cumprod (include_initial=False: the keyword is refused); exact with zeros.
    y = np.cumulative_prod(x, axis=axis, dtype=dtype)
    def cumulative_prod_pullback(dy):
        return cumprod_partial(dy, x, y, axis), None, None
    return y, cumulative_prod_pullback


@rule(np.diff, static=("n", "axis"), array_api=("diff",))
def δdiff(x, n=1, axis=-1):
    y = xp.diff(x, n=n, axis=axis)  # (the array library's own: NumPy's converts torch's and JAX's arrays)
    def diff_pullback(dy):
        return diff_partial(dy, x, n, axis), None, None
    return y, diff_pullback


@rule(np.ediff1d)
def δediff1d(ary, to_end=None, to_begin=None):
    # The differences of the flattened array, between to_begin and to_end: linear in all three.
    y = ediff1d_primal(ary, to_end, to_begin)
    def ediff1d_pullback(dy):
        return (ediff1d_partial(dy, ary, to_end, to_begin), ediff1d_end_partial(dy, to_end),
                ediff1d_begin_partial(dy, to_begin))
    return y, ediff1d_pullback


_SPACINGS = ("spacing1", "spacing2", "spacing3", "spacing4")


@rule(np.gradient, static=_SPACINGS + ("axis", "edge_order"))
def δgradient(f, spacing1=None, spacing2=None, spacing3=None, spacing4=None, axis=None, edge_order=1):
    # np.gradient(f, *varargs, axis=None, edge_order=1): the spacings given positionally fill the slots in
    # order (one for every axis, or one per axis of up to four); they are constants (static). One array
    # for one axis, a tuple for several. Linear in f: the partial is the stencils' transpose.
    y = gradient_primal(f, spacing1, spacing2, spacing3, spacing4, axis, edge_order)
    def gradient_pullback(dy):
        df = gradient_partial(dy, f, spacing1, spacing2, spacing3, spacing4, axis=axis, edge_order=edge_order)
        return df, None, None, None, None, None, None
    return y, gradient_pullback


@rule(getattr(np, "trapezoid", None), static=("dx", "axis"))
def δtrapezoid(y, x=None, dx=1.0, axis=-1):
    # Both the heights y and the sample points x are differentiated.
    z = xp.trapezoid(y, x=x, dx=dx, axis=axis)  # (NumPy's; on torch, JAX, strict the library's functions)
    def trapezoid_pullback(dz):
        dy, dx_points = trapezoid_partials(dz, y, x, dx, axis)
        return dy, dx_points, None, None
    return z, trapezoid_pullback


@rule(np.trace, methods=("trace",), static=("offset", "axis1", "axis2"))
def δtrace(x, offset=0, axis1=0, axis2=1):
    y = np.trace(x, offset=offset, axis1=axis1, axis2=axis2)
    def trace_pullback(dy):
        return trace_partial(dy, x, offset, axis1, axis2), None, None, None
    return y, trace_pullback


@rule(getattr(np.linalg, "trace", None), static=("offset", "dtype"))
def δlinalg_trace(x, offset=0, dtype=None):
    # NumPy 2's np.linalg.trace: over the last two axes (np.trace's default is the first two).
    y = np.linalg.trace(x, offset=offset, dtype=dtype)
    def linalg_trace_pullback(dy):
        return trace_partial(dy, x, offset, -2, -1), None, None
    return y, linalg_trace_pullback
