"""Data flow across control flow: values defined on some paths only, values first defined in an
iteration, helpers with early returns or tuple results called in loops, loops over computed sequences
(``np.arange``, ``np.linspace``, lists and tuples of differentiated scalars, unpacked rows), shapes that
change from one iteration to the next.
"""

import numpy as np

from . import case, randn, vec


@case((0.5,), (-0.5,))
def defined_in_one_branch_read_under_the_same_test(x):
    if x > 0:
        y = x * 2
    z = x * 3
    if x > 0:
        return y * z
    return z


@case((0.5, 1), (0.5, 4))
def first_iteration_defines(x, n):
    for i in range(n):
        if i == 0:
            prev = x
        else:
            prev = prev * x + i
    return prev


def grow_until(v, k):
    for i in range(k):
        if np.sum(v) > 2:
            return v * i
        v = v * 1.5
    return v


@case((vec(0.3, 0.4), 5), (vec(0.3, 0.4), 0))
def helper_with_early_return_in_loop(x, n):
    s = 0.0
    for k in range(n):
        s = s + np.sum(grow_until(x, k))
    return s


def pair(a):
    if a[0] > 0:
        return a * 2, np.sum(a)
    return a, np.sum(a * a)


@case((vec(0.3, 0.4), 3), (vec(-0.3, 0.4), 3))
def helper_returning_tuple_in_loop(x, n):
    t = 0.0
    for _ in range(n):
        x, s = pair(x)
        t = t + s
    return t + np.sum(x)


@case((vec(0.3, 0.4, 0.5), 3), (vec(0.3, 0.4, 0.5), 0))
def reversed_slices(x, n):
    for _ in range(n):
        x = x[::-1] * np.arange(1.0, 1.0 + x.shape[0])
    return np.sum(x)


@case((vec(0.3, 0.4, 0.5, 1.5),), (vec(0.7,),))
def while_shape_shrinks(x):
    while x.shape[0] > 1:
        x = x[1:] * x[:-1]
    return x[0]


@case((0.5, 3), (0.1, 2), (0.5, 0))
def return_in_while_in_for(x, n):
    for i in range(n):
        j = 0
        while j < 5:
            x = x * 1.2
            if x > 3:
                return x * i
            j += 1
    return -x


@case((0.5, 5), (0.5, 1), (3.0, 5))
def break_then_branch_on_the_result(x, n):
    for _ in range(n):
        if x > 2:
            break
        x = x * x + 0.5
    doubled = x * 2
    if x > 2:
        return doubled
    return x


@case((0.7, 5), (1.7, 1), (0.7, 0))
def ifexp_carried(x, n):
    for _ in range(n):
        x = x * 0.5 if x > 1 else x * 3
    return x


@case((0.7, 0.5, 3), (0.4, 0.5, 3))
def ifexp_of_tuples_carried(a, b, n):
    for _ in range(n):
        a, b = (b, a) if a > b else (a * 1.1, b)
    return a * b


@case((randn(3, 2, seed=70),), (np.zeros((0, 2)),))
def unpacked_rows(A):
    s = 0.0
    for (p, q) in A:
        s = s + p * q
    return s


@case((0.3, 4), (0.3, 0))
def loop_over_arange(x, n):
    for t in np.arange(n):
        x = x + np.sin(x * t)
    return x


@case((0.3,), (-1.2,))
def loop_over_linspace(x):
    for t in np.linspace(0.0, 1.0, 4):
        x = x + np.sin(x * t)
    return x


@case((0.3, 0.7), (-1.1, 0.4))
def loop_over_list_of_differentiated_scalars(x, y):
    s = 0.0
    for v in [x, y, x * y]:
        s = s + v * v
    return s


@case((0.3, 0.7),)
def loop_over_tuple_of_differentiated_scalars(x, y):
    s = 0.0
    for v in (x, y):
        s = s * v + v
    return s


# ---- activity found by the fixpoint: carried values that start as constants ----------------------------------

@case((0.5, 4), (0.5, 0))
def while_carried_becomes_active(x, n):
    s = 0.0
    i = 0
    while i < n:
        s = s + x * i
        i += 1
    return s * x


@case((0.7,), (5.0,))
def while_condition_on_a_value_that_becomes_active(x):
    s = 0.0
    k = 0
    while s < 3.0 and k < 100:
        s = s + x
        k += 1
    return s * s


@case((0.5, 1), (0.5, 3), (0.5, 5))
def activity_reaches_back_three_iterations(x, n):
    a, b, c, d = 1.0, 2.0, 3.0, 4.0
    for i in range(n):
        a, b, c, d = b, c, d, x * i
    return a * b + c * d


@case((0.5, 0), (0.5, 3))
def carried_value_overwritten_each_iteration(x, n):
    s = x
    for i in range(n):
        s = 1.0
        s = s + x * i
    return s


@case((np.array(0.7), 3), (0.7, 3))
def zero_d_array_carried(x, n):
    y = np.array(0.5)
    for i in range(n):
        y = y * x + np.float64(i)
    return y


@case((2.5, 5), (0.5, 5))
def branch_on_value_counts_only(x, n):
    k = 0
    for i in range(n):
        if x > i:
            k = k + 1
    return x * k


@case((0.3,), (20.0,))
def while_true_with_only_a_return(x):
    while True:
        x = x * 2
        if x > 10:
            return x


@case((0.7, 6), (-0.7, 6), (0.7, 2), (3.5, 6))
def returns_in_an_elif_chain_in_a_loop(x, n):
    for _ in range(n):
        if x > 5:
            return x
        elif x < -5:
            return -x
        else:
            x = x * 2 - 1
    return x * 0.5


@case((0.3, 3), (0.3, 1))
def continue_in_last_iteration_only(x, n):
    for i in range(n):
        x = x + 1
        if i == n - 1:
            continue
        x = x * 0.9
    return x


@case((1.5, 0.2, 0), (1.5, 0.2, 3), (1.5, 0.8, 3))
def loop_locals_inside_a_branch(x, c, n):
    if c < 0.5:
        for i in range(n):
            y = x * 2.0
            x = x + y * 0.1 * i
        j = 0
        while j < n:
            z = x * x
            x = x - z * 0.01
            j += 1
    return x * c


@case((vec(0.3, 0.5, -0.2), 0.5), (vec(0.3, 0.5, -0.2), 2.0), (vec(0.3, 0.5, -0.2), -1.0))
def rows_of_a_reassigned_array_after_an_early_return(x, c):
    if c > 1.0:
        x = x * 2.0
    if c > 0.0:
        return np.sum(np.sin(x))
    for row in x:
        x = x * 3.0 + row
    return np.sum(x)
