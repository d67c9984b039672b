"""Random whole programs (tests/strategies.py) against central finite differences and autograd.

Each generated program is written to a real module, imported, and its δ function's value and partials
are compared with central differences of the original function in float64, and, where autograd can run
the same source with ``autograd.numpy``, with autograd's gradient as a second, independent oracle.

A finite-difference check is only meaningful where the function is smooth around the point: when δ and
the differences disagree, the differences are recomputed with a ten times larger step, and the example is
rejected (``hypothesis.reject``) only if the two difference quotients disagree with each other (a branch
or a kink within a step of the point). A consistent disagreement is a wrong gradient and fails.

CI runs a few hundred derandomized examples (the same programs every run, so a failure reproduces);
``pytest --long`` (or ``AUTODIFFSOURCE_LONG=1``) runs ``AUTODIFFSOURCE_FUZZ_EXAMPLES`` (default 20,000)
with a fixed seed. The counts are printed at the end of the module (``-s`` shows them).
"""

from __future__ import annotations

import collections
import contextlib
import os
import tempfile
import warnings

import numpy as np
import pytest
import hypothesis.errors
from hypothesis import HealthCheck, Phase, given, note, reject, seed, settings

from autodiffsource.api import delta_name, transform, value_and_grad_function
from autodiffsource.runtime import indexing
from finite_differences import as_outputs, numeric_partial, random_cotangents
from strategies import AUTOGRAD_HEADER, programs

LONG = os.environ.get("AUTODIFFSOURCE_LONG") == "1"
EXAMPLES = int(os.environ.get("AUTODIFFSOURCE_FUZZ_EXAMPLES", 20_000 if LONG else 200))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=not LONG, database=None, print_blob=True,
    # AUTODIFFSOURCE_FUZZ_NO_SHRINK=1: report failures unshrunk (fast triage of many failures at once).
    phases=[Phase.explicit, Phase.reuse, Phase.generate]
    + ([] if os.environ.get("AUTODIFFSOURCE_FUZZ_NO_SHRINK") == "1" else [Phase.shrink]),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
RTOL = 1e-5
STATS: collections.Counter = collections.Counter()
MODULE_DIR = tempfile.mkdtemp(prefix="autodiffsource_fuzz_")

try:
    import autograd
except ImportError:  # the second oracle is optional
    autograd = None


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    if STATS:
        lines = [f"    {k}: {v}" for k, v in sorted(STATS.items())]
        print("\nrandom-program fuzzing counts:\n" + "\n".join(lines))


def close(got, expected) -> bool:
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=RTOL, atol=RTOL * scale))


def finite_and_moderate(outputs) -> bool:
    return all(np.all(np.isfinite(np.asarray(o, dtype=np.float64))) and np.max(np.abs(o), initial=0) < 1e6
               for o in outputs)


def check_program(program, *, use_oracle: bool = True, runs_once: bool = False):
    """Value and partials of ``program``'s δ function against finite differences (and autograd);
    ``runs_once``: of value_and_grad's variant, whose pullback may scale forward values in place."""
    note(str(program))
    try:
        _check_program(program, use_oracle, runs_once)
    except (AssertionError, hypothesis.errors.UnsatisfiedAssumption):
        raise
    except Exception as error:  # one failure location for Hypothesis, whatever generated file raised it
        raise AssertionError(f"{type(error).__name__}: {error}\n{program}") from None


