"""Rules for :mod:`scipy.linalg`: ``solve`` (general, symmetric, positive definite and triangular kinds),
``solve_triangular``, ``cholesky``, ``cho_factor``, ``cho_solve`` and ``expm``, on NumPy arrays; registered
once SciPy's linalg module is imported (as :mod:`scipy.special`'s, ``rules/scipy_special.py``).

Partials are those of each function as SciPy computes it: ``solve_triangular`` and the triangular kinds of
``solve`` read one triangle of ``a`` (without the diagonal when ``unit_diagonal``), ``cholesky``,
``cho_factor`` and the symmetric kinds of ``solve`` (``assume_a='pos'``, ``'sym'``, ``'her'``) one triangle
as a symmetric matrix (the upper one by default, unlike NumPy's cholesky), so the entries not read get zero.
``cho_factor``'s result keeps ``a``'s entries in its other triangle (as LAPACK leaves them), and
``cho_solve`` reads only the factor's triangle of it. ``overwrite_*`` is never passed on: the pullback may
need what SciPy would overwrite. The helpers live in ``support_linalg``.
"""

import sys

from ..errors import MissingRuleError
from .registry import defer, rule
from .support_linalg import (SYMMETRIC_KINDS, TRIANGULAR_KINDS, cho_factor_partial, cho_solve_partials,
                             cholesky_partial, expm_partial, solve_partials, solve_triangular_partials,
                             symmetric_solve_partials)

if "scipy.linalg" in sys.modules:
    from scipy import linalg as scipy_linalg  # the primals the rules are keyed by
else:
    scipy_linalg = None
    defer("scipy.linalg", __name__)

if scipy_linalg is not None:

    @rule(scipy_linalg.solve, static=("lower", "overwrite_a", "overwrite_b", "check_finite", "assume_a",
                                      "transposed"))
    def δscipy_solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True, assume_a=None,
                     transposed=False):
        kind = solve_kind(assume_a, transposed)
        x = scipy_linalg.solve(a, b, lower=lower, check_finite=check_finite, assume_a=assume_a)
        def scipy_solve_pullback(dx):
            if kind == "symmetric":
                da, db = symmetric_solve_partials(dx, a, b, x, assume_a, lower)
            elif kind == "triangular":
                da, db = solve_triangular_partials(dx, a, x, False, TRIANGULAR_KINDS[assume_a], False)
            else:
                da, db = solve_partials(dx, a, b, x)
            return da, db, None, None, None, None, None, None
        return x, scipy_solve_pullback

    def solve_kind(assume_a, transposed: bool) -> str:
        """"general", "symmetric" (one triangle read as a symmetric matrix) or "triangular"; a MissingRuleError
        for the kinds without a rule (the banded ones, a transposed solve)."""
        if assume_a in (None, "gen", "general") and not transposed:
            return "general"
        if assume_a in SYMMETRIC_KINDS and not transposed:
            return "symmetric"
        if assume_a in TRIANGULAR_KINDS and not transposed:
            return "triangular"
        raise MissingRuleError(f"scipy.linalg.solve with assume_a={assume_a!r}, transposed={transposed!r} has no "
                               "rule (the general, symmetric, positive definite and triangular kinds have)")

    @rule(scipy_linalg.solve_triangular,
          static=("trans", "lower", "unit_diagonal", "overwrite_b", "check_finite"))
    def δsolve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True):
        x = scipy_linalg.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal,
                                          check_finite=check_finite)
        def solve_triangular_pullback(dx):
            transposed = trans not in (0, "N")  # (1, 2, "T", "C": the same for real matrices)
            da, db = solve_triangular_partials(dx, a, x, transposed, lower, unit_diagonal)
            return da, db, None, None, None, None, None
        return x, solve_triangular_pullback

    @rule(scipy_linalg.cholesky, static=("lower", "overwrite_a", "check_finite"))
    def δscipy_cholesky(a, lower=False, overwrite_a=False, check_finite=True):
        l = scipy_linalg.cholesky(a, lower=lower, check_finite=check_finite)
        def scipy_cholesky_pullback(dl):
            return cholesky_partial(dl, l, not lower), None, None, None
        return l, scipy_cholesky_pullback

    @rule(scipy_linalg.cho_factor, outputs=2, static=("lower", "overwrite_a", "check_finite"))
    def δcho_factor(a, lower=False, overwrite_a=False, check_finite=True):
        c, low = scipy_linalg.cho_factor(a, lower=lower, check_finite=check_finite)
        def cho_factor_pullback(dc, dlow):
            return cho_factor_partial(dc, c, lower), None, None, None
        return c, low, cho_factor_pullback

    @rule(scipy_linalg.cho_solve, static=("overwrite_b", "check_finite"), sequences=True)
    def δcho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
        x = scipy_linalg.cho_solve(c_and_lower, b, check_finite=check_finite)
        def cho_solve_pullback(dx):
            dc_and_lower, db = cho_solve_partials(dx, c_and_lower, b, x)
            return dc_and_lower, db, None, None
        return x, cho_solve_pullback

    @rule(scipy_linalg.expm)
    def δexpm(a):
        e = scipy_linalg.expm(a)
        def expm_pullback(de):
            return (expm_partial(de, a),)
        return e, expm_pullback
