"""Forward forms of the linear-algebra rules: cholesky, eigh, eigvalsh, svd, svdvals, qr, lstsq, pinv,
slogdet, matrix_power, multi_dot, scipy.linalg's solve, cholesky, cho_factor, cho_solve, solve_triangular,
expm, inv, eigh, eigvalsh, svd, svdvals, qr, pinv, lstsq, lu_factor and lu_solve (block_diag is linear;
det and norm are in ``rules/forward.py`` and ``rules/forward_forms.py``, beside NumPy's), and
scipy.stats.multivariate_normal's logpdf and pdf (registered with ``rules/forward.py``'s :func:`forward_form`).

Contract: as ``rules/forward_forms.py``: every form is made of operations with reverse rules or of helpers
listed in :data:`HELPERS` with theirs, so jvp code stays differentiable (second order). Tangents follow
the usual identities (Murray 2016 for Cholesky, Townsend 2016 for the SVD, Golub & Pereyra for pinv);
decompositions assume distinct eigen/singular values (repeated ones get zero coupling, as the rules'
pullbacks do) and full rank.
"""

from __future__ import annotations

import numpy as np
import numpy as xp  # the stand-in name in forward forms; inlined code binds the run-time namespace

from .forward import _constant_rule, _is_false_or_absent, declare_linear, differentiable_source, forward_form
from .registry import nondiff
from .forward import δsafe_divide  # noqa: F401  (found beside safe_divide by differentiable_source functions)
from .support import safe_divide
from .support_linalg import (SYMMETRIC_KINDS, TRIANGULAR_KINDS, eigh_partial, fold_onto_triangle,
                             gaussian_covariance, gaussian_covariance_partial, gaussian_dimension, lu_rows,
                             matrix_power_partial, multi_dot_partials, qr_mode_with_rule, read_matrix_partial,
                             results_with_rule, rows_in_order, standard_eigenproblem, svd_partial,
                             symmetric_from_triangle, triangle_name, triangle_of, unit_lower)


# ---- linear algebra ---------------------------------------------------------------------------------------

def δsymmetric_from_triangle(a, uplo):
    s = symmetric_from_triangle(a, uplo)

    def symmetric_from_triangle_pullback(ds):
        return fold_onto_triangle(ds, uplo == "L"), None

    return s, symmetric_from_triangle_pullback


def lower_half_diagonal(m):
    """The lower triangle of ``m`` with its diagonal halved (Murray's Phi, for Cholesky's tangent)."""
    return np.tril(m) - 0.5 * (m * np.eye(np.shape(m)[-1]))


def δlower_half_diagonal(m):
    y = lower_half_diagonal(m)

    def lower_half_diagonal_pullback(dy):
        return lower_half_diagonal(dy)

    return y, lower_half_diagonal_pullback


def transpose_if(m, flag):
    """``m`` with its last two axes swapped when ``flag`` (upper Cholesky factors are lower ones, transposed)."""
    return np.swapaxes(m, -1, -2) if flag else m


def δtriangle_of(a, lower, unit_diagonal=False):
    def triangle_of_pullback(dt):
        return triangle_of(dt, lower, unit_diagonal), None, None  # (a mask: its own adjoint)

    return triangle_of(a, lower, unit_diagonal), triangle_of_pullback


def δtranspose_if(m, flag):
    def transpose_if_pullback(dm):
        return transpose_if(dm, flag), None

    return transpose_if(m, flag), transpose_if_pullback


def triangle_read(upper):
    """The triangle ``np.linalg.cholesky(a, upper=upper)`` reads."""
    return "U" if upper else "L"


@forward_form("δcholesky")
def jvp_cholesky(a, a_dot, y, upper=False):
    return cholesky_tangent(a_dot, y, upper)


@differentiable_source
def cholesky_tangent(a_dot, factor, upper):
    """The tangent of the Cholesky factor ``factor`` (the upper one, U = L^T, when ``upper``) of the matrix
    whose read triangle moves by ``a_dot``: L' = L Phi(L^-1 S L^-T), S the symmetric matrix that triangle
    stands for."""
    lower = transpose_if(factor, upper)
    s = symmetric_from_triangle(a_dot, triangle_read(upper))
    half = np.linalg.solve(lower, s)
    inner = np.swapaxes(np.linalg.solve(lower, np.swapaxes(half, -1, -2)), -1, -2)
    return transpose_if(lower @ lower_half_diagonal(inner), upper)


