"""``python -m bench``: time W1–W4 for every peer, measure memory and first-call cost, write BENCHMARKS.md.

``python -m bench --quick`` runs every case and peer on small sizes with a few samples, checks every
gradient against the hand-written one, and writes its report to a temporary folder (or ``--output``):
it shows that the benchmark still runs, not how fast anything is. Exit status 1 if any gradient was
wrong or any peer failed for a reason other than "not yet supported".
"""

from __future__ import annotations

import os
import sys

# Before anything imports JAX or matplotlib: 64-bit JAX (W2's float32 inputs stay float32), no display.
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("SCIPY_ARRAY_API", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def _pin_threads(argv) -> int | None:
    """``--threads N`` must reach BLAS, OpenMP and XLA before NumPy, torch or JAX is imported."""
    for i, arg in enumerate(argv):
        if arg.startswith("--threads"):
            n = arg.split("=", 1)[1] if "=" in arg else argv[i + 1]
            for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[name] = n
            os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                                       f" intra_op_parallelism_threads={n}").strip()
            return int(n)
    return None


if __name__ == "__main__":
    _pin_threads(sys.argv[1:])

import argparse  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from . import beyond, handwritten, jaxjit, memory, peers, processes, report, timing, transform_time, workloads  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _log(quiet: bool, *parts) -> None:
    if not quiet:
        print(*parts, file=sys.stderr, flush=True)


def run_case(case, quick: bool, only_peers, quiet: bool) -> tuple[dict, list[str]]:
    """Times (seconds, or a string for a cell that could not run) of every peer on ``case``."""
    size = workloads.QUICK_SIZES.get(case.key) if quick else None
    args = workloads.make_inputs(case, size)
    primal = workloads.PRIMALS[case.workload]
    handwritten.check_against_finite_differences(case.workload, primal, args, case.nconst)
    value, partials = handwritten.HANDWRITTEN[case.workload](*args)
    reference = peers._pack(value, partials)
    dtype = getattr(args[0], "dtype", np.float64)
    runners, cells, failures = {}, {}, []
    for peer in peers.PEERS:
        if only_peers and peer not in only_peers and peer != "handwritten":
            continue
        if quick and peer in workloads.QUICK_JAX_CASES and case.key not in workloads.QUICK_JAX_CASES[peer]:
            continue
        try:
            runner = peers.prepare(peer, case, args)
            peers.check(runner, reference, dtype)
            runners[peer] = runner
        except peers.NotSupported as exc:
            cells[peer] = "not yet supported"
            _log(quiet, f"  {case.key} {peer}: {exc}")
        except Exception as exc:  # a wrong gradient or a crash: reported, and the run fails
            cells[peer] = f"failed ({type(exc).__name__})"
            failures.append(f"{case.key} {peer}: {type(exc).__name__}: {exc}")
            _log(quiet, f"  {case.key} {peer} FAILED: {type(exc).__name__}: {exc}")
    if quick:
        times = timing.time_case(runners, budget_s=0.0)
    else:
        times = timing.time_case(runners)
    cells.update(times)
    return cells, failures


