"""Views of arrays the function writes into (frontend/views.py).

``t = v[0]`` (or ``v.T``, ``v.reshape(9)``, ``np.split(v, 3)``...) shares ``v``'s memory: after ``v[0] = e``
or ``v += e`` it shows the write. Every function here reads such a view after a write; the value must
be the function's own, and the gradient must match central finite differences, through value_and_grad
and through the seed's δf, whose pullback is called twice. A view autodiffsource cannot make again (one a
custom rule returned) is refused at run time where the write changes it, and runs where it does not.
The list of view-making rules is checked against every rule's own test function. Other names of an
array written into in a loop (``w = v`` before it or in it, then ``w[i] = ...``) change with it too.
"""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import autodiffsource
from autodiffsource import ADError, value_and_grad, δ
from autodiffsource.frontend.views import is_view_rule
from autodiffsource.rules.registry import REGISTRY
from finite_differences import check_pullback, numeric_partial



def _matches_the_function(fn, x):
    """value_and_grad(fn) at ``x``: the function's own value, and its gradient by central differences."""
    value, gradient = value_and_grad(fn)(x)
    np.testing.assert_allclose(value, fn(x.copy()), rtol=1e-12)
    np.testing.assert_allclose(gradient, numeric_partial(fn, (x,), 0, [1.0]), rtol=1e-6, atol=1e-7)


def row_then_write(x):
    v = x * 1.0
    t = v[0]
    v[0] = 0.0
    return np.sum(t * x[1]) + np.sum(v)


def slice_then_write_from_it(x):
    v = x * 2.0
    t = v[1:]
    v[1] = np.sin(v[0])
    return np.sum(t ** 2)


def transpose_then_write(x):
    v = x * 1.0
    t = v.T
    v[0] = x[1] ** 2
    return np.sum(t * x)


def reshape_then_write(x):
    v = x * 1.0
    t = v.reshape(-1)
    v[0] = x[1] ** 2
    return np.sum(t * t)


def column_then_loop_of_writes(x):
    v = x * 1.0
    t = v[:, 0]
    for i in range(2):
        v[i] = v[i] * 3.0
    return np.sum(t * t)


def view_of_a_view(x):
    v = x * 1.0
    t = v[0]
    u = t[1:]
    v[0] = x[1] * 3.0
    return np.sum(u * u) + np.sum(t)


def item_is_a_copy(x):
    v = x * 1.0
    t = v[0, 0]
    v[0, 0] = 5.0
    return t * np.sum(v)


def fancy_index_is_a_copy(x):
    v = x * 1.0
    t = v[[0, 1]]
    v[0] = 5.0
    return np.sum(t * t)


def constant_array_written_with_a_derivative(x):
    v = np.zeros((3, 3))
    head = v[:2]
    v[0] = x[0] * 2.0
    return np.sum(head * x[1:])


def augmented_assignment_seen_through_a_view(x):
    v = x * 1.0
    t = v[0]
    v += x ** 2
    return np.sum(t * x[2])


def previous_row_recurrence(x):
    v = x * 1.0
    prev = v[0]
    for i in range(1, 3):
        v[i] = prev * 0.5 + v[i]
        prev = v[i]
    return np.sum(prev * v)


def view_chosen_by_a_branch(x):
    v = x * 1.0
    if x[0, 0] > 0:
        t = v[:, 1]
    else:
        t = v[1]
    v[1, 1] = np.sin(x[0, 0])
    return np.sum(t ** 2)


def ravel_then_diagonal_writes(x):
    v = x * 1.0
    flat = v.ravel()
    for i in range(3):
        v[i, i] = flat[i] * 2.0
    return np.sum(flat ** 2)


def split_then_write(x):
    v = x * 1.0
    a, b, c = np.split(v, 3)
    v[1] = 0.0
    return np.sum(a * b) + np.sum(c)


def constant_reshape_then_write(x):
    v = np.zeros((3, 3))
    flat = v.reshape(9)
    v[1] = x[0] * 3.0
    return np.sum(flat * np.arange(9.0))


