"""``scipy.linalg``'s ``solve`` (each kind of ``assume_a`` with a rule), ``solve_triangular``, ``cholesky``,
``cho_factor``, ``cho_solve``, ``expm``, ``inv``, ``det``, ``eigh``, ``eigvalsh``, ``svd``, ``svdvals``, ``qr``,
``pinv``, ``norm``, ``lstsq``, ``lu_factor``, ``lu_solve`` and ``block_diag`` (rules/scipy_linalg.py): value and
partials against SciPy itself and central differences, entry by entry, so an entry SciPy does not read (the other
triangle, a unit diagonal) must get zero. Keywords without a rule are refused by name, at the user's line. Before
these rules each was refused (MissingRuleError).
"""

import inspect

import numpy as np
import pytest
from scipy import linalg

from autodiffsource import MissingRuleError, hessian, value_and_grad
from finite_differences import numeric_partial

RNG = np.random.default_rng(11)
A = RNG.normal(size=(4, 4)) + 4.0 * np.eye(4)  # both triangles full: SciPy reads one
WEIGHTS = RNG.normal(size=(4, 3))


def triangular_solve(a, b, trans, lower, unit):
    x = linalg.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
    return np.sum(np.tanh(x) * WEIGHTS[:, : x.shape[1]]) if x.ndim == 2 else np.sum(np.tanh(x) * WEIGHTS[:, 0])


@pytest.mark.parametrize("b_shape", [(4,), (4, 3)], ids=["vector", "matrix"])
@pytest.mark.parametrize("trans", [0, 1, "T"])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular(b_shape, trans, lower, unit):
    b = RNG.normal(size=b_shape)
    value, (da, db) = value_and_grad(triangular_solve, argnums=(0, 1))(A, b, trans, lower, unit)
    assert value == triangular_solve(A, b, trans, lower, unit)
    for i, partial in enumerate((da, db)):
        expected = numeric_partial(lambda *ab: triangular_solve(*ab, trans, lower, unit), [A, b], i, [1.0])
        np.testing.assert_allclose(partial, expected, rtol=1e-6, atol=1e-9)


def cholesky_loss(s, lower):
    l = linalg.cholesky(s, lower=lower)
    return np.sum(l * WEIGHTS[:, :1]) + np.sum(np.log(np.diag(l)))


