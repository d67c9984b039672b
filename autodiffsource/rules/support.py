"""Helpers the rule tables call by name: partials too long to read inline, shared by several rules.

Contract: each helper is a pure function of arrays (NumPy, or any array-API array where the body uses
``array_namespace``), never mutates an argument, and returns a cotangent shaped and typed like the primal
argument it belongs to. Helpers that only NumPy can run (``np.add.at``, ``np.einsum`` views...) say so.
Generated code names these helpers exactly as the rules do, so a reader can look each one up here.
"""

from __future__ import annotations

import numbers
import string

import numpy as np

from ..errors import MissingRuleError
from ..runtime import _xp, expand_reduced, index_add, reduced_count, shape_of, unbroadcast, where_tie_split
from ..runtime import zeros_like as runtime_zeros_like
from ..runtime import is_foreign_array, take_partial_any

_PY_SCALARS = (float, int, bool)


def _ns(*values):
    for v in values:
        if v is not None and type(v) not in _PY_SCALARS:
            return _xp(v)
    return np


def _float_dtype(x):
    dtype = getattr(x, "dtype", None)
    if dtype is None or getattr(dtype, "kind", "f") not in "f":
        return np.float64
    return dtype


def _indicator(condition, like, xp):
    """``condition`` as 1.0/0.0 in ``like``'s float dtype (array-API namespaces refuse where(c, 1.0, 0.0))."""
    dtype = like.dtype if xp.isdtype(like.dtype, "real floating") else xp.float64
    return xp.astype(condition, dtype)


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
    xp = _ns(a, b)
    nonzero = b != 0
    return xp.where(nonzero, a / xp.where(nonzero, b, 1), 0 * a)


# ---- elementwise ------------------------------------------------------------------------------------

def sinc_derivative(x):
    """d/dx sinc(x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0 (sinc is even)."""
    xp = _ns(x)
    nonzero = x != 0
    safe = xp.where(nonzero, x, 1.0)
    return xp.where(nonzero, (xp.cos(np.pi * safe) - np.sinc(safe)) / safe, 0.0)


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
    return _indicator(xp.isfinite(x), x, xp)


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
    ndim = len(shape_of(x))
    kept = [a for a in range(ndim) if a not in axes]
    moved = np.transpose(x, kept + list(axes))
    kept_shape = tuple(x.shape[a] for a in kept)
    return np.reshape(moved, kept_shape + (-1,)), kept, kept_shape


def _from_end(g, x, axes, kept):
    """Undo :func:`_move_to_end` for a partial ``g`` of shape (*kept, n)."""
    order = kept + list(axes)
    g = np.reshape(g, tuple(x.shape[a] for a in order))
    return np.transpose(g, np.argsort(order))


