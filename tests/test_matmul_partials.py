"""The partials of ``x @ y`` and of slice writes, on every array library, against finite differences.

``runtime.matmul_left_partial``/``matmul_right_partial`` take a NumPy fast path for matrices and vectors
and, on other libraries, one ``tensordot`` for 2-D ``x`` (no transposed copy under ``jax.jit``);
``runtime.index_add`` on JAX pads a slice's cotangent instead of scattering it. Each shape pairing
(1-D, 2-D, batched) is checked against central finite differences in float64 (tests/finite_differences.py),
and float32 inputs must give float32 partials.
"""

from __future__ import annotations

import numpy as np
import pytest

from autodiffsource import runtime
from backend_cases import cpu_libraries
from finite_differences import assert_close, numeric_partial

LIBRARIES = {lib.name: lib for lib in cpu_libraries()}

SHAPES = [
    ((3,), (3,)),            # vector @ vector -> scalar
    ((4, 3), (3,)),          # matrix @ vector (W2's one vector, W4)
    ((3,), (3, 5)),          # vector @ matrix
    ((4, 3), (3, 5)),        # matrix @ matrix (W2's batch)
    ((2, 4, 3), (3, 5)),     # a batch of matrices @ one matrix: y's partial sums over the batch
    ((4, 3), (2, 3, 5)),     # one matrix @ a batch: x's partial sums over the batch
    ((2, 4, 3), (3,)),       # a batch @ a vector
    ((3,), (2, 3, 5)),       # a vector @ a batch
    ((2, 1, 4, 3), (3, 3, 2)),  # broadcast batch dimensions on both sides
]


def _pullback_pairing(x, y, dz, which):
    """The partial the runtime helper gives for ``x @ y`` at cotangent ``dz`` (``which`` = 0 or 1)."""
    helper = runtime.matmul_left_partial if which == 0 else runtime.matmul_right_partial
    return helper(dz, x, y)


@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: f"{s[0]}@{s[1]}")
@pytest.mark.parametrize("which", (0, 1), ids=("left", "right"))
@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_matmul_partials_match_finite_differences(library, which, shapes):
    lib = LIBRARIES[library]
    rng = np.random.default_rng(7)
    x, y = (rng.standard_normal(s) for s in shapes)
    dz = np.asarray(rng.uniform(0.5, 1.5, np.shape(x @ y)))
    expected = numeric_partial(lambda a, b: a @ b, [x, y], which, [dz])
    got = _pullback_pairing(lib.convert(x, "float64"), lib.convert(y, "float64"), lib.convert(dz, "float64"), which)
    assert isinstance(got, lib.array_type()), type(got)
    assert_close(lib.to_numpy(got), expected, what=f"{library} {['left', 'right'][which]} partial")


