"""Run every rule-table case (tests/rules/rule_specs.py) on every installed array library; list what fails.

    python scripts/backend_sweep.py [torch jax dask array_api_strict cupy torch-cuda jax-gpu ...]

Each case is a small NumPy-spelled user function (``np.exp(x)``, ``x[IDX]``...). NumPy's partials are the
reference (the rule tests check those against finite differences); every other library must give the same
numbers in its own array type. The report groups failures by case and error, so a rule that computes with
NumPy where it should use ``xp`` shows up at once ("came back as a NumPy array"). Failures that are the
library's own limits (torch's negative steps, strict's index rules, Dask's reshapes) are listed too: read
the message. Not a test: the rule library is written against NumPy first, and this measures how far it
runs elsewhere.
"""

from __future__ import annotations

import collections
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("SCIPY_ARRAY_API", "1")
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "rules")]


def main(names: list[str]) -> int:
    import numpy as np

    import autodiffsource as ad
    from backend_cases import cpu_libraries, gpu_libraries
    from rule_harness import USER_GLOBALS, as_outputs, draw_inputs, make_function
    from rule_specs import CASES

    warnings.filterwarnings("ignore")
    # The GPU libraries only when named: finding them initialises CUDA, which a CPU sweep need not pay for.
    found = cpu_libraries() + (gpu_libraries()[0] if names else [])
    libs = [lib for lib in found if lib.name != "numpy" and (not names or lib.name in names)]
    counts = collections.Counter()
    failures = collections.defaultdict(list)
    for case in CASES:
        f = make_function(case.body, case.params, USER_GLOBALS)
        args = draw_inputs(case, 0)
        try:
            out, pullback = ad.vjp(f, *args)
            cotangents = [np.full(np.shape(o), 0.7) if np.shape(o) else 0.7 for o in as_outputs(out)]
            expected = pullback(*cotangents)
        except Exception:  # noqa: BLE001  (NumPy itself fails: the rule tests report that)
            continue
        for lib in libs:
            try:
                lib_args = [a if isinstance(a, float) else lib.convert(a, "float64") for a in args]
                out, pullback = ad.vjp(f, *lib_args)
                got = pullback(*[c if isinstance(c, float) else lib.convert(c, "float64") for c in cotangents])
                for g, want, a in zip(got, expected, lib_args, strict=True):
                    if isinstance(a, float):
                        assert isinstance(g, float) and np.allclose(g, want), "wrong Python-float partial"
                    else:
                        assert isinstance(g, lib.array_type()), f"partial is a {type(g).__name__}"
                        assert np.allclose(lib.to_numpy(g), want, rtol=1e-7, atol=1e-9), "wrong numbers"
                counts[lib.name, "ok"] += 1
            except Exception as e:  # noqa: BLE001  (collected and reported)
                counts[lib.name, "failed"] += 1
                message = str(e).strip().splitlines()[0][:110] if str(e).strip() else ""
                failures[lib.name].append(f"{case.id}: {type(e).__name__}: {message}")
    for lib in libs:
        print(f"== {lib.name}: {counts[lib.name, 'ok']} ok, {counts[lib.name, 'failed']} failed")
        for line in failures[lib.name]:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
