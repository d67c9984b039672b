"""The rules of rules/scipy_special.py added for SciPy's expm1, log1p, rel_entr, kl_div, huber, pseudo_huber,
the four Box-Cox transformations, erfcx, dawsn, owens_t, i1e, sinc, poch, binom, betainc, exp1, expi, expn,
zeta and spence: beyond the rule table's generic checks (tests/rules/rule_specs.py: central differences,
float32, jvp, hvp), the value on NumPy is SciPy's own to the bit, the points where the table's domains stay
away from are stated and checked (rel_entr and kl_div at x = 0, huber at |r| = delta, pseudo_huber at
delta = 0, Box-Cox at lmbda = 0 and next to it, i1e at 0, spence at 1), the partials without a closed form
are refused naming their parameter, and torch and JAX arrays get NumPy's partials in their own type.
"""

import os

os.environ.setdefault("JAX_ENABLE_X64", "1")

import numpy as np
import pytest
from scipy import special

from autodiffsource import grad, vjp
from autodiffsource.errors import MissingRuleError
from finite_differences import numeric_partial


def call(name, *args):
    return getattr(special, name)(*args)


# ---- user functions (module level: autodiffsource reads their source) -----------------------------------

def expm1_sum(x):
    return np.sum(special.expm1(x))


def log1p_sum(x):
    return np.sum(special.log1p(x))


def rel_entr_sum(x, y):
    return np.sum(special.rel_entr(x, y))


def kl_div_sum(x, y):
    return np.sum(special.kl_div(x, y))


def huber_sum(delta, r):
    return np.sum(special.huber(delta, r))


def pseudo_huber_sum(delta, r):
    return np.sum(special.pseudo_huber(delta, r))


def boxcox_sum(x, lmbda):
    return np.sum(special.boxcox(x, lmbda))


def boxcox1p_sum(x, lmbda):
    return np.sum(special.boxcox1p(x, lmbda))


def inv_boxcox_sum(y, lmbda):
    return np.sum(special.inv_boxcox(y, lmbda))


def inv_boxcox1p_sum(y, lmbda):
    return np.sum(special.inv_boxcox1p(y, lmbda))


def erfcx_sum(x):
    return np.sum(special.erfcx(x))


def dawsn_sum(x):
    return np.sum(special.dawsn(x))


def i1e_sum(x):
    return np.sum(special.i1e(x))


def exp1_sum(x):
    return np.sum(special.exp1(x))


def expi_sum(x):
    return np.sum(special.expi(x))


def expn2_sum(x):
    return np.sum(special.expn(2, x))


def spence_sum(x):
    return np.sum(special.spence(x))


def owens_t_sum(h, a):
    return np.sum(special.owens_t(h, a))


def poch_sum(z, m):
    return np.sum(special.poch(z, m))


def binom_sum(n, k):
    return np.sum(special.binom(n, k))


def betainc_sum(a, b, x):
    return np.sum(special.betainc(a, b, x))


def betainc_in_x(x):
    return np.sum(special.betainc(1.5, 2.5, x))


def zeta_sum(x, q):
    return np.sum(special.zeta(x, q))


def zeta_in_q(q):
    return np.sum(special.zeta(3.0, q))


def riemann_zeta(x):
    return np.sum(special.zeta(x))


# (function, SciPy name, arguments): points inside each domain, away from the kinks checked below
rng = np.random.default_rng(7)
X = rng.uniform(0.3, 2.5, 6)
R = np.array([-2.1, -0.7, -0.1, 0.4, 1.3, 2.6])
UNARY = [(expm1_sum, "expm1", R), (log1p_sum, "log1p", X), (erfcx_sum, "erfcx", R), (dawsn_sum, "dawsn", R),
         (i1e_sum, "i1e", R), (exp1_sum, "exp1", X), (expi_sum, "expi", R), (spence_sum, "spence", X)]
