"""Rules for the partial helpers of shape and indexing rules, so their gradients can be differentiated again.

Contract: ``cumsum_partial(dy, x, axis)`` and its kind (``take_partial``, ``trace_partial``, ``diag_partial``,
``repeat_partial``, ``tile_partial``...) are the pullbacks of NumPy functions, linear in the cotangent
``dy`` and reading ``x`` for its shape only. Each gets a rule whose pullback is the transpose of that
linear map, which is the NumPy function itself (the vjp of ``cumsum`` transposes back to ``cumsum``), and
is declared linear for forward mode. ``safe_divide`` (``a / b``, 0 where ``b == 0``) is elementwise.
Used when the gradient code of ``transform/flat.py`` is differentiated (``rules/pullback_helpers.py`` has
the rules for the run-time helpers).
"""

from __future__ import annotations

import numpy as np

from .. import runtime
from ..runtime import dispatches_numpy, take_any, unbroadcast
from .forward import declare_linear, forward_form
from .pullback_helpers import reduce_like
from .registry import rule
from .support import (cumsum_partial, diag_partial, diagonal_partial, items_partial, repeat_partial, safe_divide,
                      sum_partial, take_along_axis_in_library, take_along_axis_partial, take_partial, tile_partial,
                      trace_partial, unstack_like)

# ---- partials of shape and indexing rules: linear in the cotangent, transposed by the primal op ----------
#
# cumsum_partial(dy, x, axis) is the vjp of ``cumsum`` at dy, so its transpose is cumsum itself; the same
# for take, trace, diagonal, diag, repeat, tile and take_along_axis. These partials are written against
# NumPy, and so are their transposes (take_along_axis's has a path for Dask, which lacks that function).


def sum_partial_transpose(dz, dy):
    """The transpose of ``sum_partial`` (builtin ``sum`` over rows or list items) in its cotangent."""
    if type(dz) is list:
        total = dz[0]
        for part in dz[1:]:
            total = total + part
        return unbroadcast(total, dy)
    return reduce_like(dz, dy, 0, False)


def unstack_like_transpose(dz, dy):
    """The transpose of ``unstack_like`` (``np.asarray(x)``'s partial): the parts stacked back, in dy's shape."""
    if type(dz) in runtime._PY_SCALARS:
        return dz
    if type(dz) in (list, tuple):
        dz = [unstack_like_transpose(part, None) if type(part) in (list, tuple) else part for part in dz]
        dz = runtime._xp(next(p for p in dz if type(p) not in runtime._PY_SCALARS)).stack(dz) \
            if any(type(p) not in runtime._PY_SCALARS for p in dz) else np.asarray(dz)
    return dz if dy is None else runtime._xp(dz).reshape(dz, runtime.shape_of(dy))


def take_along_axis_transpose(dz, indices, axis):
    if dispatches_numpy(dz):  # (Dask has no take_along_axis: NumPy's would compute dz)
        return take_along_axis_in_library(dz, indices, axis)
    return np.reshape(dz, (-1,))[indices] if axis is None else np.take_along_axis(dz, indices, axis)


@rule(cumsum_partial, static=("axis",), shape_only=("x",))
def δcumsum_partial(dy, x, axis):
    z = cumsum_partial(dy, x, axis)

    def cumsum_partial_pullback(dz):
        return np.reshape(np.cumsum(dz, axis=axis), np.shape(dy)), None, None

    return z, cumsum_partial_pullback


@rule(take_partial, static=("indices", "axis"), shape_only=("x",))
def δtake_partial(dy, x, indices, axis):
    z = take_partial(dy, x, indices, axis)

    def take_partial_pullback(dz):
        return take_any(dz, indices, axis), None, None, None

    return z, take_partial_pullback


@rule(trace_partial, static=("offset", "axis1", "axis2"), shape_only=("x",))
def δtrace_partial(dy, x, offset, axis1, axis2):
    z = trace_partial(dy, x, offset, axis1, axis2)

    def trace_partial_pullback(dz):
        return np.trace(dz, offset, axis1, axis2), None, None, None, None

    return z, trace_partial_pullback


@rule(diagonal_partial, static=("offset", "axis1", "axis2"), shape_only=("x",))
def δdiagonal_partial(dy, x, offset, axis1, axis2):
    z = diagonal_partial(dy, x, offset, axis1, axis2)

    def diagonal_partial_pullback(dz):
        return np.diagonal(dz, offset, axis1, axis2), None, None, None, None

    return z, diagonal_partial_pullback


@rule(diag_partial, static=("k",), shape_only=("x",))
def δdiag_partial(dy, x, k):
    z = diag_partial(dy, x, k)

    def diag_partial_pullback(dz):
        return np.diag(dz, k), None, None

    return z, diag_partial_pullback


@rule(repeat_partial, static=("repeats", "axis"), shape_only=("x",))
def δrepeat_partial(dy, x, repeats, axis):
    z = repeat_partial(dy, x, repeats, axis)

    def repeat_partial_pullback(dz):
        return np.repeat(dz, repeats, axis), None, None, None

    return z, repeat_partial_pullback


@rule(tile_partial, static=("reps",), shape_only=("x",))
def δtile_partial(dy, x, reps):
    z = tile_partial(dy, x, reps)

    def tile_partial_pullback(dz):
        return np.tile(dz, reps), None, None

    return z, tile_partial_pullback


@rule(take_along_axis_partial, static=("indices", "axis"), shape_only=("x",))
def δtake_along_axis_partial(dy, x, indices, axis):
    z = take_along_axis_partial(dy, x, indices, axis)

    def take_along_axis_partial_pullback(dz):
        return take_along_axis_transpose(dz, indices, axis), None, None, None

    return z, take_along_axis_partial_pullback


@rule(sum_partial, shape_only=("x",))
def δsum_partial(dy, x):
    z = sum_partial(dy, x)

    def sum_partial_pullback(dz):
        return sum_partial_transpose(dz, dy), None

    return z, sum_partial_pullback


@rule(unstack_like, shape_only=("x",))
def δunstack_like(dy, x):
    z = unstack_like(dy, x)

    def unstack_like_pullback(dz):
        return unstack_like_transpose(dz, dy), None

    return z, unstack_like_pullback


@rule(items_partial, shape_only=("x",), sequences=True)
def δitems_partial(dys, x):
    # The partial of builtin list(x) and its kin (rules/builtins.py): its transpose lists the items of dz, the
    # rows of dz for an array x.
    z = items_partial(dys, x)

    def items_partial_pullback(dz):
        return list(dz), None

    return z, items_partial_pullback


@rule(safe_divide)
def δsafe_divide(a, b):
    z = safe_divide(a, b)

    def safe_divide_pullback(dz):
        return unbroadcast(safe_divide(dz, b), a), unbroadcast(-safe_divide(dz * z, b), b)

    return z, safe_divide_pullback


declare_linear("δcumsum_partial", "δtake_partial", "δtrace_partial", "δdiagonal_partial", "δdiag_partial",
               "δrepeat_partial", "δtile_partial", "δtake_along_axis_partial", "δsum_partial",
               "δunstack_like", "δitems_partial")


@forward_form("δsafe_divide")
def jvp_safe_divide(a, a_dot, b, b_dot, y):
    return safe_divide(a_dot, b) - safe_divide(y * b_dot, b)
