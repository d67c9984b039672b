"""Loops: for over range (trip count from arguments and shapes), rows, lists, tuples, zip and enumerate;
while on values; loop-carried arrays; nested loops. Inputs run each loop 0, 1 and many times.
"""

import math

import numpy as np

from . import case, randn, vec

W3 = randn(3, 3, seed=3) * 0.5
COEFFS = (0.5, -1.0, 2.0, 0.25)


# ---- for over range ---------------------------------------------------------------------------------------

@case((vec(0.5, -1.0), 0), (vec(0.5, -1.0), 1), (vec(0.5, -1.0), 6))
def range_from_argument(x, n):
    s = x * 0.5
    for i in range(n):
        s = s + x * i
    return np.sum(s * s)


@case((1.3, 1, 7, 2), (1.3, 5, 5, 1), (1.3, 6, 0, -2))
def range_start_stop_step(x, a, b, c):
    y = x
    for k in range(a, b, c):
        y = y * 0.5 + k * x
    return y


@case((randn(4, seed=4),), (randn(1, seed=5),), (np.zeros(0),))
def range_from_shape(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] ** 2 * (i + 1)
    return s + np.sum(x)


@case((randn(3, seed=6),), (randn(1, seed=7),))
def range_from_len(x):
    y = x * 1.0
    for i in range(len(x)):
        y = y * x[i]
    return np.sum(y)


@case((0.3, 0), (0.3, 1), (0.3, 8))
def range_target_unused(x, n):
    for _ in range(n):
        x = math.sin(x) + x
    return x


@case((vec(0.1, 0.2, 0.3), 3), (vec(0.1, 0.2, 0.3), 0))
def reversed_range(x, n):
    y = x
    for i in reversed(range(n)):
        y = np.cos(y) * (i + 1)
    return np.sum(y)


@case((vec(0.5, 1.5), 0), (vec(0.5, 1.5), 5))
def power_by_loop(x, n):
    p = np.ones(2)
    for _ in range(n):
        p = p * x
    return np.sum(p)


@case((vec(0.7, 0.2, -0.4),), (vec(0.0, 0.0, 1.0),))
def loop_index_and_slice(x):
    s = 0.0
    for i in range(len(x) - 1):
        s = s + np.sum(x[i:i + 2] ** 2) * x[i]
    return s


@case((2.0, 0), (2.0, 1), (2.0, 6))
def newton_sqrt_fixed_steps(x, n):
    y = x
    for _ in range(n):
        y = 0.5 * (y + x / y)
    return y


@case((randn(3, seed=8), 0), (randn(3, seed=8), 1), (randn(3, seed=8), 10))
def power_iteration(v, n):
    for _ in range(n):
        v = W3 @ v
        v = v / np.sqrt(np.sum(v * v))
    return v


# ---- for over rows, lists, tuples, zip, enumerate ----------------------------------------------------------

@case((randn(4, 3, seed=9),), (randn(1, 3, seed=10),), (np.zeros((0, 3)),))
def for_rows(A):
    s = np.zeros(3)
    for row in A:
        s = s + np.tanh(row)
    return np.sum(s * s)


@case((randn(4, 3, seed=11), randn(3, seed=12)), (randn(2, 3, seed=13), randn(3, seed=14)))
def for_rows_matmul(A, h):
    for row in A:
        h = np.tanh(W3 @ h + row)
    return np.sum(h)


@case((0.3, 0.8), (-1.1, 0.4))
def for_list_of_constants(x, y):
    for c in [0.5, 1.5, -2.0]:
        y = y * c + x
    return y


@case((vec(0.3, -0.6),), (vec(1.0, 2.0),))
def horner_over_tuple(x):
    p = np.zeros(2)
    for c in COEFFS:
        p = p * x + c
    return np.sum(p)


@case((0.4, (1, 2, 3)), (0.4, ()), (-0.9, (5,)))
def for_tuple_argument(x, ks):
    y = x
    for k in ks:
        y = y + math.sin(k * x)
    return y


@case((randn(3, 2, seed=15), randn(3, 2, seed=16)), (randn(1, 2, seed=17), randn(1, 2, seed=18)))
def zip_rows(A, B):
    s = 0.0
    for a, b in zip(A, B):
        s = s + np.sum(a * b) ** 2
    return s


