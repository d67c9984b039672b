"""A stand-in for a third-party module: plain NumPy code that knows nothing about autodiffsource.

The tests bind ``δ(thirdparty_rosen.rosen)`` as a plain call (the seed's ``@δ rosen``) and differentiate
``rosenbrock`` through its source from another module.
"""

import numpy as np


def rosenbrock(x, y):
    """The seed's two-argument Rosenbrock sum."""
    return np.sum(100 * (y - x ** 2) ** 2 + (1 - x) ** 2)


def rosen(x):
    """Rosenbrock of a vector, as SciPy writes it."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2.0) ** 2.0 + (1 - x[:-1]) ** 2.0)
