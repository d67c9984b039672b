"""Rules for the helpers that generated pullbacks call, so generated gradients can be differentiated again.

Contract: each run-time helper a pullback uses (``runtime.unbroadcast``, ``index_add``, ``finalize``,
``matmul_left_partial``...) gets a reverse rule here, in the library's template form, and a forward kind
(``rules/forward.py`` lists these names as linear, or a written forward form below). With them the
engine reads the flat gradient function of ``transform/flat.py`` like any user code: forward mode over
it is forward-over-reverse (Hessian-vector products), reverse mode over it is reverse-over-reverse.

Almost every helper is linear in the cotangent it moves, so its rule's pullback is the *transpose* of
that linear map: ``unbroadcast`` (a sum down to a shape) transposes to a broadcast, ``expand_reduced``
(a broadcast back over reduced axes) to a sum over them, ``index_add`` to reading at the index, and so
on. Arguments a helper reads only for their shape or dtype (``x`` in ``unbroadcast(g, x)``) get no
partial; their tangent, which has the same shape, stands in for them in forward mode. Masks, signs and
tie shares are piecewise constant: declared constants.
"""

from __future__ import annotations

import numpy as np

from .. import runtime
from ..runtime import (add_cotangents, check_cotangent, copy_value, dot_left_partial, dot_right_partial, dot_primal, expand_reduced,
                       finalize, index_add, list_item_cotangent, matmul_left_partial, matmul_right_partial, or_zeros,
                       reduction_extreme_partial, seed_cotangent, take_any, take_cotangent, unbroadcast, unbroadcast_to,
                       without_index, zeros_like)
from .forward import forward_form
from .registry import REGISTRY, nondiff, rule
from .support import (cumsum_partial, diag_partial, diagonal_partial, extreme_partial, finite_mask, repeat_partial,
                      safe_divide, squeeze_back, sum_partial, take_along_axis_partial, take_partial, tile_partial,
                      trace_partial, unstack_like, zeros_of)

# ---- transposes the pullbacks below call ----------------------------------------------------------


def broadcast_like(ct, g):
    """``ct`` broadcast to the shape of ``g``: the transpose of summing ``g`` down (``unbroadcast``)."""
    gshape = runtime.shape_of(g)
    if runtime.shape_of(ct) == gshape:
        return ct
    if gshape == ():
        return ct
    return ct + runtime.zeros_like(g)


def reduce_like(ct, dy, axis, keepdims):
    """The transpose of ``expand_reduced(dy, x, axis, keepdims)``: ``ct`` summed over the reduced axes,
    in the shape of ``dy``."""
    if runtime.shape_of(ct) == runtime.shape_of(dy):
        return ct
    xp = runtime._xp(ct)
    total = xp.sum(ct, axis=axis, keepdims=keepdims) if axis is not None else xp.sum(ct)
    return unbroadcast(total, dy)


def read_at(d, index):
    """``d[index]``, every occurrence of a repeated index included: the transpose of adding at ``index``."""
    return d if type(d) in runtime._PY_SCALARS else d[index]


def read_at_transpose(dz, d, index):
    """The transpose of ``read_at``: ``dz`` added into zeros shaped like ``d`` at ``index``."""
    return dz if type(d) in runtime._PY_SCALARS else index_add(runtime.zeros_like(d), index, dz)


def take_cotangent_transpose(ct, d, index):
    """The transpose of ``take_cotangent(d, index)``: ``ct`` added into zeros shaped like ``d`` at ``index``
    (a repeated index position receives only its last occurrence, as ``take_cotangent`` reads it)."""
    if type(d) in runtime._PY_SCALARS:
        return ct
    last = take_cotangent(runtime.zeros_like(d) + 1.0, index)  # 1 at the occurrences take_cotangent keeps
    return index_add(runtime.zeros_like(d), index, ct * last)


def extreme_partial_transpose(ct, dy, x, y, axis, keepdims):
    """The transpose of ``reduction_extreme_partial`` in its cotangent: the tie shares times ``ct``, summed."""
    shares = reduction_extreme_partial(runtime.zeros_like(dy) + 1.0, x, y, axis, keepdims)
    return reduce_like(ct * shares, dy, axis, keepdims)


def held_constant(x):
    """``x`` itself, as a declared constant: a loop tape's saved shapes and counters in flat gradient code."""
    return x


nondiff(held_constant, zeros_of, finite_mask, runtime.zeros_like, runtime.saved_shape, runtime.shape_of, runtime.reduced_count,
        runtime.inverse_permutation, runtime.sign_of, runtime.where_tie_split)


