"""What is still refused. Each construct's line carries a ``# refused:`` marker naming the text the error
must point at (its column is where that text starts on the line). When a construct becomes supported, move
its function into the corpus proper (with inputs) and drop its row from REFUSED in
tests/test_control_flow.py.
"""

import numpy as np

COUNTER = 0


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


def match_statement(x, n):
    match n:  # refused: match n:
        case 1:
            return x
    return x * 2


def global_statement(x):
    global COUNTER  # refused: global COUNTER
    COUNTER = 1
    return x * 2


def nonlocal_statement(x):
    y = x

    def bump():
        nonlocal y  # refused: nonlocal y
        y = y * 2
    bump()
    return y


def delete_statement(x):
    y = x * 2
    del y  # refused: del y
    return x


def class_inside(x):
    class Box:  # refused: class Box:
        pass
    return x * 2


def starred_target(x):
    a, *rest = x  # refused: a, *rest
    return a * rest[0]


def comprehension_of_active(x):
    d = {i: x * i for i in range(3)}  # refused: {i: x * i for i in range(3)}
    return d[0] + d[2]


def walrus_in_active_expression(x):
    z = (y := x * 2) + 1  # refused: y := x * 2
    return y * z


def augmented_assignment_on_an_alias(x):
    y = x
    y += 1.0  # refused: y += 1.0
    return x * y  # in place on an array argument would change the caller's array