@pytest.mark.parametrize("lower", [False, True])
def test_cholesky_reads_one_triangle(lower):
    s = A @ A.T
    value, ds = value_and_grad(cholesky_loss)(s, lower)
    assert value == cholesky_loss(s, lower)
    np.testing.assert_allclose(ds, numeric_partial(lambda m: cholesky_loss(m, lower), [s], 0, [1.0]),
                               rtol=1e-6, atol=1e-9)
    unread = np.tril(ds, -1) if not lower else np.triu(ds, 1)  # SciPy's default reads the upper triangle
    assert not np.any(unread)


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3)], ids=["matrix", "batch"])
def test_expm(shape):
    def f(a):
        return np.sum(linalg.expm(a) * np.arange(1.0, 10.0).reshape(3, 3))

    a = 0.5 * RNG.normal(size=shape)
    value, da = value_and_grad(f)(a)
    assert value == f(a)
    np.testing.assert_allclose(da, numeric_partial(f, [a], 0, [1.0]), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("b_shape", [(4,), (4, 3)], ids=["vector", "matrix"])
def test_solve(b_shape):
    def f(a, b):
        return np.sum(np.tanh(linalg.solve(a, b)))

    b = RNG.normal(size=b_shape)
    value, (da, db) = value_and_grad(f, argnums=(0, 1))(A, b)
    assert value == f(A, b)
    for i, partial in enumerate((da, db)):
        np.testing.assert_allclose(partial, numeric_partial(f, [A, b], i, [1.0]), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("b_shape", [(4,), (4, 3)], ids=["vector", "matrix"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("kind", ["pos", "sym", "her", "positive definite"])
def test_solve_of_a_symmetric_kind_reads_one_triangle(kind, lower, b_shape):
    # SciPy reads the upper triangle (the lower one with lower=True) as a symmetric matrix: the entries of
    # the other triangle change nothing, and each one read off the diagonal stands for two entries.
    def f(a, b):
        x = linalg.solve(a, b, assume_a=kind, lower=lower)
        return np.sum(np.tanh(x) ** 2 + x)

    noise = RNG.normal(size=(4, 4))
    s = A @ A.T + (np.triu(noise, 1) if lower else np.tril(noise, -1))  # positive definite where read
    b = RNG.normal(size=b_shape)
    value, (da, db) = value_and_grad(f, argnums=(0, 1))(s, b)
    assert value == f(s, b)
    for i, partial in enumerate((da, db)):
        np.testing.assert_allclose(partial, numeric_partial(f, [s, b], i, [1.0]), rtol=1e-6, atol=1e-9)
    assert not np.any(np.triu(da, 1) if lower else np.tril(da, -1))


@pytest.mark.parametrize("lower", [False, True])
def test_solve_of_a_triangular_kind_reads_one_triangle(lower):
    kind = "lower triangular" if lower else "upper triangular"

    def f(a, b):
        return np.sum(np.tanh(linalg.solve(a, b, assume_a=kind)))

    b = RNG.normal(size=4)
    value, (da, db) = value_and_grad(f, argnums=(0, 1))(A, b)
    assert value == f(A, b)
    for i, partial in enumerate((da, db)):
        np.testing.assert_allclose(partial, numeric_partial(f, [A, b], i, [1.0]), rtol=1e-6, atol=1e-9)
    assert not np.any(np.triu(da, 1) if lower else np.tril(da, -1))


def test_solve_of_a_batch_of_positive_definite_matrices():
    def f(a, b):
        return np.sum(np.sin(linalg.solve(a, b, assume_a="pos")))

    s = np.stack([A @ A.T, A.T @ A + np.eye(4)])
    b = RNG.normal(size=(2, 4, 2))
    value, (da, db) = value_and_grad(f, argnums=(0, 1))(s, b)
    for i, partial in enumerate((da, db)):
        np.testing.assert_allclose(partial, numeric_partial(f, [s, b], i, [1.0]), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind", ["banded", "diagonal", "tridiagonal"])
def test_solve_kinds_without_a_rule_are_refused(kind):
    def f(a, b, kind):
        return np.sum(linalg.solve(a, b, assume_a=kind))

    with pytest.raises(MissingRuleError, match=f"assume_a='{kind}'.*has no rule"):
        value_and_grad(f)(A @ A.T, np.ones(4), kind)


def test_a_transposed_solve_is_refused():
    def f(a, b):
        return np.sum(linalg.solve(a, b, transposed=True))

    with pytest.raises(MissingRuleError, match="transposed=True has no rule"):
        value_and_grad(f)(A, np.ones(4))


# ---- cho_factor and cho_solve: a Gaussian process's negative log-likelihood, as it is usually written ------

def gp_nll_unpacked(k, y):
    c, low = linalg.cho_factor(k)
    alpha = linalg.cho_solve((c, low), y)
    return 0.5 * np.sum(y * alpha) + np.sum(np.log(np.diag(c)))


def gp_nll_factor_kept(k, y):
    factor = linalg.cho_factor(k, lower=True)  # the pair as one value
    alpha = linalg.cho_solve(factor, y)
    return 0.5 * np.sum(y * alpha) + np.sum(np.log(np.diagonal(factor[0], axis1=-2, axis2=-1)))


def gp_nll_inline(k, y):
    return 0.5 * np.sum(y * linalg.cho_solve(linalg.cho_factor(k), y))


@pytest.mark.parametrize("y_shape", [(4,), (4, 3)], ids=["vector", "matrix"])
@pytest.mark.parametrize("nll", [gp_nll_unpacked, gp_nll_factor_kept, gp_nll_inline])
def test_cho_factor_and_cho_solve(nll, y_shape):
    k = A @ A.T + np.eye(4)
    y = RNG.normal(size=y_shape)
    value, (dk, dy) = value_and_grad(nll, argnums=(0, 1))(k, y)
    assert value == nll(k, y)
    for i, partial in enumerate((dk, dy)):
        np.testing.assert_allclose(partial, numeric_partial(nll, [k, y], i, [1.0]), rtol=1e-6, atol=1e-9)


def test_cho_factor_of_a_batch():
    k = np.stack([A @ A.T + np.eye(4), A.T @ A + 2.0 * np.eye(4)])
    y = RNG.normal(size=(2, 4, 2))
    value, (dk, dy) = value_and_grad(gp_nll_factor_kept, argnums=(0, 1))(k, y)
    for i, partial in enumerate((dk, dy)):
        np.testing.assert_allclose(partial, numeric_partial(gp_nll_factor_kept, [k, y], i, [1.0]),
                                   rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("lower", [False, True])
def test_cho_factor_other_triangle_holds_the_input(lower):
    # SciPy calls those entries arbitrary; LAPACK leaves a's own there, and the partial follows what SciPy
    # computes: a function that reads them gets the identity's partial there.
    def f(k):
        c, low = linalg.cho_factor(k, lower=lower)
        return np.sum(np.sin(c))

    k = A @ A.T + np.eye(4)
    np.testing.assert_allclose(value_and_grad(f)(k)[1], numeric_partial(f, [k], 0, [1.0]), rtol=1e-6, atol=1e-9)


# ---- inv, det and their second derivatives ---------------------------------------------------------------

def assert_partials_match_differences(f, args, argnums=None, rtol=1e-6):
    """value_and_grad(f) gives f's own value and, for each argument in ``argnums``, central differences'
    partial; returns the partials."""
    argnums = tuple(range(len(args))) if argnums is None else argnums
    value, partials = value_and_grad(f, argnums=argnums)(*args)
    assert value == f(*args)
    for i, partial in zip(argnums, partials):
        np.testing.assert_allclose(partial, numeric_partial(f, args, i, [1.0]), rtol=rtol, atol=1e-9)
    return partials


def inv_loss(a):
    return np.sum(linalg.inv(a) * WEIGHTS[:, :1]) + np.sum(np.tanh(linalg.inv(a, check_finite=False)))


def test_inv_and_its_hessian():
    (da,) = assert_partials_match_differences(inv_loss, [A])
    h = hessian(inv_loss)(A)
    expected = np.stack([numeric_partial(lambda m: value_and_grad(inv_loss)(m)[1], [A], 0, [e])
                         for e in np.eye(16).reshape(16, 4, 4)]).reshape(4, 4, 4, 4)
    np.testing.assert_allclose(h, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("kind", ["pos", "sym", "her"])
def test_inv_of_a_symmetric_kind_reads_one_triangle(kind, lower):
    def f(a):
        return np.sum(np.tanh(linalg.inv(a, assume_a=kind, lower=lower)) * WEIGHTS[:, :1])

    noise = RNG.normal(size=(4, 4))
    s = A @ A.T + (np.triu(noise, 1) if lower else np.tril(noise, -1))  # SPD where read
    (da,) = assert_partials_match_differences(f, [s])
    assert not np.any(np.triu(da, 1) if lower else np.tril(da, -1))


@pytest.mark.parametrize("kind", ["upper triangular", "lower triangular"])
def test_inv_of_a_triangular_kind_reads_one_triangle(kind):
    def f(a):
        return np.sum(linalg.inv(a, assume_a=kind) * WEIGHTS[:, :1] ** 2)

    (da,) = assert_partials_match_differences(f, [A])
    assert not np.any(np.triu(da, 1) if kind.startswith("lower") else np.tril(da, -1))


def det_loss(a):
    return linalg.det(a) + np.log(np.abs(linalg.det(a[1:, 1:])))


def test_det_and_its_hessian():
    assert_partials_match_differences(det_loss, [A])
    h = hessian(det_loss)(A)
    expected = np.stack([numeric_partial(lambda m: value_and_grad(det_loss)(m)[1], [A], 0, [e])
                         for e in np.eye(16).reshape(16, 4, 4)]).reshape(4, 4, 4, 4)
    np.testing.assert_allclose(h, expected, rtol=1e-5, atol=1e-6)


def test_det_and_inv_of_a_batch():
    def f(a):
        return np.sum(linalg.det(a)) + np.sum(linalg.inv(a) ** 2)

    assert_partials_match_differences(f, [np.stack([A, A.T + np.eye(4)])])


# ---- eigh, eigvalsh: SciPy reads the lower triangle unless lower=False ---------------------------------------

S = A @ A.T + np.diag([0.0, 1.0, 3.0, 6.0])  # distinct eigenvalues


@pytest.mark.parametrize("lower", [True, False])
def test_eigh_reads_one_triangle(lower):
    def f(a):
        w, v = linalg.eigh(a, lower=lower)
        return np.sum(w * WEIGHTS[:, 0]) + np.sum(v ** 2 * WEIGHTS[:, :1]) + np.sum(np.abs(v[0]))

    noise = RNG.normal(size=(4, 4))
    s = S + (np.triu(noise, 1) if lower else np.tril(noise, -1))  # the other triangle is not read
    (da,) = assert_partials_match_differences(f, [s])
    assert not np.any(np.triu(da, 1) if lower else np.tril(da, -1))


@pytest.mark.parametrize("driver", [None, "ev", "evd", "evr"])
def test_eigvalsh_and_eigh_drivers(driver):
    def f(a):
        w, v = linalg.eigh(a, driver=driver)
        return np.sum(linalg.eigvalsh(a, driver=driver) * WEIGHTS[:, 1]) + np.sum(w ** 2) + np.sum(v[:, -1] ** 4)

    assert_partials_match_differences(f, [S], rtol=1e-5)  # (eigenvalues up to 50: differences lose digits)


# ---- svd, svdvals, qr, pinv, norm ----------------------------------------------------------------------------

TALL = RNG.normal(size=(5, 3))


@pytest.mark.parametrize("driver", ["gesdd", "gesvd"])
def test_svd_and_svdvals(driver):
    def f(a):
        u, s, vh = linalg.svd(a, full_matrices=False, lapack_driver=driver)
        return np.sum(np.abs(u) * WEIGHTS[0, 0]) + np.sum(s ** 3) + np.sum(vh[0] ** 3) + np.sum(linalg.svdvals(a))

    assert_partials_match_differences(f, [TALL])


@pytest.mark.parametrize("mode", ["economic", "full"])
def test_qr(mode):
    def f(a):
        q, r = linalg.qr(a, mode=mode)
        return np.sum(np.sin(q) * q[0]) + np.sum(r * r * WEIGHTS[0, 1])

    a = TALL[:3] if mode == "full" else TALL  # (a full QR of a square matrix is its economic one)
    assert_partials_match_differences(f, [a])


def test_full_qr_of_a_tall_matrix_takes_q_s_columns_a_determines():
    def f(a):
        q, r = linalg.qr(a)  # the default mode='full': q is 5 by 5, r 5 by 3
        return np.sum(np.log(np.abs(np.diagonal(r)))) + np.sum(q[:, :3] ** 3)

    assert_partials_match_differences(f, [TALL])


def test_full_qr_of_a_tall_matrix_refuses_a_cotangent_on_the_complement():
    def f(a):
        q, r = linalg.qr(a)
        return np.sum(q[:, 3:] ** 3)  # the orthonormal complement: A does not determine it

    with pytest.raises(MissingRuleError, match="mode='full'.*tall matrix") as info:
        value_and_grad(f)(TALL)
    assert "mode='economic'" in str(info.value)


def test_pinv_and_norm():
    def f(a):
        return (np.sum(linalg.pinv(a) * WEIGHTS[:3, :1]) + linalg.norm(a) + linalg.norm(a, "nuc")
                + linalg.norm(a, 2) + np.sum(linalg.norm(a, 1, axis=0)) + linalg.norm(a, np.inf))

    assert_partials_match_differences(f, [TALL])


# ---- lstsq ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("driver", [None, "gelsd", "gelss"])
@pytest.mark.parametrize("b_shape", [(5,), (5, 2)], ids=["vector", "matrix"])
def test_lstsq_solution_and_residues(b_shape, driver):
    def f(a, b):
        x, residues, rank, s = linalg.lstsq(a, b, lapack_driver=driver)
        return np.sum(np.tanh(x)) + np.sum(residues)

    assert_partials_match_differences(f, [TALL, RNG.normal(size=b_shape)])


# ---- lu_factor and lu_solve: the cho_factor, cho_solve pattern -------------------------------------------------

def lu_unpacked(a, b):
    lu, piv = linalg.lu_factor(a)
    return np.sum(np.tanh(linalg.lu_solve((lu, piv), b)))


def lu_factor_kept(a, b):
    factor = linalg.lu_factor(a, check_finite=False)
    return np.sum(np.tanh(linalg.lu_solve(factor, b, trans=1))) + np.sum(np.log(np.abs(np.diag(factor[0]))))


def lu_inline(a, b):
    return np.sum(linalg.lu_solve(linalg.lu_factor(a), b, trans=2) ** 2)


@pytest.mark.parametrize("b_shape", [(4,), (4, 3)], ids=["vector", "matrix"])
@pytest.mark.parametrize("f", [lu_unpacked, lu_factor_kept, lu_inline])
def test_lu_factor_and_lu_solve(f, b_shape):
    # A's rows are out of order for pivoting: the partials go back through the permutation.
    a = A[[2, 0, 3, 1]]
    assert_partials_match_differences(f, [a, RNG.normal(size=b_shape)])


def test_lu_factor_of_a_batch():
    a = np.stack([A[[2, 0, 3, 1]], A.T])
    assert_partials_match_differences(lu_unpacked, [a, RNG.normal(size=(2, 4, 2))])


def test_lu_solve_second_order():
    b = RNG.normal(size=4)
    h = hessian(lu_unpacked, 1)(A, b)
    expected = np.stack([numeric_partial(lambda v: value_and_grad(lu_unpacked, argnums=1)(A, v)[1], [b], 0, [e])
                         for e in np.eye(4)])
    np.testing.assert_allclose(h, expected, rtol=1e-5, atol=1e-7)


# ---- block_diag: linear, each block gets its block of the cotangent -------------------------------------------

def test_block_diag():
    def f(x, y, z):
        m = linalg.block_diag(x, y, 2.0, z)  # a 1-D block is a row, a number 1 by 1
        return np.sum(m * np.arange(m.size).reshape(m.shape) ** 2)

    x, y, z = RNG.normal(size=(2, 3)), RNG.normal(size=3), 0.5
    dx, dy, dz = assert_partials_match_differences(f, [x, y, z])
    assert dy.shape == (3,) and isinstance(dz, float)


# ---- refusals: by keyword, at the user's line ------------------------------------------------------------------

def eigh_of_a_pencil(a):
    return np.sum(linalg.eigh(a, np.eye(4))[0])


def eigh_of_a_subset(a):
    return np.sum(linalg.eigh(a, subset_by_index=[0, 1])[0])


def eigvalsh_of_a_subset(a):
    return np.sum(linalg.eigvalsh(a, subset_by_value=[0.0, 10.0]))


def eigh_eigenvalues_only(a):
    return np.sum(linalg.eigh(a, eigvals_only=True))


def svd_without_vectors(a):
    return np.sum(linalg.svd(a, compute_uv=False))


def qr_r_only(a):
    return np.sum(linalg.qr(a, mode="r")[0])


def qr_raw(a):
    return np.sum(linalg.qr(a, mode="raw")[1])


def qr_pivoting(a):
    return np.sum(linalg.qr(a, pivoting=True)[1])  # (R; unpacking three results is refused as a count)


def pinv_with_rank(a):
    return np.sum(linalg.pinv(a, return_rank=True)[0])


def inv_diagonal(a):
    return np.sum(linalg.inv(a, assume_a="diagonal"))


@pytest.mark.parametrize("f, keyword", [
    (eigh_of_a_pencil, "b="), (eigh_of_a_subset, "subset_by_index="), (eigvalsh_of_a_subset, "subset_by_value="),
    (eigh_eigenvalues_only, "eigvals_only=True"), (svd_without_vectors, "compute_uv=False"),
    (qr_r_only, "mode='r'"), (qr_raw, "mode='raw'"), (inv_diagonal, "assume_a='diagonal'"),
    (pinv_with_rank, "return_rank=True"), (qr_pivoting, "pivoting=True")])
def test_keywords_without_a_rule_are_refused_by_name_at_the_line(f, keyword):
    with pytest.raises(MissingRuleError) as info:
        value_and_grad(f)(S)
    assert keyword in info.value.message
    lines, first = inspect.getsourcelines(f)
    line = first + next(i for i, text in enumerate(lines) if "linalg." in text)
    assert any(f"{__file__}:{line}" in note for note in info.value.__notes__)


def test_numpy_svd_without_uv_is_refused_by_name_with_svdvals_as_the_way():
    # (its rule returned U, s and Vh where NumPy returns s alone: "too many values to unpack")
    def f(a):
        return np.sum(np.linalg.svd(a, compute_uv=False) ** 2)

    with pytest.raises(MissingRuleError, match=r"np\.linalg\.svd with compute_uv=False") as raised:
        value_and_grad(f)(np.array([[1.0, 2.0], [3.0, 4.5], [0.5, -1.0]]))
    assert "np.linalg.svdvals(a)" in raised.value.hint