def constant_transpose_then_write(x):
    v = np.ones((3, 3))
    t = np.transpose(v)
    v[:, 0] = x[2] ** 2
    return np.sum(t * x)


def constant_view_of_a_view(x):
    v = np.ones((3, 3))
    t = v.T
    r = t[0]
    v[0, 0] = x[1, 1] * 5.0
    return np.sum(r * x[0])


def alias_written_in_a_loop(x):
    v = x * 1.0
    w = v
    for i in range(2):
        w[1] = w[1] * 2.0 + x[0]
    return np.sum(v * v)


def alias_bound_and_written_in_a_loop(x):
    v = x * 1.0
    for i in range(2):
        w = v
        w[1] = w[1] * 2.0 + x[0]
    return np.sum(v * v)


def view_seen_through_an_alias_written_in_a_loop(x):
    v = x * 1.0
    t = v[0]
    for i in range(2):
        w = v
        w[1] = t * 2.0
    return np.sum(t * v)


def view_of_an_array_the_name_no_longer_holds(x):
    v = x * 1.0
    t = v[0]
    v = x * 2.0
    v[0] = 7.0
    return np.sum(t * v)


def view_updated_in_place_after_a_write(x):
    v = x * 1.0
    t = v[0]
    v[0] = x[1] * 3.0
    t += 1.0
    return np.sum(t * x[2])


def item_updated_in_place_after_a_write(x):
    v = x[0] * 1.0
    t = v[0]
    v[0] = x[1, 1] * 3.0
    t += 1.0
    return t * np.sum(v)


FUNCTIONS = [row_then_write, slice_then_write_from_it, transpose_then_write, reshape_then_write,
             column_then_loop_of_writes, view_of_a_view, item_is_a_copy, fancy_index_is_a_copy,
             constant_array_written_with_a_derivative, augmented_assignment_seen_through_a_view,
             previous_row_recurrence, view_chosen_by_a_branch, ravel_then_diagonal_writes, split_then_write,
             constant_reshape_then_write, constant_transpose_then_write, constant_view_of_a_view,
             alias_written_in_a_loop, alias_bound_and_written_in_a_loop, view_seen_through_an_alias_written_in_a_loop,
             view_of_an_array_the_name_no_longer_holds, view_updated_in_place_after_a_write,
             item_updated_in_place_after_a_write]


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("seed", [0, 1])
def test_views_show_writes_in_value_and_gradient(fn, seed):
    x = np.random.default_rng(seed).normal(size=(3, 3))
    _matches_the_function(fn, x)


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_views_through_the_seed_api(fn):
    x = np.random.default_rng(2).normal(size=(3, 3))
    δ(fn)
    delta = globals()["δ" + fn.__name__]
    check_pullback(fn, delta, (x,))
    _, pullback = delta(x)
    once = pullback(0.7)
    np.testing.assert_array_equal(pullback(0.7), once)  # called again: the same partials
    np.testing.assert_allclose(once, numeric_partial(fn, (x,), 0, [0.7]), rtol=1e-6, atol=1e-7)


def test_the_write_changes_the_view_on_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).normal(size=(3, 3))
    for fn in (row_then_write, transpose_then_write, column_then_loop_of_writes, previous_row_recurrence,
               view_chosen_by_a_branch):
        value, gradient = value_and_grad(fn)(torch.from_numpy(x.copy()))
        np.testing.assert_allclose(float(value), fn(x.copy()), rtol=1e-12)
        np.testing.assert_allclose(gradient.numpy(), numeric_partial(fn, (x,), 0, [1.0]), rtol=1e-6, atol=1e-7)


# ---- a view made by a custom rule: refused where the write changes it ----------------------------------

def head(a):
    return a[:2]


def δhead(a):
    def head_pullback(d):
        g = np.zeros_like(a)
        g[:2] = d
        return (g,)
    return a[:2], head_pullback


