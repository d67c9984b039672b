"""What the generated gradient looks like (issue 6): the code a careful person writes by hand.

Each optimisation of the generator has a test that its trace is gone from the generated source (or that
the helper it adds is there), and the gradients of the same functions, including broadcasting cases
where shapes differ, still match central finite differences.
"""

import numpy as np
import pytest

from autodiffsource import runtime, source, transform
from autodiffsource.runtime import indexing
from finite_differences import check_pullback

RNG = np.random.default_rng(11)


def δ(fn):
    """The compiled δ function of ``fn``, every argument differentiated."""
    import inspect

    return transform(fn, (True,) * len(inspect.signature(fn).parameters))


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def pullback_text(delta_f) -> str:
    text = source(delta_f)
    return text[text.rindex("_pullback(d"):]  # the generic (array) pullback, the last one


def forward_text(delta_f) -> str:
    text = source(delta_f)
    start = text.rindex("xp = namespace(")
    return text[start:text.index("def ", start)]


# ---- rosenbrock: the listing itself ------------------------------------------------------------------------

def test_rosenbrock_pullback_has_no_helpers_for_equal_shapes():
    text = pullback_text(δ(rosenbrock))
    assert "unbroadcast" not in text  # every operand of this chain has the same shape
    assert "expand_reduced" not in text  # the sum's cotangent stays a scalar until it meets an array
    assert "* 100 * 2" not in text and "* 200 *" in text  # constants folded
    assert "= -d" not in text and "(-d" not in text  # signs folded into the constants
    assert "scale_owned(" in text  # the last use of a cotangent it made scales it in place


def test_rosenbrock_forward_fuses_single_use_temporaries():
    text = forward_text(δ(rosenbrock))
    assert "_t10 =" not in text and "_t9 =" not in text and "_t5 =" not in text
    assert "xp.sum(_t6 + _t8 ** 2" in text


def test_rosenbrock_keeps_only_two_arrays_for_the_pullback():
    # Before: the pullback kept six temporaries alive only to read their shapes.
    x = RNG.standard_normal(1000)
    _, pullback = δ(rosenbrock)(x)
    owned = [c.cell_contents for c in pullback.__closure__
             if isinstance(c.cell_contents, np.ndarray) and c.cell_contents.base is None and c.cell_contents is not x]
    assert len(owned) == 2, [a.shape for a in owned]


@pytest.mark.parametrize("n", [1, 2, 3, 10])
def test_rosenbrock_gradient(n):
    x = RNG.standard_normal(n)
    check_pullback(rosenbrock, δ(rosenbrock), (x,))


def test_rosenbrock_default_and_0d_cotangents_and_repeated_pullback():
    x = RNG.standard_normal(6)
    x_before = x.copy()
    _, pullback = δ(rosenbrock)(x)
    g1 = pullback()
    g2 = pullback(np.array(1.0))
    g3 = pullback(2.5)
    np.testing.assert_allclose(g1, g2)
    np.testing.assert_allclose(g3, 2.5 * g1)
    assert np.array_equal(pullback(), g1)  # in-place work never touched what a second call reads
    assert np.array_equal(x, x_before)