class _ScipyLinalg:
    """``scipy.linalg``, imported on first use (``import autodiffsource`` does not import SciPy; its rules
    register once the user's code does: rules/scipy_linalg.py)."""

    def __getattr__(self, name: str):
        import scipy.linalg

        value = getattr(scipy.linalg, name)
        setattr(self, name, value)  # later lookups skip __getattr__
        return value


scipy_linalg = _ScipyLinalg()


@forward_form("δscipy_cholesky")
def jvp_scipy_cholesky(a, a_dot, y, lower=False, overwrite_a=False, check_finite=True):
    # (SciPy's default factor is the upper one, U^T U = A, read from the upper triangle)
    return cholesky_tangent(a_dot, y, not lower)


@forward_form("δscipy_solve")
def jvp_scipy_solve(a, a_dot, b, b_dot, y, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
                    assume_a=None, transposed=False):
    # y' = A^-1 (b' - A' y), A' what the kind reads of a_dot (the rule refuses the other kinds)
    moved = matrix_read_by_solve(a_dot, assume_a, lower) @ y
    return scipy_linalg.solve(a, b_dot - moved, lower=lower, assume_a=assume_a)


def matrix_read_by_solve(a, assume_a, lower):
    """The matrix ``scipy.linalg.solve(a, b, assume_a=assume_a, lower=lower)`` solves with: ``a`` itself, the
    symmetric matrix one triangle stands for, or one triangle (linear in ``a``: the same map takes tangents)."""
    if assume_a in SYMMETRIC_KINDS:
        return symmetric_from_triangle(a, "L" if lower else "U")
    if assume_a in TRIANGULAR_KINDS:
        return triangle_of(a, TRIANGULAR_KINDS[assume_a])
    return a


def δmatrix_read_by_solve(a, assume_a, lower):
    def matrix_read_by_solve_pullback(dm):
        return read_matrix_partial(dm, assume_a, lower), None, None

    return matrix_read_by_solve(a, assume_a, lower), matrix_read_by_solve_pullback


@forward_form("δscipy_inv")
def jvp_scipy_inv(a, a_dot, y, overwrite_a=False, check_finite=True, assume_a=None, lower=False):
    # inv(A)' = -inv(A) A' inv(A), A' what the kind reads of a_dot (the rule refuses the other kinds)
    return -(y @ matrix_read_by_solve(a_dot, assume_a, lower) @ y)


def cho_factor_value(a, lower=False, overwrite_a=False, check_finite=True):
    return scipy_linalg.cho_factor(a, lower=lower)


@forward_form("δcho_factor", value=cho_factor_value, output=("c", "low"))
def jvp_cho_factor(a, a_dot, c, low, lower=False, overwrite_a=False, check_finite=True):
    return cho_factor_tangent(a_dot, c, lower), 0.0


@differentiable_source
def cho_factor_tangent(a_dot, c, lower):
    """The tangent of ``cho_factor(a, lower)[0]``: Cholesky's on the factor's triangle, ``a_dot``'s own entries
    on the other (where ``c`` holds ``a``'s, as LAPACK leaves them)."""
    if lower:
        return cholesky_tangent(a_dot, np.tril(c), False) + np.triu(a_dot, 1)
    return cholesky_tangent(a_dot, np.triu(c), True) + np.tril(a_dot, -1)


@forward_form("δcho_solve")
def jvp_cho_solve(c_and_lower, c_and_lower_dot, b, b_dot, y, overwrite_b=False, check_finite=True):
    return cho_solve_tangent(c_and_lower, c_and_lower_dot[0], b_dot, y)


@differentiable_source
def cho_solve_tangent(c_and_lower, c_dot, b_dot, x):
    """The tangent of x = cho_solve((c, lower), b) = S^-1 b: S^-1 (b' - S' x), S' = L' L^T + L L'^T from the
    factor's triangle of ``c_dot`` (U'^T U + U^T U' for an upper factor)."""
    c, lower = c_and_lower
    if np.all(lower):  # (of a batch, cho_factor gives one flag per matrix, all alike)
        factor, factor_dot = np.tril(c), np.tril(c_dot)
        s_dot = factor_dot @ np.swapaxes(factor, -1, -2) + factor @ np.swapaxes(factor_dot, -1, -2)
    else:
        factor, factor_dot = np.triu(c), np.triu(c_dot)
        s_dot = np.swapaxes(factor_dot, -1, -2) @ factor + np.swapaxes(factor, -1, -2) @ factor_dot
    return scipy_linalg.cho_solve((c, lower), b_dot - s_dot @ x)


