"""Second order: ``hvp``, ``hessian``, ``grad(grad(f))`` against central differences of the first-order
gradient (``autodiffsource.grad``, itself checked against central differences of ``f`` elsewhere).

Cases: one per rule of the rule table (made scalar by a fixed random weighting; several outputs are
weighted and summed), every case of the rules whose forward forms are written out (rules/forward_forms.py,
rules/forward_linalg.py), each both through ``hvp`` and explicitly as reverse over forward (the gradient of
the generated jvp code), the control-flow corpus (if/for/while, early returns, containers, helpers,
methods), Hessian symmetry, and examples/newton.py run in a fresh interpreter. No rule is refused.
"""

from __future__ import annotations

import copy
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import autodiffsource as ad
from autodiffsource.higher import derivative_function, jvp_function
from autodiffsource.rules.registry import REGISTRY
from corpus import CORPUS, augmented, branches, dataflow, exits, loops, mixed  # noqa: F401  (registers the corpus)
from corpus import differentiated

sys.path.insert(0, str(pathlib.Path(__file__).parent / "rules"))
from rule_harness import USER_GLOBALS, draw_inputs, make_function  # noqa: E402
from rule_specs import CASES  # noqa: E402


def _gradient_difference(f, args, argnum, v, h=1e-5):
    """d/dt grad_argnum f(args with args[argnum] + t v) at t = 0, by central differences of ad.grad."""
    g = ad.grad(f, argnum)

    def at(s):
        moved = list(copy.deepcopy(args))
        moved[argnum] = moved[argnum] + s * h * v
        return np.asarray(g(*moved), dtype=float)

    return (at(1.0) - at(-1.0)) / (2 * h)


def _direction(x, seed=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=np.shape(x)) if np.shape(x) else float(rng.normal())


# ---- the rule table, one case per rule, made scalar ----------------------------------------------------------

def _one_case_per_rule():
    """For each rule, its case with the largest first input (a 0-d std is a kink everywhere)."""
    best: dict[int, object] = {}
    for c in CASES:
        for r in map(_rule_of, c.covers):
            if r is not None and (id(r) not in best or _size(c) > _size(best[id(r)])):
                best[id(r)] = c
    unique = {c.id: c for c in best.values()}
    return sorted(unique.values(), key=lambda c: c.id)


def _size(c) -> int:
    shape = c.args[0][1]
    return int(np.prod(shape)) if isinstance(shape, tuple) else 0


def _rule_of(key):
    if isinstance(key, str):
        return REGISTRY.by_method.get(key.split(":")[-1])
    return REGISTRY.rule_for(key)


RULE_CASES = _one_case_per_rule()


def _scalar_version(c):
    """``sum(W * f(args))`` with fixed random weights W (for several outputs, a sum over the outputs
    that are floats); None when the first argument is not a float to differentiate in."""
    f = make_function(c.body, c.params, USER_GLOBALS)
    args = draw_inputs(c, 7)
    out = f(*copy.deepcopy(args))
    if not (isinstance(args[0], (float, np.ndarray)) and np.asarray(args[0]).dtype.kind == "f"):
        return None, None
    outs = out if isinstance(out, tuple) else (out,)
    rng = np.random.default_rng(1)
    weights = [rng.uniform(0.5, 1.5, size=np.shape(o)) for o in outs]
    weights = [w if np.shape(w) else float(w) for w in weights]
    floats = [k for k, o in enumerate(outs) if np.asarray(o).dtype.kind == "f"]
    params = ", ".join(c.params)
    if isinstance(out, tuple):
        names = ", ".join(f"_out{k}" for k in range(len(outs)))
        terms = " + ".join(f"np.sum(_out{k} * _W[{k}])" for k in floats)
        body = f"{names} = _inner({params})\nreturn {terms}"
    else:
        body = f"return np.sum(_inner({params}) * _W[0])"
    namespace = dict(USER_GLOBALS, _inner=f, _W=weights)
    return make_function(body, c.params, namespace), args


def _reverse_over_forward(g, params, args, v):
    """H v as the gradient of the generated jvp code's slope ``x -> ∇g(x)·v`` (the forward forms of the
    rules, differentiated again by the reverse engine), whatever ``hvp`` itself does."""
    slope = make_function(f"_value, _slope = _jvp(_v, {', '.join(params)})\nreturn _slope", params,
                          {"_jvp": jvp_function(g, 0), "_v": v})
    return ad.grad(slope, 0)(*copy.deepcopy(args))


