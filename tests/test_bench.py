"""The benchmark still runs (``python -m bench --quick``) and its checks catch wrong gradients.

Nothing here is timed: these tests fail when a workload, a peer, the memory or first-call measurement,
or the report breaks, or when a gradient the benchmark would time is wrong.
"""

import json
import types

import numpy as np
import pytest

from bench import __main__ as bench_main
from bench import beyond, handwritten, jaxjit, peers, report, workloads


def test_quick_run_writes_the_report(tmp_path):
    assert bench_main.main(["--quick", "--quiet", "--output", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "bench" / "results.json").read_text())
    for case in workloads.CASES:
        cells = results["times"][case.key]
        assert isinstance(cells["handwritten"], float) and cells["handwritten"] > 0
        # autodiffsource either ran (checked against the hand-written gradient) or says why not.
        assert isinstance(cells["autodiffsource"], float) or cells["autodiffsource"] == "not yet supported"
        for peer in ("autograd", "torch"):
            assert isinstance(cells[peer], float), (case.key, peer, cells[peer])
    for peer, keys in workloads.QUICK_JAX_CASES.items():
        for key in keys:
            assert isinstance(results["times"][key][peer], float), (key, peer)
    for key in jaxjit.QUICK_CASE_KEYS:  # δ under jax.jit ran, was checked, and was timed beside JAX's own
        entry = results["jit_delta"][key]
        for name in ("δ", "jax.jit", "first_δ", "first_jax.jit"):
            assert isinstance(entry[name], float) and entry[name] > 0, (key, name, entry)
    memory = results["memory"][workloads.MEMORY_CASES[0][0]]
    for peer in ("handwritten", "autodiffsource"):
        assert memory[peer]["rss"] is not None and memory[peer]["traced"] > 0, memory[peer]
    assert results["transform"]["20"]["first_call"] > 0
    assert results["transform"]["20"]["first_call_value_and_grad"] > 0
    text = (tmp_path / "BENCHMARKS.md").read_text()
    for case in workloads.CASES:
        assert case.label in text
    assert "## δ under jax.jit, on JAX arrays" in text
    assert set(results["beyond"]) == {label for label, *_ in beyond.cases(quick=True)}
    assert "## Beyond the four workloads" in text and "| B3 logistic 256x64 |" in text
    assert (tmp_path / report.CHART_NAME).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("case", workloads.CASES, ids=lambda c: c.key)
def test_finite_difference_check_rejects_a_wrong_gradient(case, monkeypatch):
    args = workloads.make_inputs(case, workloads.QUICK_SIZES.get(case.key))
    primal = workloads.PRIMALS[case.workload]
    assert handwritten.check_against_finite_differences(case.workload, primal, args, case.nconst) < 1e-6
    right = handwritten.HANDWRITTEN[case.workload]

    def off_by_ten_percent(*a):
        value, partials = right(*a)
        return value, tuple(1.1 * p for p in partials)

    monkeypatch.setitem(handwritten.HANDWRITTEN, case.workload, off_by_ten_percent)
    with pytest.raises(AssertionError, match="finite differences"):
        handwritten.check_against_finite_differences(case.workload, primal, args, case.nconst)


def test_peer_check_rejects_a_wrong_gradient():
    case = workloads.CASES_BY_KEY["W1-1e3"]
    args = workloads.make_inputs(case)
    value, partials = handwritten.rosenbrock_vg(*args)
    runner = peers.prepare("autograd", case, args)
    assert peers.check(runner, peers._pack(value, partials), np.float64) < 1e-9
    wrong = (partials[0].copy(),)
    wrong[0][3] += 1e-3 * np.linalg.norm(wrong[0])
    with pytest.raises(AssertionError, match="disagrees"):
        peers.check(runner, peers._pack(value, wrong), np.float64)


def test_the_report_shows_the_steadier_runs_first_calls_too():
    # `--secondary` (a --clock cpu run): its first-call figures get their own table under the run's own.
    entry = {"numpy_import": 0.12, "library_import": 0.3, "decorate": 0.002, "first_call_cold": 0.05, "first_call": 0.031,
             "first_call_range": (0.029, 0.04), "first_call_value_and_grad": 0.033, "later_call": 4e-4,
             "primal_call": 1e-4}
    steadier = dict(entry, first_call=0.027, first_call_range=(0.025, 0.03))
    results = {"transform": {"50": entry}, "secondary": {"caption": "CPU time of the process, ratio to hand-written",
                                                         "transform": {"50": steadier}}}
    text = "\n".join(report._transform_section(results))
    own, other = text.split("### The same, steadier: CPU time of the process")
    assert "| 50 | 120 ms |" in own and "31 ms (29 ms–40 ms)" in own
    assert "| 50 |" in other and "27 ms (25 ms–30 ms)" in other