# Primal computations that rule templates spell with a run-time helper (``np.take`` runs ``take_any``,
# ``np.dot`` runs ``dot_primal``) are differentiated by the rule of the function they compute.
for _helper, _primal in ((take_any, np.take), (dot_primal, np.dot)):
    REGISTRY.by_object[id(_helper)] = (_helper, REGISTRY.rule_for(_primal))


# ---- linear in the cotangent -----------------------------------------------------------------------


@rule(seed_cotangent, static=("name",), shape_only=("like",))
def δseed_cotangent(dy, like, name="output"):
    z = seed_cotangent(dy, like, name)

    def seed_cotangent_pullback(dz):
        return dz, None, None

    return z, seed_cotangent_pullback


@rule(check_cotangent, static=("name",), shape_only=("like",))
def δcheck_cotangent(dy, like, name="output"):
    z = check_cotangent(dy, like, name)

    def check_cotangent_pullback(dz):
        return dz, None, None

    return z, check_cotangent_pullback


@rule(unbroadcast, shape_only=("like",))
def δunbroadcast(g, like):
    z = unbroadcast(g, like)

    def unbroadcast_pullback(dz):
        return broadcast_like(dz, g), None

    return z, unbroadcast_pullback


@rule(unbroadcast_to, static=("shape",))
def δunbroadcast_to(g, shape):
    z = unbroadcast_to(g, shape)

    def unbroadcast_to_pullback(dz):
        return broadcast_like(dz, g), None

    return z, unbroadcast_to_pullback


@rule(expand_reduced, static=("axis", "keepdims"), shape_only=("like",))
def δexpand_reduced(dy, like, axis, keepdims):
    z = expand_reduced(dy, like, axis, keepdims)

    def expand_reduced_pullback(dz):
        return reduce_like(dz, dy, axis, keepdims), None, None, None

    return z, expand_reduced_pullback


@rule(finalize, shape_only=("like",))
def δfinalize(g, like):
    z = finalize(g, like)

    def finalize_pullback(dz):
        return unbroadcast(dz, g), None

    return z, finalize_pullback


@rule(squeeze_back, shape_only=("like",))
def δsqueeze_back(dy, like):
    z = squeeze_back(dy, like)

    def squeeze_back_pullback(dz):
        return squeeze_back(dz, dy), None

    return z, squeeze_back_pullback


@rule(index_add, static=("index",))
def δindex_add(buffer, index, g):
    z = index_add(buffer, index, g)

    def index_add_pullback(dz):
        return dz, None, unbroadcast(read_at(dz, index), g)

    return z, index_add_pullback


@rule(add_cotangents, runtime.accumulate)
def δadd_cotangents(a, b):
    z = add_cotangents(a, b)

    def add_cotangents_pullback(dz):
        return unbroadcast(dz, a), unbroadcast(dz, b)

    return z, add_cotangents_pullback


@rule(or_zeros, shape_only=("like",))
def δor_zeros(d, like):
    z = or_zeros(d, like)

    def or_zeros_pullback(dz):
        return dz, None

    return z, or_zeros_pullback


@rule(copy_value)
def δcopy_value(x):
    z = copy_value(x)

    def copy_value_pullback(dz):
        return (dz,)

    return z, copy_value_pullback


@rule(take_cotangent, static=("index",))
def δtake_cotangent(d, index):
    z = take_cotangent(d, index)

    def take_cotangent_pullback(dz):
        return take_cotangent_transpose(dz, d, index), None

    return z, take_cotangent_pullback


@rule(without_index, static=("index",))
def δwithout_index(d, index):
    z = without_index(d, index)

    def without_index_pullback(dz):
        return without_index(dz, index), None

    return z, without_index_pullback


@rule(list_item_cotangent, static=("length", "index"))
def δlist_item_cotangent(length, index, dy):
    z = list_item_cotangent(length, index, dy)

    def list_item_cotangent_pullback(dz):
        return None, None, dz[index]

    return z, list_item_cotangent_pullback


@rule(reduction_extreme_partial, static=("axis", "keepdims"), shape_only=("x", "extreme"))
def δreduction_extreme_partial(dy, x, extreme, axis, keepdims):
    z = reduction_extreme_partial(dy, x, extreme, axis, keepdims)

    def reduction_extreme_partial_pullback(dz):
        # The tie shares are piecewise constant in x and the extreme: no partial for them.
        return extreme_partial_transpose(dz, dy, x, extreme, axis, keepdims), None, None, None, None

    return z, reduction_extreme_partial_pullback


@rule(extreme_partial, static=("axis", "keepdims"), shape_only=("x", "extreme"))
def δextreme_partial(dy, x, extreme, axis, keepdims):
    z = extreme_partial(dy, x, extreme, axis, keepdims)

    def extreme_partial_pullback(dz):
        return extreme_partial_transpose(dz, dy, x, extreme, axis, keepdims), None, None, None, None

    return z, extreme_partial_pullback


