"""Names that may hold one array, and the versions the pullback reads of it (frontend/mutation.py:
alias groups, ``move_holders``, ``list_reads_before``; transform/reverse.py: snapshots).

``a = x`` (or ``a = x if c else y``, ``a, b = x, y``) makes two names of one object: a write into either
(``x[0] = e``, ``a += e``, ``m.sort()``, ``items.append(e)``) changes what both hold. Where control flow
decides whether they share it (``a`` bound on one path of an ``if``, or in a loop that may run no
iteration), the generated code asks at run time (``a is x``). The pullback reads every array as it was
where it was read:

- before a later write into it or into another name of it, in a loop too;
- items and views read in a loop's iterations, or on one branch of an ``if``, as each iteration or the
  branch read them (a write after the loop takes no single snapshot for all iterations, nor one of a
  value a branch never made);
- where a write runs on one branch of an ``if`` only, as it was on the other branch too, and the other
  branch's own reads as they are there (the write's snapshot is not on that path);
- where a write follows an ``if`` or a loop that may have rebound the name, in every version the name
  may hold.

Each function takes a control argument; value and gradient are checked against the function itself and
central differences for every value of it, through value_and_grad and through the seed's δf (pullback
called twice). With the code before these fixes, 38 of the first 41 functions gave a wrong gradient (most also
a wrong value) or an internal error for some value of the control argument; the other three guard cases
met while fixing them (one, found by the program fuzzer, went wrong only with a partial fix); the
one after them failed only with session 12's alias groups (found by the front-end fuzzer). Of the next four
(session 13: a write on one branch, a read on the other), the first three raised UnboundLocalError in the
pullback before the fix (the first found by the program fuzzer on CuPy); the fourth is a guard. Of the last
four (session 14), the first two (a write after a loop that carries the array without rebinding it) gave a
wrong gradient before the fix for some loop counts, through both APIs; the other two raised UnboundLocalError
in the forward pass (found by the front-end fuzzer).
"""

import numpy as np
import pytest

from autodiffsource import value_and_grad, δ
from finite_differences import numeric_partial


def aliased_on_one_branch_then_written(x, c):
    x = x * 1.0
    v = x
    if c:
        v = x * 3.0
    x[0] = x[1] * 2.0
    return np.sum(v * x)


def aliased_on_one_branch_and_written_through_it(x, c):
    x = x * 1.0
    v = x * 2.0
    if c:
        v = x
    v[1] = x[0] * 3.0
    return np.sum(v * x)


def aliased_on_one_branch_then_updated(x, c):
    x = x * 1.0
    v = x
    if c:
        v = x * 3.0
    v += x
    return np.sum(v * x)


def elif_chain_of_aliases(x, c):
    x = x * 1.0
    y = x * 2.0
    v = x * 3.0
    if c == 0:
        v = x
    elif c == 1:
        v = y
    v[1] = x[0] * 4.0
    return np.sum(v * x) + np.sum(y)


def rebound_in_a_while_loop_that_may_not_run(x, k):
    x = x * 1.0
    v = x
    while k < 0:
        v = v + x
        k += 1
    v += x * 2.0
    return np.sum(v * x)


def the_issue_program(x, k):
    # Session 11's known case: an alias updated in a loop after a `while` loop that may rebind it.
    x = x * 1.0
    v2 = x
    while k < 0:
        v2 = v2 + x + x
        k += 1
    v4 = v2
    for _ in range(1):
        v2 += x + x
        v4 = v4 * 0.5 + x
    return np.sum(x + v4)


def rebound_in_a_for_loop_that_may_not_run(x, n):
    x = x * 1.0
    v = x
    for i in range(n):
        v = v + x
    v[0] = x[1] * 3.0
    return np.sum(v * x)


def bound_in_a_loop_that_may_not_run(x, n):
    x = x * 1.0
    v = x * 2.0
    for i in range(n):
        v = x
    v[0] = x[1] * x[2]
    return np.sum(v * x)


def rebound_in_nested_loops(x, n):
    x = x * 1.0
    w = x
    for i in range(n):
        for j in range(n):
            w = w * 1.5
    w[2] = x[0] ** 2
    return np.sum(w * x)


def updated_after_inner_loops_that_may_not_run(x, n):
    x = x * 1.0
    a = x
    for k in range(2):
        for i in range(n):
            a = a + x
        a += x * 0.5
    return np.sum(a * x)


