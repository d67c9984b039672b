"""``scipy.linalg``'s ``solve`` (each kind of ``assume_a`` with a rule), ``solve_triangular``, ``cholesky`` and
``expm`` (rules/scipy_linalg.py): value and partials against SciPy itself and central differences, entry by
entry, so an entry SciPy does not read (the other triangle, a unit diagonal) must get zero. Before these
rules each was refused (MissingRuleError).
"""

import numpy as np
import pytest
from scipy import linalg

from autodiffsource import MissingRuleError, value_and_grad
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
