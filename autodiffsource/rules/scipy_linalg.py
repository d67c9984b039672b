"""Rules for :mod:`scipy.linalg`: ``solve`` (general, symmetric, positive definite and triangular kinds),
``solve_triangular``, ``cholesky``, ``cho_factor``, ``cho_solve``, ``expm``, ``inv``, ``det``, ``eigh``,
``eigvalsh``, ``svd``, ``svdvals``, ``qr``, ``pinv``, ``norm``, ``lstsq``, ``lu_factor``, ``lu_solve`` and
``block_diag``, on NumPy arrays; registered once SciPy's linalg module is imported (as :mod:`scipy.special`'s,
``rules/scipy_special.py``).

Partials are those of each function as SciPy computes it: ``solve_triangular`` and the triangular kinds of
``solve`` and ``inv`` read one triangle of ``a`` (without the diagonal when ``unit_diagonal``), ``cholesky``,
``cho_factor``, ``eigh``, ``eigvalsh`` and the symmetric kinds of ``solve`` and ``inv`` (``assume_a='pos'``,
``'sym'``, ``'her'``) one triangle as a symmetric matrix (the upper one by default for all but ``eigh`` and
``eigvalsh``, unlike NumPy's cholesky; ``eigh``'s ``lower=True`` default reads the lower one), so the entries
not read get zero. ``cho_factor``'s result keeps ``a``'s entries in its other triangle (as LAPACK leaves them),
and ``cho_solve`` reads only the factor's triangle of it; ``lu_factor``'s packs L (unit lower, below the
diagonal) and U, and ``lu_solve``'s partial in the pair is that of the packed matrix, which ``lu_factor``'s
pullback takes back to ``a``. The formulas are NumPy's rules' (``support_linalg``), shared.

The primal is SciPy's own call, with ``check_finite``, ``lapack_driver``, ``driver``, ``lwork`` and the
thresholds (``cond``, ``atol``, ``rtol``) passed on. ``overwrite_*`` is accepted and never passed on: the
pullback may need what SciPy would overwrite (the result is the same). Keywords that change what is computed
and have no rule are refused by name (:class:`MissingRuleError`, with the user's line in its note): a
generalized or partial eigenproblem (``b=``, ``subset_by_index=``, ``subset_by_value=``), results other
than the rule's (``eigvals_only=True``, ``compute_uv=False``, ``return_rank=True``, QR's ``mode='r'``,
``'raw'`` and ``pivoting=True``), ``assume_a='diagonal'`` of ``inv``.
"""

import sys

from ..errors import MissingRuleError
from .registry import defer, rule
from .support import in_library_of
from .support_linalg import (SYMMETRIC_KINDS, TRIANGULAR_KINDS, block_diag_partial, cho_factor_partial,
                             cho_solve_partials, cholesky_partial, det_partial, eigh_partial, expm_partial,
                             full_qr_partial, inv_partial, lstsq_partials, lu_factor_partial, lu_solve_partials,
                             pinv_partial, read_matrix_partial, solve_partials,
                             solve_triangular_partials, svd_partial, symmetric_solve_partials)
