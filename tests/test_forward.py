"""Forward mode (``jvp``, ``jacfwd``, ``jacrev``, ``jacobian``) against central finite differences.

Every case of the rule table (tests/rules/rule_specs.py) and every function of the control-flow corpus
(tests/corpus/) is pushed forward along a random direction and compared with the central difference of
``f`` along that direction, in float64. Then the generated code itself: readable, with the user's lines,
branches and loops kept as written; and the Jacobian entry points against a finite-difference Jacobian.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest
from array_api_compat import array_namespace

import autodiffsource as ad
from autodiffsource.higher import jvp_function
from autodiffsource.rules.forward import forward_kind, rules_by_kind
from corpus import CORPUS, augmented, branches, dataflow, exits, loops, mixed  # noqa: F401  (registers the corpus)
from corpus import differentiated
from finite_differences import numeric_jacobian

sys.path.insert(0, str(Path(__file__).parent / "rules"))
from rule_harness import USER_GLOBALS, as_outputs, draw_inputs, make_function  # noqa: E402
from rule_specs import CASES  # noqa: E402


def _direction(args, seed=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=np.shape(a)) if np.shape(a) else float(rng.normal()) for a in args]


def _directional_difference(f, args, tangents, h=1e-6):
    """(f(x + h t) - f(x - h t)) / 2h for each output; arguments with a None tangent stay put."""
    def at(s):
        moved = [a if t is None else a + s * h * t for a, t in zip(args, tangents)]
        return as_outputs(f(*copy.deepcopy(moved)))
    plus, minus = at(1.0), at(-1.0)
    return [(np.asarray(p, dtype=float) - np.asarray(m, dtype=float)) / (2 * h) for p, m in zip(plus, minus)]


def _check(got_tangents, expected, what, rtol=1e-5, atol=1e-6):
    got = got_tangents if len(expected) > 1 else (got_tangents,)
    assert len(got) == len(expected), what
    for g, e in zip(got, expected):
        assert np.shape(g) == np.shape(e), f"{what}: tangent shape {np.shape(g)}, expected {np.shape(e)}"
        np.testing.assert_allclose(np.asarray(g, dtype=float), e, rtol=rtol, atol=atol, err_msg=what)


# ---- every rule -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_jvp_of_rule_matches_central_differences(c):
    f = make_function(c.body, c.params, USER_GLOBALS)
    args = draw_inputs(c, 7)
    tangents = _direction(args)
    outputs, output_tangents = ad.jvp(f, copy.deepcopy(args), tangents)
    expected_outputs = as_outputs(f(*copy.deepcopy(args)))
    got_outputs = outputs if len(expected_outputs) > 1 else (outputs,)
    for got, want in zip(got_outputs, expected_outputs):
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=1e-12, atol=1e-12)
    float32 = any(np.asarray(o).dtype == np.float32 for o in expected_outputs)
    # A cast to float32 is linear: a wide step sees no curvature, and a narrow one only rounding.
    h = 1e-2 if float32 else c.step
    expected = _directional_difference(f, args, tangents, h=h)
    _check(output_tangents, expected, c.id, rtol=1e-3 if float32 else 1e-5, atol=1e-4 if float32 else 1e-6)
    # Every rule has a forward form: no pullback call per output element (slow, and first order only).
    assert "jvp_from_pullback" not in jvp_function(f, tuple(range(len(args)))).__source__, c.id


def test_every_rule_has_a_forward_form():
    kinds = {k: len(v) for k, v in rules_by_kind().items()}
    assert kinds["elementwise"] >= 90 and kinds["linear"] >= 40 and kinds["multilinear"] >= 8
    assert kinds.get("form", 0) >= 40 and kinds.get("extreme", 0) >= 2
    assert kinds.get(None, 0) == 0, [r.delta.__name__ for r in rules_by_kind().get(None, [])]


# ---- control flow -----------------------------------------------------------------------------------------

CORPUS_CASES = [(fn, args) for fn, argsets in CORPUS for args in argsets]


@pytest.mark.parametrize("fn, args", CORPUS_CASES,
                         ids=[f"{fn.__name__}-{i}" for i, (fn, _) in enumerate(CORPUS_CASES)])
def test_jvp_of_control_flow_corpus(fn, args):
    tangents = [t if differentiated(a) else None for a, t in zip(args, _direction(args, seed=5))]
    outputs, output_tangents = ad.jvp(fn, copy.deepcopy(args), tangents)
    expected_outputs = as_outputs(fn(*copy.deepcopy(args)))
    got_outputs = outputs if len(expected_outputs) > 1 else (outputs,)
    for got, want in zip(got_outputs, expected_outputs):
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=1e-12)
    _check(output_tangents, _directional_difference(fn, args, tangents), fn.__name__, rtol=1e-4, atol=1e-5)


# ---- the generated code -------------------------------------------------------------------------------------

def smooth(x, y):
    z = np.sin(x) * y
    return np.sum(z * z)


def looped(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            s = s + x[i] * x[i]
        else:
            s = s - np.tanh(x[i])
    return s


def test_generated_jvp_source_is_readable():
    text = jvp_function(smooth, (0, 1)).__source__
    assert "def jvp_smooth(x_dot, y_dot, x, y):" in text
    assert "# test_forward.py:" in text and "z = np.sin(x) * y" in text  # the user's lines as comments
    assert "x_dot * xp.cos(x)" in text  # sin's tangent, derived from its pullback
    assert "unbroadcast" not in text  # broadcasting happens forward by itself
    assert "jvp_from_pullback" not in text  # every rule here has a forward form


def test_control_flow_keeps_its_structure_and_tangents_ride_along():
    fn = jvp_function(looped, 0)
    text = fn.__source__
    assert "for i in range(n):" in text and "if " in text and "_tape" not in text
    x = np.array([0.3, -0.7, 1.1, 0.4])
    v = np.array([1.0, 0.5, -0.2, 2.0])
    value, slope = fn(v, x, 4)
    expected = _directional_difference(looped, [x, 4], [v, None])[0]
    assert value == pytest.approx(looped(x, 4))
    assert slope == pytest.approx(float(expected), rel=1e-6)


def test_one_transformation_serves_every_trip_count_and_direction():
    fn = jvp_function(looped, 0)
    for n in (0, 1, 3):
        x = np.linspace(-1.0, 1.0, 4)
        v = np.arange(4.0)
        assert jvp_function(looped, 0) is fn
        _, slope = ad.jvp(looped, (x, n), (v, None))
        assert slope == pytest.approx(float(_directional_difference(looped, [x, n], [v, None])[0]), abs=1e-6)


def test_write_into_an_array_does_not_change_another_tangent():
    def f(x):
        y = x + 0.0  # y's tangent starts as x's
        y[0] = 3.0 * x[1]
        return y * x

    x = np.array([0.5, 2.0, -1.0])
    v = np.array([1.0, -1.0, 0.5])
    _, slope = ad.jvp(f, (x,), (v,))
    np.testing.assert_allclose(slope, _directional_difference(f, [x], [v])[0], rtol=1e-6)
    np.testing.assert_array_equal(v, [1.0, -1.0, 0.5])  # the caller's tangent is untouched


def test_user_rules_go_through_their_pullback_and_refuse_second_order_clearly():
    def cube(x):
        return x * x * x

    def δcube(x):  # a user rule has a pullback only: forward mode calls it once per output element
        y = cube(x)

        def cube_pullback(dy):
            return 3.0 * x * x * dy

        return y, cube_pullback

    def f(x):
        return np.sum(cube(x) * x)

    f.__globals__["δcube"] = δcube
    try:
        assert "jvp_from_pullback" in jvp_function(f).__source__
        x, v = np.array([0.5, -1.5]), np.array([2.0, 1.0])
        _, slope = ad.jvp(f, (x,), (v,))
        np.testing.assert_allclose(slope, _directional_difference(f, [x], [v])[0], rtol=1e-6)
        # Differentiating that jvp code again would need the pullback's own derivative: refused, by name.
        with pytest.raises(ad.MissingRuleError, match="no derivative rule for `jvp_from_pullback`"):
            ad.grad(lambda_free_slope(f, v))(x)
    finally:
        del f.__globals__["δcube"]


def lambda_free_slope(f, v):
    jvp_f = jvp_function(f)

    def slope(x):
        value, tangent = jvp_f(v, x)
        return tangent

    return slope


def test_user_rules_and_user_functions():
    def cube(x):
        return x * x * x

    def δcube(x):  # a user rule, only reverse mode: forward mode uses its pullback
        y = cube(x)

        def cube_pullback(dy):
            return 3.0 * x * x * dy

        return y, cube_pullback

    def g(x):
        return np.tanh(x) + x

    def f(x):
        return cube(x) * g(x)

    f.__globals__["δcube"] = δcube
    try:
        x, v = np.array([0.5, -1.5]), np.array([2.0, 1.0])
        _, slope = ad.jvp(f, (x,), (v,))
        np.testing.assert_allclose(slope, _directional_difference(f, [x], [v])[0], rtol=1e-6)
        text = jvp_function(f).__source__
        assert "jvp_g(" in text or "tanh" in text  # g is forward-transformed too (called, or inlined)
    finally:
        del f.__globals__["δcube"]


def test_jvp_argument_errors():
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        ad.jvp(smooth, (1.0, 2.0), (1.0,))


# ---- Jacobians -------------------------------------------------------------------------------------------

def tall(x):
    return np.stack([np.sin(x[0]) * x[1], x[0] ** 2, np.exp(x[1]), x[0] * x[1]])


def wide(x):
    total = 0.0
    for i in range(x.shape[0]):
        total = total + np.cos(x[i]) * (i + 1)
    return np.stack([total, np.sum(x * x)])


@pytest.mark.parametrize("f, x", [(tall, np.array([0.4, -0.8])), (wide, np.linspace(-1.0, 1.0, 6))])
def test_jacfwd_and_jacrev_agree_with_finite_differences(f, x):
    expected = numeric_jacobian(f, x)
    np.testing.assert_allclose(ad.jacfwd(f)(x), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ad.jacrev(f)(x), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ad.jacobian(f)(x), expected, rtol=1e-6, atol=1e-8)


def test_jacobian_picks_reverse_for_wide_and_forward_for_tall(monkeypatch):
    import autodiffsource.higher as higher

    used = []
    for name in ("jacfwd", "jacrev"):
        real = getattr(higher, name)
        monkeypatch.setattr(higher, name, lambda f, argnums=0, _real=real, _name=name: (used.append(_name), _real(f, argnums))[1])
    higher.jacobian(tall)(np.array([0.4, -0.8]))
    higher.jacobian(wide)(np.linspace(-1.0, 1.0, 6))
    assert used == ["jacfwd", "jacrev"]


def test_jacobians_of_several_arguments():
    def f(a, b):
        return a * np.sum(b) + np.sin(a)

    a, b = np.array([0.2, 0.7]), np.array([1.0, -2.0, 0.5])
    ja, jb = ad.jacfwd(f, argnums=(0, 1))(a, b)
    ra, rb = ad.jacrev(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ja, numeric_jacobian(lambda t: f(t, b), a), rtol=1e-6)
    np.testing.assert_allclose(jb, numeric_jacobian(lambda t: f(a, t), b), rtol=1e-6)
    np.testing.assert_allclose(ra, ja, rtol=1e-12)
    np.testing.assert_allclose(rb, jb, rtol=1e-12)


# ---- array libraries --------------------------------------------------------------------------------------

def namespaced(x, w):
    xp = array_namespace(x, w)
    h = xp.tanh(x * w)
    s = xp.sum(h * h) + xp.max(x)
    for _ in range(3):
        s = s * 0.5 + xp.mean(xp.exp(-h))
    return s


@pytest.mark.parametrize("library", ["torch", "array_api_strict", "jax.numpy"])
def test_jvp_and_hvp_on_other_array_libraries(library):
    lib = pytest.importorskip(library)
    convert = (lambda a: lib.tensor(a, dtype=lib.float64)) if library == "torch" else lib.asarray
    x, w, v = np.array([0.3, -0.5, 0.8]), np.array([1.0, 2.0, -1.0]), np.array([1.0, 0.5, -0.3])
    value, slope = ad.jvp(namespaced, (convert(x), convert(w)), (convert(v), None))
    expected = _directional_difference(namespaced, [x, w], [v, None])[0]
    assert float(value) == pytest.approx(float(namespaced(x, w)), rel=1e-12)
    assert float(slope) == pytest.approx(float(expected), rel=1e-6)
    if library == "torch":  # second order on a foreign library: the same code differentiated again
        got = ad.hvp(namespaced)(convert(x), convert(w), convert(v))
        np.testing.assert_allclose(np.asarray(got), ad.hvp(namespaced)(x, w, v), rtol=1e-12)
