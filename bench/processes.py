"""Run-time timings repeated in several fresh processes, and combined.

Contract: :func:`time_in_processes` runs ``python -m bench`` with ``--processes 1`` (times of W1–W4 and,
unless left out, δ under ``jax.jit``; no memory, first-call or beyond sections) ``count`` times, each in a
fresh process, and returns ``(times, jit_delta, spread, failures)`` combined by :func:`combine`
(``failures``: every process's, e.g. a gradient that disagreed with the hand-written one).

Why: on this kind of machine one process's ratios move by ±10% from one process to the next (W2 one
vector: 0.95-1.15× across six processes of the same code), while within a process they hold steady.
The memory layout a process happens to get (where the allocator places each peer's arrays, which cache
sets they share) lasts as long as the process, so more rounds in one process cannot average it out;
more processes can. Every peer of a case still runs in the same process as the hand-written gradient,
and each process's ratio is taken within that process.

:func:`combine` takes each process's ``{case: {peer: seconds or a string}}``: a peer's ratio is the median
over processes of its ratio to the hand-written gradient in the same process, and its time is the median
hand-written time times that ratio (so the time table and the ratio table agree). A cell that could not
run in some process keeps that process's string. ``spread`` holds each ratio's (min, max) over processes.
δ under ``jax.jit`` is combined the same way, with JAX's own ``jax.jit`` in the hand-written gradient's place.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def time_in_processes(count: int, passed_on: list[str], log) -> tuple[dict, dict, dict, list[str]]:
    """``passed_on``: the command-line options every process gets as well (threads, clock, cases, peers).
    ``spread`` is ``{"times": ..., "jit_delta": ...}``, each as :func:`combine` returns it."""
    runs, failures = [], []
    for index in range(count):
        log(f"timing in process {index + 1} of {count} ...")
        with tempfile.TemporaryDirectory(prefix="bench-process-") as folder:
            command = [sys.executable, "-m", "bench", "--processes", "1", "--no-memory", "--no-transform",
                       "--no-beyond", "--quiet", "--output", folder] + passed_on
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            failures += [line.removeprefix("FAILED: ") for line in done.stderr.splitlines()
                         if line.startswith("FAILED: ")]
            path = os.path.join(folder, "bench", "results.json")
            if not os.path.exists(path):
                failures.append(f"timing process {index + 1} wrote no results: {done.stderr.strip()[-2000:]}")
                continue
            with open(path) as file:
                runs.append(json.load(file))
    times, times_spread = combine([run["times"] for run in runs], "handwritten")
    jit_delta, jit_spread = combine([run.get("jit_delta", {}) for run in runs], "jax.jit", ("δ",))
    return times, jit_delta, {"times": times_spread, "jit_delta": jit_spread}, failures


def combine(runs: list[dict], base: str, ratios_of: tuple | None = None) -> tuple[dict, dict]:
    """``runs``: each process's ``{case: {name: seconds or a string}}``. Returns the combined table and
    ``{case: {name: (lowest ratio, highest ratio)}}``. ``ratios_of``: the names whose ratio to ``base`` is
    combined (None: every name but ``base``); every other number is the median over processes."""
    combined, spread = {}, {}
    for case in runs[0] if runs else {}:
        entries = [run[case] for run in runs if case in run]
        base_times = [entry.get(base) for entry in entries]
        cells = {}
        for name in entries[0]:
            values = [entry.get(name) for entry in entries]
            text = next((v for v in values if not isinstance(v, (int, float))), None)
            if text is not None:
                cells[name] = text  # not supported, failed, or missing in some process: say so
            elif name != base and (ratios_of is None or name in ratios_of) \
                    and all(isinstance(b, (int, float)) and b > 0 for b in base_times):
                ratios = [v / b for v, b in zip(values, base_times)]
                cells[name] = statistics.median(base_times) * statistics.median(ratios)
                spread.setdefault(case, {})[name] = (min(ratios), max(ratios))
            else:
                cells[name] = statistics.median(values)
        combined[case] = cells
    return combined, spread
