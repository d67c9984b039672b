"""Helpers for the product and norm rules: tensordot, einsum, kron, cross, inner/outer, vector and matrix norms.

Contract as in ``support``: pure functions, partials shaped like the primal arguments. NumPy only (einsum's
writable diagonal views, np.tensordot); the array-API rules for matmul live in ``runtime``.
"""

from __future__ import annotations

import numbers
import string

import numpy as np

from ..errors import MissingRuleError
from ..runtime import _device, as_array, dispatches_numpy, expand_reduced, inverse_permutation, shape_of, unbroadcast
from .support import (_array_api_only, _axes, _float_dtype, _ns, _on_the_diagonal, cotangent_array, in_library_of,
                      safe_divide)


# ---- norms ------------------------------------------------------------------------------------------

def norm_partial(dy, x, y, ord, axis, keepdims):
    """The partial of ``np.linalg.norm(x, ord, axis, keepdims)`` for vector and matrix norms.

    Kinks get subgradients: 0 at the zero vector, ties of inf/1-norms share equally.
    """
    x = as_array(x)
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
    dyv = cotangent_array(dy, m)
    if keepdims:
        dyv = np.squeeze(np.moveaxis(dyv, (a0, a1), (-2, -1)), axis=(-2, -1))
        yv = np.squeeze(np.moveaxis(as_array(y), (a0, a1), (-2, -1)), axis=(-2, -1))
    else:
        yv = as_array(y)
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
    a_, b_ = as_array(a), as_array(b)
    if a_.ndim == 0 or b_.ndim == 0:
        return unbroadcast(dz * b, a), unbroadcast(dz * a, b)
    na, nb = a_.ndim - 1, b_.ndim - 1
    dz = cotangent_array(dz, a_, b_)
    da = _tensordot(dz, b_, list(range(na, na + nb)), list(range(nb)))
    db = _tensordot(dz, a_, list(range(na)), list(range(na)))
    return da, db


def _tensordot(p, q, p_axes: list, q_axes: list):
    """``np.tensordot(p, q, axes=(p_axes, q_axes))``; a plain product where nothing is contracted and one is
    0-d (the cotangent of a full contraction): CuPy refuses a 0-d operand with axes lists, empty ones too."""
    if not p_axes and (np.ndim(p) == 0 or np.ndim(q) == 0):
        return p * q
    return np.tensordot(p, q, axes=(p_axes, q_axes))


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
    a, b = as_array(a), as_array(b)
    dz = cotangent_array(dz, a, b)
    xa, xb = _tensordot_axes(axes, a.ndim, b.ndim)
    free_a = [i for i in range(a.ndim) if i not in xa]
    free_b = [i for i in range(b.ndim) if i not in xb]
    nfa = len(free_a)
    # dz has axes (free_a..., free_b...). da over (free_a..., xa...) in that order, then put back.
    da = _tensordot(dz, b, list(range(nfa, dz.ndim)), free_b)  # (free_a..., xb order of b's rest)
    # the remaining b axes come out in increasing order of b's axes that are contracted: sort to xa order
    rest_b = sorted(xb)
    da_axes = free_a + [xa[xb.index(r)] for r in rest_b]
    da = np.transpose(da, inverse_permutation(da_axes))
    db = _tensordot(a, dz, free_a, list(range(nfa)))  # (a's contracted axes sorted..., free_b...)
    rest_a = sorted(xa)
    db_axes = [xb[xa.index(r)] for r in rest_a] + free_b
    db = np.transpose(db, inverse_permutation(db_axes))
    return da, db


def kron_partials(dz, a, b):
    """The partials of ``np.kron(a, b)``: view the cotangent as (a0, b0, a1, b1, ...) and contract."""
    a, b = as_array(a), as_array(b)
    dz = in_library_of(as_array(dz), a, b)
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
    if dispatches_numpy(dz) or dispatches_numpy(a) or dispatches_numpy(b):
        dz = in_library_of(dz, a, b)
        da, db = _cross(b, dz, axis), _cross(dz, a, axis)
    else:
        da = np.cross(b, dz, axis=axis)
        db = np.cross(dz, a, axis=axis)
    return unbroadcast(da, a), unbroadcast(db, b)