def _check_program(program, use_oracle: bool, runs_once: bool = False):
    module = program.load(MODULE_DIR)
    f = module.f
    args = program.args
    wrt = [i for i, m in enumerate(program.mask) if m]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                expected = as_outputs(f(*args))
        except FloatingPointError:
            # An intermediate overflowed (8 loop iterations of x ** 1.5...): even where the output stays
            # finite, a zero cotangent times an infinite local derivative is NaN, in δ as in JAX.
            STATS["rejected: an intermediate overflowed"] += 1
            reject()
        if not finite_and_moderate(expected):
            STATS["rejected: output not finite or huge"] += 1
            reject()
        # Neither the δ function nor its pullback may write into an array the caller handed it.
        args_sent = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
        combined = value_and_grad_function(f, program.mask) if runs_once and any(program.mask) else None
        if combined is not None:  # one output: value_and_grad's one function, seeded with ones
            value, partials = combined(*args)
            outputs = [value]
            cotangents = [np.ones_like(value) if isinstance(value, np.ndarray) else 1.0]
        else:
            delta_f = transform(f, program.mask, pullback_runs_once=True) if runs_once \
                else getattr(module, delta_name(f, program.mask))
            *outputs, pullback = delta_f(*args)
        assert len(outputs) == len(expected), f"{len(outputs)} outputs, f returns {len(expected)}\n{program}"
        for got, want in zip(outputs, expected):
            np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=1e-10,
                                       atol=1e-12, err_msg=f"value differs from f's\n{program}")
        if combined is None:
            cotangents = random_cotangents(outputs, seed=3)
            cotangents_sent = [np.copy(c) for c in cotangents]
            partials = pullback(*cotangents)
            for k, (c, sent) in enumerate(zip(cotangents, cotangents_sent)):
                assert np.array_equal(c, sent), f"the pullback changed the cotangent of output {k + 1}\n{program}"
            if not runs_once:  # the seed's pullback may be called again, and gives the same partials
                again = pullback(*cotangents)
                again = again if isinstance(again, tuple) else (again,)
                for k, (p1, p2) in enumerate(zip(partials if isinstance(partials, tuple) else (partials,), again)):
                    assert np.array_equal(np.asarray(p1), np.asarray(p2), equal_nan=True), \
                        f"a second call of the pullback gives another partial {k + 1}\n{program}"
        for k, (a, sent) in enumerate(zip(args, args_sent)):
            assert np.array_equal(a, sent), f"argument {k + 1} was changed\n{program}"
        partials = (partials,) if len(wrt) == 1 else partials
        assert isinstance(partials, tuple) and len(partials) == len(wrt), f"partials {partials!r}\n{program}"
        numeric = []
        for i, partial in zip(wrt, partials):
            assert np.shape(partial) == np.shape(args[i]), f"partial {i + 1} shape\n{program}"
            fd = numeric_partial(f, args, i, cotangents, step=1e-6)
            if not close(partial, fd):
                coarse = numeric_partial(f, args, i, cotangents, step=1e-5)
                if not close(fd, coarse):
                    STATS["rejected: not smooth within a step"] += 1
                    reject()
                raise AssertionError(f"partial for argument {i + 1}: δ gives {partial!r}, central differences "
                                     f"{fd!r}\n{program}")
            numeric.append(fd)
    STATS["programs checked against finite differences"] += 1
    for feature in program.features:
        STATS[f"  with {feature}"] += 1
    if use_oracle and autograd is not None:
        check_against_autograd(program, partials, wrt, cotangents)


def check_against_autograd(program, partials, wrt, cotangents):
    """autograd runs the same source (``autograd.numpy`` as ``np``); skipped where it cannot (``math``...)."""
    module = program.load(MODULE_DIR, header=AUTOGRAD_HEADER)

    def pairing(*call_args):
        outs = as_outputs(module.f(*call_args))
        return sum(autograd.numpy.sum(o * c) for o, c in zip(outs, cotangents))

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = [autograd.value_and_grad(pairing, argnum=i)(*program.args) for i in wrt]
            plain = pairing(*[a.copy() if isinstance(a, np.ndarray) else a for a in program.args])
    except Exception:  # noqa: BLE001 - a construct autograd lacks (math.sin on a box, float(box)...)
        STATS["autograd could not run the program"] += 1
        return
    if any(not close(value, plain) for value, _ in traced):
        # autograd's boxes rebind where NumPy changes an array in place (`v += e` seen through a view
        # `v[::-1]`): what it differentiates is another function. δ passed the finite differences above.
        STATS["autograd computes another value (in-place through a view)"] += 1
        return
    oracle = [partial for _, partial in traced]
    if any(np.shape(want) != np.shape(program.args[i]) for i, want in zip(wrt, oracle)):
        # autograd's own error: its np.where partial keeps the broadcast shape (a (3,) argument meeting
        # a (2, 3) one gets a (2, 3) partial). δ's partials passed the finite differences above.
        STATS["autograd's partial not shaped like its argument"] += 1
        return
    if any(not np.all(np.isfinite(want)) for want in oracle):
        # autograd's own NaN where δ's finite partials passed the finite differences above: the standard
        # deviation of equal entries (its partial divides by the deviation, zero there).
        STATS["autograd's partial not finite"] += 1
        return
    for i, got, want in zip(wrt, partials, oracle):
        assert close(got, want), f"partial {i + 1}: δ {got!r}, autograd {want!r}\n{program}"
    STATS["programs also agreeing with autograd"] += 1


