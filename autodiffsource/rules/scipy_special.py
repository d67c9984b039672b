"""Rules for :mod:`scipy.special`; registered once SciPy's special module is imported.

Rules are keyed by SciPy's functions and compute through ``backend.special``, which dispatches each call
to the array library of its arguments (SciPy for NumPy and Python numbers, ``torch.special``,
``jax.scipy.special``...), so one rule serves every library. Functions with axis keywords (logsumexp,
softmax, log_softmax) call SciPy directly. Integer orders (``polygamma``'s n) are static.

Importing SciPy takes about a third of a second, so ``import autodiffsource`` does not: while
``scipy.special`` is not imported this module only defers itself (``registry.defer``), and the registry
runs it again, rules and all, at the first lookup after anything imports ``scipy.special`` (a function
can only call SciPy once it is imported, so no lookup can miss a rule).
"""

import math
import sys

from numpy import sinc as _numpy_sinc

from .registry import defer, nondiff, rule

if "scipy.special" in sys.modules:
    from scipy import special as scipy_special  # the primals rules are keyed by
else:
    scipy_special = None
    defer("scipy.special", __name__)

try:
    from ..backend import special  # the same functions for every array library (torch.special, jax.scipy...)
except ImportError:  # a checkout without the backend layer: SciPy's own functions
    special = scipy_special
