"""Rules for NumPy functions and ndarray methods (the seed's list; breadth grows in its own issue).

Each rule is inlined by the generator, so ``xp`` below is the array namespace of the differentiated
function's inputs at run time (NumPy itself for NumPy arrays and Python scalars). Names are the array-API
spellings, which NumPy 2 also has, so one rule serves every array library.
"""

import numpy as np
import numpy as xp  # the stand-in when a rule is called directly; inlined code binds the real namespace

from ..runtime import dot_left_partial, dot_primal, dot_right_partial, expand_reduced, inverse_permutation
from ..runtime import reduced_count, reduction_extreme_partial, shape_of, transpose_axes, unbroadcast
from ..runtime import where_tie_split
from .registry import nondiff, nondiff_attributes, nondiff_methods, rule


# ---- elementwise, one argument ----------------------------------------------------------------------

@rule(np.exp, array_api=("exp",))
def δexp(x):
    y = xp.exp(x)
    def exp_pullback(dy):
        return (dy * y,)
    return y, exp_pullback


@rule(np.log, array_api=("log",))
def δlog(x):
    y = xp.log(x)
    def log_pullback(dy):
        return (dy / x,)
    return y, log_pullback


@rule(np.log1p, array_api=("log1p",))
def δlog1p(x):
    y = xp.log1p(x)
    def log1p_pullback(dy):
        return (dy / (1 + x),)
    return y, log1p_pullback


@rule(np.expm1, array_api=("expm1",))
def δexpm1(x):
    y = xp.expm1(x)
    def expm1_pullback(dy):
        return (dy * (y + 1),)
    return y, expm1_pullback


@rule(np.sqrt, array_api=("sqrt",))
def δsqrt(x):
    # Infinite at 0 exactly where NumPy's own derivative is.
    y = xp.sqrt(x)
    def sqrt_pullback(dy):
        return (dy / (2 * y),)
    return y, sqrt_pullback


@rule(np.abs, array_api=("abs",))
def δabs(x):
    # Subgradient 0 at x == 0 (sign(0) == 0), never NaN.
    y = xp.abs(x)
    def abs_pullback(dy):
        return (dy * xp.sign(x),)
    return y, abs_pullback


@rule(np.sin, array_api=("sin",))
def δsin(x):
    y = xp.sin(x)
    def sin_pullback(dy):
        return (dy * xp.cos(x),)
    return y, sin_pullback


@rule(np.cos, array_api=("cos",))
def δcos(x):
    y = xp.cos(x)
    def cos_pullback(dy):
        return (-dy * xp.sin(x),)
    return y, cos_pullback


@rule(np.tan, array_api=("tan",))
def δtan(x):
    y = xp.tan(x)
    def tan_pullback(dy):
        return (dy * (1 + y * y),)
    return y, tan_pullback


@rule(np.sinh, array_api=("sinh",))
def δsinh(x):
    y = xp.sinh(x)
    def sinh_pullback(dy):
        return (dy * xp.cosh(x),)
    return y, sinh_pullback


@rule(np.cosh, array_api=("cosh",))
def δcosh(x):
    y = xp.cosh(x)
    def cosh_pullback(dy):
        return (dy * xp.sinh(x),)
    return y, cosh_pullback


@rule(np.tanh, array_api=("tanh",))
def δtanh(x):
    y = xp.tanh(x)
    def tanh_pullback(dy):
        return (dy * (1 - y * y),)
    return y, tanh_pullback


@rule(np.arcsin, array_api=("asin",))
def δarcsin(x):
    y = xp.asin(x)
    def arcsin_pullback(dy):
        return (dy / xp.sqrt(1 - x * x),)
    return y, arcsin_pullback


@rule(np.arccos, array_api=("acos",))
def δarccos(x):
    y = xp.acos(x)
    def arccos_pullback(dy):
        return (-dy / xp.sqrt(1 - x * x),)
    return y, arccos_pullback


@rule(np.arctan, array_api=("atan",))
def δarctan(x):
    y = xp.atan(x)
    def arctan_pullback(dy):
        return (dy / (1 + x * x),)
    return y, arctan_pullback


# ---- elementwise, two arguments ---------------------------------------------------------------------