def custom_view_then_overlapping_write(x):
    v = x * 1.0
    t = head(v)
    v[0] = 1.0
    return np.sum(t)


def custom_view_then_write_elsewhere(x):
    v = x * 1.0
    t = head(v)
    v[2] = 1.0
    return np.sum(t) * np.sum(v)


def test_a_view_that_cannot_be_made_again_is_refused_where_the_write_changes_it():
    x = np.random.default_rng(5).normal(size=(3, 3))
    with pytest.raises(ADError) as error:
        value_and_grad(custom_view_then_overlapping_write)(x)
    message = str(error.value)
    assert "test_views.py" in message and "`t` is a view of `v`" in message and "v[0] = 1.0" in message
    assert ".copy()" in message
    _matches_the_function(custom_view_then_write_elsewhere, x)


def test_generated_code_makes_the_view_again_only_where_the_write_changed_it():
    δ(transpose_then_write)
    text = autodiffsource.source(globals()["δtranspose_then_write"])
    assert "writes_into(t, v, 0)" in text and "t_2 = v_2.T" in text and "t_2 = t\n" in text


# ---- the list of view-making rules ------------------------------------------------------------------

def test_every_rule_whose_function_returns_a_view_is_listed():
    """Each rule's test function (tests/rules/rule_specs.py) run on its own inputs: where a result shares
    memory with an argument, the rule it covers must be one views.py follows."""
    sys.path.insert(0, str(Path(__file__).parent / "rules"))
    from rule_harness import USER_GLOBALS, as_outputs, draw_inputs, make_function
    from rule_specs import CASES

    unlisted, viewing = [], 0
    for case in CASES:
        args = draw_inputs(case, 0)
        try:
            outputs = as_outputs(make_function(case.body, case.params, USER_GLOBALS)(*args))
        except Exception:  # noqa: BLE001 (a case whose primal needs what this probe does not give it)
            continue
        items = [item for o in outputs for item in (o if isinstance(o, (list, tuple)) else (o,))]
        if not any(isinstance(o, np.ndarray) and isinstance(a, np.ndarray) and np.may_share_memory(o, a)
                   for o in items for a in args):
            continue
        viewing += 1
        for key in case.covers:
            rule = REGISTRY.by_method.get(key[len("method:"):]) if isinstance(key, str) else REGISTRY.rule_for(key)
            if rule is not None and not is_view_rule(rule):
                unlisted.append((case.body, key))
    assert viewing > 40, f"only {viewing} cases returned views: the probe itself is broken"
    assert not unlisted, f"rules returning views that frontend/views.py does not follow: {unlisted}"


# ---- loops over an array written into, views on a loop's tape, views in a list ----------------------------

def rows_of_the_array_the_loop_writes_into(x):
    v = x * 1.0
    total = 0.0
    for row in v:
        v[0] = v[0] + row * 0.5
        total = total + np.sum(row * row)
    return total


def rows_of_a_constant_array_the_loop_writes_derivatives_into(x):
    v = np.ones((3, 3))
    total = 0.0
    for row in v:
        v[1] = x[0] * row
        total = total + np.sum(row * x[2])
    return total


@pytest.mark.parametrize("fn", [rows_of_the_array_the_loop_writes_into,
                                rows_of_a_constant_array_the_loop_writes_derivatives_into],
                         ids=lambda f: f.__name__)
def test_loops_over_rows_the_loop_writes_into(fn):
    x = np.random.default_rng(6).normal(size=(3, 3))
    _matches_the_function(fn, x)


def views_in_a_list(x):
    v = x * 1.0
    rows = [v[0], v[1]]
    v[0] = 5.0
    return np.sum(rows[0] * rows[1])


def test_views_held_in_a_list_are_refused_where_the_write_changes_them():
    x = np.random.default_rng(7).normal(size=(3, 3))
    with pytest.raises(ADError, match="`rows` is a view of `v` \\(held in a list\\)"):
        value_and_grad(views_in_a_list)(x)


