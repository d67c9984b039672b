"""Rules for NumPy's elementwise functions (ufuncs and friends): one argument, then two, then three.

Each rule is inlined by the generator, so ``xp`` below is the array namespace of the differentiated
function's inputs at run time (NumPy itself for NumPy arrays and Python scalars); the array-API spellings
(``xp.asin``, ``xp.pow``...) are used wherever NumPy 2 has them, so one rule serves every array library.
Broadcasting is undone once per partial by ``unbroadcast``. At kinks the partial is a subgradient, never
NaN: ``abs'(0) = 0``, ties of maximum/minimum/clip split the cotangent equally.
"""

import math

import numpy as np
import numpy as xp  # the stand-in when a rule is called directly; inlined code binds the real namespace

from ..backend import special  # SciPy's i1 for NumPy, imported on first use (not with the package)
from ..runtime import log_base, power_base_partial, unbroadcast, where_tie_split
from .registry import rule
from .support import clip_partials, finite_mask, safe_divide, sinc_derivative, zeros_of

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_DEG = math.pi / 180.0


# ---- one argument -----------------------------------------------------------------------------------

@rule(np.exp, array_api=("exp",))
def δexp(x):
    y = xp.exp(x)
    def exp_pullback(dy):
        return (dy * y,)
    return y, exp_pullback


@rule(np.exp2)
def δexp2(x):
    y = xp.exp2(x)
    def exp2_pullback(dy):
        return (dy * y * _LN2,)
    return y, exp2_pullback


@rule(np.expm1, array_api=("expm1",))
def δexpm1(x):
    y = xp.expm1(x)
    def expm1_pullback(dy):
        return (dy * (y + 1),)
    return y, expm1_pullback


@rule(np.log, array_api=("log",))
def δlog(x):
    y = xp.log(x)
    def log_pullback(dy):
        return (dy / x,)
    return y, log_pullback


@rule(np.log2, array_api=("log2",))
def δlog2(x):
    y = xp.log2(x)
    def log2_pullback(dy):
        return (dy / (x * _LN2),)
    return y, log2_pullback


@rule(np.log10, array_api=("log10",))
def δlog10(x):
    y = xp.log10(x)
    def log10_pullback(dy):
        return (dy / (x * _LN10),)
    return y, log10_pullback


@rule(np.log1p, array_api=("log1p",))
def δlog1p(x):
    y = xp.log1p(x)
    def log1p_pullback(dy):
        return (dy / (1 + x),)
    return y, log1p_pullback


@rule(np.sqrt, array_api=("sqrt",))
def δsqrt(x):
    # Infinite at 0 exactly where NumPy's own derivative is.
    y = xp.sqrt(x)
    def sqrt_pullback(dy):
        return (dy / (2 * y),)
    return y, sqrt_pullback


@rule(np.cbrt)
def δcbrt(x):
    # Infinite at 0, like sqrt.
    y = np.cbrt(x)
    def cbrt_pullback(dy):
        return (dy / (3 * y * y),)
    return y, cbrt_pullback


@rule(np.square, array_api=("square",))
def δsquare(x):
    y = xp.square(x)
    def square_pullback(dy):
        return (dy * 2 * x,)
    return y, square_pullback


@rule(np.reciprocal, array_api=("reciprocal",))
def δreciprocal(x):
    y = 1.0 / x
    def reciprocal_pullback(dy):
        return (-dy * y * y,)
    return y, reciprocal_pullback


@rule(np.abs, array_api=("abs",))
def δabs(x):
    # Subgradient 0 at x == 0 (sign(0) == 0), never NaN. np.absolute is the same object.
    y = xp.abs(x)
    def abs_pullback(dy):
        return (dy * xp.sign(x),)
    return y, abs_pullback


@rule(np.fabs)
def δfabs(x):
    y = np.fabs(x)
    def fabs_pullback(dy):
        return (dy * xp.sign(x),)
    return y, fabs_pullback


@rule(np.negative, array_api=("negative",))
def δnegative(x):
    y = -x
    def negative_pullback(dy):
        return (-dy,)
    return y, negative_pullback


@rule(np.positive, array_api=("positive",))
def δpositive(x):
    y = +x
    def positive_pullback(dy):
        return (dy,)
    return y, positive_pullback


