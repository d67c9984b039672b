"""Rules for NumPy's shape and data-movement functions: reshape, transpose, flip, pad, sort, diag, compress...

Every one of these is linear, so each partial is the adjoint data movement: reshape back, transpose by
the inverse permutation, roll by the negated shift, scatter-add for gathers (``take``, ``repeat``,
``pad``'s copying modes), so repeated sources add up rather than overwrite. Shapes, axes, shifts and
indices are static parameters.
"""

import numpy as np
import numpy as xp  # the stand-in when a rule is called directly; inlined code binds the real namespace

from ..runtime import expand_reduced, inverse_permutation, shape_of, take_any, transpose_axes, unbroadcast
from .registry import rule
from .support import (take_along_axis_partial,
                      astype_partial, concatenate_partials, split_partial, stack_partials, unstack_like, atleast_primal, diag_partial, diagonal_partial, negated_shift,
                      pad_partial, repeat_partial, sort_partial, squeeze_back, take_partial,
                      tile_partial)


# ---- reshaping --------------------------------------------------------------------------------------

@rule(np.reshape, methods=("reshape",), array_api=("reshape",), static=("shape",))
def δreshape(x, shape):
    y = xp.reshape(x, shape)
    def reshape_pullback(dy):
        return xp.reshape(dy, shape_of(x)), None
    return y, reshape_pullback


@rule(np.ravel, methods=("ravel", "flatten"))
def δravel(x):
    y = xp.reshape(x, (-1,))
    def ravel_pullback(dy):
        return (xp.reshape(dy, shape_of(x)),)
    return y, ravel_pullback


@rule(np.squeeze, methods=("squeeze",), array_api=("squeeze",), static=("axis",))
def δsqueeze(x, axis=None):
    y = np.squeeze(x, axis=axis)
    def squeeze_pullback(dy):
        return squeeze_back(dy, x), None
    return y, squeeze_pullback


@rule(np.expand_dims, array_api=("expand_dims",), static=("axis",))
def δexpand_dims(x, axis):
    y = np.expand_dims(x, axis)
    def expand_dims_pullback(dy):
        return squeeze_back(dy, x), None
    return y, expand_dims_pullback


@rule(np.atleast_1d)
def δatleast_1d(x):
    y = atleast_primal(x, 1)
    def atleast_1d_pullback(dy):
        return (squeeze_back(dy, x),)
    return y, atleast_1d_pullback


@rule(np.atleast_2d)
def δatleast_2d(x):
    y = atleast_primal(x, 2)
    def atleast_2d_pullback(dy):
        return (squeeze_back(dy, x),)
    return y, atleast_2d_pullback


@rule(np.atleast_3d)
def δatleast_3d(x):
    y = atleast_primal(x, 3)
    def atleast_3d_pullback(dy):
        return (squeeze_back(dy, x),)
    return y, atleast_3d_pullback


@rule(np.broadcast_to, array_api=("broadcast_to",), static=("shape",))
def δbroadcast_to(x, shape):
    y = xp.broadcast_to(x, shape)
    def broadcast_to_pullback(dy):
        return unbroadcast(dy, x), None
    return y, broadcast_to_pullback


# ---- axes -------------------------------------------------------------------------------------------

@rule(np.transpose, getattr(np, "permute_dims", None), methods=("transpose",), array_api=("permute_dims",),
      static=("axes",))
def δtranspose(x, axes=None):
    permutation = transpose_axes(x, axes)
    y = xp.permute_dims(x, permutation)
    def transpose_pullback(dy):
        return xp.permute_dims(dy, inverse_permutation(permutation)), None
    return y, transpose_pullback


def matrix_T(x):
    """Primal of the attribute ``x.T``: the lowering stage maps ``.T`` here."""
    return x.T


@rule(matrix_T)
def δmatrix_T(x):
    y = x.T
    def matrix_T_pullback(dy):
        return (dy.T,)
    return y, matrix_T_pullback


@rule(getattr(np, "matrix_transpose", None), np.linalg.matrix_transpose, array_api=("matrix_transpose",))
def δmatrix_transpose(x):
    y = np.swapaxes(x, -1, -2)
    def matrix_transpose_pullback(dy):
        return (np.swapaxes(dy, -1, -2),)
    return y, matrix_transpose_pullback


@rule(np.swapaxes, methods=("swapaxes",), static=("axis1", "axis2"))
def δswapaxes(x, axis1, axis2):
    y = np.swapaxes(x, axis1, axis2)
    def swapaxes_pullback(dy):
        return np.swapaxes(dy, axis1, axis2), None, None
    return y, swapaxes_pullback


@rule(np.moveaxis, array_api=("moveaxis",), static=("source", "destination"))
def δmoveaxis(x, source, destination):
    y = xp.moveaxis(x, source, destination)
    def moveaxis_pullback(dy):
        return xp.moveaxis(dy, destination, source), None, None
    return y, moveaxis_pullback


@rule(np.flip, array_api=("flip",), static=("axis",))
def δflip(x, axis=None):
    y = xp.flip(x, axis=axis)
    def flip_pullback(dy):
        return xp.flip(dy, axis=axis), None
    return y, flip_pullback