def test_second_order_through_views():
    """hessian differentiates the forward-mode code of these again: the views' new versions and their
    run-time checks are code like any other there."""
    x = np.random.default_rng(8).normal(size=(3, 3))
    for fn in (transpose_then_write, column_then_loop_of_writes):
        hessian = np.asarray(autodiffsource.hessian(fn)(x)).reshape(9, 9)
        gradient = autodiffsource.grad(fn)
        step, columns = 1e-5, []
        for k in range(9):
            e = np.zeros(9)
            e[k] = step
            e = e.reshape(3, 3)
            columns.append(((gradient(x + e) - gradient(x - e)) / (2 * step)).ravel())
        np.testing.assert_allclose(hessian, np.array(columns).T, rtol=1e-5, atol=1e-6)


def view_read_by_a_lambda_called_after_the_write(x):
    v = x * 1.0
    t = v[0]
    total = lambda: np.sum(t * t)  # noqa: E731
    v[0] = x[1] * 2.0
    return total()


def test_a_view_read_by_an_inner_function_called_after_the_write():
    x = np.random.default_rng(9).normal(size=(3, 3))
    fn = view_read_by_a_lambda_called_after_the_write
    _matches_the_function(fn, x)


def euler_steps(x, k):
    y = np.zeros((20, x.shape[0]))
    y[0] = x
    for i in range(1, 20):
        prev = y[i - 1]
        y[i] = prev + 0.01 * np.sin(k * prev)
    return np.sum(y[-1] ** 2)


def test_a_view_bound_again_before_it_is_read_costs_no_check():
    """`prev` is bound again at the top of each iteration before anything reads it: the write after it
    cannot change what is read later, so no run-time check runs per iteration."""
    δ(euler_steps)
    assert "writes_into" not in autodiffsource.source(globals()["δeuler_steps"])
    x = np.random.default_rng(10).normal(size=4)
    check_pullback(euler_steps, globals()["δeuler_steps"], (x, 1.3))


def view_made_at_the_end_of_each_iteration(x):
    v = x * 1.0
    t = np.zeros(3)
    total = 0.0
    for i in range(3):
        v[0] = v[0] + t * 0.5
        total = total + np.sum(t * v[1])
        t = v[0]
    return total + np.sum(t)


def test_a_view_made_at_the_end_of_an_iteration_and_written_in_the_next():
    """`t = v[0]` with constant arguments is the same view at every iteration: the write at the top of
    the next one makes it again, where a view made from the body's own values would be refused."""
    x = np.random.default_rng(11).normal(size=(3, 3))
    fn = view_made_at_the_end_of_each_iteration
    _matches_the_function(fn, x)


def write_through_a_view_then_read_the_array(x):
    v = x * 1.0
    t = v[0]
    t += 1.0
    return np.sum(v)


def test_an_update_through_a_view_of_an_array_read_later_is_refused():
    """`t += e` on a view writes into `v` in NumPy; the generated code would rebind `t` instead."""
    x = np.random.default_rng(12).normal(size=(3, 3))
    with pytest.raises(ADError) as error:
        value_and_grad(write_through_a_view_then_read_the_array)(x)
    assert "`t += ...` writes into `v` through `t`" in str(error.value) and "t += 1.0" in str(error.value)


# ---- writes after the pullback's reads: it reads the content as it was -----------------------------------

def whole_array_read_in_each_iteration_of_a_loop_that_writes_it(x):
    v = x * 1.0
    y = 0.0
    for i in range(3):
        v[i] = 2.0 * x[i]
        y = y + np.sum(v * x)
    return y


def constant_array_read_in_each_iteration_of_a_loop_that_writes_it(x):
    c = np.zeros(3)
    y = 0.0
    for i in range(3):
        c[i] = i + 1.0
        y = y + np.sum(c * x)
    return y


def constant_array_written_after_it_was_read(x):
    c = np.array([3.0, 1.0, 2.0])
    y = np.sum(x * c)
    c[0] = 10.0
    return y + np.sum(c)


