"""Rules for the helpers that generated pullbacks call, so generated gradients can be differentiated again.

Contract: each run-time helper a pullback uses (``runtime.unbroadcast``, ``index_add``, ``finalize``,
``matmul_left_partial``...) gets a reverse rule here, in the library's template form, and a forward kind
(declared linear, or a written forward form below). With them the
engine reads the flat gradient function of ``transform/flat.py`` like any user code: forward mode over
it is forward-over-reverse (Hessian-vector products), reverse mode over it is reverse-over-reverse.

Almost every helper is linear in the cotangent it moves, so its rule's pullback is the *transpose* of
that linear map: ``unbroadcast`` (a sum down to a shape) transposes to a broadcast, ``expand_reduced``
(a broadcast back over reduced axes) to a sum over them, ``index_add`` to reading at the index, and so
on. Arguments a helper reads only for their shape or dtype (``x`` in ``unbroadcast(g, x)``) are
``shape_only``: no partial, and forward mode passes them on unchanged. Masks, signs and tie shares are
piecewise constant: declared constants. ``rules/partial_helpers.py`` does the same for the partial
helpers of shape and indexing rules (``cumsum_partial``...).
"""

from __future__ import annotations

import numpy as np

from .. import runtime
from ..runtime import (add_cotangents, check_cotangent, copy_value, dot_left_partial, dot_primal, dot_right_partial,
                       expand_reduced, finalize, index_add, list_item_cotangent, matmul_left_partial,
                       matmul_right_partial, or_zeros, reduction_extreme_partial, seed_cotangent, take_any,
                       take_cotangent, unbroadcast, unbroadcast_to, without_index)
from .forward import declare_linear, forward_form
from .registry import REGISTRY, nondiff, rule
from .support import extreme_partial, finite_mask, indicator, squeeze_back, zeros_of

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


nondiff(held_constant, zeros_of, finite_mask, indicator, runtime.zeros_like, runtime.saved_shape, runtime.shape_of,
        runtime.reduced_count, runtime.inverse_permutation, runtime.sign_of, runtime.where_tie_split,
        runtime.writes_into, runtime.refuse_changed_view, runtime.refuse_update_through_view)


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


# ---- forward mode (rules/forward.py) ---------------------------------------------------------------
#
# Linear helpers: the rule's own computation applied to the tangent of what they move, shape-only and
# static arguments kept as they are. ``index_add`` writes into its buffer, so its tangent buffer is copied
# first: a tangent may be shared by two values whose primals are distinct arrays (``y = x + c`` has the
# tangent of ``x``). The bilinear partials follow the product rule.

declare_linear("δseed_cotangent", "δcheck_cotangent", "δunbroadcast", "δunbroadcast_to", "δexpand_reduced",
               "δfinalize", "δsqueeze_back", "δadd_cotangents", "δor_zeros", "δcopy_value",
               "δtake_cotangent", "δwithout_index", "δlist_item_cotangent", "δreduction_extreme_partial",
               "δextreme_partial", "δbroadcast_like", "δreduce_like", "δread_at")

@forward_form("δindex_add")
def jvp_index_add(buffer, buffer_dot, index, g, g_dot):
    return index_add(copy_value(buffer_dot), index, g_dot)


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
