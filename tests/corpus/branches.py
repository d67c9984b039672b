"""Branches: if/elif/else on Python scalars, 0-d arrays, ``.any()``/``.all()``; nesting; conditional
expressions; several return statements. Each function's inputs take each of its branches.
"""

import math

import numpy as np

from . import case, randn, vec

A0 = np.array(0.8)  # a 0-d array input
A0_NEG = np.array(-0.6)


# ---- if/else on Python scalars ----------------------------------------------------------------------------

@case((0.7,), (-0.4,))
def if_scalar(x):
    if x > 0:
        y = x * x
    else:
        y = -x ** 3
    return y


@case((0.9, 0.2), (0.1, 0.5))
def if_without_else(x, y):
    z = x * y
    if x > y:
        z = z + math.sin(x)
    return z


@case((0.5, 2), (0.5, 0), (-1.2, 1))
def if_on_int_argument(x, mode):
    if mode == 0:
        y = math.exp(x)
    else:
        y = x * mode + x * x
    return y


@case((0.3, -0.8), (-0.3, 0.8), (0.3, 0.8), (-0.3, -0.8))
def if_boolean_operators(x, y):
    if x > 0 and y > 0:
        z = x * y
    elif x < 0 or not y < 0:
        z = x + 2 * y
    else:
        z = x - y * y
    return z


@case((0.4,), (1.6,), (-0.7,))
def if_chained_comparison(x):
    if 0 < x < 1:
        y = math.sqrt(x)
    else:
        y = x * x
    return y


# ---- conditions on arrays ---------------------------------------------------------------------------------

@case((A0, vec(1.0, -2.0, 0.5)), (A0_NEG, vec(1.0, -2.0, 0.5)))
def if_zero_d_array(a, v):
    if a > 0:
        s = np.sum(v * a)
    else:
        s = np.sum(v) * a * a
    return s


@case((vec(0.2, 1.5, -0.3),), (vec(0.2, 0.5, -0.3),))
def if_any(v):
    if (v > 1).any():
        v = v * 2
    return np.sum(v ** 2)


@case((vec(0.2, 1.5, 0.3),), (vec(0.2, -1.5, 0.3),))
def if_all(v):
    if (v > 0).all():
        r = np.sum(np.log(v))
    else:
        r = np.sum(v * v)
    return r


@case((vec(0.2, 1.5, 0.3),), (vec(-0.2, -1.5, 0.3),))
def if_np_any_function(v):
    if np.any(v < 0):
        return np.sum(np.abs(v) * v)
    return np.sum(np.sqrt(v))


@case((vec(0.5, -0.25, 1.0),), (vec(-2.0, 0.1, 0.3),))
def if_on_intermediate(x):
    h = np.tanh(x)
    if h.sum() > 0:
        out = np.sum(h * x)
    else:
        out = np.sum(np.exp(x))
    return out


@case((randn(3, seed=1),), (randn(5, seed=2),))
def if_on_shape(x):
    if x.shape[0] > 4:
        y = x[:4] * x[1:]
    else:
        y = x * 3.0
    return np.sum(y)


@case((vec(0.3, 0.4),), (vec(2.0, 1.0),))
def if_on_norm_clip(g):
    n = np.sqrt(np.sum(g * g))
    if n > 1.0:
        g = g / n
    return g


# ---- elif chains and nesting ------------------------------------------------------------------------------

@case((-2.0,), (-0.5,), (0.5,), (2.0,))
def elif_chain(x):
    if x < -1:
        y = -x
    elif x < 0:
        y = x * x
    elif x < 1:
        y = math.sin(x)
    else:
        y = x ** 3
    return y


@case((vec(-1.0, -0.5),), (vec(-0.3, 0.1),), (vec(0.3, 0.2),), (vec(1.0, 2.0),))
def elif_chain_arrays(v):
    s = np.sum(v)
    if s < -1:
        w = v * s
    elif s < 0:
        w = np.exp(v)
    elif s < 1:
        w = v * v * v
    else:
        w = np.tanh(v) * s
    return np.sum(w)


@case((0.5, 0.5), (0.5, -0.5), (-0.5, 0.5), (-0.5, -0.5))
def nested_if(x, y):
    if x > 0:
        if y > 0:
            z = x * y
        else:
            z = x - y
    else:
        if y > 0:
            z = x * x + y
        else:
            z = math.exp(x + y)
    return z