def list_aliased_on_one_branch(x, c):
    items = [x[0]]
    other = [x[1]]
    if c:
        other = items
    items.append(x[2] * 2.0)
    return other[-1] * x[1] + items[0]


def constant_aliased_on_one_branch_then_sorted(x, c):
    m = np.array([3.0, 1.0, 2.0])
    b = m * 1.0
    if c:
        b = m
    y = np.sum(x * b)
    m.sort()
    return y + np.sum(x * b)


def constant_alias_read_before_a_write(x, c):
    m = np.ones(3)
    a = m
    if c:
        a = np.zeros(3)
    y = np.sum(x * a)
    m[0] = 7.0 + c
    return y + np.sum(x * a)


def array_read_whole_before_a_loop_writes_it(x, n):
    x = x * 1.0
    y = np.sum(x * x)
    for i in range(n):
        x[i] = x[i] * 2.0
    return y + np.sum(x * x)


def constant_read_before_a_loop_writes_it(x, n):
    m = np.ones(3)
    y = np.sum(x * m)
    for i in range(n):
        m[i] = x[i] * 2.0 + 7.0
    return y + np.sum(x * m)


def alias_read_before_a_loop_writes_the_array(x, n):
    m = np.ones(3)
    a = m
    y = np.sum(x * a)
    for i in range(n):
        m[i] = 7.0 + i
    return y + np.sum(x * a)


def differentiated_alias_read_before_a_loop_writes_the_array(x, n):
    x = x * 1.0
    a = x
    y = np.sum(x * a)
    for i in range(n):
        x[i] = x[i] * 2.0
    return y + np.sum(x * a)


def aliased_by_a_conditional_expression(x, c):
    x = x * 1.0
    y = x * 2.0
    a = x if c else y
    a[0] = x[1] * 3.0
    return np.sum(a * x) + np.sum(y)


def updated_through_a_conditional_expression(x, c):
    x = x * 1.0
    y = x * 2.0
    a = x * 0.5 if c else y
    a += 1.0
    return np.sum(a * x) + np.sum(y)


def aliased_by_a_conditional_expression_in_a_loop(x, n):
    x = x * 1.0
    y = x * 2.0
    for i in range(n):
        a = x if i % 2 == 0 else y
        a[i] = x[(i + 1) % 3] * 2.0
    return np.sum(x * y)


def aliased_by_unpacking_in_a_loop(x, n):
    x = x * 1.0
    y = x * 2.0
    for i in range(n):
        a, b = x, y
        a[i] = x[(i + 1) % 3] * 2.0
    return np.sum(x * y)


def constant_aliased_by_unpacking_in_a_loop(x, n):
    m = np.ones(3)
    y = np.sum(x * m)
    for i in range(n):
        a, b = m, 2.0
        a[i] = 5.0 * b
    return y + np.sum(x * m)


def constant_aliased_by_unpacking_then_written(x, c):
    m = np.ones(3)
    a, b = m, 2.0 + c
    y = np.sum(x * a)
    m[0] = 5.0 * b
    return y + np.sum(x * a)


def view_read_in_a_loop_then_written(x, n):
    v = x * 1.0
    s = 0.0
    for i in range(n):
        t = v[1:]
        s = s + np.sum(t * x[i])
    v[1] = 5.0
    return s + np.sum(v)


def slice_read_in_a_loop_then_written(x, n):
    v = x * 1.0
    s = 0.0
    for i in range(n):
        s = s + np.sum(v[1:] * x[i])
    v[1] = 5.0
    return s + np.sum(v)


def items_of_each_iteration_then_written(x, n):
    v = x * 1.0
    s = 0.0
    for i in range(n):
        t = v[i]
        s = s + t * x[2 - i]
    v[0] = 5.0
    v[1] = 7.0
    return s + np.sum(v)


def rows_of_each_iteration_then_written(x, n):
    v = np.stack([x, x * 2.0])
    s = 0.0
    for i in range(n):
        t = v[i % 2]
        s = s + np.sum(t * x)
    v[0] = 5.0
    return s + np.sum(v)