@forward_form("δsolve_triangular")
def jvp_solve_triangular(a, a_dot, b, b_dot, y, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                         check_finite=True):
    # y' = A^-1 (b' - A' y), or A^-T (b' - A'^T y) for trans, with A' on the entries SciPy reads of A.
    moved = transpose_if(triangle_of(a_dot, lower, unit_diagonal), trans not in (0, "N")) @ y
    return scipy_linalg.solve_triangular(a, b_dot - moved, trans=trans, lower=lower, unit_diagonal=unit_diagonal)


# ---- scipy.linalg.lu_factor, lu_solve: A = P L U, packed in lu (L unit lower, below the diagonal) -------------

def lu_factor_value(a, overwrite_a=False, check_finite=True):
    return scipy_linalg.lu_factor(a, check_finite=check_finite)


@forward_form("δlu_factor", value=lu_factor_value, output=("lu", "piv"))
def jvp_lu_factor(a, a_dot, lu, piv, overwrite_a=False, check_finite=True):
    return lu_factor_tangent(a_dot, lu, piv), 0.0  # (the pivots are integers: piecewise constant)


@differentiable_source
def lu_factor_tangent(a_dot, lu, piv):
    """The tangent of ``lu_factor(a)[0]``: F = L^-1 P^T A' U^-1 splits into L^-1 L' (strictly lower) and U' U^-1
    (upper), so L' = L tril(F, -1) and U' = triu(F) U, packed as ``lu`` is."""
    lower = unit_lower(lu)
    upper = np.triu(lu)
    left = np.linalg.solve(lower, rows_in_order(a_dot, lu_rows(piv)))
    f = np.swapaxes(np.linalg.solve(np.swapaxes(upper, -1, -2), np.swapaxes(left, -1, -2)), -1, -2)
    return lower @ np.tril(f, -1) + np.triu(f) @ upper


@forward_form("δlu_solve")
def jvp_lu_solve(lu_and_piv, lu_and_piv_dot, b, b_dot, y, trans=0, overwrite_b=False, check_finite=True):
    return lu_solve_tangent(lu_and_piv, lu_and_piv_dot[0], b_dot, y, trans)


@differentiable_source
def lu_solve_tangent(lu_and_piv, lu_dot, b_dot, x, trans):
    """The tangent of x = lu_solve((lu, piv), b, trans) = A^-1 b (A^-T b for trans 1 or 2): A^-1 (b' - A' x)
    (A^-T (b' - A'^T x)), A' = P (L' U + L U') with L' and U' packed in ``lu_dot`` as L and U are in ``lu``."""
    lu, piv = lu_and_piv
    moved = np.tril(lu_dot, -1) @ np.triu(lu) + unit_lower(lu) @ np.triu(lu_dot)
    a_dot = rows_in_order(moved, lu_rows(piv, True))
    return scipy_linalg.lu_solve((lu, piv), b_dot - transpose_if(a_dot, trans != 0) @ x, trans=trans)


def δunit_lower(lu):
    def unit_lower_pullback(dl):
        return np.tril(dl, -1)

    return unit_lower(lu), unit_lower_pullback


def δrows_in_order(m, rows):
    def rows_in_order_pullback(dm):
        return rows_in_order(dm, np.argsort(rows, axis=-1)), None  # (a permutation: its inverse is its adjoint)

    return rows_in_order(m, rows), rows_in_order_pullback


δlu_rows = _constant_rule(lu_rows)
declare_linear("δblock_diag")  # scipy.linalg.block_diag: its tangent is the block_diag of the tangents


@forward_form("δexpm")
def jvp_expm(a, a_dot, y):
    # The Fréchet derivative L(A, A') is the upper right block of expm([[A, A'], [0, A]]) (Al-Mohy and
    # Higham 2009): made of operations with reverse rules, so that jvp code is differentiated again.
    n = np.shape(a)[-1]
    top = np.concatenate([a, a_dot], axis=-1)
    bottom = np.concatenate([np.zeros_like(a), a], axis=-1)
    return scipy_linalg.expm(np.concatenate([top, bottom], axis=-2))[..., :n, n:]


