"""Every registered rule, checked against central finite differences from its spec table (rule_specs.py).

For each case and dtype: the δ function's value equals the primal's (same dtype: float32 stays float32);
in float64 each partial matches central differences of <cotangent, f> with a random, non-uniform
cotangent; in float32 each partial has the input's dtype and agrees with the float64 partial. A coverage
test fails when a rule is registered without a case, so the table cannot fall behind the registry.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiffsource
from autodiffsource.rules.registry import REGISTRY, primal_key
from rule_harness import PY, USER_GLOBALS, as_outputs, draw_inputs, each_dtype, make_function, numeric_partial
from rule_specs import CASES

_functions: dict[str, object] = {}


def user_function(c):
    if c.id not in _functions:
        _functions[c.id] = make_function(c.body, c.params, USER_GLOBALS)
    return _functions[c.id]


def _seed(case_id: str) -> int:
    return sum(ord(ch) * (i + 1) for i, ch in enumerate(case_id)) % (2 ** 31)


def _random_cotangents(outputs, seed):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=np.shape(o)) + 0.5 if np.shape(o) else float(rng.normal() + 0.5) for o in outputs]


def _run(f, args, cotangents):
    outputs, pullback = autodiffsource.vjp(f, *args)
    cots = [c if np.shape(o) == () and not hasattr(o, "dtype") else np.asarray(c, dtype=np.asarray(o).dtype)
            for o, c in zip(as_outputs(outputs), cotangents, strict=True)]
    return as_outputs(outputs), pullback(*cots)


@pytest.mark.parametrize("c, dtype", list(each_dtype(CASES)),
                         ids=[f"{c.id}-{np.dtype(d).name}" for c, d in each_dtype(CASES)])
def test_rule(c, dtype):
    f = user_function(c)
    args64 = draw_inputs(c, _seed(c.id))
    expected_outputs = as_outputs(f(*[a.copy() if isinstance(a, np.ndarray) else a for a in args64]))
    cotangents = _random_cotangents(expected_outputs, _seed(c.id) + 1)
    outputs64, partials64 = _run(f, args64, cotangents)
    if dtype is np.float64:
        for got, want in zip(outputs64, expected_outputs, strict=True):
            np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=1e-12,
                                       atol=1e-12, err_msg=f"{c.id}: value differs from the primal's")
        for i, (a, g) in enumerate(zip(args64, partials64, strict=True)):
            expected = numeric_partial(f, args64, i, cotangents, step=c.step)
            assert np.shape(g) == np.shape(a), f"{c.id}: partial {i + 1} has shape {np.shape(g)}, input {np.shape(a)}"
            if isinstance(a, float):
                assert isinstance(g, float), f"{c.id}: partial for a Python float is a {type(g).__name__}"
            else:
                assert g.dtype == np.float64
            scale = max(1.0, float(np.max(np.abs(expected))))
            np.testing.assert_allclose(np.asarray(g, dtype=float), expected, rtol=c.rtol, atol=c.rtol * scale,
                                       err_msg=f"{c.id}: partial {i + 1} differs from central differences")
        return
    args32 = [a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in args64]
    want32 = as_outputs(f(*[a.copy() if isinstance(a, np.ndarray) else a for a in args32]))
    outputs32, partials32 = _run(f, args32, cotangents)
    for got, want in zip(outputs32, want32, strict=True):
        assert np.asarray(got).dtype == np.asarray(want).dtype, f"{c.id}: output dtype changed"
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=1e-5, atol=1e-5)
    for i, (a, g32, g64) in enumerate(zip(args32, partials32, partials64, strict=True)):
        if isinstance(a, np.ndarray):
            assert g32.dtype == np.float32, f"{c.id}: partial {i + 1} is {g32.dtype} for a float32 input"
        scale = max(1.0, float(np.max(np.abs(g64))))
        np.testing.assert_allclose(np.asarray(g32, dtype=float), np.asarray(g64, dtype=float), rtol=5e-3,
                                   atol=5e-3 * scale, err_msg=f"{c.id}: float32 partial {i + 1} far from float64")


def _cover_key(obj) -> str:
    return getattr(obj, "__module__", "?") + "." + getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj)))


def test_every_rule_has_a_spec():
    covered_objects = {primal_key(k) for c in CASES for k in c.covers if not isinstance(k, str)}
    covered_methods = {k[len("method:"):] for c in CASES for k in c.covers if isinstance(k, str)}
    missing = sorted(_cover_key(obj) for obj, _ in REGISTRY.primals() if primal_key(obj) not in covered_objects)
    missing_methods = sorted(set(REGISTRY.by_method) - covered_methods)
    assert not missing, f"rules registered without a test spec in tests/rules/rule_specs.py: {missing}"
    assert not missing_methods, f"array methods with a rule but no spec: {missing_methods}"


def test_cases_exercise_what_they_claim():
    # A spec that says it covers np.sum must actually call it (or, for a method, use `.sum(`).
    for c in CASES:
        for key in c.covers:
            if isinstance(key, str):
                assert f".{key[len('method:'):]}(" in c.body, c.id


def test_the_coverage_test_catches_a_rule_without_a_spec():
    from autodiffsource.rules.registry import rule

    def unlisted(x):
        return x

    @rule(unlisted)
    def δunlisted(x):
        def unlisted_pullback(dy):
            return (dy,)
        return x, unlisted_pullback

    try:
        with pytest.raises(AssertionError, match="unlisted"):
            test_every_rule_has_a_spec()
    finally:
        del REGISTRY.by_object[id(unlisted)]
    test_every_rule_has_a_spec()


def test_the_coverage_test_catches_a_method_rule_without_a_spec():
    # (a rule of one object's method, as scipy.stats.norm's, is listed by the registry too)
    from autodiffsource.rules.registry import rule

    class Distribution:
        def unlisted_density(self, x):
            return x

    distribution = Distribution()

    @rule(distribution.unlisted_density)
    def δunlisted_density(x):
        def unlisted_density_pullback(dy):
            return (dy,)
        return x, unlisted_density_pullback

    try:
        with pytest.raises(AssertionError, match="unlisted_density"):
            test_every_rule_has_a_spec()
    finally:
        del REGISTRY._by_bound_method[primal_key(distribution.unlisted_density)]
    test_every_rule_has_a_spec()
