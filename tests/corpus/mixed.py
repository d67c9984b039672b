"""Control flow combined with the rest of issue 4: in-place array assignment in loops and branches,
containers built and read in loops, inner functions and lambdas called in loops, recursion with a base
case, attribute reads and methods of user objects inside loops.
"""

import math

import numpy as np

from . import case, randn, vec


class Layer:
    def __init__(self, W, scale):
        self.W = W
        self.scale = scale

    def apply(self, h):
        z = self.W @ h
        if self.scale > 1:
            z = z / self.scale
        return np.tanh(z)


LAYERS = [Layer(randn(2, 2, seed=60), 0.5), Layer(randn(2, 2, seed=61), 2.0)]


# ---- in-place assignment ---------------------------------------------------------------------------------

@case((vec(0.5, -1.0, 2.0, 0.3),), (vec(0.5, 1.0, -2.0, 0.3),))
def setitem_in_loop(x):
    y = x * 1.0
    for i in range(1, y.shape[0]):
        y[i] = y[i - 1] * 0.5 + y[i] * y[i]
    return np.sum(y)


@case((vec(0.5, -1.0, 2.0),), (vec(-0.5, 1.0, -2.0),))
def setitem_in_branch(x):
    y = x * 2
    if x[0] > 0:
        y[1] = x[0] ** 2
    else:
        y[2] = np.sin(x[1])
    return np.sum(y * x)


@case((vec(0.5, -1.0, 2.0, 0.3), 0), (vec(0.5, -1.0, 2.0, 0.3), 3))
def slice_update_in_loop(x, n):
    y = x * 1.0
    for _ in range(n):
        y[1:3] += y[0:2] * 0.5
    return np.sum(y * y)


@case((vec(0.5, -1.0, 2.0, -0.3),),)
def mask_assign_then_loop(x):
    y = x * 3
    y[y < 0] = 0.0
    s = 0.0
    for v in y:
        s = s + v * v
    return s


@case((randn(3, seed=62), 4), (randn(3, seed=62), 0))
def cumulative_rows_in_place(x, n):
    out = np.zeros((n + 1, 3))
    out[0] = x
    for t in range(n):
        out[t + 1] = np.tanh(out[t] * 1.5 + x)
    return np.sum(out * out)


# ---- containers ------------------------------------------------------------------------------------------

@case((vec(0.5, 0.2), 3), (vec(0.5, 0.2), 1))
def append_in_loop_then_sum(x, n):
    hs = []
    h = x
    for _ in range(n):
        h = np.sin(h) + x
        hs.append(h)
    total = 0.0
    for h in hs:
        total = total + np.sum(h * h)
    return total


@case(({"W": randn(2, 2, seed=63), "b": vec(0.1, 0.2)}, vec(0.3, -0.2)),)
def params_dict_in_loop(params, h):
    for _ in range(3):
        h = np.tanh(params["W"] @ h + params["b"])
    return np.sum(h)


@case(([randn(2, 2, seed=64), randn(2, 2, seed=65)], vec(0.3, -0.2)),)
def list_of_weights(Ws, h):
    for W in Ws:
        h = np.tanh(W @ h)
    return np.sum(h * h)


@case((vec(0.5, -0.2), 3),)
def return_list_from_loop(x, n):
    outs = []
    for i in range(n):
        outs.append(x * (i + 1))
    return outs[0] + outs[-1]


# ---- inner functions, lambdas, recursion -----------------------------------------------------------------

@case((0.4, 3), (-0.4, 3), (0.4, 0))
def inner_def_called_in_loop(x, n):
    def step(y):
        if y > 0:
            return y * 0.5 + x
        return y * y
    y = x
    for _ in range(n):
        y = step(y)
    return y


@case((vec(0.2, 0.6),), (vec(-0.2, 0.6),))
def lambda_called_in_loop_branches(v):
    square = lambda z: z * z  # noqa: E731
    wave = lambda z: np.sin(z) * v  # noqa: E731
    s = 0.0
    for i in range(3):
        if v[0] > 0 and i != 1:
            s = s + np.sum(square(v))
        else:
            s = s + np.sum(wave(v * i))
    return s


def power_recursive(x, n):
    if n == 0:
        return x * 0 + 1
    half = power_recursive(x, n // 2)
    if n % 2 == 0:
        return half * half
    return half * half * x


@case((1.1, 0), (1.1, 1), (1.1, 7), (vec(0.9, -1.2), 5))
def recursion_with_base_case(x, n):
    return power_recursive(x, n)


# ---- objects ---------------------------------------------------------------------------------------------

@case((vec(0.3, -0.7),),)
def methods_in_loop(h):
    for layer in LAYERS:
        h = layer.apply(h)
    return np.sum(h)


@case((vec(0.3, -0.7), 2),)
def attribute_reads_in_loop(h, n):
    for _ in range(n):
        for layer in LAYERS:
            h = h + layer.scale * math.pi * (layer.W @ h) * 0.1
    return np.sum(h * h)


@case((0.3, 1), (0.3, 3), (0.3, 0))
def carried_list_read_twice(x, n):
    pair = [x, x * 3]
    s = 0.0
    for _ in range(n):
        pair = [pair[1] * 2, pair[0]]
        s = s + pair[0] * pair[1]
    return s
