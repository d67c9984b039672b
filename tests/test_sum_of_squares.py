"""Sums of squares in value_and_grad's NumPy branch: ``np.sum(100 * u ** 2 + v ** 2)`` as dot products.

The rewrite (transform/numpy_branch.py) and its helper (``runtime.sum_of_squares``) are checked against
``np.sum`` of the written expression: within float64 rounding where the dot products run, to the bit
everywhere else, and gradients against central differences (the backward part never changes).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiffsource import value_and_grad
from finite_differences import directional_check
from autodiffsource.api import value_and_grad_function
from autodiffsource.runtime import common, sum_of_squares

RNG = np.random.default_rng(11)
N = 20_000


@pytest.fixture
def dots(monkeypatch):
    """Counts the dot products the helper computes (NumPy's own np.dot does the work)."""
    calls = []

    def counted(a, b):
        calls.append(a.shape)
        return np.dot(a, b)

    monkeypatch.setattr(common, "_dot", counted)
    return calls


def expression(terms):
    """The expression the terms stand for, written out as generated code would (left to right)."""
    value = None
    for term in terms:
        weight, u = term if type(term) is tuple else (None, term)
        square = u ** 2 if weight is None else weight * u ** 2
        value = square if value is None else value + square
    return np.sum(value)


# ---- the helper -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("terms", [
    [RNG.standard_normal(N)],
    [(100, RNG.standard_normal(N)), RNG.standard_normal(N)],
    [(0.5, RNG.standard_normal((100, 300))), (-3, RNG.standard_normal((100, 300)))],
    [np.asfortranarray(RNG.standard_normal((200, 50))), (2.5, RNG.standard_normal((200, 50)))],
    [RNG.standard_normal(3 * N)[::3]],  # a strided 1-d view: np.dot reads it in place
    [RNG.standard_normal(100), (3, RNG.standard_normal(100))],  # small ones too
    [np.array(1.5)],  # 0-d
])
def test_float64_arrays_of_one_shape_are_summed_by_dot_products(terms, dots):
    got = sum_of_squares(*terms)
    assert len(dots) == len(terms)
    want = expression(terms)
    assert type(got) is np.float64
    assert got == pytest.approx(want, rel=1e-13)


@pytest.mark.parametrize("terms", [
    [RNG.standard_normal(N).astype(np.float32)],  # float32: the pairwise sum is the more accurate one
    [RNG.standard_normal((N, 1)), RNG.standard_normal((1, 3))],  # shapes broadcast
    [RNG.standard_normal(N), (2, RNG.standard_normal(N).astype(np.float32))],  # dtypes differ
    [np.empty(0)],  # nothing to sum: NumPy's own zero
    [(3, np.arange(N))],  # integers
    [RNG.standard_normal((300, 200))[:, ::2]],  # not contiguous: flattening would copy
    [(2.0, 1.5), 0.25],  # Python numbers
    [np.float64(3.0), (-1, np.array(2.0))],
    [RNG.standard_normal(N), 2.0],  # an array and a number: the number is added N times
    [RNG.standard_normal(N).view(np.recarray)],  # a subclass
])
def test_every_other_case_is_the_expression_to_the_bit(terms, dots):
    got = sum_of_squares(*terms)
    want = expression(terms)
    assert not dots
    assert type(got) is type(want)
    assert getattr(got, "dtype", None) == getattr(want, "dtype", None)
    np.testing.assert_array_equal(got, want)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([None, 1, -1, 2, 0.5, -100.0]), st.sampled_from([(N,), (1,), (3, 1), (3, N)]),
                          st.sampled_from([np.float64, np.float32])), min_size=1, max_size=4),
       st.integers(0, 2 ** 31))
def test_any_terms_match_the_expression(spec, seed):
    rng = np.random.default_rng(seed)
    terms = [u if w is None else (w, u)
             for w, u in ((w, rng.standard_normal(shape).astype(dtype)) for w, shape, dtype in spec)]
    got, want = sum_of_squares(*terms), expression(terms)
    assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-12 if np.asarray(want).dtype == np.float64 else 1e-5)


# ---- the rewrite ----------------------------------------------------------------------------------------

def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def least_squares(w, a, b):
    return np.sum((a @ w - b) ** 2)


def weighted_on_the_right(x):
    return np.sum(x[1:] ** 2 * 0.5 - 3.0 * (x[1:] - x[:-1]) ** 2)


def scaled_sums(x, y):
    return 2.0 * np.sum((x - y) ** 2) + np.sum(y ** 2)


def total_variation(u):
    return np.sum((u[:, 1:] - u[:, :-1]) ** 2) + np.sum((u[1:, :] - u[:-1, :]) ** 2)


def grouped_to_the_right(x, y, z):
    # (y**2 + z**2) is added first: splitting it into three dots would change the fallback's order
    return np.sum(x ** 2 + (y ** 2 + z ** 2))


def square_read_twice(x):
    s = x ** 2
    return np.sum(s) + np.sum(s * x)


def broadcasting(x, y):
    return np.sum(x ** 2 + y ** 2)


def branch_of(f, mask):
    text = value_and_grad_function(f, mask).__source__
    return text[text.index("NumPy arrays"):text.index("# workloads") if "# workloads" in text else None]


@pytest.mark.parametrize("f, mask, call", [
    (rosenbrock, (True,), "sum_of_squares((100, _t4), _t8)"),
    (least_squares, (True, False, False), "sum_of_squares(_t2)"),
    (weighted_on_the_right, (True,), "sum_of_squares((0.5, _t1), (-3.0, _t6))"),
    (scaled_sums, (True, True), "_t4 = 2.0 * sum_of_squares(_t1)\n"),
    (total_variation, (True,), "_t10 = sum_of_squares(_t8)"),
])
def test_the_branch_sums_squares_by_dot_products(f, mask, call):
    text = value_and_grad_function(f, mask).__source__
    branch = text[text.index("NumPy arrays"):text.index("xp = namespace(")]
    assert call in branch, branch


@pytest.mark.parametrize("f", [grouped_to_the_right, square_read_twice])
def test_sums_it_cannot_split_in_order_stay_sums(f):
    text = value_and_grad_function(f, (True,) * (f.__code__.co_argcount)).__source__
    assert "sum_of_squares(" not in text


@pytest.mark.parametrize("f, shapes", [(rosenbrock, [(N,)]), (least_squares, [(50,), (N, 50), (N,)]),
                                       (weighted_on_the_right, [(N,)]), (scaled_sums, [(N,), (N,)]),
                                       (total_variation, [(200, 300)]),
                                       (broadcasting, [(N, 1), (1, 40)]), (broadcasting, [(200, 100), (200, 100)])])
def test_value_and_grad_with_sums_of_squares_matches_differences(f, shapes):
    args = [RNG.uniform(-1, 1, s) for s in shapes]
    before = [a.copy() for a in args]
    value, grad = value_and_grad(f)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    directional_check(f, args, [grad], [0], RNG, directions=1)  # value_and_grad's default: the first argument
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)


def test_broadcast_squares_are_summed_as_written(dots):
    x, y = RNG.uniform(-1, 1, (N, 1)), RNG.uniform(-1, 1, (1, 40))
    value, _ = value_and_grad(broadcasting)(x, y)
    assert not dots  # y**2 counts N times: one dot per term would be wrong
    assert value == broadcasting(x, y)


def test_the_dot_products_run_in_the_workload_they_are_for(dots):
    x = RNG.uniform(-1, 1, N)
    value, dx = value_and_grad(rosenbrock)(x)
    assert len(dots) == 2
    assert value == pytest.approx(rosenbrock(x), rel=1e-13)
