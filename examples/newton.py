"""Newton's method on Rosenbrock's function (n = 10) with Hessian-vector products and conjugate gradients.

Shows: ``hvp(f)(x, v)`` (exact second derivatives, never forming the Hessian), ``grad`` for the
gradient, ``hessian`` checked against SciPy's hand-written ``rosen_hess``, and a truncated-Newton
(Newton-CG) loop with a backtracking line search that reaches the minimum, all ones, to 1e-8.
"""

import numpy as np
import scipy.optimize

from autodiffsource import grad, hessian, hvp


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


gradient = grad(rosen)
curvature = hvp(rosen)  # curvature(x, v) = H(x) @ v


def conjugate_gradients(x, g, tol):
    """Solve H(x) p = -g with CG, using only products H v; stop early on negative curvature."""
    p = np.zeros_like(g)
    r = -g.copy()
    d = r.copy()
    for _ in range(2 * g.size):
        hd = curvature(x, d)
        dhd = d @ hd
        if dhd <= 0:  # not convex along d: take what we have (or steepest descent)
            return p if p.any() else -g
        alpha = (r @ r) / dhd
        p = p + alpha * d
        r_next = r - alpha * hd
        if np.linalg.norm(r_next) < tol:
            return p
        d = r_next + (r_next @ r_next) / (r @ r) * d
        r = r_next
    return p


def newton_cg(x, steps=100):
    for k in range(steps):
        g = gradient(x)
        if np.linalg.norm(g) < 1e-12:
            return x, k
        p = conjugate_gradients(x, g, tol=min(0.5, np.sqrt(np.linalg.norm(g))) * np.linalg.norm(g))
        t, fx = 1.0, rosen(x)
        while rosen(x + t * p) > fx + 1e-4 * t * (g @ p) and t > 1e-10:  # Armijo backtracking
            t *= 0.5
        x = x + t * p
    return x, steps


rng = np.random.default_rng(0)
for n in (2, 5, 10):
    x = rng.standard_normal(n)
    v = rng.standard_normal(n)
    assert np.allclose(curvature(x, v), scipy.optimize.rosen_hess_prod(x, v), rtol=1e-12, atol=1e-9)
    H = hessian(rosen)(x)
    assert np.allclose(H, scipy.optimize.rosen_hess(x), rtol=1e-12, atol=1e-9)
    assert np.allclose(H, H.T)

x0 = np.full(10, -1.2)
x0[::2] = 1.5
solution, iterations = newton_cg(x0)
error = np.max(np.abs(solution - 1.0))
assert error < 1e-8, (solution, error)
print(f"newton: hvp and hessian match scipy's rosen_hess_prod / rosen_hess; Newton-CG from {x0[:3]}... "
      f"reached all ones to {error:.1e} in {iterations} Newton steps (n = {x0.size})")
