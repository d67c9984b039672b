"""Shared test set-up: 64-bit JAX and SciPy's array-API mode must be set before those libraries import."""

import os

os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("SCIPY_ARRAY_API", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
