"""Partials of NumPy's linear algebra, as NumPy computes each function (NumPy only; batched over leading axes).

Contract: each helper takes the primal inputs, outputs and cotangents and returns partials shaped like the
inputs. ``cholesky`` and ``eigh`` read one triangle of their input (LAPACK's), so their partials live on
that triangle: perturbing the other triangle changes nothing. SVD, QR, eigh and pinv partials hold where
the decomposition is differentiable (distinct singular values / eigenvalues, full rank); repeated values
give 0 instead of infinities in the coupling terms. References: M. Giles, "An extended collection of matrix
derivative results" (2008); J. Townsend, "Differentiating the singular value decomposition" (2016);
I. Murray, "Differentiation of the Cholesky decomposition" (2016); Walter & Lehmann (2018) for QR.
"""

from __future__ import annotations

import numpy as np

from ..errors import MissingRuleError
from ..runtime import as_array, dispatches_numpy, shape_of, unbroadcast
from .support import cotangent_array, eye_like, in_library_of


def _T(a):
    return np.swapaxes(a, -1, -2)


def _float(a):
    a = as_array(a)
    return a if a.dtype.kind == "f" else a.astype(np.float64)


def symmetric_from_triangle(a, uplo):
    """The symmetric matrix that the ``uplo`` triangle of ``a`` stands for (what eigh/cholesky read)."""
    if uplo == "L":
        return np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2)
    return np.triu(a) + np.swapaxes(np.triu(a, 1), -1, -2)


def triangle_of(a, lower: bool, unit_diagonal: bool = False):
    """The entries of ``a`` that a triangular solve reads: its lower (else upper) triangle, without the
    diagonal when ``unit_diagonal``; zeros elsewhere. Linear in ``a`` and its own adjoint."""
    if lower:
        return np.tril(a, -1 if unit_diagonal else 0)
    return np.triu(a, 1 if unit_diagonal else 0)


def fold_onto_triangle(g, lower: bool):
    """The adjoint of :func:`symmetric_from_triangle`: the partial of a function that reads only one triangle
    of a symmetric input (LAPACK-style), where the symmetric matrix has partial ``g``. An entry off the
    diagonal stands for two entries of it (``g``'s two, added), the other triangle for none (0)."""
    if lower:
        return np.tril(g) + np.tril(_T(g), -1)
    return np.triu(g) + np.triu(_T(g), 1)


def _coupling(values):
    """F[i, j] = 1 / (values[j] - values[i]) off the diagonal, 0 on it and where values repeat."""
    diff = values[..., None, :] - values[..., :, None]
    off = ~eye_like(values.shape[-1], values, dtype=bool)
    safe = np.where(off & (diff != 0), diff, 1.0)
    return np.where(off & (diff != 0), 1.0 / safe, 0.0)


def inv_partial(dy, y):
    """d inv(A): -inv(A)^T dY inv(A)^T."""
    yt = _T(y)
    return -(yt @ dy @ yt)


def det_partial(dy, a, d):
    """d det(A) = det(A) inv(A)^T."""
    return cotangent_array(dy * d, a)[..., None, None] * _T(np.linalg.inv(a))


def slogdet_partial(dlogdet, a):
    """d log|det A| = inv(A)^T (the sign is piecewise constant)."""
    if dlogdet is None:
        return np.zeros_like(_float(a))
    return cotangent_array(dlogdet, a)[..., None, None] * _T(np.linalg.inv(a))


def solve_partials(dx, a, b, x):
    """``solve(A, b)``: db = solve(A^T, dx), dA = -db x^T (b is a vector only when 1-D, as in NumPy 2)."""
    a = _float(a)
    if np.ndim(b) == 1:
        db = np.linalg.solve(_T(a), dx[..., None])[..., 0]
        da = -db[..., :, None] * x[..., None, :]
    else:
        db = np.linalg.solve(_T(a), dx)
        da = -(db @ _T(x))
    return unbroadcast(da, a), unbroadcast(db, b)


# scipy.linalg.solve's assume_a: the kinds that read one triangle of ``a`` as a symmetric matrix, and the
# triangular ones (reading one triangle as it stands).
SYMMETRIC_KINDS = frozenset({"pos", "positive definite", "sym", "symmetric", "her", "hermitian"})
TRIANGULAR_KINDS = {"upper triangular": False, "lower triangular": True}  # kind -> lower


def symmetric_solve_partials(dx, a, b, x, assume_a, lower: bool):
    """``scipy.linalg.solve(a, b, assume_a, lower)`` of a symmetric kind: x = S^-1 b, S the symmetric matrix
    the ``lower`` (else upper) triangle of ``a`` stands for. db = S^-1 dx; S's partial -db x^T folds onto
    that triangle (an entry off the diagonal stands for two of S); the other triangle gets zero."""
    from scipy.linalg import solve

    db = solve(a, dx, assume_a=assume_a, lower=lower)
    g = -(db[..., :, None] * x[..., None, :] if np.ndim(b) == 1 else db @ _T(x))
    return fold_onto_triangle(g, lower), db