def test_first_calls_of_every_process_are_pooled_and_the_rest_is_each_process_median():
    from bench import transform_time

    def run(numpy_import, firsts, flats):
        return {"numpy_import": numpy_import, "library_import": 0.3, "decorate": 0.002, "first_call_cold": 0.05,
                "later_call": 3e-4, "primal_call": 1e-4, "scipy_imported": False,
                "first_call_samples": firsts, "first_call_value_and_grad_samples": flats}

    # The second process ran in a slow spell: its median alone (61 ms) would be the one reported.
    runs = [run(0.09, [0.030, 0.031, 0.033, 0.029, 0.032], [0.034, 0.035, 0.036, 0.033, 0.034]),
            run(0.15, [0.061, 0.058, 0.066, 0.060, 0.070], [0.062, 0.065, 0.060, 0.071, 0.064]),
            run(0.10, [0.031, 0.034, 0.030, 0.035, 0.032], [0.033, 0.037, 0.035, 0.034, 0.036])]
    out = transform_time.combine(runs)
    assert out["processes"] == 3 and out["numpy_import"] == 0.10
    assert out["first_call"] == 0.033 and out["first_call_range"] == (0.029, 0.070)  # the 8th of 15
    assert out["first_call_value_and_grad"] == 0.036 and out["first_call_value_and_grad_range"] == (0.033, 0.071)
    text = "\n".join(report._transform_section({"transform": {"50": out}}))
    assert "in each of 3 fresh processes run one after another (15 in all" in text and "33 ms (29 ms–70 ms)" in text


def test_every_other_round_times_the_peers_in_reverse_order():
    from bench import timing

    calls = []
    runners = {peer: types.SimpleNamespace(stmt="calls.append(peer)", namespace={"calls": calls, "peer": peer})
               for peer in ("handwritten", "autodiffsource", "autograd")}
    timing.time_case(runners, budget_s=1e-9, sample_s=1e-9, min_rounds=4, max_rounds=4)
    timed = calls[-12:]  # (after each peer's warm-up and calibration calls)
    assert timed == ["handwritten", "autodiffsource", "autograd", "autograd", "autodiffsource", "handwritten"] * 2


def test_format_time():
    assert report.format_time(0.0036) == "3.6 ms"
    assert report.format_time(172e-6) == "172 µs"
    assert report.format_time(3.1e-7) == "310 ns"


def test_delta_under_jit_is_checked_against_jax(monkeypatch):
    # A δ function whose jitted gradient is off must be reported as failed, not timed.
    case = workloads.CASES_BY_KEY["W1-10"]
    right = jaxjit.delta_under_jit

    def wrong(case_):
        fn = right(case_)
        return lambda *a: (lambda out: (out[0], tuple(1.01 * p for p in out[1])))(fn(*a))

    monkeypatch.setattr(jaxjit, "delta_under_jit", wrong)
    entry = jaxjit.run_case(case, quick=True)
    assert entry["δ"].startswith("failed") and "disagrees" in entry["δ"], entry
    assert isinstance(entry["jax.jit"], float)
    assert jaxjit.failures({case.key: entry})


def test_profiles_show_every_line_of_both_gradients():
    import io

    from bench import profile

    out = io.StringIO()
    generated = profile.profile("W1-10", calls=3, out=out)
    hand = profile.profile_handwritten("W1-10", calls=3, out=out)
    text = out.getvalue()
    assert generated and hand and all(t >= 0 for t in list(generated.values()) + list(hand.values()))
    assert "def rosenbrock_vg(x):" in text and "g[:-1] -= 2 * (d * a + e)" in text
    assert "rosenbrock_pullback" in text


def test_beyond_checks_every_gradient_it_times():
    """A wrong gradient in bench/beyond.py's hand-written code would be caught by central differences."""
    x, y = np.linspace(-1, 1, 7), np.linspace(0.5, 2, 7)

    def wrong(x, y):
        value, (dx, dy) = beyond.two_arrays_vg(x, y)
        return value, (dx, dy + 1e-3)

    with pytest.raises(AssertionError):
        beyond._runners(beyond.two_arrays, wrong, (0, 1), (x, y))