@rule(np.fliplr)
def δfliplr(x):
    y = np.fliplr(x)
    def fliplr_pullback(dy):
        return (np.fliplr(dy),)
    return y, fliplr_pullback


@rule(np.flipud)
def δflipud(x):
    y = np.flipud(x)
    def flipud_pullback(dy):
        return (np.flipud(dy),)
    return y, flipud_pullback


@rule(np.roll, array_api=("roll",), static=("shift", "axis"))
def δroll(x, shift, axis=None):
    y = xp.roll(x, shift, axis=axis)
    def roll_pullback(dy):
        return xp.roll(dy, negated_shift(shift), axis=axis), None, None
    return y, roll_pullback


@rule(np.rot90, static=("k", "axes"))
def δrot90(x, k=1, axes=(0, 1)):
    y = np.rot90(x, k, axes)
    def rot90_pullback(dy):
        return np.rot90(dy, -k, axes), None, None
    return y, rot90_pullback


# ---- copies and gathers -----------------------------------------------------------------------------

@rule(np.tile, array_api=("tile",), static=("reps",))
def δtile(x, reps):
    y = np.tile(x, reps)
    def tile_pullback(dy):
        return tile_partial(dy, x, reps), None
    return y, tile_pullback


@rule(np.repeat, methods=("repeat",), array_api=("repeat",), static=("repeats", "axis"))
def δrepeat(x, repeats, axis=None):
    y = np.repeat(x, repeats, axis=axis)
    def repeat_pullback(dy):
        return repeat_partial(dy, x, repeats, axis), None, None
    return y, repeat_pullback


def pad_primal(x, pad_width, mode="constant", constant_values=0):
    """``np.pad`` with ``constant_values`` passed only in constant mode (the other modes refuse it)."""
    if mode == "constant":
        return np.pad(x, pad_width, mode="constant", constant_values=constant_values)
    return np.pad(x, pad_width, mode=mode)


@rule(np.pad, static=("pad_width", "mode", "constant_values"))
def δpad(x, pad_width, mode="constant", constant_values=0):
    # Copying modes only (constant, edge, reflect, symmetric, wrap); statistics modes are refused.
    y = pad_primal(x, pad_width, mode, constant_values)
    def pad_pullback(dy):
        return pad_partial(dy, x, pad_width, mode), None, None, None
    return y, pad_pullback


@rule(np.take, methods=("take",), array_api=("take",), static=("indices", "axis"))
def δtake(x, indices, axis=None):
    # Repeated indices add up (scatter-add).
    y = take_any(x, indices, axis)
    def take_pullback(dy):
        return take_partial(dy, x, indices, axis), None, None
    return y, take_pullback


@rule(np.compress, static=("condition", "axis"))
def δcompress(condition, a, axis=None):
    # A take of the places where the (constant) condition holds: the cotangent goes back there, 0 elsewhere.
    y = np.compress(condition, a, axis=axis)
    def compress_pullback(dy):
        return None, take_partial(dy, a, np.flatnonzero(condition), axis), None
    return y, compress_pullback


@rule(np.extract, static=("condition",))
def δextract(condition, arr):
    # compress of the flattened arrays.
    y = np.extract(condition, arr)
    def extract_pullback(dy):
        return None, take_partial(dy, arr, np.flatnonzero(condition), None)
    return y, extract_pullback


@rule(np.take_along_axis, static=("indices", "axis"))
def δtake_along_axis(x, indices, axis):
    # Repeated indices add up (scatter-add).
    y = np.take_along_axis(x, indices, axis)
    def take_along_axis_pullback(dy):
        return take_along_axis_partial(dy, x, indices, axis), None, None
    return y, take_along_axis_pullback


@rule(np.append, static=("axis",), sequences=True)
def δappend(x, values, axis=None):
    y = np.append(x, values, axis=axis)
    def append_pullback(dy):
        dx, dvalues = concatenate_partials(dy, [x, values], axis)
        return dx, dvalues, None
    return y, append_pullback


@rule(np.sort, array_api=("sort",), static=("axis",))
def δsort(x, axis=-1):
    # Equal values are ordered stably; their cotangents go back to the elements they came from. (The
    # namespace's sort: NumPy's for `np.sort`, the array's own for `xp.sort` on a tensor.)
    y = xp.sort(xp.reshape(x, (-1,)), stable=True) if axis is None else xp.sort(x, axis=axis, stable=True)
    def sort_pullback(dy):
        return sort_partial(dy, x, axis), None
    return y, sort_pullback


# ---- diagonals and triangles ------------------------------------------------------------------------

@rule(np.diag, static=("k",))
def δdiag(x, k=0):
    y = np.diag(x, k)
    def diag_pullback(dy):
        return diag_partial(dy, x, k), None
    return y, diag_pullback


@rule(np.diagonal, methods=("diagonal",), static=("offset", "axis1", "axis2"))
def δdiagonal(x, offset=0, axis1=0, axis2=1):
    y = np.diagonal(x, offset, axis1, axis2)
    def diagonal_pullback(dy):
        return diagonal_partial(dy, x, offset, axis1, axis2), None, None, None
    return y, diagonal_pullback


