"""The backend suite on GPU arrays: CuPy, torch CUDA and JAX on a GPU, when a CUDA device is present.

Every test here is marked ``gpu`` and is skipped, with the reason (no CuPy, no CUDA device...), on a
machine without one. scripts/gpu_check.py runs this file on a GPU machine and prints a summary. The checks
are those of tests/test_backends.py: NumPy's partials (themselves checked against finite differences
there), in the input's own array type, dtype and device; CuPy and torch refuse implicit copies to the host,
so a silent round trip through NumPy fails here loudly.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from backend_cases import CASES, CASES_BY_NAME, check_against_numpy, gpu_libraries

GPU_LIBRARIES, MISSING = gpu_libraries()
_NO_GPU = "no CUDA array library here: " + "; ".join(MISSING)

pytestmark = pytest.mark.gpu

LIBS = GPU_LIBRARIES or [pytest.param(None, marks=pytest.mark.skip(reason=_NO_GPU), id="no-gpu")]


@pytest.mark.parametrize("lib", LIBS, ids=repr)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_gpu_partials_match_numpy_on_the_same_device(case, lib):
    check_against_numpy(lib, case)


@pytest.mark.parametrize("lib", LIBS, ids=repr)
@pytest.mark.parametrize("case_name", ["autoencoder", "embedding", "recurrent"])
def test_gpu_float32_stays_float32(case_name, lib):
    check_against_numpy(lib, CASES_BY_NAME[case_name], dtype="float32", rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("lib", [lib for lib in GPU_LIBRARIES if lib.name == "jax-gpu"]
                         or [pytest.param(None, marks=pytest.mark.skip(reason="no JAX GPU device"), id="no-jax-gpu")],
                         ids=repr)
def test_gpu_value_and_grad_under_jax_jit(lib):
    import jax

    for case in CASES:
        check_against_numpy(lib, case, transform=jax.jit)


@pytest.mark.parametrize("lib", LIBS, ids=repr)
def test_gpu_scatter_add_keeps_repeats(lib):
    from array_api_compat import array_namespace, device

    import autodiffsource as ad

    def pick(x, w):
        xp = array_namespace(x)
        rows = xp.asarray([2, 0, 2, 2], device=device(x))
        return xp.sum(x[rows] * w)

    g = ad.grad(pick)(lib.convert(np.arange(3.0), "float64"), lib.convert(np.arange(4.0) + 1.0, "float64"))
    np.testing.assert_array_equal(lib.to_numpy(g), [2.0, 0.0, 8.0])


# ---- forward mode and second order (the checks of tests/test_higher_backends.py) ------------------------------

@pytest.mark.parametrize("lib", LIBS, ids=repr)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gpu_jacobians_jvp_hvp_hessian_match_numpy_on_the_same_device(lib, dtype):
    # Basis tangents, stacked Jacobians and Hessians stay on the input's GPU, in its dtype.
    from test_higher_backends import check_library

    if dtype == "float64":
        check_library(lib)
    else:
        check_library(lib, dtype="float32", rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("lib", [lib for lib in GPU_LIBRARIES if lib.name == "jax-gpu"]
                         or [pytest.param(None, marks=pytest.mark.skip(reason="no JAX GPU device"), id="no-jax-gpu")],
                         ids=repr)
def test_gpu_jacobians_and_hessian_under_jax_jit(lib):
    import jax

    from test_higher_backends import check_library

    check_library(lib, transform=jax.jit)


# ---- random whole programs, writes into arrays and views included (tests/test_fuzz_programs.py) ------------

GPU_FUZZ_EXAMPLES = int(os.environ.get("AUTODIFFSOURCE_GPU_FUZZ_EXAMPLES", 300))


@pytest.mark.parametrize("lib", [lib for lib in GPU_LIBRARIES if lib.name != "jax-gpu"]  # (no in-place writes)
                         or [pytest.param(None, marks=pytest.mark.skip(reason=_NO_GPU), id="no-gpu")], ids=repr)
def test_gpu_random_programs_match_finite_differences(lib):
    """The program fuzzer's programs on CuPy arrays and CUDA tensors: slices, views written through, other
    names for a written array, loops and branches. Here is where CuPy's views meet ``writes_into``. Each
    program that runs on the device must give the NumPy run's value and partials matching its central
    differences, as device arrays; at least a tenth of the programs must run there (the rest call NumPy
    on the host, which both libraries refuse)."""
    from hypothesis import given, seed, settings

    import test_fuzz_programs as fuzz
    from strategies import programs

    key = f"{lib.name}: programs checked against finite differences"
    checked_before = fuzz.STATS[key]

    @seed(20261130)
    @settings(fuzz.FUZZ_SETTINGS, max_examples=GPU_FUZZ_EXAMPLES)
    @given(programs())
    def run(program):
        fuzz.check_program_on_library(program, lib)

    run()
    counts = {k: v for k, v in fuzz.STATS.items() if k.startswith(lib.name + ":")}
    print(f"\n{lib.name}: " + ", ".join(f"{k.split(': ', 1)[1]} {v}" for k, v in sorted(counts.items())))
    assert fuzz.STATS[key] - checked_before >= GPU_FUZZ_EXAMPLES // 10, counts


@pytest.mark.parametrize("lib", [lib for lib in GPU_LIBRARIES if lib.name != "jax-gpu"]
                         or [pytest.param(None, marks=pytest.mark.skip(reason=_NO_GPU), id="no-gpu")], ids=repr)
def test_gpu_writes_into_tells_views_of_the_written_block_from_copies(lib):
    # The run-time test behind every write through a view: CuPy's and torch's own branches.
    from autodiffsource.runtime.indexing import writes_into

    a = lib.convert(np.arange(12.0).reshape(3, 4), "float64")
    assert writes_into(a[1], a, (1, 2)) and writes_into(a.T, a, 0) and writes_into([0.5, a[:, 1:3]], a, (0, 2))
    assert not writes_into(a[0], a, 2) and not writes_into(a[0:2, 0:2], a, (2, slice(None)))
    assert not writes_into(a + 0.0, a) and not writes_into(a[2], a[0:1], 0)


# ---- NumPy's arrays leaking into a partial (tests/test_cupy_like.py's checks, on the real CuPy) ----------

_CUPY = [lib for lib in GPU_LIBRARIES if lib.name == "cupy"] \
    or [pytest.param(None, marks=pytest.mark.skip(reason="no CuPy with a CUDA device"), id="no-cupy")]


@pytest.mark.parametrize("lib", _CUPY, ids=repr)
def test_gpu_every_rule_case_keeps_cupy_arrays(lib):
    # The rule table's cases on CuPy (scripts/backend_sweep.py cupy): each one CuPy's own functions can
    # run must give NumPy's partials as CuPy arrays. Session 15's sweep on an H200 found 50 partials that
    # built NumPy's identities or 0-d arrays here; tests/test_cupy_like.py checks their fixes on the CPU.
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "rules"))
    from rule_sweep import sweep

    result = sweep([lib])
    failures = result.failures[lib.name]
    assert not failures, f"{len(failures)} rule cases failed on CuPy:\n" + "\n".join(failures)
    assert result.ok[lib.name] > 900, result.ok


@pytest.mark.parametrize("lib", _CUPY, ids=repr)
@pytest.mark.parametrize("fn_name", ["carry_a_numpy_scalar_through_a_loop", "take_the_minimum_of_numpy_scalars",
                                     "take_the_minimum_of_an_array_and_a_numpy_scalar"])
def test_gpu_numpy_scalars_beside_cupy_arrays_in_the_pullback(fn_name, lib):
    # The program fuzzer's failures on the H200 and on the stand-in (session 15), as tests/test_cupy_like.py has them
    # (NumPy-spelled: CUDA tensors cannot run them, NumPy's functions refuse those).
    import autodiffsource as ad
    import test_cupy_like

    fn = getattr(test_cupy_like, fn_name)
    x0, x1 = 0.41, np.array([[-0.69, 0.3], [-1.37, 0.8]])
    want = ad.grad(fn, argnums=(0, 1))(x0, x1)
    got = ad.grad(fn, argnums=(0, 1))(x0, lib.convert(x1, "float64"))
    assert isinstance(got[1], lib.array_type())
    np.testing.assert_allclose(float(got[0]), want[0], rtol=1e-12)
    np.testing.assert_allclose(lib.to_numpy(got[1]), want[1], rtol=1e-12)
