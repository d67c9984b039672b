"""Purity and reuse: δ functions and pullbacks are pure, re-entrant, thread-safe, and hold nothing longer
than the pullback lives.

- Inputs (arguments and cotangents) are never mutated: compared byte for byte before and after, through
  code whose pullback accumulates in place (``+=`` into owned buffers), loops, indexing and broadcasting.
- A pullback may be called many times, and from eight threads at once, with the same answers each time.
- Eight threads making the FIRST call of the same δ function at once run the pipeline once.
- 10^5 forward+pullback calls keep traced memory flat.
- Dropping a pullback frees what its closure held (a weak reference to the input dies without ``gc``).
"""

from __future__ import annotations

import concurrent.futures
import gc
import importlib.util
import itertools
import math
import sys
import textwrap
import threading
import time
import tracemalloc
import weakref

import numpy as np
import pytest

import autodiffsource.api as api
from autodiffsource import δ
from finite_differences import check_pullback

RNG = np.random.default_rng(5)


@δ
def accumulating(x, y):
    # x is read by several operations: its partial is accumulated (in place into an owned buffer).
    a = np.sin(x) * y
    b = a + x * x
    c = b[1:] + x[:-1]
    return np.sum(c * np.cos(x[1:])) + np.sum(x * y)


@δ
def looping(x, w):
    h = x
    for i in range(3):
        h = np.tanh(h * w) + x
    return h


@δ
def passthrough(x, y):
    return x, x + y


@δ
def broadcasting(x, row):
    return (x * row + row) * 2.0


def _frozen(values):
    return [np.array(v, copy=True) for v in values]


def _assert_unchanged(before, after):
    for b, a in zip(before, after, strict=True):
        assert np.asarray(a).tobytes() == b.tobytes() and np.asarray(a).dtype == b.dtype


CASES = [
    (accumulating, "δaccumulating", [RNG.standard_normal(5), RNG.standard_normal(5)]),
    (looping, "δlooping", [RNG.standard_normal(4), RNG.standard_normal(4)]),
    (passthrough, "δpassthrough", [RNG.standard_normal(3), RNG.standard_normal(3)]),
    (broadcasting, "δbroadcasting", [RNG.standard_normal((4, 3)), RNG.standard_normal(3)]),
]


@pytest.mark.parametrize("fn, delta, args", CASES, ids=[c[1] for c in CASES])
def test_arguments_and_cotangents_are_never_mutated(fn, delta, args):
    delta_f = globals()[delta]
    before = _frozen(args)
    *outputs, pullback = delta_f(*args)
    _assert_unchanged(before, args)
    cotangents = [RNG.uniform(0.5, 1.5, np.shape(o)) for o in outputs]
    cot_before = _frozen(cotangents)
    first = pullback(*cotangents)
    second = pullback(*cotangents)
    _assert_unchanged(before, args)
    _assert_unchanged(cot_before, cotangents)
    for a, b in zip(np.atleast_1d(first) if not isinstance(first, tuple) else first,
                    np.atleast_1d(second) if not isinstance(second, tuple) else second):
        np.testing.assert_array_equal(a, b)
    check_pullback(fn, delta_f, args)


def test_mutating_returned_partials_leaves_inputs_alone():
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    x_copy, y_copy = x.copy(), y.copy()
    *_, pullback = δbroadcasting(x, y)  # noqa: F821
    dx, dy = pullback(np.ones(3))
    dx += 100.0
    dy += 100.0
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(y, y_copy)


@δ
def add(x, y):
    return x + y


def test_partials_are_not_the_callers_cotangent_nor_each_other():
    """An optimiser updating partials in place (``g *= lr``) must not change the cotangent it passed in, nor
    another partial: ``x + y`` has the partials (dz, dz), which must be two arrays, neither of them ``dz``."""
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    _, pullback = δadd(x, y)  # noqa: F821
    dz = np.full(3, 2.0)
    dx, dy = pullback(dz)
    assert dx is not dz and dy is not dz and dx is not dy
    dx *= 10.0
    np.testing.assert_array_equal(dz, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(dy, [2.0, 2.0, 2.0])


def test_pullback_called_many_times_gives_the_same_answer():
    x, w = RNG.standard_normal(4), RNG.standard_normal(4)
    _, pullback = δlooping(x, w)  # noqa: F821
    cot = RNG.uniform(0.5, 1.5, 4)
    reference = pullback(cot)
    for _ in range(200):
        again = pullback(cot)
        for a, b in zip(again, reference, strict=True):
            np.testing.assert_array_equal(a, b)


def test_pullback_from_eight_threads_gives_the_same_answers():
    x, y = RNG.standard_normal(50), RNG.standard_normal(50)
    _, pullback = δaccumulating(x, y)  # noqa: F821
    cotangents = [float(c) for c in RNG.uniform(0.5, 1.5, 64)]
    expected = [pullback(c) for c in cotangents]
    start = threading.Barrier(8)

    def work(k):
        start.wait()
        return [(i, pullback(cotangents[i])) for i in range(k, len(cotangents), 8) for _ in range(5)]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = [r for chunk in pool.map(work, range(8)) for r in chunk]
    assert len(results) == 5 * len(cotangents)
    for i, (dx, dy) in results:
        np.testing.assert_array_equal(dx, expected[i][0])
        np.testing.assert_array_equal(dy, expected[i][1])


_counter = itertools.count()


def _fresh_module(tmp_path, source):
    name = f"purity_{next(_counter)}"
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_eight_threads_making_the_first_call_transform_once(tmp_path, monkeypatch):
    module = _fresh_module(tmp_path, """
        import numpy as np
        from autodiffsource import δ

        def helper(a, b, *, called_through_its_delta_function=True):
            return np.tanh(a) * b

        @δ
        def f(x, y):
            for i in range(2):
                x = helper(x, y) + x
            return np.sum(x * y)
    """)
    runs = []
    real = api._run_pipeline

    def counting_pipeline(fn, mask, *variant, **how):
        runs.append((fn.__name__, mask))
        time.sleep(0.05)  # widen the window in which a second thread could start its own transform
        return real(fn, mask, *variant, **how)

    monkeypatch.setattr(api, "_run_pipeline", counting_pipeline)
    stub = module.δf
    assert getattr(stub, "__name__", "") == "δf" and (module.f, (True, True)) not in api._compiled
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    start = threading.Barrier(8)

    def first_call(_):
        start.wait()
        value, pullback = stub(x, y)
        return value, pullback()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(first_call, range(8)))
    assert runs.count(("f", (True, True))) == 1, runs
    assert runs.count(("helper", (True, True))) == 1, runs
    compiled = module.δf
    # the stub rebound the module's name to the compiled function (first called with float NumPy arrays of
    # one shape, the variant that holds NumPy code only and hands numbers and other arrays on)
    assert compiled is not stub and compiled is api._compiled[
        (module.f, (True, True), "numbers deferred", "first arguments", "same shapes")]
    reference = check_pullback(module.f, compiled, [x, y], cotangents=[1.0])
    for value, (dx, dy) in results:
        assert value == pytest.approx(module.f(x, y), rel=1e-12)
        np.testing.assert_allclose(dx, reference[0], rtol=1e-12)
        np.testing.assert_allclose(dy, reference[1], rtol=1e-12)


