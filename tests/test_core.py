"""The Python subset the seed supports, end to end: every gradient against central finite differences.

Nesting (three deep, several outputs), random constants, varargs, keyword arguments, module constants
and closures, tuple unpacking, reassignment, ``len``/``.shape``/``.size``, indexing and slicing, the
seed's autoencoder (``_const6``, float32) and rosenbrock (slicing, and a function from another module).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import thirdparty_rosen
from autodiffsource import UnsupportedSyntaxError, checkdiff, vjp, δ
from finite_differences import check_pullback, numeric_partial

RNG = np.random.default_rng(7)


# ---- the README's f and f2 ------------------------------------------------------------------------------

@δ
def f(x, y):
    return (x + 2 * y) * y ** 2


@δ
def f2(x, y):
    q = f(x * y, y) * x
    return q + y, q - x


def test_readme_f_values_and_partials():
    z, back = δf(3, 2)  # noqa: F821
    assert z == 28
    assert back() == (4.0, 36.0)
    check_pullback(f, δf, [0.3, -1.7])  # noqa: F821


def test_readme_f2_two_outputs_through_nested_f():
    x, y = 0.9, -1.3
    z, t, back2 = δf2(x, y)  # noqa: F821
    q = (x * y + 2 * y) * y ** 2 * x
    assert (z, t) == pytest.approx((q + y, q - x))
    check_pullback(f2, δf2, [x, y])  # noqa: F821
    check_pullback(f2, δf2, [RNG.standard_normal(4), RNG.standard_normal(4)])  # noqa: F821


# ---- three-deep nesting with several return values ------------------------------------------------------

def level3(a, b):
    return a * b, a + np.sin(b)


def level2(a, b):
    p, s = level3(a, b)
    r, _ = level3(p, s)
    return r * s, p - s, np.exp(-a)


@δ
def level1(x, y):
    u, v, w = level2(x, y)
    return u * v + w, v - y


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_three_deep_nesting_with_multiple_returns(shape):
    x = RNG.uniform(-1, 1, size=shape) if shape else 0.4
    y = RNG.uniform(-1, 1, size=shape) if shape else -0.8
    check_pullback(level1, δlevel1, [x, y])  # noqa: F821
    check_pullback(level1, δlevel1_const2, [x, y], wrt=[0])  # noqa: F821
    check_pullback(level1, δlevel1_const1, [x, y], wrt=[1])  # noqa: F821


# ---- random constants -------------------------------------------------------------------------------------

@δ
def noisy(x):
    r = np.random.randn(3)
    s = np.random.rand()
    return np.sum(x * r) + s * x[0], r


def test_random_calls_are_constants_evaluated_once_per_forward_pass():
    x = np.array([1.0, -2.0, 0.5])
    np.random.seed(11)
    value, r, back = δnoisy(x)  # noqa: F821
    after_forward = np.random.randn()
    np.random.seed(11)
    r_expected = np.random.randn(3)
    s_expected = np.random.rand()
    assert after_forward == np.random.randn()  # exactly one draw of each call in the forward pass
    np.testing.assert_array_equal(r, r_expected)
    assert value == pytest.approx(np.sum(x * r_expected) + s_expected * x[0])
    expected_dx = r_expected.copy()
    expected_dx[0] += s_expected
    # The pullback uses the forward pass's draws, however often it runs and whatever is drawn since.
    for _ in range(3):
        np.random.randn(5)
        np.testing.assert_allclose(back(1.0, None), expected_dx, rtol=1e-14)
    np.testing.assert_allclose(back(2.0, np.ones(3)), 2 * expected_dx, rtol=1e-14)


@δ
def seeded(x):
    np.random.seed(3)
    return np.sum(x * np.random.randn(4))


def test_random_seed_inside_the_function():
    x = RNG.standard_normal(4)
    check_pullback(seeded, δseeded, [x])  # noqa: F821  (deterministic: seeded inside)


# ---- varargs ------------------------------------------------------------------------------------------------

@δ
def with_varargs(x, *args):
    return x * args[0] + args[1] ** 2 * len(args)


def test_varargs_each_extra_argument_is_differentiated():
    value, back = δwith_varargs(1.5, 2.0, 3.0)  # noqa: F821
    assert value == 1.5 * 2.0 + 9.0 * 2
    dx, da, db = back()
    assert (dx, da, db) == (2.0, 1.5, 2 * 3.0 * 2)
    check_pullback(with_varargs, δwith_varargs, [1.5, 2.0, 3.0])  # noqa: F821
    check_pullback(with_varargs, δwith_varargs, [RNG.standard_normal(3), 0.5, RNG.standard_normal(3)])  # noqa: F821
    check_pullback(with_varargs, δwith_varargs_const1, [1.5, 2.0, 3.0], wrt=[1, 2])  # noqa: F821


@δ
def calls_varargs(x, y):
    return with_varargs(x, y, x * y, 4.0)


def test_calling_a_varargs_function():
    check_pullback(calls_varargs, δcalls_varargs, [0.7, -1.2])  # noqa: F821


@δ
def varargs_unpacked(x, *rest):
    first, second = rest
    return x * first * rest[-1] + second + len(rest)


@δ
def varargs_as_a_whole(x, *args):
    total = 0.0
    for a in args:
        total = total + a * x
    rest = args
    return total + rest[0] * rest[-1]


@δ
def passes_varargs_on(x, *args):
    return with_varargs(x, *args)


def test_varargs_unpacking_negative_index_zero_extras_and_vjp():
    check_pullback(varargs_unpacked, δvarargs_unpacked, [0.5, 2.0, 3.0])  # noqa: F821
    value, back = δwith_varargs_const1(2.0, 1.0, 4.0, 5.0)  # noqa: F821  (three extras, the named one constant)
    assert value == 2.0 * 1.0 + 16.0 * 3 and back() == (2.0, 24.0, 0.0)
    out, pullback = vjp(with_varargs, 1.5, 2.0, 3.0)
    assert out == 1.5 * 2.0 + 18.0 and pullback(1.0) == (2.0, 1.5, 12.0)


@pytest.mark.parametrize("extra", [(2.0, 3.0), (np.arange(3.0), np.ones(3)), (0.5, -1.0, 2.0)])
def test_varargs_used_as_a_whole(extra):
    partials = check_pullback(varargs_as_a_whole, δvarargs_as_a_whole, [1.5, *extra])  # noqa: F821
    assert len(partials) == 1 + len(extra)


@δ
def rebinds_varargs(x, *args):
    """`args` reassigned: the tuple is bound once and carried as a container."""
    first = args[0] * x
    args = args[1:]
    return first + args[0] * len(args)


def test_varargs_reassigned():
    check_pullback(rebinds_varargs, δrebinds_varargs, [1.5, 2.0, 3.0, 4.0])  # noqa: F821


def test_passing_varargs_on():
    check_pullback(passes_varargs_on, δpasses_varargs_on, [1.0, 2.0, 3.0])  # noqa: F821
    check_pullback(passes_varargs_on, δpasses_varargs_on, [1.0, 2.0, 3.0, 4.0])  # noqa: F821


# ---- keyword arguments ----------------------------------------------------------------------------------

def scaled(x, scale=2.0, shift=0.0):
    return x * scale + shift


@δ
def uses_keywords(x, y):
    a = scaled(x, scale=y)
    b = scaled(y, shift=x)
    return np.sum(a * b, axis=0, keepdims=False)


@δ
def keyword_only(x, *, power=2.0):
    return np.sum(x ** power)


def test_keyword_arguments_in_calls():
    x, y = RNG.uniform(0.5, 1.5, size=(2, 3)), RNG.uniform(0.5, 1.5, size=(2, 3))
    check_pullback(uses_keywords, δuses_keywords, [x, y])  # noqa: F821


def test_keyword_arguments_to_the_delta_function():
    z, back = δf(3.0, y=2.0)  # noqa: F821
    assert z == 28.0 and back() == (4.0, 36.0)
    x = RNG.uniform(0.5, 1.5, size=3)
    value, back = δkeyword_only(x, power=3.0)  # noqa: F821
    assert value == pytest.approx(np.sum(x ** 3))
    np.testing.assert_allclose(back(), 3 * x ** 2, rtol=1e-12)
    _, back_default = δkeyword_only(x)  # noqa: F821
    np.testing.assert_allclose(back_default(), 2 * x, rtol=1e-12)


# ---- module constants and closures ------------------------------------------------------------------------

SCALE = 2.5
WEIGHTS = np.array([0.5, -1.0, 2.0])


@δ
def uses_module_constants(x):
    return np.sum(WEIGHTS * x) * SCALE + np.sum(x ** 2) / len(WEIGHTS)


def make_closure(c, d):
    def with_closure(x):
        return np.sum(np.tanh(x * c) + d) * np.sum(c)

    return with_closure


def test_module_constants_are_read_as_constants():
    x = RNG.standard_normal(3)
    check_pullback(uses_module_constants, δuses_module_constants, [x])  # noqa: F821
    _, back = δuses_module_constants(x)  # noqa: F821
    np.testing.assert_allclose(back(), WEIGHTS * SCALE + 2 * x / 3, rtol=1e-12)


def make_caller(helper, offset):
    def caller(x):
        return helper(x + offset) * helper(x)

    return caller


def test_closure_function_is_differentiated_through_its_source():
    caller_of_sigmoid = make_caller(sigmoid, 0.5)
    δ(caller_of_sigmoid)
    check_pullback(caller_of_sigmoid, caller_of_sigmoid.δ, [RNG.standard_normal(3)])


def test_closure_variables_are_read_as_constants():
    closed = make_closure(np.array([0.3, -0.7, 1.1]), 4.0)
    δ(closed)
    check_pullback(closed, closed.δ, [RNG.standard_normal(3)])
    other = make_closure(np.array([2.0, 1.0, 0.5]), -1.0)  # same code, other cells: its own δ function
    δ(other)
    check_pullback(other, other.δ, [RNG.standard_normal(3)])


# ---- tuple unpacking and reassignment ------------------------------------------------------------------------

def two_values(a, b):
    return a * b, a - b


THIRTEEN = np.arange(1.0, 14.0)


@δ
def unpacking(x, y):
    a, b = x, y * 2
    p, q = two_values(a, b)
    c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13 = THIRTEEN
    u, v, w = x * c13 + c1, y * c7, p * c2
    return p * q + u * v + w - c12 * b


@δ
def unpack_differentiated_array(x):
    first, second, third = x
    return first * second - third ** 2


@δ
def reassignment(x):
    x = x + x
    x = x * x
    return x


@δ
def chained_and_augmented(x, y):
    a = b = x * 2
    c = d = 3.0
    a = a + y  # a new value: b keeps x * 2 (augmented assignment on shared arrays is tested below)
    b *= c
    b -= d
    b /= 4
    b **= 2
    return a * b


def test_chained_and_augmented_assignment():
    check_pullback(chained_and_augmented, δchained_and_augmented, [1.5, -0.5])  # noqa: F821
    check_pullback(chained_and_augmented, δchained_and_augmented, [RNG.standard_normal(3), 0.25])  # noqa: F821


def test_augmented_assignment_to_a_shared_value_follows_python():
    """On arrays `a += 1` changes `b` too (same object); on numbers it does not: both as Python does."""

    def shared(x):
        a = b = x * 2
        a += 1
        return a * b

    def shared_with_argument(x):
        y = x
        y *= 3.0
        return y * x

    def not_read_later(x):
        y = x
        y += 1.0
        return y * y

    δ(shared)
    value, _ = shared.δ(np.ones(2))
    np.testing.assert_array_equal(value, [9.0, 9.0])  # b saw the in-place update
    assert shared.δ(1.0)[0] == 6.0  # a number: b kept its value
    check_pullback(shared, shared.δ, [RNG.standard_normal(3)])
    check_pullback(shared, shared.δ, [0.7])
    δ(shared_with_argument)  # would change the caller's array: refused at the user's line
    with pytest.raises(UnsupportedSyntaxError) as info:
        shared_with_argument.δ(np.ones(2))
    assert info.value.loc.line == inspect.getsourcelines(shared_with_argument)[1] + 2
    δ(not_read_later)
    x = RNG.standard_normal(3)
    x0 = x.copy()
    not_read_later.δ(x)[1]()
    np.testing.assert_array_equal(x, x0)  # plain Python would have updated the caller's x; δ never does
    check_pullback(not_read_later, not_read_later.δ, [x])
    check_pullback(not_read_later, not_read_later.δ, [0.7])


def test_tuple_unpacking_of_tuples_results_and_a_13_element_constant_array():
    check_pullback(unpacking, δunpacking, [0.4, 1.3])  # noqa: F821
    check_pullback(unpacking, δunpacking, [RNG.standard_normal(3), RNG.standard_normal(3)])  # noqa: F821


def test_unpacking_a_differentiated_array():
    check_pullback(unpack_differentiated_array, δunpack_differentiated_array, [RNG.standard_normal(3)])  # noqa: F821


def test_reassignment():
    value, back = δreassignment(1.5)  # noqa: F821
    assert value == 9.0 and back() == 12.0  # (2x)^2 -> 8x
    check_pullback(reassignment, δreassignment, [RNG.standard_normal((2, 2))])  # noqa: F821


# ---- len / .shape / .size are not differentiated ------------------------------------------------------------

@δ
def shape_queries(x):
    n = len(x)
    rows, cols = x.shape
    return np.sum(x) / n + x[0, 0] * rows + x[1, 1] * x.size + cols * x[0, 1] * np.ndim(x)


def test_len_shape_size_are_constants():
    x = RNG.standard_normal((3, 2))
    check_pullback(shape_queries, δshape_queries, [x])  # noqa: F821


# ---- indexing and slicing (scatter-add partials) ------------------------------------------------------------

@δ
def slices(x):
    return np.sum(x[1:] * x[:-1]) + np.sum(x[0:len(x) - 1] ** 2)


@δ
def element(x, i):
    return x[i] * x[i] + x[i] + x[0]


@δ
def two_d_indexing(x):
    return x[1, 2] * np.sum(x[:, 1]) + np.sum(x[0] ** 2) + np.sum(x[:, 1:] * x[:, :-1])


@δ
def methods_of_expressions(x, y):
    return (x * y).sum() + np.mean(x, axis=1).max() + x[::-1][0].sum() + x[:, ::2].T.mean()


def test_methods_of_differentiated_expressions():
    check_pullback(methods_of_expressions, δmethods_of_expressions,  # noqa: F821
                   [RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))])


def test_slices():
    check_pullback(slices, δslices, [RNG.standard_normal(5)])  # noqa: F821


def test_integer_index_repeated_adds_up():
    x = RNG.standard_normal(4)
    check_pullback(element, δelement_const2, [x, 2], wrt=[0])  # noqa: F821
    dx = δelement_const2(x, 2)[1]()  # noqa: F821
    expected = np.zeros(4)
    expected[2] = 2 * x[2] + 1
    expected[0] = 1
    np.testing.assert_allclose(dx, expected, rtol=1e-12)


def test_two_d_indexing():
    check_pullback(two_d_indexing, δtwo_d_indexing, [RNG.standard_normal((3, 4))])  # noqa: F821


# ---- rosenbrock: slicing, and a function from another module ------------------------------------------------

@δ
def rosenbrock_pairs(x):
    return thirdparty_rosen.rosenbrock(x[0:len(x) - 1], x[1:len(x)])


def test_rosenbrock_via_slicing_and_a_function_from_another_module():
    x = RNG.standard_normal(3)
    check_pullback(rosenbrock_pairs, δrosenbrock_pairs, [x])  # noqa: F821
    assert checkdiff(rosenbrock_pairs, δrosenbrock_pairs, RNG.standard_normal(6))  # noqa: F821


def test_third_party_function_bound_by_plain_call():
    returned = δ(thirdparty_rosen.rosen)
    assert returned is thirdparty_rosen.rosen
    assert "δrosen" in globals() and "δrosen" not in vars(thirdparty_rosen)  # bound here, the caller
    x = RNG.standard_normal(5)
    value, back = δrosen(x)  # noqa: F821
    assert value == pytest.approx(thirdparty_rosen.rosen(x))
    check_pullback(thirdparty_rosen.rosen, δrosen, [x])  # noqa: F821
    x1 = np.ones(4)
    np.testing.assert_allclose(δrosen(x1)[1](), np.zeros(4), atol=1e-12)  # noqa: F821  (the minimum)


# ---- the autoencoder ----------------------------------------------------------------------------------------

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def autoencoder(We1, We2, Wd, b1, b2, input):
    firstLayer = sigmoid(We1 @ input + b1)
    encodedInput = sigmoid(We2 @ firstLayer + b2)
    reconstructedInput = sigmoid(Wd @ encodedInput)
    return reconstructedInput


@δ
def autoencoderError(We1, We2, Wd, b1, b2, input):
    reconstructedInput = autoencoder(We1, We2, Wd, b1, b2, input)
    return np.sum((input - reconstructedInput) ** 2)


def autoencoder_args(dtype=np.float64):
    rng = np.random.default_rng(3)
    args = [rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.random((3, 3)),
            rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)]
    return [a.astype(dtype) for a in args]


def test_autoencoder_all_arguments():
    check_pullback(autoencoderError, δautoencoderError, autoencoder_args())  # noqa: F821
    assert checkdiff(autoencoderError, δautoencoderError, *autoencoder_args())  # noqa: F821


def test_autoencoder_const6_float32():
    args = autoencoder_args(np.float32)
    value, back = δautoencoderError_const6(*args)  # noqa: F821
    partials = back()
    assert len(partials) == 5
    args64 = [a.astype(np.float64) for a in args]
    for i, (p, a) in enumerate(zip(partials, args[:5], strict=True)):
        assert p.dtype == np.float32 and p.shape == a.shape
        expected = numeric_partial(autoencoderError, args64, i, [1.0])
        np.testing.assert_allclose(p, expected, rtol=2e-3, atol=2e-4)
    assert value == pytest.approx(autoencoderError(*args64), rel=1e-5)


# ---- docstrings, comments, annotations, asserts -------------------------------------------------------------

@δ
def annotated(x: np.ndarray, y: float) -> float:
    """A docstring is not code."""
    # a comment
    z: np.ndarray = x * y  # an annotated assignment
    assert z.shape == x.shape, "the user's own check runs"
    pass
    return np.sum(z ** 2)


def test_docstrings_comments_annotations_and_asserts():
    check_pullback(annotated, δannotated, [RNG.standard_normal(3), 0.7])  # noqa: F821