@rule(np.maximum, array_api=("maximum",))
def δmaximum(x, y):
    # Ties split the cotangent equally between the two sides.
    z = xp.maximum(x, y)
    def maximum_pullback(dz):
        share = where_tie_split(x, y)
        return unbroadcast(dz * share, x), unbroadcast(dz * (1 - share), y)
    return z, maximum_pullback


@rule(np.minimum, array_api=("minimum",))
def δminimum(x, y):
    z = xp.minimum(x, y)
    def minimum_pullback(dz):
        share = where_tie_split(y, x)
        return unbroadcast(dz * share, x), unbroadcast(dz * (1 - share), y)
    return z, minimum_pullback


@rule(np.mod, array_api=("remainder",))
def δmod(x, y):
    # x mod y = x - floor(x / y) * y, with floor's derivative taken as 0.
    z = xp.remainder(x, y)
    def mod_pullback(dz):
        return unbroadcast(dz, x), unbroadcast(-dz * xp.floor(x / y), y)
    return z, mod_pullback


@rule(np.dot, methods=("dot",))
def δdot(x, y):
    z = dot_primal(x, y)
    def dot_pullback(dz):
        return dot_left_partial(dz, x, y), dot_right_partial(dz, x, y)
    return z, dot_pullback


@rule(np.matmul, array_api=("matmul",))
def δnp_matmul(x, y):
    z = xp.matmul(x, y)
    def matmul_pullback(dz):
        return dot_left_partial(dz, x, y), dot_right_partial(dz, x, y)
    return z, matmul_pullback


# ---- reductions -------------------------------------------------------------------------------------

@rule(np.sum, methods=("sum",), array_api=("sum",), static=("axis", "keepdims"))
def δsum(x, axis=None, keepdims=False):
    y = xp.sum(x, axis=axis, keepdims=keepdims)
    def sum_pullback(dy):
        return expand_reduced(dy, x, axis, keepdims), None, None
    return y, sum_pullback


@rule(np.mean, methods=("mean",), array_api=("mean",), static=("axis", "keepdims"))
def δmean(x, axis=None, keepdims=False):
    y = xp.mean(x, axis=axis, keepdims=keepdims)
    def mean_pullback(dy):
        return expand_reduced(dy, x, axis, keepdims) / reduced_count(x, axis), None, None
    return y, mean_pullback


@rule(np.max, np.amax, methods=("max",), array_api=("max",), static=("axis", "keepdims"))
def δmax(x, axis=None, keepdims=False):
    # Tied maxima share the cotangent equally.
    y = xp.max(x, axis=axis, keepdims=keepdims)
    def max_pullback(dy):
        return reduction_extreme_partial(dy, x, y, axis, keepdims), None, None
    return y, max_pullback


@rule(np.min, np.amin, methods=("min",), array_api=("min",), static=("axis", "keepdims"))
def δmin(x, axis=None, keepdims=False):
    y = xp.min(x, axis=axis, keepdims=keepdims)
    def min_pullback(dy):
        return reduction_extreme_partial(dy, x, y, axis, keepdims), None, None
    return y, min_pullback


# ---- shape ------------------------------------------------------------------------------------------

@rule(np.transpose, methods=("transpose",), array_api=("permute_dims",), static=("axes",))
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


# ---- constants: results that carry no derivative ----------------------------------------------------

nondiff(
    np.shape, np.ndim, np.size, np.sign, np.floor, np.ceil, np.trunc, np.round, np.rint, np.fix,
    np.zeros, np.ones, np.empty, np.full, np.zeros_like, np.ones_like, np.empty_like, np.full_like,
    np.arange, np.linspace, np.eye, np.identity, np.argmax, np.argmin, np.argsort, np.nonzero,
    np.isnan, np.isinf, np.isfinite, np.equal, np.not_equal, np.less, np.less_equal, np.greater,
    np.greater_equal, np.logical_and, np.logical_or, np.logical_not, np.any, np.all,
    np.random.seed, np.random.rand, np.random.randn, np.random.random, np.random.normal,
    np.random.uniform, np.random.randint, np.random.default_rng,
)
nondiff_methods("argmax", "argmin", "argsort", "nonzero", "any", "all", "copy_shape")
nondiff_attributes("shape", "ndim", "size", "dtype", "device")