def items_of_an_inner_loop_then_written(x, n):
    v = x * 1.0
    s = 0.0
    for i in range(n):
        for j in range(2):
            t = v[j]
            s = s + t * x[2 - j]
        v[0] = v[0] * 0.5
    v[1] = 7.0
    return s + np.sum(v)


def view_read_on_one_branch_then_written(x, c):
    v = x * 1.0
    s = 0.0
    if c:
        t = v[1:]
        s = s + np.sum(t * x[0])
    v[1] = 5.0
    return s + np.sum(v)


def view_chosen_by_a_branch_then_written(x, c):
    v = x * 1.0
    t = v[0:2]
    if c:
        t = v[1:3]
    y = np.sum(t * x[:2])
    v[1] = 5.0
    return y + np.sum(v) + np.sum(t)


def written_on_one_branch_after_a_read(x, c):
    v = x * 1.0
    y = np.sum(x * v)
    if c:
        v[0] = 5.0
    return y + np.sum(v)


def view_written_on_one_branch_after_a_read(x, c):
    v = x * 1.0
    t = v[1:]
    y = np.sum(x[1:] * t)
    if c:
        v[1] = 5.0
    return y + np.sum(v)


def written_in_nested_branches_after_a_read(x, c):
    v = x * 1.0
    y = np.sum(x * v)
    if c > 0:
        if c > 1:
            v[0] = 5.0
        v[2] = v[2] * 3.0
    return y + np.sum(v * x)


def read_and_written_on_one_branch(x, c):
    v = x * 1.0
    if c:
        y = np.sum(x * v)
        v[0] = 5.0
    else:
        y = np.sum(x)
    return y + np.sum(v)


def written_after_a_branch_that_may_rebind_it(x, c):
    # (found by the program fuzzer: the maximum's pullback read the written array, NaN)
    v1 = x * 1.0
    v1[0] = np.sin(0.5)
    v2 = np.max(v1)
    if np.sum(v1) > c:
        v1 = v1 + 0.5
    v1[0] = np.sin(v2)
    return np.sum(v1 * x)


def written_after_a_loop_that_may_rebind_it(x, n):
    v = x * 1.0
    y = np.sum(x * v)
    for i in range(n):
        v = v * 1.5
    v[0] = 5.0
    return y + np.sum(v * x)


def written_after_branches_that_made_it(x, c):
    if c:
        v = x * 2.0
        y = np.sum(x * v)
    else:
        v = x * 3.0
        y = np.sum(x * v * v)
    v[0] = 5.0
    return y + np.sum(v * x)


def list_appended_after_branches_that_made_it(x, c):
    if c:
        items = [x[0] * 2.0]
        y = sum(items) * x[1]
    else:
        items = [x[1] * 3.0]
        y = sum(items) * x[2]
    items.append(x[2] * 5.0)
    return y + sum(items) * x[0]


def written_after_nested_branches_that_may_rebind_it(x, c):
    v = x * 1.0
    y = np.sum(v * x)
    if c > 0:
        if c > 1:
            v = np.sin(x)
            y = y + np.sum(v * x)
        x = x * 2.0
    v[-1] += np.sum(x)
    return y + np.sum(v * x)


def written_after_a_loop_that_rebinds_it_each_iteration(x, n):
    # (found by the program fuzzer: the reversed loop read the write's snapshot of the last iteration's
    # array instead of each iteration's)
    v = x * 1.0
    for i in range(n):
        v = np.sin(v)
    y = np.sum(v)
    v[0] = 0.5
    return y + np.sum(v * x)


def written_after_a_loop_whose_result_its_pullback_reads(x, n):
    # (found by the program fuzzer: the tape kept each iteration's quotient by reference, and the write
    # after the loop changed the last one)
    v = x * 1.0
    for i in range(n):
        v = v / (2.0 + np.cos(v))
    v[0] += np.sin(0.5)
    return np.sum(v)


def updated_before_an_alias_of_it_is_bound_in_the_loop(x, n):
    # (found by the front-end fuzzer: at `x += ...` the alias group joined over the loop holds `v`,
    # which the first iteration has not bound yet: KeyError)
    x = x * 1.0
    w = x
    for i in range(n):
        x += x * 2.0
        v = x
        for j in range(n):
            v = v * 0.5 + x
        w = w * 0.5 + x + v
    return np.sum(x * w)


