"""value_and_grad's same-shape branch: differentiated parameters that meet in elementwise arithmetic.

``(x - y) ** 2`` of two arrays that may broadcast needs un-broadcasts and a full array for the sum's
cotangent; of two arrays of one shape it needs neither. value_and_grad's one function builds its NumPy
branch assuming such parameters share a shape (``shapes.elementwise_groups``) and guards it with
``x.shape == y.shape``. Checked: where the guard holds the gradient matches central differences and the
generic code (forced with an ndarray subclass) up to rounding; where it does not, the generic code runs.
"""

from __future__ import annotations

import numpy as np
import pytest

from autodiffsource import value_and_grad
from autodiffsource.api import value_and_grad_function
from autodiffsource.transform import shapes
from bench.workloads import autoencoder, rnn
import finite_differences

RNG = np.random.default_rng(23)
N = 20_000


class _Subclass(np.ndarray):
    """Fails the branch's `type(p) is ndarray` guard: the generic code runs."""


def squares(x, y):
    return np.sum((x - y) ** 2 - y ** 2)


def mixed(x, y, z):
    return np.sum(np.sin(x) * y + np.exp(-x * y) / (1 + z ** 2))


def partial_sums(x, y):
    return np.sum(np.sum(x * y, axis=0) ** 2)


def with_a_constant(x, y, c):
    return np.sum((x * y + c) ** 2)


def in_a_loop(x, y):
    total = 0.0
    for k in range(3):
        total = total + np.sum(np.tanh(x * y + k))
    return total


def branch_of(f, mask):
    text = value_and_grad_function(f, mask).__source__
    start = text.index("NumPy arrays")
    return text[text.rindex("if ", 0, start):text.index("namespace(", start)]


@pytest.mark.parametrize("f, guard", [(squares, "x.shape == y.shape"),
                                      (mixed, "x.shape == y.shape) and (x.shape == z.shape"),
                                      (partial_sums, "x.shape == y.shape"),
                                      (with_a_constant, "x.shape == y.shape"),
                                      (in_a_loop, "x.shape == y.shape")])
def test_parameters_that_meet_elementwise_are_guarded_to_one_shape(f, guard):
    mask = (True,) * (f.__code__.co_argcount - (f is with_a_constant))
    mask += (False,) * (f.__code__.co_argcount - len(mask))
    assert guard in branch_of(f, mask)


def test_the_branch_unbroadcasts_nothing_and_keeps_the_sums_cotangent_a_number():
    branch = branch_of(squares, (True, True))
    assert "unbroadcast" not in branch and "expand_reduced" not in branch
    assert "dy = d_t5 * -2 * y" in branch  # the seed itself, a number, times the array
    assert "dy -= d_t1" in branch  # not `dy += -d_t1`: no pass to negate


@pytest.mark.parametrize("f, shapes_", [(squares, [(N,), (N,)]), (mixed, [(40, 50)] * 3),
                                        (partial_sums, [(30, 40), (30, 40)]), (in_a_loop, [(7,), (7,)]),
                                        (squares, [(), ()])])
def test_same_shapes_match_differences_and_the_generic_code(f, shapes_):
    args = [RNG.uniform(-1, 1, s) for s in shapes_]
    before = [a.copy() for a in args]
    combined = value_and_grad_function(f, (True,) * len(args))
    value, partials = combined(*args)
    generic_value, generic = combined(*[a.copy().view(_Subclass) for a in args])
    assert value == pytest.approx(f(*args), rel=1e-12) and value == pytest.approx(generic_value, rel=1e-12)
    for p, g, a in zip(partials, generic, args):
        assert type(p) is np.ndarray and p.shape == a.shape
        np.testing.assert_allclose(p, np.asarray(g), rtol=1e-12, atol=1e-14)
    directional_check(f, args, partials)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("f, shapes_", [(squares, [(50, 1), (1, 40)]), (squares, [(30,), ()]),
                                        (mixed, [(40, 50), (50,), (40, 1)]), (partial_sums, [(30, 40), (40,)])])
def test_broadcasting_parameters_take_the_generic_code(f, shapes_):
    args = [RNG.uniform(-1, 1, s) for s in shapes_]
    value, partials = value_and_grad(f, argnums=tuple(range(len(args))))(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    for p, a in zip(partials, args):
        assert np.shape(p) == np.shape(a)
    directional_check(f, args, partials)


def test_a_constant_of_another_shape_is_unbroadcast_against():
    x, y, c = RNG.uniform(-1, 1, (30, 40)), RNG.uniform(-1, 1, (30, 40)), RNG.uniform(-1, 1, 40)
    value, (dx, dy) = value_and_grad(with_a_constant, argnums=(0, 1))(x, y, c)
    assert value == pytest.approx(with_a_constant(x, y, c), rel=1e-12)
    directional_check(lambda x, y: with_a_constant(x, y, c), [x, y], [dx, dy])


def test_python_numbers_keep_their_fast_path():
    assert value_and_grad(squares, argnums=(0, 1))(3.0, 2.0) == (-3.0, (2.0, -6.0))


def lowered(fn, mask):
    """``fn`` lowered as the transform lowers it."""
    from autodiffsource.api import _resolve_delta
    from autodiffsource.frontend.lower import Lowerer
    from autodiffsource.source import parse_function

    return Lowerer(parse_function(fn), list(mask), _resolve_delta).lower()


def test_parameters_that_never_meet_form_no_group():
    assert shapes.elementwise_groups(lowered(autoencoder, (True,) * 5 + (False,)),
                                     ["We1", "We2", "Wd", "b1", "b2"]) == ()
    assert shapes.elementwise_groups(lowered(rnn, (True, True, False)), ["W", "h0"]) == ()
    assert "shape ==" not in value_and_grad_function(autoencoder, (True,) * 5 + (False,)).__source__


def directional_check(f, args, partials):
    """Every argument at once, in three random directions (finite_differences.directional_check)."""
    finite_differences.directional_check(f, args, partials, range(len(args)), RNG)