@seed(20261126)
@FUZZ_SETTINGS
@given(programs())
def test_random_programs_match_finite_differences_and_autograd(program):
    check_program(program)


@seed(20261127)
@settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 2, 60))
@given(programs())
def test_random_programs_through_the_run_once_variant_in_place_at_every_size(program):
    # value_and_grad's one function (the run-once δ variant for several outputs) scales dead forward values
    # in place, and zeros_with writes into a new buffer, only on arrays of _IN_PLACE_MIN elements or more:
    # at 0 the small arrays here take those paths too.
    with _in_place_at_every_size():
        check_program(program, use_oracle=False, runs_once=True)


@seed(20261128)
@settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 2, 60))
@given(programs())
def test_random_programs_in_place_at_every_size_keep_the_pullback_callable_again(program):
    # Every δ pullback scales the temporaries it made in place (tidy's scale_owned) and writes first
    # contributions into new buffers (zeros_with), on large arrays only: at 0 the small arrays here take
    # those paths, and check_program calls the pullback twice (it must not have scaled a forward value).
    with _in_place_at_every_size():
        check_program(program, use_oracle=False)


@contextlib.contextmanager
def _in_place_at_every_size():
    """runtime.indexing's in-place paths taken on arrays of any size (not only past _IN_PLACE_MIN)."""
    threshold = indexing._IN_PLACE_MIN
    indexing._IN_PLACE_MIN = 0
    try:
        yield
    finally:
        indexing._IN_PLACE_MIN = threshold


@seed(4242)
@settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 5, 40))
@given(programs(max_statements=14))
def test_longer_random_programs_match_finite_differences(program):
    check_program(program, use_oracle=False)


# ---- the same programs on PyTorch tensors ------------------------------------------------------------------

def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


@contextlib.contextmanager
def _tensors_made_numpy():
    """Yields a list that gets an entry whenever NumPy turns a tensor into an array (``__array__``)."""
    torch, made = _torch(), []
    original = torch.Tensor.__array__

    def recorded(self, *args, **kwargs):
        made.append(True)
        return original(self, *args, **kwargs)

    torch.Tensor.__array__ = recorded
    try:
        yield made
    finally:
        torch.Tensor.__array__ = original


@pytest.mark.skipif(_torch() is None, reason="PyTorch is not installed")
@seed(20261129)
@settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 2, 60))
@given(programs())
def test_random_programs_on_torch_tensors_match_finite_differences(program):
    """The arrays handed in as float64 tensors (see check_program_on_library)."""
    from backend_cases import cpu_libraries

    torch_library = next(lib for lib in cpu_libraries() if lib.name == "torch")
    with _tensors_made_numpy() as made_numpy:
        check_program_on_library(program, torch_library, made_numpy)


@seed(20261201)
@settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 2, 60))
@given(programs())
def test_random_programs_on_cupy_like_arrays_match_finite_differences(program):
    """The arrays handed in as tests/cupy_like.py's stand-in for CuPy, which refuses NumPy's arrays beside
    its own: a partial that leaks one (a 0-d copy, NumPy's identity) fails here as it does on a GPU."""
    from backend_cases import cupy_like_library

    if "special." in program.source:
        reject()  # (the stand-in has no special-function library; CuPy's is cupyx's, checked on a GPU)
    check_program_on_library(program, cupy_like_library())