@rule(np.real, methods=("conj", "conjugate"), array_api=("real",))
def δreal(x):
    # Real inputs only (complex inputs are refused at the δ function's entry): the identity.
    y = np.real(x)
    def real_pullback(dy):
        return (dy,)
    return y, real_pullback


@rule(np.nan_to_num)
def δnan_to_num(x):
    # Replaced entries (NaN, +-inf) are constants: no gradient flows through them.
    y = np.nan_to_num(x)
    def nan_to_num_pullback(dy):
        return (dy * finite_mask(x),)
    return y, nan_to_num_pullback


@rule(np.i0)
def δi0(x):
    # d/dx I0(x) = I1(x).
    y = np.i0(x)
    def i0_pullback(dy):
        return (dy * special.i1(x),)
    return y, i0_pullback


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


@rule(np.arcsinh, array_api=("asinh",))
def δarcsinh(x):
    y = xp.asinh(x)
    def arcsinh_pullback(dy):
        return (dy / xp.sqrt(x * x + 1),)
    return y, arcsinh_pullback


@rule(np.arccosh, array_api=("acosh",))
def δarccosh(x):
    y = xp.acosh(x)
    def arccosh_pullback(dy):
        return (dy / xp.sqrt(x * x - 1),)
    return y, arccosh_pullback


@rule(np.arctanh, array_api=("atanh",))
def δarctanh(x):
    y = xp.atanh(x)
    def arctanh_pullback(dy):
        return (dy / (1 - x * x),)
    return y, arctanh_pullback


@rule(np.deg2rad, np.radians)
def δdeg2rad(x):
    y = x * _DEG
    def deg2rad_pullback(dy):
        return (dy * _DEG,)
    return y, deg2rad_pullback


@rule(np.rad2deg, np.degrees)
def δrad2deg(x):
    y = x / _DEG
    def rad2deg_pullback(dy):
        return (dy / _DEG,)
    return y, rad2deg_pullback


@rule(np.sinc)
def δsinc(x):
    # sinc(x) = sin(pi x) / (pi x); its derivative is 0 at x = 0, where the formula would give 0/0.
    y = np.sinc(x)
    def sinc_pullback(dy):
        return (dy * sinc_derivative(x),)
    return y, sinc_pullback


# ---- two arguments (broadcasting both ways) ---------------------------------------------------------

@rule(np.add, array_api=("add",))
def δnp_add(x, y):
    z = xp.add(x, y)
    def add_pullback(dz):
        return unbroadcast(dz, x), unbroadcast(dz, y)
    return z, add_pullback


@rule(np.subtract, array_api=("subtract",))
def δsubtract(x, y):
    z = xp.subtract(x, y)
    def subtract_pullback(dz):
        return unbroadcast(dz, x), unbroadcast(-dz, y)
    return z, subtract_pullback


@rule(np.multiply, array_api=("multiply",))
def δmultiply(x, y):
    z = xp.multiply(x, y)
    def multiply_pullback(dz):
        return unbroadcast(dz * y, x), unbroadcast(dz * x, y)
    return z, multiply_pullback


@rule(np.divide, array_api=("divide",))
def δdivide(x, y):
    # np.true_divide is np.divide.
    z = xp.divide(x, y)
    def divide_pullback(dz):
        return unbroadcast(dz / y, x), unbroadcast(-dz * z / y, y)
    return z, divide_pullback


@rule(np.power, array_api=("pow",))
def δpower(x, y):
    # np.pow is np.power. The base partial is finite at x <= 0 for integer powers; the exponent partial
    # x**y log x is taken as 0 where x <= 0, so a constant-looking base never yields NaN.
    z = xp.pow(x, y)
    def power_pullback(dz):
        return unbroadcast(dz * power_base_partial(x, y), x), unbroadcast(dz * z * log_base(x), y)
    return z, power_pullback


@rule(np.float_power)
def δfloat_power(x, y):
    z = np.float_power(x, y)
    def float_power_pullback(dz):
        return unbroadcast(dz * power_base_partial(x, y), x), unbroadcast(dz * z * log_base(x), y)
    return z, float_power_pullback