def test_rosenbrock_on_rows():
    def rows(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    check_pullback(rows, δ(rows), (RNG.standard_normal((5, 3)),))


def test_large_rosenbrock_matches_the_hand_written_gradient():
    # Large enough for the in-place paths (scale_owned, NumPy's own temporary elision).
    x = RNG.standard_normal(50_000)
    _, pullback = δ(rosenbrock)(x)
    a = x[:-1]
    d = x[1:] - a * a
    want = np.zeros_like(x)
    want[1:] = 200 * d
    want[:-1] -= 400 * d * a + 2 * (1 - a)
    np.testing.assert_allclose(pullback(), want, rtol=1e-12, atol=1e-9)


def test_float32_stays_float32():
    x = RNG.standard_normal(20_000).astype(np.float32)
    _, pullback = δ(rosenbrock)(x)
    assert pullback().dtype == np.float32


# ---- the scalar cotangent of a full sum --------------------------------------------------------------------

def scaled_sum(x):
    return np.sum(2.0 * x)


def sum_of_tanh(x):
    return np.sum(np.tanh(x) * 3.0 - x)


def product_of_sums(x, y):
    return np.sum(x * 2.0) * np.sum(y)


def sum_through_matmul(a, x):
    return np.sum(a @ (x * 2.0))


def sum_of_slice(x):
    return np.sum(x[1:3] * 2.0)


def sum_of_fancy_index(x):
    return np.sum(x[[0, 0, 2]] * 2.0)


def sum_of_columns_then_all(x):
    return np.sum(np.sum(x * 3.0, axis=1))


def slices_of_slices(x):
    y = x[1:]
    return np.sum(y[1:] * y[:-1] + x[:-2] * 2.0)


def slice_read_twice(x):
    a = x[1:]
    return np.sum(a * a * x[:-1]) + np.sum(a)


@pytest.mark.parametrize("fn, args", [
    (scaled_sum, (RNG.standard_normal(4),)),
    (scaled_sum, (RNG.standard_normal((1,)),)),
    (scaled_sum, (RNG.standard_normal((3, 1)),)),
    (scaled_sum, (np.array(1.5),)),
    (sum_of_tanh, (RNG.standard_normal((2, 3)),)),
    (product_of_sums, (RNG.standard_normal(3), RNG.standard_normal((2, 2)))),
    (sum_through_matmul, (RNG.standard_normal((2, 3)), RNG.standard_normal(3))),
    (sum_of_slice, (RNG.standard_normal(5),)),
    (sum_of_fancy_index, (RNG.standard_normal(4),)),
    (sum_of_columns_then_all, (RNG.standard_normal((3, 4)),)),
    (slices_of_slices, (RNG.standard_normal(6),)),
    (slices_of_slices, (RNG.standard_normal((6, 2)),)),
    (slice_read_twice, (RNG.standard_normal(5),)),
], ids=lambda v: getattr(v, "__name__", None))
def test_scalar_cotangent_cases(fn, args):
    check_pullback(fn, δ(fn), args)


def test_scalar_cotangent_makes_no_array_of_ones():
    text = pullback_text(δ(sum_of_tanh))
    assert "expand_reduced" not in text
    # At the end a scalar cotangent for an argument becomes the array it stands for:
    assert "expand_reduced" in pullback_text(δ(scaled_sum))


# ---- broadcasting: shapes that differ keep their unbroadcast --------------------------------------------------

def broadcast_product(x, y):
    return np.sum(x * y)


def broadcast_sum(x, y):
    return np.sum(x + y)


def broadcast_chain(x, y):
    z = x - y
    return np.sum(z * z * 0.5 + np.exp(-z))


def sliced_rows_times_column(x, w):
    return np.sum((x[1:] - x[:-1]) * w)


@pytest.mark.parametrize("fn, args", [
    (broadcast_product, (RNG.standard_normal((3, 1)), RNG.standard_normal((1, 4)))),
    (broadcast_product, (RNG.standard_normal(4), RNG.standard_normal((3, 4)))),
    (broadcast_sum, (RNG.standard_normal((3, 4)), RNG.standard_normal(4))),
    (broadcast_sum, (RNG.standard_normal((3, 4)), RNG.standard_normal((3, 1)))),
    (broadcast_chain, (RNG.standard_normal((2, 3)), RNG.standard_normal(3))),
    (sliced_rows_times_column, (RNG.standard_normal((4, 3)), RNG.standard_normal((3, 1)))),
], ids=lambda v: getattr(v, "__name__", None))
def test_broadcasting_gradients(fn, args):
    check_pullback(fn, δ(fn), args)


def test_unbroadcast_kept_where_shapes_may_differ():
    assert "unbroadcast" in pullback_text(δ(broadcast_sum))
    assert "unbroadcast" in pullback_text(δ(sliced_rows_times_column))


# ---- fusion keeps the user's own names ---------------------------------------------------------------------

def named_steps(x):
    y = x * 2.0
    z = np.sin(y)
    return np.sum(z * z)


def test_user_variables_are_not_fused_away():
    text = source(δ(named_steps))
    assert "y = x * 2.0" in text and "z = xp.sin(y)" in text
    check_pullback(named_steps, δ(named_steps), (RNG.standard_normal(5),))


def test_control_flow_keeps_working():
    def branchy(x, flag):
        y = x * 3.0
        if flag:
            y = y * y
        return np.sum(y[1:] - y[:-1])

    x = RNG.standard_normal(5)
    from autodiffsource import grad
    for flag in (True, False):
        g = grad(branchy, argnums=0)(x, flag)
        eps = 1e-6
        numeric = np.array([(branchy(x + eps * e, flag) - branchy(x - eps * e, flag)) / (2 * eps) for e in np.eye(5)])
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-7)


