"""Rules for distributions of :mod:`scipy.stats`; registered once SciPy's stats module is imported. Without a
shape parameter: ``norm``, ``expon``, ``laplace``, ``logistic`` and ``cauchy``, each's ``logpdf``, ``pdf``,
``cdf``, ``logcdf``, ``sf`` and ``logsf`` in ``x``, ``loc`` and ``scale``. With one: ``t`` (``df``; the same
six methods) and ``gamma`` (``a``; ``logpdf``, ``pdf``, ``cdf``, ``sf``), whose densities are differentiable
in the shape too (through digamma), and whose distribution functions only in ``x``, ``loc`` and ``scale``:
their derivative in the shape has no closed form, and asking for it raises :class:`MissingRuleError` naming
the method and the parameter (``support.partial_without_closed_form``, evaluated only where that parameter
is differentiated). ``t``'s log density writes SciPy's ``log(poch(df/2, 1/2))`` as
``gammaln((df + 1) / 2) - gammaln(df / 2)`` (an ulp or two from SciPy's for moderate df); ``gamma``'s
``logcdf`` and ``logsf`` (SciPy's switch at the median ``gammaincinv(a, 1/2)``) have no rule yet.

``lognorm`` (shape ``s``): the six methods in ``x``, ``s``, ``loc`` and ``scale``; with ``u = log(z) / s`` its
distribution functions are ``norm``'s at ``u`` (SciPy's ``ndtr(u)``, ``log_ndtr(u)``...), so their partial in
``s`` has a closed form too. Its values are SciPy's to the bit, at and left of ``loc`` (an open support) SciPy's
constants with partials 0.

``beta`` (shapes ``a`` and ``b``): ``logpdf`` and ``pdf`` in ``x``, ``a``, ``b``, ``loc`` and ``scale``
(digamma for the shapes, as ``gamma``'s), ``cdf`` and ``sf`` (``betainc``, ``betaincc``) in ``x``, ``loc`` and
``scale``, their shape partials refused as ``gamma``'s. The values are SciPy's to the bit (its ``_logpdf``
formula; for ``pdf`` Boost's density, which SciPy calls, on NumPy, and ``exp(logpdf)`` on another library's
arrays), off the support [0, 1] SciPy's constants with partials 0; at its ends the values are SciPy's (0,
finite or infinite with the shapes) and every partial is 0 there but ``logpdf``'s ``-1 / scale``. Like
``gamma``'s and ``t``'s, ``lognorm``'s and ``beta``'s rules take valid shapes and scale (positive): SciPy's nan
for an invalid one is not reproduced.

Discrete: ``poisson``'s and ``binom``'s ``logpmf`` and ``pmf``, differentiable in the continuous parameter
(``mu``, ``p``) only. The counts ``k``, ``binom``'s ``n`` and ``loc`` are integers: asking for a partial in one
raises :class:`MissingRuleError` naming the method and the parameter (``support.partial_in_a_count``, evaluated
only where that argument is differentiated). The values are SciPy's to the bit on NumPy (its ``xlogy(k, mu) -
gammaln(k + 1) - mu``, its ``combiln + xlogy(k, p) + xlog1py(n - k, -p)``, and for ``binom.pmf`` Boost's pmf
that SciPy calls, ``scipy.special._ufuncs._binom_pmf``; on another library's arrays, which have no Boost,
``exp`` of the log mass: its rounding, grown by ``exp``, leaves a relative 1e-13 of Boost's for n up to 100 and
5e-12 up to 2000), off the support (a negative count, one not whole, one above ``n``) SciPy's constants ``-inf``
and 0 with partials 0, and nan where a parameter is invalid, as SciPy's.
The partial in ``mu`` is ``k / mu - 1`` (``logpmf``; ``-1`` where ``k = 0``, mu = 0 included, as
``xlogy(0, 0) = 0``) and ``pmf(k - 1) - pmf(k)`` (``pmf``: finite at ``mu = 0``); in ``p``, ``k / p - (n - k) /
(1 - p)`` and ``n (B(k - 1; n - 1, p) - B(k; n - 1, p))``.

``multivariate_normal``'s ``logpdf`` and ``pdf`` take ``x`` of shape ``(k,)`` (one point) or ``(n, k)`` (n
points: a result of shape ``(n,)``, squeezed as SciPy squeezes it), ``mean`` of shape ``(k,)`` or None, and
``cov`` a positive definite ``(k, k)`` matrix, a 1-D diagonal or a number (a variance), and are differentiable
in all three, on NumPy arrays. The value is SciPy's own call (its eigh-based log-determinant and Mahalanobis
term, to the bit); the partials are those of what SciPy computes: it factors a 2-D ``cov`` with
``eigh(cov, lower=True)``, which reads the lower triangle as the symmetric matrix S it stands for, so with
r = x - mean the partial in S, ``-(S^-1 - S^-1 r r^T S^-1) / 2`` summed over the points, is folded onto that
triangle (an entry below the diagonal stands for two of S) and the upper triangle gets 0.
``allow_singular=True`` raises :class:`MissingRuleError` naming it: SciPy's pseudo-determinant of a singular
cov has no such simple partial.

``scipy.stats.norm`` is one object and these are its methods (a new bound method at each access), so the
rules are keyed by the object and the method (``registry.rule``). Each computes as SciPy does, on the
standardized ``z = (x - loc) / scale`` (float64 at least, as SciPy's), with SciPy's formulas in SciPy's
order (its generic ``logcdf`` and ``logsf`` switch from ``log(cdf)`` to ``log1p(-sf)`` at the median, and
so do these), through ``xp`` and ``backend.special`` (``ndtr``, ``log_ndtr``, ``expit``...), so the value
is SciPy's to the last bit on NumPy and the same rule serves torch, JAX and the other array libraries.
Where SciPy calls ``scipy.special.expm1`` or ``log1p`` (``expon.cdf``, ``logistic.logpdf``), these call
the array library's, which JAX's special module lacks: the same to a unit in the last place.
A method's derivative in ``z``, ``h``, gives every partial: ``dx = dy * h / scale``, ``dloc = -dx`` and
``dscale = -dx * z``, and the densities, divided by ``scale``, add ``-dy * y / scale`` (``pdf``) or
``-dy / scale`` (``logpdf``) to ``dscale``. Off ``expon``'s support (``x < loc``) its values are SciPy's
constants and every partial is 0. Each rule writes its three partials out (one expression per parameter),
so that the code generator inlines it (``transform/inline.py``), where ``xp`` is bound. Like SciPy's
statistical functions these take positional ``loc`` and ``scale`` too (``norm.pdf(x, 0.0, 2.0)``);
SciPy's other distributions have no rule yet.

Importing ``scipy.stats`` takes most of a second, so ``import autodiffsource`` does not: as for
:mod:`scipy.special` (``rules/scipy_special.py``) this module defers itself until something imports it.
"""

import math
import sys

import numpy as np

from .registry import defer, nondiff, rule

if "scipy.stats" in sys.modules:
    import scipy.special._ufuncs as _scipy_ufuncs  # Boost's pmf and pdf, which SciPy's binom and beta call
    from scipy import stats as scipy_stats  # the object whose methods the rules are keyed by
else:
    scipy_stats = None
    defer("scipy.stats", __name__)

from ..backend import special
from ..errors import MissingRuleError
from ..runtime import unbroadcast
from ..runtime.common import _device, _xp
from .support import indicator, partial_in_a_count, partial_without_closed_form
from .support_linalg import gaussian_log_density_partials