def _cross(u, v, axis):
    """``np.cross(u, v, axis=axis)`` of 3-vectors from their components, for arrays NumPy's functions hand to
    their own library (Dask has no cross: NumPy's would compute the Dask arrays)."""
    u, v = np.moveaxis(u, axis, -1), np.moveaxis(v, axis, -1)
    u0, u1, u2 = u[..., 0], u[..., 1], u[..., 2]
    v0, v1, v2 = v[..., 0], v[..., 1], v[..., 2]
    w = np.stack([u1 * v2 - u2 * v1, u2 * v0 - u0 * v2, u0 * v1 - u1 * v0], axis=-1)
    return np.moveaxis(w, -1, axis)


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
    operands = [as_array(o) for o in (a, b, c, d) if o is not None]
    if not any(dispatches_numpy(o) for o in operands):
        operands = [np.asarray(o) for o in operands]  # (NumPy's path, as before)
        dz = np.asarray(dz)
    else:
        dz = in_library_of(as_array(dz), *operands)
    x = operands[k]
    specs, out = _einsum_explicit(subscripts, [o.ndim for o in operands])
    target = specs[k]
    others = [s for i, s in enumerate(specs) if i != k]
    available = set(out) | set("".join(others))
    unique = "".join(dict.fromkeys(target))
    reachable = "".join(ch for ch in unique if ch in available)
    other_ops = [o for i, o in enumerate(operands) if i != k]
    g = np.einsum(",".join([out] + others) + "->" + reachable, dz, *other_ops)
    sizes = {ch: x.shape[target.index(ch)] for ch in unique}
    # broadcast over letters only operand k has (summed inside it)
    expand = [ch for ch in unique if ch not in available]
    if expand:
        g = np.reshape(g, g.shape + (1,) * len(expand))
        g = np.broadcast_to(g, g.shape[: len(reachable)] + tuple(sizes[ch] for ch in expand))
    current = reachable + "".join(expand)
    if dispatches_numpy(g):
        # (Dask's and CuPy's arrays: no write into a view of NumPy zeros. g's axes in the order the letters
        # first appear in operand k; a repeated letter's diagonal is then kept by a mask)
        g = np.transpose(g, tuple(current.index(ch) for ch in unique))
        if len(unique) < len(target):
            g = _on_repeated_letters(g, target)
        return _ns(g).astype(g, _float_dtype(x))
    result = np.zeros(x.shape, dtype=_float_dtype(x))
    view = np.einsum(target + "->" + current, result)  # a writable view (the diagonal for repeats)
    view[...] = g
    return result


def _on_repeated_letters(g, target: str):
    """``g``, one axis per distinct letter of ``target`` in the order they first appear there, as an array with
    one axis per letter of ``target`` that holds ``g`` where each repeated letter's indices agree and 0
    elsewhere (``'ii'``: ``g`` on the diagonal); built by masks instead of a write into a diagonal view."""
    xp = _ns(g)
    first = {ch: target.index(ch) for ch in target}
    sizes = dict(zip(first, g.shape))
    g = xp.reshape(g, tuple(sizes[ch] if first[ch] == p else 1 for p, ch in enumerate(target)))
    for p, ch in enumerate(target):
        if first[ch] != p:  # this axis repeats an earlier one: keep g only where their indices are equal
            place = [1] * len(target)
            place[first[ch]] = place[p] = sizes[ch]
            on = xp.reshape(_on_the_diagonal(xp, sizes[ch], sizes[ch], 0), tuple(place))
            g = xp.where(on, g, xp.zeros((), dtype=g.dtype))
    return g


def vector_norm_partial(dy, x, y, ord, axis, keepdims):
    """The partial of ``np.linalg.vector_norm``: any ndim, flattened when ``axis`` is None."""
    x = as_array(x)
    axes = _axes(axis, x.ndim)
    return _vector_norm_partial(dy, x, y, ord, axes, keepdims, axis)


def matrix_norm_partial(dy, x, y, ord, keepdims):
    """The partial of ``np.linalg.matrix_norm`` over the last two axes."""
    x = as_array(x)
    return _matrix_norm_partial(dy, x, y, ord, (x.ndim - 2, x.ndim - 1), keepdims)


# ---- differences, convolution, integration ----------------------------------------------------------