def eigh_vectors(a, uplo):
    """The eigenvectors of the symmetric matrix the ``uplo`` triangle of ``a`` stands for."""
    return np.linalg.eigh(a, UPLO=uplo)[1]


def δeigh_vectors(a, uplo):
    w, v = np.linalg.eigh(a, UPLO=uplo)

    def eigh_vectors_pullback(dv):
        return eigh_partial(None, dv, w, v, uplo), None

    return v, eigh_vectors_pullback


@forward_form("δeigvalsh")
def jvp_eigvalsh(a, a_dot, y, UPLO="L"):
    return eigenvalues_tangent(a, a_dot, UPLO)


@forward_form("δscipy_eigvalsh")
def jvp_scipy_eigvalsh(a, a_dot, y, b=None, lower=True, overwrite_a=False, overwrite_b=False, type=1,
                       check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    return eigenvalues_tangent(a, a_dot, triangle_name(lower))


@differentiable_source
def eigenvalues_tangent(a, a_dot, uplo):
    """The tangent of the eigenvalues of the symmetric matrix the ``uplo`` triangle of ``a`` stands for:
    w_i' = v_i^T S v_i, S what that triangle of ``a_dot`` stands for (distinct eigenvalues)."""
    v = eigh_vectors(a, uplo)
    return np.sum(v * (symmetric_from_triangle(a_dot, uplo) @ v), axis=-2)


def svd_left(a):
    return np.linalg.svd(a, full_matrices=False)[0]


def svd_right(a):
    return np.linalg.svd(a, full_matrices=False)[2]


def δsvd_left(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)

    def svd_left_pullback(du):
        return svd_partial(du, None, None, a, u, s, vh, False)

    return u, svd_left_pullback


def δsvd_right(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)

    def svd_right_pullback(dvh):
        return svd_partial(None, None, dvh, a, u, s, vh, False)

    return vh, svd_right_pullback


@forward_form("δsvdvals", "δscipy_svdvals")  # (scipy.linalg.svdvals: the same tangent)
def jvp_svdvals(a, a_dot, y):
    # s_i' = u_i^T A' v_i (distinct singular values).
    return xp.sum(svd_left(a) * (a_dot @ np.swapaxes(svd_right(a), -1, -2)), axis=-2)


def identity_rows(a):
    """The identity matrix of ``a``'s row count."""
    return np.eye(np.shape(a)[-2])


def identity_columns(a):
    return np.eye(np.shape(a)[-1])


@forward_form("δpinv", "δscipy_pinv", applies=_is_false_or_absent("hermitian"))  # (SciPy's has no hermitian)
def jvp_pinv(a, a_dot, y, rcond=None, hermitian=False):
    # Golub & Pereyra (constant rank): P' = -P A' P + P P^T A'^T (I - A P) + (I - P A) A'^T P^T P.
    a_dot_t = np.swapaxes(a_dot, -1, -2)
    p_t = np.swapaxes(y, -1, -2)
    first = -(y @ a_dot @ y)
    second = y @ p_t @ a_dot_t @ (identity_rows(a) - a @ y)
    third = (identity_columns(a) - y @ a) @ a_dot_t @ p_t @ y
    return first + second + third


@forward_form("δmatrix_power")
def jvp_matrix_power(a, a_dot, y, n):
    return any_matrix_power_tangent(a, a_dot, n)


@differentiable_source
def any_matrix_power_tangent(a, a_dot, n):
    """The tangent of A^n for any integer n: a negative power is a power of inv(A), whose tangent is
    -inv(A) A' inv(A)."""
    if n >= 0:
        return matrix_power_tangent(a, a_dot, n)
    b = np.linalg.inv(a)
    return matrix_power_tangent(b, -(b @ a_dot @ b), -n)


def matrix_power_tangent(a, a_dot, n):
    """sum_k A^k A' A^(n-1-k), the tangent of A^n for n >= 0."""
    if n == 0:
        return 0.0 * a_dot
    powers = _powers(a, n)
    return sum(powers[k] @ a_dot @ powers[n - 1 - k] for k in range(n))


def _powers(a, n):
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a))]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    return powers