def cpu_seconds() -> tuple[float, float] | None:
    """(CPU seconds the whole machine has been busy, CPU seconds of this process and its waited-for children).

    Their growth over a run, less ours, is the CPU time other work took from the run (the 1-minute load
    average cannot tell: it counts the benchmark's own processes, and the previous run's for a second run
    started right after one). None where /proc/stat is missing (not Linux)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal: all but idle and iowait is busy (steal: another VM's)
    busy = sum(fields[:8]) - fields[3] - fields[4]
    own = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), own.user + own.system + own.children_user + own.children_system


def other_work(before, after, elapsed: float) -> float | None:
    """The mean number of cores other processes kept busy between two :func:`cpu_seconds` readings."""
    if before is None or after is None or elapsed <= 0:
        return None
    return max(0.0, (after[0] - before[0]) - (after[1] - before[1])) / elapsed


def machine_info() -> dict:
    """What the numbers were measured on."""
    import autograd  # noqa: F401
    import jax
    import torch
    from importlib.metadata import version

    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    blas = "unknown"
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, "
                         f"{i['num_threads']} threads)" for i in threadpool_info() if i["user_api"] == "blas")
    except Exception:
        pass
    env = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_", "XLA_"))}
    return {
        "CPU": f"{model}, nproc {len(os.sched_getaffinity(0))}",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "NumPy": f"{np.__version__} (BLAS: {blas})",
        "autodiffsource": version("autodiffsource"),
        "autograd": version("autograd"),
        "torch": f"{torch.__version__} ({torch.get_num_threads()} threads)",
        "jax": f"{jax.__version__}, jaxlib {version('jaxlib')} (JAX_ENABLE_X64={os.environ.get('JAX_ENABLE_X64')})",
        "BLAS/thread environment": ", ".join(f"{k}={v}" for k, v in env.items()) or "none set",
    }


def _passed_on(options) -> list[str]:
    """The options a timing process gets from this run's: the same threads, clock, cases and peers."""
    passed = ["--clock", options.clock]
    if options.threads:
        passed += ["--threads", str(options.threads)]
    if options.cases:
        passed += ["--cases", *options.cases]
    if options.peers:
        passed += ["--peers", *options.peers]
    if options.no_jit_delta:
        passed.append("--no-jit-delta")
    return passed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one sample: checks it all runs")
    parser.add_argument("--output", help="folder for BENCHMARKS.md, the chart and results.json "
                        "(default: the repository for a full run, a temporary folder for --quick)")
    parser.add_argument("--cases", nargs="*", help="only these case keys (e.g. W1-1e6 W3)")
    parser.add_argument("--peers", nargs="*", help="only these peers (hand-written always runs)")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-transform", action="store_true")
    parser.add_argument("--no-beyond", action="store_true", help="skip bench/beyond.py's functions")
    parser.add_argument("--no-jit-delta", action="store_true", help="skip the δ-under-jax.jit comparison")
    parser.add_argument("--threads", type=int, help="pin BLAS/OpenMP/XLA/torch to N threads (default: "
                        "each library's own choice, as users get it)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: time.process_time (CPU seconds of all threads), steadier on a shared machine")
    parser.add_argument("--secondary", help="results.json of another run (e.g. --threads 1 --clock cpu) whose "
                        "ratio table BENCHMARKS.md shows too")
    # (5: one process's ratios move by up to ±10%, more than some targets leave; a median of 3 moved W2's by 6%
    # between two runs of the same code, where 15 processes put both its ratios at 1.05×, 1.03-1.09×)
    parser.add_argument("--processes", type=int, default=5, help="time W1–W4 and δ under jax.jit in this many "
                        "fresh processes and report the median of their ratios (default 5; --quick: 1)")
    parser.add_argument("--quiet", action="store_true")
    options = parser.parse_args(argv)
    if options.threads:
        import torch

        torch.set_num_threads(options.threads)
    timing.CLOCK = time.process_time if options.clock == "cpu" else time.perf_counter
    quick, quiet = options.quick, options.quiet
    warnings.filterwarnings("ignore", category=UserWarning)
    started = time.time()
    results = {"quick": quick, "clock": options.clock, "threads": options.threads, "times": {}, "labels": {}, "memory": {}, "memory_labels": {},
               "transform": {}, "notes": []}
    results["load_average_before"] = os.getloadavg()
    cpu_before = cpu_seconds()
    failures = []
    results["processes"] = count = 1 if quick else max(1, options.processes)
    if count > 1:
        passed_on = _passed_on(options)
        times, jit_delta, results["spread"], failed = processes.time_in_processes(
            count, passed_on, lambda text: _log(quiet, text))
        failures += failed
        results["times"] = times
        if not options.no_jit_delta:
            results["jit_delta"] = jit_delta
    for case in workloads.CASES:
        if options.cases and case.key not in options.cases:
            continue
        label = case.label
        if quick and case.key in workloads.QUICK_SIZES:
            label += f" (quick: size {workloads.QUICK_SIZES[case.key]})"
        results["labels"][case.key] = label
        if count == 1:
            _log(quiet, f"timing {case.key} ...")
            results["times"][case.key], failed = run_case(case, quick, options.peers, quiet)
            failures += failed
    if not options.no_jit_delta and count == 1:
        results["jit_delta"] = {}
        for key in jaxjit.QUICK_CASE_KEYS if quick else jaxjit.CASE_KEYS:
            if options.cases and key not in options.cases:
                continue
            _log(quiet, f"δ under jax.jit {key} ...")
            results["jit_delta"][key] = jaxjit.run_case(workloads.CASES_BY_KEY[key], quick)
        failures += jaxjit.failures(results["jit_delta"])
    if not options.no_beyond:
        _log(quiet, "beyond W1-W4 ...")
        try:
            results["beyond"] = beyond.run(quick)
        except Exception as exc:  # a wrong gradient or a crash: reported, and the run fails
            failures.append(f"beyond: {type(exc).__name__}: {exc}")
    if not options.no_memory:
        for key, size in workloads.MEMORY_CASES[:1] if quick else workloads.MEMORY_CASES:
            if options.cases and key not in options.cases:
                continue
            size = workloads.QUICK_SIZES.get(key, size) if quick else size
            results["memory_labels"][key] = workloads.CASES_BY_KEY[key].label + (f" (size {size})" if quick else "")
            results["memory"][key] = {}
            for peer in peers.PEERS:
                if (quick and peer not in ("handwritten",) + peers.AUTODIFFSOURCE_PEERS) \
                        or (options.peers and peer not in options.peers and peer != "handwritten"):
                    continue
                _log(quiet, f"memory {key} {peer} ...")
                results["memory"][key][peer] = entry = memory.measure(peer, key, size)
                if "error" in entry and not entry["error"].startswith("not yet supported"):
                    failures.append(f"memory {key} {peer}: {entry['error']}")
    if not options.no_transform:
        for lines in ((20,) if quick else workloads.TRANSFORM_LINES):
            _log(quiet, f"first call of a {lines}-line function ...")
            results["transform"][str(lines)] = entry = transform_time.measure(
                lines, clock=options.clock, processes=1 if quick else transform_time.PROCESSES)
            if "error" in entry:
                failures.append(f"transform {lines}: {entry['error']}")
    results["load_average_after"] = os.getloadavg()
    results["machine"] = machine_info()
    results["machine"]["load average (1 min) before / after"] = (
        f"{results['load_average_before'][0]:.2f} / {results['load_average_after'][0]:.2f}")
    results["machine"]["run took"] = f"{time.time() - started:.0f} s"
    cores = len(os.sched_getaffinity(0))
    others = other_work(cpu_before, cpu_seconds(), time.time() - started)
    if others is not None:
        results["machine"]["other processes' CPU use during the run"] = f"{others:.2f} of {cores} cores"
    if others is not None and others > 0.1 * cores:
        results["notes"].append(
            f"The machine was shared with other work during this run (other processes kept {others:.2f} of "
            f"{cores} cores busy on average): wall-clock times are inflated and noisy, multi-threaded "
            "BLAS/torch/XLA ones most (their threads wait for cores). Rerun on a quiet machine before quoting "
            "absolute numbers; `python -m bench --threads 1 --clock cpu` gives steadier ratios on a busy one.")
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            results["notes"].append(f"{name}={os.environ[name]} was set; it changes OpenBLAS's kernels and "
                                    "slows NumPy here. Timings are as measured with it, as CI and users run.")
    if options.secondary:
        import json

        with open(options.secondary) as file:
            other = json.load(file)
        what = ("CPU time of the process" if other.get("clock") == "cpu" else "wall time") + \
            (f", {other['threads']} thread(s) for BLAS/OpenMP/XLA/torch" if other.get("threads") else "")
        results["secondary"] = {"times": other["times"], "jit_delta": other.get("jit_delta", {}),
                                "spread": other.get("spread", {}), "processes": other.get("processes", 1),
                                "transform": other.get("transform", {}),
                                "caption": f"{what} (`python -m bench --threads {other.get('threads') or 'N'} "
                                           f"--clock {other.get('clock')}`), ratio to hand-written"}
    folder = options.output or (tempfile.mkdtemp(prefix="bench-quick-") if quick else ROOT)
    paths = report.write(results, folder)
    _log(quiet, f"wrote {paths['markdown']}")
    if not quiet:
        print(report.markdown(results))
    for failure in failures:
        print("FAILED:", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