def check_program_on_library(program, lib, made_numpy=()):
    """``program`` with its arrays handed in as ``lib``'s (a tests/backend_cases.py Library: torch, CuPy...).

    Many programs do not run on such arrays at all (``np.sum(t)`` passes NumPy's ``axis`` to torch, which
    refuses it; CuPy and CUDA tensors refuse implicit copies to the host): those are skipped, as the function
    itself raises, and so are those that compute something else there (torch's ``x.max(axis=0)`` returns
    values and indices). Where the function runs alike, δ must give its value, partials of ``lib``'s array
    type where the argument is an array, and partials that match central differences of the NumPy run. It may
    fail only where the function itself turned an array into a NumPy one (an entry in ``made_numpy``:
    ``np.sinc(t)``, ``np.zeros_like(t)`` on CPU tensors, a mix of libraries the generated code does not
    follow)."""
    note(str(program))
    module = program.load(MODULE_DIR)
    f, args = module.f, program.args
    array_type = lib.array_type()

    def handed_in():  # fresh arrays for each run, sharing no memory with NumPy's
        return [lib.convert(a.copy(), a.dtype) if isinstance(a, np.ndarray) else a for a in args]

    def as_numpy(v):
        return lib.to_numpy(v) if isinstance(v, array_type) else np.asarray(v, np.float64)

    wrt = [i for i, m in enumerate(program.mask) if m]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                expected = as_outputs(f(*args))
            made_before = len(made_numpy)
            on_library = as_outputs(f(*handed_in()))
        except Exception:  # noqa: BLE001 - the function itself does not run on these arrays (or overflows)
            STATS[f"{lib.name}: the function itself raised"] += 1
            reject()
        if not finite_and_moderate(expected):
            reject()
        if len(on_library) != len(expected) or not all(
                isinstance(o, (array_type, float, int, np.generic)) and close(as_numpy(o), e)
                for o, e in zip(on_library, expected)):
            # Another function on these arrays: torch's x.max(axis=0) returns values and indices.
            STATS[f"{lib.name}: the function itself computes something else"] += 1
            reject()
        left_library = len(made_numpy) > made_before
        try:
            *outputs, pullback = getattr(module, delta_name(f, program.mask))(*handed_in())
            cotangents = random_cotangents(expected, seed=3)
            partials = pullback(*[lib.convert(c, c.dtype) if isinstance(c, np.ndarray) else c for c in cotangents])
        except Exception as error:
            if left_library:
                STATS[f"{lib.name}: δ raised where the function itself made NumPy arrays of them"] += 1
                reject()
            raise AssertionError(f"{type(error).__name__}: {error}\n{program}") from None
        for got, want in zip(outputs, expected):
            np.testing.assert_allclose(as_numpy(got), np.asarray(want, np.float64), rtol=1e-10, atol=1e-12,
                                       err_msg=f"value differs from f's\n{program}")
        partials = (partials,) if len(wrt) == 1 else partials
        for i, partial in zip(wrt, partials):
            assert isinstance(partial, array_type) == isinstance(args[i], np.ndarray), f"partial {i + 1}\n{program}"
            fd = numeric_partial(f, args, i, cotangents, step=1e-6)
            if not close(as_numpy(partial), fd):
                if not close(fd, numeric_partial(f, args, i, cotangents, step=1e-5)):
                    reject()
                raise AssertionError(f"partial for argument {i + 1}: δ on {lib.name} gives {partial!r}, central "
                                     f"differences {fd!r}\n{program}")
    STATS[f"{lib.name}: programs checked against finite differences"] += 1


# ---- regressions: bugs the fuzzer found, each as the smallest program that showed it ----------------------
# These modules are written to disk like the fuzzer's, so δ reads them through inspect.getsource.

def _load(source: str):
    from strategies import HEADER, Program

    return Program(HEADER + source, "f", [], (), frozenset()).load(MODULE_DIR)


def test_empty_for_loop_inside_a_branch():
    """A `for` that runs no iteration inside an `if`: the merge read the unbound loop variable."""
    module = _load("""
@δ
def f(x, c):
    if c < 0.5:
        for i in range(0):
            x = x * 2.0
    return x * c
""")
    value, pullback = module.δf(1.5, 0.2)
    assert value == pytest.approx(0.3)
    assert pullback() == pytest.approx((0.2, 1.5))