def array_written_after_its_last_use(x):
    v = x * 2.0
    y = np.sum(x * v)
    v[0] = 5.0
    return y


@pytest.mark.parametrize("fn", [whole_array_read_in_each_iteration_of_a_loop_that_writes_it,
                                constant_array_read_in_each_iteration_of_a_loop_that_writes_it,
                                constant_array_written_after_it_was_read, array_written_after_its_last_use],
                         ids=lambda f: f.__name__)
def test_the_pullback_reads_arrays_as_they_were_before_later_writes(fn):
    """Each was a silently wrong gradient: the pullback read the array after the writes that followed the
    read (a loop saved the array itself for each iteration; a write with no derivative, or one whose
    result nothing read, took no snapshot)."""
    x = np.random.default_rng(13).normal(size=3)
    _matches_the_function(fn, x)
    δ(fn)
    check_pullback(fn, globals()["δ" + fn.__name__], (x,))


def buffer_filled_again_after_it_was_read(x):
    buf = np.empty(3)
    np.multiply(np.arange(3.0), 2.0, out=buf)
    y = np.sum(x * buf)
    np.copyto(buf, np.ones(3))
    return y + np.sum(x * buf)


def sorted_after_it_was_read(x):
    c = np.array([3.0, 1.0, 2.0])
    t = c[:2]
    y = np.sum(x[:2] * t)
    c.sort()
    return y + np.sum(x * c)


def shuffled_and_refilled_after_it_was_read(x):
    c = np.arange(3.0)
    y = np.sum(x * c)
    np.random.default_rng(0).shuffle(c)
    z = np.sum(x * c)
    c.fill(0.5)
    w = np.add(c, 1.0, out=c)
    return y + z * np.sum(x * w)


def added_at_repeated_indices_after_it_was_read(x):
    c = np.ones(3)
    y = np.sum(x * c)
    np.add.at(c, [0, 0, 2], 2.0)
    return y + np.sum(x * c)


def put_along_an_axis_after_it_was_read(x):
    c = np.ones((3, 3))
    y = np.sum(x * c)
    np.put_along_axis(c, np.array([[0], [1], [2]]), 5.0, axis=1)
    return y + np.sum(x * c)


def ufunc_output_given_by_position_after_it_was_read(x):
    c = np.arange(3.0)
    y = np.sum(x * c)
    w = np.negative(c, c)
    np.add(c, 2.0, c)
    return y + np.sum(x * c) * np.sum(w)


@pytest.mark.parametrize("fn", [buffer_filled_again_after_it_was_read, sorted_after_it_was_read,
                                shuffled_and_refilled_after_it_was_read, added_at_repeated_indices_after_it_was_read,
                                put_along_an_axis_after_it_was_read,
                                ufunc_output_given_by_position_after_it_was_read], ids=lambda f: f.__name__)
def test_calls_that_change_a_constant_array_after_it_was_read(fn):
    """`np.copyto(buf, ...)`, `c.sort()`, `rng.shuffle(c)`, `c.fill(v)`, `out=c`, `np.add.at(c, i, v)`,
    `np.put_along_axis(c, ...)`, `np.add(a, b, c)`: the pullback read the array after the call changed it
    (a silently wrong gradient); each call is now a write into it."""
    x = np.random.default_rng(14).normal(size=3)
    _matches_the_function(fn, x)


def updated_twice_beside_a_view_read_nowhere(x):
    v = np.ones((2, 3))
    t = v[0]  # noqa: F841 (a view, never read)
    v += np.sin(0.5)
    v += np.sin(0.5)
    return np.sum(v * x)


def test_updating_an_array_twice_is_not_an_update_through_a_view():
    """The first `v += e` rebinds v to a new array made from v; the second is not a write into v
    through a view of it (the program fuzzer found it refused)."""
    x = np.random.default_rng(15).normal(size=(2, 3))
    fn = updated_twice_beside_a_view_read_nowhere
    _matches_the_function(fn, x)


