"""break, continue and early return: taken and not taken, in the first and the last iteration, in
nested loops and in while loops.
"""

import math

import numpy as np

from . import case, randn, vec


# ---- break -------------------------------------------------------------------------------------------------

@case((vec(0.5, 0.7), 0), (vec(0.5, 0.7), 2), (vec(0.5, 0.7), 20), (vec(20.0, 1.0), 5))
def break_on_value(x, n):
    s = x
    for _ in range(n):
        if np.sum(s) > 10:
            break
        s = s * 1.5 + x
    return np.sum(s * s)


@case((0.5, 3), (0.5, 10))
def break_on_index(x, n):
    y = x
    for i in range(n):
        y = y * 1.1 + math.sin(y)
        if i == 4:
            break
    return y


@case((vec(0.5, 0.7),), (vec(3.0, 0.7),))
def break_in_first_iteration(x):
    y = x
    for k in range(4):
        y = np.exp(y * 0.5) + k
        if np.sum(x) > 2:
            break
    return np.sum(y)


@case((vec(0.2, -0.3, 0.4, 2.5),), (vec(0.2, -0.3, 0.4, 0.5),), (vec(3.0, -0.3, 0.4, 0.5),))
def break_on_row(A):
    s = 0.0
    for a in A:
        if a > 2:
            break
        s = s + a * a
    return s + np.sum(A)


@case((0.4,), (5.0,))
def while_true_break(x):
    y = x
    while True:
        y = y * 1.7 + 0.1
        if y > 3:
            break
    return y * x


@case((vec(0.5, 0.6), 50), (vec(0.5, 0.6), 2), (vec(40.0, 0.6), 50))
def while_break_and_condition(x, n):
    i = 0
    while i < n:
        if np.sum(x) > 30:
            break
        x = x * 1.4
        i = i + 1
    return np.sum(x)


@case((0.5, 3, 4), (0.5, 3, 1), (0.5, 0, 4))
def break_inner_loop_only(x, n, m):
    y = x
    for i in range(n):
        for j in range(m):
            if j >= 2:
                break
            y = y * 0.8 + x * (i + 1)
        y = math.sin(y) + y
    return y


@case((0.3, 5), (4.0, 5))
def break_with_code_after_loop_using_target(x, n):
    y = x
    i = 0
    for i in range(n):
        if y > 2:
            break
        y = y * 1.5
    return y * (i + 1) + x


# ---- continue ----------------------------------------------------------------------------------------------

@case((0.5, 0), (0.5, 1), (0.5, 7))
def continue_on_parity(x, n):
    y = x
    for i in range(n):
        if i % 2 == 1:
            continue
        y = y * 0.9 + x * i
    return y * y


@case((vec(0.3, -0.5, 0.8, -1.0),), (vec(0.3, 0.5, 0.8, 1.0),))
def continue_on_value(v):
    s = 0.0
    for i in range(v.shape[0]):
        if v[i] < 0:
            continue
        s = s + v[i] ** 3
    return s


@case((0.5, 3, 3), (0.5, 2, 0))
def continue_in_inner_loop(x, n, m):
    y = x
    for i in range(n):
        for j in range(m):
            if j == i:
                continue
            y = y + x * j * 0.1
        y = y * y
    return y


@case((1.0, 6), (1.0, 2))
def while_continue(x, n):
    i = 0
    y = x
    while i < n:
        i = i + 1
        if i == 2:
            continue
        y = y * 0.7 + x
    return y


@case((vec(0.5, 1.0, -2.0, 0.1, 5.0, 0.3),), (vec(0.5, 1.0, 0.2, 0.1, 0.1, 0.3),))
def break_and_continue(v):
    s = 0.0
    for x in v:
        if x < 0:
            continue
        if x > 4:
            break
        s = s + x * x
    return s


@case((vec(0.1, 0.2), 10), (vec(0.1, 0.2), 2), (vec(1.5, 2.0), 10))
def elif_chain_with_break_and_continue(x, n):
    for i in range(n):
        s = np.sum(x)
        if s > 3:
            break
        elif i % 3 == 0:
            x = x + 0.2
            continue
        else:
            x = x * 1.5
    return np.sum(x * x)


# ---- early return --------------------------------------------------------------------------------------------

@case((vec(0.1, 0.2),), (vec(2.0, 2.0),), (vec(-1.0, 0.1),))
def return_in_loop(x):
    for _ in range(5):
        if np.sum(x) > 3:
            return np.sum(x * x)
        x = x * 2
    return np.sum(x)


@case((0.5, 4, 0), (0.5, 4, 3), (0.5, 4, 9), (0.5, 0, 0))
def return_in_iteration(x, n, when):
    y = x
    for i in range(n):
        y = y * 1.2 + math.cos(y)
        if i == when:
            return y * 10
    return y


@case((0.4, 3, 3), (0.4, 3, 1), (5.0, 3, 3))
def return_in_nested_loop(x, n, m):
    y = x
    for i in range(n):
        for j in range(m):
            y = y + 0.3 * x * j
            if y > 4:
                return y * y
        y = y * 0.5
    return -y


@case((0.9,), (0.1,), (3.0,), (-0.5,))
def return_in_while(x):
    y = x
    k = 0
    while k < 20:
        y = y * 1.5
        if y > 2:
            return y + k * x
        k = k + 1
    return -y


@case((vec(0.5, 0.5), 3), (vec(2.5, 0.5), 3), (vec(0.5, 0.5), 0))
def return_two_values_from_loop(x, n):
    y = x
    for _ in range(n):
        if np.sum(y) > 2:
            return y, np.sum(y * x)
        y = y * 1.2
    return y * 2, np.sum(y)


@case((randn(3, 2, seed=43), 0.5), (randn(3, 2, seed=44), -5.0))
def return_from_row_loop(A, t):
    acc = np.zeros(2)
    for row in A:
        acc = acc + row
        if np.sum(acc) < t:
            return np.sum(acc * row)
    return np.sum(acc * acc)
