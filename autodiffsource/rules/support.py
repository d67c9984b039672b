"""Helpers the rule tables call by name: partials too long to read inline, shared by several rules.

Contract: each helper is a pure function of arrays (NumPy, or any array-API array where the body uses
``array_namespace``), never mutates an argument, and returns a cotangent shaped and typed like the primal
argument it belongs to. Helpers that only NumPy can run (``np.add.at``, ``np.einsum`` views...) say so.
Generated code names these helpers exactly as the rules do, so a reader can look each one up here.
"""

from __future__ import annotations

import math
import numbers
import string

import numpy as np

from ..errors import MissingRuleError
from ..runtime import _device, _xp, expand_reduced, index_add, reduced_count, shape_of, unbroadcast, where_tie_split
from ..runtime import zeros_like as runtime_zeros_like
from ..runtime.common import lanes_back, lanes_last
from ..runtime import as_array, dispatches_numpy, inverse_permutation, is_foreign_array, number_if_0d, take_partial_any

_PY_SCALARS = (float, int, bool)


def _ns(*values):
    """The namespace of the first array among ``values``: NumPy's scalars count only where no array follows
    (a NumPy scalar beside a CuPy array is CuPy's to compute with), Python numbers and None not at all."""
    numpy_scalar = None
    for v in values:
        if v is None or type(v) in _PY_SCALARS:
            continue
        if not isinstance(v, np.generic):
            return _xp(v)
        numpy_scalar = v if numpy_scalar is None else numpy_scalar
    return np if numpy_scalar is None else _xp(numpy_scalar)


def _array_api_only(x) -> bool:
    """Whether ``x`` is another library's array that NumPy's functions do not hand on to its library (torch's,
    JAX's, array-api-strict's; CuPy's and Dask's they do, see runtime.dispatches_numpy): a helper written
    with NumPy's functions then computes with the array's namespace instead (``xp.flip``, not ``[::-1]``)."""
    return is_foreign_array(x) and not dispatches_numpy(x)


def in_library_of(g, *arrays):
    """``g`` as an array of the library of the first of ``arrays`` that NumPy's functions hand to their own
    library (Dask's, CuPy's), where ``g`` is not such an array itself (a number; NumPy's array, the cotangent
    of a function Dask lacks, which NumPy's ran on the computed Dask arrays): a partial built from ``g`` and
    NumPy constants then still belongs to that library. Anything else comes back as it was."""
    if dispatches_numpy(g):
        return g
    for a in arrays:
        if dispatches_numpy(a):
            return _ns(a).asarray(g)
    return g


def cotangent_array(g, *arrays):
    """The cotangent ``g`` as an array for a NumPy-surface partial: a number (the seed 1.0 of a scalar output)
    or NumPy's array made one of the first of ``arrays`` that NumPy's functions hand to their own library,
    so that ``g[..., None]`` then meets that library's arrays (CuPy refuses NumPy's beside its own)."""
    return as_array(in_library_of(g, *arrays))


def eye_like(n: int, like, dtype=None):
    """The ``n``-by-``n`` identity (float64, or ``dtype``) in ``like``'s library where NumPy's functions hand
    ``like`` to theirs (CuPy refuses NumPy's identity beside its arrays); NumPy's otherwise."""
    dtype = np.float64 if dtype is None else dtype
    return _ns(like).eye(n, dtype=dtype) if dispatches_numpy(like) else np.eye(n, dtype=dtype)


def _float_dtype(x):
    dtype = getattr(x, "dtype", None)
    if dtype is None or getattr(dtype, "kind", "f") not in "f":
        return np.float64
    return dtype


def indicator(condition, like):
    """``condition`` as 1.0 where it holds and 0.0 elsewhere, in ``like``'s float dtype: a mask a partial is
    multiplied by (array-API namespaces refuse arithmetic between floats and bools, and where(c, 1.0, 0.0)).
    A Python bool gives a Python float. A constant: it has no partial of its own."""
    if type(condition) is bool:
        return 1.0 if condition else 0.0
    xp = _ns(condition)
    floating = hasattr(like, "dtype") and xp.isdtype(like.dtype, "real floating")
    return xp.astype(condition, like.dtype if floating else xp.float64)


def _axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, numbers.Integral):
        return (int(axis) % ndim,) if ndim else ()
    return tuple(sorted(int(a) % ndim for a in axis))


def zeros_of(x):
    """A zero partial for ``x`` (a float zero for Python numbers): what a piecewise-constant argument gets."""
    if type(x) in _PY_SCALARS:
        return 0.0
    xp = _xp(x)
    return xp.zeros(x.shape, dtype=_float_dtype(x))


def safe_divide(a, b):
    """``a / b`` where ``b != 0``, 0 where ``b == 0``: the subgradient convention at a kink or origin."""
    if type(b) in _PY_SCALARS:  # (torch's where refuses a Python bool condition beside a tensor)
        return a / b if b != 0 else 0 * a
    xp = _ns(a, b)
    nonzero = b != 0
    return number_if_0d(xp.where(nonzero, a / xp.where(nonzero, b, 1), 0 * a))


