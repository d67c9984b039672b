"""Shared test set-up: 64-bit JAX and SciPy's array-API mode must be set before those libraries import."""

import os

os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("SCIPY_ARRAY_API", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_addoption(parser):
    # The property tests' long run (tests/test_fuzz_programs.py): tens of thousands of generated programs.
    parser.addoption("--long", action="store_true", default=False,
                     help="run the long property-based fuzzing (or set AUTODIFFSOURCE_LONG=1)")


def pytest_configure(config):
    if config.getoption("--long", default=False):
        os.environ["AUTODIFFSOURCE_LONG"] = "1"  # read when the fuzz modules are imported