def δmatrix_power_tangent(a, a_dot, n):
    t = matrix_power_tangent(a, a_dot, n)

    def matrix_power_tangent_pullback(dt):
        if n == 0:
            return np.zeros(np.shape(a)), np.zeros(np.shape(a_dot)), None
        powers = _powers(a, n)
        dt_ = np.swapaxes(a_dot, -1, -2)
        d_dot = sum(np.swapaxes(powers[k], -1, -2) @ dt @ np.swapaxes(powers[n - 1 - k], -1, -2) for k in range(n))
        # <dt, P_k A' Q_k>: P_k = A^k gets dt Q_k^T A'^T, Q_k = A^(n-1-k) gets A'^T P_k^T dt.
        d_a = np.zeros(np.shape(a))
        for k in range(n):
            right = np.swapaxes(powers[n - 1 - k], -1, -2)
            d_a = d_a + matrix_power_partial(dt @ right @ dt_, a, k)
            d_a = d_a + matrix_power_partial(dt_ @ np.swapaxes(powers[k], -1, -2) @ dt, a, n - 1 - k)
        return d_a, d_dot, None

    return t, matrix_power_tangent_pullback


@forward_form("δmulti_dot")
def jvp_multi_dot(arrays, arrays_dot, y):
    return multi_dot_tangent(arrays, arrays_dot)


def multi_dot_tangent(arrays, arrays_dot):
    """The product rule over a chain: sum_i multi_dot(arrays with the i-th replaced by its tangent)."""
    return sum(np.linalg.multi_dot(_replaced(arrays, i, arrays_dot[i])) for i in range(len(arrays)))


def _replaced(items, i, value):
    return list(items[:i]) + [value] + list(items[i + 1:])


def δmulti_dot_tangent(arrays, arrays_dot):
    t = multi_dot_tangent(arrays, arrays_dot)

    def multi_dot_tangent_pullback(dt):
        d_arrays = [np.zeros(np.shape(a)) for a in arrays]
        d_dots = [np.zeros(np.shape(a)) for a in arrays]
        for i in range(len(arrays)):
            parts = multi_dot_partials(dt, _replaced(arrays, i, arrays_dot[i]))
            for j, part in enumerate(parts):
                if j == i:
                    d_dots[j] = d_dots[j] + part
                else:
                    d_arrays[j] = d_arrays[j] + part
        return d_arrays, d_dots

    return t, multi_dot_tangent_pullback


# ---- scipy.stats.multivariate_normal (rules/scipy_stats.py) ----------------------------------------------
# allow_singular=True goes through the rule's pullback, which refuses it by name. The defaults are the rule's:
# an argument not passed comes in as its default, its tangent as None.

@forward_form("δmultivariate_normal_logpdf", applies=_is_false_or_absent("allow_singular"))
def jvp_multivariate_normal_logpdf(x, x_dot, y, mean=None, mean_dot=None, cov=1, cov_dot=None,
                                   allow_singular=False):
    return gaussian_log_density_tangent(x, x_dot, mean, mean_dot, cov, cov_dot, y)


@forward_form("δmultivariate_normal_pdf", applies=_is_false_or_absent("allow_singular"))
def jvp_multivariate_normal_pdf(x, x_dot, y, mean=None, mean_dot=None, cov=1, cov_dot=None,
                                allow_singular=False):
    return y * gaussian_log_density_tangent(x, x_dot, mean, mean_dot, cov, cov_dot, y)


@differentiable_source
def gaussian_log_density_tangent(x, x_dot, mean, mean_dot, cov, cov_dot, y):
    """The tangent of ``y = multivariate_normal.logpdf(x, mean, cov)``, shaped like ``y``. With the points r_i of
    ``x - mean`` (rows of k coordinates), S the covariance and w_i = S^-1 r_i:
    y_i' = -w_i . (x_i' - mean') + (w_i^T S' w_i - trace(S^-1 S')) / 2, S' read of ``cov_dot`` as S of ``cov``
    (``gaussian_covariance``). A None tangent is an argument not passed (``mean=None``, the default cov)."""
    k = gaussian_dimension(mean, cov)
    s = gaussian_covariance(cov, k)
    r = np.reshape(x, (-1, k))
    moved = np.reshape(x_dot, (-1, k))
    if mean is not None:
        r = r - np.reshape(mean, (k,))
        moved = moved - np.reshape(mean_dot, (k,))
    w = np.swapaxes(np.linalg.solve(s, np.swapaxes(r, -1, -2)), -1, -2)  # row i: S^-1 r_i
    slope = -np.sum(w * moved, axis=-1)
    if cov_dot is not None:
        s_dot = gaussian_covariance(cov_dot, k)
        slope = slope + 0.5 * (np.sum(w * (w @ s_dot), axis=-1) - np.trace(np.linalg.solve(s, s_dot)))
    return np.reshape(slope, np.shape(y))