@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: f"{s[0]}@{s[1]}")
@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_matmul_partials_keep_float32(library, shapes):
    lib = LIBRARIES[library]
    rng = np.random.default_rng(8)
    x, y = (rng.standard_normal(s) for s in shapes)
    dz = np.asarray(rng.uniform(0.5, 1.5, np.shape(x @ y)))
    args = [lib.convert(a, "float32") for a in (dz, x, y)]
    for which, helper in enumerate((runtime.matmul_left_partial, runtime.matmul_right_partial)):
        got = helper(*args)
        assert lib.dtype_name(got).endswith("float32"), (library, which, lib.dtype_name(got))
        expected = numeric_partial(lambda a, b: a @ b, [x, y], which, [dz])
        assert_close(lib.to_numpy(got), expected, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("kind", (float, np.float64, np.asarray, np.float32), ids=("python-float", "numpy-scalar",
                                                                                 "0d-array", "float32-scalar"))
def test_dot_product_partials_take_a_number_cotangent(kind):
    # x @ y of two NumPy vectors: the cotangent of the product is 0-d, often a Python float (a seed) or a
    # NumPy scalar, for which the helpers take the NumPy path too (B2's ridge: r @ r, (lam * w) @ w).
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal(6), rng.standard_normal(6)
    dz = kind(1.5)
    for which, helper in enumerate((runtime.matmul_left_partial, runtime.matmul_right_partial)):
        got = helper(dz, x, y)
        expected = numeric_partial(lambda a, b: a @ b, [x, y], which, [np.asarray(1.5)])
        assert type(got) is np.ndarray and got.shape == (6,), (type(got), np.shape(got))
        assert got.dtype == np.result_type(dz, x)  # NEP 50: a Python float keeps the array's dtype
        assert_close(got, expected, what=f"{['left', 'right'][which]} partial, {kind.__name__} cotangent")


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def autoencoder(W1, W2, b1, data):
    # W2's shape in small: matrix @ vector or matrix, a bias, sigmoid layers, a squared error.
    hidden = _sigmoid(W1 @ data + b1)
    out = _sigmoid(W2 @ hidden)
    return np.sum((data - out) ** 2)


@pytest.mark.parametrize("batch", (0, 3), ids=("vector", "batch"))
def test_float32_autoencoder_keeps_float32_and_matches_finite_differences(batch):
    import autodiffsource as ad

    rng = np.random.default_rng(3)
    cols = (batch,) if batch else ()
    bias = (1,) if batch else ()
    args64 = [rng.standard_normal((4, 6)) * 0.5, rng.standard_normal((6, 4)) * 0.5,
              rng.standard_normal((4,) + bias), rng.uniform(0, 1, (6,) + cols)]
    args32 = [a.astype(np.float32) for a in args64]
    value, partials = ad.value_and_grad(autoencoder, argnums=(0, 1, 2))(*args32)
    assert np.asarray(value).dtype == np.float32
    for i, p in enumerate(partials):
        assert p.dtype == np.float32 and p.shape == args32[i].shape, (i, p.dtype, p.shape)
        expected = numeric_partial(autoencoder, args64, i, [1.0])
        assert_close(p, expected, rtol=2e-4, atol=2e-5, what=f"partial {i}")


# ---- slice writes on JAX: a padded cotangent instead of a scatter ----------------------------------------

jax_only = pytest.mark.skipif("jax" not in LIBRARIES, reason="jax is not installed")

INDICES = [
    (slice(1, None),), (slice(None, -1),), slice(2, 5), (slice(1, 3), slice(None, -2)), (Ellipsis, slice(1, None)),
    (slice(None, None, 2),),  # a step: not padded, scattered (.at[].add)
    (1, slice(1, 4)),         # an integer: scattered
]


@jax_only
@pytest.mark.parametrize("index", INDICES, ids=repr)
@pytest.mark.parametrize("scalar", (False, True), ids=("array", "scalar"))
def test_jax_index_add_matches_numpy(index, scalar):
    import jax.numpy as jnp

    rng = np.random.default_rng(5)
    shape = (6,) if not (type(index) is tuple and len(index) == 2) else (5, 6)
    base = rng.standard_normal(shape)
    g = 1.5 if scalar else rng.standard_normal(np.shape(base[index]))
    expected = runtime.index_add(base.copy(), index, g)
    got = runtime.index_add(jnp.asarray(base), index, g if scalar else jnp.asarray(g))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-15, atol=0)


@jax_only
def test_jax_index_add_keeps_the_buffer_dtype():
    import jax.numpy as jnp

    buffer = jnp.zeros(5, dtype=jnp.float32)
    got = runtime.index_add(buffer, slice(1, None), jnp.ones(4, dtype=jnp.float64))
    assert got.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(got), [0, 1, 1, 1, 1])


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


@jax_only
def test_slices_under_jax_jit_pad_instead_of_scatter_and_match_finite_differences():
    import jax
    import jax.numpy as jnp

    import autodiffsource as ad

    x = np.random.default_rng(2).uniform(-1.5, 1.5, 9)
    value_and_grad = ad.value_and_grad(rosenbrock)
    jaxpr = str(jax.make_jaxpr(value_and_grad)(jnp.asarray(x)))
    assert "scatter" not in jaxpr and "pad" in jaxpr, jaxpr
    _, g = jax.jit(value_and_grad)(jnp.asarray(x))
    assert_close(np.asarray(g), numeric_partial(rosenbrock, [x], 0, [1.0]))


@jax_only
def test_matmul_partials_under_jax_jit_transpose_nothing():
    import jax
    import jax.numpy as jnp

    import autodiffsource as ad

    rng = np.random.default_rng(4)
    args = [rng.standard_normal((4, 6)) * 0.5, rng.standard_normal((6, 4)) * 0.5, rng.standard_normal(4),
            rng.uniform(0, 1, 6)]
    value_and_grad = ad.value_and_grad(autoencoder, argnums=(0, 1, 2))
    jaxpr = str(jax.make_jaxpr(value_and_grad)(*map(jnp.asarray, args)))
    assert "transpose" not in jaxpr, jaxpr
    _, partials = jax.jit(value_and_grad)(*map(jnp.asarray, args))
    for i, p in enumerate(partials):
        assert_close(np.asarray(p), numeric_partial(autoencoder, args, i, [1.0]), what=f"partial {i}")