# ---- runtime.scale_owned ----------------------------------------------------------------------------------

def test_scale_owned_works_in_place_on_large_float_arrays():
    a = RNG.standard_normal(20_000)
    f = RNG.standard_normal(20_000)
    want = a * -2 * f
    got = runtime.scale_owned(a, -2, f)
    assert got is a
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("a, f", [
    (np.ones(20_000, dtype=np.float32), np.full(20_000, 1 / 3)),   # float64 factor: the result is float64
    (np.ones(20_000), RNG.standard_normal((2, 20_000))),           # the factor broadcasts a to a new shape
    (np.ones(10), np.full(10, 3.0)),                                # small: a new array is cheaper
    (np.ones(20_000, dtype=np.float32), np.float64(1 / 3)),         # a NumPy float64 scalar promotes
])
def test_scale_owned_falls_back_exactly_as_written(a, f):
    want = a * 2.0 * f
    got = runtime.scale_owned(a.copy(), 2.0, f)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_scale_owned_on_numbers_and_other_libraries():
    assert runtime.scale_owned(3.0, -2, 0.5) == -3.0
    torch = pytest.importorskip("torch")
    t = torch.ones(10_000, dtype=torch.float64)
    got = runtime.scale_owned(t, 2.0, torch.full((10_000,), 3.0, dtype=torch.float64))
    assert bool((got == 6.0).all())


# ---- runtime.zeros_with: the first write of a cotangent read through subscripts ---------------------------

def test_rosenbrock_first_contribution_is_written_not_added():
    text = pullback_text(δ(rosenbrock))
    assert "zeros_with(x, slice(None, -1, None), d_t11 * -2, _t8)" in text
    assert "zeros_like" not in text


def _zeros_then_add(like, index, a, b=1):
    return runtime.index_add(runtime.zeros_like(like), index, a * b)


_WRITTEN_INTO_A_BLOCK = [
    (np.empty(20_000), slice(None, -1), -2.0, RNG.standard_normal(19_999)),         # W1's first write
    (np.empty(20_000), slice(1, None), RNG.standard_normal(19_999), 1),             # no factor
    (np.empty(20_000), slice(300, -300), RNG.standard_normal(19_400), 0.5),
    (np.empty((10_000, 3)), slice(2, 9_000), RNG.standard_normal(3), RNG.standard_normal((8_998, 1))),  # broadcast
    (np.empty(20_000, dtype=np.float32), slice(5, None), np.float32(3),
     RNG.standard_normal(19_995).astype(np.float32)),
    (np.empty((200, 300)), (slice(None), slice(1, None)), RNG.standard_normal((200, 299)), -1.0),  # u[:, 1:]
    (np.empty((200, 300)), (slice(2, -3), slice(None, -1)), 0.5, RNG.standard_normal((195, 299))),
    (np.empty((40, 30, 20)), (slice(1, None), slice(None), slice(3, 17)), RNG.standard_normal(14), 2.0),
]
# These fall back to zeros and an add: a float64 product into float32, a stepped slice, an integer array,
# a basic index that is not a slice, an empty block, small arrays (zeros, then one write or add), an empty slice.
_ZEROED_AND_ADDED = [
    (np.empty(10, dtype=np.float32), slice(1, None), 3.0, RNG.standard_normal(9)),
    (np.empty((5, 4)), slice(1, 3), RNG.standard_normal(4), RNG.standard_normal((2, 1))),
    (np.empty(20_000, dtype=np.float32), slice(5, None), 3.0, RNG.standard_normal(19_995)),
    (np.empty(20_000), slice(0, None, 2), 2.0, RNG.standard_normal(10_000)),
    (np.arange(20_000), slice(1, None), 2.0, RNG.standard_normal(19_999)),
    (np.empty((20_000, 2)), (slice(None), 0), 2.0, RNG.standard_normal(20_000)),
    (np.empty((200, 300)), (slice(None), slice(5, 2)), 2.0, np.empty((200, 0))),
    (np.empty(10), slice(1, None), 2.0, RNG.standard_normal(9)),
    (np.empty(20_000), slice(5, 5), 2.0, np.empty(0)),
]