def diff_adjoint(g, axis):
    """The adjoint of one ``np.diff`` along ``axis``: d x_j = g_(j-1) - g_j (zero beyond the ends)."""
    if _array_api_only(g):  # (torch, JAX, array-api-strict: padded with the library's zeros, then sliced)
        xp, ax = _ns(g), int(axis) % g.ndim
        edge = xp.zeros(tuple(1 if i == ax else s for i, s in enumerate(g.shape)), dtype=g.dtype,
                        device=_device(g))
        p = xp.concat([edge, g, edge], axis=ax)
        return _along(p, ax, 0, p.shape[ax] - 1) - _along(p, ax, 1, p.shape[ax])
    g = as_array(g)
    widths = [(0, 0)] * g.ndim
    widths[int(axis) % g.ndim] = (1, 1)
    p = np.pad(g, widths)
    n = p.shape[int(axis) % g.ndim]
    if type(p) is not np.ndarray:  # (Dask's take refuses a range: the same elements, sliced)
        return _along(p, axis, 0, n - 1) - _along(p, axis, 1, n)
    return np.take(p, range(0, n - 1), axis=axis) - np.take(p, range(1, n), axis=axis)


def _along(a, axis, start, stop):
    """``a``'s entries ``start:stop`` along ``axis`` (a view, read only here)."""
    return a[(slice(None),) * (int(axis) % a.ndim) + (slice(start, stop), Ellipsis)]  # (strict wants the ...)


def diff_partial(dy, x, n, axis):
    """The partial of ``np.diff(x, n, axis)``: the one-step adjoint applied ``n`` times."""
    g = dy
    for _ in range(n):
        g = diff_adjoint(g, axis)
    return g


def convolve_partials(dz, a, v, mode):
    """The partials of ``np.convolve(a, v, mode)``: correlate the (full-length) cotangent with the other input."""
    if dispatches_numpy(dz) or dispatches_numpy(a) or dispatches_numpy(v):
        return _convolve_partials_sliced(dz, a, v)
    a_arr, v_arr, dz = np.asarray(a), np.asarray(v), np.asarray(dz)
    full = a_arr.size + v_arr.size - 1
    g = np.zeros(full, dtype=dz.dtype)
    offset = (full - dz.size) // 2  # 'same' and 'valid' are centred slices of 'full'
    g[offset:offset + dz.size] = dz
    da = np.correlate(g, v_arr, mode="valid")
    dv = np.correlate(g, a_arr, mode="valid")
    return np.reshape(da, shape_of(a)), np.reshape(dv, shape_of(v))


def _convolve_partials_sliced(dz, a, v):
    """``convolve_partials`` for arrays NumPy's functions hand to their own library (Dask has no convolve or
    correlate: NumPy's would compute the arrays): the cotangent padded with zeros to the full length, each
    'valid' correlation a sum of shifted slices, as many as the shorter input is long."""
    a_arr, v_arr = as_array(a), as_array(v)
    dz = in_library_of(as_array(dz), a_arr, v_arr)
    xp = _ns(dz)
    full = a_arr.shape[0] + v_arr.shape[0] - 1
    offset = (full - dz.shape[0]) // 2  # 'same' and 'valid' are centred slices of 'full'
    g = xp.concat([xp.zeros((offset,), dtype=dz.dtype), dz,
                   xp.zeros((full - offset - dz.shape[0],), dtype=dz.dtype)])
    da = _correlate_valid(xp, g, v_arr)
    dv = _correlate_valid(xp, g, a_arr)
    return xp.reshape(da, shape_of(a)), xp.reshape(dv, shape_of(v))


def _correlate_valid(xp, g, w):
    """``np.correlate(g, w, 'valid')`` for 1-D ``g`` at least as long as ``w``: out[k] = sum_j g[k + j] conj(w[j])."""
    m, n = g.shape[0] - w.shape[0] + 1, w.shape[0]
    if xp.isdtype(w.dtype, "complex floating"):
        w = xp.conj(w)
    if n <= m:  # one shifted slice of g per entry of w
        out = g[0:m] * w[0]
        for j in range(1, n):
            out = out + g[j:j + m] * w[j]
        return out
    return xp.stack([xp.sum(g[k:k + n] * w) for k in range(m)])  # one window of g per output