@case((randn(3, 2, seed=19),), (randn(5, 2, seed=20),))
def zip_rows_and_constants(A):
    s = np.zeros(2)
    for a, c in zip(A, [1.0, -2.0, 3.0]):
        s = s + a * c
    return np.sum(s ** 2)


@case((randn(4, 2, seed=21), randn(3, seed=22)), (randn(2, 2, seed=23), randn(3, seed=24)))
def zip_three_sequences(A, x):
    s = 0.0
    for a, xi, k in zip(A, x, (2, 3, 4)):
        s = s + np.sum(a) * xi * k
    return s


@case((randn(3, 2, seed=25),), (randn(1, 2, seed=26),))
def enumerate_rows(A):
    s = np.zeros(2)
    for i, row in enumerate(A):
        s = s + (i + 1) * row * row
    return np.sum(s)


@case((0.5,), (-1.5,))
def enumerate_constants(x):
    y = x
    for i, c in enumerate([2.0, -1.0, 0.5]):
        y = y * c + i * x * x
    return y


@case((randn(3, 2, seed=49),), (np.zeros((0, 2)),))
def enumerate_rows_with_start(A):
    s = np.zeros(2)
    k = 10
    for k, row in enumerate(A, 1):
        s = s + k * np.sin(row)
    for j, row in enumerate(A, start=-2):
        s = s * j + row
    return np.sum(s * s) * k


@case((randn(3, 2, seed=101), randn(4, 2, seed=102)), (randn(1, 2, seed=103), randn(1, 2, seed=104)),
      (np.zeros((0, 2)), randn(2, 2, seed=105)))
def enumerate_zipped_rows(A, B):
    # (`enumerate(zip(...))` was refused as a call of `zip` with no rule; the shorter sequence decides)
    s = np.zeros(2)
    for i, (a, b) in enumerate(zip(A, B)):
        s = s + (i + 1) * a * np.tanh(b)
    for k, (a, c) in enumerate(zip(B, [1.0, -2.0, 0.5]), 2):
        s = s * 0.5 + k * c * a
    return np.sum(s * s)


@case((randn(3, 2, seed=27), randn(3, seed=28)),)
def enumerate_rows_indexing_other(A, w):
    s = 0.0
    for i, row in enumerate(A):
        s = s + np.sum(row) * w[i]
    return s


# ---- loop-carried arrays -------------------------------------------------------------------------------------

@case((W3, randn(3, seed=29), randn(5, 3, seed=30)), (W3, randn(3, seed=31), randn(1, 3, seed=32)),
      (W3, randn(3, seed=33), np.zeros((0, 3))))
def rnn(W, h, xs):
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    return np.sum(h * h)


@case((W3, randn(3, seed=34), 0), (W3, randn(3, seed=34), 1), (W3, randn(3, seed=34), 7))
def rnn_trip_count_argument(W, h, n):
    for t in range(n):
        h = np.tanh(W @ h + 0.1 * t)
    return h


@case((0.4, 0.7, 0), (0.4, 0.7, 1), (0.4, 0.7, 6))
def carried_swap(a, b, n):
    for _ in range(n):
        a, b = b, a + b * 0.5
    return a * b


@case((vec(0.3, 0.6), 0), (vec(0.3, 0.6), 1), (vec(0.3, 0.6), 4))
def carried_becomes_active(x, n):
    s = 0.0
    for i in range(n):
        s = s + x * (i + 1)
    return np.sum(s * x)


@case((1.5, 1), (1.5, 2), (1.5, 5))
def carried_active_after_two_iterations(x, n):
    a = 0.0
    b = 1.0
    c = 2.0
    for i in range(n):
        a = b
        b = c
        c = x * i
    return a + b + c


@case((vec(0.3, 0.6), 0.7, 4), (vec(0.3, 0.6), 0.7, 0))
def carried_scalar_and_array(x, r, n):
    s = 0.0
    v = x
    for _ in range(n):
        v = v * r
        s = s + np.sum(v)
    return s + np.sum(v * v)


@case((vec(0.5, -0.5), 3), (vec(0.5, -0.5), 0))
def loop_value_used_after(x, n):
    i = 0
    t = x
    for i in range(n):
        t = x * i + t
    return np.sum(t) * (i + 1)


@case((vec(0.2, 0.3), vec(1.0, 2.0), 5), (vec(0.2, 0.3), vec(1.0, 2.0), 0))
def gradient_descent_unrolled(w, target, steps):
    for _ in range(steps):
        g = 2 * (w - target) + 0.1 * w * w
        w = w - 0.1 * g
    return np.sum((w - target) ** 2)


