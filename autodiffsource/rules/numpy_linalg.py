"""Rules for ``np.linalg``: inv, det, slogdet, solve, cholesky, eigh, pinv, svd, qr, lstsq, norm.

Partials are those of each function as NumPy computes it: ``cholesky`` and ``eigh`` read one triangle, so
the other triangle gets zero. Functions with several results (slogdet, eigh, svd, qr, lstsq) are
multi-output rules: they return ``(y1, ..., yn, pullback)`` and the pullback takes one cotangent per
result (None for a result that was not used). The helpers live in ``support_linalg``.
"""

import numpy as np

from .registry import rule
from .support import in_library_of
from .support_linalg import matrix_power_partial, multi_dot_partials, results_with_rule
from .support_products import matrix_norm_partial, norm_partial, vector_norm_partial
from .support_linalg import (cholesky_partial, det_partial, eigh_partial, inv_partial, lstsq_partials,
                             pinv_partial, qr_partial, slogdet_partial, solve_partials, svd_partial)


@rule(np.linalg.inv)
def δinv(a):
    y = np.linalg.inv(a)
    def inv_pullback(dy):
        return (inv_partial(dy, y),)
    return y, inv_pullback


@rule(np.linalg.det)
def δdet(a):
    y = np.linalg.det(a)
    def det_pullback(dy):
        return (det_partial(dy, a, y),)
    return y, det_pullback


@rule(np.linalg.slogdet, outputs=2, fields=("sign", "logabsdet"))
def δslogdet(a):
    sign, logabsdet = np.linalg.slogdet(a)
    def slogdet_pullback(dsign, dlogabsdet):
        # The sign is piecewise constant: only log|det| carries a partial.
        return (slogdet_partial(dlogabsdet, a),)
    return sign, logabsdet, slogdet_pullback


@rule(np.linalg.solve)
def δsolve(a, b):
    x = np.linalg.solve(a, b)
    def solve_pullback(dx):
        da, db = solve_partials(dx, a, b, x)
        return da, db
    return x, solve_pullback


@rule(np.linalg.cholesky, static=("upper",))
def δcholesky(a, upper=False):
    # NumPy (LAPACK) reads the lower triangle (the upper one with upper=True). The keyword only where given:
    # CuPy's cholesky, which NumPy's hands a CuPy array to, has no `upper` (inlined, the test is decided).
    l = np.linalg.cholesky(a, upper=True) if upper else np.linalg.cholesky(a)
    def cholesky_pullback(dl):
        return cholesky_partial(dl, l, upper), None
    return l, cholesky_pullback


@rule(np.linalg.eigh, outputs=2, static=("UPLO",), fields=("eigenvalues", "eigenvectors"))
def δeigh(a, UPLO="L"):
    # Eigenvalues ascending, as NumPy returns them; reads the UPLO triangle.
    # (Dask has no eigh: NumPy's computes a Dask `a`, so w, v and their cotangents may be NumPy's; the partial
    # goes back into a's library)
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    def eigh_pullback(dw, dv):
        return in_library_of(eigh_partial(dw, dv, w, v, UPLO), a), None
    return w, v, eigh_pullback


@rule(np.linalg.eigvalsh, static=("UPLO",))
def δeigvalsh(a, UPLO="L"):
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    def eigvalsh_pullback(dw):
        return in_library_of(eigh_partial(dw, None, w, v, UPLO), a), None  # (as eigh's)
    return w, eigvalsh_pullback


@rule(np.linalg.pinv, static=("rcond", "hermitian"))
def δpinv(a, rcond=None, hermitian=False):
    # Valid where the rank is constant near `a` (full rank, in practice). Keywords only where given, as
    # cholesky's (CuPy's pinv has no `hermitian`, and its rcond is a number).
    p = np.linalg.pinv(a, rcond=rcond, hermitian=True) if hermitian else \
        (np.linalg.pinv(a) if rcond is None else np.linalg.pinv(a, rcond=rcond))
    def pinv_pullback(dp):
        return pinv_partial(dp, a, p), None, None
    return p, pinv_pullback