@pytest.mark.parametrize("fast, like, index, a, b", [(True,) + c for c in _WRITTEN_INTO_A_BLOCK]
                         + [(False,) + c for c in _ZEROED_AND_ADDED])
def test_zeros_with_equals_zeros_then_index_add(fast, like, index, a, b, monkeypatch):
    want = _zeros_then_add(like, index, a, b)
    if fast:  # the block path must not end in index_add
        monkeypatch.setattr(indexing, "index_add", None)
    got = runtime.zeros_with(like, index, a, b)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_zeros_with_never_writes_into_its_arguments():
    like, a = RNG.standard_normal(20_000), RNG.standard_normal(19_999)
    like_before, a_before = like.copy(), a.copy()
    runtime.zeros_with(like, slice(1, None), a, 3.0)
    np.testing.assert_array_equal(like, like_before)
    np.testing.assert_array_equal(a, a_before)


def test_zeros_with_on_other_libraries_and_lists():
    torch = pytest.importorskip("torch")
    like = torch.zeros(10_000, dtype=torch.float64)
    got = runtime.zeros_with(like, slice(1, None), 2.0, torch.ones(9_999, dtype=torch.float64))
    assert isinstance(got, torch.Tensor) and float(got[0]) == 0.0 and bool((got[1:] == 2.0).all())
    assert runtime.zeros_with([1.0, 2.0, 3.0], 1, 2.0, 4.0) == [0.0, 8.0, 0.0]


# ---- other array libraries -------------------------------------------------------------------------------

# array-api-strict refuses NumPy's own functions (np.sum on a strict array): only the functions written
# without them run there; the backend tests cover array_namespace spellings.
@pytest.mark.parametrize("library, fn", [(lib, fn) for lib in ("torch", "jax") for fn in
                                         (rosenbrock, scaled_sum, sum_of_tanh, sum_of_slice)]
                         + [("array_api_strict", scaled_sum), ("array_api_strict", sum_of_tanh)])
def test_other_libraries_match_numpy(library, fn):
    x = RNG.standard_normal(20_000 if fn is rosenbrock else 6)
    _, numpy_pullback = δ(fn)(x)
    want = numpy_pullback()
    if library == "torch":
        torch = pytest.importorskip("torch")
        value, pullback = δ(fn)(torch.asarray(x))
        got = pullback().numpy()
    elif library == "jax":
        jnp = pytest.importorskip("jax.numpy")
        import jax
        if not jax.config.jax_enable_x64:
            pytest.skip("needs JAX_ENABLE_X64=1 for a float64 comparison")
        value, pullback = δ(fn)(jnp.asarray(x))
        got = np.asarray(pullback())
    else:
        xp = pytest.importorskip("array_api_strict")
        value, pullback = δ(fn)(xp.asarray(x))
        got = np.asarray(pullback())
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ---- a literal divided by an array ------------------------------------------------------------------------

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_sum(x):
    return np.sum(sigmoid(x) * x)


def scaled_reciprocal(x):
    return np.sum(-2.5 / (x * x + 1.0))


def reciprocal_broadcast(x, y):
    return np.sum(3.0 / (x + y))


def test_reciprocal_pullback_reads_the_result_only():
    text = pullback_text(δ(sigmoid))
    assert "_t3" not in text  # 1 + exp(-x) is not kept for the pullback
    assert "-" not in text.split("seed_cotangent")[1]  # -(-dz ...) folded away