def sorts_in_a_loop(x0):
    k1 = 0
    while k1 < 3:
        k1 = k1 + 1
        v2 = np.sort(x0, axis=1)  # noqa: F841
        x0 = np.add(x0, x0)
    if np.min(x0) <= 3.0:
        return np.sum(np.sin(x0))
    for row5 in x0:  # noqa: B007
        x0 = np.power(1.0 + 3.0 * 3.0, np.sin(x0))
    v6 = 1.0 * x0
    v6[-1] *= np.log2(2.0 + np.cos(2.0))
    return np.mean(np.tanh(x0))


def test_a_module_function_named_like_a_changing_method_changes_nothing():
    """`np.sort(x)` is not `c.sort()`: taking `np` for an array the loop changes made it a loop variable
    (None in the generated code; the program fuzzer found it)."""
    x = np.array([[1.16746657, -0.99521776, 1.44852149]])
    _matches_the_function(sorts_in_a_loop, x)


def inner_loop_of_writes_that_runs_no_iteration(x0):
    for _ in range(1):
        v2 = x0.copy()
        v4 = 0.0
        for i3 in range(0):
            v2[i3 % 3] = 0.5 * np.sin(v2[(i3 + 1) % 3]) + 0.5
            v4 = v4 + np.sum(np.sin(v2))
        x0 = np.sin(x0)
    return np.sum(x0)


def test_an_array_saved_as_a_copy_by_a_loop_may_be_unmade():
    """An outer loop saves the inner loop's written array as a copy; where the inner loop ran no iteration
    it was never made (None; the program fuzzer found copy_value failing on it)."""
    x = np.array([0.41088506, -0.69063986, -1.37707943])
    _matches_the_function(inner_loop_of_writes_that_runs_no_iteration, x)


def update_through_a_view_of_an_argument(x):
    t = x[0]
    t += 1.0
    return np.sum(t * t)


def test_an_update_through_a_view_of_an_argument_is_refused():
    """NumPy would change the caller's array through `t`; the generated code would not."""
    with pytest.raises(ADError, match="`t \\+= ...` writes into `x` through `t`"):
        value_and_grad(update_through_a_view_of_an_argument)(np.ones((2, 3)))
    value, gradient = value_and_grad(update_through_a_view_of_an_argument)(np.ones(3))  # t: a NumPy scalar
    assert value == 4.0 and gradient.tolist() == [4.0, 0.0, 0.0]


def view_carried_through_a_loop_that_rebinds_it(x, n):
    v = x * 1.0
    t = v[0:2]
    for i in range(n):
        t = v[1:3] * 1.0 + t
        t = v[1:3]
    v[1] = 5.0
    return np.sum(t * x[:2])


@pytest.mark.parametrize("n", [0, 2])
def test_a_view_carried_through_a_loop_then_written_is_refused_where_it_was_made(n):
    # Which view `t` holds after the loop (the one made before it, or an iteration's) only the run tells:
    # the refusal says so, also where the loop ran no iteration (it said "an earlier iteration" there).
    with pytest.raises(ADError, match="made before the loop or in an earlier iteration of it") as raised:
        value_and_grad(view_carried_through_a_loop_that_rebinds_it)(np.array([0.3, 0.5, 0.7]), n)
    assert raised.value.loc.line == view_carried_through_a_loop_that_rebinds_it.__code__.co_firstlineno + 6


def buffer_argument_written_after_it_was_read(x, out):
    y = np.sum(x * out)
    out[1] = 50.0
    return y


def test_a_constant_argument_written_after_it_was_read():
    """The caller's buffer, written as the function does (a constant), after `x * out` read it: the
    pullback read the written content (a silently wrong gradient)."""
    x, out = np.random.default_rng(17).normal(size=3), np.array([3.0, 1.0, 2.0])
    value, dx = value_and_grad(buffer_argument_written_after_it_was_read)(x, out.copy())
    np.testing.assert_allclose(dx, out, rtol=1e-12)
    caller = out.copy()
    value_and_grad(buffer_argument_written_after_it_was_read)(x, caller)
    assert caller[1] == 50.0  # the write still reaches the caller's array, as in the function