@case((0.5, 0.5, 0.5), (0.5, 0.5, -0.5), (0.5, -0.5, 0.5), (-0.5, 0.5, 0.5))
def nested_if_three_deep(x, y, z):
    r = x + y + z
    if x > 0:
        r = r * x
        if y > 0:
            r = r + y * y
            if z > 0:
                r = r * z
    return r


@case((vec(0.5, 1.0), 0.3), (vec(-0.5, 1.0), 0.3), (vec(0.5, 1.0), -0.3), (vec(0.5, 1.0), -1.5))
def nested_if_arrays_inner_elif(v, t):
    if np.sum(v) > 0:
        if t > 0:
            v = v * t
        elif t < -1:
            v = v - t
        else:
            v = v / (1 + t * t)
    return np.sum(v * v)


# ---- values defined on some paths ---------------------------------------------------------------------------

@case((0.8, 0.3), (-0.8, 0.3))
def if_local_only_in_branch(x, y):
    r = x + y
    if x > 0:
        t = x * y
        r = r + t * t
    return r


@case((0.8, 0.3), (-0.8, 0.3))
def if_swap(a, b):
    if a > b:
        a, b = b, a
    return a * 2 + b * b * 3


@case((0.8, 0.3), (-0.8, 0.3))
def if_branch_reads_value_later_reassigned(x, y):
    u = x * y
    if x > 0:
        w = u * u
    else:
        w = u + x
    u = u * 3
    return w + u


@case((0.8,), (-0.8,))
def if_decides_a_constant(x):
    k = 2.0 if x > 0 else 3.0
    return x * k + k


@case((vec(1.0, 2.0), vec(0.5, -0.5)), (vec(-1.0, -2.0), vec(0.5, -0.5)))
def if_one_branch_inactive(x, y):
    if np.sum(x) > 0:
        z = x * y
    else:
        z = np.ones(2)
    return np.sum(z)


# ---- conditional expressions -------------------------------------------------------------------------------

@case((0.7,), (-0.7,))
def ifexp_scalar(x):
    y = x * x if x > 0 else -x
    return y + x


@case((vec(0.2, 0.4),), (vec(-0.2, 0.1),))
def ifexp_array(v):
    return np.sum(v if v.sum() > 0 else v ** 2)


@case((1.5,), (0.5,), (-0.5,))
def ifexp_nested(x):
    y = x * 2 if x > 1 else (x * x if x > 0 else math.exp(x))
    return y


@case((vec(0.5, 1.5),), (vec(-0.5, -1.5),))
def ifexp_inside_expression(v):
    s = np.sum(v)
    return np.sum(v * (2.0 if s > 0 else 3.0) + (np.sin(v) if s < 0 else v))


@case((0.6, 0.2), (0.1, 0.9))
def ifexp_max_like(a, b):
    return (a if a > b else b) * (a + b)


# ---- several return statements -----------------------------------------------------------------------------

@case((0.5,), (-0.5,))
def two_returns(x):
    if x > 0:
        return x * 2 + x * x
    return -x * x * x


@case((-2.0,), (-0.5,), (0.5,), (2.0,))
def return_in_each_branch(x):
    if x < -1:
        return x * 3
    elif x < 0:
        return math.sin(x)
    elif x < 1:
        return x * x
    else:
        return math.log(x)


@case((0.5, 0.5), (0.5, -0.5), (-0.5, 0.5))
def return_in_nested_if(x, y):
    z = x * y
    if x > 0:
        if y > 0:
            return z * z
        z = z + x
    return z * 3


@case((0.5, vec(1.0, 2.0)), (-0.5, vec(1.0, 2.0)))
def return_two_values_twice(s, v):
    if s > 0:
        return v * s, s * s
    return v + s, np.sum(v) * s


@case((0.5,), (-0.5,))
def return_in_else_only(x):
    y = x * 4
    if x > 0:
        y = y + 1
    else:
        return y * y
    return y * x


@case((vec(2.0, 0.5),), (vec(0.1, 0.2),))
def return_then_code_after(v):
    n = np.sum(v * v)
    if n > 1:
        return n
    v = v * 10
    m = np.sum(np.sin(v))
    return m + n
