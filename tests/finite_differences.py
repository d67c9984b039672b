"""The tests' own derivative oracle: central finite differences in float64, independent of the library.

Nothing here imports autodiffsource, so a wrong rule cannot make its own check pass. The check pairs every
output with a random, non-uniform cotangent (never all ones) and compares the pullback's partials with
central differences of ``<cotangents, f(args)>``, element by element.
"""

from __future__ import annotations

import numpy as np


def as_float64(a):
    """A float64 copy of an argument (Python numbers stay Python floats)."""
    if isinstance(a, (int, float, np.generic)) and not isinstance(a, bool):
        return float(a)
    return np.array(a, dtype=np.float64)


def as_outputs(result) -> tuple:
    """A function's result as a tuple of outputs (``return a, b`` is two outputs)."""
    return result if isinstance(result, tuple) else (result,)


def fresh_copies(args) -> list:
    """Copies of array arguments: plain Python may update an argument in place (`y = x; y += 1`)."""
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def random_cotangents(outputs, seed: int = 1) -> list:
    """One random cotangent per output, shaped like it, in [0.5, 1.5] (Python float for scalars)."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 1.5, size=np.shape(o)) if np.shape(o) else float(rng.uniform(0.5, 1.5))
            for o in outputs]


def numeric_partial(f, args, i, cotangents, step: float = 1e-6):
    """d<cotangents, f(args)>/d args[i] by central differences, in float64, shaped like ``args[i]``."""
    # Integer arguments other than the one differentiated stay integers: they may be indices.
    args = [as_float64(a) if j == i or not isinstance(a, (int, np.integer)) else a for j, a in enumerate(args)]

    def pairing(call_args):
        outs = as_outputs(f(*fresh_copies(call_args)))
        return sum(float(np.sum(np.asarray(o, dtype=np.float64) * c)) for o, c in zip(outs, cotangents, strict=True))

    a = args[i]
    if isinstance(a, float):
        h = step * max(1.0, abs(a))
        plus, minus = list(args), list(args)
        plus[i], minus[i] = a + h, a - h
        return (pairing(plus) - pairing(minus)) / (2 * h)
    grad = np.zeros_like(a)
    for k in range(a.size):
        h = step * max(1.0, abs(a.flat[k]))
        plus, minus = list(args), list(args)
        plus[i], minus[i] = a.copy(), a.copy()
        plus[i].flat[k] += h
        minus[i].flat[k] -= h
        grad.flat[k] = (pairing(plus) - pairing(minus)) / (2 * h)
    return grad


def numeric_jacobian(f, x, h=1e-6):
    """The Jacobian of ``f`` at the array ``x`` by central differences: shape ``f(x).shape + x.shape``."""
    columns = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = 1.0
        columns.append((np.asarray(f(x + h * e)) - np.asarray(f(x - h * e))) / (2 * h))
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)


def assert_close(got, expected, rtol=1e-6, atol=1e-7, what="partial"):
    got64 = np.asarray(got, dtype=np.float64)
    assert got64.shape == np.shape(expected), f"{what}: shape {got64.shape}, expected {np.shape(expected)}"
    assert np.all(np.isfinite(got64)), f"{what} is not finite: {got!r}"
    np.testing.assert_allclose(got64, expected, rtol=rtol, atol=atol, err_msg=what)


def check_pullback(f, delta_f, args, wrt=None, cotangents=None, rtol=1e-6, atol=1e-7, seed=1):
    """Run ``delta_f(*args)``, pull back random cotangents, compare with central differences of ``f``.

    ``wrt`` lists the argument positions ``delta_f`` differentiates (all, by default). Checks the outputs
    equal ``f(*args)`` and every partial has its argument's shape; returns the partials as a tuple.
    """
    wrt = list(range(len(args))) if wrt is None else list(wrt)
    *outputs, pullback = delta_f(*args)
    expected_outputs = as_outputs(f(*fresh_copies(args)))
    assert len(outputs) == len(expected_outputs), f"{len(outputs)} outputs, f has {len(expected_outputs)}"
    for got, want in zip(outputs, expected_outputs, strict=True):
        np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64),
                                   rtol=1e-12, atol=1e-12)
    if cotangents is None:
        cotangents = random_cotangents(outputs, seed)
    partials = pullback(*cotangents)
    if len(wrt) == 1:
        partials = (partials,)
    assert isinstance(partials, tuple) and len(partials) == len(wrt), f"partials {partials!r} for wrt={wrt}"
    for i, p in zip(wrt, partials, strict=True):
        assert np.shape(p) == np.shape(args[i]), f"partial {i + 1}: shape {np.shape(p)} != {np.shape(args[i])}"
        assert_close(p, numeric_partial(f, args, i, cotangents), rtol, atol, what=f"partial for argument {i + 1}")
    return partials


def directional_check(f, args, partials, argnums, rng, directions=3, step=1e-6, rtol=1e-6):
    """For ``directions`` random directions v (drawn from ``rng``): sum_i <partial_i, v_i> over the
    arguments ``argnums`` equals the central difference of f along v."""
    import pytest

    for k in range(directions):
        vs = [rng.standard_normal(np.shape(args[i])) for i in argnums]
        plus = list(args)
        minus = list(args)
        for i, v in zip(argnums, vs):
            plus[i] = args[i] + step * v
            minus[i] = args[i] - step * v
        numeric = (f(*plus) - f(*minus)) / (2 * step)
        analytic = sum(float(np.sum(p * v)) for p, v in zip(partials, vs))
        assert analytic == pytest.approx(numeric, rel=rtol, abs=1e-6), (f.__name__, k)
