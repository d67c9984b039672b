"""NumPy 2's spellings inside δ functions: ``np.linalg.matmul``, ``outer``, ``cross``, ``diagonal``, ``trace``,
``np.matvec``, ``np.vecmat`` (NumPy 2.2 on) and ``np.cumulative_prod``.

Checked: each gives NumPy's value, and partials equal to central finite differences in float64
(tests/finite_differences.py) and to those of the older spelling it stands for: ``np.linalg.diagonal`` and
``np.linalg.trace`` work on the last two axes where ``np.diagonal`` and ``np.trace`` take the first two by default;
``matvec(A, v)`` is ``A @ v[..., None]`` and ``vecmat(v, A)`` is ``v[..., None, :] @ A``, batches broadcast.
What the array API leaves out stays refused as NumPy refuses it (``np.linalg.outer`` of 2-D inputs), and
``cumulative_prod``'s ``include_initial=`` is refused by name with the user's line. Dask arrays get Dask
partials. (torch's and JAX's arrays meet these rules' NumPy-surface partials as they meet those of
``np.diagonal``, ``np.trace``, ``np.cross`` and ``np.cumprod``: NumPy computes them, and the result is refused.)
"""

from __future__ import annotations

import importlib.util
import itertools
import linecache
import warnings

import numpy as np
import pytest

import autodiffsource as ad
from autodiffsource import UnsupportedSyntaxError
from finite_differences import numeric_partial

_COUNT = itertools.count()
RNG = np.random.default_rng(17)


def _function(body, params="x, y"):
    """``sum(w * body)`` with weights differing per output, as a function with source of its own."""
    name = f"<numpy 2 case {next(_COUNT)}>"
    text = (f"def fn({params}):\n    z = {body}\n"
            "    return np.sum(z * np.cos(np.arange(np.size(z)) + 0.5).reshape(np.shape(z)))\n")
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    namespace = {"np": np}
    exec(compile(text, name, "exec"), namespace)
    return namespace["fn"]


CASES = [  # (new spelling, the old spelling it stands for, x's shape, y's shape)
    ("np.linalg.matmul(x, y)", "np.matmul(x, y)", (2, 3, 4), (4, 2)),
    ("np.linalg.outer(x, y)", "np.outer(x, y)", (3,), (4,)),
    ("np.linalg.cross(x, y)", "np.cross(x, y)", (4, 3), (3,)),
    ("np.linalg.cross(x, y, axis=0)", "np.cross(x, y, axis=0)", (3, 2), (3, 2)),
    ("np.linalg.diagonal(x) * y", "np.diagonal(x, 0, -2, -1) * y", (2, 3, 4), (3,)),
    ("np.linalg.diagonal(x, offset=-1) * y", "np.diagonal(x, -1, -2, -1) * y", (2, 4, 3), (3,)),
    ("np.linalg.trace(x) * y", "np.trace(x, 0, -2, -1) * y", (2, 3, 4), (2,)),
    ("np.linalg.trace(x, offset=2) * y", "np.trace(x, 2, -2, -1) * y", (3, 4, 4), ()),
    ("np.cumulative_prod(x, axis=1) * y", "np.cumprod(x, axis=1) * y", (3, 4), (4,)),
    ("np.cumulative_prod(x) * y", "np.cumprod(x) * y", (5,), ()),
]
if hasattr(np, "matvec"):
    CASES += [("np.matvec(x, y)", "(x @ y[..., None])[..., 0]", (2, 3, 4), (4,)),
              ("np.matvec(x, y)", "(x @ y[..., None])[..., 0]", (3, 4), (2, 4)),
              ("np.vecmat(x, y)", "(x[..., None, :] @ y)[..., 0, :]", (3,), (2, 3, 4)),
              ("np.vecmat(x, y)", "(x[..., None, :] @ y)[..., 0, :]", (2, 3), (3, 4))]


@pytest.mark.parametrize("new, old, xs, ys", CASES, ids=[f"{c[0]}-{c[2]}-{c[3]}" for c in CASES])
def test_new_spellings_match_the_old_ones(new, old, xs, ys):
    x, y = RNG.uniform(0.5, 1.5, xs), RNG.standard_normal(ys)
    f_new, f_old = _function(new), _function(old)
    value, (gx, gy) = ad.value_and_grad(f_new, argnums=(0, 1))(x, y)
    assert value == pytest.approx(f_old(x, y), rel=1e-12)
    old_gx, old_gy = ad.grad(f_old, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, old_gx, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gy, old_gy, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gx, numeric_partial(f_new, [x, y], 0, [1.0]), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gy, numeric_partial(f_new, [x, y], 1, [1.0]), rtol=1e-6, atol=1e-8)
    tx, ty = RNG.standard_normal(xs), RNG.standard_normal(ys)
    assert ad.jvp(f_new, (x, y), (tx, ty))[1] == pytest.approx(np.sum(gx * tx) + np.sum(gy * ty), rel=1e-9)


def outer_of_matrices(x, y):
    return np.sum(np.linalg.outer(x, y))


def cumulative_prod_with_initial(x):
    return np.sum(np.cumulative_prod(x, include_initial=True))


def test_what_numpy_refuses_stays_refused():
    with pytest.raises(ValueError):  # (NumPy's own: the array API's outer takes 1-D inputs only)
        ad.grad(outer_of_matrices)(np.ones((2, 2)), np.ones(3))
    with pytest.raises(UnsupportedSyntaxError, match=r"the keyword `include_initial=` of `cumulative_prod`") as info:
        ad.grad(cumulative_prod_with_initial)(np.ones(3))
    assert "test_numpy2_spellings.py" in str(info.value)


@pytest.mark.skipif(importlib.util.find_spec("dask") is None, reason="Dask is not installed")
def test_dask_arrays_get_dask_partials():
    import dask.array as da

    f = _function("np.linalg.diagonal(x) * np.linalg.trace(x)[:, None] + np.cumulative_prod(x, axis=2)[..., 0, :]"
                  " + np.linalg.cross(x[:, 0, :], y)", "x, y")
    x, y = RNG.uniform(0.5, 1.5, (2, 3, 3)), RNG.standard_normal(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # (Dask's fallback to NumPy for the functions it lacks)
        value, (gx, gy) = ad.value_and_grad(f, argnums=(0, 1))(da.from_array(x, chunks=2), da.from_array(y))
    assert isinstance(gx, da.Array) and isinstance(gy, da.Array)
    assert float(value) == pytest.approx(f(x, y))
    np.testing.assert_allclose(np.asarray(gx), numeric_partial(f, [x, y], 0, [1.0]), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.asarray(gy), numeric_partial(f, [x, y], 1, [1.0]), rtol=1e-6, atol=1e-8)
