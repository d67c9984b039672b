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


def read_matrix_partial(g, assume_a, lower: bool):
    """The partial of ``a`` where the matrix that ``scipy.linalg.solve`` or ``inv`` takes it for (given
    ``assume_a`` and ``lower``) has partial ``g``: folded onto the triangle read for the symmetric kinds, that
    triangle of ``g`` for the triangular ones, ``g`` itself for the general kind (the adjoint of
    ``forward_linalg.matrix_read_by_solve``)."""
    if assume_a in SYMMETRIC_KINDS:
        return fold_onto_triangle(g, lower)
    if assume_a in TRIANGULAR_KINDS:
        return triangle_of(g, TRIANGULAR_KINDS[assume_a])
    return g


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


def svd_partial(du, ds, dvh, a, u, s, vh, full_matrices: bool, function: str = "np.linalg.svd"):
    """Townsend (2016), thin SVD A = U diag(s) V^T; square inputs may use full_matrices=True (a refusal
    names ``function`` otherwise)."""
    m, n = a.shape[-2], a.shape[-1]
    if full_matrices and m != n:
        raise MissingRuleError(f"{function} of a non-square matrix with full_matrices=True has no rule: "
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


def qr_partial(dq, dr, a, q, r, function: str = "np.linalg.qr"):
    """Reduced QR with m >= n: dA = (dQ + Q copyltu(M)) R^-T, M = R dR^T - dQ^T Q (a refusal of a wide
    matrix names ``function``)."""
    m, n = a.shape[-2], a.shape[-1]
    if m < n:
        raise MissingRuleError(f"{function} of a wide matrix (more columns than rows) has no rule")
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


def full_qr_partial(dq, dr, a, q, r):
    """``scipy.linalg.qr(a, mode='full')``: Q is (m, m), R (m, n). Where m > n, A = Q1 R1 with Q1 Q's first n
    columns and R1 R's first n rows; R's other rows are zeros whatever A is (no partial), and Q's other
    columns, an orthonormal complement A does not determine, must carry no cotangent (else refused)."""
    m, n = a.shape[-2], a.shape[-1]
    if m <= n:
        return qr_partial(dq, dr, a, q, r, "scipy.linalg.qr")  # (square: full is economic; wide: refused)
    if dq is not None and np.any(as_array(dq)[..., n:] != 0):
        raise MissingRuleError("scipy.linalg.qr(a, mode='full') of a tall matrix has no partial for the columns "
                               "of Q past a's column count: A does not determine them",
                               hint="Pass mode='economic' (Q with a's column count), or use only those columns.")
    return qr_partial(None if dq is None else dq[..., :n], None if dr is None else dr[..., :n, :], a, q[..., :n],
                      r[..., :n, :], "scipy.linalg.qr")


# ---- scipy.linalg's keywords: those that change what is computed and have no rule are refused by name ------

def inv_kind(assume_a):
    """``assume_a`` of ``scipy.linalg.inv`` where it has a rule (the general, symmetric, positive definite
    and triangular kinds); a MissingRuleError names any other."""
    if assume_a in (None, "gen", "general") or assume_a in SYMMETRIC_KINDS or assume_a in TRIANGULAR_KINDS:
        return assume_a
    raise MissingRuleError(f"scipy.linalg.inv with assume_a={assume_a!r} has no rule (the general, symmetric, "
                           "positive definite and triangular kinds have)")


def standard_eigenproblem(function, b, subset_by_index, subset_by_value, eigvals_only=False):
    """None; a MissingRuleError naming the keyword for the ``eigh``/``eigvalsh`` calls without a rule: the
    generalized problem (``b``), a subset of the eigenpairs, ``eigh``'s ``eigvals_only=True``."""
    if b is not None:
        raise MissingRuleError(f"scipy.linalg.{function} with b= (the generalized eigenproblem A v = w B v) "
                               "has no rule", hint="Solve the standard problem of L^-1 A L^-T, L = "
                               "cholesky(B, lower=True), whose eigenvalues are the same.")
    for keyword, value in (("subset_by_index", subset_by_index), ("subset_by_value", subset_by_value)):
        if value is not None:
            raise MissingRuleError(f"scipy.linalg.{function} with {keyword}={value!r} has no rule: the partial "
                                   "of a subset of the eigenpairs needs all of them",
                                   hint=f"Call {function} without it and select the eigenpairs after.")
    if eigvals_only:
        raise MissingRuleError("scipy.linalg.eigh with eigvals_only=True has no rule (its rule returns w and v)",
                               hint="Call scipy.linalg.eigvalsh(a), which returns the same eigenvalues.")


def triangle_name(lower: bool) -> str:
    """The ``UPLO`` letter of the triangle ``lower`` selects."""
    return "L" if lower else "U"


def results_with_rule(function, keyword, value, default: bool, instead):
    """None; a MissingRuleError naming ``keyword`` where its value (other than ``default``) makes ``function``
    (its full name, ``np.linalg.svd``) return other results than its rule does."""
    if bool(value) != default:
        raise MissingRuleError(f"{function} with {keyword}={value!r} has no rule: it returns other "
                               "results than the rule's", hint=f"Call {instead} instead.")


def qr_mode_with_rule(mode, pivoting):
    """None; a MissingRuleError naming the keyword for the QR calls without a rule: ``pivoting=True`` and
    the modes whose results are not (Q, R)."""
    results_with_rule("scipy.linalg.qr", "pivoting", pivoting, False, "scipy.linalg.qr without it")
    if mode not in ("full", "economic"):
        raise MissingRuleError(f"scipy.linalg.qr with mode={mode!r} has no rule (mode='full' and "
                               "mode='economic' have)", hint="Pass mode='economic' and use its R.")


# ---- scipy.linalg.lu_factor and lu_solve: A = P L U, L unit lower and U upper, packed in one matrix ----------

def lu_rows(piv, inverse: bool = False):
    """The row order that ``scipy.linalg.lu_factor``'s pivots ``piv`` stand for: ``A[rows] = L U`` (LAPACK swaps
    row i with row piv[i] for i = 0, 1, ... in turn), per matrix of a batch; with ``inverse``, the order that
    undoes it (``P M = M[inverse rows]``). Integers: a constant."""
    piv = np.asarray(piv)
    rows = np.array(np.broadcast_to(np.arange(piv.shape[-1]), piv.shape))
    for i in range(piv.shape[-1]):
        j = piv[..., i:i + 1]
        here = rows[..., i:i + 1].copy()
        rows[..., i:i + 1] = np.take_along_axis(rows, j, axis=-1)
        np.put_along_axis(rows, j, here, axis=-1)
    return np.argsort(rows, axis=-1) if inverse else rows


def rows_in_order(m, rows):
    """``m``'s rows (its second last axis) in the order ``rows`` (one order per matrix of a batch)."""
    return np.take_along_axis(m, rows[..., :, None], axis=-2)


def unit_lower(lu):
    """The unit lower triangular factor L packed in ``lu`` (below its diagonal)."""
    return np.tril(lu, -1) + eye_like(lu.shape[-1], lu, dtype=lu.dtype)


def lu_factor_partial(dlu, lu, piv):
    """``scipy.linalg.lu_factor(a)``: from P^T dA = dL U + L dU, F = L^-1 P^T dA U^-1 = L^-1 dL + dU U^-1 splits
    into its strict lower and upper triangles. The adjoint: H = tril(L^T dlu_L, -1) + triu(dlu_U U^T) (dlu_L
    the cotangent's strict lower triangle, dlu_U its upper one), dA = P L^-T H U^-T."""
    if lu.shape[-2] != lu.shape[-1]:
        raise MissingRuleError("scipy.linalg.lu_factor of a non-square matrix has no rule")
    lower, upper = unit_lower(lu), np.triu(lu)
    h = np.tril(_T(lower) @ np.tril(dlu, -1), -1) + np.triu(np.triu(dlu) @ _T(upper))
    g = _T(np.linalg.solve(upper, _T(np.linalg.solve(_T(lower), h))))
    return rows_in_order(g, lu_rows(piv, inverse=True))


def lu_solve_partials(dx, lu_and_piv, b, x, trans):
    """``scipy.linalg.lu_solve((lu, piv), b, trans)``: x = A^-1 b (A^-T b for ``trans`` 1 or 2), A = P L U.
    db = A^-T dx (A^-1 dx), G = -db x^T (-x db^T) is A's partial, and from dA = P (dL U + L dU) the factors'
    partials are tril(P^T G U^T, -1) (L's, below the diagonal) and triu(L^T P^T G) (U's), packed as ``lu``.
    Returns ((dlu, None), db): the first partial is that of the pair."""
    from scipy.linalg import lu_solve

    lu, piv = lu_and_piv
    transposed = trans != 0
    db = lu_solve((lu, piv), dx, trans=0 if transposed else 1)
    first, second = (x, db) if transposed else (db, x)
    g = -(first[..., :, None] * second[..., None, :] if np.ndim(b) == 1 else first @ _T(second))
    permuted = rows_in_order(g, lu_rows(piv))
    dlu = np.tril(permuted @ _T(np.triu(lu)), -1) + np.triu(_T(unit_lower(lu)) @ permuted)
    return (dlu, None), db


def block_diag_partial(dy, blocks, i: int):
    """The partial of ``blocks[i]`` in ``scipy.linalg.block_diag(*blocks)`` (trailing None entries: blocks not
    passed, no partial): the cotangent's block where that one sits, after those before it along the diagonal,
    in its own shape (SciPy takes a 1-D array for a row, a number for 1 by 1)."""
    if blocks[i] is None:
        return None
    spans = [_block_span(b) for b in blocks[:i]]
    top, left = sum(r for r, _ in spans), sum(c for _, c in spans)
    rows, columns = _block_span(blocks[i])
    piece = np.reshape(dy[..., top:top + rows, left:left + columns], np.shape(blocks[i]))
    return float(piece) if isinstance(blocks[i], (int, float)) else piece


def _block_span(block):
    """The (rows, columns) a block of ``block_diag`` fills."""
    shape = np.shape(block)
    return (1, 1) if len(shape) == 0 else (1, shape[0]) if len(shape) == 1 else shape


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