def _check_hvp_of_case(c):
    g, args = _scalar_version(c)
    if g is None:
        return  # a constant first argument: nothing to take a Hessian in
    v = _direction(args[0])
    expected = _gradient_difference(g, args, 0, v)
    for how, got in (("hvp", ad.hvp(g, 0)(*copy.deepcopy(args), v)),
                     ("reverse over forward", _reverse_over_forward(g, c.params, args, v))):
        assert np.shape(got) == np.shape(args[0]), f"{c.id}: {how}"
        np.testing.assert_allclose(np.asarray(got, dtype=float), expected, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{c.id}: {how}")


@pytest.mark.parametrize("c", RULE_CASES, ids=[c.id for c in RULE_CASES])
def test_hvp_of_rule_matches_differences_of_the_gradient(c):
    # Every rule has second derivatives: a refusal (MissingRuleError) fails here.
    _check_hvp_of_case(c)


# The rules whose jvp used to be one pullback call per output element (first order only) and now have
# forward forms (rules/forward_forms.py, written out or elementwise): every case of each, not one.
_FORMS_WRITTEN_OUT = {
    "δaverage", "δbuiltin_max", "δbuiltin_min", "δcholesky", "δclip", "δcorrelate", "δcumprod", "δeigh",
    "δeigvalsh", "δinterp", "δmath_dist", "δmath_modf", "δmath_prod", "δmatrix_norm", "δmatrix_power",
    "δmedian", "δmulti_dot", "δnanmean", "δpad", "δpinv", "δpolyval", "δprod", "δslogdet", "δsvdvals",
    "δtrapezoid", "δpolygamma", "δsoftplus", "δsinc", "δi0e", "δi1", "δastype", "δitem", "δnorm",
    "δdigamma", "δgamma", "δbetaln", "δxlogy", "δxlog1py", "δentr", "δlogit", "δexpit", "δerfinv", "δndtri",
}
FORM_CASES = [c for c in CASES if any(getattr(_rule_of(k), "delta", None) is not None
                                      and _rule_of(k).delta.__name__ in _FORMS_WRITTEN_OUT for k in c.covers)]


@pytest.mark.parametrize("c", FORM_CASES, ids=[c.id for c in FORM_CASES])
def test_hvp_of_every_case_of_the_new_forward_forms(c):
    _check_hvp_of_case(c)


# ---- control flow -----------------------------------------------------------------------------------------

def _scalar_corpus():
    cases = []
    for fn, argsets in CORPUS:
        for args in argsets[:1]:
            positions = [i for i, a in enumerate(args) if differentiated(a)]
            if not positions:
                continue
            out = fn(*copy.deepcopy(args))
            if isinstance(out, tuple) or np.ndim(out) != 0:
                continue
            cases.append((fn, args, positions[0]))
    return cases


SCALAR_CORPUS = _scalar_corpus()


@pytest.mark.parametrize("fn, args, argnum", SCALAR_CORPUS,
                         ids=[f"{fn.__name__}-{i}" for i, (fn, _, _) in enumerate(SCALAR_CORPUS)])
def test_hvp_through_control_flow(fn, args, argnum):
    v = _direction(args[argnum], seed=2)
    got = ad.hvp(fn, argnum)(*copy.deepcopy(args), v)
    expected = _gradient_difference(fn, args, argnum, v)
    np.testing.assert_allclose(np.asarray(got, dtype=float), expected, rtol=1e-4, atol=1e-5, err_msg=fn.__name__)


# ---- Hessians ----------------------------------------------------------------------------------------------

def branchy(x, c):
    total = 0.0
    i = 0
    while i < x.shape[0] - 1:
        if x[i] > 0:
            total = total + np.exp(x[i] * x[i + 1]) * c
        else:
            total = total + np.sin(x[i]) * x[i + 1] ** 3
        i = i + 1
    return total + np.sum(np.tanh(x) ** 2)


def softmax_loss(W, x):
    z = W @ x
    p = np.exp(z - np.max(z))
    p = p / np.sum(p)
    return -np.log(p[0]) + 0.1 * np.sum(W * W)


@pytest.mark.parametrize("f, args", [
    (branchy, (np.array([0.3, -0.6, 0.9, 0.2, -1.1]), 0.7)),
    (softmax_loss, (np.random.default_rng(0).normal(size=(3, 4)), np.array([0.5, -1.0, 2.0, 0.1]))),
])
def test_hessian_is_symmetric_and_matches_differences_of_the_gradient(f, args):
    x = args[0]
    H = ad.hessian(f)(*args)
    assert H.shape == x.shape + x.shape
    flat = H.reshape(x.size, x.size)
    np.testing.assert_allclose(flat, flat.T, rtol=1e-10, atol=1e-12)
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = 1.0
        expected = _gradient_difference(f, args, 0, e.reshape(x.shape))
        np.testing.assert_allclose(H.reshape(x.size, *x.shape)[k], expected, rtol=1e-4, atol=1e-6)


def test_hessian_of_a_scalar_argument_and_of_another_argument():
    def f(a, b):
        return a ** 3 * np.sum(b * b) + math.sin(a)

    b = np.array([1.0, 2.0])
    assert ad.hessian(f)(0.5, b) == pytest.approx(6 * 0.5 * 5.0 - math.sin(0.5))
    np.testing.assert_allclose(ad.hessian(f, argnums=1)(0.5, b), 2 * 0.125 * np.eye(2))


def test_hvp_refuses_vector_outputs():
    with pytest.raises(ValueError, match="scalar"):
        ad.hvp(lambda_free_vector)(np.ones(3), np.ones(3))


def lambda_free_vector(x):
    return x * 2.0


# ---- grad(grad(f)) ---------------------------------------------------------------------------------------------

def wiggle(x, k):
    y = 0.0
    for j in range(k):
        if j % 2 == 0:
            y = y + math.sin(x * j) * x
        else:
            y = y - math.exp(-x * x / (j + 1))
    return y


@pytest.mark.parametrize("x", [0.7, -1.3])
def test_grad_of_grad_is_the_second_derivative(x):
    second = ad.grad(ad.grad(wiggle))(x, 4)
    g = ad.grad(wiggle)
    h = 1e-5
    assert second == pytest.approx((g(x + h, 4) - g(x - h, 4)) / (2 * h), rel=1e-6, abs=1e-8)


def test_derivative_function_is_readable_source():
    d = derivative_function(wiggle)
    assert "jvp_wiggle_const2(_unit_tangent(x), x, k)" in d.__source__
    with pytest.raises(ValueError, match="scalar argument"):
        d(np.array([1.0, 2.0]), 3)


# ---- the example ----------------------------------------------------------------------------------------------

def test_newton_example_reaches_the_minimum():
    examples = pathlib.Path(__file__).resolve().parent.parent / "examples"
    done = subprocess.run([sys.executable, str(examples / "newton.py")], cwd=examples, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reached all ones" in done.stdout