def _slice_write_order(text: str) -> list[str]:
    """The indices of ``dx``'s slice writes in the pullback, in order (``L``: ``x[:-1]``, ``R``: ``x[1:]``)."""
    order = []
    for line in (line.strip() for line in text.splitlines()):
        if line.startswith("dx = ") and "slice(" in line:  # index_add, zeros_with
            order.append("L" if "slice(None, -1, None)" in line else "R")
        elif line.startswith("dx[") and "+=" in line:  # NumPy code: the write itself
            order.append("L" if line.startswith("dx[:-1]") else "R")
    return order


@jax_only
def test_a_delta_function_first_called_with_jax_arrays_adds_one_regions_slice_terms_together():
    # XLA sums the padded slice terms of dx in one fused loop, in the order the pullback adds them; two
    # pads of x[:-1]'s region merge only when added together (JAX's own order): the variant @δ's stub
    # compiles for JAX arrays groups them. NumPy's keeps its order, where the last term scales d_t4 in
    # place after dx[1:] has read it.
    import jax
    import jax.numpy as jnp

    import autodiffsource as ad

    x = np.random.default_rng(3).uniform(-1.5, 1.5, 9)
    for_jax = ad.transform(rosenbrock, (True,), defer_numbers=True, first_arguments="other arrays")
    assert _slice_write_order(for_jax.__source__) == ["L", "L", "R"]
    for_numpy = ad.transform(rosenbrock, (True,), defer_numbers=True, first_arguments="same shapes")
    assert _slice_write_order(for_numpy.__source__) == ["L", "R", "L"]
    assert "scale_owned(d_t4, -2, _t2)" in ad.transform(rosenbrock, (True,)).__source__

    namespace = {"δ": ad.δ, "rosenbrock": rosenbrock, "__name__": "scatter_order"}
    exec("δ(rosenbrock)", namespace)

    def value_and_gradient(a):
        value, pullback = namespace["δrosenbrock"](a)
        return value, pullback()

    value, g = jax.jit(value_and_gradient)(jnp.asarray(x))  # the stub's first call: jit's tracers
    assert _slice_write_order(namespace["δrosenbrock"].__source__) == ["L", "L", "R"]
    assert_close(np.asarray(g), numeric_partial(rosenbrock, [x], 0, [1.0]))
    _, expected = jax.value_and_grad(lambda a: jnp.sum(100 * (a[1:] - a[:-1] ** 2) ** 2 + (1 - a[:-1]) ** 2))(
        jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(g), np.asarray(expected), rtol=1e-13)


def three_slices(x):
    return np.sum(x[2:] * x[:-2] + np.sin(x[1:-1]) * x[:-2] + (x[2:] - x[1:-1] ** 2) ** 2)


def strided(x, y):
    return np.sum(x[::2] * y[1:5] ** 2) + np.sum((x[1:] - y[:-1]) ** 2 * x[:-1])


@pytest.mark.parametrize("primal,shapes", [(rosenbrock, [(9,)]), (three_slices, [(8,)]), (strided, [(7,), (7,)])],
                         ids=("rosenbrock", "three_slices", "strided"))
def test_slice_writes_grouped_by_region_give_the_same_gradient(primal, shapes):
    # The variant for other libraries' arrays runs on NumPy arrays too (where it is handed them): its
    # grouped slice writes against central differences, and against the variant with NumPy's order.
    import autodiffsource as ad

    rng = np.random.default_rng(4)
    args = [rng.uniform(-1.2, 1.2, s) for s in shapes]
    mask = (True,) * len(args)
    grouped = ad.transform(primal, mask, defer_numbers=True, first_arguments="other arrays")
    plain = ad.transform(primal, mask)
    got, expected = grouped(*args)[1](), plain(*args)[1]()
    got, expected = (got,) if len(args) == 1 else got, (expected,) if len(args) == 1 else expected
    for i, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-13)
        assert_close(g, numeric_partial(primal, args, i, [1.0]))
