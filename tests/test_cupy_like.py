"""CuPy's refusals without a GPU: the partials of NumPy-spelled code on tests/cupy_like.py's stand-in.

CuPy's arrays take NumPy's functions (``np.trace(x)`` runs CuPy's trace) but refuse NumPy's own arrays
beside them and refuse to become one. A partial that builds ``np.eye(n)``, or turns the seed 1.0 into a 0-d
NumPy array, passes on NumPy, Dask and torch and fails on the GPU. The stand-in refuses the same things, so
these tests catch such a leak in CI; scripts/gpu_check.py and scripts/backend_sweep.py run the real CuPy
where a GPU is. The reference is NumPy's partials, themselves checked against finite differences in
tests/rules and tests/test_backends.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import autodiffsource as ad
import cupy_like
from autodiffsource.runtime import copy_value, where_tie_split
from backend_cases import CASES, check_against_numpy, cupy_like_library

sys.path.insert(0, str(Path(__file__).parent / "rules"))

from rule_specs import CASES as RULE_CASES  # noqa: E402
from rule_sweep import sweep  # noqa: E402

LIBRARY = cupy_like_library()

# The stand-in has no special-function library (CuPy's is cupyx.scipy.special, which the GPU run checks):
# SciPy's array-API mode cannot compute on it, so the cases whose value or partial needs one are left out.
_NEEDS_SPECIAL_FUNCTIONS = ("special.", "np.i0(")


def test_the_stand_in_refuses_what_cupy_refuses():
    x = cupy_like.asarray([1.0, 2.0])
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(x)
    with pytest.raises(TypeError, match="Unsupported type"):
        x * np.ones(2)
    with pytest.raises(TypeError, match="Unsupported type"):
        x * np.asarray(2.0)  # a 0-d NumPy array too
    with pytest.raises(TypeError, match="Unsupported type"):
        np.trace(np.eye(2) + x[:, None])
    # What CuPy accepts: NumPy scalars, Python numbers, NumPy index arrays, xp.asarray of NumPy's.
    assert isinstance(x * np.float64(2.0) + 1.0, cupy_like.CuPyLikeArray)
    assert np.take(x, np.array([1, 0])).get().tolist() == [2.0, 1.0]
    assert isinstance(x.__array_namespace__().asarray(np.ones(2)), cupy_like.CuPyLikeArray)
    # Its functions give arrays, never NumPy scalars, as CuPy's reductions do.
    assert isinstance(np.sum(x), cupy_like.CuPyLikeArray)


def test_every_rule_case_keeps_the_stand_ins_arrays():
    cases = [c for c in RULE_CASES if not any(marker in c.body for marker in _NEEDS_SPECIAL_FUNCTIONS)]
    result = sweep([LIBRARY], cases)
    failures = result.failures[LIBRARY.name]
    assert not failures, f"{len(failures)} rule cases failed on {LIBRARY.name}:\n" + "\n".join(failures)
    # (not vacuous: most cases run; the rest are functions NumPy's own code cannot run on such arrays either)
    assert result.ok[LIBRARY.name] > 900, result.ok


@pytest.mark.parametrize("case", [c for c in CASES if c.name != "special_functions"], ids=lambda c: c.name)
def test_backend_cases_match_numpy(case):
    check_against_numpy(LIBRARY, case)


# ---- regressions found by the program fuzzer on CuPy (scripts/gpu_survey.py) -----------------------

def carry_a_numpy_scalar_through_a_loop(x0, x1):
    x0 = x0 / (2.0 + np.cos(x0))  # a NumPy scalar, copied onto the loop's tape at the first step
    v = np.zeros_like(x1)
    v[::2] = 1.0 / (1.5 + np.cos(x0))  # (the write makes the tape keep copies)
    for row in v:
        x0 = np.arctan2(x0, 2.0 + row * row)
    return np.sum(x0 * x0)


def take_the_minimum_of_numpy_scalars(x0, x1):
    for _ in range(2):
        x0 = np.minimum(x0, x0)
    v = x1.copy()
    v[-1] *= np.sqrt(x0 * x0 + 0.25)
    return np.sum(v)


def take_the_minimum_of_an_array_and_a_numpy_scalar(x0, x1):
    t0 = np.maximum(x0, x0)  # a NumPy scalar: the tie split compares it with the array (found on the stand-in)
    return np.sum(np.tanh(np.fmin(x1, t0)))


REGRESSIONS = [carry_a_numpy_scalar_through_a_loop, take_the_minimum_of_numpy_scalars,
               take_the_minimum_of_an_array_and_a_numpy_scalar]


@pytest.mark.parametrize("fn", REGRESSIONS)
def test_numpy_scalars_beside_cupy_arrays_in_the_pullback(fn):
    # A Python float argument becomes a NumPy scalar (np.cos of it); the pullback meets the CuPy cotangent
    # with it. A 0-d NumPy array made of it (the tape's copy, the tie split) is refused there.
    x0, x1 = 0.41, np.array([[-0.69, 0.3], [-1.37, 0.8]])
    want = ad.grad(fn, argnums=(0, 1))(x0, x1)
    got = ad.grad(fn, argnums=(0, 1))(x0, cupy_like.asarray(x1))
    assert isinstance(got[1], cupy_like.CuPyLikeArray)
    np.testing.assert_allclose(float(got[0]), want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1].get(), want[1], rtol=1e-12)


def test_a_numpy_scalar_is_its_own_snapshot():
    value = np.float64(1.5)
    assert copy_value(value) is value  # immutable: not a 0-d array, which CuPy's arrays refuse beside theirs
    assert isinstance(where_tie_split(np.float64(1.0), np.float64(1.0)), np.floating)


def test_a_safe_division_of_a_numpy_scalar_by_a_tensor_stays_a_tensor():
    torch = pytest.importorskip("torch")
    from autodiffsource.rules.support import safe_divide

    got = safe_divide(np.float64(2.0), torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert isinstance(got, torch.Tensor) and got.tolist() == [2.0, 0.0]