def test_a_hundred_thousand_calls_keep_memory_flat():
    """Counted in interpreter memory blocks (``sys.getallocatedblocks``): tracemalloc would cost 5x the time."""
    x, y = 0.3, -1.2
    for _ in range(2_000):  # warm caches (NumPy's, the interpreter's) before measuring
        _, pullback = δaccumulating_scalar(x, y)  # noqa: F821
        pullback()
    del pullback
    gc.collect()
    baseline = sys.getallocatedblocks()
    for _ in range(100_000):
        _, pullback = δaccumulating_scalar(x, y)  # noqa: F821
        pullback()
    del pullback
    gc.collect()
    growth = sys.getallocatedblocks() - baseline
    assert growth < 500, f"{growth} memory blocks still allocated after 10^5 calls"


@δ
def accumulating_scalar(x, y):
    a = math.sin(x) * y
    if a > 0:
        a = a * x
    for i in range(2):
        a = a * y + x
    return a + x * x


def test_dropping_a_pullback_frees_what_it_held():
    x = RNG.standard_normal(1_000_000)  # 8 MB, referenced from here and from the pullback's closure
    alive = weakref.ref(x)
    tracemalloc.start()
    try:
        _, pullback = δlooping(x, 0.5)  # noqa: F821
        del x
        assert alive() is not None, "the pullback needs x; it must keep it alive"
        held = tracemalloc.get_traced_memory()[0]
        del pullback  # no gc.collect(): reference counting alone must free it (no cycles)
        freed = held - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert alive() is None, "the input is still referenced after the pullback was dropped"
    assert freed > 3 * 8_000_000, f"only {freed} bytes freed; the loop's tape holds three 8 MB arrays"


def test_dropping_the_value_keeps_the_pullback_working():
    x = RNG.standard_normal(10)
    value, pullback = δlooping(x, 0.5)  # noqa: F821
    expected = pullback(np.ones(10))
    del value
    gc.collect()
    np.testing.assert_array_equal(pullback(np.ones(10))[0], expected[0])


def test_transform_writes_nothing_to_disk(tmp_path, monkeypatch):
    """Safety: there is no on-disk cache; the transformer only reads the user's own source file (the
    generated code lives in memory, registered with linecache for tracebacks)."""
    import builtins
    import io
    import os

    module = _fresh_module(tmp_path, """
        import numpy as np
        from autodiffsource import δ

        @δ
        def f(x):
            for i in range(2):
                x = np.sin(x) * x
            return np.sum(x)
    """)
    opened = []
    real_open, real_os_open = builtins.open, os.open

    def recording_open(file, mode="r", *args, **kwargs):
        opened.append((str(file), mode))
        return real_open(file, mode, *args, **kwargs)

    def recording_os_open(path, flags, *args, **kwargs):
        opened.append((str(path), "w" if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) else "r"))
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", recording_open)
    monkeypatch.setattr(io, "open", recording_open)
    monkeypatch.setattr(os, "open", recording_os_open)
    builtins.open(tmp_path / "probe.txt", "w").close()  # the recorder sees writes...
    assert opened == [(str(tmp_path / "probe.txt"), "w")]
    opened.clear()
    value, pullback = module.δf(np.array([0.3, -0.4]))  # ...and the first call transforms
    pullback()
    monkeypatch.undo()
    writes = [(f, m) for f, m in opened if any(c in m for c in "wax+")]
    assert writes == [], f"the transform opened files for writing: {writes}"
    assert all(f == module.__file__ for f, _ in opened), f"files read besides the user's: {opened}"
