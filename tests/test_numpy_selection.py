"""``np.compress`` and ``np.extract`` inside δ functions: the condition is a constant (a mask, a list of bools,
a comparison of differentiated values), the array is differentiated.

Checked: NumPy's values; partials equal to central finite differences in float64 (tests/finite_differences.py):
the cotangent goes back to the places the condition selects, 0 elsewhere, along an axis, on the flattened array
(``axis=None``, ``extract``) and for a condition shorter than the axis (NumPy reads only its length); jvp agrees;
Dask arrays get Dask partials; a differentiated value as the condition is refused by name with the user's line.
"""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest

import autodiffsource as ad
from autodiffsource import UnsupportedSyntaxError
from finite_differences import numeric_partial

MASK = np.array([True, False, True, True, False, False])
WEIGHTS = np.cos(np.arange(12.0)) + 1.5


def along_rows(x):
    return np.sum(np.compress([True, False, True], x, axis=0) ** 2 * WEIGHTS[:4])


def shorter_condition(x):
    return np.sum(np.compress([False, True], x, axis=1) * WEIGHTS[:3, None])


def flattened(x):
    return np.sum(np.compress(MASK, x) ** 3)


def by_comparison(x):
    return np.sum(np.sin(np.compress(x[:, 0] > 0.0, x, axis=0)))


def extracted(x):
    return np.sum(np.extract(x > 0.1, x) ** 2) + np.sum(np.extract(MASK.reshape(2, 3), x[:2, :3]) * WEIGHTS[:3])


@pytest.mark.parametrize("fn", [along_rows, shorter_condition, flattened, by_comparison, extracted],
                         ids=lambda f: f.__name__)
def test_values_and_partials(fn):
    x = np.random.default_rng(12).uniform(-2.0, 2.0, (3, 4))
    value, g = ad.value_and_grad(fn)(x)
    assert value == pytest.approx(fn(x), rel=1e-12)
    np.testing.assert_allclose(g, numeric_partial(fn, [x], 0, [1.0]), rtol=1e-6, atol=1e-8)
    t = np.sin(np.arange(12.0)).reshape(3, 4)
    assert ad.jvp(fn, (x,), (t,))[1] == pytest.approx(np.sum(g * t), rel=1e-9)


def for_dask(x):
    return np.sum(np.extract(x > 0.1, x) ** 2) + np.sum(np.compress([True, False, True], x, axis=0) ** 3)


@pytest.mark.skipif(importlib.util.find_spec("dask") is None, reason="Dask is not installed")
def test_dask_arrays_get_dask_partials():
    import dask.array as da

    x = np.random.default_rng(13).uniform(-2.0, 2.0, (3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # (Dask's fallback to NumPy where it lacks a function)
        g = ad.grad(for_dask)(da.from_array(x, chunks=2))
    assert isinstance(g, da.Array)
    np.testing.assert_allclose(np.asarray(g), numeric_partial(for_dask, [x], 0, [1.0]), rtol=1e-6, atol=1e-8)


def differentiated_condition(x, c):
    return np.sum(np.compress(c, x))


def test_a_differentiated_condition_is_refused():
    with pytest.raises(UnsupportedSyntaxError, match=r"a differentiated value as `condition` of `compress`") as info:
        ad.grad(differentiated_condition, argnums=(0, 1))(np.ones(3), np.array([1.0, 0.0, 1.0]))
    assert "test_numpy_selection.py" in str(info.value)