def written_on_one_branch_read_on_the_other(x, c):
    # (found by the program fuzzer on CuPy: the pullback of the other branch's sin read the snapshot the
    # write took, which that path never ran: UnboundLocalError)
    v = x.copy()
    for i in range(2):
        v[0] = v[1]
    if c:
        v[0] = 1.0
    else:
        v = np.sin(v)
    return np.sum(v)


def written_on_one_branch_read_on_the_other_without_a_loop(x, c):
    v = x * 1.0
    if c:
        v[0] = 1.0
    else:
        v = np.sin(v)
    return np.sum(v)


def written_on_one_branch_whose_other_reads_it(x, c):
    v = x * 1.0
    if c:
        v[0] = v[1] * 2.0
        y = np.sum(v)
    else:
        y = np.sum(np.sin(v))
    return y


def written_differently_on_each_branch(x, c):
    v = x * 1.0
    y = np.prod(v)
    if c:
        v[0] = np.exp(v[1])
    else:
        v[2] = v[0] * 2.0
        y = y + np.sum(np.tan(v))
    # (a guard: each branch's write takes its own snapshot, and the statement before the `if` reads one
    # that holds the old content on either path)
    return y * np.sum(v * v)



def written_after_a_loop_that_only_reads_it(x, n):
    # (found by the program fuzzer: the second loop carries `v` without rebinding it, and the write after
    # it did not reach the version `np.sin(v)` read before it: a wrong gradient)
    v = np.zeros_like(x)
    for k in range(n):
        v = x ** 3
    y = np.sin(v)
    for item in v:
        x = item * 2.0
    v[-1] += 1.0
    return np.sum(y) + np.sum(x)


def written_after_a_loop_that_reads_it_whole(x, n):
    v = np.zeros_like(x)
    k = 0
    while k < n:
        k = k + 1
        v = x ** 3
    y = np.sin(v)
    for item in v:
        x = np.multiply(v, v)
    v[0] = 1.0
    return np.sum(y * x)


def updated_in_a_loop_whose_body_may_alias_it(x, n):
    # (`v = y if ... else x` in the body puts `y` in `x`'s group, so `x += x` gives `y` a new version in the
    # body, but `y` was not carried: unbound after a loop of no iteration)
    x = x * 1.0
    y = x * 2.0
    k = 0
    while k < n:
        k += 1
        for i in range(n - 1):
            v = y if np.sum(y) > 100.0 else x
        x += x
    return np.sum(y * x)


def updated_in_a_loop_whose_body_may_alias_it_in_an_expression(x, n):
    # (the same, where the conditional expression is part of a larger one: its value's temporary joins the
    # group, and no assignment in the source says so)
    x = x * 1.0
    y = x * 2.0
    k = 0
    while k < n:
        k += 1
        v = x
        for i in range(n - 1):
            v = v * 0.5 + (y if np.sum(y) > 100.0 else x)
        x += x
    return np.sum(y * x)

