"""Every rule-table case (rule_specs.py) on other array libraries, against NumPy's partials.

Shared by scripts/backend_sweep.py (a report over every installed library) and tests/test_cupy_like.py (a
test on the CuPy stand-in). NumPy's partials are the reference (the rule tests check those against finite
differences); another library must give the same numbers in its own array type. Where δ fails and the
user's function itself fails on that library too (NumPy's functions on CUDA tensors), the case is the
library's limit and is kept apart from δ's failures.
"""

from __future__ import annotations

import collections
import dataclasses
import traceback
import warnings
from pathlib import Path

import numpy as np

import autodiffsource as ad
from rule_harness import USER_GLOBALS, as_outputs, draw_inputs, make_function
from rule_specs import CASES


@dataclasses.dataclass
class Sweep:
    """What one sweep found, per library name: counts, δ's failures, and the library's own limits."""

    ok: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    failures: dict = dataclasses.field(default_factory=lambda: collections.defaultdict(list))
    library_limits: dict = dataclasses.field(default_factory=lambda: collections.defaultdict(list))


def sweep(libs, cases=CASES) -> Sweep:
    """Run each case's vjp on each library in ``libs`` with the cotangent 0.7 (a Python float for a scalar
    output, as a user's seed is) and compare with NumPy's; cases NumPy itself fails are left out."""
    found = Sweep()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in cases:
            f = make_function(case.body, case.params, USER_GLOBALS)
            args = draw_inputs(case, 0)
            try:
                out, pullback = ad.vjp(f, *args)
                cotangents = [np.full(np.shape(o), 0.7) if np.shape(o) else 0.7 for o in as_outputs(out)]
                expected = pullback(*cotangents)
            except Exception:  # noqa: BLE001  (NumPy itself fails: the rule tests report that)
                continue
            for lib in libs:
                lib_args = [a if isinstance(a, float) else lib.convert(a, "float64") for a in args]
                try:
                    _check_on_library(f, lib, lib_args, cotangents, expected)
                    found.ok[lib.name] += 1
                except Exception as e:  # noqa: BLE001  (collected and reported)
                    if _function_fails(f, lib_args):
                        found.library_limits[lib.name].append(f"{case.id}: {type(e).__name__}: {first_line(e)}")
                    else:
                        found.failures[lib.name].append(
                            f"{case.id}: {type(e).__name__}: {first_line(e)}{where_raised(e)}")
    return found


def _check_on_library(f, lib, lib_args, cotangents, expected) -> None:
    out, pullback = ad.vjp(f, *lib_args)
    got = pullback(*[c if isinstance(c, float) else lib.convert(c, "float64") for c in cotangents])
    for g, want, a in zip(got, expected, lib_args, strict=True):
        if isinstance(a, float):
            assert isinstance(g, float) and np.allclose(g, want), "wrong Python-float partial"
        else:
            assert isinstance(g, lib.array_type()), f"partial is a {type(g).__name__}"
            assert np.allclose(lib.to_numpy(g), want, rtol=1e-7, atol=1e-9), "wrong numbers"


def _function_fails(f, args) -> bool:
    """Whether the user's function itself raises on these arguments."""
    try:
        f(*args)
    except Exception:  # noqa: BLE001  (any error: the function cannot run on this library)
        return True
    return False


def first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:110] if text else ""


def where_raised(error: Exception) -> str:
    """" (at FILE:LINE in FUNCTION: SOURCE)": the innermost frame of the package or of generated code, where
    δ's failure can be fixed (the library's own frames below it only say how it refused)."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if "autodiffsource" in frame.filename or frame.filename.startswith("<δ")]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (at {Path(frame.filename).name}:{frame.lineno} in {frame.name}: {(frame.line or '').strip()[:80]})"
