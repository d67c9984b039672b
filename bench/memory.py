"""Peak memory of one value-and-gradient call, each peer in a fresh subprocess.

Contract: ``measure(peer, case_key, size)`` starts ``python -m bench.memory PEER CASE SIZE`` and returns
``{"rss": bytes, "traced": bytes or None}``: the rise of the process's peak resident set (VmHWM)
over its resident set just before the call, and, for peers whose arrays are NumPy arrays, the
peak of :mod:`tracemalloc` (NumPy reports its buffers to it; torch and XLA do not, so theirs is
None). Inputs, imports, the transform or jit compilation and one warm-up call happen before the
measurement. ``MALLOC_MMAP_THRESHOLD_`` pins glibc's mmap threshold, so every large buffer is its
own mapping, returned to the system when freed: without it the warm-up call's freed heap would be
reused and hide the peak.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tracemalloc

NUMPY_PEERS = ("handwritten", "autodiffsource", "autodiffsource.δ", "autograd")


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def _child(peer: str, case_key: str, size: int) -> dict:
    from . import peers, workloads

    case = workloads.CASES_BY_KEY[case_key]
    args = workloads.make_inputs(case, size)
    runner = peers.prepare(peer, case, args)
    out = peers.run_once(runner)  # warm-up: transform, jit, first-touch of library buffers
    del out
    gc.collect()
    if not _reset_peak():
        return {"rss": None, "traced": None}
    before = _status_kib("VmRSS")
    if peer in NUMPY_PEERS:
        tracemalloc.start()
    out = peers.run_once(runner)
    peak = _status_kib("VmHWM")
    traced = tracemalloc.get_traced_memory()[1] if peer in NUMPY_PEERS else None
    tracemalloc.stop()
    del out
    return {"rss": (peak - before) * 1024, "traced": traced}


def measure(peer: str, case_key: str, size: int, timeout: float = 300) -> dict:
    """Peak memory of ``peer`` on ``case_key`` at ``size``, measured in a fresh Python process."""
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-m", "bench.memory", peer, case_key, str(size)],
                          capture_output=True, text=True, env=env, timeout=timeout, cwd=root)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return {"rss": None, "traced": None, "error": lines[-1] if lines else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    peer_name, key, size_text = sys.argv[1:4]
    from .peers import NotSupported

    try:
        result = _child(peer_name, key, int(size_text))
    except NotSupported as exc:
        result = {"rss": None, "traced": None, "error": str(exc)}
    print(json.dumps(result))
