"""The seed's operator matrix, ported as behaviour: every gradient against central finite differences.

Scalar binary operators with (var, var), (var, const) and (const, var); every unary rule of the seed's
list on scalars, (5,) and (3, 2); elementwise operators over the seed's broadcasting shape pairs; matrix
products over its shape list; and powers at negative and zero bases. The oracle is
``tests/finite_differences.py`` (float64 central differences), never the library's own checker.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special

from autodiffsource import δ
from finite_differences import check_pullback

RNG = np.random.default_rng(20261126)


# ---- scalar binary operators ------------------------------------------------------------------------

def add_vv(x, y):
    return x + y


def sub_vv(x, y):
    return x - y


def mul_vv(x, y):
    return x * y


def div_vv(x, y):
    return x / y


def pow_vv(x, y):
    return x ** y


def min_vv(x, y):
    return min(x, y)


def max_vv(x, y):
    return max(x, y)


def add_vc(x):
    return x + 1.7


def sub_vc(x):
    return x - 1.7


def mul_vc(x):
    return x * 1.7


def div_vc(x):
    return x / 1.7


def pow_vc(x):
    return x ** 1.7


def min_vc(x):
    return min(x, 1.7)


def max_vc(x):
    return max(x, 0.2)


def add_cv(y):
    return 1.7 + y


def sub_cv(y):
    return 1.7 - y


def mul_cv(y):
    return 1.7 * y


def div_cv(y):
    return 1.7 / y


def pow_cv(y):
    return 1.7 ** y


def min_cv(y):
    return min(1.7, y)


def max_cv(y):
    return max(0.2, y)


BINARY = ["add", "sub", "mul", "div", "pow", "min", "max"]


@pytest.mark.parametrize("op", BINARY)
def test_scalar_binary_var_var(op):
    f = globals()[f"{op}_vv"]
    δ(f)
    partials = check_pullback(f, f.δ, [1.3, 0.7])
    assert all(type(p) is float for p in partials)


@pytest.mark.filterwarnings("error::SyntaxWarning")  # generated code must not say `1.7 is None`
@pytest.mark.parametrize("op", BINARY)
def test_scalar_binary_var_literal_const(op):
    f = globals()[f"{op}_vc"]
    δ(f)
    (dx,) = check_pullback(f, f.δ, [1.3])
    assert type(dx) is float


@pytest.mark.parametrize("op", BINARY)
def test_scalar_binary_literal_const_var(op):
    f = globals()[f"{op}_cv"]
    δ(f)
    check_pullback(f, f.δ, [0.7])


@pytest.mark.parametrize("op", BINARY)
def test_scalar_binary_constant_argument(op):
    """(var, const) and (const, var) through δf_const2 and δf_const1: the constant gets no partial."""
    f = globals()[f"{op}_vv"]
    δ(f)
    (dx,) = check_pullback(f, globals()[f"δ{op}_vv_const2"], [1.3, 0.7], wrt=[0])
    (dy,) = check_pullback(f, globals()[f"δ{op}_vv_const1"], [1.3, 0.7], wrt=[1])
    assert type(dx) is float and type(dy) is float


@pytest.mark.parametrize("op", BINARY)
def test_integer_scalar_inputs_give_float_partials(op):
    f = globals()[f"{op}_vv"]
    δ(f)
    value, back = f.δ(3, 2)
    assert value == f(3, 2)
    partials = back()
    assert all(type(p) is float for p in partials)
    check_pullback(f, f.δ, [3, 2])


def test_integer_scalars_are_real_numbers():
    δ(mul_vv)
    z, back = δmul_vv(3, 2)  # noqa: F821  (bound by δ)
    assert z == 6
    assert back() == (2.0, 3.0)
    assert all(type(p) is float for p in back())


# ---- unary operators on scalars, (5,) and (3, 2) ------------------------------------------------------

def _uniform(lo, hi):
    return lambda shape: RNG.uniform(lo, hi, size=shape) if shape else float(RNG.uniform(lo, hi))


REAL = _uniform(-2.0, 2.0)
POSITIVE = _uniform(0.5, 2.5)
UNIT = _uniform(-0.9, 0.9)
AWAY_FROM_ZERO = lambda shape: np.where(RNG.random(shape) < 0.5, -1, 1) * _uniform(0.3, 2.0)(shape) \
    if shape else -1.1  # noqa: E731

NUMPY_UNARY = [
    (np.exp, REAL), (np.log, POSITIVE), (np.log1p, POSITIVE), (np.expm1, REAL), (np.sqrt, POSITIVE),
    (np.abs, AWAY_FROM_ZERO), (np.sin, REAL), (np.cos, REAL), (np.tan, UNIT), (np.sinh, REAL),
    (np.cosh, REAL), (np.tanh, REAL), (np.arcsin, UNIT), (np.arccos, UNIT), (np.arctan, REAL),
    (np.sign, AWAY_FROM_ZERO), (np.floor, REAL), (np.ceil, REAL), (np.trunc, REAL), (np.round, REAL),
    (np.sum, REAL), (np.mean, REAL), (np.max, REAL), (np.min, REAL),
    (np.transpose, REAL), (np.amax, REAL), (np.amin, REAL), (abs, AWAY_FROM_ZERO), (scipy.special.erf, REAL), (scipy.special.erfc, REAL),
    (scipy.special.gamma, POSITIVE), (scipy.special.gammaln, POSITIVE),
]
MATH_UNARY = [
    (math.exp, REAL), (math.log, POSITIVE), (math.log1p, POSITIVE), (math.expm1, REAL),
    (math.sqrt, POSITIVE), (math.fabs, AWAY_FROM_ZERO), (math.sin, REAL), (math.cos, REAL),
    (math.tan, UNIT), (math.sinh, REAL), (math.cosh, REAL), (math.tanh, REAL), (math.asin, UNIT),
    (math.acos, UNIT), (math.atan, REAL), (math.erf, REAL), (math.erfc, REAL), (math.gamma, POSITIVE),
    (math.lgamma, POSITIVE), (math.floor, REAL), (math.ceil, REAL), (math.trunc, REAL), (abs, AWAY_FROM_ZERO),
    (round, REAL),
]


def make_unary(op):
    """A δ-able function applying ``op``; ``op`` is a closure variable, read as a constant."""

    def apply_unary(x):
        return op(x) * 1.5

    return apply_unary


@pytest.mark.parametrize("shape", [(), (5,), (3, 2)], ids=["scalar", "5", "3x2"])
@pytest.mark.parametrize("op,domain", NUMPY_UNARY, ids=[op.__name__ for op, _ in NUMPY_UNARY])
def test_numpy_unary(op, domain, shape):
    f = make_unary(op)
    δ(f)
    x = domain(shape)
    (dx,) = check_pullback(f, f.δ, [x])
    if shape == ():
        assert type(dx) is float  # a Python float in gives a Python float partial
    else:
        assert dx.dtype == np.float64


@pytest.mark.parametrize("op,domain", MATH_UNARY, ids=[op.__name__ for op, _ in MATH_UNARY])
def test_math_and_builtin_unary_on_scalars(op, domain):
    f = make_unary(op)
    δ(f)
    (dx,) = check_pullback(f, f.δ, [domain(())])
    assert type(dx) is float


def unary_minus(x):
    return -x * 2.0


def matrix_T(x):
    return x.T * np.arange(6.0).reshape(2, 3)


def mod_const(x):
    return np.mod(x, 1.7) + x % 0.9


def method_reductions(x):
    return x.sum() + x.mean() * 2 + x.max() * 3 - x.min() + np.sum(x, axis=0)[1]


@pytest.mark.parametrize("f", [unary_minus, matrix_T, mod_const, method_reductions])
def test_more_unary_forms(f):
    δ(f)
    check_pullback(f, f.δ, [RNG.uniform(0.1, 3.0, size=(3, 2))])


# ---- elementwise operators over broadcasting shape pairs ----------------------------------------------

def ew_add(x, y):
    return x + y


def ew_sub(x, y):
    return x - y


def ew_mul(x, y):
    return x * y


def ew_div(x, y):
    return x / y


def ew_pow(x, y):
    return x ** y


def ew_mod(x, y):
    return x % y


def ew_minimum(x, y):
    return np.minimum(x, y)


def ew_maximum(x, y):
    return np.maximum(x, y)


ELEMENTWISE = [ew_add, ew_sub, ew_mul, ew_div, ew_pow, ew_mod, ew_minimum, ew_maximum]
SHAPE_PAIRS = [
    ((5,), (5,)), ((3, 2), (3, 2)), ((3, 1), (3, 2)), ((3, 2), (3, 1)), ((), (3, 2)), ((3, 2), ()),
    ((), (5,)), ((5,), ()), ((1, 1), (5, 1)), ((5, 1), (1, 1)), ((3, 2), (1, 2)), ((1, 2), (3, 2)),
    ((5,), (1, 2)), ((4, 1), (1, 3)),
]


def _positive(shape):
    return RNG.uniform(0.5, 2.0, size=shape) if shape else float(RNG.uniform(0.5, 2.0))


@pytest.mark.parametrize("xs,ys", SHAPE_PAIRS, ids=[f"{a}-{b}" for a, b in SHAPE_PAIRS])
@pytest.mark.parametrize("f", ELEMENTWISE, ids=[f.__name__ for f in ELEMENTWISE])
def test_elementwise_broadcasting(f, xs, ys):
    if (xs, ys) == ((5,), (1, 2)):
        xs, ys = (5, 1), (1, 2)  # (5,) against (1, 2) does not broadcast; the seed's case is (5,1)/(1,2)
    δ(f)
    x, y = _positive(xs), _positive(ys)
    dx, dy = check_pullback(f, f.δ, [x, y])
    for p, a in ((dx, x), (dy, y)):
        assert np.shape(p) == np.shape(a)
        assert type(p) is float if isinstance(a, float) else p.dtype == np.float64


def against_ones(x):
    return np.sum(x * np.ones((1, 2)) + np.ones((1, 2)) / x)


@pytest.mark.parametrize("shape", [(3, 2), (1, 2), (2,), ()])
def test_arrays_against_ones_1x2(shape):
    δ(against_ones)
    check_pullback(against_ones, against_ones.δ, [_positive(shape)])


@pytest.mark.parametrize("xs,ys", [((3, 2), (1, 2)), ((4, 1), (1, 3)), ((), (5,))])
def test_broadcast_with_one_argument_constant(xs, ys):
    δ(ew_mul)
    x, y = _positive(xs), _positive(ys)
    (dx,) = check_pullback(ew_mul, δew_mul_const2, [x, y], wrt=[0])  # noqa: F821
    assert np.shape(dx) == xs
    (dy,) = check_pullback(ew_mul, δew_mul_const1, [x, y], wrt=[1])  # noqa: F821
    assert np.shape(dy) == ys


# ---- matrix products ------------------------------------------------------------------------------------

def matmul_op(x, y):
    return x @ y


def dot_call(x, y):
    return np.dot(x, y)


MATMUL_SHAPES = [((3, 1), (1, 3)), ((3, 3), (3,)), ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4))]


@pytest.mark.parametrize("xs,ys", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
@pytest.mark.parametrize("f", [matmul_op, dot_call], ids=["@", "np.dot"])
def test_matmul_shapes(f, xs, ys):
    δ(f)
    x, y = RNG.standard_normal(xs), RNG.standard_normal(ys)
    dx, dy = check_pullback(f, f.δ, [x, y])
    assert dx.shape == xs and dy.shape == ys


@pytest.mark.parametrize("xs,ys", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_one_side_constant(xs, ys):
    δ(matmul_op)
    x, y = RNG.standard_normal(xs), RNG.standard_normal(ys)
    check_pullback(matmul_op, δmatmul_op_const2, [x, y], wrt=[0])  # noqa: F821
    check_pullback(matmul_op, δmatmul_op_const1, [x, y], wrt=[1])  # noqa: F821


# ---- powers at negative and zero bases ---------------------------------------------------------------------

def square(x):
    return x ** 2


def cube(x):
    return x ** 3


def square_sum(x):
    return np.sum(x ** 2 + x ** 3)


@pytest.mark.parametrize("x", [-1.5, 0.0, 2.0, -3])
def test_integer_powers_at_negative_and_zero_bases(x):
    for f, exact in ((square, lambda v: 2 * v), (cube, lambda v: 3 * v * v)):
        δ(f)
        _, back = f.δ(x)
        d = back()
        assert math.isfinite(d) and type(d) is float
        assert d == pytest.approx(exact(x), abs=1e-12)


def test_integer_powers_on_arrays_with_negative_and_zero_entries():
    δ(square_sum)
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    _, back = square_sum.δ(x)
    d = back()
    assert np.all(np.isfinite(d))
    np.testing.assert_allclose(d, 2 * x + 3 * x * x, rtol=1e-12)
    check_pullback(square_sum, square_sum.δ, [x])
