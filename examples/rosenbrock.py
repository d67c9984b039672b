"""Rosenbrock's function: the generated gradient against SciPy's hand-written one, then a minimisation.

Shows: slicing (`x[1:]`, `x[:-1]`), `@δ` on a plain NumPy function, the pullback as a `jac` for
`scipy.optimize.minimize`, and the generated code itself (`autodiffsource.source`).
"""

import numpy as np
import scipy.optimize

import autodiffsource
from autodiffsource import checkdiff, δ


@δ
def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def value_and_gradient(x):
    value, back = δrosen(x)
    return value, back()


rng = np.random.default_rng(1)
for n in (2, 3, 10, 1000):
    x = rng.standard_normal(n)
    value, gradient = value_and_gradient(x)
    assert np.isclose(value, scipy.optimize.rosen(x))
    assert np.allclose(gradient, scipy.optimize.rosen_der(x), rtol=1e-12, atol=1e-9)
assert checkdiff(rosen, δrosen, rng.standard_normal(5))

result = scipy.optimize.minimize(value_and_gradient, np.full(6, -1.2), jac=True, method="BFGS")
assert result.success and np.allclose(result.x, 1.0, atol=1e-4), result

print(autodiffsource.source(δrosen))
print(f"rosenbrock: gradient matches scipy.optimize.rosen_der; BFGS reached {np.round(result.x, 6)} "
      f"in {result.nit} iterations")
