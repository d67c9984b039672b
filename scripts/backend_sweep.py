"""Run every rule-table case (tests/rules/rule_specs.py) on every installed array library; list what fails.

    python scripts/backend_sweep.py [torch jax dask array_api_strict cupy-like cupy torch-cuda jax-gpu ...]

Each case is a small NumPy-spelled user function (``np.exp(x)``, ``x[IDX]``...). NumPy's partials are the
reference (the rule tests check those against finite differences); every other library must give the same
numbers in its own array type (tests/rules/rule_sweep.py). A rule that computes with NumPy where it should
use ``xp`` shows up at once ("came back as a NumPy array"); each of δ's failures names the frame of the
package, or of the generated code, where it raised. Where the user's function itself fails on the library
too (NumPy's functions on CUDA tensors), the case is listed apart as the library's limit. ``cupy-like`` is
tests/cupy_like.py's stand-in for CuPy; the GPU libraries run only when named. Not a test: the rule library
is written against NumPy first, and this measures how far it runs elsewhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("SCIPY_ARRAY_API", "1")
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "rules")]


def main(names: list[str]) -> int:
    from backend_cases import cpu_libraries, cupy_like_library, gpu_libraries
    from rule_sweep import sweep

    # The GPU libraries only when named: finding them initialises CUDA, which a CPU sweep need not pay for.
    found = cpu_libraries() + [cupy_like_library()] + (gpu_libraries()[0] if names else [])
    libs = [lib for lib in found if lib.name != "numpy" and (not names or lib.name in names)]
    result = sweep(libs)
    for lib in libs:
        failures, limits = result.failures[lib.name], result.library_limits[lib.name]
        print(f"== {lib.name}: {result.ok[lib.name]} ok, {len(failures)} failed, and {len(limits)} failed where "
              f"the function itself fails on {lib.name}")
        for line in failures:
            print("  " + line)
        print(f"-- the function itself fails on {lib.name} (the library's limit, not δ's):")
        for line in limits:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
