"""Hygiene: user names never collide with the names generated code uses.

Each case is a real module, written to a temporary directory and imported (so δ reads it with
``inspect.getsource``), whose function uses a name the generator also uses: temporaries (``_t1``),
cotangents (``dx``), pullbacks (``x_pullback``, ``f_pullback``), the array namespace (``xp``), runtime
helpers (``unbroadcast``, ``finalize``, ``namespace``, ``zeros_like``...), loop and return bookkeeping
(``_tape``, ``_returned``, ``_ret``, ``_break1``), builtins the generator calls (``len``, ``range``),
NumPy imported as ``onp`` beside a user variable called ``np``, a parameter called ``δf``, and a user
global function named like a runtime helper. Every gradient is checked against central differences.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import textwrap

import numpy as np
import pytest

from finite_differences import check_pullback

_counter = itertools.count()
HEADER = "import numpy as np\nfrom autodiffsource import δ\n"


@pytest.fixture
def load(tmp_path):
    def load_module(source: str, header: str = HEADER):
        name = f"hygiene_{next(_counter)}"
        path = tmp_path / f"{name}.py"
        path.write_text(header + textwrap.dedent(source))
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    return load_module


RNG = np.random.default_rng(11)
X = RNG.uniform(-1, 1, 3)
Y = RNG.uniform(-1, 1, 3)


def test_parameters_named_like_temporaries(load):
    m = load("""
        @δ
        def f(_t1, _t2):
            _t3 = _t1 * _t2
            _t4 = np.sin(_t3) + _t1
            return np.sum(_t4 * np.cos(_t2))
    """)
    check_pullback(m.f, m.δf, [X, Y])


def test_parameters_named_like_cotangents(load):
    m = load("""
        @δ
        def f(x, dx, d_t1):
            dx_2 = dx * x
            d_t2 = np.tanh(dx_2) * d_t1
            return np.sum(dx_2 * x + d_t2)
    """)
    check_pullback(m.f, m.δf, [X, Y, 0.7])


def test_parameters_named_like_pullbacks(load):
    m = load("""
        def g(a, b):
            return a * np.exp(-b * b)

        @δ
        def f(x, x_pullback, f_pullback, _t1_pb):
            g_pullback = g(x, x_pullback) * f_pullback
            return np.sum(g_pullback * _t1_pb)
    """)
    check_pullback(m.f, m.δf, [X, Y, 1.3, X[::-1].copy()])


def test_parameters_named_like_runtime_helpers(load):
    m = load("""
        @δ
        def f(xp, unbroadcast, finalize, namespace):
            seed_cotangent = np.sin(xp) * unbroadcast
            zeros_like = np.sum(seed_cotangent, axis=0) + finalize
            accumulate = zeros_like * namespace
            return np.sum(accumulate * accumulate)
    """)
    check_pullback(m.f, m.δf, [RNG.uniform(-1, 1, (2, 3)), Y, 0.4, -0.8])


def test_locals_named_like_loop_and_return_bookkeeping(load):
    m = load("""
        @δ
        def f(x, _tape, _returned):
            _ret = x * 1.0
            _break1 = 0
            for _t5 in range(3):
                _ret = _ret * np.cos(_tape) + _returned
                _break1 = _break1 + 1
                if _break1 > 1 and np.sum(_ret) > 100.0:
                    break
            _share = np.maximum(_ret, _tape)
            if np.sum(_share) > 50.0:
                return np.sum(_share)
            return np.sum(_share * _ret)
    """)
    check_pullback(m.f, m.δf, [X, Y, 0.25])


def test_builtins_the_generator_calls_shadowed_by_parameters(load):
    """`for row in x` becomes `range(len(x))` in generated code: a user's `len`/`range` must not be hit."""
    m = load("""
        @δ
        def f(x, len, range, sum):
            s = 0.0
            for row in x:
                s = s + np.sum(row * len) * range
            return s + sum
    """)
    check_pullback(m.f, m.δf, [RNG.uniform(-1, 1, (3, 2)), 0.5, 1.5, 2.0])


def test_builtin_names_as_locals(load):
    m = load("""
        @δ
        def f(x):
            float = x * 2.0
            abs = np.sin(float)
            max = abs * x
            return np.sum(max)
    """)
    check_pullback(m.f, m.δf, [X])


def test_numpy_as_onp_and_a_user_variable_called_np(load):
    m = load("""
        import numpy as onp
        from autodiffsource import δ

        @δ
        def f(x, np):
            xp = onp.tanh(x) * np
            np = onp.sum(xp * onp.exp(-x * x))
            return np * np
    """, header="")
    check_pullback(m.f, m.δf, [X, 0.6])


def test_module_variable_called_np_that_is_not_numpy(load):
    m = load("""
        import numpy as onp
        from autodiffsource import δ

        np = 2.5  # a number, not NumPy

        @δ
        def f(x):
            return onp.sum(onp.sin(x) * np)
    """, header="")
    check_pullback(m.f, m.δf, [X])


def test_parameter_called_delta_f(load):
    m = load("""
        @δ
        def f(x, δf):
            δf_const1 = np.sin(x) * δf
            return np.sum(δf_const1 * x)
    """)
    check_pullback(m.f, m.δf, [X, Y])
    check_pullback(m.f, m.δf_const2, [X, Y], wrt=[0])


def test_user_globals_named_like_runtime_helpers(load):
    """A module's own `finalize`/`unbroadcast`/`zeros_like` functions are called, not the runtime's."""
    m = load("""
        def finalize(a):
            return a * 3.0

        def unbroadcast(a, b):
            return a * b + a

        def zeros_like(a):
            return a.shape[0]

        @δ
        def f(x, y):
            n = zeros_like(x)
            return np.sum(finalize(x) * unbroadcast(y, x)) * n
    """)
    check_pullback(m.f, m.δf, [X, Y])


def test_user_function_named_like_the_generated_factory(load):
    m = load("""
        def _make_δf(a):
            return a * a

        @δ
        def f(x):
            return np.sum(_make_δf(x) * np.cos(x))
    """)
    check_pullback(m.f, m.δf, [X])


def test_same_generated_names_in_caller_and_callee(load):
    """Inlined/recursive callees reuse `_t1`, `dx`, `xp`: their names must not leak into the caller's."""
    m = load("""
        def g(x, dx):
            _t1 = np.sin(x) * dx
            return _t1 * x

        @δ
        def f(x, dx):
            _t1 = g(dx, x)
            xp = g(_t1, dx)
            return np.sum(xp + _t1)
    """)
    check_pullback(m.f, m.δf, [X, Y])


def test_unicode_names_normalised(load):
    """Python NFKC-normalises identifiers (µ -> μ): both spellings are one variable."""
    m = load("""
        @δ
        def f(x):
            µ = np.sin(x)
            return np.sum(μ * x)
    """)
    check_pullback(m.f, m.δf, [X])


def test_generated_code_compiles_without_warnings(load):
    """Fuzzer find: `min(x, -0.25)` generated `... if -0.25 is None else ...`, a SyntaxWarning
    ('"is" with a literal') printed into the user's session at the first call."""
    import warnings

    m = load("""
        @δ
        def f(x):
            return min(x, -0.25) + max(x, 0.5)
    """)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, pullback = m.δf(0.3)
    assert value == pytest.approx(-0.25 + 0.5)
    assert pullback() == 0.0
