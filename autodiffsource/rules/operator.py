"""Rules for Python's operators (``+ - * / ** @``, unary ``-``/``+``, subscripts) on scalars and arrays.

The lowering stage maps each operator to the function in :mod:`operator` (``a + b`` ->
``operator.add``), so these rules are found like any other. Broadcasting is undone by ``unbroadcast``,
once per rule, never by hand.
"""

import operator

from ..runtime import augmented_result, index_add, log_base, matmul_left_partial, matmul_right_partial
from ..runtime import power_base_partial
from ..runtime import list_item_cotangent, unbroadcast, zeros_like
from .registry import rule


# ---- arithmetic -------------------------------------------------------------------------------------

@rule(operator.add, operator.iadd)
def δadd(x, y):
    z = x + y
    def add_pullback(dz):
        return unbroadcast(dz, x), unbroadcast(dz, y)
    return z, add_pullback


@rule(operator.sub, operator.isub)
def δsub(x, y):
    z = x - y
    def sub_pullback(dz):
        return unbroadcast(dz, x), unbroadcast(-dz, y)
    return z, sub_pullback


@rule(operator.mul, operator.imul)
def δmul(x, y):
    z = x * y
    def mul_pullback(dz):
        return unbroadcast(dz * y, x), unbroadcast(dz * x, y)
    return z, mul_pullback


@rule(operator.truediv, operator.itruediv)
def δtruediv(x, y):
    z = x / y
    def truediv_pullback(dz):
        return unbroadcast(dz / y, x), unbroadcast(-dz * z / y, y)
    return z, truediv_pullback


@rule(operator.mod)
def δmod_operator(x, y):
    # `x % y` as Python spells it: a Python float for Python floats (np.mod would make an np.float64, which
    # warns and gives inf where Python raises), NumPy's mod for arrays. x - floor(x / y) * y, with floor's
    # derivative taken as 0.
    z = x % y
    def mod_pullback(dz):
        return unbroadcast(dz, x), unbroadcast(-dz * xp.floor(x / y), y)
    return z, mod_pullback


@rule(operator.pow, operator.ipow)
def δpow(x, y):
    # d/dx x**y = y x**(y-1) (finite at x <= 0 for the usual integer powers); d/dy = x**y log x,
    # taken as 0 where x <= 0 so that a constant-looking base never yields NaN.
    z = x ** y
    def pow_pullback(dz):
        return unbroadcast(dz * power_base_partial(x, y), x), unbroadcast(dz * z * log_base(x), y)
    return z, pow_pullback


def power_by_constant(x, n):
    """Primal of ``x ** n`` with ``n`` a literal number: the lowering stage picks it for ``x ** 2``."""
    return x ** n


@rule(power_by_constant, static=("n",))
def δpower_by_constant(x, n):
    # n is a literal, so after inlining `n - 1` folds to a number and `x ** 1` to `x`.
    z = x ** n
    def power_by_constant_pullback(dz):
        return dz * n * x ** (n - 1), None
    return z, power_by_constant_pullback


@rule(operator.matmul, operator.imatmul)
def δmatmul(x, y):
    z = x @ y
    def matmul_pullback(dz):
        return matmul_left_partial(dz, x, y), matmul_right_partial(dz, x, y)
    return z, matmul_pullback


@rule(operator.neg)
def δneg(x):
    z = -x
    def neg_pullback(dz):
        return (-dz,)
    return z, neg_pullback


@rule(operator.pos)
def δpos(x):
    z = +x
    def pos_pullback(dz):
        return (dz,)
    return z, pos_pullback


def identity(x):
    """Primal of a plain copy ``y = x``: the lowering stage emits it for aliases of differentiated values."""
    return x


@rule(identity)
def δidentity(x):
    z = x
    def identity_pullback(dz):
        return (dz,)
    return z, identity_pullback


@rule(augmented_result, shape_only=("old",))
def δaugmented_result(result, old):
    # `a += e` rebound: NumPy's in-place cast (same kind: the cotangent passes through) and its refusals.
    z = augmented_result(result, old)
    def augmented_result_pullback(dz):
        return dz, None
    return z, augmented_result_pullback


# ---- indexing ---------------------------------------------------------------------------------------

@rule(operator.getitem, static=("index",))
def δgetitem(x, index):
    # Scatter-add: repeated integer indices each add their share (np.add.at), never overwrite.
    y = x[index]
    def getitem_pullback(dy):
        return index_add(zeros_like(x), index, dy), None
    return y, getitem_pullback


def list_getitem(x, index):
    """Primal of ``items[index]`` on a list that the function appends to: the lowering stage picks it."""
    return x[index]


@rule(list_getitem, static=("index",))
def δlist_getitem(x, index):
    # The list may grow after this read (items.append): the pullback must not look at it again, so the
    # length is taken now and the cotangent is a list of that length, None everywhere but `index`.
    y = x[index]
    length = len(x)
    def list_getitem_pullback(dy):
        return list_item_cotangent(length, index, dy), None
    return y, list_getitem_pullback