from .support_linalg import inv_kind, qr_mode_with_rule, results_with_rule, standard_eigenproblem, triangle_name
from .support_products import norm_partial

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

    # ---- inv, det ---------------------------------------------------------------------------------------

    @rule(scipy_linalg.inv, static=("overwrite_a", "check_finite", "assume_a", "lower"))
    def δscipy_inv(a, overwrite_a=False, check_finite=True, assume_a=None, lower=False):
        # (assume_a and lower only where given: SciPy before 1.17 has neither; inlined, the test is decided)
        kind = inv_kind(assume_a)
        y = scipy_linalg.inv(a, check_finite=check_finite) if assume_a is None else \
            scipy_linalg.inv(a, check_finite=check_finite, assume_a=assume_a, lower=lower)
        def scipy_inv_pullback(dy):
            return read_matrix_partial(inv_partial(dy, y), kind, lower), None, None, None, None
        return y, scipy_inv_pullback

    @rule(scipy_linalg.det, static=("overwrite_a", "check_finite"))
    def δscipy_det(a, overwrite_a=False, check_finite=True):
        y = scipy_linalg.det(a, check_finite=check_finite)
        def scipy_det_pullback(dy):
            return det_partial(dy, a, y), None, None
        return y, scipy_det_pullback

    # ---- eigh, eigvalsh ---------------------------------------------------------------------------------

    @rule(scipy_linalg.eigh, outputs=2, static=("b", "lower", "eigvals_only", "overwrite_a", "overwrite_b", "type",
                                                "check_finite", "subset_by_index", "subset_by_value", "driver"))
    def δscipy_eigh(a, b=None, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False, type=1,
                    check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
        # Eigenvalues ascending; reads the lower triangle (the upper one with lower=False).
        checked = standard_eigenproblem("eigh", b, subset_by_index, subset_by_value, eigvals_only)
        w, v = scipy_linalg.eigh(a, lower=lower, type=type, check_finite=check_finite, driver=driver)
        def scipy_eigh_pullback(dw, dv):
            return (in_library_of(eigh_partial(dw, dv, w, v, triangle_name(lower)), a), None, None, None, None,
                    None, None, None, None, None, None)
        return w, v, scipy_eigh_pullback

    @rule(scipy_linalg.eigvalsh, static=("b", "lower", "overwrite_a", "overwrite_b", "type", "check_finite",
                                         "subset_by_index", "subset_by_value", "driver"))
    def δscipy_eigvalsh(a, b=None, lower=True, overwrite_a=False, overwrite_b=False, type=1, check_finite=True,
                        subset_by_index=None, subset_by_value=None, driver=None):
        checked = standard_eigenproblem("eigvalsh", b, subset_by_index, subset_by_value)
        w = scipy_linalg.eigvalsh(a, lower=lower, type=type, check_finite=check_finite, driver=driver)
        def scipy_eigvalsh_pullback(dw):
            # (the eigenvectors, which the partial needs and eigvalsh does not return, computed here)
            v = scipy_linalg.eigh(a, lower=lower, check_finite=False, driver=driver)[1]
            return (in_library_of(eigh_partial(dw, None, w, v, triangle_name(lower)), a), None, None, None, None,
                    None, None, None, None, None)
        return w, scipy_eigvalsh_pullback

    # ---- svd, svdvals, qr, pinv -------------------------------------------------------------------------

    @rule(scipy_linalg.svd, outputs=3, static=("full_matrices", "compute_uv", "overwrite_a", "check_finite",
                                               "lapack_driver"))
    def δscipy_svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
                   lapack_driver="gesdd"):
        # U, s, Vh; distinct singular values assumed (repeated ones get 0 coupling, not infinity).
        checked = results_with_rule("scipy.linalg.svd", "compute_uv", compute_uv, True, "scipy.linalg.svdvals(a)")
        u, s, vh = scipy_linalg.svd(a, full_matrices=full_matrices, check_finite=check_finite,
                                    lapack_driver=lapack_driver)
        def scipy_svd_pullback(du, ds, dvh):
            return (svd_partial(du, ds, dvh, a, u, s, vh, full_matrices, "scipy.linalg.svd"), None, None, None,
                    None, None)
        return u, s, vh, scipy_svd_pullback

    @rule(scipy_linalg.svdvals, static=("overwrite_a", "check_finite"))
    def δscipy_svdvals(a, overwrite_a=False, check_finite=True):
        s = scipy_linalg.svdvals(a, check_finite=check_finite)
        def scipy_svdvals_pullback(ds):
            # (the singular vectors, which the partial needs and svdvals does not return, computed here)
            u, s_again, vh = scipy_linalg.svd(a, full_matrices=False, check_finite=False)
            return svd_partial(None, ds, None, a, u, s_again, vh, False), None, None
        return s, scipy_svdvals_pullback

    @rule(scipy_linalg.qr, outputs=2, static=("overwrite_a", "lwork", "mode", "pivoting", "check_finite"))
    def δscipy_qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
        # mode='full' of a tall matrix: Q's columns past a's column count take no cotangent (full_qr_partial).
        checked = qr_mode_with_rule(mode, pivoting)
        q, r = scipy_linalg.qr(a, lwork=lwork, mode=mode, check_finite=check_finite)
        def scipy_qr_pullback(dq, dr):
            return full_qr_partial(dq, dr, a, q, r), None, None, None, None, None
        return q, r, scipy_qr_pullback

    @rule(scipy_linalg.pinv, static=("atol", "rtol", "return_rank", "check_finite"))
    def δscipy_pinv(a, atol=None, rtol=None, return_rank=False, check_finite=True):
        # Valid where the rank is constant near `a` (full rank, in practice).
        checked = results_with_rule("scipy.linalg.pinv", "return_rank", return_rank, False, "scipy.linalg.pinv(a) and "
                                    "np.linalg.matrix_rank(a)")
        p = scipy_linalg.pinv(a, atol=atol, rtol=rtol, check_finite=check_finite)
        def scipy_pinv_pullback(dp):
            return pinv_partial(dp, a, p), None, None, None, None
        return p, scipy_pinv_pullback

    # ---- norm, lstsq ------------------------------------------------------------------------------------

    @rule(scipy_linalg.norm, static=("ord", "axis", "keepdims", "check_finite"))
    def δscipy_norm(a, ord=None, axis=None, keepdims=False, check_finite=True):
        # NumPy's ords (SciPy's norm is NumPy's, with BLAS for the 2-norm of a whole array); kinks get
        # subgradients: 0 at the zero vector, ties share.
        y = scipy_linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims, check_finite=check_finite)
        def scipy_norm_pullback(dy):
            return norm_partial(dy, a, y, ord, axis, keepdims), None, None, None, None
        return y, scipy_norm_pullback

    @rule(scipy_linalg.lstsq, outputs=4, static=("cond", "overwrite_a", "overwrite_b", "check_finite",
                                                 "lapack_driver"))
    def δscipy_lstsq(a, b, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True, lapack_driver=None):
        # x and the residues are differentiated (a of full rank); rank and singular values are constants.
        x, residues, rank, s = scipy_linalg.lstsq(a, b, cond=cond, check_finite=check_finite,
                                                  lapack_driver=lapack_driver)
        def scipy_lstsq_pullback(dx, dresidues, drank, ds):
            da, db = lstsq_partials(dx, dresidues, a, b, x)
            return da, db, None, None, None, None, None
        return x, residues, rank, s, scipy_lstsq_pullback

    # ---- lu_factor, lu_solve: the cho_factor, cho_solve pattern -----------------------------------------

    @rule(scipy_linalg.lu_factor, outputs=2, static=("overwrite_a", "check_finite"))
    def δlu_factor(a, overwrite_a=False, check_finite=True):
        lu, piv = scipy_linalg.lu_factor(a, check_finite=check_finite)
        def lu_factor_pullback(dlu, dpiv):
            return lu_factor_partial(dlu, lu, piv), None, None
        return lu, piv, lu_factor_pullback

    @rule(scipy_linalg.lu_solve, static=("trans", "overwrite_b", "check_finite"), sequences=True)
    def δlu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
        x = scipy_linalg.lu_solve(lu_and_piv, b, trans=trans, check_finite=check_finite)
        def lu_solve_pullback(dx):
            dlu_and_piv, db = lu_solve_partials(dx, lu_and_piv, b, x, trans)
            return dlu_and_piv, db, None, None, None
        return x, lu_solve_pullback

    # ---- block_diag -------------------------------------------------------------------------------------

    @rule(scipy_linalg.block_diag)
    def δblock_diag(a1, a2=None, a3=None, a4=None, a5=None, a6=None, a7=None, a8=None):
        # block_diag(*arrs) for up to eight blocks (rules take named parameters; more are refused by the
        # lowering, by count). Linear: each block's partial is its block of the cotangent. The call passes
        # the blocks given (inlined, the tests of the None defaults are decided: SciPy's call is what is left).
        y = scipy_linalg.block_diag(a1) if a2 is None else scipy_linalg.block_diag(a1, a2) if a3 is None else \
            scipy_linalg.block_diag(a1, a2, a3) if a4 is None else scipy_linalg.block_diag(a1, a2, a3, a4) \
            if a5 is None else scipy_linalg.block_diag(a1, a2, a3, a4, a5) if a6 is None else \
            scipy_linalg.block_diag(a1, a2, a3, a4, a5, a6) if a7 is None else \
            scipy_linalg.block_diag(a1, a2, a3, a4, a5, a6, a7) if a8 is None else \
            scipy_linalg.block_diag(a1, a2, a3, a4, a5, a6, a7, a8)
        def block_diag_pullback(dy):
            blocks = (a1, a2, a3, a4, a5, a6, a7, a8)
            return (block_diag_partial(dy, blocks, 0), block_diag_partial(dy, blocks, 1),
                    block_diag_partial(dy, blocks, 2), block_diag_partial(dy, blocks, 3),
                    block_diag_partial(dy, blocks, 4), block_diag_partial(dy, blocks, 5),
                    block_diag_partial(dy, blocks, 6), block_diag_partial(dy, blocks, 7))
        return y, block_diag_pullback
