"""Broadcasting in the backward pass: sum a cotangent down to an input's shape (``unbroadcast``,
``unbroadcast_to`` against a saved shape), or broadcast a reduction's cotangent back (``expand_reduced``).
"""

from __future__ import annotations

import numbers

import numpy as np

from .common import (_CONTAINERS, _NUMPY_SCALAR, _PY_SCALARS, _add_reduce, _default_float, _device, _ndarray, _xp,
                     shape_of)


def unbroadcast(g, x):
    """Sum the cotangent ``g`` down to the shape of ``x`` (undo NumPy broadcasting of ``x``)."""
    tx = type(x)
    if tx is _ndarray and type(g) is _ndarray:  # (first: the commonest case of all)
        return g if g.shape == x.shape else _sum_to_shape(g, x.shape)
    if tx in _PY_SCALARS:
        if type(g) in _PY_SCALARS:
            return g
        gs = g.shape
        if gs == ():
            return g
        return _xp(g).sum(g)
    if tx in _CONTAINERS:
        return g  # a container's cotangent is a container of the same structure
    gshape = getattr(g, "shape", ())
    try:
        xshape = x.shape
    except AttributeError:  # not a number or array (a Fraction, an object): finalize refuses it by name
        return g
    if gshape == xshape:
        return g
    return _sum_to_shape(g, tuple(xshape))


def _sum_to_shape(g, shape: tuple):
    if type(g) in _PY_SCALARS:
        # A scalar cotangent for an array input: every element received it.
        return g
    gshape = tuple(g.shape)
    lead = len(gshape) - len(shape)
    if lead < 0:
        # Fewer axes than the target (a 0-d cotangent standing for a full array): it broadcasts to the
        # shape already, with nothing to sum; the caller broadcasts it where it needs the full array.
        return g
    axes = list(range(lead))
    for i, n in enumerate(shape):
        if n == 1 and gshape[lead + i] != 1:
            axes.append(lead + i)
    if type(g) is _ndarray:
        # NumPy: the reduction itself, without np.sum's dispatch (2-3 µs a call, which a bias's cotangent
        # in W2 pays twice per gradient: issue 6). The same sum, rounded the same.
        if axes:
            g = _add_reduce(g, axis=tuple(axes), keepdims=True)
        return g.reshape(shape) if lead else g
    xp = _xp(g)
    if axes:
        g = xp.sum(g, axis=tuple(axes), keepdims=True)
    if lead:
        g = xp.reshape(g, shape)
    return g


def expand_reduced(dy, x, axis, keepdims):
    """Broadcast the cotangent of a reduction over ``axis`` back to the shape of ``x``."""
    if axis is None and type(x) is _ndarray and x.ndim:
        # NumPy fast path for a full reduction (sum, mean...): the same read-only zero-stride view
        # np.broadcast_to returns, made directly; broadcast_to costs several elementwise ops (issue 6).
        if type(dy) in _PY_SCALARS:
            base = np.asarray(dy, dtype=x.dtype)
        elif type(dy) is _ndarray and dy.ndim == 0 or isinstance(dy, _NUMPY_SCALAR):
            base = np.asarray(dy)
        else:
            base = None
        if base is not None:
            view = _ndarray(x.shape, base.dtype, base, 0, (0,) * x.ndim)
            view.flags.writeable = False
            return view
    xshape = shape_of(x)
    if xshape == ():
        return dy
    xp = _xp(x)
    if type(dy) in _PY_SCALARS or isinstance(dy, _NUMPY_SCALAR):
        # An array first: torch's and strict's expand_dims take no Python numbers.
        if type(x) is _ndarray:
            dy = np.asarray(dy, dtype=x.dtype if x.dtype.kind == "f" else np.float64)
        else:
            dtype = x.dtype if xp.isdtype(x.dtype, "real floating") else _default_float(xp, x)
            dy = xp.asarray(float(dy), dtype=dtype, device=_device(x))
    if not keepdims and axis is not None:
        axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
        ndim = len(xshape)
        for a in sorted(a % ndim for a in axes):
            dy = xp.expand_dims(dy, axis=a)
    if any(n != n for n in xshape):  # Dask after boolean indexing: sizes unknown until computed
        return xp.zeros_like(x, dtype=dy.dtype) + dy
    return xp.broadcast_to(dy, xshape)


def reduced_count(x, axis) -> int:
    """How many elements a reduction over ``axis`` combines into each result."""
    xshape = shape_of(x)
    if axis is None:
        return int(np.prod(xshape)) if xshape else 1
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    return int(np.prod([xshape[a] for a in axes]))


def saved_shape(x):
    """What a loop saves of a value its pullback only un-broadcasts against: its shape; None for a
    value not made on this path and for a container (whose cotangent needs no un-broadcasting)."""
    if type(x) is _ndarray:
        return x.shape  # (a tuple already; first: a loop saves one per step, W4)
    if isinstance(x, _NUMPY_SCALAR):
        return ()  # (a dot product's value, B2)
    if x is None or type(x) in _CONTAINERS:
        return None
    return shape_of(x)


def unbroadcast_to(g, shape):
    """``unbroadcast`` against a saved shape instead of the array itself (loops keep only the shape)."""
    if shape is None:
        return g
    if type(g) is _ndarray and g.shape == shape:
        return g  # (the commonest case, once per step of a loop: W4)
    gshape = () if type(g) in _PY_SCALARS else tuple(getattr(g, "shape", ()))
    if gshape == tuple(shape):
        return g
    if shape == () and type(g) not in _PY_SCALARS:
        return _xp(g).sum(g)
    return _sum_to_shape(g, tuple(shape))