CASES = [
    (aliased_on_one_branch_then_written, (True, False)),
    (aliased_on_one_branch_and_written_through_it, (True, False)),
    (aliased_on_one_branch_then_updated, (True, False)),
    (elif_chain_of_aliases, (0, 1, 2)),
    (rebound_in_a_while_loop_that_may_not_run, (0, -2)),
    (the_issue_program, (0, -1)),
    (rebound_in_a_for_loop_that_may_not_run, (0, 2)),
    (bound_in_a_loop_that_may_not_run, (0, 2)),
    (rebound_in_nested_loops, (0, 2)),
    (updated_after_inner_loops_that_may_not_run, (0, 2)),
    (list_aliased_on_one_branch, (True, False)),
    (constant_aliased_on_one_branch_then_sorted, (True, False)),
    (constant_alias_read_before_a_write, (True, False)),
    (array_read_whole_before_a_loop_writes_it, (0, 1, 3)),
    (constant_read_before_a_loop_writes_it, (0, 1, 3)),
    (alias_read_before_a_loop_writes_the_array, (0, 1, 3)),
    (differentiated_alias_read_before_a_loop_writes_the_array, (0, 1, 3)),
    (aliased_by_a_conditional_expression, (True, False)),
    (updated_through_a_conditional_expression, (True, False)),
    (aliased_by_a_conditional_expression_in_a_loop, (0, 1, 3)),
    (aliased_by_unpacking_in_a_loop, (0, 1, 3)),
    (constant_aliased_by_unpacking_in_a_loop, (0, 1, 3)),
    (constant_aliased_by_unpacking_then_written, (0, 1)),
    (view_read_in_a_loop_then_written, (0, 1, 3)),
    (slice_read_in_a_loop_then_written, (0, 1, 3)),
    (items_of_each_iteration_then_written, (1, 2, 3)),
    (rows_of_each_iteration_then_written, (1, 2, 3)),
    (items_of_an_inner_loop_then_written, (0, 1, 3)),
    (view_read_on_one_branch_then_written, (True, False)),
    (view_chosen_by_a_branch_then_written, (True, False)),
    (written_on_one_branch_after_a_read, (True, False)),
    (view_written_on_one_branch_after_a_read, (True, False)),
    (written_in_nested_branches_after_a_read, (0, 1, 2)),
    (read_and_written_on_one_branch, (True, False)),
    (written_after_a_branch_that_may_rebind_it, (0.5, 100.0)),
    (written_after_a_loop_that_may_rebind_it, (0, 1, 2)),
    (written_after_branches_that_made_it, (True, False)),
    (list_appended_after_branches_that_made_it, (True, False)),
    (written_after_nested_branches_that_may_rebind_it, (0, 1, 2)),
    (written_after_a_loop_that_rebinds_it_each_iteration, (0, 1, 2)),
    (written_after_a_loop_whose_result_its_pullback_reads, (0, 1, 2)),
    (updated_before_an_alias_of_it_is_bound_in_the_loop, (0, 2)),
    (written_on_one_branch_read_on_the_other, (True, False)),
    (written_on_one_branch_read_on_the_other_without_a_loop, (True, False)),
    (written_on_one_branch_whose_other_reads_it, (True, False)),
    (written_differently_on_each_branch, (True, False)),
    (written_after_a_loop_that_only_reads_it, (0, 1, 2)),
    (written_after_a_loop_that_reads_it_whole, (0, 1, 2)),
    (updated_in_a_loop_whose_body_may_alias_it, (0, 1, 2)),
    (updated_in_a_loop_whose_body_may_alias_it_in_an_expression, (0, 1, 2)),
]
PARAMS = [pytest.param(fn, control, id=f"{fn.__name__}-{control}") for fn, controls in CASES for control in controls]


@pytest.mark.parametrize("fn, control", PARAMS)
def test_value_and_gradient_follow_the_object_each_name_holds(fn, control):
    x = np.random.default_rng(3).uniform(0.2, 1.2, size=3)
    value, gradient = value_and_grad(fn)(x.copy(), control)
    np.testing.assert_allclose(value, fn(x.copy(), control), rtol=1e-12)
    np.testing.assert_allclose(gradient, numeric_partial(fn, (x, control), 0, [1.0]), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fn, control", PARAMS)
def test_through_the_seed_api(fn, control):
    x = np.random.default_rng(4).uniform(0.2, 1.2, size=3)
    δ(fn)
    delta = globals()["δ" + fn.__name__]
    value, pullback = delta(x.copy(), control)
    np.testing.assert_allclose(value, fn(x.copy(), control), rtol=1e-12)
    once = pullback(0.7)[0]
    np.testing.assert_array_equal(pullback(0.7)[0], once)  # called again: the same partials
    np.testing.assert_allclose(once, numeric_partial(fn, (x, control), 0, [0.7]), rtol=1e-6, atol=1e-7)


def test_a_name_that_may_hold_the_array_is_asked_at_run_time():
    from autodiffsource import transform

    text = transform(aliased_on_one_branch_then_written, (True, False)).__source__
    assert " is x_2" in text  # the write into x asks whether v holds it (it does where c is false)
    text = transform(constant_read_before_a_loop_writes_it, (True, False)).__source__
    assert "m_before = copy_value(m)" in text  # the loop's writes: the pullback reads m as it was before


def test_the_other_branch_copies_only_what_statements_before_the_if_read():
    from autodiffsource import transform

    text = transform(written_on_one_branch_after_a_read, (True, False)).__source__
    assert text.count("v_before = copy_value(v)") == 2  # before the write, and on the branch without it
    text = transform(read_and_written_on_one_branch, (True, False)).__source__
    assert text.count("v_before = copy_value(v)") == 1  # read on the branch itself: no copy on the other