@rule(getattr(np.linalg, "diagonal", None), static=("offset",))
def δlinalg_diagonal(x, offset=0):
    # NumPy 2's np.linalg.diagonal: the diagonals of the last two axes (np.diagonal's default is the first two).
    y = np.linalg.diagonal(x, offset=offset)
    def linalg_diagonal_pullback(dy):
        return diagonal_partial(dy, x, offset, -2, -1), None
    return y, linalg_diagonal_pullback


@rule(np.triu, static=("k",))
def δtriu(x, k=0):
    y = np.triu(x, k)
    def triu_pullback(dy):
        return np.triu(dy, k), None
    return y, triu_pullback


@rule(np.tril, static=("k",))
def δtril(x, k=0):
    y = np.tril(x, k)
    def tril_pullback(dy):
        return np.tril(dy, k), None
    return y, tril_pullback


# ---- lists of arrays ---------------------------------------------------------------------------------
# The list argument is a container value: its cotangent is a list with one partial per array.

@rule(np.concatenate, np.concat, array_api=("concat",), static=("axis",), sequences=True)
def δconcatenate(arrays, axis=0):
    y = xp.concat(arrays, axis=axis)
    def concatenate_pullback(dy):
        return concatenate_partials(dy, arrays, axis), None
    return y, concatenate_pullback


@rule(np.stack, array_api=("stack",), static=("axis",), sequences=True)
def δstack(arrays, axis=0):
    y = xp.stack(arrays, axis=axis)
    def stack_pullback(dy):
        return stack_partials(dy, arrays, axis), None
    return y, stack_pullback


@rule(np.hstack, sequences=True)
def δhstack(tup):
    y = np.hstack(tup)
    def hstack_pullback(dy):
        return (concatenate_partials(dy, tup, 0, "hstack"),)
    return y, hstack_pullback


@rule(np.vstack, sequences=True)
def δvstack(tup):
    y = np.vstack(tup)
    def vstack_pullback(dy):
        return (concatenate_partials(dy, tup, 0, "vstack"),)
    return y, vstack_pullback


@rule(np.dstack, sequences=True)
def δdstack(tup):
    y = np.dstack(tup)
    def dstack_pullback(dy):
        return (concatenate_partials(dy, tup, 2, "dstack"),)
    return y, dstack_pullback


@rule(np.column_stack, sequences=True)
def δcolumn_stack(tup):
    y = np.column_stack(tup)
    def column_stack_pullback(dy):
        return (concatenate_partials(dy, tup, 1, "column_stack"),)
    return y, column_stack_pullback


@rule(np.split, np.array_split, static=("indices_or_sections", "axis"))
def δsplit(x, indices_or_sections, axis=0):
    # A list of parts; each part's cotangent goes back into its slice (unused parts give zeros).
    y = np.array_split(x, indices_or_sections, axis=axis)
    def split_pullback(dy):
        return split_partial(dy, x, axis), None, None
    return y, split_pullback


# ---- conversions ------------------------------------------------------------------------------------

@rule(methods=("astype",), static=("dtype",))
def δastype(x, dtype):
    # A cast to a float type passes the cotangent back (cast to x's dtype); a cast to int/bool is a constant.
    y = x.astype(dtype)
    def astype_pullback(dy):
        return astype_partial(dy, x, dtype), None
    return y, astype_pullback


@rule(np.asarray, np.array, np.asanyarray, static=("dtype",), sequences=True)
def δasarray(x, dtype=None):
    # x may be a (nested) list of arrays and numbers: np.array([a, b]) stacks them.
    y = np.asarray(x, dtype=dtype)
    def asarray_pullback(dy):
        return unstack_like(dy, x), None
    return y, asarray_pullback


@rule(np.ascontiguousarray, static=("dtype",))
def δascontiguousarray(x, dtype=None):
    # At least 1-D, as NumPy returns it.
    y = np.ascontiguousarray(x, dtype=dtype)
    def ascontiguousarray_pullback(dy):
        return squeeze_back(dy, x), None
    return y, ascontiguousarray_pullback


@rule(np.asfortranarray, static=("dtype",))
def δasfortranarray(x, dtype=None):
    y = np.asfortranarray(x, dtype=dtype)
    def asfortranarray_pullback(dy):
        return squeeze_back(dy, x), None
    return y, asfortranarray_pullback


@rule(np.copy, methods=("copy",))
def δcopy(x):
    y = np.copy(x)
    def copy_pullback(dy):
        return (dy,)
    return y, copy_pullback


@rule(methods=("item",))
def δitem(x):
    # A one-element array to a Python number: the cotangent goes back to that element.
    y = x.item()
    def item_pullback(dy):
        return (expand_reduced(dy, x, None, False),)
    return y, item_pullback


@rule(np.float64, np.double)
def δfloat64(x):
    y = np.float64(x)
    def float64_pullback(dy):
        return (dy,)
    return y, float64_pullback


@rule(np.float32, np.single)
def δfloat32(x):
    y = np.float32(x)
    def float32_pullback(dy):
        return (dy,)
    return y, float32_pullback