from ..runtime import expand_reduced, sign_of, unbroadcast
from .support import (exp_any, indicator, log1p_any, log_any, partial_without_closed_form, safe_divide,
                      sinc_derivative)

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_LOG_PI = math.log(math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_2PI = 1.0 / (2.0 * math.pi)

if scipy_special is not None:

    # ---- error function and normal distribution ------------------------------------------------------

    @rule(scipy_special.erf)
    def δerf(x):
        y = special.erf(x)
        def erf_pullback(dy):
            return (dy * _TWO_OVER_SQRT_PI * xp.exp(-x * x),)
        return y, erf_pullback

    @rule(scipy_special.erfc)
    def δerfc(x):
        y = special.erfc(x)
        def erfc_pullback(dy):
            return (-dy * _TWO_OVER_SQRT_PI * xp.exp(-x * x),)
        return y, erfc_pullback

    @rule(scipy_special.erfinv)
    def δerfinv(x):
        y = special.erfinv(x)
        def erfinv_pullback(dy):
            return (dy * _SQRT_PI_OVER_TWO * xp.exp(y * y),)
        return y, erfinv_pullback

    @rule(scipy_special.erfcinv)
    def δerfcinv(x):
        y = special.erfcinv(x)
        def erfcinv_pullback(dy):
            return (-dy * _SQRT_PI_OVER_TWO * xp.exp(y * y),)
        return y, erfcinv_pullback

    @rule(scipy_special.ndtr)
    def δndtr(x):
        y = special.ndtr(x)
        def ndtr_pullback(dy):
            return (dy * _INV_SQRT_2PI * xp.exp(-0.5 * x * x),)
        return y, ndtr_pullback

    @rule(scipy_special.log_ndtr)
    def δlog_ndtr(x):
        # d/dx log Phi(x) = phi(x) / Phi(x), computed in log space so that it stays finite far left.
        y = special.log_ndtr(x)
        def log_ndtr_pullback(dy):
            return (dy * _INV_SQRT_2PI * xp.exp(-0.5 * x * x - y),)
        return y, log_ndtr_pullback

    @rule(scipy_special.ndtri)
    def δndtri(x):
        y = special.ndtri(x)
        def ndtri_pullback(dy):
            return (dy / (_INV_SQRT_2PI * xp.exp(-0.5 * y * y)),)
        return y, ndtri_pullback

    @rule(scipy_special.erfcx)
    def δerfcx(x):
        # exp(x^2) erfc(x): d/dx = 2 x erfcx(x) - 2 / sqrt(pi), in terms of the value (no overflow of exp(x^2)).
        y = special.erfcx(x)
        def erfcx_pullback(dy):
            return (dy * (2.0 * x * y - _TWO_OVER_SQRT_PI),)
        return y, erfcx_pullback

    @rule(scipy_special.dawsn)
    def δdawsn(x):
        # Dawson's integral F(x) = exp(-x^2) int_0^x exp(t^2) dt: F' = 1 - 2 x F.
        y = special.dawsn(x)
        def dawsn_pullback(dy):
            return (dy * (1.0 - 2.0 * x * y),)
        return y, dawsn_pullback

    @rule(scipy_special.owens_t)
    def δowens_t(h, a):
        # T(h, a) = 1/(2 pi) int_0^a exp(-h^2 (1 + t^2) / 2) / (1 + t^2) dt: d/da is the integrand at a;
        # d/dh = -phi(h) erf(a h / sqrt(2)) / 2, phi the standard normal density.
        y = special.owens_t(h, a)
        def owens_t_pullback(dy):
            density = _INV_SQRT_2PI * exp_any(-0.5 * h * h)
            return (unbroadcast(-dy * 0.5 * density * special.erf(a * h * _INV_SQRT_2), h),
                    unbroadcast(dy * _INV_2PI * xp.exp(-0.5 * h * h * (1.0 + a * a)) / (1.0 + a * a), a))
        return y, owens_t_pullback

    # ---- gamma family --------------------------------------------------------------------------------

    @rule(scipy_special.gamma)
    def δgamma(x):
        y = special.gamma(x)
        def gamma_pullback(dy):
            return (dy * y * special.digamma(x),)
        return y, gamma_pullback

    @rule(scipy_special.gammaln)
    def δgammaln(x):
        y = special.gammaln(x)
        def gammaln_pullback(dy):
            return (dy * special.digamma(x),)
        return y, gammaln_pullback

    @rule(scipy_special.digamma, scipy_special.psi)
    def δdigamma(x):
        y = special.digamma(x)
        def digamma_pullback(dy):
            return (dy * scipy_special.polygamma(1, x),)
        return y, digamma_pullback

    @rule(scipy_special.polygamma, static=("n",))
    def δpolygamma(n, x):
        y = scipy_special.polygamma(n, x)
        def polygamma_pullback(dy):
            return None, dy * scipy_special.polygamma(n + 1, x)
        return y, polygamma_pullback

    @rule(scipy_special.betaln)
    def δbetaln(a, b):
        y = special.betaln(a, b)
        def betaln_pullback(dy):
            both = special.digamma(a + b)
            return unbroadcast(dy * (special.digamma(a) - both), a), unbroadcast(dy * (special.digamma(b) - both), b)
        return y, betaln_pullback

    @rule(scipy_special.beta)
    def δbeta(a, b):
        y = scipy_special.beta(a, b)
        def beta_pullback(dy):
            both = special.digamma(a + b)
            return unbroadcast(dy * y * (special.digamma(a) - both), a), unbroadcast(dy * y * (special.digamma(b) - both), b)
        return y, beta_pullback

    @rule(scipy_special.poch)
    def δpoch(z, m):
        # Gamma(z + m) / Gamma(z): d/dz = y (digamma(z + m) - digamma(z)), d/dm = y digamma(z + m)
        y = special.poch(z, m)
        def poch_pullback(dy):
            both = special.digamma(z + m)
            return unbroadcast(dy * y * (both - special.digamma(z)), z), unbroadcast(dy * y * both, m)
        return y, poch_pullback

    @rule(scipy_special.binom)
    def δbinom(n, k):
        # Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1)), real n and k, through digamma; SciPy's integer-k
        # formula gives the same smooth function's values.
        y = special.binom(n, k)
        def binom_pullback(dy):
            rest = special.digamma(n - k + 1.0)
            return (unbroadcast(dy * y * (special.digamma(n + 1.0) - rest), n),
                    unbroadcast(dy * y * (rest - special.digamma(k + 1.0)), k))
        return y, binom_pullback

    # ---- exponential integrals, zeta, dilogarithm ----------------------------------------------------

    @rule(scipy_special.exp1)
    def δexp1(x):
        # E1(x) = int_x^inf e^-t / t dt
        y = special.exp1(x)
        def exp1_pullback(dy):
            return (-dy * xp.exp(-x) / x,)
        return y, exp1_pullback

    @rule(scipy_special.expi)
    def δexpi(x):
        # Ei(x) = -E1(-x), d/dx = e^x / x (x != 0)
        y = special.expi(x)
        def expi_pullback(dy):
            return (dy * xp.exp(x) / x,)
        return y, expi_pullback

    @rule(scipy_special.expn, static=("n",))
    def δexpn(n, x):
        # E_n(x) = int_1^inf e^(-x t) / t^n dt: d/dx = -E_(n-1)(x), with E_0(x) = e^-x / x written out (SciPy's
        # expn(0, x), whose own partial would ask for E_-1, which SciPy gives as NaN) and E_0' = -e^-x (x + 1) / x^2.
        y = special.expn(n, x)
        def expn_pullback(dy):
            return None, -dy * (special.expn(n - 1, x) if n > 1 else
                                (xp.exp(-x) / x if n == 1 else xp.exp(-x) * (x + 1.0) / (x * x)))
        return y, expn_pullback

    @rule(scipy_special.zeta)
    def δzeta(x, q=None):
        # Hurwitz zeta sum_k (k + q)^-x (Riemann's for q None): d/dq = -x zeta(x + 1, q); the partial in the
        # exponent x has no closed form and is refused.
        y = special.zeta(x) if q is None else special.zeta(x, q)
        def zeta_pullback(dy):
            return (partial_without_closed_form("scipy.special.zeta", "x"),
                    unbroadcast(-dy * x * special.zeta(x + 1.0, q), q))
        return y, zeta_pullback

    @rule(scipy_special.spence)
    def δspence(z):
        # spence(z) = int_1^z log(t) / (1 - t) dt: d/dz = log(z) / (1 - z), -1 at z = 1 (the limit)
        y = special.spence(z)
        def spence_pullback(dy):
            return (-dy * (safe_divide(log_any(z), z - 1.0) + indicator(z == 1.0, z)),)
        return y, spence_pullback

    # ---- distribution functions with a shape parameter: in x only ------------------------------------
    # d/dx is the distribution's density; the derivative in the shape parameter (df, a) has no closed form,
    # and its partial is a call that raises MissingRuleError naming the function and the parameter. Generated
    # code reaches that call only where the shape parameter is differentiated (support.py's
    # partial_without_closed_form): a constant df or a passes.

    @rule(scipy_special.stdtr)
    def δstdtr(df, t):
        # Student's t cdf; its density is exp(gammaln((df + 1) / 2) - gammaln(df / 2) - log(df pi) / 2
        # - (df + 1) / 2 log1p(t^2 / df)), in logs so that no factor overflows for large df. log(df) is
        # xlogy(1, df) (the same number): a dispatched function, where xp.log refuses a Python float on torch.
        y = special.stdtr(df, t)
        def stdtr_pullback(dy):
            log_density = (special.gammaln((df + 1.0) / 2.0) - special.gammaln(df / 2.0)
                           - 0.5 * (special.xlogy(1.0, df) + _LOG_PI) - (df + 1.0) / 2.0 * xp.log1p(t * t / df))
            return partial_without_closed_form("scipy.special.stdtr", "df"), unbroadcast(dy * xp.exp(log_density), t)
        return y, stdtr_pullback

    @rule(scipy_special.gammainc)
    def δgammainc(a, x):
        # the regularized lower incomplete gamma function; d/dx is the gamma density x^(a-1) e^(-x) / Gamma(a)
        y = special.gammainc(a, x)
        def gammainc_pullback(dy):
            density = xp.exp(special.xlogy(a - 1.0, x) - x - special.gammaln(a))
            return partial_without_closed_form("scipy.special.gammainc", "a"), unbroadcast(dy * density, x)
        return y, gammainc_pullback

    @rule(scipy_special.gammaincc)
    def δgammaincc(a, x):
        # 1 - gammainc(a, x): d/dx is minus the gamma density
        y = special.gammaincc(a, x)
        def gammaincc_pullback(dy):
            density = xp.exp(special.xlogy(a - 1.0, x) - x - special.gammaln(a))
            return partial_without_closed_form("scipy.special.gammaincc", "a"), unbroadcast(-dy * density, x)
        return y, gammaincc_pullback

    @rule(scipy_special.betainc)
    def δbetainc(a, b, x):
        # the regularized incomplete beta function; d/dx is the beta density x^(a-1) (1-x)^(b-1) / B(a, b)
        y = special.betainc(a, b, x)
        def betainc_pullback(dy):
            density = xp.exp(special.xlog1py(b - 1.0, -x) + special.xlogy(a - 1.0, x) - special.betaln(a, b))
            return (partial_without_closed_form("scipy.special.betainc", "a"),
                    partial_without_closed_form("scipy.special.betainc", "b"), unbroadcast(dy * density, x))
        return y, betainc_pullback

    @rule(scipy_special.betaincc)
    def δbetaincc(a, b, x):
        # 1 - betainc(a, b, x): d/dx is minus the beta density
        y = special.betaincc(a, b, x)
        def betaincc_pullback(dy):
            density = xp.exp(special.xlog1py(b - 1.0, -x) + special.xlogy(a - 1.0, x) - special.betaln(a, b))
            return (partial_without_closed_form("scipy.special.betaincc", "a"),
                    partial_without_closed_form("scipy.special.betaincc", "b"), unbroadcast(-dy * density, x))
        return y, betaincc_pullback
    # ---- exponential and logarithm ------------------------------------------------------------------
    # SciPy's own expm1 and log1p (not NumPy's: different objects, with complex support).

    @rule(scipy_special.expm1)
    def δspecial_expm1(x):
        y = special.expm1(x)
        def expm1_pullback(dy):
            return (dy * (y + 1.0),)
        return y, expm1_pullback

    @rule(scipy_special.log1p)
    def δspecial_log1p(x):
        y = special.log1p(x)
        def log1p_pullback(dy):
            return (dy / (1.0 + x),)
        return y, log1p_pullback

    # ---- logistic, entropy ---------------------------------------------------------------------------

    @rule(scipy_special.expit)
    def δexpit(x):
        y = special.expit(x)
        def expit_pullback(dy):
            return (dy * y * (1 - y),)
        return y, expit_pullback

    @rule(getattr(scipy_special, "softplus", None))
    def δsoftplus(x):
        # log(1 + exp(x)); its derivative is expit(x).
        y = special.softplus(x)
        def softplus_pullback(dy):
            return (dy * special.expit(x),)
        return y, softplus_pullback

    @rule(scipy_special.logit)
    def δlogit(x):
        y = special.logit(x)
        def logit_pullback(dy):
            return (dy / (x * (1 - x)),)
        return y, logit_pullback

    @rule(scipy_special.log_expit)
    def δlog_expit(x):
        # d/dx log(expit(x)) = 1 - expit(x) = expit(-x).
        y = special.log_expit(x)
        def log_expit_pullback(dy):
            return (dy * special.expit(-x),)
        return y, log_expit_pullback

    @rule(scipy_special.xlogy)
    def δxlogy(x, y):
        # x log y; d/dy = x / y, taken as 0 where x == 0 (xlogy(0, 0) = 0 is the reason to use it).
        z = special.xlogy(x, y)
        def xlogy_pullback(dz):
            return unbroadcast(dz * xp.log(y), x), unbroadcast(dz * safe_divide(x, y), y)
        return z, xlogy_pullback

    @rule(scipy_special.xlog1py)
    def δxlog1py(x, y):
        z = special.xlog1py(x, y)
        def xlog1py_pullback(dz):
            return unbroadcast(dz * xp.log1p(y), x), unbroadcast(dz * safe_divide(x, 1 + y), y)
        return z, xlog1py_pullback

    @rule(scipy_special.entr)
    def δentr(x):
        # -x log x; the derivative -(log x + 1) is -inf at 0, as the function's slope is.
        y = special.entr(x)
        def entr_pullback(dy):
            return (-dy * (xp.log(x) + 1),)
        return y, entr_pullback

    @rule(scipy_special.rel_entr)
    def δrel_entr(x, y):
        # x log(x / y) for x, y > 0, 0 where x == 0 <= y. d/dx = log(x / y) + 1, -inf at x = 0 (the slope
        # there, as entr's); d/dy = -x / y, exactly 0 where x == 0 (the function is 0 along x = 0).
        # log(x / y) as SciPy computes it; x / y is an array where either is (xp.log refuses a Python float
        # on torch).
        z = special.rel_entr(x, y)
        def rel_entr_pullback(dz):
            return (unbroadcast(dz * (xp.log(x / y) + 1.0), x),
                    unbroadcast(-dz * safe_divide(x, y), y))
        return z, rel_entr_pullback

    @rule(scipy_special.kl_div)
    def δkl_div(x, y):
        # x log(x / y) - x + y: d/dx = log(x / y), -inf at x = 0 (as rel_entr's); d/dy = 1 - x / y.
        z = special.kl_div(x, y)
        def kl_div_pullback(dz):
            return (unbroadcast(dz * xp.log(x / y), x),
                    unbroadcast(dz * (1.0 - safe_divide(x, y)), y))
        return z, kl_div_pullback

    # ---- robust losses -------------------------------------------------------------------------------

    @rule(scipy_special.huber)
    def δhuber(delta, r):
        # r^2 / 2 where |r| <= delta, delta (|r| - delta / 2) beyond. Both partials are continuous (only
        # the second derivative jumps at |r| = delta): d/dr = r inside, delta sign(r) beyond; d/ddelta = 0
        # inside, |r| - delta beyond. (delta < 0 gives inf, and partials with no meaning.)
        y = special.huber(delta, r)
        def huber_pullback(dy):
            sign = sign_of(r)
            inside = indicator(r * sign <= delta, r)
            return (unbroadcast(dy * (1.0 - inside) * (r * sign - delta), delta),
                    unbroadcast(dy * (inside * r + (1.0 - inside) * delta * sign), r))
        return y, huber_pullback

    @rule(scipy_special.pseudo_huber)
    def δpseudo_huber(delta, r):
        # delta^2 (sqrt(1 + (r / delta)^2) - 1) = delta (h - delta) with h = sqrt(delta^2 + r^2), for
        # delta > 0: d/dr = delta r / h; d/ddelta = (h - delta)^2 / h = r^4 / ((h + delta)^2 h), written
        # without the difference that cancels for small r. SciPy's value is 0 on delta == 0 (the limit):
        # there d/dr = 0 and d/ddelta = |r| (the one-sided slope); both are 0 at delta == r == 0.
        y = special.pseudo_huber(delta, r)
        def pseudo_huber_pullback(dy):
            h = (delta * delta + r * r) ** 0.5
            r2 = r * r
            return (unbroadcast(dy * safe_divide(r2 * r2, (h + delta) * (h + delta) * h), delta),
                    unbroadcast(dy * safe_divide(delta * r, h), r))
        return y, pseudo_huber_pullback

    # ---- Box-Cox transformations, in x (or y) and lmbda -----------------------------------------------
    # boxcox(x, l) = (x^l - 1) / l, log(x) at l = 0: d/dx = x^(l-1); d/dl = (x^l log x - y) / l, which is
    # (log x)^2 g(t) with t = l log x and g(t) = (t e^t - expm1(t)) / t^2 -> 1/2 at t = 0. The difference
    # cancels for small t, so there g's series is used (terms to t^5: both forms are good to ~1e-12 at the
    # switch |t| = 0.01). inv_boxcox(y, l) = (1 + l y)^(1/l), exp(y) at l = 0, in the same way with u = l y
    # and h(u) = (u / (1 + u) - log1p(u)) / u^2 -> -1/2. The 1p forms are the same with 1 + x for x and
    # inv_boxcox1p = inv_boxcox - 1. log_any and log1p_any: x may be a Python number beside a tensor lmbda.

    @rule(scipy_special.boxcox)
    def δboxcox(x, lmbda):
        y = special.boxcox(x, lmbda)
        def boxcox_pullback(dy):
            log_x = log_any(x)
            t = lmbda * log_x
            small = indicator(t * sign_of(t) < 0.01, t)
            ts = small * t
            series = 0.5 + ts * (1.0 / 3.0 + ts * (0.125 + ts * (1.0 / 30.0 + ts * (1.0 / 144.0 + ts / 840.0))))
            direct = safe_divide(x ** lmbda * log_x - y, lmbda)
            return (unbroadcast(dy * x ** (lmbda - 1.0), x),
                    unbroadcast(dy * (small * log_x * log_x * series + (1.0 - small) * direct), lmbda))
        return y, boxcox_pullback

    @rule(scipy_special.boxcox1p)
    def δboxcox1p(x, lmbda):
        y = special.boxcox1p(x, lmbda)
        def boxcox1p_pullback(dy):
            log_x = log1p_any(x)
            t = lmbda * log_x
            small = indicator(t * sign_of(t) < 0.01, t)
            ts = small * t
            series = 0.5 + ts * (1.0 / 3.0 + ts * (0.125 + ts * (1.0 / 30.0 + ts * (1.0 / 144.0 + ts / 840.0))))
            direct = safe_divide((1.0 + x) ** lmbda * log_x - y, lmbda)
            return (unbroadcast(dy * (1.0 + x) ** (lmbda - 1.0), x),
                    unbroadcast(dy * (small * log_x * log_x * series + (1.0 - small) * direct), lmbda))
        return y, boxcox1p_pullback

    @rule(scipy_special.inv_boxcox)
    def δinv_boxcox(y, lmbda):
        x = special.inv_boxcox(y, lmbda)
        def inv_boxcox_pullback(dx):
            u = lmbda * y
            small = indicator(u * sign_of(u) < 0.01, u)
            us = small * u
            series = -0.5 + us * (2.0 / 3.0 + us * (-0.75 + us * (0.8 + us * (-5.0 / 6.0 + us * 6.0 / 7.0))))
            direct = safe_divide(u / (1.0 + u) - log1p_any(u), u * u)
            return (unbroadcast(dx * x / (1.0 + u), y),
                    unbroadcast(dx * x * y * y * (small * series + (1.0 - small) * direct), lmbda))
        return x, inv_boxcox_pullback

    @rule(scipy_special.inv_boxcox1p)
    def δinv_boxcox1p(y, lmbda):
        x = special.inv_boxcox1p(y, lmbda)
        def inv_boxcox1p_pullback(dx):
            u = lmbda * y
            small = indicator(u * sign_of(u) < 0.01, u)
            us = small * u
            series = -0.5 + us * (2.0 / 3.0 + us * (-0.75 + us * (0.8 + us * (-5.0 / 6.0 + us * 6.0 / 7.0))))
            direct = safe_divide(u / (1.0 + u) - log1p_any(u), u * u)
            return (unbroadcast(dx * (x + 1.0) / (1.0 + u), y),
                    unbroadcast(dx * (x + 1.0) * y * y * (small * series + (1.0 - small) * direct), lmbda))
        return x, inv_boxcox1p_pullback

    # ---- Bessel --------------------------------------------------------------------------------------

    @rule(scipy_special.i0)
    def δi0(x):
        y = special.i0(x)
        def i0_pullback(dy):
            return (dy * special.i1(x),)
        return y, i0_pullback

    @rule(scipy_special.i1)
    def δi1(x):
        # I1'(x) = I0(x) - I1(x) / x, which tends to 1/2 at x = 0.
        y = special.i1(x)
        def i1_pullback(dy):
            return (dy * (special.i0(x) - safe_divide(y, x) - 0.5 * (x == 0)),)
        return y, i1_pullback

    @rule(scipy_special.i0e)
    def δi0e(x):
        # i0e = exp(-|x|) I0(x): derivative i1e(x) - sign(x) i0e(x).
        y = special.i0e(x)
        def i0e_pullback(dy):
            return (dy * (special.i1e(x) - xp.sign(x) * y),)
        return y, i0e_pullback

    @rule(scipy_special.i1e)
    def δi1e(x):
        # i1e = exp(-|x|) I1(x): i1e' = i0e - i1e (sign(x) + 1/x), which tends to 1/2 at x = 0 (where i1e / x
        # tends to 1/2 and i0e is 1).
        y = special.i1e(x)
        def i1e_pullback(dy):
            return (dy * (special.i0e(x) - sign_of(x) * y - safe_divide(y, x) - 0.5 * indicator(x == 0.0, x)),)
        return y, i1e_pullback

    # SciPy's array-API mode has its own sinc (NumPy's np.sinc otherwise, whose rule is rules/numpy_ufuncs.py's)
    _special_sinc = getattr(scipy_special, "sinc", None)

    @rule(None if _special_sinc is _numpy_sinc else _special_sinc)
    def δspecial_sinc(x):
        # sin(pi x) / (pi x); its derivative is 0 at x = 0, where the formula would give 0/0.
        y = special.sinc(x)
        def sinc_pullback(dy):
            return (dy * sinc_derivative(x),)
        return y, sinc_pullback

    # ---- reductions over an axis ---------------------------------------------------------------------

    @rule(scipy_special.logsumexp, static=("axis", "keepdims", "return_sign"))
    def δlogsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
        # d/da = b exp(a - lse), d/db = exp(a - lse); b=None means weights of 1.
        y = scipy_special.logsumexp(a, axis=axis, b=b, keepdims=keepdims)
        def logsumexp_pullback(dy):
            weights = xp.exp(a - expand_reduced(y, a, axis, keepdims))
            g = expand_reduced(dy, a, axis, keepdims) * weights
            da = g if b is None else g * b
            return unbroadcast(da, a), None, unbroadcast(g, b), None, None
        return y, logsumexp_pullback

    @rule(scipy_special.softmax, static=("axis",))
    def δsoftmax(x, axis=None):
        y = scipy_special.softmax(x, axis=axis)
        def softmax_pullback(dy):
            return y * (dy - xp.sum(dy * y, axis=axis, keepdims=True)), None
        return y, softmax_pullback

    @rule(scipy_special.log_softmax, static=("axis",))
    def δlog_softmax(x, axis=None):
        y = scipy_special.log_softmax(x, axis=axis)
        def log_softmax_pullback(dy):
            return dy - xp.exp(y) * xp.sum(dy, axis=axis, keepdims=True), None
        return y, log_softmax_pullback

    # ---- constants -----------------------------------------------------------------------------------

    nondiff(scipy_special.factorial, scipy_special.factorial2, scipy_special.comb, scipy_special.perm)
    nondiff(partial_without_closed_form)  # raises; its arguments are constant strings

import numpy as xp  # noqa: E402  (stand-in for direct calls; inlined code binds the run-time namespace)