def test_a_loop_that_runs_no_iteration_leaves_the_callers_cotangent_alone():
    """A value read in a loop body gets its cotangent accumulated there into a new array; with no
    iteration run, that cotangent after the loop was still the array the caller passed, yet the pullback
    took it for its own and added into it (the partial came out right, the caller's array changed)."""
    module = _load("""
@δ
def f(x0):
    v1 = x0 + x0
    v2 = np.sin(v1)
    for i in range(0):
        v2 = v1 + 0.5
    return v1, v2
""")
    x = np.array([0.41, -0.69, -1.38])
    _, _, pullback = module.δf(x)
    dv1, dv2 = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    dx = pullback(dv1, dv2)
    np.testing.assert_array_equal(dv1, [1.0, 2.0, 3.0])  # the caller's array, as it was
    np.testing.assert_allclose(dx, 2 * dv1 + 2 * np.cos(2 * x) * dv2, rtol=1e-12)
    assert np.allclose(dx, numeric_partial(module.f, [x], 0, [dv1, dv2]), rtol=1e-6)


def test_an_item_multiplied_in_place_keeps_its_old_value_for_the_pullback():
    """`v[0] *= np.sin(s)` on a copy of a constant array reads v[0] (a view), multiplies and writes the
    product back into v[0]: the view then held the product, and the pullback, reading it as the other
    factor of sin(s), took the new value for the old one (a wrong partial)."""
    module = _load("""
@δ
def f(x0, x1):
    v1 = x0.copy()
    v1[0] *= np.sin(x1)
    v1[:, 1] *= np.cos(x1)
    return np.sum(v1)
""")
    x0, x1 = np.array([[0.41, -0.69, -1.38], [-1.45, 0.94, 1.24]]), 0.32
    value, pullback = getattr(module, delta_name(module.f, (False, True)))(x0, x1)
    assert value == pytest.approx(module.f(x0, x1))
    assert pullback(1.0) == pytest.approx(numeric_partial(module.f, [x0, x1], 1, [1.0]), rel=1e-7)


def test_items_of_a_constant_array_written_into_read_as_numpy_reads_them():
    """The forward pass keeps NumPy's views (a row read before a write shows the write, as in the function:
    `t` below), and the pullback reads each item as it was when the statement it differentiates ran,
    iteration by iteration in a loop."""
    module = _load("""
@δ
def f(x, c):
    v = c.copy()
    t = v[0]
    v[0] = 0.0
    u = v.copy()
    for i in range(3):
        u[i % 2] *= np.sin(x)
    return np.sum(t * x) + np.sum(u)
""")
    x, c = np.array([0.5, -0.5]), np.array([[1.0, 2.0], [3.0, 4.0]])
    value, pullback = getattr(module, delta_name(module.f, (True, False)))(x, c)
    assert value == pytest.approx(module.f(x, c.copy()))
    np.testing.assert_allclose(pullback(1.0), numeric_partial(module.f, [x, c], 0, [1.0]), rtol=1e-7)


def test_a_row_read_before_a_loop_that_writes_into_its_array():
    """`t = v[0]` used, then a loop writes into v[0]: the pullback of the use read the row after the loop
    (a view, 8 times the value here; wrong before this session too). Its copy is now taken as the loop is
    entered, when the pullback reads it."""
    module = _load("""
@δ
def f(x, c):
    v = c.copy()
    t = v[0]
    y = t * x
    for i in range(3):
        v[0] = v[0] * 2.0
    u = c.copy()
    r = u[1]
    z = r * x
    for i in range(2):
        u[1] *= np.sin(x)
    return np.sum(y) + np.sum(v) + np.sum(z) + np.sum(u)
""")
    x, c = np.array([0.5, -0.5]), np.array([[1.0, 2.0], [3.0, 4.0]])
    value, pullback = getattr(module, delta_name(module.f, (True, False)))(x, c)
    assert value == pytest.approx(module.f(x, c.copy()))
    np.testing.assert_allclose(pullback(1.0), numeric_partial(module.f, [x, c], 0, [1.0]), rtol=1e-7)