def trapezoid_partials(dz, y, x, dx, axis):
    """The partials of ``np.trapezoid(y, x, dx, axis)`` for ``y`` and ``x``: sum(diff(x) * mean of neighbours)."""
    if _array_api_only(y) or _array_api_only(x):
        return _trapezoid_partials_in_library(dz, y, x, dx, axis)
    y_arr = as_array(y)
    ax = int(axis) % y_arr.ndim
    g = np.expand_dims(in_library_of(as_array(dz), y_arr, x), ax)
    n = y_arr.shape[ax]
    if x is None:
        steps = dx
    else:
        x_arr = as_array(x)
        steps = np.diff(x_arr, axis=ax if x_arr.ndim > 1 else 0)
        if x_arr.ndim == 1:
            shape = [1] * y_arr.ndim
            shape[ax] = n - 1
            steps = np.reshape(steps, shape)
    d_mean = g * steps  # cotangent of each interval's mean height
    widths = [(0, 0)] * y_arr.ndim
    widths[ax] = (1, 1)
    padded = np.pad(np.broadcast_to(d_mean, np.broadcast_shapes(d_mean.shape, tuple(
        n - 1 if i == ax else s for i, s in enumerate(y_arr.shape)))), widths)
    m = padded.shape[ax]
    if type(padded) is not np.ndarray:  # (Dask's take refuses a range: the same elements, sliced)
        dy = (_along(padded, ax, 0, m - 1) + _along(padded, ax, 1, m)) / 2
    else:
        dy = (np.take(padded, range(0, m - 1), axis=ax) + np.take(padded, range(1, m), axis=ax)) / 2
    if x is None:
        return dy, None
    if type(y_arr) is not np.ndarray:
        means = (_along(y_arr, ax, 0, n - 1) + _along(y_arr, ax, 1, n)) / 2
    else:
        means = (np.take(y_arr, range(0, n - 1), axis=ax) + np.take(y_arr, range(1, n), axis=ax)) / 2
    d_steps = g * means
    dxs = diff_adjoint(d_steps, ax)
    return dy, unbroadcast(dxs, x) if np.ndim(x) == y_arr.ndim else np.reshape(
        np.sum(dxs, axis=tuple(i for i in range(y_arr.ndim) if i != ax)), shape_of(x))


def _trapezoid_partials_in_library(dz, y, x, dx, axis):
    """``trapezoid_partials`` for torch's, JAX's and array-api-strict's arrays, with their own functions: each
    interval's cotangent (times its width) to both its ends, half each; each width's (times the interval's mean
    height) to its two sample points, as diff's adjoint."""
    xp = _ns(y, x)
    ax = int(axis) % y.ndim
    n = y.shape[ax]
    g = xp.expand_dims(xp.asarray(dz) if type(dz) in (int, float) else dz, axis=ax)
    if x is None:
        steps = dx
    else:
        steps = xp.diff(x, axis=ax if x.ndim > 1 else 0)
        if x.ndim == 1:
            steps = xp.reshape(steps, tuple(n - 1 if i == ax else 1 for i in range(y.ndim)))
    d_mean = xp.broadcast_to(g * steps, tuple(n - 1 if i == ax else s for i, s in enumerate(y.shape))) / 2
    edge = xp.zeros(tuple(1 if i == ax else s for i, s in enumerate(y.shape)), dtype=d_mean.dtype,
                    device=_device(d_mean))
    dy = xp.concat([d_mean, edge], axis=ax) + xp.concat([edge, d_mean], axis=ax)
    if x is None:
        return dy, None
    means = (_along(y, ax, 0, n - 1) + _along(y, ax, 1, n)) / 2
    dxs = diff_adjoint(g * means, ax)
    if x.ndim == y.ndim:
        return dy, unbroadcast(dxs, x)
    return dy, xp.reshape(xp.sum(dxs, axis=tuple(i for i in range(y.ndim) if i != ax)), tuple(x.shape))


def vecdot_partials(dz, x, y, axis):
    """The partials of ``vecdot(x, y, axis)`` = sum(x * y, axis) with broadcasting."""
    g = np.expand_dims(cotangent_array(dz, x, y), axis)
    return unbroadcast(g * y, x), unbroadcast(g * x, y)


def correlate_partials(dz, a, v, mode):
    """The partials of ``np.correlate(a, v, mode)`` = ``convolve(a, v[::-1], mode)``."""
    v_arr = as_array(v)
    da, dv_flipped = convolve_partials(dz, a, v_arr[::-1], mode)
    return da, np.reshape(as_array(dv_flipped)[::-1], shape_of(v))