nondiff(gaussian_dimension)  # (an integer read off shapes: a constant, so that reshapes take it as a shape)


def δgaussian_covariance(cov, k):
    def gaussian_covariance_pullback(ds):
        return gaussian_covariance_partial(ds, cov), None

    return gaussian_covariance(cov, k), gaussian_covariance_pullback


# ---- several outputs ----------------------------------------------------------------------------------

def slogdet_value(a):
    return np.linalg.slogdet(a)


@forward_form("δslogdet", value=slogdet_value, output=("sign", "logabsdet"))
def jvp_slogdet(a, a_dot, sign, logabsdet):
    return 0.0 * sign, xp.trace(np.linalg.solve(a, a_dot), axis1=-2, axis2=-1)


def eigh_value(a, UPLO="L"):
    return np.linalg.eigh(a, UPLO=UPLO)


@forward_form("δeigh", value=eigh_value, output=("w", "v"))
def jvp_eigh(a, a_dot, w, v, UPLO="L"):
    return eigh_tangent(a_dot, w, v, UPLO)


def scipy_eigh_value(a, b=None, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False, type=1,
                     check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    checked = standard_eigenproblem("eigh", b, subset_by_index, subset_by_value, eigvals_only)  # noqa: F841
    return scipy_linalg.eigh(a, lower=lower, type=type, check_finite=check_finite, driver=driver)


@forward_form("δscipy_eigh", value=scipy_eigh_value, output=("w", "v"))
def jvp_scipy_eigh(a, a_dot, w, v, b=None, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
                   type=1, check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    return eigh_tangent(a_dot, w, v, triangle_name(lower))


@differentiable_source
def eigh_tangent(a_dot, w, v, uplo):
    """The tangents of the eigenvalues ``w`` and eigenvectors ``v`` of the symmetric matrix one triangle
    (``uplo``) stands for, that triangle moving by ``a_dot``: with M = V^T S V, w' = diag(M), V' = V (F o M),
    F[i, j] = 1 / (w_j - w_i) (0 on the diagonal and for repeated eigenvalues, as the rules' pullbacks
    couple them)."""
    s_v = symmetric_from_triangle(a_dot, uplo) @ v
    m = np.swapaxes(v, -1, -2) @ s_v
    gaps = np.expand_dims(w, axis=-2) - np.expand_dims(w, axis=-1)
    return np.sum(v * s_v, axis=-2), v @ (safe_divide(1.0, gaps) * m)


def require_thin_or_square(a, full_matrices):
    """None; refuses a full SVD of a non-square matrix (its extra singular vectors are not determined)."""
    from ..errors import MissingRuleError

    if full_matrices and np.shape(a)[-1] != np.shape(a)[-2]:
        raise MissingRuleError("an SVD of a non-square matrix with full_matrices=True has no forward "
                               "form: the extra singular vectors are not determined by A",
                               hint="Pass full_matrices=False.")


def svd_value(a, full_matrices=True, compute_uv=True, hermitian=False):
    # (`hermitian` only where given, as δsvd passes it: CuPy's svd has none; one return, as the jvp inlines it)
    checked = results_with_rule("np.linalg.svd", "compute_uv", compute_uv, True,  # noqa: F841
                                "np.linalg.svdvals(a)")
    return np.linalg.svd(a, full_matrices=full_matrices, hermitian=True) if hermitian else \
        np.linalg.svd(a, full_matrices=full_matrices)


@forward_form("δsvd", value=svd_value, output=("u", "s", "vh"))
def jvp_svd(a, a_dot, u, s, vh, full_matrices=True, compute_uv=True, hermitian=False):
    return svd_tangent(a, a_dot, u, s, vh, full_matrices)


def scipy_svd_value(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
                    lapack_driver="gesdd"):
    checked = results_with_rule("scipy.linalg.svd", "compute_uv", compute_uv, True,  # noqa: F841
                                "scipy.linalg.svdvals(a)")
    return scipy_linalg.svd(a, full_matrices=full_matrices, check_finite=check_finite, lapack_driver=lapack_driver)


@forward_form("δscipy_svd", value=scipy_svd_value, output=("u", "s", "vh"))
def jvp_scipy_svd(a, a_dot, u, s, vh, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
                  lapack_driver="gesdd"):
    return svd_tangent(a, a_dot, u, s, vh, full_matrices)


@differentiable_source
def svd_tangent(a, a_dot, u, s, vh, full_matrices):
    """The tangents of A = U diag(s) V^T, Townsend (2016) forward: P = U^T A' V, s' = diag(P),
    F[i, j] = 1 / (s_j^2 - s_i^2), U' = U (F o (P S + S P^T)) + (I - U U^T) A' V S^-1,
    V' = V (F o (S P + P^T S)) + (I - V V^T) A'^T U S^-1. A full SVD of a non-square matrix is refused."""
    checked = require_thin_or_square(a, full_matrices)  # noqa: F841  (a check: raises where the form does not apply)
    v = np.swapaxes(vh, -1, -2)
    u_t = np.swapaxes(u, -1, -2)
    p = u_t @ a_dot @ v
    p_t = np.swapaxes(p, -1, -2)
    squares = s * s
    coupling = safe_divide(1.0, np.expand_dims(squares, axis=-2) - np.expand_dims(squares, axis=-1))
    s_row = np.expand_dims(s, axis=-2)
    s_col = np.expand_dims(s, axis=-1)
    inverse_row = np.expand_dims(safe_divide(1.0, s), axis=-2)
    u_dot = u @ (coupling * (p * s_row + s_col * p_t)) + (identity_rows(a) - u @ u_t) @ a_dot @ v * inverse_row
    a_dot_t = np.swapaxes(a_dot, -1, -2)
    v_dot = v @ (coupling * (s_col * p + p_t * s_row)) + (identity_columns(a) - v @ vh) @ a_dot_t @ u * inverse_row
    return u_dot, np.sum(u * (a_dot @ v), axis=-2), np.swapaxes(v_dot, -1, -2)


def require_tall(a):
    """None; refuses QR of a wide matrix, as the rule does."""
    from ..errors import MissingRuleError

    if np.shape(a)[-2] < np.shape(a)[-1]:
        raise MissingRuleError("np.linalg.qr of a wide matrix (more columns than rows) has no rule")


def qr_value(a, mode="reduced"):
    return np.linalg.qr(a, mode=mode)


def _reduced_mode(args):
    import ast

    return "mode" not in args or (isinstance(args["mode"], ast.Constant) and args["mode"].value == "reduced")


@forward_form("δqr", value=qr_value, output=("q", "r"), applies=_reduced_mode)
def jvp_qr(a, a_dot, q, r, mode="reduced"):
    return qr_tangent(a, a_dot, q, r)


def scipy_qr_value(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    checked = qr_mode_with_rule(mode, pivoting)  # noqa: F841  (a check: raises for the modes without a rule)
    return scipy_linalg.qr(a, lwork=lwork, mode=mode, check_finite=check_finite)


def require_economic(a, mode):
    """None; refuses the forward form of scipy.linalg.qr(a, mode='full') of a tall matrix: Q's columns past a's
    column count are an orthonormal complement that A does not determine (the reverse rule takes them where
    they carry no cotangent)."""
    from ..errors import MissingRuleError

    if mode == "full" and np.shape(a)[-2] > np.shape(a)[-1]:
        raise MissingRuleError("scipy.linalg.qr(a, mode='full') of a tall matrix has no forward form: the columns "
                               "of Q past a's column count are not determined by A",
                               hint="Pass mode='economic'.")


@forward_form("δscipy_qr", value=scipy_qr_value, output=("q", "r"))
def jvp_scipy_qr(a, a_dot, q, r, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    checked = require_economic(a, mode)  # noqa: F841  (a check: raises where the form does not apply)
    return qr_tangent(a, a_dot, q, r)


@differentiable_source
def qr_tangent(a, a_dot, q, r):
    """The tangents of A = Q R (reduced, A tall or square): C = Q^T A' R^-1, Omega = tril(C, -1) - tril(C, -1)^T
    (= Q^T Q'): Q' = Q Omega + (I - Q Q^T) A' R^-1, R' = Q^T A' - Omega R. A wide matrix is refused."""
    checked = require_tall(a)  # noqa: F841  (a check: raises where the form does not apply)
    q_t = np.swapaxes(q, -1, -2)
    a_dot_r_inv = np.swapaxes(np.linalg.solve(np.swapaxes(r, -1, -2), np.swapaxes(a_dot, -1, -2)), -1, -2)
    strictly_lower = np.tril(q_t @ a_dot_r_inv, -1)
    omega = strictly_lower - np.swapaxes(strictly_lower, -1, -2)
    q_dot = q @ omega + (identity_rows(a) - q @ q_t) @ a_dot_r_inv
    return q_dot, q_t @ a_dot - omega @ r


def lstsq_value(a, b, rcond=None):
    return np.linalg.lstsq(a, b, rcond=rcond)


@forward_form("δlstsq", value=lstsq_value, output=("x", "residuals", "rank", "sv"))
def jvp_lstsq(a, a_dot, b, b_dot, x, residuals, rank, sv, rcond=None):
    return lstsq_tangent(a, a_dot, b, b_dot, x, residuals)


def scipy_lstsq_value(a, b, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True, lapack_driver=None):
    return scipy_linalg.lstsq(a, b, cond=cond, check_finite=check_finite, lapack_driver=lapack_driver)


@forward_form("δscipy_lstsq", value=scipy_lstsq_value, output=("x", "residues", "rank", "s"))
def jvp_scipy_lstsq(a, a_dot, b, b_dot, x, residues, rank, s, cond=None, overwrite_a=False, overwrite_b=False,
                    check_finite=True, lapack_driver=None):
    return lstsq_tangent(a, a_dot, b, b_dot, x, residues)


@differentiable_source
def lstsq_tangent(a, a_dot, b, b_dot, x, residuals):
    """Tangents of (x, residuals, rank, singular values) of lstsq for a matrix of full rank: x = pinv(A) b."""
    p = np.linalg.pinv(a)
    a_dot_t = np.swapaxes(a_dot, -1, -2)
    p_t = np.swapaxes(p, -1, -2)
    p_dot = -(p @ a_dot @ p) + p @ p_t @ a_dot_t @ (identity_rows(a) - a @ p) + (
        identity_columns(a) - p @ a) @ a_dot_t @ p_t @ p
    x_dot = p_dot @ b + p @ b_dot
    if np.size(residuals) == 0:
        residuals_dot = 0.0 * residuals
    else:
        # d/dt |b - A x|^2 = 2 r . (b' - A' x - A x'), and A^T r = 0 at the least-squares solution.
        r = b - a @ x
        residuals_dot = np.reshape(2.0 * np.sum(r * (b_dot - a_dot @ x), axis=0), np.shape(residuals))
    sv_dot = np.sum(svd_left(a) * (a_dot @ np.swapaxes(svd_right(a), -1, -2)), axis=-2)
    return x_dot, residuals_dot, 0.0, sv_dot


# The reverse rules the differentiable_source functions find beside the helpers they call (δname).
δidentity_rows = _constant_rule(identity_rows)
δidentity_columns = _constant_rule(identity_columns)
δrequire_thin_or_square = _constant_rule(require_thin_or_square)  # (checks, called by svd_tangent and qr_tangent)
δrequire_tall = _constant_rule(require_tall)

HELPERS = [
    (symmetric_from_triangle, δsymmetric_from_triangle), (lower_half_diagonal, δlower_half_diagonal),
    (eigh_vectors, δeigh_vectors), (svd_left, δsvd_left), (svd_right, δsvd_right),
    (identity_rows, δidentity_rows), (identity_columns, δidentity_columns),
    (matrix_power_tangent, δmatrix_power_tangent), (multi_dot_tangent, δmulti_dot_tangent),
    (transpose_if, δtranspose_if), (triangle_of, δtriangle_of), (triangle_read, _constant_rule(triangle_read)),
    (require_thin_or_square, δrequire_thin_or_square), (require_tall, δrequire_tall),
    (gaussian_covariance, δgaussian_covariance),
    (triangle_name, _constant_rule(triangle_name)), (require_economic, _constant_rule(require_economic)),
    (unit_lower, δunit_lower), (rows_in_order, δrows_in_order), (lu_rows, δlu_rows),
]