BINARY = [(rel_entr_sum, "rel_entr", X, X[::-1]), (kl_div_sum, "kl_div", X, X[::-1]),
          (huber_sum, "huber", np.full(6, 1.0), R), (pseudo_huber_sum, "pseudo_huber", X, R),
          (boxcox_sum, "boxcox", X, np.array([-1.5, -0.3, -1e-4, 0.0, 2e-3, 0.8])),
          (boxcox1p_sum, "boxcox1p", X - 0.2, np.array([-1.5, -0.3, -1e-4, 0.0, 2e-3, 0.8])),
          (inv_boxcox_sum, "inv_boxcox", R / 3, np.array([-1.2, -0.3, -1e-4, 0.0, 2e-3, 0.8])),
          (inv_boxcox1p_sum, "inv_boxcox1p", R / 3, np.array([-1.2, -0.3, -1e-4, 0.0, 2e-3, 0.8])),
          (owens_t_sum, "owens_t", R, X - 1.0), (poch_sum, "poch", X, X[::-1]), (binom_sum, "binom", X + 2.0, X / 3)]


def _value(f, *args):
    out, _ = vjp(f, *args)
    return out


@pytest.mark.parametrize("f, name, x", UNARY, ids=[u[1] for u in UNARY])
def test_unary_value_is_scipys_and_partial_matches_differences(f, name, x):
    out, pullback = vjp(f, x)
    assert out == np.sum(call(name, x))  # SciPy's own values, summed the same way: bit for bit
    (g,) = pullback(1.0)
    np.testing.assert_allclose(g, numeric_partial(f, [x], 0, [1.0]), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("f, name, x, y", BINARY, ids=[b[1] for b in BINARY])
def test_binary_value_is_scipys_and_partials_match_differences(f, name, x, y):
    out, pullback = vjp(f, x, y)
    assert out == np.sum(call(name, x, y))
    gx, gy = pullback(1.0)
    np.testing.assert_allclose(gx, numeric_partial(f, [x, y], 0, [1.0]), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gy, numeric_partial(f, [x, y], 1, [1.0]), rtol=1e-7, atol=1e-9)


# ---- the points the rule table keeps away from ----------------------------------------------------------

@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_relative_entropies_at_x_zero():
    # rel_entr(0, y) = 0 and kl_div(0, y) = y for y >= 0: their partial in y is exact there (0 and 1); in x
    # it is the one-sided slope, log(0 / y) (+ 1) = -inf, as entr's at 0.
    x, y = np.array([0.0, 0.0, 0.5]), np.array([0.7, 0.0, 2.0])
    gx, gy = grad(rel_entr_sum, argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gy, [0.0, 0.0, -0.25])
    assert gx[0] == -np.inf and gx[2] == np.log(0.25) + 1.0
    gx, gy = grad(kl_div_sum, argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gy, [1.0, 1.0, 0.75])
    assert gx[0] == -np.inf and gx[2] == np.log(0.25)
    # the usual use, a fixed distribution p against a differentiated q: finite partials
    assert np.all(np.isfinite(grad(rel_entr_sum, argnums=1)(x, y + 0.1)))


def test_huber_partials_are_continuous_at_the_switch():
    # |r| = delta: r^2 / 2 and delta (|r| - delta / 2) meet with equal slopes (only the curvature jumps)
    delta, r = np.array([1.0, 1.0, 0.5]), np.array([1.0, -1.0, 0.5])
    gd, gr = grad(huber_sum, argnums=(0, 1))(delta, r)
    np.testing.assert_array_equal(gr, [1.0, -1.0, 0.5])
    np.testing.assert_array_equal(gd, [0.0, 0.0, 0.0])
    for side in (1 - 1e-9, 1 + 1e-9):
        gd_side, gr_side = grad(huber_sum, argnums=(0, 1))(delta, r * side)
        np.testing.assert_allclose(gr_side, gr, atol=1e-8)
        np.testing.assert_allclose(gd_side, gd, atol=1e-8)


def test_pseudo_huber_at_delta_zero_and_r_zero():
    # SciPy's value is 0 on delta == 0 (the limit of delta (sqrt(delta^2 + r^2) - delta)): d/dr = 0 there and
    # d/ddelta = |r| (the one-sided slope); at r == 0 both partials are 0.
    delta, r = np.array([0.0, 0.0, 0.0, 1.5]), np.array([2.0, -3.0, 0.0, 0.0])
    gd, gr = grad(pseudo_huber_sum, argnums=(0, 1))(delta, r)
    np.testing.assert_array_equal(gr, [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gd, [2.0, 3.0, 0.0, 0.0])
    h = 1e-7
    assert abs((special.pseudo_huber(h, 2.0) - special.pseudo_huber(0.0, 2.0)) / h - 2.0) < 1e-6


@pytest.mark.parametrize("lmbda", [0.0, 1e-300, 1e-12, -3e-7, 5e-3, -9.9e-3, 1.01e-2])
def test_box_cox_in_lmbda_at_and_next_to_zero(lmbda):
    # At lmbda = 0 the partials in lmbda are the limits: (log x)^2 / 2 for boxcox, -exp(y) y^2 / 2 for
    # inv_boxcox; near 0 a series replaces the difference that cancels (to about 1e-12 relative either way).
    x, y = np.array([0.4, 1.0, 3.0]), np.array([-0.6, 0.0, 0.9])
    expected = {boxcox_sum: np.log(x) ** 2 / 2, boxcox1p_sum: np.log1p(x) ** 2 / 2,
                inv_boxcox_sum: -np.exp(y) * y ** 2 / 2, inv_boxcox1p_sum: -np.exp(y) * y ** 2 / 2}
    for f, first in expected.items():
        if f is inv_boxcox1p_sum and 0 < abs(lmbda) < 1e-154:
            continue  # SciPy's inv_boxcox1p(y, lmbda) is y itself where |lmbda y| < 1e-154, not expm1(y)
        arg = y if "inv" in f.__name__ else x
        g = grad(f, argnums=1)(arg, np.full(3, lmbda))
        if abs(lmbda) < 1e-6:
            np.testing.assert_allclose(g, first, rtol=1e-5, atol=1e-15, err_msg=f.__name__)
        else:
            fd = numeric_partial(f, [arg, np.full(3, lmbda)], 1, [1.0], step=1e-5)
            np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-12, err_msg=f.__name__)
        assert np.all(np.isfinite(grad(f, argnums=0)(arg, np.full(3, lmbda))))


def test_i1e_at_zero_and_spence_at_one():
    np.testing.assert_array_equal(grad(i1e_sum)(np.array([0.0])), [0.5])
    assert grad(i1e_sum)(0.0) == 0.5
    np.testing.assert_array_equal(grad(spence_sum)(np.array([1.0])), [-1.0])
    np.testing.assert_allclose(grad(spence_sum)(np.array([1.0 + 1e-9])), [-1.0], rtol=1e-8)


def expn0_sum(x):
    return np.sum(special.expn(0, x))


def expn1_sum(x):
    return np.sum(special.expn(1, x))


def test_expn_orders():
    # d/dx E_n = -E_(n-1); E_0 = exp(-x) / x is written out for n = 1 and differentiated for n = 0
    x = np.array([0.3, 1.0, 2.5])
    np.testing.assert_allclose(grad(expn2_sum)(x), -special.expn(1, x), rtol=1e-14)
    np.testing.assert_allclose(grad(expn1_sum)(x), -np.exp(-x) / x, rtol=1e-14)
    np.testing.assert_allclose(grad(expn0_sum)(x), -np.exp(-x) * (x + 1) / x ** 2, rtol=1e-14)
    for f in (expn0_sum, expn1_sum, expn2_sum):
        np.testing.assert_allclose(grad(f)(x), numeric_partial(f, [x], 0, [1.0]), rtol=1e-7)


@pytest.mark.skipif(special.sinc is np.sinc, reason="scipy.special.sinc is NumPy's np.sinc here (its own rule)")
def test_scipy_special_sinc_in_array_api_mode():
    def f(x):
        return np.sum(special.sinc(x))

    x = np.array([-1.3, 0.0, 0.4, 2.0])
    g = grad(f)(x)
    assert g[1] == 0.0
    np.testing.assert_allclose(g, numeric_partial(f, [x], 0, [1.0]), rtol=1e-7, atol=1e-9)


# ---- refusals: the partials without a closed form ----------------------------------------------------------

def test_betainc_is_differentiable_in_x_and_refuses_a_and_b():
    x = np.array([0.1, 0.5, 0.8])
    np.testing.assert_allclose(grad(betainc_in_x)(x), numeric_partial(betainc_in_x, [x], 0, [1.0]), rtol=1e-7)
    # a and b constants (arguments not differentiated): the partial in x only
    b = np.array([2.0, 2.5, 4.0])
    g = grad(betainc_sum, argnums=2)(1.5, b, x)
    np.testing.assert_allclose(g, numeric_partial(betainc_sum, [1.5, b, x], 2, [1.0]), rtol=1e-7)
    for argnum, parameter in ((0, "a"), (1, "b")):
        with pytest.raises(MissingRuleError, match=rf"`scipy\.special\.betainc`.*`{parameter}`"):
            grad(betainc_sum, argnums=argnum)(1.5, 2.5, x)


def test_zeta_is_differentiable_in_q_and_refuses_the_exponent():
    q = np.array([0.5, 1.0, 3.0])
    np.testing.assert_allclose(grad(zeta_in_q)(q), -3.0 * special.zeta(4.0, q), rtol=1e-14)
    np.testing.assert_allclose(grad(zeta_in_q)(q), numeric_partial(zeta_in_q, [q], 0, [1.0]), rtol=1e-7)
    with pytest.raises(MissingRuleError, match=r"`scipy\.special\.zeta`.*`x`"):
        grad(zeta_sum, argnums=0)(np.array([2.0, 3.0]), 1.5)
    with pytest.raises(MissingRuleError, match=r"`x`"):
        grad(riemann_zeta)(np.array([2.0, 3.0]))
    assert _value(riemann_zeta, np.array([2.0, 3.0])) == np.sum(special.zeta(np.array([2.0, 3.0])))


# ---- other array libraries ---------------------------------------------------------------------------------

def everything(x, y):
    # every new rule once, in one scalar; x in (0.3, 0.9), y in (0.3, 0.9)
    return (np.sum(special.expm1(x) + special.log1p(y) + special.rel_entr(x, y) + special.kl_div(x, y))
            + np.sum(special.huber(0.5, x - y) + special.pseudo_huber(y, x))
            + np.sum(special.boxcox(x, y - 0.5) + special.boxcox1p(x, y) + special.inv_boxcox(x, y - 0.5)
                     + special.inv_boxcox1p(x, y))
            + np.sum(special.erfcx(x) + special.i1e(x - y) + special.exp1(x) + special.expi(y))
            + np.sum(special.poch(x, y) + special.binom(x + 2.0, y) + special.spence(x) + special.zeta(3.0, y))
            + np.sum(special.betainc(1.5, 2.5, x) + special.expn(2, y)))


def everything_jax(x, y):
    return everything(x, y) + np.sum(special.dawsn(x) + special.owens_t(x, y))


@pytest.mark.skipif(os.environ.get("SCIPY_ARRAY_API") != "1",
                    reason="SciPy's array-API mode computes the functions torch and JAX lack (backend.py)")
@pytest.mark.parametrize("library", ["torch", "jax"])
def test_other_libraries_get_numpys_partials(library):
    x0, y0 = np.array([0.3, 0.55, 0.9]), np.array([0.8, 0.4, 0.35])
    f = everything_jax if library == "jax" else everything
    expected = grad(f, argnums=(0, 1))(x0, y0)
    for g0, i in zip(expected, (0, 1)):
        np.testing.assert_allclose(g0, numeric_partial(f, [x0, y0], i, [1.0]), rtol=1e-6)
    asarray = pytest.importorskip("jax.numpy" if library == "jax" else library).asarray
    got = grad(f, argnums=(0, 1))(asarray(x0), asarray(y0))
    for g, want in zip(got, expected):
        assert type(g).__module__.partition(".")[0] in (library, "jaxlib"), type(g)
        np.testing.assert_allclose(np.asarray(g), want, rtol=1e-12, atol=1e-13)