def test_processes_combine_each_ratio_taken_within_its_process():
    from bench import processes

    runs = [{"W2-vec": {"handwritten": 1.0, "autodiffsource": 1.10, "autograd": "not yet supported"}},
            {"W2-vec": {"handwritten": 2.0, "autodiffsource": 2.00, "autograd": "not yet supported"}},
            {"W2-vec": {"handwritten": 1.5, "autodiffsource": 1.80, "autograd": "not yet supported"}}]
    times, spread = processes.combine(runs, "handwritten")
    # Ratios 1.1, 1.0 and 1.2 (medians of times would give 1.8 / 1.5 = 1.2 instead): median 1.1.
    assert times["W2-vec"]["handwritten"] == 1.5
    assert times["W2-vec"]["autodiffsource"] == pytest.approx(1.5 * 1.1)
    assert spread["W2-vec"]["autodiffsource"] == pytest.approx((1.0, 1.2))
    assert times["W2-vec"]["autograd"] == "not yet supported" and "autograd" not in spread["W2-vec"]
    # δ under jax.jit: the ratio of δ to JAX's own; the first calls are medians of their own.
    jit = [{"W1-1e6": {"jax.jit": 1.0, "δ": 1.2, "first_δ": 0.5, "first_jax.jit": 0.4}},
           {"W1-1e6": {"jax.jit": 3.0, "δ": 2.7, "first_δ": 0.7, "first_jax.jit": 0.6}}]
    combined, jit_spread = processes.combine(jit, "jax.jit", ("δ",))
    assert combined["W1-1e6"]["δ"] / combined["W1-1e6"]["jax.jit"] == pytest.approx((1.2 + 0.9) / 2)
    assert combined["W1-1e6"]["first_δ"] == pytest.approx(0.6) and "first_δ" not in jit_spread["W1-1e6"]
    # One process that could not time a peer: the cell says what happened there.
    runs[1]["W2-vec"]["autodiffsource"] = "failed (AssertionError)"
    assert processes.combine(runs, "handwritten")[0]["W2-vec"]["autodiffsource"] == "failed (AssertionError)"


def test_timing_in_fresh_processes_reports_the_spread(tmp_path):
    # Two real processes time W3 (hand-written and autodiffsource only); the report gives the median
    # ratio with the lowest and highest of the two in brackets.
    assert bench_main.main(["--cases", "W3", "--peers", "autodiffsource", "--no-memory", "--no-transform",
                            "--no-beyond", "--no-jit-delta", "--processes", "2", "--quiet",
                            "--output", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "bench" / "results.json").read_text())
    assert results["processes"] == 2
    low, high = results["spread"]["times"]["W3"]["autodiffsource"]
    ratio = results["times"]["W3"]["autodiffsource"] / results["times"]["W3"]["handwritten"]
    assert 1 < low <= ratio <= high  # (Python-number arithmetic: no gradient is as fast as no gradient)
    row = next(line for line in (tmp_path / "BENCHMARKS.md").read_text().splitlines()
               if line.startswith("| W3 (x + 2*y)") and "×" in line)
    assert f"{report.format_ratio(ratio)} ({low:.2f}–{high:.2f})" in row


@pytest.mark.slow
def test_instruction_counts_differ_by_the_first_calls_made(monkeypatch, tmp_path):
    # bench/instructions.py: the process under callgrind makes the first calls it is told to, of
    # functions it generates (here run directly: each transform shows as a compiled variant), and where
    # valgrind is installed, one more first call counts more instructions (a 30-line function's: ~100
    # million; two processes' imports differ by up to ~10 million, more than a 5-line function's call).
    import shutil

    from autodiffsource import api
    from bench import instructions

    monkeypatch.setattr(api, "_compiled", {})
    monkeypatch.syspath_prepend(str(tmp_path))
    instructions._child(5, "delta", calls=2, made=1)
    made = {key[0].__name__ for key in api._compiled}
    assert made == {"f0", "f1"}, made  # (f2 is written, decorated and never called)
    with pytest.raises(ValueError):
        instructions.count(5, "forward")
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed: the counts need it (the child above ran)")
    assert instructions.count(30, "value_and_grad", calls=1) > 2e7


def test_other_work_is_the_machines_busy_time_less_this_process_tree():
    # A child this process waits for is its own work; a busy child it has not waited for yet is not.
    import subprocess
    import sys
    import time

    spin = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass"
    before, started = bench_main.cpu_seconds(), time.time()
    subprocess.run([sys.executable, "-c", spin], check=True)
    waited = bench_main.cpu_seconds()
    assert waited[1] - before[1] >= 0.6
    stranger = subprocess.Popen([sys.executable, "-c", spin])
    time.sleep(1.5)
    after = bench_main.cpu_seconds()
    stranger.wait()
    others = bench_main.other_work(before, after, time.time() - started)
    assert others * (time.time() - started) >= 0.5  # the stranger's 0.6 s (less clock ticks' rounding)
    assert bench_main.other_work(None, after, 1.0) is None
    assert bench_main.other_work((10.0, 1.0), (14.0, 2.0), 2.0) == 1.5