@pytest.mark.parametrize("fn, args", [
    (sigmoid_sum, (RNG.standard_normal(7),)),
    (scaled_reciprocal, (RNG.standard_normal((2, 3)),)),
    (reciprocal_broadcast, (RNG.uniform(1, 2, (3, 1)), RNG.uniform(1, 2, 4))),
], ids=lambda v: getattr(v, "__name__", None))
def test_reciprocal_gradients(fn, args):
    check_pullback(fn, δ(fn), args)


def test_reciprocal_of_zero_and_infinity_match_the_division_rule():
    # -dz * z / y and -dz * z * z / c agree at y = +-0 (z = +-inf) and for huge y (z = 0).
    def recip(x):
        return np.sum(1.0 / x)

    with np.errstate(divide="ignore", invalid="ignore"):
        _, pullback = δ(recip)(np.array([0.0, -0.0, 1e300, 2.0]))
        got = pullback()
    assert got[0] == -np.inf and got[1] == -np.inf and got[2] == 0.0 and got[3] == -0.25


# ---- layers: products kept as shapes, cotangents scaled in place ------------------------------------------

def layer(W, b, X):
    h = sigmoid(W @ X + b)
    return np.sum((X[:1] - h) ** 2)


def test_product_read_for_its_shape_is_not_kept():
    W, b, X = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 1)), RNG.standard_normal((4, 5))
    text = source(δ(layer))
    assert "saved_shape(_t1)" in text and "unbroadcast_to(" in text
    _, pullback = δ(layer)(W, b, X)
    kept = [c.cell_contents for c in pullback.__closure__ if isinstance(c.cell_contents, np.ndarray)]
    assert not any(a.shape == (3, 5) and a.base is None and np.allclose(a, W @ X) for a in kept)
    check_pullback(layer, δ(layer), (W, b, X))


def test_large_layer_in_place_matches_a_directional_difference():
    # 100 x 120 hidden arrays: above scale_owned's threshold, so the in-place path runs.
    W, b, X = RNG.standard_normal((100, 30)) / 5, RNG.standard_normal((100, 1)), RNG.standard_normal((30, 120))
    _, pullback = δ(layer)(W, b, X)
    partials = pullback()
    directions = [RNG.standard_normal(a.shape) for a in (W, b, X)]
    eps = 1e-6
    plus = layer(*(a + eps * u for a, u in zip((W, b, X), directions)))
    minus = layer(*(a - eps * u for a, u in zip((W, b, X), directions)))
    want = (plus - minus) / (2 * eps)
    got = sum(np.sum(p * u) for p, u in zip(partials, directions))
    assert abs(got - want) <= 1e-6 * max(1.0, abs(want))
    again = pullback()  # nothing the pullback reads was changed by the in-place work
    for p, q in zip(partials, again):
        np.testing.assert_array_equal(p, q)


def test_a_lower_rank_cotangent_broadcasts_to_its_input():
    # finalize and unbroadcast_to raised IndexError for a 0-d partial of an input with a length-1 axis.
    np.testing.assert_array_equal(runtime.finalize(np.array(2.0), np.zeros((3, 1))), np.full((3, 1), 2.0))
    assert runtime.unbroadcast_to(np.array(2.0), (3, 1)).shape == ()
    np.testing.assert_array_equal(runtime.finalize(np.ones(4), np.zeros((2, 1, 4))), np.ones((2, 1, 4)))


@pytest.mark.parametrize("before, after", [("g += -h", "g -= h"), ("g[1:] += -(a * b)", "g[1:] -= a * b"),
                                           ("g += -h * 2", "g += h * -2"), ("g -= -h", "g -= -h")])
def test_a_negated_accumulation_is_a_subtraction(before, after):
    """tidy's folding: `g += -h` adds exactly what `g -= h` subtracts, without the pass that negates h."""
    import ast

    from autodiffsource.transform import tidy

    assert ast.unparse(tidy._Fold().visit(ast.parse(before).body[0])) == after
    g, h = np.array([1.0, 2.5]), np.array([0.1, -3.0])
    want = g.copy()
    want += -h
    got = g.copy()
    got -= h
    np.testing.assert_array_equal(got, want)