def prod_partial(dy, x, axis, keepdims):
    """The partial of ``prod(x, axis)``: each element gets the product of the others (zeros included).

    Exclusive products from the left and from the right avoid dividing by ``x``, so inputs with one or
    many zeros get exact partials rather than NaN.
    """
    if type(x) in _PY_SCALARS or x.ndim == 0:
        return dy + 0 * x
    axes = _axes(axis, x.ndim)
    lanes, kept, _ = _move_to_end(x, axes)
    ones = np.ones(lanes.shape[:-1] + (1,), dtype=lanes.dtype)
    left = np.cumprod(np.concatenate([ones, lanes[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, lanes[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = _from_end(left * right, x, axes, kept)
    return expand_reduced(dy, x, axis, keepdims) * others


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
    hits = _indicator(x == y_full, x, xp)
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
    a_arr = np.asarray(a)
    w = np.asarray(weights)
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
    _, back = _cum_axis(np.asarray(x), axis)
    gs, _ = _cum_axis(np.asarray(dy), axis)
    return back(np.cumsum(gs[..., ::-1], axis=-1)[..., ::-1])


def cumprod_partial(dy, x, y, axis):
    """The partial of ``cumprod(x, axis)``, exact with zeros in ``x``.

    d y_j / d x_i = prod_{k <= j, k != i} x_k for j >= i. Without zeros that sums to a reversed cumulative
    sum of dy * y divided by x; with a zero in the input each element's products are formed directly
    (quadratic in the lane length), never by dividing by zero.
    """
    if type(x) in _PY_SCALARS or np.ndim(x) == 0:
        return np.reshape(dy, shape_of(x)) if hasattr(dy, "shape") else dy
    xs, back = _cum_axis(np.asarray(x), axis)
    ys, _ = _cum_axis(np.asarray(y), axis)
    gs, _ = _cum_axis(np.asarray(dy), axis)
    if not np.any(xs == 0):
        g = np.cumsum((gs * ys)[..., ::-1], axis=-1)[..., ::-1] / xs
    else:
        n = xs.shape[-1]
        ones = np.ones(xs.shape[:-1] + (1,), dtype=xs.dtype)
        left = np.cumprod(np.concatenate([ones, xs[..., :-1]], axis=-1), axis=-1)
        g = np.empty(xs.shape, dtype=_float_dtype(x))
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
    ordered = np.sort(lanes, axis=-1)
    lo = ordered[..., (n - 1) // 2][..., None]
    hi = ordered[..., n // 2][..., None]
    at_lo = lanes == lo
    at_hi = lanes == hi
    weights = 0.5 * at_lo / np.sum(at_lo, axis=-1, keepdims=True) + 0.5 * at_hi / np.sum(at_hi, axis=-1, keepdims=True)
    return expand_reduced(dy, x, axis, keepdims) * _from_end(weights, x, axes, kept)


def nanmean_partial(dy, x, axis, keepdims):
    """The partial of ``nanmean``: 1 / (number of non-NaN entries) for each non-NaN entry, 0 for NaN."""
    present = np.where(np.isnan(x), 0.0, 1.0)
    count = np.sum(present, axis=axis, keepdims=True)
    return expand_reduced(dy, x, axis, keepdims) * present / count


def trace_partial(dy, x, offset, axis1, axis2):
    """The partial of ``trace(x, offset, axis1, axis2)``: the cotangent spread along that diagonal."""
    x = np.asarray(x)
    axis1, axis2 = axis1 % x.ndim, axis2 % x.ndim
    eye = np.eye(x.shape[axis1], x.shape[axis2], k=offset, dtype=_float_dtype(x))
    rest = [a for a in range(x.ndim) if a not in (axis1, axis2)]
    g = np.asarray(dy)[..., None, None] * eye  # (*rest, n, m)
    order = rest + [axis1, axis2]
    return np.transpose(g, np.argsort(order))


def diagonal_partial(dy, x, offset, axis1, axis2):
    """The partial of ``diagonal(x, offset, axis1, axis2)``: the cotangent written back on that diagonal."""
    x = np.asarray(x)
    axis1, axis2 = axis1 % x.ndim, axis2 % x.ndim
    rest = [a for a in range(x.ndim) if a not in (axis1, axis2)]
    order = rest + [axis1, axis2]
    shape = tuple(x.shape[a] for a in order)
    g = np.zeros(shape, dtype=_float_dtype(x))
    k = np.asarray(dy).shape[-1]
    i = np.arange(k) + max(-offset, 0)
    j = np.arange(k) + max(offset, 0)
    g[..., i, j] = dy
    return np.transpose(g, np.argsort(order))


# ---- norms ------------------------------------------------------------------------------------------

def norm_partial(dy, x, y, ord, axis, keepdims):
    """The partial of ``np.linalg.norm(x, ord, axis, keepdims)`` for vector and matrix norms.

    Kinks get subgradients: 0 at the zero vector, ties of inf/1-norms share equally.
    """
    x = np.asarray(x)
    if axis is None and (ord is None or x.ndim == 1) or isinstance(axis, numbers.Integral) \
            or (axis is not None and len(axis) == 1):
        if ord is None and axis is None:
            axes = tuple(range(x.ndim))
        else:
            axes = _axes(axis if axis is not None else 0, x.ndim)
        return _vector_norm_partial(dy, x, y, 2 if ord is None else ord, axes, keepdims, axis)
    axes = (0, 1) if axis is None else tuple(a % x.ndim for a in axis)
    return _matrix_norm_partial(dy, x, y, ord, axes, keepdims)


def _vector_norm_partial(dy, x, y, ord, axes, keepdims, axis):
    red = None if axis is None else axes
    g = expand_reduced(dy, x, red, keepdims)
    yf = expand_reduced(y, x, red, keepdims)
    sign = np.sign(x)
    ax = x if red is None else x
    if ord == 2:
        return g * safe_divide(x, yf)
    if ord == 1:
        return g * sign
    if ord in (np.inf, -np.inf):
        hits = np.where(np.abs(ax) == yf, 1.0, 0.0)
        count = np.sum(hits, axis=red, keepdims=True)
        return g * sign * hits / count
    if ord == 0:
        return np.zeros_like(x, dtype=_float_dtype(x))
    p = float(ord)
    return g * sign * safe_divide(np.abs(x) ** (p - 1), yf ** (p - 1))


def _matrix_norm_partial(dy, x, y, ord, axes, keepdims):
    a0, a1 = axes
    m = np.moveaxis(x, (a0, a1), (-2, -1))
    dyv = np.asarray(dy)
    if keepdims:
        dyv = np.squeeze(np.moveaxis(dyv, (a0, a1), (-2, -1)), axis=(-2, -1))
        yv = np.squeeze(np.moveaxis(np.asarray(y), (a0, a1), (-2, -1)), axis=(-2, -1))
    else:
        yv = np.asarray(y)
    gs = dyv[..., None, None]
    if ord in (None, "fro"):
        g = gs * safe_divide(m, yv[..., None, None])
    elif ord == "nuc":
        u, _, vh = np.linalg.svd(m, full_matrices=False)
        g = gs * (u @ vh)
    elif ord in (2, -2):
        u, _, vh = np.linalg.svd(m, full_matrices=False)
        k = 0 if ord == 2 else -1
        g = gs * (u[..., :, k][..., :, None] * vh[..., k, :][..., None, :])
    elif ord in (1, -1, np.inf, -np.inf):
        along = -2 if ord in (1, -1) else -1  # 1-norm: max column sum; inf-norm: max row sum
        sums = np.sum(np.abs(m), axis=along, keepdims=True)
        target = np.max(sums, axis=-1 if along == -2 else -2, keepdims=True) if ord in (1, np.inf) \
            else np.min(sums, axis=-1 if along == -2 else -2, keepdims=True)
        hits = np.where(sums == target, 1.0, 0.0)
        hits = hits / np.sum(hits, axis=(-2, -1), keepdims=True)
        g = gs * np.sign(m) * hits
    else:
        raise MissingRuleError(f"np.linalg.norm with matrix ord={ord!r} has no rule")
    return np.moveaxis(g, (-2, -1), (a0, a1))


# ---- products ---------------------------------------------------------------------------------------

def vdot_partial(dz, other, x):
    """The partial of ``vdot(x, other)`` (flattened dot) for ``x``."""
    return np.reshape(dz * np.reshape(other, (-1,)), shape_of(x))


def inner_partials(dz, a, b):
    """The partials of ``np.inner(a, b)`` (a sum over the last axes of both)."""
    a_, b_ = np.asarray(a), np.asarray(b)
    if a_.ndim == 0 or b_.ndim == 0:
        return unbroadcast(dz * b, a), unbroadcast(dz * a, b)
    na, nb = a_.ndim - 1, b_.ndim - 1
    dz = np.asarray(dz)
    da = np.tensordot(dz, b_, axes=(list(range(na, na + nb)), list(range(nb))))
    db = np.tensordot(dz, a_, axes=(list(range(na)), list(range(na))))
    return da, db


def outer_partials(dz, a, b):
    """The partials of ``np.outer(a, b)`` (both flattened first)."""
    af, bf = np.reshape(a, (-1,)), np.reshape(b, (-1,))
    return np.reshape(dz @ bf, shape_of(a)), np.reshape(af @ dz, shape_of(b))


def _tensordot_axes(axes, na: int, nb: int):
    if isinstance(axes, numbers.Integral):
        return list(range(na - axes, na)), list(range(axes))
    xa, xb = axes
    xa = [xa] if isinstance(xa, numbers.Integral) else list(xa)
    xb = [xb] if isinstance(xb, numbers.Integral) else list(xb)
    return [a % na for a in xa], [b % nb for b in xb]


def tensordot_partials(dz, a, b, axes):
    """The partials of ``np.tensordot(a, b, axes)``: contract the cotangent with the other operand."""
    a, b, dz = np.asarray(a), np.asarray(b), np.asarray(dz)
    xa, xb = _tensordot_axes(axes, a.ndim, b.ndim)
    free_a = [i for i in range(a.ndim) if i not in xa]
    free_b = [i for i in range(b.ndim) if i not in xb]
    nfa = len(free_a)
    # dz has axes (free_a..., free_b...). da over (free_a..., xa...) in that order, then put back.
    da = np.tensordot(dz, b, axes=(list(range(nfa, dz.ndim)), free_b))  # (free_a..., xb order of b's rest)
    # the remaining b axes come out in increasing order of b's axes that are contracted: sort to xa order
    rest_b = sorted(xb)
    da_axes = free_a + [xa[xb.index(r)] for r in rest_b]
    da = np.transpose(da, np.argsort(da_axes))
    db = np.tensordot(a, dz, axes=(free_a, list(range(nfa))))  # (a's contracted axes sorted..., free_b...)
    rest_a = sorted(xa)
    db_axes = [xb[xa.index(r)] for r in rest_a] + free_b
    db = np.transpose(db, np.argsort(db_axes))
    return da, db


def kron_partials(dz, a, b):
    """The partials of ``np.kron(a, b)``: view the cotangent as (a0, b0, a1, b1, ...) and contract."""
    a, b, dz = np.asarray(a), np.asarray(b), np.asarray(dz)
    nd = max(a.ndim, b.ndim)
    a_ = np.reshape(a, (1,) * (nd - a.ndim) + a.shape)
    b_ = np.reshape(b, (1,) * (nd - b.ndim) + b.shape)
    inter = []
    for sa, sb in zip(a_.shape, b_.shape, strict=True):
        inter += [sa, sb]
    g = np.reshape(dz, inter)
    letters = string.ascii_letters
    a_sub = "".join(letters[2 * i] for i in range(nd))
    b_sub = "".join(letters[2 * i + 1] for i in range(nd))
    g_sub = "".join(letters[i] for i in range(2 * nd))
    da = np.einsum(f"{g_sub},{b_sub}->{a_sub}", g, b_)
    db = np.einsum(f"{g_sub},{a_sub}->{b_sub}", g, a_)
    return np.reshape(da, a.shape), np.reshape(db, b.shape)


def cross_partials(dz, a, b, axis):
    """The partials of ``np.cross(a, b, axis=axis)`` for 3-vectors: b x dz and dz x a."""
    da = np.cross(b, dz, axis=axis)
    db = np.cross(dz, a, axis=axis)
    return unbroadcast(da, a), unbroadcast(db, b)


# ---- einsum -----------------------------------------------------------------------------------------

def _einsum_explicit(subscripts: str, ndims: list[int]):
    """``(input specs, output spec)`` with ``...`` replaced by letters and the output made explicit."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        lhs, out = subscripts.split("->")
    else:
        lhs, out = subscripts, None
    specs = lhs.split(",")
    if len(specs) != len(ndims):
        raise ValueError(f"einsum: {len(specs)} operand specs for {len(ndims)} operands")
    used = set(subscripts)
    spare = [c for c in string.ascii_letters if c not in used]
    n_ell = max([nd - (len(s) - 3) for s, nd in zip(specs, ndims) if "..." in s] or [0])
    ell = "".join(spare[:n_ell])
    expanded = []
    for s, nd in zip(specs, ndims):
        if "..." in s:
            k = nd - (len(s) - 3)
            s = s.replace("...", ell[n_ell - k:])
        expanded.append(s)
    if out is None:
        counts = {}
        for s in expanded:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return expanded, out


def einsum_primal(subscripts, a, b=None, c=None, d=None):
    """``np.einsum(subscripts, *operands)`` for up to four operands (the rule's fixed signature)."""
    operands = [o for o in (a, b, c, d) if o is not None]
    return np.einsum(subscripts, *operands)


def einsum_partial(dz, subscripts, k, a, b=None, c=None, d=None):
    """The partial of ``einsum`` for operand ``k``: contract the cotangent with the other operands.

    Letters of operand ``k`` that appear nowhere else are broadcast back (``'ij->i'`` sums over j), and a
    letter repeated within operand ``k`` (``'ii->'``, a trace) puts the partial on that diagonal.
    """
    operands = [np.asarray(o) for o in (a, b, c, d) if o is not None]
    x = operands[k]
    specs, out = _einsum_explicit(subscripts, [o.ndim for o in operands])
    target = specs[k]
    others = [s for i, s in enumerate(specs) if i != k]
    available = set(out) | set("".join(others))
    unique = "".join(dict.fromkeys(target))
    reachable = "".join(ch for ch in unique if ch in available)
    other_ops = [o for i, o in enumerate(operands) if i != k]
    g = np.einsum(",".join([out] + others) + "->" + reachable, np.asarray(dz), *other_ops)
    sizes = {ch: x.shape[target.index(ch)] for ch in unique}
    # broadcast over letters only operand k has (summed inside it)
    expand = [ch for ch in unique if ch not in available]
    if expand:
        g = np.reshape(g, g.shape + (1,) * len(expand))
        g = np.broadcast_to(g, g.shape[: len(reachable)] + tuple(sizes[ch] for ch in expand))
    current = reachable + "".join(expand)
    result = np.zeros(x.shape, dtype=_float_dtype(x))
    view = np.einsum(target + "->" + current, result)  # a writable view (the diagonal for repeats)
    view[...] = g
    return result


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
    x_arr = np.asarray(x)
    src = x_arr if axis is not None else np.reshape(x_arr, (-1,))
    ax = 0 if axis is None else int(axis) % x_arr.ndim
    n = src.shape[ax]
    index = np.repeat(np.arange(n), repeats)
    g = np.zeros(np.moveaxis(src, ax, 0).shape, dtype=_float_dtype(x_arr))
    np.add.at(g, index, np.moveaxis(np.asarray(dy), ax, 0))
    g = np.moveaxis(g, 0, ax)
    return np.reshape(g, shape_of(x)) if type(x) not in _PY_SCALARS else float(np.sum(g))


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


def take_primal(x, indices, axis):
    """``take(x, indices, axis)`` in ``x``'s own library (NumPy's np.take would call jax's .take(mode='raise'))."""
    if type(x) is np.ndarray or type(x) in _PY_SCALARS or isinstance(x, np.generic):
        return np.take(x, indices, axis=axis)
    xp = _xp(x)
    if axis is None:
        return xp.take(xp.reshape(x, (-1,)), indices, axis=0)
    return xp.take(x, indices, axis=axis)


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
    x_arr = np.asarray(x)
    if axis is None:
        order = np.argsort(x_arr, axis=None, kind="stable")
        g = np.zeros(x_arr.size, dtype=_float_dtype(x_arr))
        g[order] = np.asarray(dy)
        return g.reshape(x_arr.shape)
    order = np.argsort(x_arr, axis=axis, kind="stable")
    g = np.zeros(x_arr.shape, dtype=_float_dtype(x_arr))
    np.put_along_axis(g, order, np.asarray(dy), axis=axis)
    return g


def diag_partial(dy, x, k):
    """The partial of ``np.diag(x, k)``: extract the diagonal (x was 1-D) or write it back (x was 2-D)."""
    x_arr = np.asarray(x)
    if x_arr.ndim == 1:
        return np.diagonal(np.asarray(dy), offset=k).copy()
    return diagonal_partial(dy, x_arr, k, 0, 1)


def atleast_primal(x, n):
    """``np.atleast_1d/2d/3d`` of one array (their list forms need container support)."""
    return (np.atleast_1d, np.atleast_2d, np.atleast_3d)[n - 1](x)
