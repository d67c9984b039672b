"""Run the GPU checks on a machine with CUDA and print one summary: the card, the libraries, the tests, a timing.

    python scripts/gpu_check.py [--json PATH]

1. Names the card and the versions of torch, CuPy, JAX and array-api-compat.
2. Runs ``pytest -m gpu tests/test_gpu.py`` (the backend suite on CuPy, torch CUDA and JAX's GPU, each
   partial compared with NumPy's on the same inputs and checked to stay on the device, in its dtype; and
   the program fuzzer's random programs on CuPy and CUDA tensors, ``AUTODIFFSOURCE_GPU_FUZZ_EXAMPLES``
   of each, default 300, checked against central differences).
3. Times the autoencoder's value and gradient (a 784-256-784 layer pair over a batch of 1024) on NumPy
   (CPU) and on each GPU library: median of 10 calls after 3 warm-ups, synchronised.

Exit status 0 only when every gpu test passed and at least one GPU library was found.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("SCIPY_ARRAY_API", "1")
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in ("numpy", "scipy", "array_api_compat", "torch", "cupy", "jax"):
        try:
            module = __import__(name)
            found[name] = getattr(module, "__version__", "?")
        except Exception as e:  # noqa: BLE001  (reported, not fatal: the tests say what is missing)
            found[name] = f"unavailable ({type(e).__name__})"
    try:
        import torch

        if torch.cuda.is_available():
            found["card"] = torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001
        pass
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        found["nvidia-smi"] = smi.stdout.strip() or smi.stderr.strip()
    except Exception as e:  # noqa: BLE001
        found["nvidia-smi"] = f"unavailable ({type(e).__name__})"
    return found


def run_tests() -> tuple[int, str]:
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-s", "-m", "gpu", "-p", "no:cacheprovider",
               str(ROOT / "tests" / "test_gpu.py")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def time_autoencoder() -> dict:
    import numpy as np

    import autodiffsource as ad
    from backend_cases import autoencoder, gpu_libraries

    rng = np.random.default_rng(0)
    args = [rng.standard_normal((256, 784)) * 0.05, rng.standard_normal((256, 1)) * 0.1,
            rng.standard_normal((784, 256)) * 0.05, rng.standard_normal((784, 1)) * 0.1,
            rng.standard_normal((784, 1024))]
    value_and_grad = ad.value_and_grad(autoencoder, argnums=(0, 1, 2, 3))
    libs, _ = gpu_libraries()
    timings = {}
    for lib in [None, *libs]:
        name = "numpy-cpu" if lib is None else lib.name
        for dtype in ("float64", "float32"):
            inputs = [np.asarray(a, dtype=dtype) if lib is None else lib.convert(a, dtype) for a in args]
            sync = _synchroniser(lib)
            samples = []
            for i in range(13):
                start = time.perf_counter()
                value, partials = value_and_grad(*inputs)
                sync(value, partials)
                if i >= 3:
                    samples.append(time.perf_counter() - start)
            timings[f"{name} {dtype}"] = round(statistics.median(samples) * 1e3, 3)
    return timings


def _synchroniser(lib):
    if lib is None:
        return lambda *a: None
    if lib.name == "cupy":
        import cupy

        return lambda *a: cupy.cuda.Device().synchronize()
    if lib.name.startswith("torch"):
        import torch

        return lambda *a: torch.cuda.synchronize()
    return lambda value, partials: [p.block_until_ready() for p in (value, *partials)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the summary here")
    options = parser.parse_args()

    summary = {"versions": versions()}
    print("== environment")
    for key, value in summary["versions"].items():
        print(f"  {key}: {value}")

    print("== pytest -m gpu tests/test_gpu.py")
    status, output = run_tests()
    print(output)
    summary["tests_exit_status"] = status
    summary["tests_summary"] = output.strip().splitlines()[-1] if output.strip() else ""

    print("== autoencoder value_and_grad, median ms (784-256-784, batch 1024)")
    try:
        summary["autoencoder_ms"] = time_autoencoder()
        for key, value in summary["autoencoder_ms"].items():
            print(f"  {key:24s} {value:10.3f}")
    except Exception as e:  # noqa: BLE001  (timing is a report, not a check)
        summary["autoencoder_ms"] = f"failed: {type(e).__name__}: {e}"
        print("  " + summary["autoencoder_ms"])

    found_gpu = "skipped" not in summary["tests_summary"] or "passed" in summary["tests_summary"]
    print("== summary")
    print(f"  card: {summary['versions'].get('card', summary['versions'].get('nvidia-smi'))}")
    print(f"  tests: {summary['tests_summary']}")
    if options.json:
        Path(options.json).write_text(json.dumps(summary, indent=2))
    return 0 if status == 0 and found_gpu else 1


if __name__ == "__main__":
    sys.exit(main())
