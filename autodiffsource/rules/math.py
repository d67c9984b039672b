"""Rules for the :mod:`math` module: Python floats in, Python floats out, as the user wrote it."""

import math

from ..backend import special  # SciPy's digamma, imported on first use (not with the package)
from ..runtime import log_base, power_base_partial
from .registry import nondiff, rule
from .support import list_prod_partial, sum_partial

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_DEGREES_PER_RADIAN = 180.0 / math.pi


@rule(math.exp)
def δmath_exp(x):
    y = math.exp(x)
    def exp_pullback(dy):
        return (dy * y,)
    return y, exp_pullback


@rule(math.log)
def δmath_log(x, base=math.e):
    # log(x) / log(base): the base is differentiated too (d/dbase = -log_base(x) / (base log base)).
    y = math.log(x, base)
    def log_pullback(dy):
        return dy / (x * math.log(base)), -dy * y / (base * math.log(base))
    return y, log_pullback


@rule(math.log1p)
def δmath_log1p(x):
    y = math.log1p(x)
    def log1p_pullback(dy):
        return (dy / (1 + x),)
    return y, log1p_pullback


@rule(math.expm1)
def δmath_expm1(x):
    y = math.expm1(x)
    def expm1_pullback(dy):
        return (dy * (y + 1),)
    return y, expm1_pullback


@rule(math.sqrt)
def δmath_sqrt(x):
    y = math.sqrt(x)
    def sqrt_pullback(dy):
        return (dy / (2 * y),)
    return y, sqrt_pullback


@rule(math.fabs)
def δmath_fabs(x):
    y = math.fabs(x)
    def fabs_pullback(dy):
        return (dy * ((x > 0) - (x < 0)),)
    return y, fabs_pullback


@rule(math.sin)
def δmath_sin(x):
    y = math.sin(x)
    def sin_pullback(dy):
        return (dy * math.cos(x),)
    return y, sin_pullback


@rule(math.cos)
def δmath_cos(x):
    y = math.cos(x)
    def cos_pullback(dy):
        return (-dy * math.sin(x),)
    return y, cos_pullback


@rule(math.tan)
def δmath_tan(x):
    y = math.tan(x)
    def tan_pullback(dy):
        return (dy * (1 + y * y),)
    return y, tan_pullback


@rule(math.asin)
def δmath_asin(x):
    y = math.asin(x)
    def asin_pullback(dy):
        return (dy / math.sqrt(1 - x * x),)
    return y, asin_pullback


@rule(math.acos)
def δmath_acos(x):
    y = math.acos(x)
    def acos_pullback(dy):
        return (-dy / math.sqrt(1 - x * x),)
    return y, acos_pullback


@rule(math.atan)
def δmath_atan(x):
    y = math.atan(x)
    def atan_pullback(dy):
        return (dy / (1 + x * x),)
    return y, atan_pullback


@rule(math.sinh)
def δmath_sinh(x):
    y = math.sinh(x)
    def sinh_pullback(dy):
        return (dy * math.cosh(x),)
    return y, sinh_pullback


@rule(math.cosh)
def δmath_cosh(x):
    y = math.cosh(x)
    def cosh_pullback(dy):
        return (dy * math.sinh(x),)
    return y, cosh_pullback


@rule(math.tanh)
def δmath_tanh(x):
    y = math.tanh(x)
    def tanh_pullback(dy):
        return (dy * (1 - y * y),)
    return y, tanh_pullback


@rule(math.erf)
def δmath_erf(x):
    y = math.erf(x)
    def erf_pullback(dy):
        return (dy * _TWO_OVER_SQRT_PI * math.exp(-x * x),)
    return y, erf_pullback


@rule(math.erfc)
def δmath_erfc(x):
    y = math.erfc(x)
    def erfc_pullback(dy):
        return (-dy * _TWO_OVER_SQRT_PI * math.exp(-x * x),)
    return y, erfc_pullback


@rule(math.gamma)
def δmath_gamma(x):
    y = math.gamma(x)
    def gamma_pullback(dy):
        return (dy * y * float(special.digamma(x)),)
    return y, gamma_pullback


@rule(math.lgamma)
def δmath_lgamma(x):
    y = math.lgamma(x)
    def lgamma_pullback(dy):
        return (dy * float(special.digamma(x)),)
    return y, lgamma_pullback


@rule(math.log2)
def δmath_log2(x):
    y = math.log2(x)
    def log2_pullback(dy):
        return (dy / (x * _LN2),)
    return y, log2_pullback


@rule(math.log10)
def δmath_log10(x):
    y = math.log10(x)
    def log10_pullback(dy):
        return (dy / (x * _LN10),)
    return y, log10_pullback


@rule(getattr(math, "exp2", None))
def δmath_exp2(x):
    y = 2.0 ** x
    def exp2_pullback(dy):
        return (dy * y * _LN2,)
    return y, exp2_pullback


