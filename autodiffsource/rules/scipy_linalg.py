"""Rules for :mod:`scipy.linalg`: ``solve`` (of a general matrix), ``solve_triangular``, ``cholesky`` and
``expm``, on NumPy arrays; registered once SciPy's linalg module is imported (as :mod:`scipy.special`'s,
``rules/scipy_special.py``).

Partials are those of each function as SciPy computes it: ``solve_triangular`` reads one triangle of ``a``
(without the diagonal when ``unit_diagonal``) and ``cholesky`` one triangle (the upper one by default,
unlike NumPy's), so the entries not read get zero. ``overwrite_*`` is never passed on: the pullback may
need what SciPy would overwrite. The helpers live in ``support_linalg``.
"""

import sys

from ..errors import MissingRuleError
from .registry import defer, rule
from .support_linalg import cholesky_partial, expm_partial, solve_partials, solve_triangular_partials

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
        if assume_a not in (None, "gen", "general") or transposed:
            # (the symmetric and triangular kinds read one triangle; their partials differ: no rule yet)
            raise MissingRuleError(f"scipy.linalg.solve with assume_a={assume_a!r}, transposed={transposed!r} has "
                                   "no rule (the general solve has: leave assume_a out)")
        x = scipy_linalg.solve(a, b, check_finite=check_finite)
        def scipy_solve_pullback(dx):
            da, db = solve_partials(dx, a, b, x)
            return da, db, None, None, None, None, None, None
        return x, scipy_solve_pullback

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

    @rule(scipy_linalg.expm)
    def δexpm(a):
        e = scipy_linalg.expm(a)
        def expm_pullback(de):
            return (expm_partial(de, a),)
        return e, expm_pullback
