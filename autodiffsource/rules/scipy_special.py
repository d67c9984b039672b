"""Rules for :mod:`scipy.special` (the seed's erf, erfc, gamma, gammaln); registered when SciPy imports."""

import math

try:
    from scipy import special
except ImportError:  # SciPy is optional for the rule table: nothing to register without it.
    special = None

from .registry import rule

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

if special is not None:

    @rule(special.erf)
    def δerf(x):
        y = special.erf(x)
        def erf_pullback(dy):
            return (dy * _TWO_OVER_SQRT_PI * xp.exp(-x * x),)
        return y, erf_pullback

    @rule(special.erfc)
    def δerfc(x):
        y = special.erfc(x)
        def erfc_pullback(dy):
            return (-dy * _TWO_OVER_SQRT_PI * xp.exp(-x * x),)
        return y, erfc_pullback

    @rule(special.gamma)
    def δgamma(x):
        y = special.gamma(x)
        def gamma_pullback(dy):
            return (dy * y * special.digamma(x),)
        return y, gamma_pullback

    @rule(special.gammaln)
    def δgammaln(x):
        y = special.gammaln(x)
        def gammaln_pullback(dy):
            return (dy * special.digamma(x),)
        return y, gammaln_pullback

import numpy as xp  # noqa: E402  (stand-in for direct calls; inlined code binds the run-time namespace)
