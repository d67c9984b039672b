"""Rules for Python builtins: ``abs``, ``max``/``min`` (two arguments or one list), ``pow``, ``float``, ``sum``;
constants like ``len``."""

import builtins

from ..runtime import log_base, power_base_partial, sign_of, unbroadcast
from .registry import nondiff, rule
from .support import extreme_of_partials, sum_partial


@rule(builtins.abs)
def δbuiltin_abs(x):
    # abs(x) on Python numbers and arrays alike; subgradient 0 at 0.
    y = abs(x)
    def abs_pullback(dy):
        return (dy * sign_of(x),)
    return y, abs_pullback


@rule(builtins.max, sequences=True)
def δbuiltin_max(x, y=None):
    # Two arguments, or one list / 1-D array; tied maxima share the cotangent equally.
    z = max(x) if y is None else max(x, y)
    def max_pullback(dz):
        dx, dy = extreme_of_partials(dz, x, y, z, True)
        return dx, dy
    return z, max_pullback


@rule(builtins.min, sequences=True)
def δbuiltin_min(x, y=None):
    z = min(x) if y is None else min(x, y)
    def min_pullback(dz):
        dx, dy = extreme_of_partials(dz, x, y, z, False)
        return dx, dy
    return z, min_pullback


@rule(builtins.pow)
def δbuiltin_pow(x, y):
    z = pow(x, y)
    def pow_pullback(dz):
        return unbroadcast(dz * power_base_partial(x, y), x), unbroadcast(dz * z * log_base(x), y)
    return z, pow_pullback


@rule(builtins.sum, sequences=True)
def δbuiltin_sum(x, start=0):
    # sum of a list adds its items; sum of an array adds its rows (x[0] + x[1] + ...): each gets dy.
    y = sum(x, start)
    def sum_pullback(dy):
        return sum_partial(dy, x), unbroadcast(dy, start)
    return y, sum_pullback


@rule(builtins.float)
def δbuiltin_float(x):
    y = float(x)
    def float_pullback(dy):
        return (dy,)
    return y, float_pullback


nondiff(builtins.len, builtins.round, builtins.int, builtins.bool, builtins.range, builtins.isinstance,
        builtins.print, builtins.type)
