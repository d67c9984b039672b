"""Rules for the :mod:`math` module: Python floats in, Python floats out, as the user wrote it."""

import math

from scipy.special import digamma

from .registry import nondiff, rule

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


@rule(math.exp)
def δmath_exp(x):
    y = math.exp(x)
    def exp_pullback(dy):
        return (dy * y,)
    return y, exp_pullback


@rule(math.log)
def δmath_log(x, base=math.e):
    y = math.log(x, base)
    def log_pullback(dy):
        return dy / (x * math.log(base)), None
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
        return (dy * y * float(digamma(x)),)
    return y, gamma_pullback


@rule(math.lgamma)
def δmath_lgamma(x):
    y = math.lgamma(x)
    def lgamma_pullback(dy):
        return (dy * float(digamma(x)),)
    return y, lgamma_pullback


nondiff(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, math.copysign)
