"""Augmented assignment on names (``+= -= *= /= **= @=``), alone, in loops and branches; and
combinations: user functions with control flow called from loops, loops inside branches.
"""

import math

import numpy as np

from . import case, randn, vec

W2 = np.array([[0.5, -0.2], [0.3, 0.8]])


# ---- augmented assignment ----------------------------------------------------------------------------------

@case((0.7, 0.3), (vec(0.7, -0.2), vec(0.1, 0.5)))
def aug_add(x, y):
    z = x * 2
    z += y * y
    return np.sum(z * x)


@case((0.7, 0.3), (vec(0.7, -0.2), vec(0.1, 0.5)))
def aug_sub(x, y):
    z = x * y
    z -= np.sin(y)
    return np.sum(z)


@case((0.7, 0.3), (vec(0.7, -0.2), vec(0.1, 0.5)))
def aug_mul(x, y):
    z = x + 1
    z *= y
    z *= z
    return np.sum(z)


@case((0.7, 0.3), (vec(0.7, -0.2), vec(1.1, 0.5)))
def aug_div(x, y):
    z = x + 2
    z /= y
    return np.sum(z * z)


@case((0.7, 1.3), (vec(0.7, 0.2), vec(1.1, 2.5)))
def aug_pow(x, p):
    z = x + 1
    z **= p
    return np.sum(z)


@case((randn(2, seed=45), W2),)
def aug_matmul(h, W):
    h @= W
    h @= W
    return np.sum(h * h)


@case((0.5,), (vec(0.5, -1.5),))
def aug_on_argument(x):
    x += 1.0
    x *= x
    return np.sum(x)


@case((randn(4, seed=46), 0), (randn(4, seed=46), 3))
def aug_in_loop(x, n):
    s = 0.0
    for i in range(n):
        s += x[i] * x[i]
        s *= 1.1
    return s


@case((vec(0.4, 0.5), 0.2, 4), (vec(0.4, 0.5), 0.2, 0))
def aug_all_operators_in_loop(x, r, n):
    y = x + 1
    for _ in range(n):
        y += r
        y -= 0.1 * x
        y *= 1.05
        y /= 1.0 + r * r
        y **= 1.1
    return np.sum(y)


@case((0.5, 0.3), (-0.5, 0.3))
def aug_in_branches(x, y):
    z = x * 1.0
    if x > 0:
        z += y
    else:
        z -= y * y
    z *= x
    return z


@case((randn(2, seed=47), 3), (randn(2, seed=47), 0))
def aug_matmul_in_loop(h, n):
    for _ in range(n):
        h @= W2
        h += 0.1
    return np.sum(h)


# ---- combinations: control flow in helpers called from loops ---------------------------------------------

def piecewise(x):
    if x < 0:
        return x * x
    elif x < 1:
        return math.sin(x)
    return x * 2 - 1


def clipped_step(v, lr):
    g = np.tanh(v)
    n = np.sqrt(np.sum(g * g))
    if n > 0.5:
        g = g * (0.5 / n)
    return v - lr * g


def repeat_square(x, k):
    for _ in range(k):
        x = x * x * 0.9
    return x


@case((0.5, 4), (-0.7, 4), (0.5, 0))
def helper_with_branches_in_loop(x, n):
    y = x
    for i in range(n):
        y = piecewise(y) + 0.1 * i
    return y


@case((vec(2.0, 1.5), 6), (vec(0.1, 0.05), 3))
def helper_with_branch_on_arrays_in_loop(v, n):
    for _ in range(n):
        v = clipped_step(v, 0.3)
    return np.sum(v * v)


@case((0.9, 3), (0.9, 0))
def helper_with_loop_in_loop(x, n):
    y = x
    for i in range(n):
        y = repeat_square(y, i) + x
    return y


@case((vec(0.5, 1.5), 3), (vec(-0.5, -1.5), 3))
def loop_inside_branch(x, n):
    if np.sum(x) > 0:
        for _ in range(n):
            x = np.sin(x) * 2
    else:
        i = 0
        while i < n:
            x = x * x
            i += 1
    return np.sum(x)


@case((vec(0.5, -0.2, 1.2, -1.4),), (vec(0.05, 0.1, 0.15, 0.2),))
def ifexp_in_loop(v):
    s = 0.0
    for x in v:
        s = s + (x * x if x > 0 else -x) * (2.0 if s > 0.5 else 1.0)
    return s


@case((W2, randn(4, 2, seed=48), 0.2), (W2, randn(4, 2, seed=48) * 0.01, 0.5))
def rnn_stops_when_small(W, xs, tol):
    h = np.zeros(2)
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        if np.sum(h * h) < tol * tol:
            break
    return np.sum(h)


@case((vec(0.3, 0.4), 0.1), (vec(0.3, 0.4), 1.5))
def logsumexp_shift_branch(x, scale):
    z = x * scale
    m = np.max(z)
    if m > 0.2:
        z = z - m
    else:
        m = 0.0
    return np.log(np.sum(np.exp(z))) + m


@case((0.0, 1.0, 8), (0.5, 2.0, 1))
def trapezoid_integral(a, b, n):
    h = (b - a) / n
    total = 0.5 * (math.exp(a) + math.exp(b))
    for i in range(1, n):
        total += math.exp(a + i * h)
    return total * h


@case((vec(1.0, 2.0, 3.0),), (vec(3.0, 1.0, 2.0),))
def running_max_by_branch(v):
    m = v[0]
    for i in range(1, v.shape[0]):
        if v[i] > m:
            m = v[i]
    return m * np.sum(v)