_LOG_SQRT_2PI = math.log(math.sqrt(2.0 * math.pi))  # (SciPy's _norm_pdf_logC, to the bit)
_LOG_PI = math.log(math.pi)  # (SciPy's _LOG_PI)
# Where SciPy's generic logcdf and logsf switch from log(cdf) to log1p(-sf): the median, its _ppf(0.5)
_EXPON_MEDIAN = -math.log1p(-0.5)


if scipy_stats is not None:
    norm = scipy_stats.norm

    # ---- helpers the rules compute with, with rules of their own (jvp code made of the rules' bodies is
    # differentiated again for second order) ------------------------------------------------------------

    def standardized(x, loc, scale):
        """``(x - loc) / scale`` as SciPy computes it: in x's dtype, then, for NumPy values, cast to float64
        at least (``rv_continuous`` promotes: a float32 x gives float64 results)."""
        z = (x - loc) / scale
        if type(z) is np.ndarray or isinstance(z, np.generic):
            return np.asarray(z, dtype=np.promote_types(z.dtype, np.float64))[()]
        return z

    @rule(standardized)
    def δstandardized(x, loc, scale):
        z = standardized(x, loc, scale)
        def standardized_pullback(dz):
            return unbroadcast(dz / scale, x), unbroadcast(-dz / scale, loc), unbroadcast(-dz * z / scale, scale)
        return z, standardized_pullback

    def log_of(scale):
        """log(scale) in scale's own library; NumPy's for a Python number, as SciPy takes it (and a torch
        namespace has no log of a Python float)."""
        # (a Python float of a number: array-api-strict refuses NumPy's float64 beside its arrays)
        return float(np.log(scale)) if type(scale) in (int, float) else _xp(scale).log(scale)

    @rule(log_of)
    def δlog_of(scale):
        y = log_of(scale)
        def log_of_pullback(dy):
            return (dy / scale,)
        return y, log_of_pullback

    def of_numbers(function, *arguments):
        """``special.<function>(*arguments)`` (the name), a Python float where every argument is a Python number
        (as :func:`log_of`): SciPy gives NumPy's float64 there, which array-api-strict refuses beside its
        arrays. For the log-densities' constant terms, computed by helpers that have rules of their own."""
        value = getattr(special, function)(*arguments)
        return float(value) if all(type(a) in (int, float) for a in arguments) else value

    # ---- the methods of scipy.stats.norm -------------------------------------------------------------

    @rule(norm.logpdf)
    def δnorm_logpdf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = -z ** 2 / 2.0 - _LOG_SQRT_2PI - log_of(scale)
        def norm_logpdf_pullback(dy):
            dx = -dy * z / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z - dy / scale, scale)
        return y, norm_logpdf_pullback

    @rule(norm.pdf)
    def δnorm_pdf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = xp.exp(-z ** 2 / 2.0) / math.sqrt(2.0 * math.pi) / scale
        def norm_pdf_pullback(dy):
            dx = -dy * y * z / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z - dy * y / scale, scale)
        return y, norm_pdf_pullback

    @rule(norm.cdf)
    def δnorm_cdf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = special.ndtr(z)
        def norm_cdf_pullback(dy):
            dx = dy * xp.exp(-z ** 2 / 2.0 - _LOG_SQRT_2PI) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, norm_cdf_pullback

    @rule(norm.sf)
    def δnorm_sf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = special.ndtr(-z)
        def norm_sf_pullback(dy):
            dx = -dy * xp.exp(-z ** 2 / 2.0 - _LOG_SQRT_2PI) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, norm_sf_pullback

    @rule(norm.logcdf)
    def δnorm_logcdf(x, loc=0.0, scale=1.0):
        # d/dz log Phi(z) = phi(z) / Phi(z), in log space so that it stays finite far left (as log_ndtr's)
        z = standardized(x, loc, scale)
        y = special.log_ndtr(z)
        def norm_logcdf_pullback(dy):
            dx = dy * xp.exp(-z ** 2 / 2.0 - _LOG_SQRT_2PI - y) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, norm_logcdf_pullback

    @rule(norm.logsf)
    def δnorm_logsf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = special.log_ndtr(-z)
        def norm_logsf_pullback(dy):
            dx = -dy * xp.exp(-z ** 2 / 2.0 - _LOG_SQRT_2PI - y) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, norm_logsf_pullback

    # ---- location-scale families without a shape parameter -------------------------------------------
    # The same structure as norm's: on z = (x - loc) / scale, a method's derivative in z, h, gives
    # dx = dy * h / scale, dloc = -dx and dscale = -dx * z (densities add their 1 / scale term). Outside a
    # support (expon's z < 0) the values are SciPy's constants (-inf, 0 or 1) and every partial is 0. Every
    # branch a `where` leaves out is computed from finite values: its partial is multiplied by a zero
    # cotangent when the rule's forward code is differentiated again (hvp), and 0 * inf would be NaN.

    expon, laplace, logistic, cauchy = (scipy_stats.expon, scipy_stats.laplace, scipy_stats.logistic,
                                        scipy_stats.cauchy)

    @rule(expon.logpdf)
    def δexpon_logpdf(x, loc=0.0, scale=1.0):
        # -z - log(scale) on the support z >= 0, -inf (a constant: no partial) left of it
        z = standardized(x, loc, scale)
        y = xp.where(z < 0.0, -math.inf, -z) - log_of(scale)
        def expon_logpdf_pullback(dy):
            dx = -dy / scale * indicator(z >= 0.0, z)
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(dx - dx * z, scale)
        return y, expon_logpdf_pullback

    @rule(expon.pdf)
    def δexpon_pdf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = xp.exp(xp.where(z < 0.0, -math.inf, -z)) / scale
        def expon_pdf_pullback(dy):
            dx = -dy * y / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z - dy * y / scale, scale)
        return y, expon_pdf_pullback

    @rule(expon.cdf)
    def δexpon_cdf(x, loc=0.0, scale=1.0):
        # t = -max(z, 0) is log sf: cdf = -expm1(t) (SciPy's -expm1(-z)), 0 left of the support
        z = standardized(x, loc, scale)
        y = -xp.expm1(xp.where(z <= 0.0, 0.0, -z))
        def expon_cdf_pullback(dy):
            dx = dy * xp.exp(xp.where(z < 0.0, -math.inf, -z)) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, expon_cdf_pullback

    @rule(expon.sf)
    def δexpon_sf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = xp.exp(xp.where(z <= 0.0, 0.0, -z))
        def expon_sf_pullback(dy):
            dx = -dy * xp.exp(xp.where(z < 0.0, -math.inf, -z)) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, expon_sf_pullback

    @rule(expon.logcdf)
    def δexpon_logcdf(x, loc=0.0, scale=1.0):
        # SciPy's generic logcdf: log(cdf) below the median log 2, log1p(-sf) above; -inf for z <= 0.
        # d/dz log(1 - exp(-z)) = 1 / expm1(z), taken at a positive z only.
        z = standardized(x, loc, scale)
        inside = xp.where(z <= 0.0, 1.0, z)  # (z on the open support, any positive number off it: no log(0))
        y = xp.where(z <= 0.0, -math.inf, xp.where(z < _EXPON_MEDIAN, xp.log(-xp.expm1(-inside)),
                                                    xp.log1p(-xp.exp(-inside))))
        def expon_logcdf_pullback(dy):
            dx = dy / xp.expm1(inside) / scale * indicator(z > 0.0, z)
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, expon_logcdf_pullback

    @rule(expon.logsf)
    def δexpon_logsf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = xp.where(z <= 0.0, 0.0, -z)
        def expon_logsf_pullback(dy):
            dx = -dy / scale * indicator(z > 0.0, z)
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, expon_logsf_pullback

    @rule(laplace.logpdf)
    def δlaplace_logpdf(x, loc=0.0, scale=1.0):
        # SciPy has no _logpdf for laplace: the log of its pdf, 0.5 * exp(-|z|); d/dz = -sign(z)
        z = standardized(x, loc, scale)
        y = xp.log(0.5 * xp.exp(-xp.abs(z))) - log_of(scale)
        def laplace_logpdf_pullback(dy):
            dx = -dy * xp.sign(z) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z - dy / scale, scale)
        return y, laplace_logpdf_pullback

    @rule(laplace.pdf)
    def δlaplace_pdf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = 0.5 * xp.exp(-xp.abs(z)) / scale
        def laplace_pdf_pullback(dy):
            dx = -dy * y * xp.sign(z) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z - dy * y / scale, scale)
        return y, laplace_pdf_pullback

    # laplace's cdf and sf: SciPy's where(z > 0, 1 - 0.5 * exp(-z), 0.5 * exp(z)), written with the density
    # e = 0.5 * exp(-|z|) (the same numbers: -|z| is z for z <= 0), which overflows in neither branch.

    @rule(laplace.cdf)
    def δlaplace_cdf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        e = 0.5 * xp.exp(-xp.abs(z))
        y = xp.where(z > 0.0, 1.0 - e, e)
        def laplace_cdf_pullback(dy):
            dx = dy * e / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, laplace_cdf_pullback

    @rule(laplace.sf)
    def δlaplace_sf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        e = 0.5 * xp.exp(-xp.abs(z))
        y = xp.where(z < 0.0, 1.0 - e, e)
        def laplace_sf_pullback(dy):
            dx = -dy * e / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, laplace_sf_pullback

    @rule(laplace.logcdf)
    def δlaplace_logcdf(x, loc=0.0, scale=1.0):
        # SciPy's generic logcdf about the median 0: log(e) left of it, log1p(-e) right; d/dz is e / cdf:
        # 1 on the left, e / (1 - e) on the right (e <= 1/2: both finite everywhere)
        z = standardized(x, loc, scale)
        e = 0.5 * xp.exp(-xp.abs(z))
        y = xp.where(z < 0.0, xp.log(e), xp.log1p(-e))
        def laplace_logcdf_pullback(dy):
            dx = dy * xp.where(z < 0.0, 1.0, e / (1.0 - e)) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, laplace_logcdf_pullback

    @rule(laplace.logsf)
    def δlaplace_logsf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        e = 0.5 * xp.exp(-xp.abs(z))
        y = xp.where(z > 0.0, xp.log(e), xp.log1p(-e))
        def laplace_logsf_pullback(dy):
            dx = -dy * xp.where(z > 0.0, 1.0, e / (1.0 - e)) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, laplace_logsf_pullback

    @rule(logistic.logpdf)
    def δlogistic_logpdf(x, loc=0.0, scale=1.0):
        # SciPy's -|z| - 2 log1p(exp(-|z|)); d/dz = 1 - 2 expit(z) = -tanh(z / 2)
        z = standardized(x, loc, scale)
        y = -xp.abs(z) - 2.0 * xp.log1p(xp.exp(-xp.abs(z))) - log_of(scale)
        def logistic_logpdf_pullback(dy):
            dx = -dy * xp.tanh(z / 2.0) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z - dy / scale, scale)
        return y, logistic_logpdf_pullback

    @rule(logistic.pdf)
    def δlogistic_pdf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = xp.exp(-xp.abs(z) - 2.0 * xp.log1p(xp.exp(-xp.abs(z)))) / scale
        def logistic_pdf_pullback(dy):
            dx = -dy * y * xp.tanh(z / 2.0) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z - dy * y / scale, scale)
        return y, logistic_pdf_pullback

    # logistic's cdf is expit(z) and its density expit(z) * expit(-z): d/dz log expit(z) = expit(-z)

    @rule(logistic.cdf)
    def δlogistic_cdf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = special.expit(z)
        def logistic_cdf_pullback(dy):
            dx = dy * y * special.expit(-z) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, logistic_cdf_pullback

    @rule(logistic.sf)
    def δlogistic_sf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = special.expit(-z)
        def logistic_sf_pullback(dy):
            dx = -dy * y * special.expit(z) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, logistic_sf_pullback

    @rule(logistic.logcdf)
    def δlogistic_logcdf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = special.log_expit(z)
        def logistic_logcdf_pullback(dy):
            dx = dy * special.expit(-z) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, logistic_logcdf_pullback

    @rule(logistic.logsf)
    def δlogistic_logsf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = special.log_expit(-z)
        def logistic_logsf_pullback(dy):
            dx = -dy * special.expit(z) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, logistic_logsf_pullback

    @rule(cauchy.logpdf)
    def δcauchy_logpdf(x, loc=0.0, scale=1.0):
        # SciPy's two forms: -log(pi) - log1p(z^2) for |z| < 1, -log(pi) - (2 log|z| + log1p(1 / z^2))
        # beyond (no overflow of z^2), the latter taken at |z| >= 1 only; d/dz = -2 z / (1 + z^2)
        z = standardized(x, loc, scale)
        a = xp.abs(z)
        far = xp.where(a < 1.0, 1.0, a)
        y = xp.where(a < 1.0, -_LOG_PI - xp.log1p(a ** 2),
                     -_LOG_PI - (2.0 * xp.log(far) + xp.log1p((1.0 / far) ** 2))) - log_of(scale)
        def cauchy_logpdf_pullback(dy):
            dx = -dy * 2.0 * z / (1.0 + z * z) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z - dy / scale, scale)
        return y, cauchy_logpdf_pullback

    @rule(cauchy.pdf)
    def δcauchy_pdf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = 1.0 / math.pi / (1.0 + z * z) / scale
        def cauchy_pdf_pullback(dy):
            dx = -dy * y * 2.0 * z / (1.0 + z * z) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z - dy * y / scale, scale)
        return y, cauchy_pdf_pullback

    # cauchy's cdf is atan2(1, -z) / pi, its sf atan2(1, z) / pi, its density 1 / (pi (1 + z^2))

    @rule(cauchy.cdf)
    def δcauchy_cdf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = xp.atan2(1.0, -z) / math.pi
        def cauchy_cdf_pullback(dy):
            dx = dy / math.pi / (1.0 + z * z) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, cauchy_cdf_pullback

    @rule(cauchy.sf)
    def δcauchy_sf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = xp.atan2(1.0, z) / math.pi
        def cauchy_sf_pullback(dy):
            dx = -dy / math.pi / (1.0 + z * z) / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, cauchy_sf_pullback

    @rule(cauchy.logcdf)
    def δcauchy_logcdf(x, loc=0.0, scale=1.0):
        # SciPy's generic logcdf about the median 0: log(cdf) left of it, log1p(-sf) right; d/dz = density / cdf
        z = standardized(x, loc, scale)
        p = xp.atan2(1.0, -z) / math.pi
        y = xp.where(z < 0.0, xp.log(p), xp.log1p(-(xp.atan2(1.0, z) / math.pi)))
        def cauchy_logcdf_pullback(dy):
            dx = dy / math.pi / (1.0 + z * z) / p / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, cauchy_logcdf_pullback

    @rule(cauchy.logsf)
    def δcauchy_logsf(x, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        q = xp.atan2(1.0, z) / math.pi
        y = xp.where(z > 0.0, xp.log(q), xp.log1p(-(xp.atan2(1.0, -z) / math.pi)))
        def cauchy_logsf_pullback(dy):
            dx = -dy / math.pi / (1.0 + z * z) / q / scale
            return unbroadcast(dx, x), unbroadcast(-dx, loc), unbroadcast(-dx * z, scale)
        return y, cauchy_logsf_pullback

    # ---- distributions with a shape parameter: t (df) and gamma (a) -----------------------------------
    # The densities are differentiable in the shape parameter too (through digamma); the distribution
    # functions (cdf, sf, logcdf, logsf) only in x, loc and scale: their derivative in df or a has no closed
    # form, and its partial is support.partial_without_closed_form, which raises MissingRuleError naming the
    # method and the parameter. Generated code evaluates it only where that parameter is differentiated.

    t, gamma = scipy_stats.t, scipy_stats.gamma

    def t_log_density(z, df):
        """The log density of Student's t with ``df`` degrees of freedom at the standardized ``z``: SciPy's
        ``t._logpdf`` (``log(poch(df/2, 1/2)) - (log(df) + log(pi)) / 2 - (df + 1) / 2 log1p(z^2 / df)``) with
        ``log(poch(df/2, 1/2))`` written ``gammaln((df + 1) / 2) - gammaln(df / 2)``, which every array library
        has (torch has no ``poch``): the same to an ulp or two for moderate df (the difference of two
        large gammaln loses digits as df grows; at df = 1e6 about 1e-10 relative)."""
        xp_ = np if type(z) in (int, float) else _xp(z)
        return (of_numbers("gammaln", (df + 1.0) / 2.0) - of_numbers("gammaln", df / 2.0)
                - 0.5 * (log_of(df) + _LOG_PI)
                - (df + 1.0) / 2.0 * xp_.log1p(z * z / df))

    @rule(t_log_density)
    def δt_log_density(z, df):
        # d/dz = -(df + 1) z / (df + z^2); d/ddf = (digamma((df + 1) / 2) - digamma(df / 2) - 1 / df
        # - log1p(z^2 / df)) / 2 + (df + 1) z^2 / (2 df (df + z^2))
        y = t_log_density(z, df)
        def t_log_density_pullback(dy):
            ddf = dy * (0.5 * (special.digamma((df + 1.0) / 2.0) - special.digamma(df / 2.0) - 1.0 / df
                               - xp.log1p(z * z / df)) + 0.5 * (df + 1.0) * z * z / (df * (df + z * z)))
            return unbroadcast(-dy * (df + 1.0) * z / (df + z * z), z), unbroadcast(ddf, df)
        return y, t_log_density_pullback

    def gamma_log_density(z, a):
        """The log density of the gamma distribution of shape ``a`` at the standardized ``z >= 0``: SciPy's
        ``gamma._logpdf``, ``xlogy(a - 1, z) - z - gammaln(a)``, to the bit. (Callers handle ``z < 0``.)"""
        return special.xlogy(a - 1.0, z) - z - of_numbers("gammaln", a)

    @rule(gamma_log_density)
    def δgamma_log_density(z, a):
        # d/dz = (a - 1) / z - 1, d/da = log(z) - digamma(a): both for z > 0
        y = gamma_log_density(z, a)
        def gamma_log_density_pullback(dy):
            return unbroadcast(dy * ((a - 1.0) / z - 1.0), z), unbroadcast(dy * (xp.log(z) - special.digamma(a)), a)
        return y, gamma_log_density_pullback

    # Every t method is a function of z on the whole line. logpdf's z-derivative is
    # h = -(df + 1) z / (df + z^2), its df-derivative that of δt_log_density; pdf = exp(logpdf) multiplies them
    # by the density. cdf is stdtr(df, z) and sf stdtr(df, -z) (SciPy's _cdf and _sf), their z-derivative
    # +-exp(t_log_density); SciPy's generic logcdf and logsf switch at the median 0.

    @rule(t.logpdf)
    def δt_logpdf(x, df, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = t_log_density(z, df) - log_of(scale)
        def t_logpdf_pullback(dy):
            dx = -dy * (df + 1.0) * z / (df + z * z) / scale
            ddf = dy * (0.5 * (special.digamma((df + 1.0) / 2.0) - special.digamma(df / 2.0) - 1.0 / df
                               - xp.log1p(z * z / df)) + 0.5 * (df + 1.0) * z * z / (df * (df + z * z)))
            return (unbroadcast(dx, x), unbroadcast(ddf, df), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z - dy / scale, scale))
        return y, t_logpdf_pullback

    @rule(t.pdf)
    def δt_pdf(x, df, loc=0.0, scale=1.0):
        # SciPy's exp(_logpdf) / scale
        z = standardized(x, loc, scale)
        y = xp.exp(t_log_density(z, df)) / scale
        def t_pdf_pullback(dy):
            dx = -dy * y * (df + 1.0) * z / (df + z * z) / scale
            ddf = dy * y * (0.5 * (special.digamma((df + 1.0) / 2.0) - special.digamma(df / 2.0) - 1.0 / df
                                   - xp.log1p(z * z / df)) + 0.5 * (df + 1.0) * z * z / (df * (df + z * z)))
            return (unbroadcast(dx, x), unbroadcast(ddf, df), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z - dy * y / scale, scale))
        return y, t_pdf_pullback

    @rule(t.cdf)
    def δt_cdf(x, df, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = special.stdtr(df, z)
        def t_cdf_pullback(dy):
            dx = dy * xp.exp(t_log_density(z, df)) / scale
            return (unbroadcast(dx, x), partial_without_closed_form("scipy.stats.t.cdf", "df"), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z, scale))
        return y, t_cdf_pullback

    @rule(t.sf)
    def δt_sf(x, df, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = special.stdtr(df, -z)
        def t_sf_pullback(dy):
            dx = -dy * xp.exp(t_log_density(z, df)) / scale
            return (unbroadcast(dx, x), partial_without_closed_form("scipy.stats.t.sf", "df"), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z, scale))
        return y, t_sf_pullback

    @rule(t.logcdf)
    def δt_logcdf(x, df, loc=0.0, scale=1.0):
        # log(cdf) left of the median 0, log1p(-sf) right of it; d/dz = density / cdf = exp(log density - y)
        z = standardized(x, loc, scale)
        y = xp.where(z < 0.0, xp.log(special.stdtr(df, z)), xp.log1p(-special.stdtr(df, -z)))
        def t_logcdf_pullback(dy):
            dx = dy * xp.exp(t_log_density(z, df) - y) / scale
            return (unbroadcast(dx, x), partial_without_closed_form("scipy.stats.t.logcdf", "df"),
                    unbroadcast(-dx, loc), unbroadcast(-dx * z, scale))
        return y, t_logcdf_pullback

    @rule(t.logsf)
    def δt_logsf(x, df, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        y = xp.where(z > 0.0, xp.log(special.stdtr(df, -z)), xp.log1p(-special.stdtr(df, z)))
        def t_logsf_pullback(dy):
            dx = -dy * xp.exp(t_log_density(z, df) - y) / scale
            return (unbroadcast(dx, x), partial_without_closed_form("scipy.stats.t.logsf", "df"),
                    unbroadcast(-dx, loc), unbroadcast(-dx * z, scale))
        return y, t_logsf_pullback

    # gamma's support is z >= 0. Off it (x < loc) the values are SciPy's constants (logpdf -inf, pdf and cdf
    # 0, sf 1) and every partial is 0. `on` is z on the support and 1 off it, `inside` z on the open support
    # z > 0 and 1 elsewhere: every branch a `where` leaves out is computed from finite values, so that the
    # rule's forward code, differentiated again (hvp), multiplies no infinity by a zero cotangent. At the edge
    # z = 0 the density's partials are taken as 0 (its one-sided derivatives there may be infinite); the
    # distribution functions' x-partial there is the density SciPy gives at 0.

    @rule(gamma.logpdf)
    def δgamma_logpdf(x, a, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        on = xp.where(z < 0.0, 1.0, z)
        inside = xp.where(z > 0.0, z, 1.0)
        y = xp.where(z < 0.0, -math.inf, gamma_log_density(on, a)) - log_of(scale)
        def gamma_logpdf_pullback(dy):
            dx = dy * ((a - 1.0) / inside - 1.0) / scale * indicator(z > 0.0, z)
            da = dy * (xp.log(inside) - special.digamma(a)) * indicator(z > 0.0, z)
            return (unbroadcast(dx, x), unbroadcast(da, a), unbroadcast(-dx, loc),
                    # (-inf off the support: a constant)
                    unbroadcast(-dx * z - dy / scale * indicator(z >= 0.0, z), scale))
        return y, gamma_logpdf_pullback

    @rule(gamma.pdf)
    def δgamma_pdf(x, a, loc=0.0, scale=1.0):
        # SciPy's exp(_logpdf) / scale; 0 off the support (exp(-inf)), where y = 0 makes every partial 0
        z = standardized(x, loc, scale)
        on = xp.where(z < 0.0, 1.0, z)
        inside = xp.where(z > 0.0, z, 1.0)
        y = xp.exp(xp.where(z < 0.0, -math.inf, gamma_log_density(on, a))) / scale
        def gamma_pdf_pullback(dy):
            dx = dy * y * ((a - 1.0) / inside - 1.0) / scale * indicator(z > 0.0, z)
            da = dy * y * (xp.log(inside) - special.digamma(a)) * indicator(z > 0.0, z)
            return (unbroadcast(dx, x), unbroadcast(da, a), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z - dy * y / scale, scale))
        return y, gamma_pdf_pullback

    @rule(gamma.cdf)
    def δgamma_cdf(x, a, loc=0.0, scale=1.0):
        # gammainc(a, z) (SciPy's _cdf), 0 left of the support
        z = standardized(x, loc, scale)
        on = xp.where(z < 0.0, 1.0, z)
        y = xp.where(z < 0.0, 0.0, special.gammainc(a, on))
        def gamma_cdf_pullback(dy):
            dx = dy * xp.exp(gamma_log_density(on, a)) / scale * indicator(z >= 0.0, z)
            return (unbroadcast(dx, x), partial_without_closed_form("scipy.stats.gamma.cdf", "a"),
                    unbroadcast(-dx, loc), unbroadcast(-dx * z, scale))
        return y, gamma_cdf_pullback

    @rule(gamma.sf)
    def δgamma_sf(x, a, loc=0.0, scale=1.0):
        # gammaincc(a, z) (SciPy's _sf), 1 left of the support
        z = standardized(x, loc, scale)
        on = xp.where(z < 0.0, 1.0, z)
        y = xp.where(z < 0.0, 1.0, special.gammaincc(a, on))
        def gamma_sf_pullback(dy):
            dx = -dy * xp.exp(gamma_log_density(on, a)) / scale * indicator(z >= 0.0, z)
            return (unbroadcast(dx, x), partial_without_closed_form("scipy.stats.gamma.sf", "a"),
                    unbroadcast(-dx, loc), unbroadcast(-dx * z, scale))
        return y, gamma_sf_pullback

    # ---- lognorm (shape s) ---------------------------------------------------------------------------------
    # Every method in x, s, loc and scale: with u = log(z) / s the distribution functions are norm's at u
    # (SciPy's ndtr(u), ndtr(-u), log_ndtr(u), log_ndtr(-u)), so their partial in s has a closed form too:
    # du/ds = -u / s, du/dz = 1 / (s z). The log density -log(z)^2 / (2 s^2) - log(s z sqrt(2 pi)) has
    # d/dz = -(u / s + 1) / z and d/ds = (u^2 - 1) / s. The support is the open z > 0: at and left of z = 0 the
    # values are SciPy's constants (logpdf and logcdf -inf, pdf and cdf 0, sf 1, logsf 0) and every partial is
    # 0; `inside` is z there and 1 elsewhere, so that every branch a `where` leaves out is computed from finite
    # values.

    lognorm = scipy_stats.lognorm

    @rule(lognorm.logpdf)
    def δlognorm_logpdf(x, s, loc=0.0, scale=1.0):
        # SciPy's _lognorm_logpdf, in its order
        z = standardized(x, loc, scale)
        inside = xp.where(z > 0.0, z, 1.0)
        u = xp.log(inside) / s
        y = xp.where(z > 0.0, -xp.log(inside) ** 2 / (2.0 * s ** 2) - xp.log(s * inside * math.sqrt(2.0 * math.pi)),
                     -math.inf) - log_of(scale)
        def lognorm_logpdf_pullback(dy):
            dx = -dy * (u / s + 1.0) / inside / scale * indicator(z > 0.0, z)
            ds = dy * (u * u - 1.0) / s * indicator(z > 0.0, z)
            return (unbroadcast(dx, x), unbroadcast(ds, s), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z - dy / scale * indicator(z > 0.0, z), scale))
        return y, lognorm_logpdf_pullback

    @rule(lognorm.pdf)
    def δlognorm_pdf(x, s, loc=0.0, scale=1.0):
        # SciPy's exp(_logpdf) / scale; 0 off the support (exp(-inf)), where y = 0 makes every partial 0
        z = standardized(x, loc, scale)
        inside = xp.where(z > 0.0, z, 1.0)
        u = xp.log(inside) / s
        y = xp.exp(xp.where(z > 0.0, -xp.log(inside) ** 2 / (2.0 * s ** 2)
                            - xp.log(s * inside * math.sqrt(2.0 * math.pi)), -math.inf)) / scale
        def lognorm_pdf_pullback(dy):
            dx = -dy * y * (u / s + 1.0) / inside / scale
            ds = dy * y * (u * u - 1.0) / s
            return (unbroadcast(dx, x), unbroadcast(ds, s), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z - dy * y / scale, scale))
        return y, lognorm_pdf_pullback

    @rule(lognorm.cdf)
    def δlognorm_cdf(x, s, loc=0.0, scale=1.0):
        # ndtr(u), 0 left of the support; d/du = the normal density at u
        z = standardized(x, loc, scale)
        inside = xp.where(z > 0.0, z, 1.0)
        u = xp.log(inside) / s
        y = xp.where(z > 0.0, special.ndtr(u), 0.0)
        def lognorm_cdf_pullback(dy):
            du = dy * xp.exp(-u ** 2 / 2.0 - _LOG_SQRT_2PI) * indicator(z > 0.0, z)
            dx = du / (s * inside) / scale
            return (unbroadcast(dx, x), unbroadcast(-du * u / s, s), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z, scale))
        return y, lognorm_cdf_pullback

    @rule(lognorm.sf)
    def δlognorm_sf(x, s, loc=0.0, scale=1.0):
        # ndtr(-u), 1 left of the support
        z = standardized(x, loc, scale)
        inside = xp.where(z > 0.0, z, 1.0)
        u = xp.log(inside) / s
        y = xp.where(z > 0.0, special.ndtr(-u), 1.0)
        def lognorm_sf_pullback(dy):
            du = -dy * xp.exp(-u ** 2 / 2.0 - _LOG_SQRT_2PI) * indicator(z > 0.0, z)
            dx = du / (s * inside) / scale
            return (unbroadcast(dx, x), unbroadcast(-du * u / s, s), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z, scale))
        return y, lognorm_sf_pullback

    @rule(lognorm.logcdf)
    def δlognorm_logcdf(x, s, loc=0.0, scale=1.0):
        # log_ndtr(u) (SciPy's own _logcdf: no switch at the median), -inf left of the support; d/du = the
        # normal density over ndtr(u), in logs (finite far left, as norm.logcdf's); `held` is y on the support
        z = standardized(x, loc, scale)
        inside = xp.where(z > 0.0, z, 1.0)
        u = xp.log(inside) / s
        held = special.log_ndtr(u)
        y = xp.where(z > 0.0, held, -math.inf)
        def lognorm_logcdf_pullback(dy):
            du = dy * xp.exp(-u ** 2 / 2.0 - _LOG_SQRT_2PI - held) * indicator(z > 0.0, z)
            dx = du / (s * inside) / scale
            return (unbroadcast(dx, x), unbroadcast(-du * u / s, s), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z, scale))
        return y, lognorm_logcdf_pullback

    @rule(lognorm.logsf)
    def δlognorm_logsf(x, s, loc=0.0, scale=1.0):
        # log_ndtr(-u), 0 left of the support
        z = standardized(x, loc, scale)
        inside = xp.where(z > 0.0, z, 1.0)
        u = xp.log(inside) / s
        held = special.log_ndtr(-u)
        y = xp.where(z > 0.0, held, 0.0)
        def lognorm_logsf_pullback(dy):
            du = -dy * xp.exp(-u ** 2 / 2.0 - _LOG_SQRT_2PI - held) * indicator(z > 0.0, z)
            dx = du / (s * inside) / scale
            return (unbroadcast(dx, x), unbroadcast(-du * u / s, s), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z, scale))
        return y, lognorm_logsf_pullback

    # ---- beta (shapes a and b) ----------------------------------------------------------------------------
    # The support is 0 <= z <= 1. Inside it, on the open interval, the densities are differentiable in x, a, b,
    # loc and scale (digamma for the shapes, as gamma's) and cdf and sf (betainc, betaincc) in x, loc and scale;
    # their partial in a or b has no closed form and is refused (support.partial_without_closed_form). Off the
    # support the values are SciPy's constants (logpdf -inf, pdf 0, cdf 0 or 1, sf 1 or 0) and every partial is 0.
    # At the ends z = 0 and z = 1 the values are SciPy's (the density there is 0, finite or infinite with the
    # shapes) and held constant: every partial is 0 there but logpdf's -1 / scale (gamma's convention at its
    # edge). `inside` is z on the open interval and 1/2 elsewhere, so that every branch a `where` leaves out
    # is computed from finite values (no 0 * inf at second order).

    beta = scipy_stats.beta

    def beta_log_density(z, a, b):
        """The log density of the beta distribution of shapes ``a`` and ``b`` at the standardized ``0 <= z <=
        1``: SciPy's ``beta._logpdf``, ``xlog1py(b - 1, -z) + xlogy(a - 1, z) - betaln(a, b)``, to the bit."""
        return special.xlog1py(b - 1.0, -z) + special.xlogy(a - 1.0, z) - of_numbers("betaln", a, b)

    @rule(beta_log_density)
    def δbeta_log_density(z, a, b):
        # d/dz = (a - 1) / z - (b - 1) / (1 - z), d/da = log(z) - digamma(a) + digamma(a + b), d/db = log1p(-z)
        # - digamma(b) + digamma(a + b): for 0 < z < 1
        y = beta_log_density(z, a, b)
        def beta_log_density_pullback(dy):
            return (unbroadcast(dy * ((a - 1.0) / z - (b - 1.0) / (1.0 - z)), z),
                    unbroadcast(dy * (xp.log(z) - special.digamma(a) + special.digamma(a + b)), a),
                    unbroadcast(dy * (xp.log1p(-z) - special.digamma(b) + special.digamma(a + b)), b))
        return y, beta_log_density_pullback

    def beta_density(z, a, b):
        """The beta density at the standardized ``0 <= z <= 1``: SciPy's ``beta._pdf``, Boost's
        (``scipy.special._ufuncs._beta_pdf``) on NumPy values, to the bit; on another library's arrays (no Boost
        there) ``exp(beta_log_density)``, to a few units in the last place for moderate shapes."""
        if _numpy_like(z) and _numpy_like(a) and _numpy_like(b):
            with np.errstate(over="ignore"):  # (as SciPy's: an infinite density at an end)
                return _scipy_ufuncs._beta_pdf(z, a, b)
        return _xp(z).exp(beta_log_density(z, a, b))

    @rule(beta_density)
    def δbeta_density(z, a, b):
        # the density times the partials of its log (δbeta_log_density's): for 0 < z < 1
        y = beta_density(z, a, b)
        def beta_density_pullback(dy):
            return (unbroadcast(dy * y * ((a - 1.0) / z - (b - 1.0) / (1.0 - z)), z),
                    unbroadcast(dy * y * (xp.log(z) - special.digamma(a) + special.digamma(a + b)), a),
                    unbroadcast(dy * y * (xp.log1p(-z) - special.digamma(b) + special.digamma(a + b)), b))
        return y, beta_density_pullback

    def beta_off_interval(z, a, b, log: bool):
        """SciPy's beta density (``log``: log density) where the standardized ``z`` is off the open interval
        (0, 1): SciPy's value at the ends z = 0 and z = 1, 0 (-inf) elsewhere: outside [0, 1], and inside (0, 1),
        where callers take another branch. A constant (declared nondiff): the partials at the ends are taken as 0."""
        xp_ = np if _numpy_like(z) else _xp(z)
        end = xp_.where(z <= 0.0, xp_.zeros_like(z), xp_.ones_like(z))  # (array-api-strict: not two numbers)
        value = beta_log_density(end, a, b) if log else beta_density(end, a, b)
        return xp_.where((z == 0.0) | (z == 1.0), value, -math.inf if log else 0.0)

    nondiff(beta_off_interval)

    @rule(beta.logpdf)
    def δbeta_logpdf(x, a, b, loc=0.0, scale=1.0):
        z = standardized(x, loc, scale)
        inner = (z > 0.0) & (z < 1.0)
        inside = xp.where(inner, z, 0.5)
        y = xp.where(inner, beta_log_density(inside, a, b), beta_off_interval(z, a, b, True)) - log_of(scale)
        def beta_logpdf_pullback(dy):
            dx = dy * ((a - 1.0) / inside - (b - 1.0) / (1.0 - inside)) / scale * indicator(inner, z)
            da = dy * (xp.log(inside) - special.digamma(a) + special.digamma(a + b)) * indicator(inner, z)
            db = dy * (xp.log1p(-inside) - special.digamma(b) + special.digamma(a + b)) * indicator(inner, z)
            return (unbroadcast(dx, x), unbroadcast(da, a), unbroadcast(db, b), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z - dy / scale * indicator((z >= 0.0) & (z <= 1.0), z), scale))
        return y, beta_logpdf_pullback

    @rule(beta.pdf)
    def δbeta_pdf(x, a, b, loc=0.0, scale=1.0):
        # SciPy's _pdf / scale; the partials those of logpdf times the density, at `inside`
        z = standardized(x, loc, scale)
        inner = (z > 0.0) & (z < 1.0)
        inside = xp.where(inner, z, 0.5)
        density = beta_density(inside, a, b)
        y = xp.where(inner, density, beta_off_interval(z, a, b, False)) / scale
        shown = density / scale * indicator(inner, z)  # (the pdf on the open interval, 0 elsewhere)
        def beta_pdf_pullback(dy):
            dx = dy * shown * ((a - 1.0) / inside - (b - 1.0) / (1.0 - inside)) / scale
            da = dy * shown * (xp.log(inside) - special.digamma(a) + special.digamma(a + b))
            db = dy * shown * (xp.log1p(-inside) - special.digamma(b) + special.digamma(a + b))
            return (unbroadcast(dx, x), unbroadcast(da, a), unbroadcast(db, b), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z - dy * shown / scale, scale))
        return y, beta_pdf_pullback

    @rule(beta.cdf)
    def δbeta_cdf(x, a, b, loc=0.0, scale=1.0):
        # betainc(a, b, z) (SciPy's _cdf) on the open interval, 0 left of it and 1 from z = 1 on
        z = standardized(x, loc, scale)
        inner = (z > 0.0) & (z < 1.0)
        inside = xp.where(inner, z, 0.5)
        y = xp.where(inner, special.betainc(a, b, inside), xp.where(z >= 1.0, 1.0, 0.0))
        def beta_cdf_pullback(dy):
            dx = dy * beta_density(inside, a, b) / scale * indicator(inner, z)
            return (unbroadcast(dx, x), partial_without_closed_form("scipy.stats.beta.cdf", "a"),
                    partial_without_closed_form("scipy.stats.beta.cdf", "b"), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z, scale))
        return y, beta_cdf_pullback

    @rule(beta.sf)
    def δbeta_sf(x, a, b, loc=0.0, scale=1.0):
        # betaincc(a, b, z) (SciPy's _sf) on the open interval, 1 left of it and 0 from z = 1 on
        z = standardized(x, loc, scale)
        inner = (z > 0.0) & (z < 1.0)
        inside = xp.where(inner, z, 0.5)
        y = xp.where(inner, special.betaincc(a, b, inside), xp.where(z >= 1.0, 0.0, 1.0))
        def beta_sf_pullback(dy):
            dx = -dy * beta_density(inside, a, b) / scale * indicator(inner, z)
            return (unbroadcast(dx, x), partial_without_closed_form("scipy.stats.beta.sf", "a"),
                    partial_without_closed_form("scipy.stats.beta.sf", "b"), unbroadcast(-dx, loc),
                    unbroadcast(-dx * z, scale))
        return y, beta_sf_pullback

    # ---- discrete distributions: poisson (mu) and binom (n, p) --------------------------------------------
    # logpmf and pmf are differentiable in the continuous parameter (mu, p). The counts k, binom's n and loc are
    # integers: their partial is support.partial_in_a_count, which raises MissingRuleError naming the method and
    # the parameter, evaluated only where that argument is differentiated. As SciPy's rv_discrete: at counts
    # k - loc off the support (negative, not whole, above n) logpmf is -inf and pmf 0; where a parameter is
    # invalid (mu < 0; n negative or not whole, p outside [0, 1]) or k - loc is nan, both are nan. Those are
    # constants: their partials are 0. `on` is the count where it is kept and 0 elsewhere, so that every branch
    # a `where` leaves out is computed from finite values (no 0 * inf at second order).

    poisson, binom = scipy_stats.poisson, scipy_stats.binom

    def counts(k, loc, like):
        """``k - loc`` (SciPy's rv_discrete quantile) as floats: a NumPy float64 array at least for NumPy values,
        Python numbers and lists (SciPy's results are float64 whatever the parameters' dtype), and, where
        ``like`` (the differentiated parameter) is another library's array, an array of that library in
        ``like``'s dtype. A constant: declared nondiff (counts are never differentiated)."""
        if _numpy_like(like):
            n = np.asarray(k) - np.asarray(loc)
            return np.asarray(n, dtype=np.promote_types(n.dtype, np.float64))[()]
        xp_ = _xp(like)
        return xp_.asarray(k, dtype=like.dtype, device=_device(like)) - loc

    def _numpy_like(value) -> bool:
        return type(value) in (int, float, bool) or isinstance(value, (np.ndarray, np.generic))

    nondiff(counts)
    nondiff(partial_in_a_count)  # raises; its arguments are constant strings

    def binomial_mass(k, n, p):
        """The binomial probability of ``k`` successes in ``n`` trials of probability ``p``, for whole ``0 <= k
        <= n`` and ``0 <= p <= 1``: SciPy's ``binom._pmf``, Boost's (``scipy.special._ufuncs._binom_pmf``) on
        NumPy values, to the bit; on another library's arrays (no Boost there) ``exp(binom._logpmf)``, a relative
        1e-13 from Boost's for n up to 100, 5e-12 up to 2000. (Callers handle the other counts and parameters.)"""
        if _numpy_like(k) and _numpy_like(n) and _numpy_like(p):
            return _scipy_ufuncs._binom_pmf(k, n, p)
        xp_ = _xp(p)
        return xp_.exp(special.gammaln(n + 1.0) - (special.gammaln(k + 1.0) + special.gammaln(n - k + 1.0))
                       + special.xlogy(k, p) + special.xlog1py(n - k, -p))

    @rule(binomial_mass)
    def δbinomial_mass(k, n, p):
        # d/dp B(k; n, p) = n (B(k - 1; n - 1, p) - B(k; n - 1, p)), a term 0 where its count is off the support
        # (k = 0, k = n): finite at p = 0 and p = 1 too, where k / p and (n - k) / (1 - p) are not
        y = binomial_mass(k, n, p)
        def binomial_mass_pullback(dy):
            fewer = xp.where(n >= 1.0, n - 1.0, 0.0)
            dp = dy * n * (indicator(k >= 1.0, p) * binomial_mass(xp.where(k >= 1.0, k - 1.0, 0.0), fewer, p)
                           - indicator(k <= n - 1.0, p) * binomial_mass(xp.where(k <= n - 1.0, k, 0.0), fewer, p))
            return (partial_in_a_count("binomial_mass", "k"), partial_in_a_count("binomial_mass", "n"),
                    unbroadcast(dp, p))
        return y, binomial_mass_pullback

    @rule(poisson.logpmf)
    def δpoisson_logpmf(k, mu, loc=0):
        # SciPy's xlogy(k, mu) - gammaln(k + 1) - mu; d/dmu = k / mu - 1, k / mu taken as 0 where k == 0 (as
        # xlogy(0, mu) = 0 is: the partial at k = 0 is -1, at mu = 0 too)
        c = counts(k, loc, mu)
        kept = (mu >= 0.0) & (c >= 0.0) & (xp.floor(c) == c)
        on = xp.where(kept, c, 0.0)
        y = xp.where(kept, special.xlogy(on, mu) - special.gammaln(on + 1.0) - mu,
                     xp.where((mu >= 0.0) & (c == c), -math.inf, math.nan))
        def poisson_logpmf_pullback(dy):
            dmu = dy * (on / xp.where(on == 0.0, 1.0, mu) - 1.0) * indicator(kept, mu)
            return (partial_in_a_count("scipy.stats.poisson.logpmf", "k"), unbroadcast(dmu, mu),
                    partial_in_a_count("scipy.stats.poisson.logpmf", "loc"))
        return y, poisson_logpmf_pullback

    @rule(poisson.pmf)
    def δpoisson_pmf(k, mu, loc=0):
        # SciPy's exp(logpmf); d/dmu = pmf(k - 1) - pmf(k) (pmf(-1) = 0): finite at mu = 0, where k / mu is not
        c = counts(k, loc, mu)
        kept = (mu >= 0.0) & (c >= 0.0) & (xp.floor(c) == c)
        on = xp.where(kept, c, 0.0)
        mass = xp.exp(special.xlogy(on, mu) - special.gammaln(on + 1.0) - mu)
        y = xp.where(kept, mass, xp.where((mu >= 0.0) & (c == c), 0.0, math.nan))
        def poisson_pmf_pullback(dy):
            below = xp.where(on >= 1.0, on - 1.0, 0.0)
            dmu = dy * (indicator(on >= 1.0, mu)
                        * xp.exp(special.xlogy(below, mu) - special.gammaln(below + 1.0) - mu)
                        - mass) * indicator(kept, mu)
            return (partial_in_a_count("scipy.stats.poisson.pmf", "k"), unbroadcast(dmu, mu),
                    partial_in_a_count("scipy.stats.poisson.pmf", "loc"))
        return y, poisson_pmf_pullback

    @rule(binom.logpmf)
    def δbinom_logpmf(k, n, p, loc=0):
        # SciPy's combiln + xlogy(k, p) + xlog1py(n - k, -p), combiln = gammaln(n + 1) - (gammaln(k + 1)
        # + gammaln(n - k + 1)); d/dp = k / p - (n - k) / (1 - p), each term 0 where its count is 0
        c = counts(k, loc, p)
        m = counts(n, 0, p)
        valid = (m >= 0.0) & (xp.floor(m) == m) & (p >= 0.0) & (p <= 1.0)
        kept = valid & (c >= 0.0) & (c <= m) & (xp.floor(c) == c)
        on = xp.where(kept, c, 0.0)
        top = xp.where(kept, m, 0.0)
        y = xp.where(kept, special.gammaln(top + 1.0) - (special.gammaln(on + 1.0) + special.gammaln(top - on + 1.0))
                     + special.xlogy(on, p) + special.xlog1py(top - on, -p),
                     xp.where(valid & (c == c), -math.inf, math.nan))
        def binom_logpmf_pullback(dy):
            dp = (dy * (on / xp.where(on == 0.0, 1.0, p) - (top - on) / xp.where(top == on, 1.0, 1.0 - p))
                  * indicator(kept, p))
            return (partial_in_a_count("scipy.stats.binom.logpmf", "k"),
                    partial_in_a_count("scipy.stats.binom.logpmf", "n"), unbroadcast(dp, p),
                    partial_in_a_count("scipy.stats.binom.logpmf", "loc"))
        return y, binom_logpmf_pullback

    @rule(binom.pmf)
    def δbinom_pmf(k, n, p, loc=0):
        # SciPy's _pmf, Boost's binomial pmf (binomial_mass, whose rule gives the partial in p)
        c = counts(k, loc, p)
        m = counts(n, 0, p)
        valid = (m >= 0.0) & (xp.floor(m) == m) & (p >= 0.0) & (p <= 1.0)
        kept = valid & (c >= 0.0) & (c <= m) & (xp.floor(c) == c)
        on = xp.where(kept, c, 0.0)
        top = xp.where(kept, m, 0.0)
        held = xp.where(valid, p, 0.5)  # (p where it is valid: Boost's pmf of an invalid p is nan)
        mass = binomial_mass(on, top, held)
        y = xp.where(kept, mass, xp.where(valid & (c == c), 0.0, math.nan))
        def binom_pmf_pullback(dy):
            # (binomial_mass's partial in p)
            fewer = xp.where(top >= 1.0, top - 1.0, 0.0)
            below = xp.where(on >= 1.0, on - 1.0, 0.0)
            same = xp.where(on <= top - 1.0, on, 0.0)
            dp = dy * top * (indicator(on >= 1.0, held) * binomial_mass(below, fewer, held)
                             - indicator(on <= top - 1.0, held) * binomial_mass(same, fewer, held))
            dp = dp * indicator(kept, held)
            return (partial_in_a_count("scipy.stats.binom.pmf", "k"), partial_in_a_count("scipy.stats.binom.pmf", "n"),
                    unbroadcast(dp, p), partial_in_a_count("scipy.stats.binom.pmf", "loc"))
        return y, binom_pmf_pullback

    # ---- scipy.stats.multivariate_normal: logpdf and pdf in x, mean and cov --------------------------------
    # The value is SciPy's own call (its eigh-based log-determinant and Mahalanobis term: SciPy's to the bit).
    # The partials (support_linalg.gaussian_log_density_partials) are those of what SciPy computes: a 2-D cov
    # is read through its lower triangle only. As scipy.linalg's rules, these are inlined and their pullbacks
    # call a partial helper without a rule of its own: second order goes through the forward forms
    # (rules/forward_linalg.py), whose code is made of operations with rules.

    multivariate_normal = scipy_stats.multivariate_normal

    @rule(multivariate_normal.logpdf, static=("allow_singular",))
    def δmultivariate_normal_logpdf(x, mean=None, cov=1, allow_singular=False):
        refuse_singular_covariance("logpdf", allow_singular)
        y = multivariate_normal.logpdf(x, mean, cov)
        def multivariate_normal_logpdf_pullback(dy):
            dx, dmean, dcov = gaussian_log_density_partials(dy, x, mean, cov)
            return dx, dmean, dcov, None
        return y, multivariate_normal_logpdf_pullback

    @rule(multivariate_normal.pdf, static=("allow_singular",))
    def δmultivariate_normal_pdf(x, mean=None, cov=1, allow_singular=False):
        # pdf = exp(logpdf): the partials of logpdf for the cotangent dy * pdf
        refuse_singular_covariance("pdf", allow_singular)
        y = multivariate_normal.pdf(x, mean, cov)
        def multivariate_normal_pdf_pullback(dy):
            dx, dmean, dcov = gaussian_log_density_partials(dy * y, x, mean, cov)
            return dx, dmean, dcov, None
        return y, multivariate_normal_pdf_pullback

    def refuse_singular_covariance(method: str, allow_singular) -> None:
        """None; a MissingRuleError naming ``allow_singular`` where it is true: SciPy then takes a singular cov's
        pseudo-inverse and pseudo-determinant (the eigenvalues it deems 0 left out), whose partial is not the
        simple one of a positive definite cov (nor defined where the rank changes)."""
        if allow_singular:
            raise MissingRuleError(f"`scipy.stats.multivariate_normal.{method}` with allow_singular=True has no "
                                   "derivative rule: a singular covariance's pseudo-determinant has no such simple "
                                   "partial", hint="Pass a positive definite `cov` with allow_singular=False.")