def cho_factor_partial(dc, c, lower: bool):
    """``scipy.linalg.cho_factor(a, lower)``: ``c`` holds the Cholesky factor in one triangle and, as LAPACK
    leaves it, ``a``'s own entries in the other (what SciPy calls arbitrary data): the factor's cotangent goes
    through Cholesky's partial onto the triangle it is read from, the other triangle's straight to ``a``'s."""
    factor, dfactor = (np.tril(c), np.tril(dc)) if lower else (np.triu(c), np.triu(dc))
    copied = np.triu(dc, 1) if lower else np.tril(dc, -1)
    return cholesky_partial(dfactor, factor, not lower) + copied


def cho_solve_partials(dx, c_and_lower, b, x):
    """``scipy.linalg.cho_solve((c, lower), b)``: x = S^-1 b with S = L L^T (L the lower triangle of ``c``) or
    U^T U (U the upper one). db = S^-1 dx; with G = -db x^T, L's partial is (G + G^T) L and U's U (G + G^T),
    on that triangle; the other triangle of ``c`` is not read (zero). Returns ((dc, None), db): the first
    partial is that of the pair."""
    from scipy.linalg import cho_solve

    c, lower = c_and_lower
    db = cho_solve((c, lower), dx)
    g = -(db[..., :, None] * x[..., None, :] if np.ndim(b) == 1 else db @ _T(x))
    g = g + _T(g)
    # (of a batch, cho_factor gives one flag per matrix, all alike)
    dc = np.tril(g @ np.tril(c)) if np.all(lower) else np.triu(np.triu(c) @ g)
    return (dc, None), db


def cholesky_partial(dl, l, upper: bool):
    """Murray (2016): G = L^-T Phi(L^T dL) L^-1, Phi = lower triangle with the diagonal halved."""
    if upper:
        l, dl = _T(l), _T(dl)
    phi = np.tril(_T(l) @ dl)
    phi = phi - 0.5 * eye_like(phi.shape[-1], phi) * phi
    linv = np.linalg.inv(l)
    g = _T(linv) @ phi @ linv
    return fold_onto_triangle(0.5 * (g + _T(g)), lower=not upper)


def eigh_partial(dw, dv, w, v, uplo: str):
    """A = V diag(w) V^T: G = V (diag(dw) + F o (V^T dV)) V^T, F[i, j] = 1 / (w_j - w_i)."""
    inner = np.zeros_like(v)
    if dw is not None:
        inner = inner + eye_like(w.shape[-1], w) * cotangent_array(dw, w)[..., None, :]  # (a Dask dw stays lazy)
    if dv is not None:
        inner = inner + _coupling(w) * (_T(v) @ dv)
    g = v @ inner @ _T(v)
    return fold_onto_triangle(0.5 * (g + _T(g)), lower=uplo.upper() == "L")


def pinv_partial(dp, a, p):
    """Golub & Pereyra: the transpose of dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P."""
    m, n = a.shape[-2], a.shape[-1]
    eye_m, eye_n = eye_like(m, a), eye_like(n, a)
    pt, dpt = _T(p), _T(dp)
    return -(pt @ dp @ pt) + (eye_m - a @ p) @ dpt @ p @ pt + pt @ p @ dpt @ (eye_n - p @ a)


def svd_partial(du, ds, dvh, a, u, s, vh, full_matrices: bool):
    """Townsend (2016), thin SVD A = U diag(s) V^T; square inputs may use full_matrices=True."""
    m, n = a.shape[-2], a.shape[-1]
    if full_matrices and m != n:
        raise MissingRuleError("np.linalg.svd of a non-square matrix with full_matrices=True has no rule: "
                               "the extra singular vectors are not determined by A",
                               hint="Pass full_matrices=False.")
    k = s.shape[-1]
    v = _T(vh)
    g = np.zeros_like(a, dtype=np.result_type(a.dtype, np.float32))
    s_mat = eye_like(k, s) * s[..., None, :]
    inner = np.zeros_like(s_mat)
    f = _coupling(s * s)
    s_inv = np.where(s != 0, 1.0 / np.where(s != 0, s, 1.0), 0.0)
    if ds is not None:
        inner = inner + eye_like(k, s) * cotangent_array(ds, s)[..., None, :]
    if du is not None:
        ut_du = _T(u) @ du
        inner = inner + (f * (ut_du - _T(ut_du))) @ s_mat
        g = g + (eye_like(m, u) - u @ _T(u)) @ du * s_inv[..., None, :] @ vh
    if dvh is not None:
        dv = _T(dvh)
        vt_dv = _T(v) @ dv
        inner = inner + s_mat @ (f * (vt_dv - _T(vt_dv)))
        g = g + (u * s_inv[..., None, :]) @ _T(dv) @ (eye_like(n, v) - v @ vh)
    return g + u @ inner @ vh