@rule(np.linalg.svd, outputs=3, static=("full_matrices", "compute_uv", "hermitian"), fields=("U", "S", "Vh"))
def δsvd(a, full_matrices=True, compute_uv=True, hermitian=False):
    # U, S, Vh; distinct singular values assumed (repeated ones get 0 coupling, not infinity).
    # (`hermitian` only where given, as cholesky's `upper`: CuPy's svd has none)
    checked = results_with_rule("np.linalg.svd", "compute_uv", compute_uv, True, "np.linalg.svdvals(a)")
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices, hermitian=True) if hermitian else \
        np.linalg.svd(a, full_matrices=full_matrices)
    def svd_pullback(du, ds, dvh):
        return svd_partial(du, ds, dvh, a, u, s, vh, full_matrices), None, None, None
    return u, s, vh, svd_pullback


@rule(np.linalg.svdvals)
def δsvdvals(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    def svdvals_pullback(ds):
        return (svd_partial(None, ds, None, a, u, s, vh, False),)
    return s, svdvals_pullback


@rule(np.linalg.qr, outputs=2, static=("mode",), fields=("Q", "R"))
def δqr(a, mode="reduced"):
    q, r = np.linalg.qr(a, mode=mode)
    def qr_pullback(dq, dr):
        return qr_partial(dq, dr, a, q, r), None
    return q, r, qr_pullback


@rule(np.linalg.lstsq, outputs=4, static=("rcond",))
def δlstsq(a, b, rcond=None):
    # x and the residuals are differentiated; rank and singular values are returned as constants.
    x, residuals, rank, sv = np.linalg.lstsq(a, b, rcond=rcond)
    def lstsq_pullback(dx, dresiduals, drank, dsv):
        da, db = lstsq_partials(dx, dresiduals, a, b, x)
        return da, db, None
    return x, residuals, rank, sv, lstsq_pullback


@rule(np.linalg.matrix_power, static=("n",))
def δmatrix_power(a, n):
    y = np.linalg.matrix_power(a, n)
    def matrix_power_pullback(dy):
        return matrix_power_partial(dy, a, n), None
    return y, matrix_power_pullback


@rule(np.linalg.multi_dot, sequences=True)
def δmulti_dot(arrays):
    # A list of matrices (1-D at either end as in NumPy); each gets left^T @ G @ right^T.
    y = np.linalg.multi_dot(arrays)
    def multi_dot_pullback(dy):
        return (multi_dot_partials(dy, arrays),)
    return y, multi_dot_pullback


@rule(np.linalg.vector_norm, static=("axis", "keepdims", "ord"))
def δvector_norm(x, axis=None, keepdims=False, ord=2):
    y = np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    def vector_norm_pullback(dy):
        return vector_norm_partial(dy, x, y, ord, axis, keepdims), None, None, None
    return y, vector_norm_pullback


@rule(np.linalg.matrix_norm, static=("keepdims", "ord"))
def δmatrix_norm(x, keepdims=False, ord="fro"):
    y = np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)
    def matrix_norm_pullback(dy):
        return matrix_norm_partial(dy, x, y, ord, keepdims), None, None
    return y, matrix_norm_pullback


@rule(np.linalg.norm, static=("ord", "axis", "keepdims"))
def δnorm(x, ord=None, axis=None, keepdims=False):
    # Vector ords (2, 1, inf, -inf, 0, p) and matrix ords ('fro', 'nuc', 1, -1, 2, -2, inf, -inf);
    # kinks get subgradients: 0 at the zero vector, ties share.
    y = np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    def norm_pullback(dy):
        return norm_partial(dy, x, y, ord, axis, keepdims), None, None, None
    return y, norm_pullback