# ---- bilinear: the cotangent times a primal --------------------------------------------------------
#
# matmul_left_partial(dz, a, b) is the vjp of ``a @ b`` in ``a`` at ``dz``: <c, L(dz, b)> = <dz, c @ b>,
# so its transpose in dz is ``c @ b`` and in b the vjp of ``c @ b`` in ``b`` at dz; ``a`` gives a shape.


@rule(matmul_left_partial, shape_only=("a",))
def δmatmul_left_partial(dz, a, b):
    z = matmul_left_partial(dz, a, b)

    def matmul_left_partial_pullback(dc):
        return broadcast_like(dc @ b, dz), None, matmul_right_partial(dz, dc, b)

    return z, matmul_left_partial_pullback


@rule(matmul_right_partial, shape_only=("b",))
def δmatmul_right_partial(dz, a, b):
    z = matmul_right_partial(dz, a, b)

    def matmul_right_partial_pullback(dc):
        return broadcast_like(a @ dc, dz), matmul_left_partial(dz, a, dc), None

    return z, matmul_right_partial_pullback


@rule(dot_left_partial, shape_only=("a",))
def δdot_left_partial(dz, a, b):
    z = dot_left_partial(dz, a, b)

    def dot_left_partial_pullback(dc):
        return broadcast_like(dot_primal(dc, b), dz), None, dot_right_partial(dz, dc, b)

    return z, dot_left_partial_pullback


@rule(dot_right_partial, shape_only=("b",))
def δdot_right_partial(dz, a, b):
    z = dot_right_partial(dz, a, b)

    def dot_right_partial_pullback(dc):
        return broadcast_like(dot_primal(a, dc), dz), dot_left_partial(dz, a, dc), None

    return z, dot_right_partial_pullback


# ---- the transposes above, once more (third order: differentiating code made by differentiating twice) ----


@rule(broadcast_like, shape_only=("g",))
def δbroadcast_like(ct, g):
    z = broadcast_like(ct, g)

    def broadcast_like_pullback(dz):
        return unbroadcast(dz, ct), None

    return z, broadcast_like_pullback


@rule(reduce_like, static=("axis", "keepdims"), shape_only=("dy",))
def δreduce_like(ct, dy, axis, keepdims):
    z = reduce_like(ct, dy, axis, keepdims)

    def reduce_like_pullback(dz):
        return broadcast_like(expand_reduced(dz, ct, axis, keepdims), ct), None, None, None

    return z, reduce_like_pullback


@rule(read_at, static=("index",))
def δread_at(d, index):
    z = read_at(d, index)

    def read_at_pullback(dz):
        return read_at_transpose(dz, d, index), None

    return z, read_at_pullback


# ---- partials of shape and indexing rules: linear in the cotangent, transposed by the primal op ----------
#
# cumsum_partial(dy, x, axis) is the vjp of ``cumsum`` at dy, so its transpose is cumsum itself; the same
# for take, trace, diagonal, diag, repeat, tile and take_along_axis. These partials are NumPy-only, and
# so are their transposes.


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


@rule(safe_divide)
def δsafe_divide(a, b):
    z = safe_divide(a, b)

    def safe_divide_pullback(dz):
        return unbroadcast(safe_divide(dz, b), a), unbroadcast(-safe_divide(dz * z, b), b)

    return z, safe_divide_pullback


# ---- forward forms (rules/forward.py inlines them into jvp code) ------------------------------------
#
# Linear helpers apply themselves to the tangent of what they move; the shape-only argument stays the
# primal. ``index_add`` writes into its buffer, so its tangent buffer is copied first: a tangent may be
# shared by two values whose primals are distinct arrays (``y = x + c`` has the tangent of ``x``).


@forward_form("δseed_cotangent")
def jvp_seed_cotangent(dy, dy_dot, like, name="output"):
    return seed_cotangent(dy_dot, like, name)


@forward_form("δcheck_cotangent")
def jvp_check_cotangent(dy, dy_dot, like, name="output"):
    return check_cotangent(dy_dot, like, name)


@forward_form("δunbroadcast")
def jvp_unbroadcast(g, g_dot, like):
    return unbroadcast(g_dot, like)


@forward_form("δunbroadcast_to")
def jvp_unbroadcast_to(g, g_dot, shape):
    return unbroadcast_to(g_dot, shape)


@forward_form("δexpand_reduced")
def jvp_expand_reduced(dy, dy_dot, like, axis, keepdims):
    return expand_reduced(dy_dot, like, axis, keepdims)


@forward_form("δfinalize")
def jvp_finalize(g, g_dot, like):
    return finalize(g_dot, like)