def qr_partial(dq, dr, a, q, r):
    """Reduced QR with m >= n: dA = (dQ + Q copyltu(M)) R^-T, M = R dR^T - dQ^T Q."""
    m, n = a.shape[-2], a.shape[-1]
    if m < n:
        raise MissingRuleError("np.linalg.qr of a wide matrix (more columns than rows) has no rule")
    dq = np.zeros_like(q) if dq is None else dq
    dr = np.zeros_like(r) if dr is None else dr
    mm = r @ _T(dr) - _T(dq) @ q
    lower = np.tril(mm, -1)
    copyltu = lower + _T(lower) + eye_like(mm.shape[-1], mm) * mm
    rhs = dq + q @ copyltu
    return _T(np.linalg.solve(r, _T(rhs)))


def lstsq_partials(dx, dres, a, b, x):
    """``lstsq``: x = pinv(A) b, so dA comes from pinv's partial; residuals = |b - A x|^2 add -2 r x^T, 2 r."""
    a = _float(a)
    vector = np.ndim(b) == 1
    b2 = as_array(b)[:, None] if vector else as_array(b)
    x2 = as_array(x)[:, None] if vector else as_array(x)
    p = np.linalg.pinv(a)
    da = np.zeros_like(a, dtype=np.float64)
    db = np.zeros_like(b2, dtype=np.float64)
    if dx is not None:
        dx2 = as_array(dx)[:, None] if vector else as_array(dx)
        da = da + pinv_partial(dx2 @ b2.T, a, p)
        db = db + p.T @ dx2
    if dres is not None and np.size(dres):
        r = b2 - a @ x2
        da = da - 2 * (r * cotangent_array(dres, a)) @ x2.T
        db = db + 2 * r * cotangent_array(dres, a)
    return da, (db[:, 0] if vector else db)


def matrix_power_partial(dy, a, n):
    """The partial of ``matrix_power(a, n)``: sum_k (A^T)^k G (A^T)^(n-1-k); negative n goes through inv(A)."""
    a = as_array(a)
    if n == 0:
        return np.zeros_like(a, dtype=np.float64)
    base = a if n > 0 else np.linalg.inv(a)
    m = abs(n)
    bt = np.swapaxes(base, -1, -2)
    eye = eye_like(a.shape[-1], a)
    powers = [np.broadcast_to(eye, a.shape)]
    for _ in range(m - 1):
        powers.append(powers[-1] @ bt)
    g = sum(powers[k] @ dy @ powers[m - 1 - k] for k in range(m))
    if n < 0:
        g = -(bt @ g @ bt)
    return g


def multi_dot_partials(dy, arrays):
    """The partials of ``np.linalg.multi_dot(arrays)``: each gets left^T @ G @ right^T (1-D ends as vectors)."""
    mats = [as_array(a) for a in arrays]
    first_vec, last_vec = mats[0].ndim == 1, mats[-1].ndim == 1
    if first_vec:
        mats[0] = mats[0][None, :]
    if last_vec:
        mats[-1] = mats[-1][:, None]
    g = as_array(dy)
    g = np.reshape(g, (mats[0].shape[0], mats[-1].shape[1]))
    if any(dispatches_numpy(v) for v in [g, *mats]):
        return _multi_dot_partials_without_eye(in_library_of(g, *mats), mats, arrays)
    parts = []
    for i in range(len(mats)):
        left = np.eye(mats[0].shape[0])
        for m in mats[:i]:
            left = left @ m
        right = np.eye(mats[-1].shape[1])
        for m in reversed(mats[i + 1:]):
            right = m @ right
        parts.append(np.reshape(left.T @ g @ right.T, shape_of(arrays[i])))
    return parts


def _multi_dot_partials_without_eye(g, mats, arrays):
    """``multi_dot_partials`` for arrays NumPy's functions hand to their own library (Dask's, CuPy's): the
    products on either side of each matrix without NumPy's identity matrices (an empty side is no factor)."""
    parts = []
    for i in range(len(mats)):
        part = g
        if i > 0:
            left = mats[0]
            for m in mats[1:i]:
                left = left @ m
            part = left.T @ part
        if i < len(mats) - 1:
            right = mats[-1]
            for m in reversed(mats[i + 1:-1]):
                right = m @ right
            part = part @ right.T
        parts.append(np.reshape(part, shape_of(arrays[i])))
    return parts