def test_rows_come_from_the_sequence_as_it_was_before_the_loop():
    """`for row in x: x = ...` iterates over the x the loop started with (Python evaluates it once)."""
    module = _load("""
@δ
def f(x):
    for row in x:
        x = x * 3.0 + row
    return np.sum(x)
""")
    x = np.array([[0.3, 0.5], [0.1, 0.2]])
    value, pullback = module.δf(x)
    assert value == pytest.approx(module.f(x))
    np.testing.assert_allclose(pullback(), numeric_partial(module.f, [x], 0, [1.0]), rtol=1e-6)


def test_loop_over_rows_after_an_early_return():
    """An early return, then `for row in x` over a reassigned x: the pullback read a version set to None."""
    module = _load("""
@δ
def f(x, c):
    if c > 1.0:
        x = x * 2.0
    if c > 0.0:
        return np.sum(np.sin(x))
    for row in x:
        x = x * 3.0
    return np.sum(x)
""")
    x = np.array([0.3, 0.5])
    for c in (0.5, 2.0, -1.0):
        value, pullback = module.δf_const2(x, c)
        assert value == pytest.approx(module.f(x, c))
        np.testing.assert_allclose(pullback(), numeric_partial(module.f, [x, c], 0, [1.0]), rtol=1e-6)


def test_rows_loop_in_an_untaken_branch_after_a_loop():
    """Fuzzer program: the pullback multiplied a None cotangent (`dv1_3 * ...`) after an untaken branch."""
    module = _load("""
@δ
def f(x0):
    v1 = x0.T
    v2 = np.transpose(v1)
    for i3 in range(2):
        v1 = np.hypot(v2, v2 + 2.0)
    if float(np.max(v2)) > 1.0:
        for row4 in v1:
            x0 = np.maximum(x0, x0)
    return np.sum(v2)
""")
    x = np.array([-0.31788641, 0.02753266, -0.72395955])
    value, pullback = module.δf(x)
    assert value == pytest.approx(module.f(x))
    np.testing.assert_allclose(pullback(), np.ones(3), rtol=1e-12)


def test_rows_loop_in_a_taken_branch_then_another_rows_loop():
    """Fuzzer program: the forward pass subtracted None from None (`v1 = np.subtract(v1, v1)`)."""
    module = _load("""
@δ
def f(x0):
    v1 = (special.gammaln(2.0 + x0 * x0)) if np.min(x0) <= 0.3 or np.sum(x0) > 1.0 else (np.sin(x0))
    if float(np.max(x0)) > -1.25 and np.sum(x0) > 0.3:
        for row2 in v1:
            x0 = np.minimum(x0, x0)
        v1 = np.divide(v1, 1.5 + np.sin(x0))
    for row3 in x0:
        v1 = np.subtract(v1, v1)
    return np.sum(x0 * x0)
""")
    x = np.array([[-1.28441843, 1.41281201, 0.70199782], [0.26367155, -0.90972521, -0.1514563]])
    value, pullback = module.δf(x)
    assert value == pytest.approx(module.f(x))
    np.testing.assert_allclose(pullback(), numeric_partial(module.f, [x], 0, [1.0]), rtol=1e-6, atol=1e-8)


def test_loop_variable_that_never_reaches_the_output_gets_zero_not_nan():
    """Fuzzer program (minimised): `y` is updated in a loop but never reaches the output, and overflows.
    Its partial is 0 (central differences, autograd and straight-line δ all say so); the loop's pullback
    multiplied a zero cotangent by the infinite local derivative and returned NaN."""
    module = _load("""
@δ
def f(x, y):
    for i in range(8):
        y = np.power(y * y + 1.0, 1.5)
    return np.sum(x)
""")
    with np.errstate(over="ignore", invalid="ignore"):
        _, pullback = module.δf(np.array([1.0]), np.array([1.5]))
        dx, dy = pullback()
    np.testing.assert_array_equal(dx, [1.0])
    np.testing.assert_array_equal(dy, [0.0])