def log_any(x):
    """log(x) in x's own library; for a Python number a Python float (NumPy's log: -inf at 0, NaN below).
    For partials where x may be a Python number beside another argument's array: a torch namespace has no
    log of a Python float, and array-api-strict refuses NumPy's float64 beside its arrays."""
    if type(x) in _PY_SCALARS:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.log(float(x)))
    return _ns(x).log(x)


def exp_any(x):
    """exp(x) as :func:`log_any` gives log(x)."""
    if type(x) in _PY_SCALARS:
        with np.errstate(over="ignore"):
            return float(np.exp(float(x)))
    return _ns(x).exp(x)


def log1p_any(x):
    """log1p(x) as :func:`log_any` gives log(x)."""
    if type(x) in _PY_SCALARS:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.log1p(float(x)))
    return _ns(x).log1p(x)


def partial_without_closed_form(function: str, parameter: str):
    """Stands, in a rule's pullback, for a partial that has no closed form (``scipy.special.stdtr``'s in
    ``df``, ``scipy.stats.gamma.cdf``'s in ``a``): raises :class:`MissingRuleError` naming ``function`` and
    ``parameter``; never returns. Generated code evaluates a partial only where its parameter is differentiated
    (the inliner keeps the partials asked for, ``Template.live_backward``; forward mode builds tangents of
    differentiated arguments only), so a call that holds the parameter constant never gets here. Its
    arguments are constant strings: it is registered nondiff (rules/scipy_special.py)."""
    raise MissingRuleError(f"`{function}` has no derivative rule in its parameter `{parameter}`: that partial has "
                           "no closed form", hint=f"Hold `{parameter}` constant (a number, or an argument not "
                           "differentiated); the other arguments' partials are available.")


def partial_in_a_count(function: str, parameter: str):
    """Stands, in a rule's pullback, for the partial in an integer argument of a discrete distribution
    (``scipy.stats.poisson.logpmf``'s ``k`` and ``loc``, ``binom``'s ``k``, ``n`` and ``loc``): raises
    :class:`MissingRuleError` naming ``function`` and ``parameter``; never returns. The mass function is defined
    at whole counts only (0 or -inf between them), so it has no derivative there. Evaluated only where that
    parameter is differentiated, as :func:`partial_without_closed_form`; registered nondiff
    (rules/scipy_stats.py)."""
    raise MissingRuleError(f"`{function}` has no derivative in its parameter `{parameter}`: `{parameter}` is an "
                           "integer count (the mass function is defined at whole numbers only)",
                           hint=f"Hold `{parameter}` constant (a number, or an argument not differentiated); the "
                           "partials in the continuous parameters are available.")


# ---- elementwise ------------------------------------------------------------------------------------

def sinc_derivative(x):
    """d/dx sinc(x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0 (sinc is even)."""
    xp = _ns(x)
    nonzero = x != 0
    safe = xp.where(nonzero, x, 1.0)
    # sinc(safe) spelled out (NumPy's formula): np.sinc gives NumPy's arrays for array-api-strict's
    return number_if_0d(xp.where(nonzero, (xp.cos(np.pi * safe) - xp.sin(np.pi * safe) / (np.pi * safe)) / safe, 0.0))


def clip_shares(x, lo, hi):
    """``(to_x, to_lo, to_hi)``: how clip(x, lo, hi) = min(max(x, lo), hi) splits its cotangent.

    Ties split equally, as maximum and minimum do; ``None`` bounds take no share.
    """
    xp = _ns(x, lo, hi)
    if lo is None:
        share_lo = 1.0
        w = x
    else:
        share_lo = where_tie_split(x, lo)
        w = xp.maximum(x, lo)
    share_hi = 1.0 if hi is None else where_tie_split(hi, w)
    return share_hi * share_lo, share_hi * (1 - share_lo), 1 - share_hi


def clip_partials(dz, x, lo, hi):
    """The partials of ``clip(x, lo, hi)`` for x, lo and hi (each unbroadcast; None where a bound is None)."""
    to_x, to_lo, to_hi = clip_shares(x, lo, hi)
    dlo = None if lo is None else unbroadcast(dz * to_lo, lo)
    dhi = None if hi is None else unbroadcast(dz * to_hi, hi)
    return unbroadcast(dz * to_x, x), dlo, dhi


def finite_mask(x):
    """1 where ``x`` is finite, 0 elsewhere: nan_to_num passes gradients only through finite entries."""
    if type(x) in _PY_SCALARS:
        return 1.0 if x - x == 0 else 0.0
    xp = _ns(x)
    return indicator(xp.isfinite(x), x)


def astype_partial(dy, x, dtype):
    """The partial of ``x.astype(dtype)``: the cotangent cast back, or zero for a cast to integers/bools."""
    kind = np.dtype(dtype).kind
    if kind not in "fc":
        return zeros_of(x)
    if type(x) in _PY_SCALARS:
        return dy
    return _ns(dy).astype(dy, _float_dtype(x)) if hasattr(dy, "dtype") else dy


# ---- reductions -------------------------------------------------------------------------------------