def solve_triangular_partials(dx, a, x, transposed: bool, lower: bool, unit_diagonal: bool):
    """``scipy.linalg.solve_triangular``: x = A^-1 b (A^-T b when ``transposed``), A read in one triangle
    (without its diagonal when ``unit_diagonal``): db = A^-T dx (A^-1 dx), dA = -db x^T (-x db^T) on
    the entries read."""
    from scipy.linalg import solve_triangular

    db = solve_triangular(a, dx, trans=0 if transposed else 1, lower=lower, unit_diagonal=unit_diagonal)
    first, second = (x, db) if transposed else (db, x)
    da = -(first[:, None] * second[None, :] if np.ndim(x) == 1 else first @ _T(second))
    return triangle_of(da, lower, unit_diagonal), db


def expm_partial(de, a):
    """``scipy.linalg.expm``: the adjoint of the Fréchet derivative, L(A^T, dE) (Al-Mohy and Higham), per
    matrix of a batch."""
    from scipy.linalg import expm_frechet

    a = _float(a)
    if a.ndim == 2:
        return expm_frechet(a.T, de, compute_expm=False)
    flat_a, flat_de = a.reshape(-1, *a.shape[-2:]), np.broadcast_to(de, a.shape).reshape(-1, *a.shape[-2:])
    return np.stack([expm_frechet(m.T, d, compute_expm=False) for m, d in zip(flat_a, flat_de)]).reshape(a.shape)


# ---- scipy.stats.multivariate_normal (rules/scipy_stats.py) --------------------------------------------------

def gaussian_dimension(mean, cov) -> int:
    """The dimension k that ``scipy.stats.multivariate_normal``'s methods infer (``_process_parameters_psd``):
    ``mean``'s size where it is given, else the rows of a 2-D ``cov``, else 1."""
    if mean is not None:
        return int(np.size(mean))
    return int(np.shape(cov)[0]) if np.ndim(cov) == 2 else 1


def gaussian_covariance(cov, k: int):
    """The (k, k) symmetric matrix ``multivariate_normal`` takes ``cov`` for: a number is a variance (``cov * I``),
    a 1-D array a diagonal, and a 2-D array stands for the symmetric matrix of its lower triangle: SciPy factors
    it with ``scipy.linalg.eigh(cov, lower=True)``, which reads nothing above the diagonal. Linear in ``cov``."""
    if np.ndim(cov) == 2:
        return symmetric_from_triangle(cov, "L")
    if np.ndim(cov) == 1:
        return np.diag(cov)
    return cov * np.eye(k)


def gaussian_covariance_partial(g, cov):
    """The adjoint of :func:`gaussian_covariance`: ``cov``'s partial where the matrix it stands for has partial
    ``g``. For a 2-D ``cov`` an entry below the diagonal stands for two entries of the matrix (``g``'s two,
    folded) and one above it for none (0); a 1-D ``cov`` gets ``g``'s diagonal, a number its trace."""
    if np.ndim(cov) == 2:
        return fold_onto_triangle(g, lower=True)
    if np.ndim(cov) == 1:
        return np.diagonal(g).copy()
    trace = np.trace(g)
    return float(trace) if type(cov) in (int, float) else np.reshape(trace, np.shape(cov))


def gaussian_log_density_partials(dy, x, mean, cov):
    """The partials in ``x``, ``mean`` and ``cov`` of ``scipy.stats.multivariate_normal.logpdf(x, mean, cov)`` for
    the cotangent ``dy`` (shaped like its result: one entry per point), shaped like ``x``, ``mean`` (None where
    ``mean`` is None) and ``cov``. ``x``'s last axis holds a point's k coordinates (for k = 1 a 1-D ``x`` is so
    many points, as SciPy takes it), so ``x`` reads as an (n, k) array of points. With r_i = x_i - mean,
    S the covariance and w_i = S^-1 r_i: logpdf_i = -(k log 2 pi + log det S + r_i^T w_i) / 2, whose partials
    are -w_i in x_i, w_i in mean, and -(S^-1 - w_i w_i^T) / 2 in S, each weighted by dy_i and summed over
    the points; S's partial then goes to ``cov`` through :func:`gaussian_covariance_partial`."""
    k = gaussian_dimension(mean, cov)
    s = gaussian_covariance(cov, k)
    points = np.reshape(x, (-1, k))
    r = points if mean is None else points - np.reshape(mean, (k,))
    w = _T(np.linalg.solve(s, _T(r)))  # row i: S^-1 r_i
    weights = np.reshape(dy, (-1, 1))  # one cotangent per point, as a column
    dr = -weights * w
    dmean = None if mean is None else np.reshape(-np.sum(dr, axis=0), np.shape(mean))
    g = -0.5 * (np.sum(weights) * np.linalg.inv(s) - _T(w) @ (weights * w))  # (S^-1 is symmetric)
    return np.reshape(dr, np.shape(x)), dmean, gaussian_covariance_partial(g, cov)