@case((0.5, 2.0, 0.15), (0.5, 2.0, 0.35))
def euler_ode(y, k, dt):
    t = 0.0
    while t < 1.0:
        y = y + dt * (-k * y + math.sin(t))
        t = t + dt
    return y


# ---- while -------------------------------------------------------------------------------------------------

@case((vec(1.0, 0.5), 0), (vec(1.0, 0.5), 1), (vec(1.0, 0.5), 5))
def while_counter(x, n):
    i = 0
    while i < n:
        x = x * 1.1 + 0.1
        i = i + 1
    return np.sum(x * x)


@case((vec(2.0, 3.0),), (vec(1.0, 1.0),), (vec(0.2, 0.1),))
def while_on_array_value(x):
    while np.sum(x * x) < 10:
        x = x * 1.5
    return x


@case((1.3, 3.0), (1.3, 200.0), (2.0, 0.5))
def while_on_scalar_value(x, y):
    while y < 100:
        y = y * x + 1
    return y


@case((vec(1.0, 0.5), 3), (vec(0.01, 0.02), 50))
def while_compound_condition(x, n):
    i = 0
    while i < n and np.sum(x) < 2.0:
        x = x * 1.3
        i += 1
    return np.sum(x)


@case((2.0,), (0.3,), (9.0,))
def newton_sqrt_until_converged(x):
    y = x
    while abs(y * y - x) > 1e-13 * x:
        y = 0.5 * (y + x / y)
    return y


# ---- nested loops ------------------------------------------------------------------------------------------

@case((randn(3, 4, seed=35), randn(4, seed=36)), (randn(1, 2, seed=37), randn(2, seed=38)))
def matvec_by_loops(A, x):
    total = 0.0
    for i in range(A.shape[0]):
        acc = 0.0
        for j in range(A.shape[1]):
            acc = acc + A[i, j] * x[j]
        total = total + acc * acc
    return total


@case((vec(0.5, 0.2, 0.1), 0), (vec(0.5, 0.2, 0.1), 1), (vec(0.5, 0.2, 0.1), 4))
def triangular_loops(x, n):
    s = x
    for i in range(n):
        for j in range(i):
            s = s * 0.9 + x * j
    return np.sum(s)


@case((0.3, 2, 2, 2), (0.3, 1, 0, 3), (0.3, 3, 1, 1))
def triple_nested(x, a, b, c):
    y = x
    for i in range(a):
        for j in range(b):
            for k in range(c):
                y = math.sin(y) + x * (i + j + k)
    return y


@case((randn(4, 2, seed=39), vec(1.0, -1.0, 0.5, 2.0), randn(2, seed=40), 3),
      (randn(4, 2, seed=39), vec(1.0, -1.0, 0.5, 2.0), randn(2, seed=40), 0))
def sgd_epochs(X, y, w, epochs):
    for _ in range(epochs):
        for i in range(X.shape[0]):
            err = np.sum(X[i] * w) - y[i]
            w = w - 0.1 * err * X[i]
    return np.sum(w * w)


@case((randn(2, 3, 3, seed=41) * 0.5, randn(4, 3, seed=42)),)
def stacked_rnn(Ws, xs):
    hs = xs
    for layer in range(Ws.shape[0]):
        h = np.zeros(3)
        out = hs * 0.0
        for t in range(hs.shape[0]):
            h = np.tanh(Ws[layer] @ h + hs[t])
            out = out + np.outer(np.eye(hs.shape[0])[t], h)
        hs = out
    return np.sum(hs)


@case((vec(0.5, 1.0), 3, 2), (vec(0.5, 1.0), 0, 2), (vec(0.5, 1.0), 2, 0))
def while_inside_for(x, n, m):
    for i in range(n):
        j = 0
        while j < m:
            x = np.sin(x) + 0.1 * i
            j = j + 1
    return np.sum(x)


@case((vec(0.5, 1.0), 3), (vec(0.5, 1.0), 0))
def for_inside_while(x, n):
    i = 0
    while i < n:
        for c in (1.0, 2.0):
            x = x * 0.5 + c
        i = i + 1
    return np.sum(x * x)


@case((vec(0.5, 1.0), 0), (vec(0.5, 1.0), 3))
def loop_bodies_that_only_pass(x, n):
    for _ in range(n):
        pass
    while np.sum(x) < 0:
        pass
    return np.sum(x * x)