@forward_form("δsqueeze_back")
def jvp_squeeze_back(dy, dy_dot, like):
    return squeeze_back(dy_dot, like)


@forward_form("δindex_add")
def jvp_index_add(buffer, buffer_dot, index, g, g_dot):
    return index_add(copy_value(buffer_dot), index, g_dot)


@forward_form("δadd_cotangents")
def jvp_add_cotangents(a, a_dot, b, b_dot):
    return add_cotangents(a_dot, b_dot)


@forward_form("δor_zeros")
def jvp_or_zeros(d, d_dot, like):
    return or_zeros(d_dot, like)


@forward_form("δcopy_value")
def jvp_copy_value(x, x_dot):
    return copy_value(x_dot)


@forward_form("δtake_cotangent")
def jvp_take_cotangent(d, d_dot, index):
    return take_cotangent(d_dot, index)


@forward_form("δwithout_index")
def jvp_without_index(d, d_dot, index):
    return without_index(d_dot, index)


@forward_form("δlist_item_cotangent")
def jvp_list_item_cotangent(length, index, dy, dy_dot):
    return list_item_cotangent(length, index, dy_dot)


@forward_form("δreduction_extreme_partial")
def jvp_reduction_extreme_partial(dy, dy_dot, x, extreme, axis, keepdims):
    return reduction_extreme_partial(dy_dot, x, extreme, axis, keepdims)


@forward_form("δextreme_partial")
def jvp_extreme_partial(dy, dy_dot, x, extreme, axis, keepdims):
    return extreme_partial(dy_dot, x, extreme, axis, keepdims)


@forward_form("δmatmul_left_partial")
def jvp_matmul_left_partial(dz, dz_dot, a, b, b_dot):
    return matmul_left_partial(dz_dot, a, b) + matmul_left_partial(dz, a, b_dot)


@forward_form("δmatmul_right_partial")
def jvp_matmul_right_partial(dz, dz_dot, a, a_dot, b):
    return matmul_right_partial(dz_dot, a, b) + matmul_right_partial(dz, a_dot, b)


@forward_form("δdot_left_partial")
def jvp_dot_left_partial(dz, dz_dot, a, b, b_dot):
    return dot_left_partial(dz_dot, a, b) + dot_left_partial(dz, a, b_dot)


@forward_form("δdot_right_partial")
def jvp_dot_right_partial(dz, dz_dot, a, a_dot, b):
    return dot_right_partial(dz_dot, a, b) + dot_right_partial(dz, a_dot, b)


@forward_form("δbroadcast_like")
def jvp_broadcast_like(ct, ct_dot, g):
    return broadcast_like(ct_dot, g)


@forward_form("δreduce_like")
def jvp_reduce_like(ct, ct_dot, dy, axis, keepdims):
    return reduce_like(ct_dot, dy, axis, keepdims)


@forward_form("δread_at")
def jvp_read_at(d, d_dot, index):
    return read_at(d_dot, index)


@forward_form("δcumsum_partial")
def jvp_cumsum_partial(dy, dy_dot, x, axis):
    return cumsum_partial(dy_dot, x, axis)


@forward_form("δtake_partial")
def jvp_take_partial(dy, dy_dot, x, indices, axis):
    return take_partial(dy_dot, x, indices, axis)


@forward_form("δtrace_partial")
def jvp_trace_partial(dy, dy_dot, x, offset, axis1, axis2):
    return trace_partial(dy_dot, x, offset, axis1, axis2)


@forward_form("δdiagonal_partial")
def jvp_diagonal_partial(dy, dy_dot, x, offset, axis1, axis2):
    return diagonal_partial(dy_dot, x, offset, axis1, axis2)


@forward_form("δdiag_partial")
def jvp_diag_partial(dy, dy_dot, x, k):
    return diag_partial(dy_dot, x, k)


@forward_form("δrepeat_partial")
def jvp_repeat_partial(dy, dy_dot, x, repeats, axis):
    return repeat_partial(dy_dot, x, repeats, axis)


@forward_form("δtile_partial")
def jvp_tile_partial(dy, dy_dot, x, reps):
    return tile_partial(dy_dot, x, reps)


@forward_form("δtake_along_axis_partial")
def jvp_take_along_axis_partial(dy, dy_dot, x, indices, axis):
    return take_along_axis_partial(dy_dot, x, indices, axis)


@forward_form("δsum_partial")
def jvp_sum_partial(dy, dy_dot, x):
    return sum_partial(dy_dot, x)


@forward_form("δunstack_like")
def jvp_unstack_like(dy, dy_dot, x):
    return unstack_like(dy_dot, x)


@forward_form("δsafe_divide")
def jvp_safe_divide(a, a_dot, b, b_dot, y):
    return safe_divide(a_dot, b) - safe_divide(y * b_dot, b)