@rule(np.maximum, np.fmax, array_api=("maximum",))
def δmaximum(x, y):
    # Ties split the cotangent equally between the two sides.
    z = xp.maximum(x, y)
    def maximum_pullback(dz):
        share = where_tie_split(x, y)
        return unbroadcast(dz * share, x), unbroadcast(dz * (1 - share), y)
    return z, maximum_pullback


@rule(np.minimum, np.fmin, array_api=("minimum",))
def δminimum(x, y):
    z = xp.minimum(x, y)
    def minimum_pullback(dz):
        share = where_tie_split(y, x)
        return unbroadcast(dz * share, x), unbroadcast(dz * (1 - share), y)
    return z, minimum_pullback


@rule(np.hypot, array_api=("hypot",))
def δhypot(x, y):
    # At the origin the subgradient is 0 for both sides.
    z = xp.hypot(x, y)
    def hypot_pullback(dz):
        return unbroadcast(dz * safe_divide(x, z), x), unbroadcast(dz * safe_divide(y, z), y)
    return z, hypot_pullback


@rule(np.arctan2, array_api=("atan2",))
def δarctan2(y, x):
    # d/dy atan2(y, x) = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2); 0 at the origin.
    z = xp.atan2(y, x)
    def arctan2_pullback(dz):
        r2 = x * x + y * y
        return unbroadcast(dz * safe_divide(x, r2), y), unbroadcast(-dz * safe_divide(y, r2), x)
    return z, arctan2_pullback


@rule(np.logaddexp, array_api=("logaddexp",))
def δlogaddexp(x, y):
    z = xp.logaddexp(x, y)
    def logaddexp_pullback(dz):
        return unbroadcast(dz * xp.exp(x - z), x), unbroadcast(dz * xp.exp(y - z), y)
    return z, logaddexp_pullback


@rule(np.logaddexp2)
def δlogaddexp2(x, y):
    z = np.logaddexp2(x, y)
    def logaddexp2_pullback(dz):
        return unbroadcast(dz * xp.exp2(x - z), x), unbroadcast(dz * xp.exp2(y - z), y)
    return z, logaddexp2_pullback


@rule(np.mod, array_api=("remainder",))
def δmod(x, y):
    # np.remainder is np.mod. x mod y = x - floor(x / y) * y, with floor's derivative taken as 0.
    z = xp.remainder(x, y)
    def mod_pullback(dz):
        return unbroadcast(dz, x), unbroadcast(-dz * xp.floor(x / y), y)
    return z, mod_pullback


@rule(np.fmod)
def δfmod(x, y):
    # fmod(x, y) = x - trunc(x / y) * y (C's remainder), with trunc's derivative taken as 0.
    z = np.fmod(x, y)
    def fmod_pullback(dz):
        return unbroadcast(dz, x), unbroadcast(-dz * xp.trunc(x / y), y)
    return z, fmod_pullback


@rule(np.copysign, array_api=("copysign",))
def δcopysign(x, y):
    # |x| with y's sign: d/dx = sign(x) * (+-1 by y's sign bit), 0 at x == 0; piecewise constant in y.
    z = xp.copysign(x, y)
    def copysign_pullback(dz):
        return unbroadcast(dz * xp.sign(x) * xp.copysign(1.0, y), x), zeros_of(y)
    return z, copysign_pullback


# ---- three arguments --------------------------------------------------------------------------------

@rule(np.where, array_api=("where",))
def δwhere(condition, x, y):
    # The condition is piecewise constant: it gets a zero partial.
    z = xp.where(condition, x, y)
    def where_pullback(dz):
        return zeros_of(condition), unbroadcast(xp.where(condition, dz, 0.0), x), unbroadcast(xp.where(condition, 0.0, dz), y)
    return z, where_pullback


@rule(np.clip, methods=("clip",), array_api=("clip",))
def δclip(x, a_min=None, a_max=None):
    # clip = minimum(maximum(x, a_min), a_max); ties with a bound split the cotangent equally.
    z = np.clip(x, a_min, a_max)
    def clip_pullback(dz):
        dx, dlo, dhi = clip_partials(dz, x, a_min, a_max)
        return dx, dlo, dhi
    return z, clip_pullback