def constant_view_written_after_its_array_was_read(x):
    c = np.array([[3.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    y = np.sum(x * c[0])
    t = c[0]
    t[1] = 50.0
    return y + np.sum(c)


def test_a_write_into_a_view_of_a_constant_array_read_before():
    """`t[1] = 50` changes `c` through the view `t`; the pullback of `x * c[0]` read the new content."""
    _matches_the_function(constant_view_written_after_its_array_was_read, np.random.default_rng(18).normal(size=3))


def buffer_argument_written_in_a_loop_after_each_read(x, out):
    y = 0.0
    for i in range(3):
        y = y + np.sum(x * out)
        out[i] = 50.0 + i
    return y


def test_a_constant_argument_written_in_a_loop_after_each_read():
    x, out = np.random.default_rng(19).normal(size=3), np.array([3.0, 1.0, 2.0])
    fn = buffer_argument_written_in_a_loop_after_each_read
    value, dx = value_and_grad(fn)(x, out.copy())
    np.testing.assert_allclose(value, fn(x, out.copy()), rtol=1e-12)
    np.testing.assert_allclose(dx, numeric_partial(lambda z: fn(z, out.copy()), (x,), 0, [1.0]), rtol=1e-6,
                               atol=1e-7)


def derivative_written_into_a_view_of_a_constant(x):
    c = np.ones((2, 3))
    t = c[0]
    t[1] = x[0] * 2.0
    return np.sum(c * x)


def derivative_written_into_a_copy_of_a_constant(x):
    c = np.ones((2, 3))
    t = c[[0, 1]]
    t[0, 1] = x[0] * 2.0
    return np.sum(t * x)


def test_a_derivative_written_into_a_view_of_a_constant_is_refused_where_it_is_a_view():
    """`c` would carry `x` through the view `t` unseen; a fancy index is a copy, written as any array."""
    x = np.random.default_rng(20).normal(size=3)
    with pytest.raises(ADError, match="`t\\[...\\] = ...` writes into `c` through `t`"):
        value_and_grad(derivative_written_into_a_view_of_a_constant)(x)
    _matches_the_function(derivative_written_into_a_copy_of_a_constant, x)


def tuple_saved_by_a_loop_that_updates_an_alias(x, y):
    v2 = x
    k = 0
    while k < 0:
        k += 1
        v2 = v2 + x + x
    v4 = v2
    for _ in range(1):
        v2 += x + x
        v4 = v4 * 0.5 + (x, x)[-1]
    return x + x


def test_a_tuple_a_loop_saves_beside_arrays_it_changes():
    """The front-end fuzzer's program: the loop saved the tuple `(x, x)` as a copy (copy_value refused a
    tuple, which nothing can change in place)."""
    δ(tuple_saved_by_a_loop_that_updates_an_alias)
    assert globals()["δtuple_saved_by_a_loop_that_updates_an_alias"](0.7, -1.3)[1](1.0) == (2.0, 0.0)


def item_read_before_a_loop_that_updates_its_list_source(x, y):
    v0, v1 = (y, x)[-1], x / (x * x + 1.0)
    x /= [y, y][0]
    v3 = y
    for _ in range(0):
        y -= np.float64(v0) * x
        v3 = v3 * 0.5 + math.sin(x)
    v5 = sum([v1, y, 1.0])
    return x / (x * x + 1.0) + v5 * 0.0, x - x


def test_an_item_read_before_a_loop_whose_in_place_update_may_change_it():
    """The front-end fuzzer's program: `[y, y][0]`, read before a loop whose `y -= ...` may change it, got
    its snapshot inside the loop only, where a loop of no iteration never took it (NameError)."""
    δ(item_read_before_a_loop_that_updates_its_list_source)
    delta = globals()["δitem_read_before_a_loop_that_updates_its_list_source"]
    check_pullback(item_read_before_a_loop_that_updates_its_list_source, delta, (0.7, -1.3))
