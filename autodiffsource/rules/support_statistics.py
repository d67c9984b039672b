"""Helpers the rules of order statistics and covariances call: ``quantile``/``percentile`` (and their NaN-skipping
variants), ``cov`` and ``corrcoef``.

Contract: as in ``support.py``, each helper is a pure function that never mutates an argument; the partials are
computed in the namespace of the primal argument (NumPy's, or another array library's through array-api-compat),
so a torch or JAX array gets a partial of its own library even where NumPy computed the value.

Quantile tie rule: a quantile interpolates two order statistics, ``(1 - f) s[lo] + f s[hi]``; the weight of each
order statistic is shared equally by every element equal to it, as ``median`` (``support.median_partial``) and
``max`` share theirs. ``np.quantile(x, 0.5)`` therefore has exactly the partial of ``np.median(x)``.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import MissingRuleError
from ..runtime import _device, expand_reduced, is_foreign_array
from ..runtime.common import lanes_back, lanes_last
from .support import _PY_SCALARS, _axes, _ns, cumsum_partial, indicator, prod_partial, safe_divide

# ---- quantile and percentile ----------------------------------------------------------------------------------


def refuse_nan_quantile_method(function: str, method) -> None:
    """None; a MissingRuleError naming ``method=`` where the NaN-skipping quantile ``function`` is asked for a
    method other than 'linear' (its positions differ from lane to lane; only 'linear''s are written out here)."""
    if method != "linear":
        raise MissingRuleError(f"`np.{function}` with method={method!r} has no derivative rule (only "
                               "method='linear' has one)",
                               hint="Use method='linear', or np.quantile/np.percentile, which take every method.")


def _fractions(q, percent: float) -> list[float]:
    return [float(v) / percent for v in np.reshape(np.asarray(q, dtype=np.float64), (-1,))]


def _count_share(xp, hits, dtype):
    """``hits`` (bool, (*kept, n)) as weights 1/(number of hits in the lane), 0 in a lane without one."""
    ind = xp.astype(hits, dtype)
    count = xp.sum(ind, axis=-1, keepdims=True)
    return ind / xp.where(count > 0, count, xp.ones_like(count))


def _quantile_weights(xp, lanes, qs, method, skip_nan):
    """For each fraction in ``qs``, the weights (*kept, n) with which the quantile of each lane depends on its
    elements: ``1 - f`` at the lower order statistic, ``f`` at the upper one, each shared by its ties."""
    n = lanes.shape[-1]
    ordered = xp.sort(lanes, axis=-1)  # (NaN sorts last in NumPy, torch and JAX alike)
    dtype = lanes.dtype
    weights = []
    if not skip_nan:
        # Every NumPy method interpolates two adjacent order statistics: its quantile of 0, 1, ..., n-1 is the
        # position lo + f it interpolates at, whatever the method's formula.
        positions = np.quantile(np.arange(n, dtype=np.float64), qs, method=method)
        for r in np.reshape(positions, (-1,)).tolist():
            lo = min(max(math.floor(r), 0), n - 1)
            hi, f = min(lo + 1, n - 1), r - lo
            w = (1.0 - f) * _count_share(xp, lanes == ordered[..., lo:lo + 1], dtype)
            if f != 0.0:
                w = w + f * _count_share(xp, lanes == ordered[..., hi:hi + 1], dtype)
            weights.append(w)
        return weights
    # NaN entries are skipped: lane by lane, the linear position q (c - 1) among its c numbers.
    present = xp.sum(xp.astype(lanes == lanes, dtype), axis=-1, keepdims=True)
    index = xp.reshape(xp.astype(xp.arange(n, device=_device(lanes)), dtype), (1,) * (lanes.ndim - 1) + (n,))
    zero = xp.zeros_like(ordered)
    for fraction in qs:
        r = fraction * (present - 1.0)
        lo = xp.floor(r)
        hi = xp.minimum(lo + 1.0, present - 1.0)
        f = r - lo
        s_lo = xp.sum(xp.where(index == lo, ordered, zero), axis=-1, keepdims=True)
        s_hi = xp.sum(xp.where(index == hi, ordered, zero), axis=-1, keepdims=True)
        w = (1.0 - f) * _count_share(xp, lanes == s_lo, dtype) + f * _count_share(xp, lanes == s_hi, dtype)
        weights.append(xp.where(present > 0, w, xp.zeros_like(w)))
    return weights


def _prepare(x, axis):
    xp = _ns(x)
    x_arr = xp.asarray(x, dtype=xp.float64) if type(x) in _PY_SCALARS else x
    if not xp.isdtype(x_arr.dtype, "real floating"):
        x_arr = xp.astype(x_arr, xp.float64)
    axes = _axes(axis, x_arr.ndim)
    lanes, order, kept_shape = lanes_last(xp, x_arr, axes)
    return xp, x_arr, axes, lanes, order, kept_shape


def quantile_partial(dy, x, q, axis, keepdims, method, percent, skip_nan):
    """The partial in ``x`` of ``np.quantile(x, q, axis, method=method, keepdims=keepdims)`` at cotangent ``dy``
    (``percent`` = 100 for ``np.percentile``; ``skip_nan`` for ``np.nanquantile``/``np.nanpercentile``, whose NaN
    entries get 0). ``dy`` is shaped like the result (q's shape first); the partial like ``x``."""
    xp, x_arr, axes, lanes, order, kept_shape = _prepare(x, axis)
    qs = _fractions(q, percent)
    g = xp.reshape(xp.asarray(_like(dy, lanes), dtype=lanes.dtype, device=_device(lanes)),
                   (len(qs),) + kept_shape + (1,))
    total = None
    for j, w in enumerate(_quantile_weights(xp, lanes, qs, method, skip_nan)):
        part = w * g[j, ...]
        total = part if total is None else total + part
    partial = lanes_back(xp, total, x_arr.shape, order)
    return float(partial) if type(x) in _PY_SCALARS else partial


def quantile_tangent(x_dot, x, q, axis, keepdims, method, percent, skip_nan):
    """The tangent of ``np.quantile(x, q, ...)`` (arguments as :func:`quantile_partial`) in direction ``x_dot``:
    for each quantile, the weighted sum of the tangents of the order statistics it interpolates."""
    xp, x_arr, axes, lanes, order, kept_shape = _prepare(x, axis)
    qs = _fractions(q, percent)
    t = xp.asarray(_like(x_dot, lanes), dtype=lanes.dtype, device=_device(lanes))
    if tuple(t.shape) != tuple(x_arr.shape):
        t = xp.broadcast_to(t, tuple(x_arr.shape))
    t_lanes, _, _ = lanes_last(xp, t, axes)
    parts = [xp.sum(w * t_lanes, axis=-1) for w in _quantile_weights(xp, lanes, qs, method, skip_nan)]
    if keepdims:
        out_shape = tuple(1 if a in axes else x_arr.shape[a] for a in range(x_arr.ndim))
    else:
        out_shape = kept_shape
    result = xp.reshape(xp.stack(parts), tuple(np.shape(q)) + out_shape)
    return float(result) if type(x) in _PY_SCALARS and np.ndim(q) == 0 else result


def δquantile_tangent(x_dot, x, q, axis, keepdims, method, percent, skip_nan):
    # Linear in x_dot (its transpose is the rule's pullback); piecewise constant in x: no second derivative.
    t = quantile_tangent(x_dot, x, q, axis, keepdims, method, percent, skip_nan)

    def quantile_tangent_pullback(dt):
        from ..runtime import zeros_like

        return (quantile_partial(dt, x, q, axis, keepdims, method, percent, skip_nan), zeros_like(x),
                None, None, None, None, None, None)

    return t, quantile_tangent_pullback



# ---- cov and corrcoef -----------------------------------------------------------------------------------------
#
# np.cov's variables are rows: X = atleast_2d(m), transposed where rowvar is false (NumPy leaves a single row
# as it is), y's rows below m's. With Xc = X - mean(X, axis=1), C = Xc Xc^T / (N - ddof), which is bilinear in
# X: the partial of <G, C> is (G + G^T) Xc / (N - ddof), and its rows sum to 0, so no centring is needed.


def _cov_rows(xp, a, rowvar, second=False):
    """``a`` as NumPy's cov reads it: rows of variables, (k, N). Where ``rowvar`` is false NumPy transposes
    ``m`` unless it is 1-D, and the ``second`` input ``y`` unless it has a single row (after atleast_2d)."""
    rows = xp.reshape(a, (1, -1)) if a.ndim < 2 else a
    transposed = not rowvar and (rows.shape[0] != 1 if second else a.ndim != 1)
    return xp.permute_dims(rows, (1, 0)) if transposed else rows


def _cov_back(xp, g, a, rowvar, second=False):
    """The partial of ``a`` from the partial ``g`` of its rows (:func:`_cov_rows` undone)."""
    if a.ndim < 2:
        return xp.reshape(g, tuple(a.shape))
    transposed = not rowvar and (a.shape[0] != 1 if second else True)
    return xp.permute_dims(g, (1, 0)) if transposed else g


def _cov_inputs(m, y):
    xp = _ns(m, y)
    m = m if hasattr(m, "shape") else xp.asarray(m, dtype=xp.float64)
    y = y if y is None or hasattr(y, "shape") else xp.asarray(y, dtype=xp.float64)
    return xp, m, y


def _all_rows(xp, m, y, rowvar):
    rows = _cov_rows(xp, m, rowvar)
    return rows if y is None else xp.concat([rows, _cov_rows(xp, y, rowvar, True)], axis=0)


def _centred(xp, rows):
    return rows - xp.mean(rows, axis=1, keepdims=True)


def _divisor(rows, bias, ddof) -> float:
    ddof = (0 if bias else 1) if ddof is None else ddof
    return float(rows.shape[1] - ddof)


def _split_rows(xp, g, m, y, rowvar):
    """``(dm, dy)`` from the partial ``g`` of all the rows (dy None where y is None)."""
    k = _cov_rows(xp, m, rowvar).shape[0]
    dm = _cov_back(xp, g[:k, ...], m, rowvar)
    return dm, None if y is None else _cov_back(xp, g[k:, ...], y, rowvar, True)


def _as_square(xp, c, k, like):
    return xp.reshape(xp.asarray(_like(c, like), dtype=like.dtype, device=_device(like)), (k, k))


def cov_partials(dc, m, y, rowvar, bias, ddof):
    """The partials ``(dm, dy)`` of ``np.cov(m, y, rowvar, bias, ddof)`` at cotangent ``dc`` (dy None where
    ``y`` is None); each shaped like its argument."""
    xp, m_arr, y_arr = _cov_inputs(m, y)
    rows = _all_rows(xp, m_arr, y_arr, rowvar)
    k = rows.shape[0]
    g = _as_square(xp, dc, k, rows)
    dm, dy = _split_rows(xp, (g + xp.permute_dims(g, (1, 0))) @ _centred(xp, rows) / _divisor(rows, bias, ddof),
                         m_arr, y_arr, rowvar)
    return dm, dy


def cov_tangent(m_dot, y_dot, m, y, rowvar, bias, ddof):
    """The tangent of ``np.cov(m, y, rowvar, bias, ddof)`` in direction ``(m_dot, y_dot)`` (a None tangent: a
    constant argument): ``(Ac Xc^T + Xc Ac^T) / (N - ddof)``, shaped as np.cov's result (squeezed)."""
    xp, m_arr, y_arr = _cov_inputs(m, y)
    rows = _all_rows(xp, m_arr, y_arr, rowvar)
    xc, ac = _centred(xp, rows), _centred(xp, _tangent_rows(xp, m_dot, y_dot, m_arr, y_arr, rowvar, rows))
    t = (ac @ xp.permute_dims(xc, (1, 0)) + xc @ xp.permute_dims(ac, (1, 0))) / _divisor(rows, bias, ddof)
    return xp.reshape(t, ()) if rows.shape[0] == 1 else t


def _tangent_rows(xp, m_dot, y_dot, m, y, rowvar, rows):
    def part(t, a, second):
        if t is None:
            return xp.zeros_like(_cov_rows(xp, a, rowvar, second))
        t = xp.asarray(_like(t, rows), dtype=rows.dtype, device=_device(rows))
        t = xp.broadcast_to(t, tuple(a.shape)) if tuple(t.shape) != tuple(a.shape) else t
        return _cov_rows(xp, t, rowvar, second)

    return part(m_dot, m, False) if y is None else xp.concat([part(m_dot, m, False), part(y_dot, y, True)], axis=0)


def δcov_tangent(m_dot, y_dot, m, y, rowvar, bias, ddof):
    # Bilinear in the tangent rows A and the rows X: <G, T> has partial S Xc / d in A and S Ac / d in X,
    # with S = G + G^T (both rows sum to 0: no centring).
    t = cov_tangent(m_dot, y_dot, m, y, rowvar, bias, ddof)

    def cov_tangent_pullback(dt):
        xp, m_arr, y_arr = _cov_inputs(m, y)
        rows = _all_rows(xp, m_arr, y_arr, rowvar)
        k = rows.shape[0]
        g = _as_square(xp, dt, k, rows)
        s = (g + xp.permute_dims(g, (1, 0))) / _divisor(rows, bias, ddof)
        xc, ac = _centred(xp, rows), _centred(xp, _tangent_rows(xp, m_dot, y_dot, m_arr, y_arr, rowvar, rows))
        dm_dot, dy_dot = _split_rows(xp, s @ xc, m_arr, y_arr, rowvar)
        dm, dy = _split_rows(xp, s @ ac, m_arr, y_arr, rowvar)
        return (None if m_dot is None else dm_dot, None if y_dot is None else dy_dot, dm, dy, None, None, None)

    return t, cov_tangent_pullback


def corrcoef_partials(dr, x, y, rowvar):
    """The partials ``(dx, dy)`` of ``np.corrcoef(x, y, rowvar)`` at cotangent ``dr``.

    R = C / (s s^T) with s = sqrt(diag C): the cotangent of C is dR / (s s^T) off and on the diagonal, and
    on the diagonal also -((dR R).sum(1) + (dR R).sum(0)) / (2 s^2) through s (NumPy's clipping of R to
    [-1, 1] is left out: it only trims rounding). Then cov's partials (corrcoef does not depend on ddof)."""
    xp, x_arr, y_arr = _cov_inputs(x, y)
    rows = _all_rows(xp, x_arr, y_arr, rowvar)
    k = rows.shape[0]
    xc = _centred(xp, rows)
    c = xc @ xp.permute_dims(xc, (1, 0))  # (the divisor N - ddof cancels in R)
    variances = xp.sum(xc * xc, axis=1)
    s = xp.sqrt(variances)
    scale = s[:, None] * s[None, :]
    r = c / scale
    g = _as_square(xp, dr, k, rows)
    through_s = -(xp.sum(g * r, axis=1) + xp.sum(g * r, axis=0)) / (2.0 * variances)
    gc = g / scale + xp.eye(k, dtype=rows.dtype, device=_device(rows)) * through_s[:, None]
    return _split_rows(xp, (gc + xp.permute_dims(gc, (1, 0))) @ xc, x_arr, y_arr, rowvar)


# ---- NaN-skipping reductions: NaN entries take no part and get a zero partial ----------------------------------


def _like(g, x):
    """``g`` in ``x``'s library where NumPy computed a value of another library's array ``x`` (torch's, JAX's:
    NumPy's nan-functions convert them), so that its cotangent meets ``x`` in that library."""
    if is_foreign_array(x) and (type(g) is np.ndarray or isinstance(g, np.generic)):
        if type(g) is np.ndarray and not g.flags.writeable:
            g = g.copy()  # (a read-only view, such as a broadcast seed: torch warns of one)
        return _ns(x).asarray(g, device=_device(x))
    return g


def _present_and_centred(x, axis):
    """``(present, count, centred)``: 1.0 at the numbers of ``x`` (0.0 at NaN), their count over ``axis`` (kept
    dims), and ``x`` minus the mean of its numbers (0 at NaN)."""
    xp = _ns(x)
    present = indicator(x == x, x)
    count = xp.sum(present, axis=axis, keepdims=True)
    numbers = xp.where(x == x, x, xp.zeros_like(x))
    mean = xp.sum(numbers, axis=axis, keepdims=True) / count
    return present, count, (numbers - mean) * present


def nanvar_partial(dy, x, axis, ddof, keepdims):
    """The partial of ``np.nanvar(x, axis, ddof=ddof)``: 2 (x - nanmean) / (count - ddof) at the numbers, 0 at NaN."""
    if type(x) in _PY_SCALARS:
        return 0.0 * dy
    _, count, centred = _present_and_centred(x, axis)
    return expand_reduced(_like(dy, x), x, axis, keepdims) * (2.0 * centred / (count - ddof))


def nanstd_partial(dy, x, y, axis, ddof, keepdims):
    """The partial of ``np.nanstd``: (x - nanmean) / ((count - ddof) nanstd) at the numbers, 0 at NaN; 0 where
    the std is 0 (a constant lane), as std's."""
    if type(x) in _PY_SCALARS:
        return 0.0 * dy
    _, count, centred = _present_and_centred(x, axis)
    scale = safe_divide(expand_reduced(_like(dy, x), x, axis, keepdims), expand_reduced(_like(y, x), x, axis, keepdims))
    return scale * centred / (count - ddof)


def nanprod_partial(dy, x, axis, keepdims):
    """The partial of ``np.nanprod``: prod's partial with NaN read as 1 (exact with zeros), 0 at NaN."""
    if type(x) in _PY_SCALARS:
        return dy if x == x else 0.0 * dy
    xp = _ns(x)
    ones = xp.where(x == x, x, xp.ones_like(x))
    return prod_partial(_like(dy, x), ones, axis, keepdims) * indicator(x == x, x)


def nancumsum_partial(dy, x, axis):
    """The partial of ``np.nancumsum``: cumsum's, 0 at NaN."""
    return cumsum_partial(_like(dy, x), x, axis) * indicator(x == x, x)
