"""What is still refused. Each construct's line carries a ``# refused:`` marker naming the text the error
must point at (its column is where that text starts). When a construct becomes supported, move its
function into the corpus proper (with inputs) and drop it from REFUSED in tests/test_control_flow.py.
"""

import numpy as np


def for_else(x, n):
    for i in range(n):  # refused: for i in range(n):
        x = x * 2
    else:
        x = x + 1
    return x


def while_else(x):
    while x < 3:  # refused: while x < 3:
        x = x * 2
    else:
        x = x + 1
    return x


def try_except(x):
    y = x * 2
    try:  # refused: try:
        y = np.log(y)
    except FloatingPointError:
        y = y * 0
    return y


def with_statement(x):
    with np.errstate(all="ignore"):  # refused: with np.errstate
        y = x * 2
    return y


def setitem(x):
    y = x * 2
    y[0] = 1.0  # refused: y[0]
    return np.sum(y)


def setitem_in_loop(x, n):
    y = x * 1.0
    for i in range(n):
        y[i] = y[i] * 2  # refused: y[i]
    return np.sum(y)


def augmented_setitem(x):
    y = x * 2
    y[1:3] += x[0:2]  # refused: y[1:3] += x[0:2]
    return np.sum(y)


def inner_def(x):
    def square(z):  # refused: def square(z):
        return z * z
    return square(x)


def inner_lambda(x):
    square = lambda z: z * z  # noqa: E731
    return square(x)  # refused: square


def list_of_active(x):
    pair = [x, x * 2]  # refused: [x, x * 2]
    return pair[0] + pair[1]


def tuple_of_active(x):
    pair = (x, x * 2)  # refused: (x, x * 2)
    return pair[0] * pair[1]


def dict_of_active(x):
    d = {"a": x}  # refused: {"a": x}
    return d["a"] * 2