def _move_to_end(x, axes):
    """``x`` with ``axes`` moved last and flattened into one: shape (*kept, n)."""
    if _array_api_only(x):  # (NumPy's transpose would turn torch's and JAX's arrays into NumPy's)
        lanes, order, kept_shape = lanes_last(_ns(x), x, axes)
        return lanes, order[:len(kept_shape)], kept_shape
    ndim = len(shape_of(x))
    kept = [a for a in range(ndim) if a not in axes]
    kept_shape = tuple(x.shape[a] for a in kept)
    moved = np.transpose(x, kept + list(axes))
    return np.reshape(moved, kept_shape + (-1,)), kept, kept_shape


def _from_end(g, x, axes, kept):
    """Undo :func:`_move_to_end` for a partial ``g`` of shape (*kept, n)."""
    order = kept + list(axes)
    if _array_api_only(g):
        return lanes_back(_ns(g), g, x.shape, order)
    g = np.reshape(g, tuple(x.shape[a] for a in order))
    return np.transpose(g, inverse_permutation(order))


def prod_partial(dy, x, axis, keepdims):
    """The partial of ``prod(x, axis)``: each element gets the product of the others (zeros included).

    Exclusive products from the left and from the right avoid dividing by ``x``, so inputs with one or
    many zeros get exact partials rather than NaN.
    """
    if type(x) in _PY_SCALARS or x.ndim == 0:
        return dy + 0 * x
    axes = _axes(axis, x.ndim)
    if _array_api_only(x):
        return expand_reduced(dy, x, axis, keepdims) * _products_of_the_others(x, axes)
    lanes, kept, _ = _move_to_end(x, axes)
    ones = _ns(lanes).ones(lanes.shape[:-1] + (1,), dtype=lanes.dtype)  # (in the array's own library)
    left = np.cumprod(np.concatenate([ones, lanes[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, lanes[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = _from_end(left * right, x, axes, kept)
    return expand_reduced(dy, x, axis, keepdims) * others


def _products_of_the_others(x, axes):
    """prod_partial's exclusive products, in ``x``'s own namespace: the lanes along ``axes`` moved last,
    products from the left and from the right (flips for NumPy's negative steps), moved back."""
    xp = _ns(x)
    lanes, order, kept_shape = lanes_last(xp, x, axes)
    ones = xp.ones(kept_shape + (1,), dtype=lanes.dtype, device=_device(x))
    left = xp.cumulative_prod(xp.concat([ones, lanes[..., :-1]], axis=-1), axis=-1)
    right = xp.cumulative_prod(xp.concat([ones, xp.flip(lanes[..., 1:], axis=-1)], axis=-1), axis=-1)
    return lanes_back(xp, left * xp.flip(right, axis=-1), x.shape, order)


def var_partial(dy, x, axis, ddof, keepdims):
    """The partial of ``var(x, axis, ddof)``: 2 (x - mean) / (N - ddof)."""
    if type(x) in _PY_SCALARS:
        return 0.0 * dy
    xp = _ns(x)
    centred = x - xp.mean(x, axis=axis, keepdims=True)
    return expand_reduced(dy, x, axis, keepdims) * (2 * centred / (reduced_count(x, axis) - ddof))


def std_partial(dy, x, y, axis, ddof, keepdims):
    """The partial of ``std``: (x - mean) / ((N - ddof) std); 0 where std is 0 (a constant lane)."""
    if type(x) in _PY_SCALARS:
        return 0.0 * dy
    xp = _ns(x)
    centred = x - xp.mean(x, axis=axis, keepdims=True)
    scale = safe_divide(expand_reduced(dy, x, axis, keepdims), expand_reduced(y, x, axis, keepdims))
    return scale * centred / (reduced_count(x, axis) - ddof)


def extreme_partial(dy, x, y, axis, keepdims):
    """The partial of max/min over ``axis``: tied extremes share the cotangent equally."""
    if type(x) in _PY_SCALARS:
        return dy
    xp = _ns(x)
    y_full = expand_reduced(y, x, axis, keepdims)
    hits = indicator(x == y_full, x)
    count = xp.sum(hits, axis=axis, keepdims=True)
    return hits * (expand_reduced(dy, x, axis, keepdims) / count)


def ptp_partial(dy, x, axis, keepdims):
    """The partial of ``ptp = max - min``: each side's ties share (a constant lane gets 0)."""
    xp = _ns(x)
    hi = xp.max(x, axis=axis, keepdims=keepdims)
    lo = xp.min(x, axis=axis, keepdims=keepdims)
    return extreme_partial(dy, x, hi, axis, keepdims) - extreme_partial(dy, x, lo, axis, keepdims)


def average_partials(dy, a, weights, y, axis, keepdims):
    """The partials of ``np.average(a, axis, weights)`` for ``a`` and ``weights``."""
    if weights is None:
        return expand_reduced(dy, a, axis, keepdims) / reduced_count(a, axis), None
    a_arr = as_array(a)  # (Dask's and CuPy's arrays stay themselves: NumPy's reshape, sum... run on them)
    w = as_array(weights)
    w_full = w
    if w.shape != a_arr.shape:  # 1-D weights along a single axis
        shape = [1] * a_arr.ndim
        shape[int(axis) % a_arr.ndim] = w.shape[0]
        w_full = np.reshape(w, shape)
    total = np.sum(np.broadcast_to(w_full, a_arr.shape), axis=axis, keepdims=True)
    g = expand_reduced(dy, a_arr, axis, keepdims) / total
    da = g * w_full
    dw = unbroadcast(g * (a_arr - expand_reduced(y, a_arr, axis, keepdims)), w_full)
    return da, np.reshape(dw, w.shape)


def _cum_axis(x, axis):
    """(lanes with the cumulative axis last, how to put a partial back)."""
    if axis is None:
        flat = np.reshape(x, (-1,))
        return flat, lambda g: np.reshape(g, shape_of(x))
    axis = int(axis) % x.ndim
    moved = np.moveaxis(x, axis, -1)
    return moved, lambda g: np.moveaxis(g, -1, axis)


def cumsum_partial(dy, x, axis):
    """The partial of ``cumsum(x, axis)``: a cumulative sum of the cotangent from the other end."""
    if type(x) in _PY_SCALARS or np.ndim(x) == 0:
        return np.reshape(dy, shape_of(x)) if hasattr(dy, "shape") else dy
    if _array_api_only(x):  # (the sum from the other end: flips, as the standard has no negative steps)
        xp = _ns(x)
        g, ax = (xp.reshape(dy, (-1,)), 0) if axis is None else (dy, int(axis) % x.ndim)
        return xp.reshape(xp.flip(xp.cumulative_sum(xp.flip(g, axis=ax), axis=ax), axis=ax), tuple(x.shape))
    _, back = _cum_axis(as_array(x), axis)
    gs, _ = _cum_axis(as_array(dy), axis)
    return back(np.cumsum(gs[..., ::-1], axis=-1)[..., ::-1])


def cumprod_partial(dy, x, y, axis):
    """The partial of ``cumprod(x, axis)``, exact with zeros in ``x``.

    d y_j / d x_i = prod_{k <= j, k != i} x_k for j >= i. Without zeros that sums to a reversed cumulative
    sum of dy * y divided by x; with a zero in the input each element's products are formed directly
    (quadratic in the lane length), never by dividing by zero.
    """
    if type(x) in _PY_SCALARS or np.ndim(x) == 0:
        return np.reshape(dy, shape_of(x)) if hasattr(dy, "shape") else dy
    xs, back = _cum_axis(as_array(x), axis)
    ys, _ = _cum_axis(as_array(y), axis)
    gs, _ = _cum_axis(as_array(dy), axis)
    if not np.any(xs == 0):
        g = np.cumsum((gs * ys)[..., ::-1], axis=-1)[..., ::-1] / xs
    else:
        n = xs.shape[-1]
        ones = _ns(xs).ones(xs.shape[:-1] + (1,), dtype=xs.dtype)
        left = np.cumprod(np.concatenate([ones, xs[..., :-1]], axis=-1), axis=-1)
        g = _ns(xs).empty(xs.shape, dtype=_float_dtype(x))
        for i in range(n):
            tail = np.sum(gs[..., i + 1:] * np.cumprod(xs[..., i + 1:], axis=-1), axis=-1)
            g[..., i] = left[..., i] * (gs[..., i] + tail)
    return back(g)


def median_partial(dy, x, axis, keepdims):
    """The partial of ``median``: the middle value gets the cotangent (half each to the two middle values
    of an even count); values tied with a middle value share its part equally, as max does."""
    if type(x) in _PY_SCALARS or np.ndim(x) == 0:
        return dy
    axes = _axes(axis, x.ndim)
    lanes, kept, _ = _move_to_end(x, axes)
    n = lanes.shape[-1]
    xp = _ns(lanes) if _array_api_only(lanes) else np  # (NumPy's sort hands Dask's and CuPy's arrays on)
    ordered = xp.sort(lanes, axis=-1)
    lo = ordered[..., (n - 1) // 2][..., None]
    hi = ordered[..., n // 2][..., None]
    at_lo = indicator(lanes == lo, lanes)
    at_hi = indicator(lanes == hi, lanes)
    weights = 0.5 * at_lo / xp.sum(at_lo, axis=-1, keepdims=True) + 0.5 * at_hi / xp.sum(at_hi, axis=-1, keepdims=True)
    return expand_reduced(dy, x, axis, keepdims) * _from_end(weights, x, axes, kept)


def nanmean_partial(dy, x, axis, keepdims):
    """The partial of ``nanmean``: 1 / (number of non-NaN entries) for each non-NaN entry, 0 for NaN."""
    present = np.where(np.isnan(x), 0.0, 1.0)
    count = np.sum(present, axis=axis, keepdims=True)
    return expand_reduced(dy, x, axis, keepdims) * present / count


def trace_partial(dy, x, offset, axis1, axis2):
    """The partial of ``trace(x, offset, axis1, axis2)``: the cotangent spread along that diagonal."""
    x = as_array(x)
    axis1, axis2 = axis1 % x.ndim, axis2 % x.ndim
    rows, columns, dtype = x.shape[axis1], x.shape[axis2], _float_dtype(x)
    if type(x) is np.ndarray:
        eye = np.eye(rows, columns, k=offset, dtype=dtype)
    else:  # (built from aranges: Dask's eye of a non-square shape loses a chunk)
        xp = _ns(x)
        eye = xp.astype(_on_the_diagonal(xp, rows, columns, offset), dtype)
    rest = [a for a in range(x.ndim) if a not in (axis1, axis2)]
    g = cotangent_array(dy, x)[..., None, None] * eye  # (*rest, n, m)
    order = rest + [axis1, axis2]
    return np.transpose(g, inverse_permutation(order))


def diagonal_partial(dy, x, offset, axis1, axis2):
    """The partial of ``diagonal(x, offset, axis1, axis2)``: the cotangent written back on that diagonal."""
    x = as_array(x)
    axis1, axis2 = axis1 % x.ndim, axis2 % x.ndim
    rest = [a for a in range(x.ndim) if a not in (axis1, axis2)]
    order = rest + [axis1, axis2]
    shape = tuple(x.shape[a] for a in order)
    if dispatches_numpy(dy) or dispatches_numpy(x):
        g = _on_diagonal(in_library_of(dy, x), shape, offset, _float_dtype(x))
    else:
        g = np.zeros(shape, dtype=_float_dtype(x))
        k = np.asarray(dy).shape[-1]
        i = np.arange(k) + max(-offset, 0)
        j = np.arange(k) + max(offset, 0)
        g[..., i, j] = dy
    return np.transpose(g, inverse_permutation(order))


def _on_diagonal(dy, shape, offset, dtype):
    """An array of ``shape`` (*rest, n, m) holding ``dy`` (*rest, k) on the diagonal ``offset`` and 0 elsewhere,
    built without writing into an array (Dask's and CuPy's arrays, where NumPy's path scatters): ``dy``
    padded with zeros to one entry per row, then kept where a row meets the diagonal."""
    xp = _ns(dy)
    *rest, n, m = shape
    k = dy.shape[-1]
    before = min(max(-offset, 0), n)  # rows above the diagonal's first (all of them: no diagonal, k = 0)
    rows = xp.concat([xp.zeros((*rest, before), dtype=dy.dtype), dy,
                      xp.zeros((*rest, n - k - before), dtype=dy.dtype)], axis=-1)
    on = _on_the_diagonal(xp, n, m, offset)
    return xp.astype(xp.where(on, rows[..., :, None], xp.zeros((), dtype=dy.dtype)), dtype)


def _on_the_diagonal(xp, rows: int, columns: int, offset: int):
    """A (rows, columns) boolean array of ``xp``'s, True on the diagonal ``offset``: an identity made
    without ``eye`` or writes (Dask's eye of a non-square shape loses a chunk; Dask and CuPy keep it lazy)."""
    return xp.arange(rows)[:, None] + offset == xp.arange(columns)[None, :]


# ---- shape ------------------------------------------------------------------------------------------

def tile_partial(dy, x, reps):
    """The partial of ``np.tile(x, reps)``: sum the cotangent over the copies."""
    x_shape = shape_of(x)
    reps = (reps,) if isinstance(reps, numbers.Integral) else tuple(reps)
    nd = max(len(x_shape), len(reps))
    shape = (1,) * (nd - len(x_shape)) + tuple(x_shape)
    reps = (1,) * (nd - len(reps)) + reps
    inter = []
    for r, s in zip(reps, shape, strict=True):
        inter += [r, s]
    g = np.reshape(dy, inter)
    g = np.sum(g, axis=tuple(range(0, 2 * nd, 2)))
    return np.reshape(g, x_shape)


def repeat_partial(dy, x, repeats, axis):
    """The partial of ``np.repeat(x, repeats, axis)``: each copy adds back into its source element."""
    if (dispatches_numpy(dy) or dispatches_numpy(x)) and type(x) not in _PY_SCALARS:
        return _repeat_partial_without_scatter_into_numpy(in_library_of(dy, x), x, repeats, axis)
    x_arr = np.asarray(x)
    src = x_arr if axis is not None else np.reshape(x_arr, (-1,))
    ax = 0 if axis is None else int(axis) % x_arr.ndim
    n = src.shape[ax]
    index = np.repeat(np.arange(n), repeats)
    g = np.zeros(np.moveaxis(src, ax, 0).shape, dtype=_float_dtype(x_arr))
    np.add.at(g, index, np.moveaxis(np.asarray(dy), ax, 0))
    g = np.moveaxis(g, 0, ax)
    return np.reshape(g, shape_of(x)) if type(x) not in _PY_SCALARS else float(np.sum(g))


def _repeat_partial_without_scatter_into_numpy(dy, x, repeats, axis):
    """``repeat_partial`` for a cotangent NumPy's functions hand to its own library (Dask's, CuPy's), where
    ``np.add.at`` into NumPy zeros would compute it: one repeat count sums each run of copies (a reshape);
    a count per element scatters through the library's own scatter-add (``backend.take_add``)."""
    from ..backend import take_add

    xp = _ns(dy)
    ax = 0 if axis is None else int(axis) % x.ndim
    n = math.prod(x.shape) if axis is None else x.shape[ax]
    g = np.moveaxis(dy, ax, -1)  # (dy is 1-D when axis is None: x's flattened copies)
    if isinstance(repeats, numbers.Integral) and not isinstance(repeats, bool):
        g = xp.sum(xp.reshape(g, (*g.shape[:-1], n, int(repeats))), axis=-1)
    else:
        zeros = xp.zeros((*g.shape[:-1], n), dtype=g.dtype)
        g = take_add(xp, zeros, np.repeat(np.arange(n), repeats), g.ndim - 1, g)
    g = xp.astype(np.moveaxis(g, -1, ax), _float_dtype(x))
    return xp.reshape(g, shape_of(x))


def negated_shift(shift):
    """``-shift`` for an int or a tuple of ints (the inverse of ``np.roll``)."""
    if isinstance(shift, numbers.Integral):
        return -shift
    return tuple(-s for s in shift)


def squeeze_back(dy, x):
    """Reshape a cotangent back to ``x``'s shape (the inverse of squeeze/expand_dims/atleast_nd/ravel)."""
    if type(x) in _PY_SCALARS:
        return dy if type(dy) in _PY_SCALARS else float(np.reshape(dy, ()))
    return _ns(dy).reshape(dy, shape_of(x))


def pad_partial(dy, x, pad_width, mode):
    """The partial of ``np.pad`` for the copying modes (constant, edge, reflect, symmetric, wrap).

    Pad an array of source indices the same way, then add each output's cotangent into its source
    element; constant padding cells have no source and contribute nothing.
    """
    if mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise MissingRuleError(f"np.pad with mode={mode!r} has no rule (the copying modes do)")
    if dispatches_numpy(dy) or dispatches_numpy(x):
        return _pad_partial_in_library(in_library_of(dy, x), x, pad_width, mode)
    x_arr = np.asarray(x)
    index = np.arange(x_arr.size).reshape(x_arr.shape)
    if mode == "constant":
        source = np.pad(index, pad_width, mode="constant", constant_values=-1)
    else:
        source = np.pad(index, pad_width, mode=mode)
    flat_src = source.reshape(-1)
    flat_g = np.asarray(dy).reshape(-1)
    keep = flat_src >= 0
    g = np.bincount(flat_src[keep], weights=flat_g[keep], minlength=x_arr.size)
    return np.reshape(g.astype(_float_dtype(x_arr), copy=False), x_arr.shape)


def _pad_partial_in_library(dy, x, pad_width, mode):
    """``pad_partial`` for a cotangent NumPy's functions hand to its own library (Dask's, CuPy's), where
    ``np.bincount`` would make it NumPy's: the same padded source indices, made in NumPy from x's shape alone;
    constant padding keeps the slice of the cotangent over x (where np.pad put x's first element), the other
    modes add each cell into its source through the library's own scatter-add (``backend.scatter_add``)."""
    from ..backend import scatter_add

    xp = _ns(dy)
    shape = shape_of(x)
    n = math.prod(shape)
    index = np.arange(n).reshape(shape)
    dtype = _float_dtype(x)
    if mode == "constant":
        source = np.pad(index, pad_width, mode="constant", constant_values=-1)
        start = np.argwhere(source == 0)[0] if n else np.zeros(len(shape), dtype=int)
        return xp.astype(dy[tuple(slice(int(b), int(b) + s) for b, s in zip(start, shape, strict=True))], dtype)
    source = xp.asarray(np.pad(index, pad_width, mode=mode).reshape(-1))
    flat = xp.zeros((n,), dtype=dtype)
    return xp.reshape(scatter_add(xp, flat, source, xp.reshape(xp.astype(dy, dtype), (-1,))), shape)


def take_partial(dy, x, indices, axis):
    """The partial of ``take(x, indices, axis)``: scatter-add, so repeated indices add up."""
    if type(x) in _PY_SCALARS:
        return float(np.sum(dy))
    xp = _ns(x)
    if axis is None:
        flat = runtime_zeros_like(xp.reshape(x, (-1,)))
        return xp.reshape(take_partial(dy, flat, indices, 0), tuple(x.shape))
    ax = int(axis) % x.ndim
    if type(x) is np.ndarray:
        return index_add(runtime_zeros_like(x), (slice(None),) * ax + (np.asarray(indices),), dy)
    from ..backend import take_add  # each library's scatter-add (array-api-strict has no index arrays)

    return take_add(xp, runtime_zeros_like(x), indices, ax, dy)


def sort_partial(dy, x, axis):
    """The partial of ``np.sort(x, axis)``: each sorted position's cotangent goes back where it came from."""
    if _array_api_only(x):  # (the inverse permutation of a stable sort, in the array's namespace)
        xp = _ns(x)
        flat, ax = (xp.reshape(x, (-1,)), 0) if axis is None else (x, int(axis) % x.ndim)
        order = xp.argsort(flat, axis=ax, stable=True)
        return xp.reshape(xp.take_along_axis(dy, xp.argsort(order, axis=ax, stable=True), axis=ax), tuple(x.shape))
    x_arr, g = as_array(x), as_array(dy)
    # (CuPy's sorts are stable and take no other kind: it is left unnamed there)
    kind = None if dispatches_numpy(x_arr) else "stable"
    if axis is None:
        order = np.argsort(x_arr, axis=None, kind=kind)
        return np.reshape(g[np.argsort(order, kind=kind)], x_arr.shape)
    order = np.argsort(x_arr, axis=axis, kind=kind)
    return np.take_along_axis(g, np.argsort(order, axis=axis, kind=kind), axis=axis)


def diag_partial(dy, x, k):
    """The partial of ``np.diag(x, k)``: extract the diagonal (x was 1-D) or write it back (x was 2-D)."""
    x_arr = as_array(x)
    if x_arr.ndim == 1:
        return np.diagonal(as_array(dy), offset=k).copy()
    return diagonal_partial(dy, x_arr, k, 0, 1)


def atleast_primal(x, n):
    """``np.atleast_1d/2d/3d`` of one array (their list forms need container support)."""
    return (np.atleast_1d, np.atleast_2d, np.atleast_3d)[n - 1](x)


# ---- lists of arrays (concatenate, stack, split) --------------------------------------------------------

def _promote(a, kind):
    """The array ``kind`` (hstack, vstack...) concatenates in place of ``a``, and the axis it joins on."""
    a_shape = shape_of(a)
    if kind == "vstack":
        return (1,) * (2 - len(a_shape)) + a_shape if len(a_shape) < 2 else a_shape
    if kind == "dstack":
        return {0: (1, 1, 1), 1: (1,) + a_shape + (1,), 2: a_shape + (1,)}.get(len(a_shape), a_shape)
    if kind == "column_stack":
        return a_shape + (1,) if len(a_shape) == 1 else ((1, 1) if not a_shape else a_shape)
    if kind == "hstack":
        return a_shape or (1,)
    return a_shape


def _piece(g, a):
    """A slice of the cotangent reshaped to argument ``a`` (a Python float for a Python number)."""
    if type(a) in _PY_SCALARS:
        return float(np.reshape(np.asarray(g), ()))
    return _ns(g).reshape(g, shape_of(a))


def concatenate_partials(dy, arrays, axis, kind="concatenate"):
    """One partial per array of ``concatenate(arrays, axis)`` (and hstack/vstack/dstack/column_stack):
    the slices of the cotangent each array filled, reshaped back to that array."""
    shapes = [_promote(a, kind) for a in arrays]
    if axis is None:
        flat = _ns(dy).reshape(dy, (-1,))
        sizes = [int(np.prod(s)) for s in shapes]
        starts = np.cumsum([0] + sizes)
        return [_piece(flat[starts[i]:starts[i + 1]], a) for i, a in enumerate(arrays)]
    if kind == "hstack":
        axis = 0 if len(shapes[0]) == 1 else 1
    ndim = len(shapes[0])
    ax = int(axis) % ndim
    starts = np.cumsum([0] + [s[ax] for s in shapes])
    lead = (slice(None),) * ax
    return [_piece(dy[lead + (slice(int(starts[i]), int(starts[i + 1])),)], a) for i, a in enumerate(arrays)]


def stack_partials(dy, arrays, axis):
    """One partial per array of ``stack(arrays, axis)``: the cotangent's slices along the new axis."""
    ax = int(axis) % (len(shape_of(arrays[0])) + 1)
    lead = (slice(None),) * ax
    return [_piece(dy[lead + (i,)], a) for i, a in enumerate(arrays)]


def split_partial(dys, x, axis):
    """The partial of ``split(x, ..., axis)`` given one cotangent per part (None for an unused part)."""
    parts = np.array_split(np.zeros(shape_of(x)), len(dys), axis=axis) if any(d is None for d in dys) else None
    filled = [np.zeros(parts[i].shape, dtype=_float_dtype(x)) if d is None else d for i, d in enumerate(dys)]
    return np.concatenate(filled, axis=axis)


def unstack_like(dy, x):
    """The partial of ``np.array(x)``/``asarray(x)``: reshaped to ``x``, split up again if ``x`` was a list."""
    if type(x) in (list, tuple):
        return [unstack_like(dy[i], part) for i, part in enumerate(x)]
    if type(x) in _PY_SCALARS:
        return float(np.reshape(as_array(dy), ()))
    if dispatches_numpy(x):  # (np.asarray computed the Dask array: its cotangent is NumPy's, or a number)
        dy = in_library_of(dy, x)
    return _ns(dy).reshape(dy, shape_of(x))


def sum_partial(dy, x):
    """The partial of builtin ``sum(x)``: every item of a list, or every row of an array, gets ``dy``."""
    if type(x) in (list, tuple):
        return [unbroadcast(dy, part) for part in x]
    return expand_reduced(dy, x, 0, False)


def list_prod_partial(dy, x):
    """The partial of ``math.prod(x)`` over a list of numbers: the product of the others, zeros included."""
    out = []
    for i in range(len(x)):
        others = 1.0
        for j, part in enumerate(x):
            if j != i:
                others = others * part
        out.append(dy * others)
    return out


# ---- Python's list, tuple, reversed and sorted of a list or an array ----------------------------------

def items_partial(dys, x):
    """The partial of ``list(x)`` (``tuple(x)``) given one cotangent per item (None for an unused item):
    for a list or tuple ``x``, those cotangents, as a list; for an array, each row's cotangent in its place
    (the items of a 1-D array are its 0-d entries), zeros where None."""
    if type(x) in (list, tuple):
        return list(dys)
    if not any(d is not None for d in dys):
        return runtime_zeros_like(x)
    # The rows stacked, not written into zeros one by one: a JAX array is copied at each write.
    xp = _ns(x)
    rows = [runtime_zeros_like(x[0]) if d is None else d for d in dys]
    if is_foreign_array(x):  # (a number's cotangent, for a 0-d item: NumPy's stack takes numbers, others not)
        dtype, device = _float_dtype(x), _device(x)
        rows = [xp.asarray(r, dtype=dtype, device=device) if type(r) in _PY_SCALARS else r for r in rows]
    return xp.stack(rows)


def sort_order(x, key=None, reverse=False):
    """The positions of ``x``'s items in the order ``sorted(x, key=key, reverse=reverse)`` lists them. Python's
    sort is stable, also with ``reverse=True``: tied items keep their order in ``x``, so ``[list(x)[i] for i in
    sort_order(x, ...)]`` is ``sorted(x, ...)``, item for item."""
    items = list(x)
    rank = items.__getitem__ if key is None else (lambda i: key(items[i]))
    return sorted(range(len(items)), key=rank, reverse=reverse)


def items_at(x, order):
    """``[list(x)[i] for i in order]``: the items of a list, or the rows of an array, in the order given."""
    items = list(x)
    return [items[i] for i in order]


# ---- gathers along an axis -----------------------------------------------------

def take_along_axis_partial(dy, x, indices, axis):
    """The partial of ``np.take_along_axis``: scatter-add through the same indices (repeats add up)."""
    if dispatches_numpy(dy) or dispatches_numpy(x):
        return _take_along_axis_partial_scattered(in_library_of(dy, x), x, indices, axis)
    x_arr = np.asarray(x)
    g = np.zeros(x_arr.shape, dtype=_float_dtype(x_arr))
    if axis is None:
        np.add.at(g.reshape(-1), np.asarray(indices), dy)
        return g
    ax = int(axis) % x_arr.ndim
    grids = list(np.indices(np.shape(indices), sparse=True))
    grids[ax] = np.asarray(indices)
    np.add.at(g, tuple(grids), dy)
    return g


def _take_along_axis_partial_scattered(dy, x, indices, axis):
    """``take_along_axis_partial`` for a cotangent NumPy's functions hand to its own library (Dask's, CuPy's),
    which has no ``np.add.at``: the flat position of each gathered element (``take_along_axis`` of an arange,
    in NumPy for NumPy's indices), then the library's own flat scatter-add (``backend.scatter_add``)."""
    from ..backend import scatter_add

    xp = _ns(dy)
    shape = tuple(x.shape)
    positions = xp.reshape(_gathered_positions(xp, shape, indices, axis), (-1,))
    flat = xp.zeros((math.prod(shape),), dtype=_float_dtype(x))
    return xp.reshape(scatter_add(xp, flat, positions, xp.reshape(xp.astype(dy, flat.dtype), (-1,))), shape)


def _gathered_positions(xp, shape, indices, axis):
    """The flat position in an array of ``shape`` of each element ``np.take_along_axis(·, indices, axis)``
    gathers, as an array of ``xp`` (take_along_axis of an arange: in NumPy for NumPy's indices)."""
    n = math.prod(shape)
    if axis is None:  # (the array flattened: the indices are flat positions)
        return xp.asarray(indices)
    if dispatches_numpy(indices):
        return xp.asarray(np.take_along_axis(xp.reshape(xp.arange(n), shape), indices, axis))
    return xp.asarray(np.take_along_axis(np.arange(n).reshape(shape), np.asarray(indices), axis))


def take_along_axis_in_library(x, indices, axis):
    """``np.take_along_axis(x, indices, axis)`` for an array NumPy's functions hand to its own library that
    lacks it (Dask's: NumPy's would compute the array): a take of each element's flat position."""
    xp = _ns(x)
    positions = _gathered_positions(xp, tuple(x.shape), indices, axis)
    return xp.reshape(xp.take(xp.reshape(x, (-1,)), xp.reshape(positions, (-1,))), tuple(positions.shape))


def extreme_of_partials(dz, x, y, z, is_max: bool):
    """The partials of builtin ``max(x, y)`` / ``min(x, y)``, or of ``max(x)`` over a list or 1-D array.

    Ties share the cotangent equally, as the NumPy reductions do.
    """
    if y is not None:
        share = where_tie_split(x, y) if is_max else where_tie_split(y, x)
        return unbroadcast(dz * share, x), unbroadcast(dz * (1 - share), y)
    if type(x) in (list, tuple):
        hits = [1.0 if item == z else 0.0 for item in x]
        count = sum(hits)
        return [dz * h / count for h in hits], None
    return extreme_partial(dz, x, z, None, False), None
