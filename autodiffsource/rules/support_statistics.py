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
from ..runtime import _device, inverse_permutation
from .support import _PY_SCALARS, _axes, _ns

# ---- quantile and percentile ----------------------------------------------------------------------------------


def refuse_nan_quantile_method(function: str, method) -> None:
    """None; a MissingRuleError naming ``method=`` where the NaN-skipping quantile ``function`` is asked for a
    method other than 'linear' (its positions differ from lane to lane; only 'linear''s are written out here)."""
    if method != "linear":
        raise MissingRuleError(f"`np.{function}` with method={method!r} has no derivative rule (only "
                               "method='linear' has one)",
                               hint="Use method='linear', or np.quantile/np.percentile, which take every method.")


def _lanes(xp, x, axes):
    """``x`` with ``axes`` moved last and flattened into one: ``(lanes (*kept, n), order, kept_shape)``."""
    ndim = len(x.shape)
    kept = [a for a in range(ndim) if a not in axes]
    order = kept + list(axes)
    kept_shape = tuple(x.shape[a] for a in kept)
    moved = xp.permute_dims(x, tuple(order)) if order != list(range(ndim)) else x
    return xp.reshape(moved, kept_shape + (-1,)), order, kept_shape


def _unlanes(xp, g, x, order):
    g = xp.reshape(g, tuple(x.shape[a] for a in order))
    return xp.permute_dims(g, tuple(inverse_permutation(order))) if order != list(range(len(order))) else g


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
    lanes, order, kept_shape = _lanes(xp, x_arr, axes)
    return xp, x_arr, axes, lanes, order, kept_shape


def quantile_partial(dy, x, q, axis, keepdims, method, percent, skip_nan):
    """The partial in ``x`` of ``np.quantile(x, q, axis, method=method, keepdims=keepdims)`` at cotangent ``dy``
    (``percent`` = 100 for ``np.percentile``; ``skip_nan`` for ``np.nanquantile``/``np.nanpercentile``, whose NaN
    entries get 0). ``dy`` is shaped like the result (q's shape first); the partial like ``x``."""
    xp, x_arr, axes, lanes, order, kept_shape = _prepare(x, axis)
    qs = _fractions(q, percent)
    g = xp.reshape(xp.asarray(dy, dtype=lanes.dtype, device=_device(lanes)), (len(qs),) + kept_shape + (1,))
    total = None
    for j, w in enumerate(_quantile_weights(xp, lanes, qs, method, skip_nan)):
        part = w * g[j, ...]
        total = part if total is None else total + part
    partial = _unlanes(xp, total, x_arr, order)
    return float(partial) if type(x) in _PY_SCALARS else partial


def quantile_tangent(x_dot, x, q, axis, keepdims, method, percent, skip_nan):
    """The tangent of ``np.quantile(x, q, ...)`` (arguments as :func:`quantile_partial`) in direction ``x_dot``:
    for each quantile, the weighted sum of the tangents of the order statistics it interpolates."""
    xp, x_arr, axes, lanes, order, kept_shape = _prepare(x, axis)
    qs = _fractions(q, percent)
    t = xp.asarray(x_dot, dtype=lanes.dtype, device=_device(lanes))
    if tuple(t.shape) != tuple(x_arr.shape):
        t = xp.broadcast_to(t, tuple(x_arr.shape))
    t_lanes, _, _ = _lanes(xp, t, axes)
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

