"""Rules for the normal distribution of :mod:`scipy.stats`: ``norm.logpdf``, ``pdf``, ``cdf``, ``logcdf``,
``sf`` and ``logsf``, each in ``x``, ``loc`` and ``scale``; registered once SciPy's stats module is imported.

``scipy.stats.norm`` is one object and these are its methods (a new bound method at each access), so the
rules are keyed by the object and the method (``registry.rule``). Each computes as SciPy does, on the
standardized ``z = (x - loc) / scale`` (float64 at least, as SciPy's), through ``backend.special``
(``ndtr``, ``log_ndtr``), so the value is SciPy's to the last bit on NumPy and the same rule serves
torch, JAX and the other array libraries.
A method's derivative in ``z``, ``h``, gives every partial: ``dx = dy * h / scale``, ``dloc = -dx`` and
``dscale = -dx * z``, and the densities, divided by ``scale``, add ``-dy * y / scale`` (``pdf``) or
``-dy / scale`` (``logpdf``) to ``dscale``. Each rule writes its three partials out (one expression per
parameter), so that the code generator inlines it (``transform/inline.py``), where ``xp`` is bound. Like
SciPy's statistical functions these take positional ``loc`` and ``scale`` too (``norm.pdf(x, 0.0, 2.0)``);
SciPy's other distributions have no rule yet.

Importing ``scipy.stats`` takes most of a second, so ``import autodiffsource`` does not: as for
:mod:`scipy.special` (``rules/scipy_special.py``) this module defers itself until something imports it.
"""

import math
import sys

import numpy as np

from .registry import defer, rule

if "scipy.stats" in sys.modules:
    from scipy import stats as scipy_stats  # the object whose methods the rules are keyed by
else:
    scipy_stats = None
    defer("scipy.stats", __name__)

from ..backend import special
from ..runtime import unbroadcast
from ..runtime.common import _xp

_LOG_SQRT_2PI = math.log(math.sqrt(2.0 * math.pi))  # (SciPy's _norm_pdf_logC, to the bit)


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
        return np.log(scale) if type(scale) in (int, float) else _xp(scale).log(scale)

    @rule(log_of)
    def δlog_of(scale):
        y = log_of(scale)
        def log_of_pullback(dy):
            return (dy / scale,)
        return y, log_of_pullback

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
