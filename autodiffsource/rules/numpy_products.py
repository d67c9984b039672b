"""Rules for NumPy's products: dot, vdot, inner, outer, matmul, tensordot, einsum, kron, cross; NumPy 2's
``np.linalg`` spellings of matmul, outer and cross, and ``np.matvec``/``np.vecmat`` (NumPy 2.2 on).

matmul handles batches (broadcast batch dimensions are summed back) and 1-D operands on either side;
einsum handles any subscripts with up to four operands, including traces (``'ii->'``), ellipses, implicit
output and batch letters, by contracting the cotangent with the other operands.
"""

import numpy as np
import numpy as xp  # the stand-in when a rule is called directly; inlined code binds the real namespace

from ..runtime import dot_left_partial, dot_primal, dot_right_partial, matmul_left_partial, matmul_right_partial
from .registry import rule
from .support_products import (convolve_partials, correlate_partials, interp_partials, polyval_partials,
                               vecdot_partials)
from .support_products import (cross_partials, einsum_partial, einsum_primal, inner_partials, kron_partials,
                      outer_partials, tensordot_partials, vdot_partial)


@rule(np.dot, methods=("dot",))
def δdot(x, y):
    z = dot_primal(x, y)
    def dot_pullback(dz):
        return dot_left_partial(dz, x, y), dot_right_partial(dz, x, y)
    return z, dot_pullback


@rule(np.matmul, getattr(np.linalg, "matmul", None), array_api=("matmul",))
def δnp_matmul(x, y):
    z = xp.matmul(x, y)
    def matmul_pullback(dz):
        return matmul_left_partial(dz, x, y), matmul_right_partial(dz, x, y)
    return z, matmul_pullback


@rule(np.vdot)
def δvdot(x, y):
    # Real inputs: the dot product of the flattened arrays.
    z = np.vdot(x, y)
    def vdot_pullback(dz):
        return vdot_partial(dz, y, x), vdot_partial(dz, x, y)
    return z, vdot_pullback


@rule(np.inner)
def δinner(x, y):
    z = np.inner(x, y)
    def inner_pullback(dz):
        dx, dy = inner_partials(dz, x, y)
        return dx, dy
    return z, inner_pullback


@rule(np.outer)
def δouter(x, y):
    z = np.outer(x, y)
    def outer_pullback(dz):
        dx, dy = outer_partials(dz, x, y)
        return dx, dy
    return z, outer_pullback


@rule(np.tensordot, array_api=("tensordot",), static=("axes",))
def δtensordot(x, y, axes=2):
    z = np.tensordot(x, y, axes=axes)
    def tensordot_pullback(dz):
        dx, dy = tensordot_partials(dz, x, y, axes)
        return dx, dy, None
    return z, tensordot_pullback


@rule(np.einsum, static=("subscripts",), sequences=True)
def δeinsum(subscripts, a, b=None, c=None, d=None):
    # Up to four operands (a fixed signature keeps the rule inlinable); each partial is one einsum.
    z = einsum_primal(subscripts, a, b, c, d)
    def einsum_pullback(dz):
        da = einsum_partial(dz, subscripts, 0, a, b, c, d)
        db = einsum_partial(dz, subscripts, 1, a, b, c, d)
        dc = einsum_partial(dz, subscripts, 2, a, b, c, d)
        dd = einsum_partial(dz, subscripts, 3, a, b, c, d)
        return None, da, db, dc, dd
    return z, einsum_pullback


@rule(getattr(np, "vecdot", None), getattr(np.linalg, "vecdot", None), array_api=("vecdot",), static=("axis",))
def δvecdot(x, y, axis=-1):
    z = np.vecdot(x, y, axis=axis)
    def vecdot_pullback(dz):
        dx, dy = vecdot_partials(dz, x, y, axis)
        return dx, dy, None
    return z, vecdot_pullback


@rule(np.convolve, static=("mode",))
def δconvolve(x, y, mode="full"):
    z = np.convolve(x, y, mode=mode)
    def convolve_pullback(dz):
        dx, dy = convolve_partials(dz, x, y, mode)
        return dx, dy, None
    return z, convolve_pullback


@rule(np.correlate, static=("mode",))
def δcorrelate(x, y, mode="valid"):
    z = np.correlate(x, y, mode=mode)
    def correlate_pullback(dz):
        dx, dy = correlate_partials(dz, x, y, mode)
        return dx, dy, None
    return z, correlate_pullback


@rule(np.interp, static=("points", "left", "right"))
def δinterp(x, points, fp, left=None, right=None):
    # np.interp(x, xp, fp): piecewise linear in x (the slope of the interval to the right at a breakpoint),
    # linear in fp. The breakpoints are constants (named `points` here: `xp` means the array namespace).
    y = np.interp(x, points, fp, left=left, right=right)
    def interp_pullback(dy):
        dx, dfp = interp_partials(dy, x, points, fp, left, right)
        return dx, None, dfp, None, None
    return y, interp_pullback


@rule(np.polyval)
def δpolyval(p, x):
    y = np.polyval(p, x)
    def polyval_pullback(dy):
        dp, dx = polyval_partials(dy, p, x)
        return dp, dx
    return y, polyval_pullback


@rule(np.kron)
def δkron(x, y):
    z = np.kron(x, y)
    def kron_pullback(dz):
        dx, dy = kron_partials(dz, x, y)
        return dx, dy
    return z, kron_pullback


@rule(np.cross, static=("axis",))
def δcross(x, y, axis=-1):
    # 3-vectors along `axis` (2-vectors are deprecated by NumPy): b x dz and dz x a.
    z = np.cross(x, y, axis=axis)
    def cross_pullback(dz):
        dx, dy = cross_partials(dz, x, y, axis)
        return dx, dy, None
    return z, cross_pullback


# NumPy 2's np.linalg.outer and np.linalg.cross: np.outer's and np.cross's partials, but their own primals, which
# refuse what the array API leaves out (inputs that are not 1-D, 2-vectors) where np.outer and np.cross take them.
@rule(getattr(np.linalg, "outer", None))
def δlinalg_outer(x, y):
    z = np.linalg.outer(x, y)
    def linalg_outer_pullback(dz):
        dx, dy = outer_partials(dz, x, y)
        return dx, dy
    return z, linalg_outer_pullback


@rule(getattr(np.linalg, "cross", None), static=("axis",))
def δlinalg_cross(x, y, axis=-1):
    z = np.linalg.cross(x, y, axis=axis)
    def linalg_cross_pullback(dz):
        dx, dy = cross_partials(dz, x, y, axis)
        return dx, dy, None
    return z, linalg_cross_pullback


# matvec(x, y) is x @ y[..., None] without its last axis, vecmat(x, y) is x[..., None, :] @ y without its
# next-to-last (real inputs: vecmat's conjugate is the identity): matmul's partials of those.
@rule(getattr(np, "matvec", None))
def δmatvec(x, y):
    z = np.matvec(x, y)
    def matvec_pullback(dz):
        return (matmul_left_partial(dz[..., None], x, y[..., None]),
                matmul_right_partial(dz[..., None], x, y[..., None])[..., 0])
    return z, matvec_pullback


@rule(getattr(np, "vecmat", None))
def δvecmat(x, y):
    z = np.vecmat(x, y)
    def vecmat_pullback(dz):
        return (matmul_left_partial(dz[..., None, :], x[..., None, :], y)[..., 0, :],
                matmul_right_partial(dz[..., None, :], x[..., None, :], y))
    return z, vecmat_pullback
