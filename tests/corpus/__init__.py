"""Corpora of user functions for the tests: plain Python, no autodiffsource imports.

Each module registers its functions with :func:`case`, naming the inputs to check them at. The inputs are
chosen so that, between them, each function takes each of its branches and runs its loops 0, 1 and many
times; they stay well away from the points where a decision flips, so that central differences see one
branch only.
"""

from __future__ import annotations

import numpy as np

CORPUS: list[tuple] = []


def case(*argsets):
    """Register the decorated function with the argument tuples to check it at (ints stay constants)."""
    def register(fn):
        CORPUS.append((fn, argsets))
        return fn
    return register


def differentiated(arg) -> bool:
    """Floats and float arrays are differentiated; ints (trip counts, modes), bools and tuples are constants."""
    if isinstance(arg, bool):
        return False
    if isinstance(arg, float):
        return True
    return isinstance(arg, np.ndarray) and np.issubdtype(arg.dtype, np.floating)


def vec(*values) -> np.ndarray:
    """A float64 array of ``values``."""
    return np.array(values, dtype=np.float64)


def randn(*shape, seed: int = 0) -> np.ndarray:
    """Deterministic standard-normal float64 values of ``shape``."""
    return np.random.default_rng(seed).standard_normal(shape)