@rule(getattr(math, "cbrt", None))
def δmath_cbrt(x):
    # Infinite at 0, as the function's slope is.
    y = math.copysign(abs(x) ** (1.0 / 3.0), x)
    def cbrt_pullback(dy):
        return (dy / (3 * y * y),)
    return y, cbrt_pullback


@rule(math.pow)
def δmath_pow(x, y):
    # d/dy x**y = x**y log x, taken as 0 where x <= 0 (an integer power of a negative base).
    z = math.pow(x, y)
    def pow_pullback(dz):
        return dz * power_base_partial(x, y), dz * z * log_base(x)
    return z, pow_pullback


@rule(math.atan2)
def δmath_atan2(y, x):
    # 0 at the origin, where atan2 has no derivative.
    z = math.atan2(y, x)
    def atan2_pullback(dz):
        r2 = x * x + y * y
        return (dz * x / r2 if r2 else 0.0), (-dz * y / r2 if r2 else 0.0)
    return z, atan2_pullback


@rule(math.hypot)
def δmath_hypot(x, y):
    # Two arguments; 0 at the origin.
    z = math.hypot(x, y)
    def hypot_pullback(dz):
        return (dz * x / z if z else 0.0), (dz * y / z if z else 0.0)
    return z, hypot_pullback


@rule(math.asinh)
def δmath_asinh(x):
    y = math.asinh(x)
    def asinh_pullback(dy):
        return (dy / math.sqrt(x * x + 1),)
    return y, asinh_pullback


@rule(math.acosh)
def δmath_acosh(x):
    y = math.acosh(x)
    def acosh_pullback(dy):
        return (dy / math.sqrt(x * x - 1),)
    return y, acosh_pullback


@rule(math.atanh)
def δmath_atanh(x):
    y = math.atanh(x)
    def atanh_pullback(dy):
        return (dy / (1 - x * x),)
    return y, atanh_pullback


@rule(math.degrees)
def δmath_degrees(x):
    y = math.degrees(x)
    def degrees_pullback(dy):
        return (dy * _DEGREES_PER_RADIAN,)
    return y, degrees_pullback


@rule(math.radians)
def δmath_radians(x):
    y = math.radians(x)
    def radians_pullback(dy):
        return (dy / _DEGREES_PER_RADIAN,)
    return y, radians_pullback


@rule(math.copysign)
def δmath_copysign(x, y):
    # |x| with y's sign: d/dx = sign(x) * (+-1 by y's sign), 0 at x == 0; piecewise constant in y.
    z = math.copysign(x, y)
    def copysign_pullback(dz):
        return dz * ((x > 0) - (x < 0)) * math.copysign(1.0, y), 0.0
    return z, copysign_pullback


@rule(math.fmod)
def δmath_fmod(x, y):
    # x - trunc(x / y) * y, with trunc's derivative taken as 0.
    z = math.fmod(x, y)
    def fmod_pullback(dz):
        return dz, -dz * math.trunc(x / y)
    return z, fmod_pullback


@rule(math.remainder)
def δmath_remainder(x, y):
    # x - round(x / y) * y (IEEE remainder), with round's derivative taken as 0.
    z = math.remainder(x, y)
    def remainder_pullback(dz):
        return dz, -dz * round(x / y)
    return z, remainder_pullback


@rule(math.fsum)
def δmath_fsum(x):
    # An accurately rounded sum of a list (or array) of numbers: each item gets the cotangent.
    y = math.fsum(x)
    def fsum_pullback(dy):
        return (sum_partial(dy, x),)
    return y, fsum_pullback


@rule(math.prod, static=("start",))
def δmath_prod(x, start=1):
    # The product of a list of numbers: each gets the product of the others (exact with zeros).
    y = math.prod(x, start=start)
    def prod_pullback(dy):
        return list_prod_partial(dy * start, x), None
    return y, prod_pullback


@rule(math.dist)
def δmath_dist(p, q):
    # Euclidean distance between two points given as sequences; 0 where they coincide.
    y = math.dist(p, q)
    def dist_pullback(dy):
        dp = [dy * (a - b) / y if y else 0.0 for a, b in zip(p, q)]
        return dp, [-g for g in dp]
    return y, dist_pullback


@rule(math.modf, outputs=2)
def δmath_modf(x):
    # (fractional part, integer part): the fraction moves with x, the integer part is piecewise constant.
    frac, whole = math.modf(x)
    def modf_pullback(dfrac, dwhole):
        return (0.0 if dfrac is None else dfrac,)
    return frac, whole, modf_pullback


@rule(math.ldexp, static=("i",))
def δmath_ldexp(x, i):
    # x * 2**i with an integer exponent: the exponent gets no partial.
    y = math.ldexp(x, i)
    def ldexp_pullback(dy):
        return math.ldexp(dy, i), None
    return y, ldexp_pullback


nondiff(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, math.isclose, math.factorial,
        math.comb, math.perm, math.gcd, math.lcm, math.isqrt, math.frexp, math.nextafter, math.ulp)
