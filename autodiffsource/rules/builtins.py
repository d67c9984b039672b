"""Rules for Python builtins: ``abs``, ``max``/``min`` (two arguments or one list), ``pow``, ``float``, ``sum``,
``list``/``tuple``/``reversed``/``sorted`` of a list or an array; constants like ``len``."""

import builtins

from ..runtime import inverse_permutation, log_base, power_base_partial, sign_of, unbroadcast
from .registry import nondiff, rule
from .support import extreme_of_partials, items_at, items_partial, sort_order, sum_partial


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


# ---- list, tuple, reversed, sorted: the items of a list or tuple, or the rows of an array, as a list ----------
# Each takes a list as it is (sequences=True) and its pullback sends each item's cotangent back to that item:
# into the list's cotangent, or into the array's row (zeros for an item never used).

@rule(builtins.list, sequences=True)
def δbuiltin_list(x):
    # list(W): W's rows (the 0-d entries of a 1-D array); list(items): a new list of the same items.
    y = list(x)
    def list_pullback(dy):
        return (items_partial(dy, x),)
    return y, list_pullback


@rule(builtins.tuple, sequences=True)
def δbuiltin_tuple(x):
    y = tuple(x)
    def tuple_pullback(dy):
        return (items_partial(dy, x),)
    return y, tuple_pullback


@rule(builtins.reversed, sequences=True)
def δbuiltin_reversed(x):
    # A list rather than Python's iterator: it iterates alike (in a loop, zip, enumerate, list, sum...).
    y = list(reversed(x))
    def reversed_pullback(dy):
        return (items_partial(dy[::-1], x),)
    return y, reversed_pullback


@rule(builtins.sorted, sequences=True, static=("key", "reverse"))
def δbuiltin_sorted(x, key=None, reverse=False):
    # A permutation of the items: each output's cotangent goes back to the item sorted into its place. Ties
    # keep their order in x (Python's sort is stable, reverse=True too), so the first of equal items gets the
    # first of their places. key only orders the items: no derivative flows through it.
    order = sort_order(x, key, reverse)
    y = items_at(x, order)
    def sorted_pullback(dy):
        return items_partial(items_at(dy, inverse_permutation(order)), x), None, None
    return y, sorted_pullback


@rule(items_at, static=("order",), sequences=True)
def δitems_at(x, order):
    # (sorted's value and tangent: order is a permutation of x's positions)
    y = items_at(x, order)
    def items_at_pullback(dy):
        return items_partial(items_at(dy, inverse_permutation(order)), x), None
    return y, items_at_pullback


nondiff(sort_order)
nondiff(builtins.len, builtins.round, builtins.int, builtins.bool, builtins.range, builtins.isinstance,
        builtins.print, builtins.type)
