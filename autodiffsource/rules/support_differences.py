"""Helpers for the rules of ``np.gradient`` and ``np.ediff1d``: their values on any array library, and their
partials.

Contract as in ``support``: pure functions, partials shaped like the primal arguments. On NumPy's arrays
the values are NumPy's own ``np.gradient`` and ``np.ediff1d``, to the bit. On another library's arrays
(torch, JAX, Dask, CuPy, array-api-strict) the same stencils are written with slices, products and
``concat`` of that library's namespace, so that values and partials stay there: NumPy's functions would
turn torch's and JAX's arrays into NumPy's (a silent round trip), and hand Dask's to
``dask.array.gradient``, which refuses chunks shorter than its stencil.

``np.gradient`` is linear in ``f``: along each axis it is a banded matrix, central differences inside and
one-sided differences of first or second order (``edge_order``) at the two ends, with NumPy's coefficients
for a uniform step and for non-uniform sample points. Its partial is that matrix's transpose applied to
the cotangent. The spacings are constants here (the rule declares them static).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..runtime import _device, is_foreign_array, shape_of
from .support import _ns, in_library_of


def gradient_primal(f, spacing1=None, spacing2=None, spacing3=None, spacing4=None, axis=None, edge_order=1):
    """``np.gradient(f, *spacings, axis=axis, edge_order=edge_order)``, on ``f``'s own library, with the
    rule's parameters (the spacings given, in order, in four slots; None for a slot not used): one array
    for one axis, a tuple of arrays (one per axis) for several, as NumPy 2 returns them.

    Positional throughout, as jvp code calls it: its reverse rule there is np.gradient's (a user rule,
    whose pullback gives one partial per positional argument).
    """
    spacings = tuple(s for s in (spacing1, spacing2, spacing3, spacing4) if s is not None)
    if not _is_axis(axis):  # a fifth positional spacing lands here (NumPy's own axis is a keyword)
        raise TypeError("np.gradient is differentiated with at most four spacings given positionally (one "
                        f"per axis of a 4-D array, or one for all axes); `axis` is {axis!r}")
    if not is_foreign_array(f):
        return np.gradient(f, *spacings, axis=axis, edge_order=edge_order)
    xp = _ns(f)
    if not xp.isdtype(f.dtype, "real floating"):
        f = xp.astype(f, xp.float64)  # (NumPy computes the gradient of integers in float64)
    axes, steps = _gradient_steps(xp, f, spacings, axis, edge_order)
    outs = tuple(_apply_stencil(xp, f, ax, step, edge_order) for ax, step in zip(axes, steps))
    return outs[0] if len(outs) == 1 else outs


def _is_axis(axis) -> bool:
    """Whether ``axis`` is what np.gradient takes as one: None, an int, or a tuple or list of ints."""
    if axis is None or isinstance(axis, numbers.Integral):
        return True
    return type(axis) in (tuple, list) and all(isinstance(a, numbers.Integral) for a in axis)


def gradient_partial(dy, f, *spacings, axis=None, edge_order=1):
    """The partial of ``np.gradient(f, *spacings, axis=axis, edge_order=edge_order)`` in ``f``.

    ``dy`` is the cotangent of the result: one array for one axis, a list or tuple of them for several
    (``None`` for a result that was not used). The sum over the axes of each stencil's transpose applied
    to its cotangent, in the cotangents' library, with ``f``'s shape and (floating) dtype.
    """
    spacings = tuple(s for s in spacings if s is not None)
    parts = tuple(dy) if type(dy) in (list, tuple) else (dy,)
    arrays = [in_library_of(p, f) for p in parts if p is not None]
    ndim = len(shape_of(f))
    axes = normalize_axis_tuple(range(ndim) if axis is None else axis, ndim)
    if len(parts) != len(axes):
        raise ValueError(f"np.gradient over {len(axes)} axes has {len(axes)} results; {len(parts)} cotangents")
    like = arrays[0] if arrays else f
    xp = _ns(like) if arrays or is_foreign_array(f) else np
    dtype = like.dtype if hasattr(like, "dtype") and xp.isdtype(like.dtype, "real floating") else xp.float64
    total = None
    if arrays:
        _, steps = _gradient_steps(xp, arrays[0], spacings, axis, edge_order, shape=shape_of(f))
        for part, ax, step in zip(parts, axes, steps):
            if part is None:
                continue
            term = _transpose_stencil(xp, in_library_of(part, f), ax, step, edge_order)
            total = term if total is None else total + term
    if total is None:
        return xp.zeros(shape_of(f), dtype=dtype, **_on_device_of(like))
    return xp.astype(total, dtype) if total.dtype != dtype else total


def _on_device_of(x) -> dict:
    return {"device": _device(x)} if hasattr(x, "shape") and is_foreign_array(x) else {}


def _gradient_steps(xp, like, spacings, axis, edge_order, shape=None):
    """The axes ``np.gradient`` differentiates along and, for each, its step: a number (a uniform step) or
    the differences of the sample points, a 1-D array of ``like``'s library and dtype. Raises NumPy's errors
    for spacings, shapes and edge orders NumPy refuses."""
    shape = tuple(shape_of(like) if shape is None else shape)
    ndim = len(shape)
    axes = normalize_axis_tuple(range(ndim) if axis is None else axis, ndim)
    if len(spacings) == 0:
        spacings = (1.0,) * len(axes)
    elif len(spacings) == 1 and np.ndim(spacings[0]) == 0:
        spacings = spacings * len(axes)
    elif len(spacings) != len(axes):
        raise TypeError("invalid number of arguments")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    dtype = like.dtype if xp.isdtype(like.dtype, "real floating") else xp.float64
    steps = []
    for ax, spacing in zip(axes, spacings):
        if shape[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at least "
                             "(edge_order + 1) elements are required.")
        if np.ndim(spacing) == 0:
            steps.append(_number(spacing))
            continue
        if np.ndim(spacing) != 1:
            raise ValueError("distances must be either scalars or 1d")
        if len(spacing) != shape[ax]:
            raise ValueError("when 1d, distances must match the length of the corresponding dimension")
        points = _in_namespace(xp, spacing, like, dtype)
        steps.append(points[1:] - points[:-1])
    return axes, steps


def _number(spacing):
    """A scalar spacing as a Python float where it is one (a NumPy float64 scalar would make a float32
    cotangent float64: NumPy 2's scalars are not weak), otherwise (a 0-d array of another library) as it is."""
    if isinstance(spacing, (numbers.Real, np.generic)) or type(spacing) is np.ndarray:
        return float(spacing)
    return spacing


def _in_namespace(xp, values, like, dtype):
    """``values`` (sample points, ediff1d's ends: a number, a list, NumPy's array or ``like``'s library's) as
    ``like``'s library's array of ``dtype``, on its device."""
    if xp is np:
        return np.asarray(values, dtype=dtype)
    if type(values) in (list, tuple, float, int) or isinstance(values, (np.ndarray, np.generic)):
        return xp.asarray(np.asarray(values, dtype=np.float64), dtype=dtype, **_on_device_of(like))
    return xp.astype(values, dtype)


def _coefficients(xp, step, n, edge_order, ndim, ax, dtype):
    """The stencil along one axis of length ``n``: ``(first, inner, last)``, where ``first`` and ``last`` are
    the coefficients of the first and last result on the first and last ``edge_order + 1`` entries, and
    ``inner`` = (a, b, c) those of the results 1..n-2 on their left neighbour, themselves and their right
    neighbour (numbers for a uniform step; arrays shaped to broadcast along ``ax`` otherwise; b None where 0).
    NumPy's formulas (numpy/lib/_function_base_impl.py), the non-uniform ones second-order accurate."""
    if isinstance(step, float) or step.ndim == 0:  # (a 0-d array of another library: one step, as a number)
        h = step
        inner = (-0.5 / h, None, 0.5 / h)
        if edge_order == 1:
            return (-1.0 / h, 1.0 / h), inner, (-1.0 / h, 1.0 / h)
        return (-1.5 / h, 2.0 / h, -0.5 / h), inner, (0.5 / h, -2.0 / h, 1.5 / h)
    step = xp.astype(step, dtype) if step.dtype != dtype else step
    shape = [1] * ndim
    shape[ax] = n - 2
    h1, h2 = step[:-1], step[1:]
    inner = (xp.reshape(-h2 / (h1 * (h1 + h2)), tuple(shape)), xp.reshape((h2 - h1) / (h1 * h2), tuple(shape)),
             xp.reshape(h1 / (h2 * (h1 + h2)), tuple(shape)))
    if edge_order == 1:
        return (-1.0 / step[0], 1.0 / step[0]), inner, (-1.0 / step[-1], 1.0 / step[-1])
    a1, a2 = step[0], step[1]
    first = (-(2.0 * a1 + a2) / (a1 * (a1 + a2)), (a1 + a2) / (a1 * a2), -a1 / (a2 * (a1 + a2)))
    b1, b2 = step[-2], step[-1]
    last = (b2 / (b1 * (b1 + b2)), -(b2 + b1) / (b1 * b2), (2.0 * b2 + b1) / (b2 * (b1 + b2)))
    return first, inner, last


def _along(a, ax, start, stop):
    """``a``'s entries ``start:stop`` along axis ``ax`` (an index every library takes: ``...`` closes it)."""
    return a[(slice(None),) * ax + (slice(start, stop), Ellipsis)]


def _apply_stencil(xp, f, ax, step, edge_order):
    n = f.shape[ax]
    first, (a, b, c), last = _coefficients(xp, step, n, edge_order, f.ndim, ax, f.dtype)
    k = len(first)
    head = sum((w * _along(f, ax, j, j + 1) for j, w in enumerate(first[1:], 1)), first[0] * _along(f, ax, 0, 1))
    tail = sum((w * _along(f, ax, n - k + j, n - k + j + 1) for j, w in enumerate(last[1:], 1)),
               last[0] * _along(f, ax, n - k, n - k + 1))
    pieces = [head]
    if n > 2:
        inner = a * _along(f, ax, 0, n - 2) + c * _along(f, ax, 2, n)
        pieces.append(inner if b is None else inner + b * _along(f, ax, 1, n - 1))
    return xp.concat(pieces + [tail], axis=ax)


def _placed(xp, part, ax, start, n):
    """``part`` (length m along ``ax``) at ``start:start + m`` of zeros of length ``n`` along ``ax``."""
    m = part.shape[ax]
    pieces = []
    for width in (start, None, n - start - m):
        if width is None:
            pieces.append(part)
        elif width:
            shape = tuple(width if i == ax else s for i, s in enumerate(part.shape))
            pieces.append(xp.zeros(shape, dtype=part.dtype, **_on_device_of(part)))
    return pieces[0] if len(pieces) == 1 else xp.concat(pieces, axis=ax)


def _transpose_stencil(xp, g, ax, step, edge_order):
    """The transpose of the stencil along ``ax`` applied to the cotangent ``g`` (shaped like the result)."""
    n = g.shape[ax]
    dtype = g.dtype if xp.isdtype(g.dtype, "real floating") else xp.float64
    g = xp.astype(g, dtype) if g.dtype != dtype else g
    first, (a, b, c), last = _coefficients(xp, step, n, edge_order, g.ndim, ax, dtype)
    k = len(first)
    g_first, g_last = _along(g, ax, 0, 1), _along(g, ax, n - 1, n)
    total = _placed(xp, xp.concat([w * g_first for w in first], axis=ax), ax, 0, n)
    total = total + _placed(xp, xp.concat([w * g_last for w in last], axis=ax), ax, n - k, n)
    if n > 2:
        g_inner = _along(g, ax, 1, n - 1)
        total = total + _placed(xp, a * g_inner, ax, 0, n) + _placed(xp, c * g_inner, ax, 2, n)
        if b is not None:
            total = total + _placed(xp, b * g_inner, ax, 1, n)
    return total


def ediff1d_primal(ary, to_end=None, to_begin=None):
    """``np.ediff1d(ary, to_end, to_begin)`` on ``ary``'s own library: the differences of the flattened
    ``ary``, with ``to_begin`` before them and ``to_end`` after them (each flattened), in ``ary``'s dtype."""
    if not is_foreign_array(ary):
        return np.ediff1d(ary, to_end=to_end, to_begin=to_begin)
    xp = _ns(ary)
    flat = xp.reshape(ary, (-1,))
    pieces = [flat[1:] - flat[:-1]]
    if to_begin is not None:
        pieces.insert(0, xp.reshape(_in_namespace(xp, to_begin, flat, flat.dtype), (-1,)))
    if to_end is not None:
        pieces.append(xp.reshape(_in_namespace(xp, to_end, flat, flat.dtype), (-1,)))
    return pieces[0] if len(pieces) == 1 else xp.concat(pieces)


def ediff1d_partial(dy, ary, to_end, to_begin):
    """The partial of ``np.ediff1d(ary, to_end, to_begin)`` in ``ary``: the cotangent of the differences
    (between those of the ends) through the adjoint of ``flat[1:] - flat[:-1]``, in ``ary``'s shape."""
    g = _float_cotangent(dy, ary)
    xp = _ns(g)
    n, m = g.shape[0], _size(ary)
    inner = g[_size(to_begin):n - _size(to_end)]
    d_flat = _placed(xp, inner, 0, 1, m) - _placed(xp, inner, 0, 0, m) if m > 1 else xp.zeros((m,), dtype=g.dtype)
    return xp.reshape(d_flat, tuple(shape_of(ary)))


def ediff1d_begin_partial(dy, to_begin):
    """The partial of ``np.ediff1d(..., to_begin=to_begin)`` in ``to_begin``: the first entries of the
    cotangent, in its shape (a Python float for a number; None for None)."""
    if to_begin is None:
        return None
    return _end_partial(_float_cotangent(dy, to_begin)[:_size(to_begin)], to_begin)


def ediff1d_end_partial(dy, to_end):
    """The partial of ``np.ediff1d(..., to_end=to_end)`` in ``to_end``: the last entries of the cotangent."""
    if to_end is None:
        return None
    g = _float_cotangent(dy, to_end)
    return _end_partial(g[g.shape[0] - _size(to_end):], to_end)


def _float_cotangent(dy, like):
    g = in_library_of(dy, like)
    xp = _ns(g)
    return g if xp.isdtype(g.dtype, "real floating") else xp.astype(g, xp.float64)


def _size(value) -> int:
    """How many entries ``value`` has, 0 for None (np.size would compute a Dask array, and torch's ``size``
    is a method)."""
    if value is None:
        return 0
    return math.prod(value.shape) if hasattr(value, "shape") else int(np.size(value))


def _end_partial(part, value):
    if type(value) in (float, int):
        return float(part[0])
    return _ns(part).reshape(part, tuple(value.shape) if hasattr(value, "shape") else np.shape(value))  # (a list)