def interp_partials(dy, x, xp_points, fp, left=None, right=None):
    """The partials of ``np.interp(x, xp, fp)`` for ``x`` and ``fp`` (the breakpoints ``xp`` are constants).

    Inside an interval: the slope for ``x`` and the two interpolation weights for ``fp``; outside the
    range NumPy holds the end value, so ``x`` gets 0 and the end ``fp`` gets everything (nothing when a
    constant ``left``/``right`` replaces it). At a breakpoint
    the slope of the interval to its right is used.
    """
    if dispatches_numpy(x) or dispatches_numpy(fp) or dispatches_numpy(dy):
        return _interp_partials_in_library(dy, x, xp_points, fp, left, right)
    xs = np.asarray(x, dtype=float)
    pts = np.asarray(xp_points, dtype=float)
    vals = np.asarray(fp, dtype=float)
    g = np.asarray(dy, dtype=float) * np.ones_like(xs)
    n = pts.size
    i = np.clip(np.searchsorted(pts, xs, side="right") - 1, 0, n - 2)
    dx, g_start, g_end = _interp_shares(g, xs, pts, pts[i], pts[i + 1], vals[i], vals[i + 1], left, right)
    dfp = np.zeros(n)
    np.add.at(dfp, i, g_start)
    np.add.at(dfp, i + 1, g_end)
    return (float(dx) if type(x) in (float, int) else dx), np.reshape(dfp, np.shape(fp))


def _interp_shares(g, xs, pts, start, end, v_start, v_end, left, right):
    """x's partial of ``np.interp`` and the cotangent's shares for fp at the start and the end of each x's
    interval (``start``, ``end``: its breakpoints; ``v_start``, ``v_end``: fp there)."""
    width = end - start
    t = (xs - start) / width
    below, above = xs < pts[0], xs > pts[-1]
    t = np.where(below, 0.0, np.where(above, 1.0, t))
    slope = np.where(below | above, 0.0, (v_end - v_start) / width)
    keep = np.where((below & (left is not None)) | (above & (right is not None)), 0.0, 1.0)
    g_fp = g * keep
    return g * slope, g_fp * (1 - t), g_fp * t


def _interp_partials_in_library(dy, x, xp_points, fp, left, right):
    """``interp_partials`` where x, fp or the cotangent is an array NumPy's functions hand to its own library
    (Dask's, CuPy's; Dask has no interp, so NumPy's computed and the cotangent may be NumPy's): all of them
    in that library, the intervals found by its searchsorted (Dask's wants the breakpoints as its array),
    their ends gathered by a 1-D index (Dask's only kind), fp's partial added up by the library's own
    scatter-add (``backend.scatter_add``) instead of np.add.at into NumPy zeros."""
    from ..backend import scatter_add

    xs, vals, g = as_array(x, dtype=float), as_array(fp, dtype=float), as_array(dy, dtype=float)
    xs, vals, g = (in_library_of(a, xs, vals, g) for a in (xs, vals, g))
    xp = _ns(xs)
    pts = np.asarray(xp_points, dtype=float)
    points = xp.asarray(pts)
    flat_x = xp.reshape(xs, (-1,))
    flat_g = xp.reshape(g * xp.ones_like(xs), (-1,))
    i = np.clip(np.searchsorted(points, flat_x, side="right") - 1, 0, pts.size - 2)
    dx, g_start, g_end = _interp_shares(flat_g, flat_x, pts, xp.take(points, i), xp.take(points, i + 1),
                                        xp.take(vals, i), xp.take(vals, i + 1), left, right)
    dfp = scatter_add(xp, xp.zeros((pts.size,), dtype=points.dtype), xp.concat([i, i + 1]),
                      xp.concat([g_start, g_end]))
    dx = xp.reshape(dx, shape_of(xs))
    return (float(dx) if type(x) in (float, int) else dx), xp.reshape(dfp, tuple(vals.shape))


def polyval_partials(dy, p, x):
    """The partials of ``np.polyval(p, x)``: powers of x for the coefficients, the derivative for x."""
    p_arr = as_array(p, dtype=float)
    xs = as_array(in_library_of(as_array(x, dtype=float), p_arr))  # (a number x beside CuPy's coefficients)
    g = in_library_of(as_array(dy, dtype=float), p_arr, xs)
    n = p_arr.size
    powers = np.stack([xs ** (n - 1 - k) for k in range(n)])  # (n, *x.shape)
    dp = np.sum(powers * g, axis=tuple(range(1, powers.ndim))) if powers.ndim > 1 else powers * g
    if type(p_arr) is not np.ndarray or type(xs) is not np.ndarray:
        # (Dask has no polyval or polyder: the derivative's Horner steps as NumPy's polyval takes them)
        slope = np.zeros_like(xs)
        for k in range(n - 1):
            slope = slope * xs + p_arr[k] * (n - 1 - k)
        dx = g * slope if n > 1 else np.zeros_like(xs)
    else:
        dx = g * np.polyval(np.polyder(p_arr), xs) if n > 1 else np.zeros_like(xs)
    return np.reshape(dp, np.shape(p)), (float(dx) if type(x) in (float, int) else dx)
